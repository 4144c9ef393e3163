"""What each nn op asks of the hardware: GEMM shapes for the tiered ops, primitive-op counts for the rest.

Stage one builds its per-(layer, tier) cost tables from these shapes, and the lowering tiles them;
both read the same description, so they agree on what a layer is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from h3pc.dialects import nn
from h3pc.dialects.nn import shape_of
from h3pc.dialects.types import numpy_dtype


@dataclass(frozen=True)
class GemmWork:
    """`groups` independent products [m, k] x [k, n]. Output rows (the split axis) are the n columns."""

    op: Operation
    m: int
    k: int
    n: int
    groups: int
    static_weights: bool  # the k x n operand is a compile-time constant (weight-stationary candidate)

    @property
    def macs(self) -> int:
        return self.groups * self.m * self.k * self.n

    @property
    def weights(self) -> int:
        return self.groups * self.k * self.n if self.static_weights else 0


@dataclass(frozen=True)
class VectorWork:
    """Primitive operations of a non-GEMM op on the digital tier, and the bytes it moves."""

    op: Operation
    adds: int
    muls: int
    specials: int
    bytes_moved: int


# primitive ops per output element: (adds, muls, specials). Layout ops only move data.
_PER_ELEMENT: dict[str, tuple[float, float, float]] = {
    **{n: (1, 0, 0) for n in ("nn.add", "nn.sub", "nn.neg", "nn.abs", "nn.relu", "nn.max", "nn.min", "nn.equal",
                              "nn.less", "nn.less_equal", "nn.greater", "nn.greater_equal", "nn.and", "nn.or",
                              "nn.xor", "nn.not", "nn.where", "nn.clip", "nn.floor", "nn.ceil", "nn.round",
                              "nn.sign", "nn.cast", "nn.sum")},
    **{n: (0, 1, 0) for n in ("nn.mul", "nn.leaky_relu", "nn.prelu")},
    **{n: (0, 0, 1) for n in ("nn.div", "nn.reciprocal", "nn.sqrt", "nn.exp", "nn.log", "nn.erf", "nn.tanh",
                              "nn.sin", "nn.cos", "nn.pow", "nn.softplus", "nn.elu")},
    "nn.mean": (1, 1, 0),
    "nn.sigmoid": (1, 0, 2),
    "nn.hard_sigmoid": (2, 1, 0),
    "nn.hard_swish": (2, 2, 0),
    "nn.gelu": (2, 3, 1),
    "nn.softmax": (2, 0, 2),
    "nn.log_softmax": (2, 0, 2),
    "nn.layer_norm": (4, 3, 0.1),
    "nn.rms_norm": (2, 3, 0.1),
    "nn.batch_norm": (1, 1, 0),
    "nn.lrn": (3, 2, 1),
    "nn.resize": (2, 2, 0),
    "nn.resize_scaled": (2, 2, 0),
    **{n: (1, 0, 0) for n in ("nn.bitwise_and", "nn.bitwise_or", "nn.bitwise_xor", "nn.bitwise_not", "nn.bit_shift",
                              "nn.is_nan", "nn.is_inf", "nn.thresholded_relu", "nn.trilu", "nn.one_hot",
                              "nn.hardmax", "nn.scatter_elements", "nn.scatter_nd")},
    **{n: (0, 0, 1) for n in ("nn.tan", "nn.asin", "nn.acos", "nn.atan", "nn.sinh", "nn.cosh", "nn.asinh",
                              "nn.acosh", "nn.atanh", "nn.mod")},
    "nn.softsign": (1, 0, 1),
    "nn.mish": (1, 1, 3),
    "nn.selu": (1, 2, 1),
    "nn.celu": (2, 2, 1),
    "nn.shrink": (2, 0, 0),
    "nn.swish": (1, 2, 2),
    "nn.lp_norm": (1, 1, 0.1),
    "nn.instance_norm": (4, 3, 0.1),
    "nn.grid_sample": (8, 8, 0),
    "nn.roi_align": (8, 8, 0),  # per output: a few bilinear samples (sampling_ratio^2 of them, 4 taps each)
    "nn.bitcast": (0, 0, 0),  # a view: the bytes move, nothing is computed
    "nn.reverse_sequence": (0, 0, 0),  # a permutation: data movement only
    "nn.tensor_scatter": (0, 0, 0),  # a cache write: data movement only
    "nn.max_unpool": (0, 0, 0),  # a scatter into zeros: data movement only
    "nn.rotary_embedding": (1, 2, 0),
}
#: reductions and pooling count work per *input* element
_PER_INPUT: dict[str, tuple[float, float, float]] = {
    "nn.reduce_sum": (1, 0, 0), "nn.reduce_mean": (1, 0, 0), "nn.reduce_max": (1, 0, 0), "nn.reduce_min": (1, 0, 0),
    "nn.reduce_prod": (0, 1, 0), "nn.reduce_l1": (2, 0, 0), "nn.reduce_l2": (1, 1, 0),
    "nn.reduce_sum_square": (1, 1, 0), "nn.reduce_log_sum": (1, 0, 0), "nn.reduce_log_sum_exp": (1, 0, 1),
    "nn.arg_max": (1, 0, 0), "nn.arg_min": (1, 0, 0),
    "nn.col2im": (1, 0, 0),  # one add per column element
    "nn.cumsum": (1, 0, 0), "nn.cumprod": (0, 1, 0),
    # a k-selection compares each input element about log2(k) + 1 times
    "nn.top_k": (2, 0, 0),
}
#: ops that are views: no work and no data movement. digital.im2col is formed on the fly by the
#: consuming tier's input stage from the source tensor, which is what crosses the buffer.
FREE = {"nn.reshape", "nn.constant", "digital.im2col"}


def is_constant(v: SSAValue) -> bool:
    return isinstance(v.owner, nn.ConstantOp)


def _numel(v: SSAValue) -> int:
    return math.prod(shape_of(v))


def _itemsize(v: SSAValue) -> int:
    t = v.type
    assert isinstance(t, TensorType)
    return numpy_dtype(t.element_type).itemsize


def gemm_work(op: Operation) -> GemmWork | None:
    """The GEMM an op performs, or None for non-GEMM ops."""
    if isinstance(op, nn.MatMulOp):
        a, b = shape_of(op.lhs), shape_of(op.rhs)
        a2 = (1,) + a if len(a) == 1 else a
        b2 = b + (1,) if len(b) == 1 else b
        batch = math.prod(shape_of(op.result)[: max(len(a2), len(b2)) - 2]) if max(len(a2), len(b2)) > 2 else 1
        static = is_constant(op.rhs) and len(b2) == 2
        if static:  # shared weights: all batch rows stream through one matrix
            return GemmWork(op, batch * a2[-2], a2[-1], b2[-1], 1, True)
        return GemmWork(op, a2[-2], a2[-1], b2[-1], batch, False)
    if isinstance(op, nn.GemmOp):
        a, b = shape_of(op.a), shape_of(op.b)
        m, k = (a[1], a[0]) if op.trans_a.value.data else a
        n = b[0] if op.trans_b.value.data else b[1]
        return GemmWork(op, m, k, n, 1, is_constant(op.b))
    if isinstance(op, nn.ConvOp):
        x, w, y = shape_of(op.x), shape_of(op.w), shape_of(op.result)
        g = op.group.value.data
        return GemmWork(op, x[0] * math.prod(y[2:]), w[1] * math.prod(w[2:]), w[0] // g, g, is_constant(op.w))
    if isinstance(op, nn.ConvTransposeOp):
        x, w = shape_of(op.x), shape_of(op.w)
        g = op.group.value.data
        return GemmWork(op, x[0] * math.prod(x[2:]), w[0] // g, w[1] * math.prod(w[2:]), g, is_constant(op.w))
    return None


def vector_work(op: Operation) -> VectorWork:
    """Digital-tier work of a non-GEMM op (zero for views)."""
    if op.name in FREE or not op.results:
        return VectorWork(op, 0, 0, 0, 0)
    out = sum(_numel(r) for r in op.results)
    moved = sum(_numel(r) * _itemsize(r) for r in op.results) + sum(
        _numel(o) * _itemsize(o) for o in op.operands if not is_constant(o))
    if isinstance(op, nn.EinsumOp):  # one multiply-add per term of the full product over every label
        ins = [shape_of(v) for v in op.inputs]
        macs = _einsum_terms(op.equation.data, ins)
        return VectorWork(op, macs, macs * max(len(ins) - 1, 1), 0, moved)
    if isinstance(op, nn.DFTOp):  # a radix-2 FFT: ~5 n log2 n real flops per transformed signal of length n
        n, x = op.length.value.data, shape_of(op.operands[0])
        signals = _numel(op.operands[0]) // max(x[op.axis.value.data] * x[-1], 1)
        flops = int(signals * 5 * n * max(math.log2(n), 1))
        return VectorWork(op, flops // 2, flops // 2, 0, moved)
    if isinstance(op, nn.DetOp):  # LU factorisation: ~ (2/3) m^3 multiply-adds per matrix
        m = shape_of(op.input)[-1]
        count = max(_numel(op.result), 1) * (2 * m**3 // 3 + m)
        return VectorWork(op, count, count, max(_numel(op.result), 1) * m, moved)
    if isinstance(op, nn.LinearAttentionOp):  # per token: the state update (x3 for delta rules) and its read
        b, t, _ = shape_of(op.query)
        hq, hk = op.q_num_heads.value.data, op.kv_num_heads.value.data
        dk, dv = shape_of(op.past_state)[2:]
        per = b * t * dk * dv * (hk * (3 if "delta" in op.update_rule.data else 1) + hq)
        return VectorWork(op, per, per, b * t * hk * dk if "gated" in op.update_rule.data else 0, moved)
    if isinstance(op, nn.DeformConvOp):  # the convolution's MACs plus four weighted taps per sample
        w = shape_of(op.w)
        macs = out * w[1] * w[2] * w[3]
        samples = shape_of(op.x)[1] * _numel(op.mask)
        return VectorWork(op, macs + 4 * samples, macs + 5 * samples, 0, moved)
    if isinstance(op, nn.LpPoolOp):  # |x|^p, a sum per window element, one root per output
        count = out * math.prod(op.properties["kernel"].get_values())
        return VectorWork(op, count, count, out, moved)
    if op.name in _PER_INPUT or isinstance(op, (nn.MaxPoolOp, nn.AvgPoolOp, nn.MaxPoolIndicesOp)):
        if op.name in _PER_INPUT:
            a, m, s = _PER_INPUT[op.name]
            count = _numel(op.operands[0])
        else:
            a, m, s = 1, 0, 0  # one compare or add per window element
            count = _numel(op.results[0]) * math.prod(op.properties["kernel"].get_values())
        return VectorWork(op, int(a * count), int(m * count), int(s * count), moved)
    a, m, s = _PER_ELEMENT.get(op.name, (0, 0, 0))  # layout ops: data movement only
    return VectorWork(op, int(a * out), int(m * out), int(s * out), moved)


def _einsum_terms(equation: str, shapes: list[tuple[int, ...]]) -> int:
    """How many products an einsum forms: every label's size (and the `...` dims) multiplied once."""
    lhs = equation.replace(" ", "").split("->")[0]
    sizes: dict[str, int] = {}
    ell = 1
    for term, shape in zip(lhs.split(","), shapes):
        head, dots, tail = term.partition("...")
        n_ell = len(shape) - len(head) - len(tail)
        for c, d in list(zip(head, shape[:len(head)])) + list(zip(tail, shape[len(shape) - len(tail):])):
            sizes[c] = max(sizes.get(c, 1), d)
        if dots:
            ell = max(ell, math.prod(shape[len(head):len(head) + n_ell]))
    return ell * math.prod(sizes.values())


def layers(fn_ops: list[Operation]) -> list[GemmWork]:
    """Every GEMM-like op of a function body, in program order: the layers stage one splits."""
    return [w for op in fn_ops if (w := gemm_work(op)) is not None]
