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


@importer("STFT", to=["nn.gather", "nn.mul", "nn.dft"],
          note="frames gathered at the frame step, windowed, then one DFT per frame; step and length constant "
               "(or the only values the static output shape allows)")
def stft(ctx: NodeContext) -> list:
    shape, out = ctx.shape(0), ctx.out_shape()
    signal = ctx.input(0)
    if len(shape) == 2:  # [batch, length]: a real signal, as onnxruntime reads it
        shape = (*shape, 1)
        signal = ctx.unary(nn.ReshapeOp, signal, out_shape=shape)
    if len(shape) != 3 or shape[-1] not in (1, 2) or len(out) != 4:
        raise ctx.fail(f"signal of shape {list(shape)} must be [batch, length, 1 or 2] (or [batch, length])")
    onesided = bool(ctx.attr("onesided", 1))
    if onesided and shape[-1] == 2:
        raise ctx.fail("onesided=1 needs a real signal (last dim 1)")
    n_sig, frames, bins = shape[1], out[1], out[2]
    step_v = ctx.maybe_const(1)
    # (frame length, step) pairs the static output shape allows: constants where given; a run-time one is
    # settled only when a single pair gives the frame and bin counts
    lengths = _stft_lengths(ctx, onesided, bins)
    steps = [int(step_v.reshape(-1)[0])] if step_v is not None else list(range(1, n_sig + 1))
    pairs = [(n, s) for n in lengths for s in steps
             if s >= 1 and 1 <= n <= n_sig and (n_sig - n) // s + 1 == frames]
    if len(pairs) != 1:
        what = "frame_step (input 1)" if step_v is None else "frame_length (input 3)"
        raise ctx.fail(f"{what} must be a compile-time constant: the output shape {list(out)} does not settle it")
    length, step = pairs[0]
    if bins != (length // 2 + 1 if onesided else length):
        raise ctx.fail(f"the output shape {list(out)} has {bins} bins, but frames of {length} samples give "
                       f"{length // 2 + 1 if onesided else length} with onesided={int(onesided)}")
    if step < 1 or length > n_sig or (n_sig - length) // step + 1 != frames:
        raise ctx.fail(f"frame_step {step} and frame_length {length} do not give {frames} frames of {n_sig}")
    elem = ctx.out_type().element_type
    idx = (np.arange(frames)[:, None] * step + np.arange(length)[None, :]).astype(np.int64)
    framed_shape = [shape[0], frames, length, shape[2]]
    x = ctx.emit(nn.GatherOp, [signal, ctx.constant(idx, "frame_taps")], {"axis": int_attr(1)},
                 [TensorType(elem, framed_shape)]).results[0]
    if ctx.has_input(2):
        win = ctx.unary(nn.ReshapeOp, ctx.input(2), out_shape=(1, 1, length, 1))
        x = ctx.emit(nn.MulOp, [x, win], result_types=[TensorType(elem, framed_shape)]).results[0]
    props = {"axis": int_attr(2), "length": int_attr(length), "inverse": BoolAttr.from_bool(False),
             "onesided": BoolAttr.from_bool(onesided)}
    return [ctx.emit(nn.DFTOp, [x], props).results[0]]


def _stft_lengths(ctx: NodeContext, onesided: bool, bins: int) -> list[int]:
    """Candidate frame lengths: frame_length if constant, else the window's length, else what the bin count
    allows (a one-sided spectrum of b bins comes from 2b - 2 or 2b - 1 samples)."""
    v = ctx.maybe_const(3) if ctx.has_input(3) else None
    if v is not None:
        return [int(v.reshape(-1)[0])]
    if ctx.has_input(2):
        return [int(ctx.shape(2)[0])]
    return [2 * bins - 2, 2 * bins - 1] if onesided else [bins]
