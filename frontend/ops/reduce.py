"""Reductions (Reduce*), ArgMax/ArgMin, scans (CumSum/CumProd) and TopK; axes normalised from attribute or
input, per opset (or implied by the static output shape when given at run time)."""

from __future__ import annotations

from xdsl.dialects.builtin import BoolAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import int_attr, ints_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer

REDUCE = {
    "ReduceSum": (nn.ReduceSumOp, 13), "ReduceMean": (nn.ReduceMeanOp, 18), "ReduceMax": (nn.ReduceMaxOp, 18),
    "ReduceMin": (nn.ReduceMinOp, 18), "ReduceProd": (nn.ReduceProdOp, 18), "ReduceL1": (nn.ReduceL1Op, 18),
    "ReduceL2": (nn.ReduceL2Op, 18), "ReduceSumSquare": (nn.ReduceSumSquareOp, 18),
    "ReduceLogSum": (nn.ReduceLogSumOp, 18), "ReduceLogSumExp": (nn.ReduceLogSumExpOp, 18),
}


#: reductions with no value over an empty axis (numpy raises, or warns and gives NaN, at run time)
NO_IDENTITY = {"ReduceMax", "ReduceMin", "ReduceMean", "ReduceLogSumExp", "ArgMax", "ArgMin"}


def check_reduced_not_empty(ctx: NodeContext, axes: list[int] | None) -> None:
    """A max, min, mean or arg-reduction over a zero-size axis has no result the runtime can compute."""
    if ctx.node.op_type not in NO_IDENTITY:
        return
    shape = ctx.shape(0)
    for a in range(len(shape)) if not axes else [a % max(len(shape), 1) for a in axes]:
        if a < len(shape) and shape[a] == 0:
            raise ctx.fail(f"reduces axis {a} of input shape {list(shape)}, which is empty")


def axes_from_shapes(ctx: NodeContext, keep: bool) -> list[int] | None:
    """Axes given only at run time: the ones the node's static output shape implies, when every set of axes
    consistent with it gives the same values, else None. [] means the output is the input's shape: whether
    nothing or only size-1 axes are reduced, the values are the no-op's (ONNX keeps a composite reduction's
    elementwise step, |x|, x^2, log, in its no-op too)."""
    import itertools

    shape, out = tuple(ctx.shape(0)), tuple(ctx.out_shape())
    rank = len(shape)
    if out == shape:
        return []
    if keep:
        if len(out) != rank or any(o not in (1, n) for o, n in zip(out, shape)):
            return None
        return [i for i in range(rank) if out[i] == 1 and shape[i] != 1]
    sets = [c for c in itertools.combinations(range(rank), rank - len(out))
            if tuple(n for i, n in enumerate(shape) if i not in c) == out]
    if not sets or len({tuple(i for i in c if shape[i] != 1) for c in sets}) > 1:
        return None
    return list(sets[0])


def reduce(ctx: NodeContext) -> list:
    cls, since = REDUCE[ctx.node.op_type]
    keep = bool(ctx.attr("keepdims", 1))
    if ctx.opset >= since and ctx.has_input(1) and ctx.maybe_const(1) is None:
        axes = axes_from_shapes(ctx, keep)
        if axes is None:
            raise ctx.fail(f"'axes' (input 1) is known only at run time, and the output shape {list(ctx.out_shape())} "
                           f"does not settle which axes of {list(ctx.shape(0))} are reduced")
        if not axes:
            return [_no_reduction(ctx)]
    else:
        axes = ctx.attr_or_input("axes", 1, default=None, since=since)
        if not axes and ctx.attr("noop_with_empty_axes", 0):
            return [_no_reduction(ctx)]
    check_reduced_not_empty(ctx, axes)
    props = {"axes": ints_attr(axes or []), "keepdims": BoolAttr.from_bool(keep)}
    return [ctx.emit(cls, [ctx.input(0)], props).results[0]]


def _no_reduction(ctx: NodeContext):
    """No axis reduced, but composite reductions keep their elementwise steps (ONNX spec, opset 18)."""
    x = ctx.input(0)
    if ctx.node.op_type in ("ReduceL1", "ReduceL2"):  # sqrt(x^2) == |x|
        return ctx.unary(nn.AbsOp, x)
    if ctx.node.op_type == "ReduceSumSquare":
        return ctx.emit(nn.MulOp, [x, x]).results[0]
    if ctx.node.op_type == "ReduceLogSum":
        return ctx.unary(nn.LogOp, x)
    return x  # ReduceLogSumExp: log(exp(x)) == x


for _t, (_c, _) in REDUCE.items():
    importer(_t, to=[_c.name], note="axes as attribute or constant input")(reduce)


@importer("ArgMax", "ArgMin", to=["nn.arg_max", "nn.arg_min"])
def arg(ctx: NodeContext) -> list:
    cls = nn.ArgMaxOp if ctx.node.op_type == "ArgMax" else nn.ArgMinOp
    check_reduced_not_empty(ctx, [ctx.attr("axis", 0)])
    props = {"axis": int_attr(ctx.attr("axis", 0)), "keepdims": BoolAttr.from_bool(bool(ctx.attr("keepdims", 1))),
             "select_last_index": BoolAttr.from_bool(bool(ctx.attr("select_last_index", 0)))}
    return [ctx.emit(cls, [ctx.input(0)], props).results[0]]


@importer("CumSum", "CumProd", to=["nn.cumsum", "nn.cumprod"], note="axis must be a constant; exclusive, reverse")
def cumulative(ctx: NodeContext) -> list:
    cls = nn.CumSumOp if ctx.node.op_type == "CumSum" else nn.CumProdOp
    rank = len(ctx.shape(0))
    if rank == 0:
        raise ctx.fail("input must have rank >= 1")
    flags = {"exclusive": BoolAttr.from_bool(bool(ctx.attr("exclusive", 0))),
             "reverse": BoolAttr.from_bool(bool(ctx.attr("reverse", 0)))}
    axis_v = ctx.maybe_const(1)
    if axis_v is None:
        return [_cumulative_runtime_axis(ctx, cls, rank, flags)]
    axis_v = axis_v.reshape(-1)
    if axis_v.size != 1 or not -rank <= int(axis_v[0]) < rank:
        raise ctx.fail(f"axis {axis_v.tolist()} is not one axis of a rank-{rank} input")
    props = {"axis": int_attr(int(axis_v[0]) % rank), **flags}
    return [ctx.emit(cls, [ctx.input(0)], props).results[0]]


def _cumulative_runtime_axis(ctx: NodeContext, cls: type, rank: int, flags: dict):
    """An axis known only at run time leaves the shape unchanged: one scan per possible axis, the one the
    axis names picked by a where (a rank-1 input has one axis, so no choice at all)."""
    import numpy as np
    from xdsl.dialects.builtin import IntegerType, TensorType

    if ctx.shape(1) not in ((), (1,)):
        raise ctx.fail(f"axis of shape {list(ctx.shape(1))} must hold one value")
    scans = [ctx.emit(cls, [ctx.input(0)], {"axis": int_attr(a), **flags}).results[0] for a in range(rank)]
    if rank == 1:
        return scans[0]
    axis = ctx.input(1)
    if ctx.shape(1) == (1,):
        axis = ctx.unary(nn.ReshapeOp, axis, out_shape=())
    y = scans[-1]  # the last axis, also what -1 names
    for a in range(rank - 2, -1, -1):
        dt = np.int64 if ctx.elem(1) == 7 else np.int32
        hit = []
        for name in (a, a - rank):
            c = ctx.constant(np.asarray(name, dt), f"axis{name}")
            hit.append(ctx.emit(nn.EqualOp, [axis, c], result_types=[TensorType(IntegerType(1), [])]).results[0])
        either = ctx.emit(nn.OrOp, hit, result_types=[TensorType(IntegerType(1), [])]).results[0]
        y = ctx.emit(nn.WhereOp, [either, scans[a], y]).results[0]
    return y


@importer("TopK", to=["nn.top_k"], note="k must be a constant; ties keep the lower index first")
def top_k(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    axis = ctx.attr("axis", -1) % max(len(shape), 1)
    if ctx.opset < 10:
        k = int(ctx.attr("k"))
    elif ctx.maybe_const(1) is None:  # k known only at run time: it is the output's size along the axis
        k = ctx.out_shape(0)[axis]
    else:
        k = int(ctx.const(1, "k").reshape(-1)[0])
    if not 0 <= k <= shape[axis]:
        raise ctx.fail(f"k {k} is out of range for axis {axis} of size {shape[axis]}")
    props = {"axis": int_attr(axis), "k": int_attr(k), "largest": BoolAttr.from_bool(bool(ctx.attr("largest", 1)))}
    op = ctx.emit(nn.TopKOp, [ctx.input(0)], props, [ctx.out_type(0), ctx.out_type(1)])
    return list(op.results)
