"""Quantized ONNX: the QDQ ops (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear) and the QOperator
ops (QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger), decomposed into existing nn ops.

Why decompose: the quantisation a model states then runs on the digital tier exactly as ONNX defines it
(divide by the scale, round half to even, add the zero point, saturate, cast), and every GEMM stays an
nn.matmul / nn.conv in float32 whose weight operand is a compile-time constant, so stage one places it
on any tier like any other GEMM, and that tier applies its own number formats (docs/quantized.md).

The integer GEMMs run on the integer codes minus their zero points, held in float32: every such value and
every partial sum is an integer, exact in float32 while its magnitude stays below 2^24 (8-bit codes reach
that only beyond 513 products of 255 x 128 per output), so MatMulInteger and ConvInteger equal
onnxruntime's int32 accumulation in that range. QLinearMatMul and QLinearConv requantise that accumulator
(plus QLinearConv's int32 bias) with one float32 multiplier per output channel, a_scale * b_scale / y_scale,
which is what onnxruntime computes; dequantising both operands first would only move the same factor
inside the product (the tiers' quantisers are invariant to it: per output column for PIM weights, per
tensor for inputs) at the price of float rounding before the final round half to even.

A constant weight operand is converted to float32 codes here, at import, so the GEMM's weight is an
nn.constant; a DequantizeLinear of a constant (a QDQ model's weights) folds before import into a float
constant equal to (code - zero point) * scale.

The op that turns an activation's integer codes into floats (DequantizeLinear's nn.mul with a constant
per-tensor scale and zero point; the codes minus a constant zero point a QOperator GEMM reads, scale 1)
carries the model's grid as attributes, `h3pc.scale`, `h3pc.zero_point`, `h3pc.code_range`: a PIM tier
whose input DAC is wide enough then steps by that scale (MVMS) instead of re-quantizing the activation
to a range of its own (backends/pim.py, docs/quantized.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import (ArrayAttr, BoolAttr, Float32Type, FloatAttr, IntegerAttr, IntegerType, TensorType,
                                   f64, i64)
from xdsl.ir import Attribute, Operation, SSAValue

from h3pc.backends.pim import CODE_RANGE, SCALE, ZERO_POINT
from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.dialects.types import element_type_from_numpy, element_type_from_onnx, numpy_dtype, onnx_type_name
from h3pc.frontend.node import NodeContext
from h3pc.frontend.ops.gemm import check_not_empty, window_attrs
from h3pc.frontend.registry import importer

F32 = Float32Type()
#: saturation range of each integer code type a quantiser may produce
QRANGE: dict[np.dtype, tuple[int, int]] = {
    np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255),
    np.dtype(np.int16): (-32768, 32767), np.dtype(np.uint16): (0, 65535),
}
CODES = tuple(QRANGE)
BYTE_CODES = (np.dtype(np.int8), np.dtype(np.uint8))
#: ONNX float, float16 and bfloat16: what DequantizeLinear may produce
FLOATS = (1, 10, 16)

#: a scale or zero point: a constant float32 array shaped to broadcast against its tensor, or a run-time value
Param = np.ndarray | SSAValue


# ---------------------------------------------------------------------------------------------
# helpers


def _code_type(ctx: NodeContext, onnx_elem: int, what: str, allowed: Sequence[np.dtype] = CODES) -> np.dtype:
    """The numpy dtype of an integer code tensor, refused by name when it is not one we compute (int4, uint4
    and float8 have no element type here)."""
    et = element_type_from_onnx(onnx_elem)
    dt = numpy_dtype(et) if et is not None else None
    if dt is None or dt not in allowed:
        names = ", ".join(str(d) for d in allowed)
        raise ctx.fail(f"{what} type {onnx_type_name(onnx_elem)} is not supported (supported: {names})")
    return dt


def _out_code_type(ctx: NodeContext, allowed: Sequence[np.dtype] = CODES) -> np.dtype:
    return _code_type(ctx, ctx.imp.graph.types[ctx.node.output[0]][0], "output", allowed)


def _op(ctx: NodeContext, cls: type[Operation], operands: Sequence[SSAValue | None], shape: Sequence[int],
        elem: Attribute = F32, props: dict[str, Attribute] | None = None) -> SSAValue:
    """Emit one intermediate op with an explicit result type (float32 unless said)."""
    return ctx.emit(cls, operands, props, [TensorType(elem, list(shape))]).results[0]


def _f32(ctx: NodeContext, v: SSAValue) -> SSAValue:
    return v if v.type.element_type == F32 else _op(ctx, nn.CastOp, [v], nn.shape_of(v))


def _value(ctx: NodeContext, p: Param, hint: str) -> SSAValue:
    return p if isinstance(p, SSAValue) else ctx.constant(np.asarray(p, np.float32), hint)


def _shape(p: Param) -> tuple[int, ...]:
    return nn.shape_of(p) if isinstance(p, SSAValue) else tuple(p.shape)


def _binary(ctx: NodeContext, cls: type[Operation], a: SSAValue, p: Param, hint: str) -> SSAValue:
    """a (op) p with numpy broadcasting; p becomes a constant when it is one."""
    b = _value(ctx, p, hint)
    return _op(ctx, cls, [a, b], np.broadcast_shapes(nn.shape_of(a), nn.shape_of(b)))


def _is_zero(p: Param | None) -> bool:
    return p is None or (isinstance(p, np.ndarray) and not np.any(p))


def _axis(ctx: NodeContext, axis: int, rank: int, what: str) -> int:
    if not -rank <= axis < rank:
        raise ctx.fail(f"{what} axis {axis} is out of range for input of rank {rank}")
    return axis % rank


def _param(ctx: NodeContext, i: int, x_shape: Sequence[int], axis: int | None, block: int, what: str,
           runtime: bool = True) -> Param | None:
    """Input i (a scale or zero point) as float32, shaped to broadcast against a tensor of `x_shape`: per
    tensor (one value), per `axis` (1-D, one value per slice; None: per tensor only) or, with `block`,
    one value per block of `block` elements along `axis`. A run-time value is accepted when `runtime`;
    anything else is refused by name."""
    if not ctx.has_input(i):
        return None
    arr = ctx.maybe_const(i)
    shape = tuple(ctx.shape(i))
    name = ctx.node.input[i]
    rank = len(x_shape)
    if arr is None and not runtime:
        raise ctx.fail(f"{what} (input {i}, '{name}') must be a compile-time constant")
    if block:
        if block < 0:
            raise ctx.fail(f"block_size {block} must be positive")
        ax = _axis(ctx, axis if axis is not None else 1, rank, "blocked")
        want = list(x_shape)
        want[ax] = -(-x_shape[ax] // block)
        if list(shape) != want:
            raise ctx.fail(f"{what} (input {i}) of shape {list(shape)} does not give blocks of {block} along axis "
                           f"{ax} of {list(x_shape)} (expected {want})")
        if arr is not None:
            full = np.repeat(np.asarray(arr, np.float32), block, axis=ax)
            return np.ascontiguousarray(np.take(full, np.arange(x_shape[ax]), axis=ax))
        return _repeat_blocks(ctx, _f32(ctx, ctx.input(i)), ax, block, x_shape)
    if math.prod(shape) == 1 and len(shape) <= 1:
        target: tuple[int, ...] = ()
    elif axis is not None and len(shape) == 1 and rank and shape[0] == x_shape[_axis(ctx, axis, rank, what)]:
        t = [1] * rank
        t[axis % rank] = shape[0]
        target = tuple(t)
    else:
        per = f"per axis {axis} " if axis is not None else ""
        raise ctx.fail(f"{what} (input {i}) of shape {list(shape)} is neither per tensor nor {per}of the input "
                       f"of shape {list(x_shape)}")
    if arr is not None:
        return np.asarray(arr, np.float32).reshape(target)
    v = _f32(ctx, ctx.input(i))
    return v if shape == target else _op(ctx, nn.ReshapeOp, [v], target)


def _repeat_blocks(ctx: NodeContext, v: SSAValue, ax: int, block: int, x_shape: Sequence[int]) -> SSAValue:
    """A run-time per-block value, one per `block` elements along `ax`, repeated over its block and cut to
    x_shape: reshape in a new axis, broadcast it to the block, merge, slice off the last block's excess."""
    shape = list(nn.shape_of(v))
    split = shape[: ax + 1] + [1] + shape[ax + 1:]
    v = _op(ctx, nn.ReshapeOp, [v], split)
    split[ax + 1] = block
    v = _op(ctx, nn.BroadcastOp, [v], split)
    merged = list(shape)
    merged[ax] = shape[ax] * block
    v = _op(ctx, nn.ReshapeOp, [v], merged)
    if merged[ax] != x_shape[ax]:
        props = {"starts": ints_attr([0] * len(x_shape)), "ends": ints_attr(x_shape),
                 "steps": ints_attr([1] * len(x_shape))}
        v = _op(ctx, nn.SliceOp, [v], x_shape, props=props)
    return v


def _saturate(ctx: NodeContext, q: SSAValue, zp: Param | None, dt: np.dtype, hint: str) -> SSAValue:
    """round(q) + zero point, saturated to dt's range, as dt: the last steps of every ONNX quantiser."""
    shape = nn.shape_of(q)
    q = _op(ctx, nn.RoundOp, [q], shape)
    if not _is_zero(zp):
        q = _binary(ctx, nn.AddOp, q, zp, hint)
    lo, hi = QRANGE[dt]
    q = _op(ctx, nn.ClipOp, [q], nn.shape_of(q), props={"min": float_attr(lo), "max": float_attr(hi)})
    return _op(ctx, nn.CastOp, [q], nn.shape_of(q), element_type_from_numpy(dt))


def _mark_grid(v: SSAValue, scale: float, zero_point: int, dt: np.dtype) -> None:
    """Record on v's op that v = (q - zero_point) * scale with integer codes q in dt's range: the
    activation grid a PIM tier's DAC can step by (backends/pim.py model_input_step)."""
    lo, hi = QRANGE[dt]
    op = v.owner
    assert isinstance(op, Operation)
    op.attributes[SCALE] = FloatAttr(float(scale), f64)
    op.attributes[ZERO_POINT] = IntegerAttr(int(zero_point), i64)
    op.attributes[CODE_RANGE] = ArrayAttr([IntegerAttr(lo, i64), IntegerAttr(hi, i64)])


def _codes(ctx: NodeContext, i: int, zp_i: int, axis: int | None, what: str) -> SSAValue:
    """Integer input i minus its zero point (input zp_i; per tensor, or per `axis`), as float32 codes. A
    constant input with a constant zero point becomes one float32 constant: a GEMM's weight operand; a
    run-time one with a constant per-tensor zero point is marked as codes on the grid of step 1."""
    shape = ctx.shape(i)
    ax = axis if len(shape) >= 2 else None  # a vector has no rows or columns: per tensor only
    zp = _param(ctx, zp_i, shape, ax, 0, f"{what} zero point")
    arr = ctx.maybe_const(i)
    if arr is not None and not isinstance(zp, SSAValue):
        codes = arr.astype(np.float32) - (np.float32(0) if zp is None else zp)
        return ctx.constant(codes.astype(np.float32), what)
    x = _f32(ctx, ctx.input(i))
    y = x if _is_zero(zp) else _binary(ctx, nn.SubOp, x, zp, f"{what}_zero_point")
    dt = np.dtype(numpy_dtype(ctx.input(i).type.element_type))
    if dt in QRANGE and not isinstance(zp, SSAValue) and (zp is None or zp.size == 1):
        _mark_grid(y, 1.0, 0 if zp is None else int(zp.reshape(())), dt)
    return y


def _quant_attrs(ctx: NodeContext) -> tuple[int, int]:
    """(axis, block_size) of QuantizeLinear / DequantizeLinear; per-axis scales exist from opset 13."""
    return int(ctx.attr("axis", 1)), int(ctx.attr("block_size", 0))


def _conv_props(ctx: NodeContext, w_i: int) -> dict[str, Attribute]:
    """Conv attributes of ConvInteger / QLinearConv (x is input 0, the weight input w_i), checked as Conv's."""
    x, w = ctx.shape(0), ctx.shape(w_i)
    kernel = list(ctx.attr("kernel_shape", w[2:]))
    if len(w) != len(x) or tuple(kernel) != tuple(w[2:]):
        raise ctx.fail(f"weight {list(w)} does not match input {list(x)} and kernel_shape {kernel}")
    strides, pads, dilations = window_attrs(ctx, kernel)
    group = int(ctx.attr("group", 1))
    if group < 1 or x[1] % group or w[0] % group or w[1] * group != x[1]:
        raise ctx.fail(f"weight {list(w)} does not fit input channels {x[1]} with group {group}")
    return {"strides": ints_attr(strides), "pads": ints_attr(pads), "dilations": ints_attr(dilations),
            "group": int_attr(group)}


def _arith(ctx: NodeContext, cls: type[Operation], p: Param, q: Param, hint: str) -> Param:
    """p (op) q for nn.mul / nn.div: in numpy float32 when both are constants (the same rounding as the
    ops), else as an op."""
    if isinstance(p, np.ndarray) and isinstance(q, np.ndarray):
        return (p * q if cls is nn.MulOp else p / q).astype(np.float32)
    a, b = _value(ctx, p, hint), _value(ctx, q, hint)
    return _op(ctx, cls, [a, b], np.broadcast_shapes(nn.shape_of(a), nn.shape_of(b)))


def _multiplier(ctx: NodeContext, a_s: Param, b_s: Param, y_s: Param) -> Param:
    """onnxruntime's requantisation multiplier, (a_scale * b_scale) / y_scale in float32, in that order."""
    return _arith(ctx, nn.DivOp, _arith(ctx, nn.MulOp, a_s, b_s, "scale"), y_s, "y_scale")


# ---------------------------------------------------------------------------------------------
# QDQ


@importer("QuantizeLinear", to=["nn.div", "nn.round", "nn.add", "nn.clip", "nn.cast"],
          note="per tensor, per axis, blocked (block_size); int8/uint8/int16/uint16 (int4, float8 refused); "
               "scale and zero point constant or run-time")
def quantize_linear(ctx: NodeContext) -> list:
    """y = saturate(round_half_even(x / y_scale) + y_zero_point), the output type the zero point's (or
    output_dtype's, else uint8)."""
    dt = _out_code_type(ctx)
    if int(ctx.attr("precision", 0)):
        raise ctx.fail("the 'precision' attribute is not supported")
    x_shape = ctx.shape(0)
    axis, block = _quant_attrs(ctx)
    scale = _param(ctx, 1, x_shape, axis, block, "y_scale")
    zp = _param(ctx, 2, x_shape, axis, block, "y_zero_point")
    q = _binary(ctx, nn.DivOp, _f32(ctx, ctx.input(0)), scale, "y_scale")
    return [_saturate(ctx, q, zp, dt, "y_zero_point")]


@importer("DequantizeLinear", to=["nn.cast", "nn.sub", "nn.mul"],
          note="per tensor, per axis, blocked; int8/uint8/int16/uint16/int32 codes; of a constant: folded "
               "into a float constant before import")
def dequantize_linear(ctx: NodeContext) -> list:
    """y = (x - x_zero_point) * x_scale, in float32, then the scale's (or output_dtype's) float type."""
    src = _code_type(ctx, ctx.elem(0), "input", CODES + (np.dtype(np.int32),))
    out_type = ctx.out_type()
    out_elem = ctx.imp.graph.types[ctx.node.output[0]][0]
    if out_elem not in FLOATS:
        raise ctx.fail(f"output type {onnx_type_name(out_elem)} is not supported (float, float16, bfloat16)")
    x_shape = ctx.shape(0)
    axis, block = _quant_attrs(ctx)
    scale = _param(ctx, 1, x_shape, axis, block, "x_scale")
    zp = _param(ctx, 2, x_shape, axis, block, "x_zero_point")
    if src == np.int32 and not _is_zero(zp):
        raise ctx.fail("int32 input with a non-zero x_zero_point (ONNX defines none for int32)")
    y = _f32(ctx, ctx.input(0))
    if not _is_zero(zp):
        y = _binary(ctx, nn.SubOp, y, zp, "x_zero_point")
    y = _binary(ctx, nn.MulOp, y, scale, "x_scale")
    if out_type.element_type != F32:
        return [_op(ctx, nn.CastOp, [y], nn.shape_of(y), out_type.element_type)]
    per_tensor = isinstance(scale, np.ndarray) and scale.size == 1 and (zp is None or isinstance(zp, np.ndarray)
                                                                         and zp.size == 1)
    if per_tensor and src in QRANGE and ctx.maybe_const(0) is None:  # an activation on one grid
        _mark_grid(y, float(scale.reshape(())), 0 if zp is None else int(zp.reshape(())), src)
    return [y]


@importer("DynamicQuantizeLinear", to=["nn.reduce_max", "nn.reduce_min", "nn.max", "nn.min", "nn.div",
                                       "nn.where", "nn.round", "nn.clip", "nn.cast"],
          note="uint8; scale 1 when the range is empty, as onnxruntime")
def dynamic_quantize_linear(ctx: NodeContext) -> list:
    """y_scale = (max(0, max x) - min(0, min x)) / 255 (1 if that is 0, as onnxruntime), y_zero_point =
    round(clip(-min / y_scale, 0, 255)), y = saturate(round(x / y_scale) + y_zero_point), all uint8."""
    x_shape = ctx.shape(0)
    if 0 in x_shape:
        raise ctx.fail(f"input of shape {list(x_shape)} is empty: its range is undefined")
    x = _f32(ctx, ctx.input(0))
    ones = [1] * len(x_shape)
    all_axes = {"axes": ints_attr([]), "keepdims": BoolAttr.from_bool(True)}
    hi = _op(ctx, nn.ReduceMaxOp, [x], ones, props=all_axes)
    lo = _op(ctx, nn.ReduceMinOp, [x], ones, props=all_axes)
    zero = np.zeros((), np.float32)
    hi = _binary(ctx, nn.MaxOp, hi, zero, "zero")
    lo = _binary(ctx, nn.MinOp, lo, zero, "zero")
    span = _op(ctx, nn.SubOp, [hi, lo], ones)
    scale = _binary(ctx, nn.DivOp, span, np.float32(255), "levels")
    empty = _op(ctx, nn.EqualOp, [span, ctx.constant(zero, "zero")], ones, IntegerType(1))
    scale = _op(ctx, nn.WhereOp, [empty, ctx.constant(np.ones((), np.float32), "one"), scale], ones)
    zp = _op(ctx, nn.NegOp, [_op(ctx, nn.DivOp, [lo, scale], ones)], ones)
    zp = _op(ctx, nn.ClipOp, [zp], ones, props={"min": float_attr(0), "max": float_attr(255)})
    zp = _op(ctx, nn.RoundOp, [zp], ones)
    y = _saturate(ctx, _op(ctx, nn.DivOp, [x, scale], x_shape), zp, np.dtype(np.uint8), "y_zero_point")
    scale_out = _op(ctx, nn.ReshapeOp, [scale], ())
    zp_out = _op(ctx, nn.CastOp, [_op(ctx, nn.ReshapeOp, [zp], ())], (), element_type_from_numpy(np.dtype(np.uint8)))
    return [y, scale_out, zp_out]


# ---------------------------------------------------------------------------------------------
# QOperator


@importer("MatMulInteger", to=["nn.cast", "nn.sub", "nn.matmul"],
          note="int8/uint8, zero points per tensor, per row of A, per column of B; float32 GEMM, exact while "
               "|sums| < 2^24; result int32")
def matmul_integer(ctx: NodeContext) -> list:
    """(A - a_zero_point) @ (B - b_zero_point) as int32; a constant B becomes the GEMM's float32 weight."""
    check_not_empty(ctx, 0, 1)
    for i in (0, 1):
        _code_type(ctx, ctx.elem(i), f"input {i}", BYTE_CODES)
    a = _codes(ctx, 0, 2, -2, "a")
    b = _codes(ctx, 1, 3, -1, "b")
    acc = _op(ctx, nn.MatMulOp, [a, b], ctx.out_shape())
    return [ctx.emit(nn.CastOp, [acc]).results[0]]


@importer("ConvInteger", to=["nn.cast", "nn.sub", "nn.conv"],
          note="int8/uint8, x zero point per tensor, w per tensor or per output channel; float32 conv, exact "
               "while |sums| < 2^24; result int32")
def conv_integer(ctx: NodeContext) -> list:
    """conv(x - x_zero_point, w - w_zero_point) as int32; padding is zero after the zero point is taken off,
    i.e. the zero point in codes, as onnxruntime pads."""
    check_not_empty(ctx, 0, 1)
    for i in (0, 1):
        _code_type(ctx, ctx.elem(i), f"input {i}", BYTE_CODES)
    props = _conv_props(ctx, 1)
    x = _codes(ctx, 0, 2, None, "x")
    w = _codes(ctx, 1, 3, 0, "w")
    acc = _op(ctx, nn.ConvOp, [x, w, None], ctx.out_shape(), props=props)
    return [ctx.emit(nn.CastOp, [acc]).results[0]]


@importer("QLinearMatMul", to=["nn.cast", "nn.sub", "nn.matmul", "nn.mul", "nn.round", "nn.add", "nn.clip"],
          note="int8/uint8; a per tensor or per row, b per tensor or per column; scales and zero points "
               "constant or run-time; requantised with a_scale * b_scale / y_scale as onnxruntime")
def qlinear_matmul(ctx: NodeContext) -> list:
    """saturate(round((a - a_zp) @ (b - b_zp) * (a_scale * b_scale / y_scale)) + y_zp)."""
    check_not_empty(ctx, 0, 3)
    dt = _out_code_type(ctx, BYTE_CODES)
    for i in (0, 3):
        _code_type(ctx, ctx.elem(i), f"input {i}", BYTE_CODES)
    a_shape, b_shape, y_shape = ctx.shape(0), ctx.shape(3), ctx.out_shape()
    a_s = _param(ctx, 1, a_shape, -2 if len(a_shape) >= 2 else None, 0, "a_scale")
    b_s = _param(ctx, 4, b_shape, -1 if len(b_shape) >= 2 else None, 0, "b_scale")
    y_s = _param(ctx, 6, y_shape, None, 0, "y_scale")
    y_zp = _param(ctx, 7, y_shape, None, 0, "y_zero_point")
    acc = _op(ctx, nn.MatMulOp, [_codes(ctx, 0, 2, -2, "a"), _codes(ctx, 3, 5, -1, "b")], y_shape)
    mult = _multiplier(ctx, a_s, b_s, y_s)
    return [_saturate(ctx, _binary(ctx, nn.MulOp, acc, mult, "multiplier"), y_zp, dt, "y_zero_point")]


@importer("QLinearConv", to=["nn.cast", "nn.sub", "nn.conv", "nn.mul", "nn.round", "nn.add", "nn.clip"],
          note="int8/uint8; w per tensor or per output channel; int32 bias; scales constant or run-time; "
               "requantised with x_scale * w_scale / y_scale as onnxruntime")
def qlinear_conv(ctx: NodeContext) -> list:
    """saturate(round((conv(x - x_zp, w - w_zp) + B) * (x_scale * w_scale / y_scale)) + y_zp)."""
    check_not_empty(ctx, 0, 3)
    dt = _out_code_type(ctx, BYTE_CODES)
    for i in (0, 3):
        _code_type(ctx, ctx.elem(i), f"input {i}", BYTE_CODES)
    props = _conv_props(ctx, 3)
    x_shape, w_shape, y_shape = ctx.shape(0), ctx.shape(3), ctx.out_shape()
    x_s = _param(ctx, 1, x_shape, None, 0, "x_scale")
    w_s = _param(ctx, 4, w_shape, 0, 0, "w_scale")
    per_channel = [1, w_shape[0]] + [1] * (len(y_shape) - 2) if math.prod(_shape(w_s)) > 1 else []
    w_s = w_s.reshape(per_channel) if isinstance(w_s, np.ndarray) else _op(ctx, nn.ReshapeOp, [w_s], per_channel)
    y_s = _param(ctx, 6, y_shape, None, 0, "y_scale")
    y_zp = _param(ctx, 7, y_shape, None, 0, "y_zero_point")
    bias = None
    if ctx.has_input(8):
        _code_type(ctx, ctx.elem(8), "bias", (np.dtype(np.int32),))
        if ctx.shape(8) != (w_shape[0],):
            raise ctx.fail(f"bias of shape {list(ctx.shape(8))}, expected [{w_shape[0]}]")
        b = ctx.maybe_const(8)
        bias = ctx.constant(b.astype(np.float32), "bias") if b is not None else _f32(ctx, ctx.input(8))
    x = _codes(ctx, 0, 2, None, "x")
    w = _codes(ctx, 3, 5, 0, "w")
    acc = _op(ctx, nn.ConvOp, [x, w, bias], y_shape, props=props)
    mult = _multiplier(ctx, x_s, w_s, y_s)
    return [_saturate(ctx, _binary(ctx, nn.MulOp, acc, mult, "multiplier"), y_zp, dt, "y_zero_point")]
