"""Signal processing: DFT (audio front ends compute spectrograms in the graph).

Registered through frontend/ops/layout.py's import of this module.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import BoolAttr, IntegerType, TensorType

from h3pc.dialects import nn
from h3pc.dialects.nn import int_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer


@importer("DFT", to=["nn.dft"], note="axis and dft_length must be constants; real or complex input")
def dft(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    rank = len(shape)
    if rank < 2 or shape[-1] not in (1, 2):
        raise ctx.fail(f"input of shape {list(shape)} must end in 1 (real) or 2 (complex)")
    inverse, onesided = bool(ctx.attr("inverse", 0)), bool(ctx.attr("onesided", 0))
    if onesided and not inverse and shape[-1] == 2:
        raise ctx.fail("onesided=1 needs a real input (last dim 1)")
    n_v = ctx.const(1, "dft_length").reshape(-1) if ctx.has_input(1) else None
    if ctx.opset >= 20:
        axis_v = ctx.maybe_const(2) if ctx.has_input(2) else np.asarray(-2)
        if axis_v is None:
            return [_dft_runtime_axis(ctx, n_v, inverse, onesided)]
        axis = int(axis_v.reshape(-1)[0])
    else:
        axis = int(ctx.attr("axis", 1))
    if not -rank <= axis < rank - 1 or axis % rank == rank - 1:
        raise ctx.fail(f"axis {axis} is not a signal axis of input shape {list(shape)}")
    axis %= rank
    return [ctx.emit(nn.DFTOp, [ctx.input(0)], _props(ctx, axis, n_v, inverse, onesided)).results[0]]


def _props(ctx: NodeContext, axis: int, n_v: np.ndarray | None, inverse: bool, onesided: bool) -> dict:
    # an inverse one-sided transform reads m = n // 2 + 1 bins; without dft_length n is 2 (m - 1)
    default = 2 * (ctx.shape(0)[axis] - 1) if inverse and onesided else ctx.shape(0)[axis]
    length = int(n_v[0]) if n_v is not None else default
    if length < 1:
        raise ctx.fail(f"dft_length {length} must be >= 1")
    return {"axis": int_attr(axis), "length": int_attr(length), "inverse": BoolAttr.from_bool(inverse),
            "onesided": BoolAttr.from_bool(onesided)}


def _dft_runtime_axis(ctx: NodeContext, n_v: np.ndarray | None, inverse: bool, onesided: bool):
    """An axis known only at run time: one DFT per signal axis whose result has the node's (static) output
    shape, the one the axis names picked by a where. An axis giving another shape would contradict the
    output shape the graph declares, so it is not a candidate."""
    shape = ctx.shape(0)
    rank = len(shape)
    if ctx.shape(2) not in ((), (1,)):
        raise ctx.fail(f"axis of shape {list(ctx.shape(2))} must hold one value")
    cands = []
    for a in range(rank - 1):
        if n_v is None and shape[a] < (2 if inverse and onesided else 1):
            continue  # no transform of this axis has a length
        props = _props(ctx, a, n_v, inverse, onesided)
        n = props["length"].value.data
        out = list(shape[:-1]) + [1 if inverse and onesided else 2]
        out[a] = n // 2 + 1 if onesided and not inverse else n
        if tuple(out) == tuple(ctx.out_shape()):
            cands.append((a, ctx.emit(nn.DFTOp, [ctx.input(0)], props).results[0]))
    if not cands:
        raise ctx.fail(f"no signal axis of input shape {list(shape)} gives the output shape {list(ctx.out_shape())}")
    axis = ctx.input(2)
    if ctx.shape(2) == (1,):
        axis = ctx.unary(nn.ReshapeOp, axis, out_shape=())
    dt = np.int64 if ctx.elem(2) == 7 else np.int32
    y = cands[-1][1]
    for a, cand in reversed(cands[:-1]):
        hit = [ctx.emit(nn.EqualOp, [axis, ctx.constant(np.asarray(name, dt), f"axis{name}")],
                        result_types=[TensorType(IntegerType(1), [])]).results[0] for name in (a, a - rank)]
        either = ctx.emit(nn.OrOp, hit, result_types=[TensorType(IntegerType(1), [])]).results[0]
        y = ctx.emit(nn.WhereOp, [either, cand, y]).results[0]
    return y


def _window(kind: str, size: int, periodic: bool) -> np.ndarray:
    """ONNX's window functions: cosine sums over n / N, N = size when periodic, size - 1 when symmetric."""
    n = np.arange(size, dtype=np.float64)
    big = size if periodic else size - 1
    c = 2 * np.pi * n / big if big > 0 else np.zeros(size)
    if kind == "HannWindow":
        return 0.5 - 0.5 * np.cos(c)
    if kind == "HammingWindow":
        alpha = 25.0 / 46.0
        return alpha - (1 - alpha) * np.cos(c)
    return 0.42 - 0.5 * np.cos(c) + 0.08 * np.cos(2 * c)  # BlackmanWindow


@importer("HannWindow", "HammingWindow", "BlackmanWindow", to=["nn.constant"],
          note="a constant: the values depend only on the size (a constant, or the static output length)")
def window(ctx: NodeContext) -> list:
    from h3pc.dialects.types import numpy_dtype

    size_v = ctx.maybe_const(0)
    size = int(size_v.reshape(-1)[0]) if size_v is not None else ctx.out_shape()[0]
    if size < 0:
        raise ctx.fail(f"size {size} must be >= 0")
    w = _window(ctx.node.op_type, size, bool(ctx.attr("periodic", 1)))
    return [ctx.constant(w.astype(numpy_dtype(ctx.out_type().element_type)), "window")]
