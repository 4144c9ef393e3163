"""`lower-tiers`: rewrite every placed GEMM-like nn op into tier ops over its row split.

Each op is first put in one canonical form, a grouped product C[g, m, n] = A[g, m, k] @ B[g, k, n]:
MatMul and Gemm by reshapes and transposes (broadcast batch dims become groups), Conv by
the host's im2col on the input and a reshape/transpose of the weights. The N columns of B are then cut
at the split: each tier computes its own columns (no cross-tier reduction) and `digital.join`
concatenates the parts. On a PIM tier a part is further cut into pieces that fit the tier's
crossbars; each piece is a `pim.program` (weights bit-sliced over cells) and a `pim.mvm`. Epilogue
ops (reshape back, Gemm's alpha/beta/C, Conv's bias) restore the original result.

Weights written before every use (dynamic operands, the parts stage one chose to stream, and static
parts that do not fit beside the tier's resident weights, `spilled_parts`) are marked `streamed` and cut
into pieces that fit the tier's streaming region (backends/pim.py `pieces`); `allocate-crossbars` then
finds every other part's weights fit and keeps them resident.

Layout ops on weights stay in the IR; the backend folds them into the weights section at compile time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.transforms.dead_code_elimination import region_dce

from h3pc.backends import tiers
from h3pc.diagnostics import UnsupportedError
from h3pc.dialects import nn
from h3pc.dialects.nn import ints_attr, shape_of
from h3pc.dialects.shapes import broadcast_shapes
from h3pc.hardware.schema import HardwareConfig
from h3pc.passes import PassBase
from h3pc.backends.tier import Shape, Spills, crossbar_layout
from h3pc.transforms.allocate_crossbars import is_static
from h3pc.transforms.place import b_operand, bits_of, replicas_of, split_of, streamed_of
from h3pc.workload import gemm_work


class _Emitter:
    """Inserts ops before the op being lowered, tagged with its ONNX node name."""

    def __init__(self, anchor: Operation, node: str) -> None:
        self.b = Builder(InsertPoint.before(anchor))
        self.node = node

    def op(self, cls: type[Operation], operands: Sequence[SSAValue], shape: Sequence[int], elem=None,
           props: dict | None = None, result_type=None) -> SSAValue:
        typ = result_type or TensorType(elem or operands[0].type.element_type, list(shape))
        new = cls.create(operands=list(operands), result_types=[typ], properties=props or {},
                         attributes=self.tag())
        self.b.insert(new)
        return new.results[0]

    def tag(self) -> dict[str, StringAttr]:
        return {"onnx_node": StringAttr(self.node)} if self.node else {}

    def reshape(self, v: SSAValue, shape: Sequence[int]) -> SSAValue:
        if isinstance(v.owner, nn.ReshapeOp) and v.owner.attributes.get("onnx_node") == StringAttr(self.node):
            v = v.owner.input  # reshape of our own reshape: one reshape
        return v if shape_of(v) == tuple(shape) else self.op(nn.ReshapeOp, [v], shape)

    def transpose(self, v: SSAValue, perm: Sequence[int]) -> SSAValue:
        if list(perm) == list(range(len(perm))):
            return v
        shape = [shape_of(v)[p] for p in perm]
        return self.op(nn.TransposeOp, [v], shape, props={"perm": ints_attr(perm)})

    def broadcast(self, v: SSAValue, shape: Sequence[int]) -> SSAValue:
        return v if shape_of(v) == tuple(shape) else self.op(nn.BroadcastOp, [v], shape)

    def columns(self, v: SSAValue, lo: int, hi: int) -> SSAValue:
        """v[..., lo:hi] along the last axis."""
        s = shape_of(v)
        if (lo, hi) == (0, s[-1]):
            return v
        props = {"starts": ints_attr([0] * (len(s) - 1) + [lo]), "ends": ints_attr(list(s[:-1]) + [hi]),
                 "steps": ints_attr([1] * len(s))}
        return self.op(nn.SliceOp, [v], list(s[:-1]) + [hi - lo], props=props)

    def scalar(self, value: float, like: SSAValue) -> SSAValue:
        typ = TensorType(like.type.element_type, [])
        c = nn.ConstantOp.create(properties={"value": DenseIntOrFPElementsAttr.from_list(typ, [value])},
                                 result_types=[typ], attributes=self.tag())
        self.b.insert(c)
        return c.results[0]

    def binary(self, cls: type[Operation], a: SSAValue, b: SSAValue) -> SSAValue:
        return self.op(cls, [a, b], broadcast_shapes(shape_of(a), shape_of(b)))

    def join(self, parts: list[SSAValue]) -> SSAValue:
        """The parts' columns side by side, on the host; one part is itself."""
        return _join(self, parts)


@dataclass
class _Canonical:
    a: SSAValue  # [g, m, k]
    b: SSAValue  # [g, k, n]


def _canonical_matmul(e: _Emitter, op: nn.MatMulOp) -> tuple[_Canonical, int]:
    a, b = op.lhs, op.rhs
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 1:
        a, sa = e.reshape(a, (1,) + sa), (1,) + sa
    if len(sb) == 1:
        b, sb = e.reshape(b, sb + (1,)), sb + (1,)
    m, k, n = sa[-2], sa[-1], sb[-1]
    if len(sb) == 2:  # shared right operand (weights): every batch row streams through one matrix
        rows = math.prod(sa[:-1])
        return _Canonical(e.reshape(a, (1, rows, k)), e.reshape(b, (1, k, n))), 1
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    assert batch is not None
    g = math.prod(batch)
    a = e.reshape(e.broadcast(a, tuple(batch) + (m, k)), (g, m, k))
    b = e.reshape(e.broadcast(b, tuple(batch) + (k, n)), (g, k, n))
    return _Canonical(a, b), g


def _canonical_gemm(e: _Emitter, op: nn.GemmOp) -> _Canonical:
    a = e.transpose(op.a, (1, 0)) if op.trans_a.value.data else op.a
    b = e.transpose(op.b, (1, 0)) if op.trans_b.value.data else op.b
    return _Canonical(e.reshape(a, (1,) + shape_of(a)), e.reshape(b, (1,) + shape_of(b)))


def _canonical_conv(e: _Emitter, op: nn.ConvOp) -> _Canonical:
    x, w = shape_of(op.x), shape_of(op.w)
    g = op.group.value.data
    og, kk = w[0] // g, math.prod(w[1:])
    props = {"kernel": ints_attr(w[2:]), "strides": op.strides, "pads": op.pads, "dilations": op.dilations,
             "group": op.group}
    y = shape_of(op.result)
    cols = tiers.host().windows(e, op.x, (g, x[0] * math.prod(y[2:]), kk), props)
    wm = e.transpose(e.reshape(op.w, (g, og, kk)), (0, 2, 1))
    return _Canonical(cols, wm)


def _epilogue(e: _Emitter, op: Operation, c: SSAValue) -> SSAValue:
    """From C[g, m, n] back to the op's own result."""
    out = shape_of(op.results[0])
    if isinstance(op, nn.ConvOp):
        g, rows, og = shape_of(c)
        n = out[0]
        y = e.transpose(e.reshape(c, (g, n, rows // n, og)), (1, 0, 3, 2))
        y = e.reshape(y, out)
        if op.b is not None:
            y = e.binary(nn.AddOp, y, e.reshape(op.b, (1, out[1]) + (1,) * (len(out) - 2)))
        return y
    y = e.reshape(c, out)
    if isinstance(op, nn.GemmOp):
        alpha, beta = op.alpha.value.data, op.beta.value.data
        if alpha != 1.0:
            y = e.binary(nn.MulOp, y, e.scalar(alpha, y))
        if op.c is not None and beta != 0.0:
            bias = op.c if beta == 1.0 else e.binary(nn.MulOp, op.c, e.scalar(beta, op.c))
            y = e.reshape(e.binary(nn.AddOp, y, bias), out)
    return y


def _join(e: _Emitter, parts: list[SSAValue]) -> SSAValue:
    return parts[0] if len(parts) == 1 else tiers.host().join(e, parts)


#: a quantized model's weight steps on a GEMM-like op, one per output channel (frontend/folding.py records
#: them where a constant DequantizeLinear feeds a weight), and the largest code magnitude they step
WEIGHT_SCALE, WEIGHT_CODES = "h3pc.weight_scale", "h3pc.weight_codes"


def weight_steps(op: Operation, g: int, n: int) -> tuple[np.ndarray, int] | None:
    """The op's weight steps as [g, n] over the canonical product's columns and the largest code
    magnitude, or None."""
    attr, codes = op.attributes.get(WEIGHT_SCALE), op.attributes.get(WEIGHT_CODES)
    if attr is None or codes is None:
        return None
    steps = np.asarray(attr.get_values(), np.float32)  # type: ignore[attr-defined]
    return (steps.reshape(g, n), codes.value.data) if steps.size == g * n else None  # type: ignore[attr-defined]


def spilled_parts(module: ModuleOp, hw: HardwareConfig) -> dict[Operation, frozenset[str]]:
    """Per placed op, the weight-stationary tiers whose part streams its static weights although the
    placement left them resident (`h3pc.stream` not set): the parts that do not fit beside the others,
    by the layout rule (`crossbar_layout`, as stage one's `Problem.fit` applies it to a split). They are
    lowered streamed, in pieces that fit the tier's streaming region; every other part stays resident."""
    items: dict[str, list[tuple[Operation, int, int, bool]]] = {}  # tier -> (op, resident, scratch, forced)
    stationary = {t.name: t for t in tiers.stationary(hw)}
    for op in module.walk():
        split, b = split_of(op), b_operand(op)
        if split is None or b is None or not stationary.keys() & split.keys():
            continue
        w = gemm_work(op)
        assert w is not None
        node = op.node_name if isinstance(op, nn.NNOp) else ""
        shape = Shape(g=w.groups, m=w.m, k=w.k, n=w.n, a_bytes=0, static=is_static(b), node=node)
        for t, rows in split.items():
            if t not in stationary:
                continue
            copies = replicas_of(op).get(t, 1)
            part = stationary[t].part_cost(hw, shape, rows, t in streamed_of(op), Spills(),
                                           **({"replicas": copies} if copies > 1 else {}))
            forced = not part.crossbars  # written before every use whatever the layout
            scratch = part.scratch if forced else stationary[t].part_cost(hw, shape, rows, True, Spills()).scratch
            items.setdefault(t, []).append((op, part.crossbars, scratch, forced))
    out: dict[Operation, set[str]] = {}
    for t, its in items.items():
        spilled, _ = crossbar_layout([i[1] for i in its], [i[2] for i in its], [i[3] for i in its],
                                     stationary[t].capacity(hw))
        for i in spilled:
            out.setdefault(its[i][0], set()).add(t)
    return {op: frozenset(ts) for op, ts in out.items()}


def lower_op(op: Operation, split: dict[str, int], hw: HardwareConfig,
             spilled: frozenset[str] = frozenset()) -> None:
    """Lower one placed op; `spilled`: tiers whose part streams because it does not fit (`spilled_parts`)."""
    node = op.node_name if isinstance(op, nn.NNOp) else ""
    streamed = streamed_of(op) | spilled
    bits = bits_of(op)
    e = _Emitter(op, node)
    if isinstance(op, nn.MatMulOp):
        canon, g = _canonical_matmul(e, op)
    elif isinstance(op, nn.GemmOp):
        canon, g = _canonical_gemm(e, op), 1
    elif isinstance(op, nn.ConvOp):
        canon, g = _canonical_conv(e, op), op.group.value.data
    else:  # conv_transpose: runs as it is on the digital tier
        return
    n = shape_of(canon.b)[-1]
    if sum(split.values()) != n:
        raise UnsupportedError(f"node '{node}': split {split} covers {sum(split.values())} of {n} rows")
    parts, lo = [], 0
    elem = op.results[0].type.element_type  # type: ignore[attr-defined]
    wscale = weight_steps(op, g, n)
    dynamic = not is_static(canon.b)  # written before every use on a weight-stationary tier
    for tier in tiers.of(hw):
        rows = split.get(tier.name, 0)
        if rows:
            copies = replicas_of(op).get(tier.name, 1)
            parts.append(tier.lower_part(e, hw, canon.a, canon.b, lo, lo + rows, g, elem,
                                         dynamic or tier.name in streamed, bits, weight_scale=wscale,
                                         **({"replicas": copies} if copies > 1 else {})))
            lo += rows
    result = _epilogue(e, op, _join(e, parts))
    op.results[0].replace_all_uses_with(result)
    op.detach()
    op.erase()


@dataclass(frozen=True)
class LowerTiers(PassBase):
    """Rewrite each placed GEMM-like op into its tiers' ops over its row split."""

    name = "lower-tiers"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_module(op, self.hardware(ctx))


def lower_module(module: ModuleOp, hw: HardwareConfig) -> None:
    """Lower every placed op of a module (also stage one's reference lowering)."""
    spilled = spilled_parts(module, hw)
    for o in list(module.walk()):
        split = split_of(o)
        if split is not None:
            lower_op(o, split, hw, spilled.get(o, frozenset()))
    for fn in module.ops:  # reshapes superseded while composing layouts
        for region in fn.regions:
            region_dce(region)
