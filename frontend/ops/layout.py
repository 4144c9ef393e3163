"""Data-layout ops: reshapes, transposes, slicing, gathers and scatters, padding and cropping, triangles,
one-hot, depth/space moves. Shape arguments are compile-time constants after folding and become properties;
an argument that only decides the output shape (Tile repeats, OneHot depth, ...) may be read off the node's
static output shape instead."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import BoolAttr, StringAttr, TensorType

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer


@importer("Reshape", "Flatten", "Squeeze", "Unsqueeze", to=["nn.reshape"], note="static target shape")
def reshape(ctx: NodeContext) -> list:
    if ctx.shape(0) == ctx.out_shape():
        return [ctx.input(0)]
    return [ctx.unary(nn.ReshapeOp)]


@importer("Expand", to=["nn.broadcast"])
def expand(ctx: NodeContext) -> list:
    if ctx.shape(0) == ctx.out_shape():
        return [ctx.input(0)]
    return [ctx.unary(nn.BroadcastOp)]


@importer("Transpose", to=["nn.transpose"])
def transpose(ctx: NodeContext) -> list:
    rank = len(ctx.shape(0))
    perm = ctx.attr("perm", list(reversed(range(rank))))
    return [ctx.unary(nn.TransposeOp, props={"perm": ints_attr(perm)})]


@importer("Concat", to=["nn.concat"])
def concat(ctx: NodeContext) -> list:
    axis = ctx.attr("axis") % len(ctx.out_shape())
    ins = [ctx.input(i) for i in range(ctx.num_inputs) if ctx.has_input(i) and ctx.shape(i)[axis] != 0]
    if len(ins) == 1:
        return ins
    return [ctx.emit(nn.ConcatOp, ins, {"axis": int_attr(axis)}).results[0]]


@importer("Split", to=["nn.split"], note="split sizes as attribute, input or num_outputs")
def split(ctx: NodeContext) -> list:
    types = [ctx.out_type(i) for i in range(len(ctx.node.output))]
    axis = ctx.attr("axis", 0) % len(ctx.shape(0))
    op = ctx.emit(nn.SplitOp, [ctx.input(0)], {"axis": int_attr(axis)}, types)
    return list(op.results)


def normalize_slice(shape, starts, ends, axes, steps) -> tuple[list[int], list[int], list[int]]:
    """ONNX Slice arguments -> one clamped (start, end, step) per dim (end -1 means 'before 0')."""
    rank = len(shape)
    st, en, sp = [0] * rank, list(shape), [1] * rank
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for s, e, a, p in zip(starts, ends, axes, steps):
        a %= rank
        n = shape[a]
        s = s + n if s < 0 else s
        e = e + n if e < 0 else e
        if p > 0:
            s, e = max(0, min(n, s)), max(0, min(n, e))
        else:
            s, e = max(0, min(n - 1, s)), max(-1, min(n - 1, e))
        st[a], en[a], sp[a] = s, e, p
    return st, en, sp


@importer("Slice", to=["nn.slice"], note="starts/ends/axes/steps must be constants")
def slice_(ctx: NodeContext) -> list:
    if ctx.opset < 10:
        starts, ends, axes, steps = ctx.attr("starts"), ctx.attr("ends"), ctx.attr("axes"), None
    else:
        starts, ends = ctx.const(1, "starts").tolist(), ctx.const(2, "ends").tolist()
        axes = ctx.const(3, "axes").tolist() if ctx.has_input(3) else None
        steps = ctx.const(4, "steps").tolist() if ctx.has_input(4) else None
    st, en, sp = normalize_slice(ctx.shape(0), starts, ends, axes, steps)
    if all(s == 0 and e == n and p == 1 for s, e, p, n in zip(st, en, sp, ctx.shape(0))):
        return [ctx.input(0)]
    props = {"starts": ints_attr(st), "ends": ints_attr(en), "steps": ints_attr(sp)}
    return [ctx.unary(nn.SliceOp, props=props)]


@importer("Gather", to=["nn.gather"])
def check_indices(ctx: NodeContext, idx: np.ndarray | None, size: int, axis: int) -> None:
    """Constant indices within [-size, size): the runtime's numpy indexing would fail (or wrap) otherwise."""
    if idx is None or idx.size == 0:
        return
    bad = idx[(idx < -size) | (idx >= size)]
    if bad.size:
        raise ctx.fail(f"index {int(bad.reshape(-1)[0])} is out of range for axis {axis} of size {size}")


@importer("Gather", to=["nn.gather"])
def gather(ctx: NodeContext) -> list:
    axis = ctx.attr("axis", 0) % len(ctx.shape(0))
    check_indices(ctx, ctx.maybe_const(1), ctx.shape(0)[axis], axis)
    return [ctx.emit(nn.GatherOp, [ctx.input(0), ctx.input(1)], {"axis": int_attr(axis)}).results[0]]


@importer("GatherElements", to=["nn.gather_elements"])
def gather_elements(ctx: NodeContext) -> list:
    axis = ctx.attr("axis", 0) % len(ctx.shape(0))
    check_indices(ctx, ctx.maybe_const(1), ctx.shape(0)[axis], axis)
    return [ctx.emit(nn.GatherElementsOp, [ctx.input(0), ctx.input(1)], {"axis": int_attr(axis)}).results[0]]


@importer("GatherND", to=["nn.gather_nd"])
def gather_nd(ctx: NodeContext) -> list:
    batch = ctx.attr("batch_dims", 0)
    idx, data = ctx.maybe_const(1), ctx.shape(0)
    if idx is not None and idx.ndim and idx.size:
        depth = idx.shape[-1]
        if batch + depth > len(data):
            raise ctx.fail(f"indices address {depth} axes after {batch} batch axes of a rank-{len(data)} input")
        for j in range(depth):
            check_indices(ctx, idx[..., j], data[batch + j], batch + j)
    props = {"batch_dims": int_attr(batch)}
    return [ctx.emit(nn.GatherNDOp, [ctx.input(0), ctx.input(1)], props).results[0]]


@importer("Pad", to=["nn.pad"], note="constant, reflect, edge, wrap; pads must be constants")
def pad(ctx: NodeContext) -> list:
    rank = len(ctx.shape(0))
    mode = ctx.attr("mode", "constant")
    if ctx.opset < 11:
        pads, value = list(ctx.attr("pads")), ctx.attr("value", 0.0)
    else:
        pads = ctx.const(1, "pads").tolist()
        v = ctx.maybe_const(2)
        runtime_value = ctx.has_input(2) and v is None and 0 not in ctx.shape(2)
        value = 0.0 if v is None or v.size == 0 else float(v.reshape(-1)[0])
        if ctx.has_input(3):
            axes = [a % rank for a in ctx.const(3, "axes").tolist()]
            full = [0] * (2 * rank)
            for i, a in enumerate(axes):
                full[a], full[rank + a] = pads[i], pads[len(axes) + i]
            pads = full
    shape = ctx.shape(0)
    for a in range(rank):
        if mode != "constant" and shape[a] == 0 and (pads[a] or pads[rank + a]):
            raise ctx.fail(f"mode '{mode}' pads axis {a}, which is empty (shape {list(shape)}): there is nothing to "
                           "reflect, repeat or wrap")
    props = {"pads": ints_attr(pads), "mode": StringAttr(mode), "value": float_attr(value)}
    if ctx.opset >= 11 and runtime_value and mode == "constant":
        return [_pad_runtime_value(ctx, pads)]
    return [ctx.unary(nn.PadOp, props=props)]


def _pad_runtime_value(ctx: NodeContext, pads: list[int]):
    """Pad with a value computed at run time: pad with 0, then a where over the constant mask of the
    padded border (the pads, hence the shape, are still constants)."""
    shape, rank = ctx.shape(0), len(ctx.shape(0))
    if ctx.shape(2) not in ((), (1,)):
        raise ctx.fail(f"constant_value of shape {list(ctx.shape(2))} must hold one value")
    kept = [n - max(0, -pads[i]) - max(0, -pads[rank + i]) for i, n in enumerate(shape)]
    inside = np.pad(np.ones(kept, dtype=bool), [(max(0, pads[i]), max(0, pads[rank + i])) for i in range(rank)])
    props = {"pads": ints_attr(pads), "mode": StringAttr("constant"), "value": float_attr(0.0)}
    padded = ctx.unary(nn.PadOp, props=props)
    return ctx.emit(nn.WhereOp, [ctx.constant(inside, "inside"), padded, ctx.input(2)]).results[0]


@importer("Tile", to=["nn.tile"], note="repeats constant, or read off the static output shape")
def tile(ctx: NodeContext) -> list:
    reps = ctx.maybe_const(1)
    if reps is None:  # repeats known only at run time: output / input per dim, when no input dim is 0
        shape, out = ctx.shape(0), ctx.out_shape()
        if 0 in shape or len(out) != len(shape) or any(o % n for o, n in zip(out, shape)):
            raise ctx.fail(f"repeats (input 1, '{ctx.node.input[1]}') must be a compile-time constant")
        reps = np.asarray([o // n for o, n in zip(out, shape)])
    return [ctx.unary(nn.TileOp, props={"repeats": ints_attr(reps.tolist())})]


@importer("Shape", "Size", "ConstantOfShape", "Range", "Constant", "MelWeightMatrix", to=[],
          note="folded at compile time (inputs must be static or constant); ConstantOfShape and Range also with "
               "run-time inputs when the output shape is static")
def fold_only(ctx: NodeContext) -> list:
    if ctx.node.op_type == "ConstantOfShape" and not any(d < 0 for d in ctx.out_shape()):
        # the shape input is computed at run time, but the output's static shape is known: it is the constant
        from h3pc.dialects.types import numpy_dtype

        value = ctx.attr("value")
        dt = numpy_dtype(ctx.out_type().element_type)
        fill = np.zeros((), dt) if value is None else np.asarray(value).reshape(-1)[0].astype(dt)
        return [ctx.constant(np.full(ctx.out_shape(), fill, dt), "filled")]
    if ctx.node.op_type == "Range" and len(ctx.out_shape()) == 1:
        return [_range_runtime(ctx)]
    raise ctx.fail("must be computable at compile time, but an input depends on run-time data")


def _range_runtime(ctx: NodeContext):
    """Range with a run-time start or delta and a static length n (the declared output shape):
    start + [0, 1, ..., n-1] * delta."""
    from h3pc.dialects.types import numpy_dtype

    n = ctx.out_shape()[0]
    typ = ctx.out_type()
    dt = numpy_dtype(typ.element_type)
    steps = ctx.constant(np.arange(n).astype(dt), "steps")
    scaled = ctx.emit(nn.MulOp, [steps, ctx.input(2)], result_types=[typ]).results[0]
    return ctx.emit(nn.AddOp, [scaled, ctx.input(0)]).results[0]


@importer("Trilu", to=["nn.trilu", "nn.greater_equal", "nn.where"],
          note="a constant k: nn.trilu; a run-time k: a where over the constant column-minus-row grid")
def trilu(ctx: NodeContext) -> list:
    upper = bool(ctx.attr("upper", 1))
    k_v = ctx.maybe_const(1) if ctx.has_input(1) else np.zeros((), np.int64)
    if k_v is not None:
        props = {"upper": BoolAttr.from_bool(upper), "k": int_attr(int(k_v.reshape(-1)[0]))}
        return [ctx.unary(nn.TriluOp, props=props)]
    # keep x[..., i, j] where j - i >= k (upper) or j - i <= k (lower): k only changes values, not shapes
    from xdsl.dialects.builtin import IntegerType

    from h3pc.dialects.types import numpy_dtype

    rows, cols = ctx.shape(0)[-2:]
    if ctx.shape(1) not in ((), (1,)):
        raise ctx.fail(f"k of shape {list(ctx.shape(1))} must hold one value")
    grid = (np.arange(cols)[None, :] - np.arange(rows)[:, None]).astype(np.int64)
    diff, k = ctx.constant(grid, "diagonal_offset"), ctx.input(1)
    if ctx.elem(1) != 7:  # int64
        k = ctx.unary(nn.CastOp, k, out_elem=diff.type.element_type)
    a, b = (diff, k) if upper else (k, diff)
    keep = ctx.emit(nn.GreaterEqualOp, [a, b], result_types=[TensorType(IntegerType(1), [rows, cols])]).results[0]
    zero = ctx.constant(np.zeros((), numpy_dtype(ctx.out_type().element_type)), "zero")
    return [ctx.emit(nn.WhereOp, [keep, ctx.input(0), zero]).results[0]]


@importer("OneHot", to=["nn.one_hot"], note="depth must be a constant")
def one_hot(ctx: NodeContext) -> list:
    axis = ctx.attr("axis", -1) % (len(ctx.shape(0)) + 1)
    depth_v = ctx.maybe_const(1)
    if depth_v is None:  # depth known only at run time: it is the output's size along the new axis
        depth_v = np.asarray([ctx.out_shape()[axis]])
    depth_v = depth_v.reshape(-1)
    if depth_v.size != 1:
        raise ctx.fail(f"depth must hold one value, got {depth_v.size}")
    depth = int(np.trunc(depth_v[0]))
    if depth < 1:
        raise ctx.fail(f"depth {depth} must be >= 1")
    if ctx.shape(2) != (2,):
        raise ctx.fail(f"values must hold [off, on], got shape {list(ctx.shape(2))}")
    props = {"axis": int_attr(axis), "depth": int_attr(depth)}
    return [ctx.emit(nn.OneHotOp, [ctx.input(0), ctx.input(2)], props).results[0]]


@importer("EyeLike", to=["nn.constant"], note="a constant of the input's static shape")
def eye_like(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    if len(shape) != 2:
        raise ctx.fail(f"input must be 2-D, got shape {list(shape)}")
    from h3pc.dialects.types import numpy_dtype

    eye = np.eye(shape[0], shape[1], k=int(ctx.attr("k", 0)), dtype=numpy_dtype(ctx.out_type().element_type))
    return [ctx.constant(eye, "eye")]


def _check_scatter_indices(ctx: NodeContext, idx: np.ndarray | None, data: tuple[int, ...], axis: int | None) -> None:
    if idx is None:
        return
    if axis is not None:
        check_indices(ctx, idx, data[axis], axis)
    elif idx.ndim and idx.size:
        for j in range(min(idx.shape[-1], len(data))):
            check_indices(ctx, idx[..., j], data[j], j)


def _reduction(ctx: NodeContext) -> StringAttr:
    red = ctx.attr("reduction", "none")
    if red not in ("none", "add", "mul", "max", "min"):
        raise ctx.fail(f"unknown reduction '{red}'")
    return StringAttr(red)


@importer("ScatterElements", "Scatter", to=["nn.scatter_elements"], note="reduction none/add/mul/max/min")
def scatter_elements(ctx: NodeContext) -> list:
    axis = ctx.attr("axis", 0) % len(ctx.shape(0))
    _check_scatter_indices(ctx, ctx.maybe_const(1), ctx.shape(0), axis)
    props = {"axis": int_attr(axis), "reduction": _reduction(ctx)}
    return [ctx.emit(nn.ScatterElementsOp, [ctx.input(0), ctx.input(1), ctx.input(2)], props).results[0]]


@importer("ScatterND", to=["nn.scatter_nd"], note="reduction none/add/mul/max/min")
def scatter_nd(ctx: NodeContext) -> list:
    idx = ctx.maybe_const(1)
    if ctx.shape(1) and ctx.shape(1)[-1] > len(ctx.shape(0)):
        raise ctx.fail(f"indices address {ctx.shape(1)[-1]} axes of a rank-{len(ctx.shape(0))} input")
    _check_scatter_indices(ctx, idx, ctx.shape(0), None)
    props = {"reduction": _reduction(ctx)}
    return [ctx.emit(nn.ScatterNDOp, [ctx.input(0), ctx.input(1), ctx.input(2)], props).results[0]]


@importer("DepthToSpace", "SpaceToDepth", to=["nn.reshape", "nn.transpose"],
          note="DCR and CRD modes: a reshape, a transpose and a reshape (exact)")
def depth_space(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    if len(shape) != 4:
        raise ctx.fail(f"input must be 4-D NCHW, got shape {list(shape)}")
    b = int(ctx.attr("blocksize"))
    n, c, h, w = shape
    if ctx.node.op_type == "DepthToSpace":
        mode = ctx.attr("mode", "DCR")
        if mode == "DCR":
            inner, perm = (n, b, b, c // (b * b), h, w), (0, 3, 4, 1, 5, 2)
        elif mode == "CRD":
            inner, perm = (n, c // (b * b), b, b, h, w), (0, 1, 4, 2, 5, 3)
        else:
            raise ctx.fail(f"unknown mode '{mode}'")
    else:
        mode = ctx.attr("mode", "DCR")  # opset 28 adds CRD (the channel stays the outer factor)
        if mode == "DCR":
            inner, perm = (n, c, h // b, b, w // b, b), (0, 3, 5, 1, 2, 4)
        elif mode == "CRD":
            inner, perm = (n, c, h // b, b, w // b, b), (0, 1, 3, 5, 2, 4)
        else:
            raise ctx.fail(f"unknown mode '{mode}'")
    moved = tuple(inner[p] for p in perm)
    x = ctx.unary(nn.ReshapeOp, out_shape=inner)
    y = ctx.unary(nn.TransposeOp, x, {"perm": ints_attr(perm)}, out_shape=moved)
    return [ctx.unary(nn.ReshapeOp, y)]


@importer("ReverseSequence", to=["nn.reverse_sequence"], note="batch_axis/time_axis 0 and 1")
def reverse_sequence(ctx: NodeContext) -> list:
    b, t = int(ctx.attr("batch_axis", 1)), int(ctx.attr("time_axis", 0))
    if {b, t} != {0, 1}:
        raise ctx.fail(f"batch_axis {b} and time_axis {t} must be 0 and 1")
    props = {"batch_axis": int_attr(b), "time_axis": int_attr(t)}
    return [ctx.emit(nn.ReverseSequenceOp, [ctx.input(0), ctx.input(1)], props).results[0]]


from h3pc.frontend.ops import signal  # noqa: E402, F401 - registers the signal-processing family


@importer("TensorScatter", to=["nn.tensor_scatter"], note="opset 24 KV-cache write: linear or circular")
def tensor_scatter(ctx: NodeContext) -> list:
    mode = ctx.attr("mode", "linear")
    if mode not in ("linear", "circular"):
        raise ctx.fail(f"unknown mode '{mode}'")
    shape = ctx.shape(0)
    axis = ctx.attr("axis", -2) % len(shape)
    if axis == 0:
        raise ctx.fail("axis 0 is the batch axis, not a sequence axis")
    if ctx.has_input(2):
        idx = ctx.input(2)
        if ctx.shape(2) != (shape[0],):
            raise ctx.fail(f"write_indices of shape {list(ctx.shape(2))}, expected [{shape[0]}]")
    else:
        idx = ctx.constant(np.zeros(shape[0], np.int64), "write_at_0")
    props = {"axis": int_attr(axis), "circular": BoolAttr.from_bool(mode == "circular")}
    return [ctx.emit(nn.TensorScatterOp, [ctx.input(0), ctx.input(1), idx], props).results[0]]


@importer("CenterCropPad", to=["nn.slice", "nn.pad"],
          note="a centred crop (start rounded down) then a centred zero pad (the odd pixel at the end)")
def center_crop_pad(ctx: NodeContext) -> list:
    shape, out = tuple(ctx.shape(0)), tuple(ctx.out_shape())  # out: the target on the listed axes, else input
    if len(out) != len(shape):
        raise ctx.fail(f"output shape {list(out)} does not match the input's rank {len(shape)}")
    starts = [(n - o) // 2 if o < n else 0 for n, o in zip(shape, out)]
    ends = [s + o if o < n else n for s, n, o in zip(starts, shape, out)]
    x = ctx.input(0)
    cropped = tuple(e - s for s, e in zip(starts, ends))
    if cropped != shape:
        props = {"starts": ints_attr(starts), "ends": ints_attr(ends), "steps": ints_attr([1] * len(shape))}
        x = ctx.unary(nn.SliceOp, x, props, out_shape=cropped)
    if cropped != out:
        begin = [(o - n) // 2 if o > n else 0 for n, o in zip(cropped, out)]
        end = [o - n - b if o > n else 0 for n, o, b in zip(cropped, out, begin)]
        props = {"pads": ints_attr(begin + end), "mode": StringAttr("constant"), "value": float_attr(0.0)}
        x = ctx.unary(nn.PadOp, x, props, out_shape=out)
    return [x]
