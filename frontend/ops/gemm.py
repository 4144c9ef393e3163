"""GEMM-like ops: MatMul, Gemm, Conv, ConvTranspose (what stage one splits across tiers), CausalConvWithState
(a conv), and Einsum, Det and DeformConv, which run on the digital tier."""

from __future__ import annotations

from xdsl.dialects.builtin import BoolAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer


def check_not_empty(ctx: NodeContext, *inputs: int) -> None:
    """The tiers and the emulator have no zero-size matrix: an empty operand is refused here, by name,
    rather than compiled into a program that fails (or divides by zero) later."""
    for i in inputs:
        if ctx.has_input(i) and 0 in ctx.shape(i):
            raise ctx.fail(f"input {i} ('{ctx.node.input[i]}') is empty (shape {list(ctx.shape(i))}); zero-size "
                           "operands are not supported")


@importer("MatMul", to=["nn.matmul"], note="batched, broadcasting; dynamic x dynamic allowed")
def matmul(ctx: NodeContext) -> list:
    check_not_empty(ctx, 0, 1)
    return [ctx.emit(nn.MatMulOp, [ctx.input(0), ctx.input(1)]).results[0]]


@importer("Gemm", to=["nn.gemm"], note="alpha, beta, transA, transB, optional C")
def gemm(ctx: NodeContext) -> list:
    check_not_empty(ctx, 0, 1, 2)
    props = {
        "alpha": float_attr(ctx.attr("alpha", 1.0)),
        "beta": float_attr(ctx.attr("beta", 1.0)),
        "trans_a": BoolAttr.from_bool(bool(ctx.attr("transA", 0))),
        "trans_b": BoolAttr.from_bool(bool(ctx.attr("transB", 0))),
    }
    return [ctx.emit(nn.GemmOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]]


def same_pads(in_sizes, kernel, strides, dilations, mode: str) -> list[int]:
    """Explicit [begin..., end...] pads for auto_pad SAME_UPPER/SAME_LOWER (output = ceil(in / stride))."""
    begin, end = [], []
    for n, k, s, d in zip(in_sizes, kernel, strides, dilations):
        out = -(-n // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        small, big = total // 2, total - total // 2
        begin.append(small if mode == "SAME_UPPER" else big)
        end.append(big if mode == "SAME_UPPER" else small)
    return begin + end


def window_attrs(ctx: NodeContext, kernel: list[int]) -> tuple[list[int], list[int], list[int]]:
    """strides, pads, dilations of a conv/pool node with auto_pad resolved."""
    nsp = len(kernel)
    strides = list(ctx.attr("strides", [1] * nsp))
    dilations = list(ctx.attr("dilations", [1] * nsp))
    auto = ctx.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = same_pads(ctx.shape(0)[2:], kernel, strides, dilations, auto)
    elif auto == "VALID":
        pads = [0] * (2 * nsp)
    elif auto == "NOTSET":
        pads = list(ctx.attr("pads", [0] * (2 * nsp)))
    else:
        raise ctx.fail(f"unknown auto_pad '{auto}'")
    check_window(ctx, kernel, strides, pads, dilations)
    return strides, pads, dilations


def check_positive(ctx: NodeContext, nsp: int, **values: list[int]) -> None:
    """kernel_shape, strides, dilations: one value >= 1 per spatial axis."""
    for name, vals in values.items():
        if len(vals) != nsp or any(v < 1 for v in vals):
            raise ctx.fail(f"{name} {list(vals)} must be {nsp} value(s) >= 1 (one per spatial axis)")


def check_window(ctx: NodeContext, kernel: list[int], strides: list[int], pads: list[int],
                 dilations: list[int]) -> None:
    """A sliding window the runtime can run: sane attributes, and a (dilated) kernel no larger than the
    padded input on any axis (ONNX shape inference then gives a zero or negative output size)."""
    x = ctx.shape(0)
    nsp = len(x) - 2
    if nsp < 1:
        raise ctx.fail(f"input of shape {list(x)} has no spatial axis")
    check_positive(ctx, nsp, kernel_shape=kernel, strides=strides, dilations=dilations)
    if len(pads) != 2 * nsp or any(p < 0 for p in pads):
        raise ctx.fail(f"pads {list(pads)} must be {2 * nsp} non-negative values")
    for i in range(nsp):
        span = dilations[i] * (kernel[i] - 1) + 1
        padded = x[2 + i] + pads[i] + pads[nsp + i]
        if span > padded:
            what = f"kernel {list(kernel)}" + (f" (dilated to {span})" if span != kernel[i] else "")
            raise ctx.fail(f"{what} is larger than the padded input on spatial axis {i} ({x[2 + i]} + pads "
                           f"{pads[i]}+{pads[nsp + i]} = {padded})")


def check_groups(ctx: NodeContext, group: int, c_in: int, c_out: int, w_in: int, transposed: bool) -> None:
    """`group` must divide both channel counts and match the weight's per-group channels."""
    if group < 1:
        raise ctx.fail(f"group {group} must be >= 1")
    if c_in % group or c_out % group:
        raise ctx.fail(f"group {group} does not divide the channels (in {c_in}, out {c_out})")
    if w_in * (1 if transposed else group) != c_in:
        raise ctx.fail(f"weight {list(ctx.shape(1))} does not fit input channels {c_in} with group {group}")


@importer("Conv", to=["nn.conv"], note="groups, dilations, strides, pads, auto_pad; 1-D to 3-D")
def conv(ctx: NodeContext) -> list:
    check_not_empty(ctx, 0, 1, 2)
    x, w = ctx.shape(0), ctx.shape(1)
    kernel = list(ctx.attr("kernel_shape", w[2:]))
    if len(w) != len(x) or tuple(kernel) != tuple(w[2:]):
        raise ctx.fail(f"weight {list(w)} does not match input {list(x)} and kernel_shape {kernel}")
    strides, pads, dilations = window_attrs(ctx, kernel)
    group = ctx.attr("group", 1)
    check_groups(ctx, group, x[1], w[0], w[1], transposed=False)
    props = {"strides": ints_attr(strides), "pads": ints_attr(pads), "dilations": ints_attr(dilations),
             "group": int_attr(group)}
    return [ctx.emit(nn.ConvOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]]


@importer("ConvTranspose", to=["nn.conv_transpose"], note="output_shape/auto_pad resolved to pads")
def conv_transpose(ctx: NodeContext) -> list:
    check_not_empty(ctx, 0, 1, 2)
    x, w = ctx.shape(0), ctx.shape(1)
    nsp = len(x) - 2
    kernel = list(ctx.attr("kernel_shape", w[2:]))
    strides = list(ctx.attr("strides", [1] * nsp))
    dilations = list(ctx.attr("dilations", [1] * nsp))
    out_pad = list(ctx.attr("output_padding", [0] * nsp))
    if nsp < 1 or len(w) != len(x) or tuple(kernel) != tuple(w[2:]):
        raise ctx.fail(f"weight {list(w)} does not match input {list(x)} and kernel_shape {kernel}")
    check_positive(ctx, nsp, kernel_shape=kernel, strides=strides, dilations=dilations)
    group = ctx.attr("group", 1)
    check_groups(ctx, group, x[1], w[1] * max(group, 1), w[0], transposed=True)
    if 0 in ctx.out_shape() or any(d < 0 for d in ctx.out_shape()):
        raise ctx.fail(f"output shape {list(ctx.out_shape())} is empty")
    auto = ctx.attr("auto_pad", "NOTSET")
    out = ctx.out_shape()[2:]
    if ctx.attr("output_shape") is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(nsp):
            total = strides[i] * (x[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1 - out[i]
            half = total // 2
            if auto == "SAME_UPPER":
                begin.append(half)
                end.append(total - half)
            else:
                begin.append(total - half)
                end.append(half)
        pads = begin + end
    elif auto == "VALID":
        pads = [0] * (2 * nsp)
    else:
        pads = list(ctx.attr("pads", [0] * (2 * nsp)))
    props = {"strides": ints_attr(strides), "pads": ints_attr(pads), "dilations": ints_attr(dilations),
             "group": int_attr(group), "output_padding": ints_attr(out_pad)}
    return [ctx.emit(nn.ConvTransposeOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]]


@importer("Einsum", to=["nn.einsum"], note="explicit or implicit output, '...' broadcast; runs on the digital tier")
def einsum(ctx: NodeContext) -> list:
    from xdsl.dialects.builtin import StringAttr

    eq = str(ctx.attr("equation", "")).replace(" ", "")
    shapes = [ctx.shape(i) for i in range(ctx.num_inputs)]
    why = nn.einsum_shape(eq, shapes)
    if isinstance(why, str):
        raise ctx.fail(f"equation '{eq}': {why}")
    ins = [ctx.input(i) for i in range(ctx.num_inputs)]
    return [ctx.emit(nn.EinsumOp, ins, {"equation": StringAttr(eq)}).results[0]]


@importer("Det", to=["nn.det"], note="[*, M, M] -> [*]; runs on the digital tier")
def det(ctx: NodeContext) -> list:
    return [ctx.emit(nn.DetOp, [ctx.input(0)]).results[0]]


@importer("CausalConvWithState", to=["nn.concat", "nn.pad", "nn.conv", "nn.swish", "nn.slice"],
          note="opset 27: its definition, a depthwise conv over [past_state, input]; silu/swish; present_state")
def causal_conv_with_state(ctx: NodeContext) -> list:
    import numpy as np
    from xdsl.dialects.builtin import StringAttr, TensorType

    check_not_empty(ctx, 0, 1)
    x, w = ctx.shape(0), ctx.shape(1)
    if len(x) != 3 or len(w) != 3 or w[0] != x[1] or w[1] != 1:
        raise ctx.fail(f"input {list(x)} and weight {list(w)} must be [B, C, L] and [C, 1, k]")
    act = ctx.attr("activation", "none")
    if act not in ("none", "silu", "swish"):
        raise ctx.fail(f"unknown activation '{act}'")
    b, c, n = x
    k = w[2]
    elem = ctx.out_type(0).element_type
    padded_shape = [b, c, n + k - 1]
    if ctx.has_input(3):
        if ctx.shape(3) != (b, c, k - 1):
            raise ctx.fail(f"past_state of shape {list(ctx.shape(3))}, expected {[b, c, k - 1]}")
        padded = ctx.emit(nn.ConcatOp, [ctx.input(3), ctx.input(0)], {"axis": int_attr(2)},
                          [TensorType(elem, padded_shape)]).results[0] if k > 1 else ctx.input(0)
    elif k > 1:
        props = {"pads": ints_attr([0, 0, k - 1, 0, 0, 0]), "mode": StringAttr("constant"), "value": float_attr(0.0)}
        padded = ctx.unary(nn.PadOp, ctx.input(0), props, out_shape=padded_shape)
    else:
        padded = ctx.input(0)
    props = {"strides": ints_attr([1]), "pads": ints_attr([0, 0]), "dilations": ints_attr([1]), "group": int_attr(c)}
    y = ctx.emit(nn.ConvOp, [padded, ctx.input(1), ctx.opt_input(2)], props,
                 [TensorType(elem, [b, c, n])]).results[0]
    if act != "none":
        y = ctx.unary(nn.SwishOp, y, {"alpha": float_attr(1.0)}, out_shape=(b, c, n))
    outs = [y]
    if len(ctx.node.output) > 1 and ctx.node.output[1]:
        if k == 1:
            from h3pc.dialects.types import numpy_dtype

            outs.append(ctx.constant(np.zeros((b, c, 0), numpy_dtype(elem)), "present_state"))
        else:
            props = {"starts": ints_attr([0, 0, n]), "ends": ints_attr([b, c, n + k - 1]),
                     "steps": ints_attr([1, 1, 1])}
            outs.append(ctx.unary(nn.SliceOp, padded, props, out_shape=(b, c, k - 1)))
    return outs


@importer("DeformConv", to=["nn.deform_conv"], note="2-D; offset groups, optional bias and mask; digital tier")
def deform_conv(ctx: NodeContext) -> list:
    import numpy as np

    from h3pc.dialects.types import numpy_dtype

    check_not_empty(ctx, 0, 1, 2)
    x, w = ctx.shape(0), ctx.shape(1)
    if len(x) != 4 or len(w) != 4:
        raise ctx.fail(f"input {list(x)} and weight {list(w)} must be 4-D (only 2-D deformable convolution)")
    kernel = list(ctx.attr("kernel_shape", w[2:]))
    if tuple(kernel) != tuple(w[2:]):
        raise ctx.fail(f"kernel_shape {kernel} does not match the weight {list(w)}")
    strides = list(ctx.attr("strides", [1, 1]))
    pads = list(ctx.attr("pads", [0, 0, 0, 0]))
    dilations = list(ctx.attr("dilations", [1, 1]))
    group, og = int(ctx.attr("group", 1)), int(ctx.attr("offset_group", 1))
    out = ctx.out_shape()
    dt = numpy_dtype(ctx.out_type().element_type)
    b = ctx.input(3) if ctx.has_input(3) else ctx.constant(np.zeros(w[0], dt), "no_bias")
    taps = w[2] * w[3]
    mask = (ctx.input(4) if ctx.has_input(4)
            else ctx.constant(np.ones((x[0], og * taps) + tuple(out[2:]), dt), "no_mask"))
    props = {"strides": ints_attr(strides), "pads": ints_attr(pads), "dilations": ints_attr(dilations),
             "group": int_attr(group), "offset_group": int_attr(og)}
    return [ctx.emit(nn.DeformConvOp, [ctx.input(0), ctx.input(1), ctx.input(2), b, mask], props).results[0]]
