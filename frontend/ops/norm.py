"""Normalisation and softmax: Batch/Layer/RMS/Instance/Group/Lp/MeanVariance normalisation, (Log)Softmax,
Hardmax, LRN."""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import BoolAttr, TensorType

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer


def _only_first_output(ctx: NodeContext, what: str) -> None:
    if any(o for o in ctx.node.output[1:]):
        raise ctx.fail(f"{what} (outputs beyond the first) are not supported")


@importer("BatchNormalization", to=["nn.batch_norm"], note="inference mode")
def batch_norm(ctx: NodeContext) -> list:
    _only_first_output(ctx, "training-mode outputs")
    if ctx.attr("training_mode", 0):
        raise ctx.fail("training_mode=1 is not supported")
    ops = [ctx.input(i) for i in range(5)]
    return [ctx.emit(nn.BatchNormOp, ops, {"epsilon": float_attr(ctx.attr("epsilon", 1e-5))}).results[0]]


@importer("LayerNormalization", to=["nn.layer_norm", "nn.reduce_mean", "nn.sub", "nn.mul", "nn.sqrt", "nn.reciprocal"],
          note="the Mean and InvStdDev outputs as reductions in the stash type")
def layer_norm(ctx: NodeContext) -> list:
    props = {"axis": int_attr(ctx.attr("axis", -1)), "epsilon": float_attr(ctx.attr("epsilon", 1e-5))}
    y = ctx.emit(nn.LayerNormOp, [ctx.input(0), ctx.input(1), ctx.opt_input(2)], props).results[0]
    if not any(ctx.output_used(i) for i in (1, 2)):
        return [y]
    return [y, *_layer_norm_stats(ctx)]


def _layer_norm_stats(ctx: NodeContext) -> list:
    """Mean and 1 / sqrt(var + epsilon) over dims [axis, rank), in the outputs' (stash) element type."""
    shape = ctx.shape(0)
    rank = len(shape)
    axis = ctx.attr("axis", -1) % rank
    elem = ctx.out_type(1).element_type if ctx.node.output[1] else ctx.out_type(2).element_type
    x = ctx.input(0)
    if x.type.element_type != elem:
        x = ctx.unary(nn.CastOp, x, out_elem=elem)
    kept = tuple(shape[:axis]) + (1,) * (rank - axis)
    props = {"axes": ints_attr(list(range(axis, rank))), "keepdims": BoolAttr.from_bool(True)}
    mean = ctx.unary(nn.ReduceMeanOp, x, props, out_shape=kept)
    full = TensorType(elem, list(shape))
    centred = ctx.emit(nn.SubOp, [x, mean], result_types=[full]).results[0]
    sq = ctx.emit(nn.MulOp, [centred, centred], result_types=[full]).results[0]
    var = ctx.unary(nn.ReduceMeanOp, sq, props, out_shape=kept)
    eps = ctx.constant(np.asarray(ctx.attr("epsilon", 1e-5), numpy_dtype(elem)), "epsilon")
    var = ctx.emit(nn.AddOp, [var, eps], result_types=[mean.type]).results[0]
    inv = ctx.unary(nn.ReciprocalOp, ctx.unary(nn.SqrtOp, var, out_shape=kept), out_shape=kept)
    return [mean, inv]


@importer("RMSNormalization", to=["nn.rms_norm"], note="opset 23")
def rms_norm(ctx: NodeContext) -> list:
    props = {"axis": int_attr(ctx.attr("axis", -1)), "epsilon": float_attr(ctx.attr("epsilon", 1e-5))}
    return [ctx.emit(nn.RMSNormOp, [ctx.input(0), ctx.input(1), None], props).results[0]]


@importer("Softmax", "LogSoftmax", to=["nn.softmax", "nn.log_softmax"],
          note="opset < 13 (flatten-to-2-D) semantics rewritten with reshapes")
def softmax(ctx: NodeContext) -> list:
    cls = nn.SoftmaxOp if ctx.node.op_type == "Softmax" else nn.LogSoftmaxOp
    shape = ctx.shape(0)
    rank = len(shape)
    if ctx.opset >= 13:
        axis = ctx.attr("axis", -1) % max(rank, 1)
        if rank and shape[axis] == 0:  # the runtime's max over an empty row has no value
            raise ctx.fail(f"normalises axis {axis} of input shape {list(shape)}, which is empty")
        return [ctx.emit(cls, [ctx.input(0)], {"axis": int_attr(axis)}).results[0]]
    axis = ctx.attr("axis", 1) % max(rank, 1)
    if 0 in shape[axis:]:
        raise ctx.fail(f"normalises axes {axis}.. of input shape {list(shape)}, which are empty")
    if all(d == 1 for d in shape[axis + 1 :]) or axis == rank - 1:
        # the flattened row is exactly one axis: same as per-axis softmax on it
        return [ctx.emit(cls, [ctx.input(0)], {"axis": int_attr(axis)}).results[0]]
    flat = (math.prod(shape[:axis]), math.prod(shape[axis:]))
    x = ctx.unary(nn.ReshapeOp, out_shape=flat)
    y = ctx.unary(cls, x, {"axis": int_attr(1)}, out_shape=flat)
    return [ctx.unary(nn.ReshapeOp, y)]


@importer("LRN", to=["nn.lrn"])
def lrn(ctx: NodeContext) -> list:
    size = ctx.attr("size")
    if size is None or size < 1:
        raise ctx.fail(f"size {size} must be >= 1")
    props = {"size": int_attr(size), "alpha": float_attr(ctx.attr("alpha", 1e-4)),
             "beta": float_attr(ctx.attr("beta", 0.75)), "bias": float_attr(ctx.attr("bias", 1.0))}
    return [ctx.emit(nn.LRNOp, [ctx.input(0)], props).results[0]]


@importer("Hardmax", to=["nn.hardmax"], note="opset < 13 (flatten-to-2-D) semantics rewritten with reshapes")
def hardmax(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    rank = len(shape)
    if 0 in shape:
        raise ctx.fail(f"input shape {list(shape)} is empty")
    if ctx.opset >= 13:
        return [ctx.emit(nn.HardmaxOp, [ctx.input(0)], {"axis": int_attr(ctx.attr("axis", -1) % rank)}).results[0]]
    axis = ctx.attr("axis", 1) % rank
    flat = (math.prod(shape[:axis]), math.prod(shape[axis:]))
    x = ctx.unary(nn.ReshapeOp, out_shape=flat)
    y = ctx.unary(nn.HardmaxOp, x, {"axis": int_attr(1)}, out_shape=flat)
    return [ctx.unary(nn.ReshapeOp, y)]


@importer("LpNormalization", to=["nn.lp_norm"], note="p = 1 or 2")
def lp_norm(ctx: NodeContext) -> list:
    p = ctx.attr("p", 2)
    if p not in (1, 2):
        raise ctx.fail(f"p={p} is not supported (ONNX allows 1 or 2)")
    props = {"axis": int_attr(ctx.attr("axis", -1) % len(ctx.shape(0))), "p": int_attr(p)}
    return [ctx.emit(nn.LpNormOp, [ctx.input(0)], props).results[0]]


@importer("InstanceNormalization", to=["nn.instance_norm"])
def instance_norm(ctx: NodeContext) -> list:
    ops = [ctx.input(i) for i in range(3)]
    return [ctx.emit(nn.InstanceNormOp, ops, {"epsilon": float_attr(ctx.attr("epsilon", 1e-5))}).results[0]]


@importer("MeanVarianceNormalization", to=["nn.reduce_mean", "nn.mul", "nn.sub", "nn.sqrt", "nn.add", "nn.div"],
          note="its ONNX function body: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)")
def mean_variance_norm(ctx: NodeContext) -> list:
    x = ctx.input(0)
    shape = ctx.shape(0)
    axes = sorted(a % len(shape) for a in ctx.attr("axes", [0, 2, 3]))
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    props = {"axes": ints_attr(axes), "keepdims": BoolAttr.from_bool(True)}
    mean = ctx.unary(nn.ReduceMeanOp, x, props, out_shape=kept)
    sq = ctx.emit(nn.MulOp, [x, x], result_types=[x.type]).results[0]
    mean_sq = ctx.unary(nn.ReduceMeanOp, sq, props, out_shape=kept)
    mean2 = ctx.emit(nn.MulOp, [mean, mean], result_types=[mean.type]).results[0]
    var = ctx.emit(nn.SubOp, [mean_sq, mean2], result_types=[mean.type]).results[0]
    std = ctx.unary(nn.SqrtOp, var, out_shape=kept)
    eps = ctx.constant(np.asarray(1e-9, numpy_dtype(x.type.element_type)), "epsilon")
    den = ctx.emit(nn.AddOp, [std, eps], result_types=[mean.type]).results[0]
    centred = ctx.emit(nn.SubOp, [x, mean], result_types=[x.type]).results[0]
    return [ctx.emit(nn.DivOp, [centred, den]).results[0]]


@importer("GroupNormalization", to=["nn.reshape", "nn.layer_norm", "nn.mul", "nn.add"],
          note="per-group statistics as a layer norm over [N, G, C/G * spatial]; opset 18 per-group scale/bias")
def group_norm(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    g = int(ctx.attr("num_groups"))
    n, c = shape[0], shape[1]
    if len(shape) < 3 or g < 1 or c % g:
        raise ctx.fail(f"num_groups {g} must divide the {c} channels of a rank >= 3 input")
    x = ctx.input(0)
    elem = x.type.element_type
    dt = numpy_dtype(elem)
    k = math.prod(shape[1:]) // g
    xg = ctx.unary(nn.ReshapeOp, x, out_shape=(n, g, k))
    ones = ctx.constant(np.ones(k, dt), "unit_scale")
    props = {"axis": int_attr(2), "epsilon": float_attr(ctx.attr("epsilon", 1e-5))}
    normed = ctx.emit(nn.LayerNormOp, [xg, ones, None], props, [TensorType(elem, [n, g, k])]).results[0]
    y = ctx.unary(nn.ReshapeOp, normed, out_shape=shape)
    per = (c,) + (1,) * (len(shape) - 2)
    affine = []
    for i, what in ((1, "scale"), (2, "bias")):
        v = ctx.input(i)
        if ctx.shape(i) == (g,) and g != c:  # opset 18: one value per group, repeated over its channels
            idx = ctx.constant(np.repeat(np.arange(g), c // g).astype(np.int64), f"{what}_channels")
            v = ctx.emit(nn.GatherOp, [v, idx], {"axis": int_attr(0)}, [TensorType(elem, [c])]).results[0]
        elif ctx.shape(i) != (c,):
            raise ctx.fail(f"{what} of shape {list(ctx.shape(i))} is neither per channel [{c}] nor per group [{g}]")
        affine.append(ctx.unary(nn.ReshapeOp, v, out_shape=per))
    y = ctx.emit(nn.MulOp, [y, affine[0]], result_types=[TensorType(elem, list(shape))]).results[0]
    return [ctx.emit(nn.AddOp, [y, affine[1]]).results[0]]
