"""Pooling, resizing and sampling: MaxPool, AveragePool, LpPool, Global*Pool, Resize, Upsample, GridSample,
AffineGrid."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import ArrayAttr, BoolAttr, StringAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.ops.gemm import window_attrs
from h3pc.frontend.registry import importer


@importer("MaxPool", "AveragePool", to=["nn.max_pool", "nn.avg_pool", "nn.max_pool_indices"],
          note="ceil_mode, dilations, auto_pad; MaxPool's Indices output")
def pool(ctx: NodeContext) -> list:
    with_indices = len(ctx.node.output) > 1 and bool(ctx.node.output[1])
    kernel = list(ctx.attr("kernel_shape"))
    strides, pads, dilations = window_attrs(ctx, kernel)
    props = {"kernel": ints_attr(kernel), "strides": ints_attr(strides), "pads": ints_attr(pads),
             "dilations": ints_attr(dilations), "ceil_mode": BoolAttr.from_bool(bool(ctx.attr("ceil_mode", 0)))}
    if ctx.attr("ceil_mode", 0):
        # ONNX (and onnxruntime) drop a last window that would start in the end padding, but onnx's shape
        # inference (onnx 1.23) still counts it; the static shape everything downstream uses would be wrong.
        x, nsp = ctx.shape(0), len(kernel)
        want = list(x[:2])
        for i in range(nsp):
            n = -(-(x[2 + i] + pads[i] + pads[nsp + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i]) + 1
            want.append(n - 1 if (n - 1) * strides[i] >= x[2 + i] + pads[i] else n)
        if tuple(want) != tuple(ctx.out_shape()):
            raise ctx.fail(f"ceil_mode=1 with a last window that starts in the end padding: the output is "
                           f"{list(want)}, but ONNX shape inference says {list(ctx.out_shape())}")
    if ctx.node.op_type == "MaxPool" and with_indices:
        order = int(ctx.attr("storage_order", 0))
        if order not in (0, 1) or (order == 1 and len(kernel) != 2):
            raise ctx.fail(f"storage_order {order} is supported for 2-D pooling only (0 for any)")
        props["storage_order"] = int_attr(order)
        return list(ctx.emit(nn.MaxPoolIndicesOp, [ctx.input(0)], props, [ctx.out_type(0), ctx.out_type(1)]).results)
    if ctx.node.op_type == "MaxPool":
        return [ctx.emit(nn.MaxPoolOp, [ctx.input(0)], props).results[0]]
    props["count_include_pad"] = BoolAttr.from_bool(bool(ctx.attr("count_include_pad", 0)))
    return [ctx.emit(nn.AvgPoolOp, [ctx.input(0)], props).results[0]]


@importer("GlobalAveragePool", "GlobalMaxPool", to=["nn.reduce_mean", "nn.reduce_max"],
          note="a reduction over the spatial dims")
def global_pool(ctx: NodeContext) -> list:
    cls = nn.ReduceMeanOp if ctx.node.op_type == "GlobalAveragePool" else nn.ReduceMaxOp
    axes = list(range(2, len(ctx.shape(0))))
    return [ctx.emit(cls, [ctx.input(0)], {"axes": ints_attr(axes), "keepdims": BoolAttr.from_bool(True)}).results[0]]


#: what the nn.resize kernel implements (tf_half_pixel_for_nn of opsets 11-12 is not among them)
COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


@importer("Resize", "Upsample", to=["nn.resize"], note="nearest, linear, cubic; scales or sizes")
def resize(ctx: NodeContext) -> list:
    in_shape, out_shape = ctx.shape(0), ctx.out_shape()
    if ctx.node.op_type == "Upsample" or ctx.opset < 11:
        mode = ctx.attr("mode", "nearest")
        ctm, nearest = "asymmetric", "floor"
        if ctx.has_input(1) and ctx.maybe_const(1) is None:
            return [_resize_runtime_scales(ctx, None, mode, ctm, nearest, index=1)]
        scales = ctx.const(1, "scales").tolist() if ctx.has_input(1) else list(ctx.attr("scales"))
    else:
        if ctx.attr("antialias", 0):
            raise ctx.fail("antialias=1 is not supported")
        policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
        if policy not in ("stretch", "not_larger", "not_smaller"):
            raise ctx.fail(f"unknown keep_aspect_ratio_policy '{policy}'")
        axes = ctx.attr("axes")
        mode = ctx.attr("mode", "nearest")
        ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
        nearest = ctx.attr("nearest_mode", "round_prefer_floor")
        if ctm == "tf_crop_and_resize":
            raise ctx.fail("coordinate_transformation_mode 'tf_crop_and_resize' is not supported")
        if ctm not in COORDINATE_MODES:
            raise ctx.fail(f"unknown coordinate_transformation_mode '{ctm}'")
        scales_in = ctx.maybe_const(2)
        if scales_in is None and ctx.has_input(2) and 0 not in ctx.shape(2):
            # the coordinate mapping uses the scale itself, which output/input only approximates (scale 0.6
            # on 4 pixels gives 2 of them): the scales are read at run time, the output shape is static
            return [_resize_runtime_scales(ctx, axes, mode, ctm, nearest)]
        if scales_in is not None and scales_in.size:
            given = scales_in.tolist()
        elif policy != "stretch" and ctx.has_input(3):
            # one scale for every resized axis, the smallest (not_larger) or largest (not_smaller) of
            # sizes / input; the output is round(scale * input) on those axes (ONNX shape inference)
            sizes = ctx.const(3, "sizes").tolist()
            dims = [a % len(in_shape) for a in axes] if axes is not None else list(range(len(in_shape)))
            ratios = [s / in_shape[a] for s, a in zip(sizes, dims)]
            one = min(ratios) if policy == "not_larger" else max(ratios)
            given = [one] * len(dims) if axes is not None else [one if a in dims else 1.0 for a in range(len(in_shape))]
        else:
            given = [o / i for o, i in zip(out_shape, in_shape)] if axes is None else [
                out_shape[a] / in_shape[a] for a in axes]
        if axes is not None:
            scales = [1.0] * len(in_shape)
            for a, s in zip(axes, given):
                scales[a % len(in_shape)] = s
        else:
            scales = given
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.fail(f"unknown mode '{mode}'")
    if mode == "nearest" and nearest not in NEAREST_MODES:
        raise ctx.fail(f"unknown nearest_mode '{nearest}'")
    props = {
        "scales": ArrayAttr([float_attr(s) for s in scales]),
        "mode": StringAttr(mode),
        "coordinate_transformation_mode": StringAttr(ctm),
        "nearest_mode": StringAttr(nearest),
        "cubic_coeff_a": float_attr(ctx.attr("cubic_coeff_a", -0.75)),
        "exclude_outside": BoolAttr.from_bool(bool(ctx.attr("exclude_outside", 0))),
    }
    return [ctx.emit(nn.ResizeOp, [ctx.input(0)], props).results[0]]


@importer("LpPool", to=["nn.lp_pool"], note="p >= 1, dilations, auto_pad; ceil_mode=0")
def lp_pool(ctx: NodeContext) -> list:
    kernel = list(ctx.attr("kernel_shape"))
    strides, pads, dilations = window_attrs(ctx, kernel)
    if ctx.attr("ceil_mode", 0):
        raise ctx.fail("ceil_mode=1 is not supported")
    p = int(ctx.attr("p", 2))
    if p < 1:
        raise ctx.fail(f"p={p} must be >= 1")
    props = {"kernel": ints_attr(kernel), "strides": ints_attr(strides), "pads": ints_attr(pads),
             "dilations": ints_attr(dilations), "ceil_mode": BoolAttr.from_bool(False), "p": int_attr(p)}
    return [ctx.emit(nn.LpPoolOp, [ctx.input(0)], props).results[0]]


@importer("GridSample", to=["nn.grid_sample"], note="nearest, linear, cubic (2-D); zeros, border, reflection")
def grid_sample(ctx: NodeContext) -> list:
    mode = ctx.attr("mode", "linear" if ctx.opset >= 20 else "bilinear")
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    padding = ctx.attr("padding_mode", "zeros")
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.fail(f"unknown mode '{mode}'")
    if padding not in ("zeros", "border", "reflection"):
        raise ctx.fail(f"unknown padding_mode '{padding}'")
    if mode == "cubic" and len(ctx.shape(0)) != 4:
        raise ctx.fail("cubic mode is defined for 4-D inputs only")
    if mode == "cubic" and padding == "border":
        # onnxruntime clamps each tap (as PyTorch), onnx's reference the coordinate: the results differ
        raise ctx.fail("cubic mode with padding_mode 'border' is not supported (onnxruntime and the ONNX "
                       "reference implementation disagree on it)")
    props = {"mode": StringAttr(mode), "padding_mode": StringAttr(padding),
             "align_corners": BoolAttr.from_bool(bool(ctx.attr("align_corners", 0)))}
    return [ctx.emit(nn.GridSampleOp, [ctx.input(0), ctx.input(1)], props).results[0]]


def _resize_runtime_scales(ctx: NodeContext, axes, mode: str, ctm: str, nearest: str, index: int = 2):
    """Resize by scales computed at run time (the output shape is static): nn.resize_scaled, with the
    scales of the listed axes scattered into a full per-dim vector by a constant gather."""
    from xdsl.dialects.builtin import TensorType

    rank = len(ctx.shape(0))
    if ctm == "align_corners":
        # with input x scale not a whole number onnxruntime maps by the output size, onnx's reference by the
        # product: constant scales follow onnxruntime; run-time ones cannot be checked here
        raise ctx.fail("coordinate_transformation_mode 'align_corners' needs constant scales")
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.fail(f"unknown mode '{mode}'")
    if mode == "nearest" and nearest not in NEAREST_MODES:
        raise ctx.fail(f"unknown nearest_mode '{nearest}'")
    n = ctx.shape(index)[0] if ctx.shape(index) else 0
    if n != (rank if axes is None else len(axes)):
        raise ctx.fail(f"scales of shape {list(ctx.shape(index))} do not give one value per resized axis")
    scales = ctx.input(index)
    if axes is not None:  # [s_a for a in axes] -> one scale per dim, 1 elsewhere
        from h3pc.dialects.types import numpy_dtype

        elem = scales.type.element_type
        ones = ctx.constant(np.ones(1, numpy_dtype(elem)), "unit_scale")
        ext = ctx.emit(nn.ConcatOp, [scales, ones], {"axis": int_attr(0)}, [TensorType(elem, [n + 1])]).results[0]
        pick = [n] * rank
        for k, a in enumerate(axes):
            pick[a % rank] = k
        idx = ctx.constant(np.asarray(pick, np.int64), "scale_dims")
        scales = ctx.emit(nn.GatherOp, [ext, idx], {"axis": int_attr(0)}, [TensorType(elem, [rank])]).results[0]
    props = {
        "mode": StringAttr(mode),
        "coordinate_transformation_mode": StringAttr(ctm),
        "nearest_mode": StringAttr(nearest),
        "cubic_coeff_a": float_attr(ctx.attr("cubic_coeff_a", -0.75)),
        "exclude_outside": BoolAttr.from_bool(bool(ctx.attr("exclude_outside", 0))),
    }
    return ctx.emit(nn.ResizeScaledOp, [ctx.input(0), scales], props).results[0]


def _affine_base(spatial: tuple[int, ...], align: bool) -> np.ndarray:
    """The homogeneous sampling grid [prod(spatial), r + 1]: normalised (x, y[, z], 1), x along the last dim."""
    axes = []
    for n in spatial:
        i = np.arange(n, dtype=np.float64)
        if align:
            axes.append(-1 + 2 * i / (n - 1) if n > 1 else np.full(n, -1.0))
        else:
            axes.append(-1 + (2 * i + 1) / n)
    mesh = np.meshgrid(*axes, indexing="ij")  # one array per spatial dim, in (D,) H, W order
    cols = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(int(np.prod(spatial)))]
    return np.stack(cols, axis=1)


@importer("AffineGrid", to=["nn.transpose", "nn.matmul", "nn.reshape"],
          note="2-D and 3-D: the constant base grid times theta^T; size constant or read off the output shape")
def affine_grid(ctx: NodeContext) -> list:
    from xdsl.dialects.builtin import TensorType

    from h3pc.dialects.types import numpy_dtype

    theta = ctx.shape(0)
    out = ctx.out_shape()
    r = len(out) - 2
    if r not in (2, 3) or theta != (out[0], r, r + 1) or out[-1] != r:
        raise ctx.fail(f"theta {list(theta)} and output {list(out)} are not a 2-D or 3-D affine grid")
    size = ctx.maybe_const(1)
    if size is not None and tuple(int(v) for v in size.reshape(-1)[2:]) != tuple(out[1:-1]):
        raise ctx.fail(f"size {size.tolist()} does not match the output shape {list(out)}")
    elem = ctx.out_type().element_type
    spatial = tuple(out[1:-1])
    n, p = out[0], int(np.prod(spatial))
    base = ctx.constant(_affine_base(spatial, bool(ctx.attr("align_corners", 0))).astype(numpy_dtype(elem)), "grid")
    tt = ctx.unary(nn.TransposeOp, ctx.input(0), {"perm": ints_attr([0, 2, 1])}, out_shape=(n, r + 1, r))
    g = ctx.emit(nn.MatMulOp, [base, tt], result_types=[TensorType(elem, [n, p, r])]).results[0]
    return [ctx.unary(nn.ReshapeOp, g)]


@importer("MaxUnpool", to=["nn.max_unpool"], note="output_shape constant, or the static output shape")
def max_unpool(ctx: NodeContext) -> list:
    x, out = ctx.shape(0), ctx.out_shape()
    if ctx.shape(1) != x:
        raise ctx.fail(f"indices {list(ctx.shape(1))} must have the input's shape {list(x)}")
    if len(out) != len(x) or tuple(out[:2]) != tuple(x[:2]):
        raise ctx.fail(f"output shape {list(out)} must keep the input's batch and channels")
    kernel = list(ctx.attr("kernel_shape"))
    nsp = len(kernel)
    strides = list(ctx.attr("strides", [1] * nsp))
    pads = list(ctx.attr("pads", [0] * (2 * nsp)))
    unpooled = list(x[:2]) + [(x[2 + i] - 1) * strides[i] - pads[i] - pads[nsp + i] + kernel[i] for i in range(nsp)]
    if tuple(unpooled) != tuple(out):
        # onnx's reference places the unpooled block at the origin of a larger output, onnxruntime reads the
        # indices as flat positions in it: they disagree
        raise ctx.fail(f"an output_shape {list(out)} other than the unpooled shape {unpooled} is not supported "
                       "(onnxruntime and the ONNX reference implementation disagree on it)")
    return [ctx.emit(nn.MaxUnpoolOp, [ctx.input(0), ctx.input(1)], {"unpooled": ints_attr(unpooled)}).results[0]]


@importer("RoiAlign", to=["nn.roi_align"], note="avg or max; half_pixel or output_half_pixel; sampling_ratio")
def roi_align(ctx: NodeContext) -> list:
    mode = ctx.attr("mode", "avg")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel" if ctx.opset >= 16 else "output_half_pixel")
    if mode not in ("avg", "max"):
        raise ctx.fail(f"unknown mode '{mode}'")
    if ctm not in ("half_pixel", "output_half_pixel"):
        raise ctx.fail(f"unknown coordinate_transformation_mode '{ctm}'")
    props = {"mode": StringAttr(mode), "sampling_ratio": int_attr(ctx.attr("sampling_ratio", 0)),
             "spatial_scale": float_attr(ctx.attr("spatial_scale", 1.0)),
             "half_pixel": BoolAttr.from_bool(ctm == "half_pixel")}
    return [ctx.emit(nn.RoiAlignOp, [ctx.input(0), ctx.input(1), ctx.input(2)], props).results[0]]


@importer("Col2Im", to=["nn.col2im"],
          note="image and block shapes constant, or the only ones the input and output shapes allow")
def col2im(ctx: NodeContext) -> list:
    import itertools

    from h3pc.dialects.nn import col2im_blocks

    x, out = ctx.shape(0), ctx.out_shape()
    r = len(out) - 2
    if len(x) != 3 or r < 1 or x[0] != out[0] or x[1] % max(out[1], 1):
        raise ctx.fail(f"columns {list(x)} and image {list(out)} do not fit")
    strides = list(ctx.attr("strides", [1] * r))
    pads = list(ctx.attr("pads", [0] * (2 * r)))
    dilations = list(ctx.attr("dilations", [1] * r))
    image = ctx.maybe_const(1)
    if image is not None and tuple(int(v) for v in image.reshape(-1)) != tuple(out[2:]):
        raise ctx.fail(f"image_shape {image.tolist()} does not match the output shape {list(out)}")
    block_v = ctx.maybe_const(2)
    prod = x[1] // out[1]
    if block_v is not None:
        blocks = [tuple(int(v) for v in block_v.reshape(-1))]
    else:  # the block shapes of prod(block) taps whose position count is the column count
        blocks = [b for b in itertools.product(*(range(1, prod + 1) for _ in range(r)))
                  if int(np.prod(b)) == prod and col2im_blocks(out[2:], b, strides, pads, dilations) == x[2]]
        if len(blocks) != 1:
            raise ctx.fail(f"block_shape (input 2, '{ctx.node.input[2]}') must be a compile-time constant: "
                           f"{len(blocks)} block shapes fit columns {list(x)} and image {list(out)}")
    props = {"block": ints_attr(blocks[0]), "strides": ints_attr(strides), "pads": ints_attr(pads),
             "dilations": ints_attr(dilations)}
    return [ctx.emit(nn.Col2ImOp, [ctx.input(0)], props).results[0]]
