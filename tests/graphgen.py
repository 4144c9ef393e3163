"""Hypothesis strategies for random valid ONNX graphs built from the ops we support.

A graph is a chain: each step takes the latest activation (sometimes an earlier one too) and applies
one op whose attributes are drawn to be valid for the activation's shape, which the builder tracks.
The chain mixes static-weight GEMMs (MatMul/Gemm/Conv with initializers: the PIM tiers), dynamic GEMMs
(activation x activation: photonic), and the digital tier's elementwise, normalisation, reduction,
pooling and layout ops, with numpy broadcasting of constants. Values stay O(1) (weights scaled by
1/sqrt(fan-in), normalisations in between) so an exact emulation agrees with onnxruntime to float32
rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

OPSET = 18

# continuous ones only: Floor, Ceil, Round or Sign of a value that float32 rounding moves across a step
# would flag a difference that is not a bug
UNARY = ("Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Erf", "Softplus", "LeakyRelu", "HardSigmoid", "Elu",
         "HardSwish", "Sin", "Cos")
BINARY = ("Add", "Sub", "Mul", "Div", "Max", "Min")


@dataclass
class Builder:
    """The graph under construction: nodes, initializers and the shapes of the activations."""

    draw: st.DrawFn
    rng: np.random.Generator
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    ops: list[str] = field(default_factory=list)

    def fresh(self, stem: str) -> str:
        return f"{stem}{len(self.nodes) + len(self.inits)}"

    def const(self, arr: np.ndarray) -> str:
        name = self.fresh("c")
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], shape: tuple[int, ...], **attrs) -> str:
        out = self.fresh("t")
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"n{len(self.nodes)}_{op}", **attrs))
        self.shapes[out] = shape
        self.ops.append(op)
        return out


def _broadcast_shape(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts against `shape`: a suffix of it with some dims set to 1."""
    keep = b.draw(st.integers(0, len(shape)))
    suffix = shape[len(shape) - keep:]
    return tuple(d if b.draw(st.booleans()) else 1 for d in suffix)


def unary(b: Builder, x: str) -> str:
    op = b.draw(st.sampled_from(UNARY))
    attrs = {"alpha": b.draw(st.sampled_from([0.1, 0.5]))} if op in ("LeakyRelu", "Elu") else {}
    return b.node(op, [x], b.shapes[x], **attrs)


def binary_const(b: Builder, x: str) -> str:
    op = b.draw(st.sampled_from(BINARY))
    c = b.rng.uniform(0.5, 1.5, _broadcast_shape(b, b.shapes[x])).astype(np.float32)
    if op != "Div" and b.draw(st.booleans()):
        c = c - 1.0
    args = [x, b.const(c)] if b.draw(st.booleans()) or op == "Div" else [b.const(c), x]
    return b.node(op, args, b.shapes[x])


def binary_pair(b: Builder, x: str) -> str:
    """Two activations: x and an earlier activation of the same shape (or x transformed)."""
    same = [n for n, s in b.shapes.items() if s == b.shapes[x] and n != x]
    y = b.draw(st.sampled_from(same)) if same else unary(b, x)
    return b.node(b.draw(st.sampled_from(("Add", "Mul", "Sub"))), [x, y], b.shapes[x])


def matmul_static(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    k, n = shape[-1], b.draw(st.integers(1, 40))
    w = b.rng.standard_normal((k, n)).astype(np.float32) / math.sqrt(k)
    return b.node("MatMul", [x, b.const(w)], shape[:-1] + (n,))


def matmul_dynamic(b: Builder, x: str) -> str:
    """x @ x^T over the last two axes: both operands are activations."""
    shape = b.shapes[x]
    perm = list(range(len(shape)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    xt = b.node("Transpose", [x], tuple(shape[p] for p in perm), perm=perm)
    y = b.node("MatMul", [x, xt], shape[:-1] + (shape[-2],))
    scale = b.const(np.array(1.0 / shape[-1], np.float32))
    return b.node("Mul", [y, scale], b.shapes[y])


def gemm(b: Builder, x: str) -> str:
    m, k = b.shapes[x]
    n = b.draw(st.integers(1, 40))
    trans_b = b.draw(st.integers(0, 1))
    w = b.rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32) / math.sqrt(k)
    inputs = [x, b.const(w)]
    if b.draw(st.booleans()):
        inputs.append(b.const(b.rng.standard_normal(b.draw(st.sampled_from([(n,), (1, n), (m, n)])))))
    alpha = b.draw(st.sampled_from([1.0, 0.5]))
    return b.node("Gemm", inputs, (m, n), transB=trans_b, alpha=alpha, beta=b.draw(st.sampled_from([1.0, 2.0])))


def softmax(b: Builder, x: str) -> str:
    rank = len(b.shapes[x])
    return b.node(b.draw(st.sampled_from(("Softmax", "LogSoftmax"))), [x], b.shapes[x],
                  axis=b.draw(st.integers(-rank, rank - 1)))


def layer_norm(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(1, len(shape) - 1)) if len(shape) > 1 else 0
    norm = shape[axis:]
    scale = b.const(b.rng.uniform(0.5, 1.5, norm))
    bias = b.const(b.rng.standard_normal(norm))
    return b.node("LayerNormalization", [x, scale, bias], shape, axis=axis)


def reduce(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    if len(shape) < 2:
        return unary(b, x)
    op = b.draw(st.sampled_from(("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin")))
    axes = sorted(b.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape) - 1)))
    keep = b.draw(st.integers(0, 1))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)
    name = b.fresh("axes")
    b.inits.append(numpy_helper.from_array(np.array(axes, np.int64), name))
    return b.node(op, [x, name], out, keepdims=keep)


def transpose(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    perm = b.draw(st.permutations(range(len(shape))))
    return b.node("Transpose", [x], tuple(shape[p] for p in perm), perm=list(perm))


def reshape(b: Builder, x: str) -> str:
    """Merge two adjacent axes or split one into two factors (with -1 / 0 in the target sometimes)."""
    shape = b.shapes[x]
    if len(shape) >= 3 and b.draw(st.booleans()):
        i = b.draw(st.integers(0, len(shape) - 2))
        out = shape[:i] + (shape[i] * shape[i + 1],) + shape[i + 2:]
    else:
        i = b.draw(st.integers(0, len(shape) - 1))
        divs = [f for f in range(1, shape[i] + 1) if shape[i] % f == 0]
        f = b.draw(st.sampled_from(divs))
        out = shape[:i] + (f, shape[i] // f) + shape[i + 1:]
        if len(out) > 4:
            return flatten(b, x)
    target = list(out)
    if b.draw(st.booleans()):
        target[b.draw(st.integers(0, len(out) - 1))] = -1
    name = b.fresh("shape")
    b.inits.append(numpy_helper.from_array(np.array(target, np.int64), name))
    return b.node("Reshape", [x, name], out)


def flatten(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(0, len(shape)))
    return b.node("Flatten", [x], (math.prod(shape[:axis]), math.prod(shape[axis:])), axis=axis)


def concat(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(0, len(shape) - 1))
    y = unary(b, x)
    out = tuple(d * 2 if i == axis else d for i, d in enumerate(shape))
    return b.node("Concat", [x, y], out, axis=axis)


def _window(b: Builder, size: int) -> tuple[int, int, int, int, int]:
    """kernel, stride, pad_begin, pad_end, dilation valid for a spatial size."""
    k = b.draw(st.integers(1, min(3, size)))
    d = b.draw(st.integers(1, 2)) if (k - 1) * 2 + 1 <= size else 1
    s = b.draw(st.integers(1, 2))
    p0, p1 = b.draw(st.integers(0, k - 1)), b.draw(st.integers(0, k - 1))
    return k, s, p0, p1, d


def _out(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def conv(b: Builder, x: str) -> str:
    n, c, h, w = b.shapes[x]
    groups = b.draw(st.sampled_from(sorted({1, c} | {g for g in (2, 4) if c % g == 0})))
    cout = groups * b.draw(st.integers(1, 3 if groups > 1 else 12))
    (kh, sh, ph0, ph1, dh), (kw, sw, pw0, pw1, dw) = _window(b, h), _window(b, w)
    wt = b.rng.standard_normal((cout, c // groups, kh, kw)).astype(np.float32) / math.sqrt(c // groups * kh * kw)
    inputs = [x, b.const(wt)]
    if b.draw(st.booleans()):
        inputs.append(b.const(b.rng.standard_normal(cout)))
    out = (n, cout, _out(h, kh, sh, ph0, ph1, dh), _out(w, kw, sw, pw0, pw1, dw))
    return b.node("Conv", inputs, out, group=groups, kernel_shape=[kh, kw], strides=[sh, sw],
                  pads=[ph0, pw0, ph1, pw1], dilations=[dh, dw])


def pool(b: Builder, x: str) -> str:
    n, c, h, w = b.shapes[x]
    op = b.draw(st.sampled_from(("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")))
    if op.startswith("Global"):
        return b.node(op, [x], (n, c, 1, 1))
    (kh, sh, _, _, _), (kw, sw, _, _, _) = _window(b, h), _window(b, w)
    ph, pw = b.draw(st.integers(0, kh // 2)), b.draw(st.integers(0, kw // 2))
    out = (n, c, _out(h, kh, sh, ph, ph, 1), _out(w, kw, sw, pw, pw, 1))
    attrs = {"count_include_pad": b.draw(st.integers(0, 1))} if op == "AveragePool" else {}
    return b.node(op, [x], out, kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw], **attrs)


def batch_norm(b: Builder, x: str) -> str:
    c = b.shapes[x][1]
    ins = [x] + [b.const(v) for v in (b.rng.uniform(0.5, 1.5, c), b.rng.standard_normal(c),
                                      b.rng.standard_normal(c), b.rng.uniform(0.5, 1.5, c))]
    return b.node("BatchNormalization", ins, b.shapes[x])


def _ints(b: Builder, values: list[int]) -> str:
    name = b.fresh("i")
    b.inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
    return name


def slice_(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(0, len(shape) - 1))
    d = shape[axis]
    step = b.draw(st.sampled_from((1, 1, 2, -1)))
    lo, hi = sorted(b.draw(st.lists(st.integers(0, d), min_size=2, max_size=2)))
    if hi == lo:
        hi = lo + 1 if lo < d else lo
        lo = hi - 1
    starts, ends = (lo, hi) if step > 0 else (hi - 1, lo - 1 if lo > 0 else -d - 1)
    n = len(range(starts, ends if ends >= -d else -1, step)) if step < 0 else len(range(lo, hi, step))
    out = tuple(n if i == axis else s for i, s in enumerate(shape))
    return b.node("Slice", [x, _ints(b, [starts]), _ints(b, [ends]), _ints(b, [axis]), _ints(b, [step])], out)


def pad(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    mode = b.draw(st.sampled_from(("constant", "reflect", "edge")))
    pads = [b.draw(st.integers(0, 2 if mode != "reflect" else max(0, min(2, d - 1)))) for d in shape * 2]
    out = tuple(d + pads[i] + pads[i + len(shape)] for i, d in enumerate(shape))
    ins = [x, _ints(b, pads)]
    if mode == "constant" and b.draw(st.booleans()):
        ins.append(b.const(np.array(b.rng.standard_normal(), np.float32)))
    return b.node("Pad", ins, out, mode=mode)


def split(b: Builder, x: str) -> str:
    """Split along an axis and add the parts back up (so every part is used)."""
    shape = b.shapes[x]
    axes = [i for i, d in enumerate(shape) if d % 2 == 0]
    if not axes:
        return unary(b, x)
    axis = b.draw(st.sampled_from(axes))
    half = tuple(d // 2 if i == axis else d for i, d in enumerate(shape))
    lo, hi = b.fresh("s"), b.fresh("s") + "b"
    b.nodes.append(helper.make_node("Split", [x, _ints(b, [shape[axis] // 2] * 2)], [lo, hi],
                                    name=f"n{len(b.nodes)}_Split", axis=axis))
    b.shapes[lo] = b.shapes[hi] = half
    b.ops.append("Split")
    return b.node("Sub", [lo, hi], half)


def gather(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(0, len(shape) - 1))
    idx = b.rng.integers(-shape[axis], shape[axis], b.draw(st.sampled_from([(3,), (2, 2), ()][: 2 + (len(shape) > 1)])))
    name = b.fresh("idx")
    b.inits.append(numpy_helper.from_array(np.asarray(idx, np.int64), name))
    return b.node("Gather", [x, name], shape[:axis] + idx.shape + shape[axis + 1:], axis=axis)


def clip(b: Builder, x: str) -> str:
    lo = b.draw(st.sampled_from([-1.0, 0.0, -0.5]))
    return b.node("Clip", [x, b.const(np.array(lo)), b.const(np.array(lo + 1.5))], b.shapes[x])


def positive(b: Builder, x: str) -> str:
    """Sqrt, Log, Reciprocal or Pow of a positive activation (a Sigmoid plus a margin)."""
    y = b.node("Sigmoid", [x], b.shapes[x])
    y = b.node("Add", [y, b.const(np.array(0.25))], b.shapes[x])
    op = b.draw(st.sampled_from(("Sqrt", "Log", "Reciprocal", "Pow")))
    if op == "Pow":
        return b.node(op, [y, b.const(np.array(b.draw(st.sampled_from([0.5, 2.0, 3.0]))))], b.shapes[x])
    return b.node(op, [y], b.shapes[x])


def where(b: Builder, x: str) -> str:
    cond = b.fresh("cond")
    b.nodes.append(helper.make_node("Greater", [x, b.const(np.array(0.0))], [cond], name=f"n{len(b.nodes)}_Greater"))
    b.ops.append("Greater")
    return b.node("Where", [cond, x, b.const(b.rng.standard_normal(_broadcast_shape(b, b.shapes[x])))], b.shapes[x])


def unsqueeze(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    axis = b.draw(st.integers(0, len(shape)))
    y = b.node("Unsqueeze", [x, _ints(b, [axis])], shape[:axis] + (1,) + shape[axis:])
    return b.node("Squeeze", [y, _ints(b, [axis])], shape) if len(shape) == 4 else y


def expand(b: Builder, x: str) -> str:
    shape = b.shapes[x]
    ones = [i for i, d in enumerate(shape) if d == 1]
    if not ones:
        reps = [b.draw(st.integers(1, 2)) for _ in shape]
        return b.node("Tile", [x, _ints(b, reps)], tuple(d * r for d, r in zip(shape, reps)))
    target = tuple(b.draw(st.integers(1, 3)) if i in ones else d for i, d in enumerate(shape))
    return b.node("Expand", [x, _ints(b, list(target))], target)


def prelu(b: Builder, x: str) -> str:
    return b.node("PRelu", [x, b.const(b.rng.uniform(0, 0.5, _broadcast_shape(b, b.shapes[x])))], b.shapes[x])


def conv_transpose(b: Builder, x: str) -> str:
    n, c, h, w = b.shapes[x]
    cout, k, s = b.draw(st.integers(1, 4)), b.draw(st.integers(1, 3)), b.draw(st.integers(1, 2))
    p = b.draw(st.integers(0, k - 1))
    wt = b.rng.standard_normal((c, cout, k, k)).astype(np.float32) / math.sqrt(c * k * k)
    size = [(d - 1) * s - 2 * p + k for d in (h, w)]
    return b.node("ConvTranspose", [x, b.const(wt)], (n, cout, *size), kernel_shape=[k, k], strides=[s, s],
                  pads=[p, p, p, p])


def resize(b: Builder, x: str) -> str:
    n, c, h, w = b.shapes[x]
    mode = b.draw(st.sampled_from(("nearest", "linear")))
    return b.node("Resize", [x, "", b.const(np.array([1, 1, 2, 2], np.float32))], (n, c, 2 * h, 2 * w), mode=mode)


#: step name -> (builder, the activation ranks it accepts)
STEPS = {
    "unary": (unary, (1, 2, 3, 4)),
    "binary_const": (binary_const, (1, 2, 3, 4)),
    "binary_pair": (binary_pair, (1, 2, 3, 4)),
    "matmul_static": (matmul_static, (2, 3, 4)),
    "matmul_dynamic": (matmul_dynamic, (2, 3, 4)),
    "gemm": (gemm, (2,)),
    "softmax": (softmax, (1, 2, 3, 4)),
    "layer_norm": (layer_norm, (2, 3, 4)),
    "reduce": (reduce, (2, 3, 4)),
    "transpose": (transpose, (2, 3, 4)),
    "reshape": (reshape, (1, 2, 3, 4)),
    "flatten": (flatten, (2, 3, 4)),
    "concat": (concat, (1, 2, 3, 4)),
    "conv": (conv, (4,)),
    "pool": (pool, (4,)),
    "batch_norm": (batch_norm, (4,)),
    "slice": (slice_, (1, 2, 3, 4)),
    "pad": (pad, (1, 2, 3, 4)),
    "split": (split, (1, 2, 3, 4)),
    "gather": (gather, (1, 2, 3)),
    "clip": (clip, (1, 2, 3, 4)),
    "positive": (positive, (1, 2, 3, 4)),
    "where": (where, (1, 2, 3, 4)),
    "unsqueeze": (unsqueeze, (1, 2, 3, 4)),
    "expand": (expand, (1, 2, 3, 4)),
    "prelu": (prelu, (1, 2, 3, 4)),
    "conv_transpose": (conv_transpose, (4,)),
    "resize": (resize, (4,)),
}

MAX_ELEMS = 4096  # keeps every activation small: the fuzzer is after wrong semantics, not speed


@st.composite
def graphs(draw: st.DrawFn, max_steps: int = 6) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[str]]:
    """(model, feeds, step names): a random chain with one input and the final activation as output,
    plus an earlier activation as a second output now and then."""
    rank = draw(st.sampled_from((1, 2, 2, 3, 4, 4, 4)))  # CNN ops need rank 4: draw it often
    dims = tuple(draw(st.integers(1, 6 if rank < 4 else 5)) for _ in range(rank))
    if rank == 4:
        dims = (1, dims[1], draw(st.integers(3, 9)), draw(st.integers(3, 9)))
    b = Builder(draw, np.random.default_rng(draw(st.integers(0, 2**32 - 1))))
    b.shapes["x"] = dims
    cur, steps = "x", []
    for _ in range(draw(st.integers(1, max_steps))):
        options = sorted(k for k, (_, ranks) in STEPS.items() if len(b.shapes[cur]) in ranks)
        name = draw(st.sampled_from(options))
        mark = (len(b.nodes), len(b.inits), dict(b.shapes), len(b.ops))
        nxt = STEPS[name][0](b, cur)
        if math.prod(b.shapes[nxt]) > MAX_ELEMS or min(b.shapes[nxt], default=1) < 1:  # undo it, stop growing
            del b.nodes[mark[0]:], b.inits[mark[1]:], b.ops[mark[3]:]
            b.shapes = mark[2]
            break
        cur = nxt
        steps.append(name)
    outputs = [cur]
    earlier = [n for n in b.shapes if n not in ("x", cur) and any(n in nd.output for nd in b.nodes)]
    if earlier and draw(st.booleans()):
        outputs.append(draw(st.sampled_from(earlier)))
    graph = helper.make_graph(
        b.nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, b.shapes[o]) for o in outputs], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10)
    onnx.checker.check_model(model, full_check=True)
    feeds = {"x": b.rng.standard_normal(dims).astype(np.float32)}
    return model, feeds, steps
