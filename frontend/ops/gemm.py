"""GEMM-like ops: MatMul, Gemm, Conv, ConvTranspose. These are what stage one splits across tiers."""

from __future__ import annotations

from xdsl.dialects.builtin import BoolAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.frontend.importer import NodeContext
from h3pc.frontend.registry import importer


@importer("MatMul", to=["nn.matmul"], note="batched, broadcasting; dynamic x dynamic allowed")
def matmul(ctx: NodeContext) -> list:
    return [ctx.emit(nn.MatMulOp, [ctx.input(0), ctx.input(1)]).results[0]]


@importer("Gemm", to=["nn.gemm"], note="alpha, beta, transA, transB, optional C")
def gemm(ctx: NodeContext) -> list:
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
    return strides, pads, dilations


@importer("Conv", to=["nn.conv"], note="groups, dilations, strides, pads, auto_pad; 1-D to 3-D")
def conv(ctx: NodeContext) -> list:
    kernel = list(ctx.attr("kernel_shape", ctx.shape(1)[2:]))
    strides, pads, dilations = window_attrs(ctx, kernel)
    props = {"strides": ints_attr(strides), "pads": ints_attr(pads), "dilations": ints_attr(dilations),
             "group": int_attr(ctx.attr("group", 1))}
    return [ctx.emit(nn.ConvOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]]


@importer("ConvTranspose", to=["nn.conv_transpose"], note="output_shape/auto_pad resolved to pads")
def conv_transpose(ctx: NodeContext) -> list:
    x, w = ctx.shape(0), ctx.shape(1)
    nsp = len(x) - 2
    kernel = list(ctx.attr("kernel_shape", w[2:]))
    strides = list(ctx.attr("strides", [1] * nsp))
    dilations = list(ctx.attr("dilations", [1] * nsp))
    out_pad = list(ctx.attr("output_padding", [0] * nsp))
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
             "group": int_attr(ctx.attr("group", 1)), "output_padding": ints_attr(out_pad)}
    return [ctx.emit(nn.ConvTransposeOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]]
