"""The long tail of the standard domain, checked end to end against onnxruntime like tests/test_reference_ops.py.

One single-op (or tiny) model per importer entry and attribute variant, built with `onnx.helper` (ir_version
10): import_model -> NNProgram (the numpy kernels of runtime/reference.py) must match onnxruntime's
CPUExecutionProvider within max|diff| <= 1e-4 * max(1, max|ref|), exactly for integer and boolean outputs.
The helpers are test_reference_ops.py's own, so both files judge alike. Ops that only exist from an opset
newer than the loader's ceiling are imported with the ceiling raised for that case: what is checked here is
the importer and the kernel; which opsets a file may declare is the loader's (and the conformance run's) job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

import h3pc.frontend.loader as loader
from h3pc.diagnostics import H3pcError
from h3pc.frontend.importer import import_model
from h3pc.frontend.ops import load_importers
from h3pc.runtime.evaluate import NNProgram
from test_reference_ops import CASES as BASE_CASES
from test_reference_ops import Case, assert_close, build, f32, i64, ints, node, pos, run_reference

RNG = np.random.default_rng(20261203)

TAIL_CASES: list[Case] = []


def add(op: str, name: str, nodes, inputs: dict, inits: dict | None = None, opset: int = 17,
        outputs: Sequence[str] | None = None, ref: Any = "ort") -> None:
    nodes = nodes if isinstance(nodes, list) else [nodes]
    TAIL_CASES.append(Case(op, name, nodes, dict(inputs), dict(inits or {}), opset,
                           list(outputs) if outputs else None, ref))


def unit(lo: float, hi: float, *shape: int) -> np.ndarray:
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# elementwise maps

for _op, _x in {"Tan": unit(-1.2, 1.2, 3, 4), "Asin": unit(-0.95, 0.95, 3, 4), "Acos": unit(-0.95, 0.95, 3, 4),
                "Atan": f32(3, 4), "Sinh": f32(3, 4), "Cosh": f32(3, 4), "Asinh": f32(3, 4),
                "Acosh": unit(1.01, 4.0, 3, 4), "Atanh": unit(-0.95, 0.95, 3, 4), "Softsign": f32(3, 4),
                "Mish": unit(-6, 6, 3, 4)}.items():
    add(_op, "f32", node(_op, ["x"]), {"x": _x}, opset=18)
add("Mish", "f64", node("Mish", ["x"]), {"x": unit(-6, 6, 5).astype(np.float64)}, opset=18)

_nan = f32(3, 4)
_nan[0, 1] = np.nan
_nan[2, 3] = np.inf
add("IsNaN", "f32", node("IsNaN", ["x"]), {"x": _nan}, opset=13)
_inf = f32(2, 5)
_inf[0, 0], _inf[1, 2], _inf[1, 4] = np.inf, -np.inf, np.nan
add("IsInf", "default", node("IsInf", ["x"]), {"x": _inf}, opset=13)
add("IsInf", "positive-only", node("IsInf", ["x"], detect_negative=0), {"x": _inf}, opset=13)
add("IsInf", "negative-only", node("IsInf", ["x"], detect_positive=0), {"x": _inf}, opset=13)

add("BitwiseNot", "int32", node("BitwiseNot", ["x"]), {"x": ints(3, 4, lo=-100, hi=100, dtype=np.int32)}, opset=18)
add("BitwiseNot", "uint8", node("BitwiseNot", ["x"]), {"x": ints(6, lo=0, hi=256, dtype=np.uint8)}, opset=18)
for _op in ("BitwiseAnd", "BitwiseOr", "BitwiseXor"):
    add(_op, "int32-broadcast", node(_op, ["a", "b"]),
        {"a": ints(3, 4, lo=-1000, hi=1000, dtype=np.int32), "b": ints(4, lo=-1000, hi=1000, dtype=np.int32)},
        opset=18)
    add(_op, "uint16", node(_op, ["a", "b"]),
        {"a": ints(5, lo=0, hi=65535, dtype=np.uint16), "b": ints(5, lo=0, hi=65535, dtype=np.uint16)}, opset=18)

_den = ints(3, 4, lo=1, hi=7)
_den[1] *= -1
add("Mod", "int64-mixed-sign", node("Mod", ["a", "b"]), {"a": ints(3, 4, lo=-20, hi=21), "b": _den}, opset=13)
add("Mod", "int32-fmod", node("Mod", ["a", "b"], fmod=1),
    {"a": ints(3, 4, lo=-20, hi=21, dtype=np.int32), "b": _den.astype(np.int32)}, opset=13)
add("Mod", "float-fmod-broadcast", node("Mod", ["a", "b"], fmod=1),
    {"a": unit(-10, 10, 2, 3, 4), "b": unit(0.5, 3, 4) * np.where(RNG.random(4) < 0.5, -1, 1).astype(np.float32)},
    opset=13)
add("Mod", "uint8", node("Mod", ["a", "b"]),
    {"a": ints(6, lo=0, hi=256, dtype=np.uint8), "b": ints(6, lo=1, hi=20, dtype=np.uint8)}, opset=13)

add("BitShift", "uint8-left", node("BitShift", ["a", "b"], direction="LEFT"),
    {"a": ints(6, lo=0, hi=256, dtype=np.uint8), "b": ints(6, lo=0, hi=8, dtype=np.uint8)}, opset=11)
add("BitShift", "uint32-right-broadcast", node("BitShift", ["a", "b"], direction="RIGHT"),
    {"a": ints(2, 3, lo=0, hi=2**31, dtype=np.uint32), "b": ints(3, lo=0, hi=31, dtype=np.uint32)}, opset=11)
add("BitShift", "uint64-left", node("BitShift", ["a", "b"], direction="LEFT"),
    {"a": ints(4, lo=0, hi=2**40, dtype=np.uint64), "b": ints(4, lo=0, hi=20, dtype=np.uint64)}, opset=11)

add("Selu", "default", node("Selu", ["x"]), {"x": f32(3, 4)}, opset=13)
add("Selu", "alpha-gamma", node("Selu", ["x"], alpha=2.0, gamma=0.5), {"x": f32(3, 4)}, opset=13)
add("Celu", "default", node("Celu", ["x"]), {"x": f32(3, 4)}, opset=12)
add("Celu", "alpha", node("Celu", ["x"], alpha=0.4), {"x": f32(3, 4)}, opset=12)
add("ThresholdedRelu", "default", node("ThresholdedRelu", ["x"]), {"x": f32(3, 4)}, opset=10)
add("ThresholdedRelu", "alpha", node("ThresholdedRelu", ["x"], alpha=-0.3), {"x": f32(3, 4)}, opset=10)
add("Shrink", "default", node("Shrink", ["x"]), {"x": f32(3, 4)}, opset=9)
add("Shrink", "bias-lambd", node("Shrink", ["x"], bias=0.3, lambd=1.2), {"x": f32(3, 4)}, opset=9)
add("Shrink", "int32", node("Shrink", ["x"], bias=1.0, lambd=2.0), {"x": ints(8, lo=-6, hi=7, dtype=np.int32)},
    opset=9)


def _swish(alpha: float):
    def ref(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = feeds["x"].astype(np.float64)
        return {"y": (x / (1 + np.exp(-alpha * x))).astype(np.float32)}

    return ref


# Swish (opset 24) is spelled out by its formula, checked once against onnxruntime below
add("Swish", "default", node("Swish", ["x"]), {"x": unit(-8, 8, 3, 4)}, opset=24, ref=_swish(1.0))
add("Swish", "alpha", node("Swish", ["x"], alpha=1.702), {"x": unit(-8, 8, 3, 4)}, opset=24, ref=_swish(1.702))


# ---------------------------------------------------------------------------------------------
# axis ops: normalisation, scans, selection

add("Hardmax", "axis1", node("Hardmax", ["x"], axis=1), {"x": f32(2, 5, 3)}, opset=13)
add("Hardmax", "default-last", node("Hardmax", ["x"]), {"x": f32(3, 4)}, opset=13)
add("Hardmax", "ties-first", node("Hardmax", ["x"]), {"x": np.asarray([[1, 3, 3, 2], [0, 0, 0, 0]], np.float32)},
    opset=13)
add("Hardmax", "opset11-flatten", node("Hardmax", ["x"], axis=1), {"x": f32(2, 3, 4)}, opset=11)
add("LpNormalization", "p2-last", node("LpNormalization", ["x"]), {"x": f32(3, 4)}, opset=13)
add("LpNormalization", "p1-axis0", node("LpNormalization", ["x"], axis=0, p=1), {"x": f32(3, 4, 2)}, opset=13)
add("InstanceNormalization", "4d", node("InstanceNormalization", ["x", "s", "b"]), {"x": f32(2, 3, 4, 5)},
    {"s": f32(3), "b": f32(3)}, opset=13)
add("InstanceNormalization", "3d-epsilon", node("InstanceNormalization", ["x", "s", "b"], epsilon=0.1),
    {"x": f32(2, 3, 7)}, {"s": f32(3), "b": f32(3)}, opset=13)

add("CumSum", "axis1", node("CumSum", ["x", "a"]), {"x": f32(2, 3, 4)}, {"a": np.asarray(1, np.int64)}, opset=14)
add("CumSum", "exclusive", node("CumSum", ["x", "a"], exclusive=1), {"x": f32(2, 5)},
    {"a": np.asarray(-1, np.int32)}, opset=14)
add("CumSum", "reverse", node("CumSum", ["x", "a"], reverse=1), {"x": f32(4, 3)}, {"a": np.asarray(0, np.int64)},
    opset=14)
add("CumSum", "exclusive-reverse-int64", node("CumSum", ["x", "a"], exclusive=1, reverse=1),
    {"x": ints(3, 6)}, {"a": np.asarray(1, np.int64)}, opset=14)
for _ax in (0, 1, -1, -3):
    add("CumSum", f"runtime-axis{_ax}", node("CumSum", ["x", "a"], reverse=1), {"x": f32(2, 3, 4),
                                                                             "a": np.asarray(_ax, np.int32)}, opset=14)
add("CumSum", "runtime-axis-1d", node("CumSum", ["x", "a"], exclusive=1), {"x": f32(5), "a": np.asarray(0, np.int64)},
    opset=14)
add("CumProd", "axis1", node("CumProd", ["x", "a"]), {"x": unit(0.5, 1.5, 2, 5)}, {"a": np.asarray(1, np.int64)},
    opset=26, ref="onnx")
add("CumProd", "exclusive-reverse", node("CumProd", ["x", "a"], exclusive=1, reverse=1),
    {"x": unit(0.5, 1.5, 3, 4)}, {"a": np.asarray(0, np.int64)}, opset=26, ref="onnx")

add("TopK", "largest", node("TopK", ["x", "k"], ["v", "i"]), {"x": f32(3, 6)}, {"k": i64(3)}, opset=11)
add("TopK", "smallest-axis0", node("TopK", ["x", "k"], ["v", "i"], axis=0, largest=0), {"x": f32(5, 4)},
    {"k": i64(2)}, opset=11)
add("TopK", "ties-int64", node("TopK", ["x", "k"], ["v", "i"]),
    {"x": np.asarray([[3, 1, 3, 2, 3], [0, 0, 1, 1, 0]], np.int64)}, {"k": i64(4)}, opset=11)
add("TopK", "opset9-attr", node("TopK", ["x"], ["v", "i"], k=2), {"x": f32(2, 5)}, opset=9)
add("TopK", "values-only", node("TopK", ["x", "k"], ["v", "i"]), {"x": f32(2, 5)}, {"k": i64(5)}, opset=11,
    outputs=["v"])


# ---------------------------------------------------------------------------------------------
# layout: triangles, one-hot, identity, scatter, depth/space

add("Trilu", "upper", node("Trilu", ["x"]), {"x": f32(4, 5)}, opset=14)
add("Trilu", "lower-k", node("Trilu", ["x", "k"], upper=0), {"x": f32(2, 4, 5)}, {"k": i64(-1)}, opset=14)
add("Trilu", "upper-k2-int", node("Trilu", ["x", "k"]), {"x": ints(3, 5)}, {"k": i64(2)}, opset=14)
add("OneHot", "default-axis", node("OneHot", ["i", "d", "v"]), {"i": ints(2, 3, lo=-4, hi=4)},
    {"d": np.asarray(4, np.int64), "v": np.asarray([0, 1], np.float32)}, opset=11)
add("OneHot", "axis0-float", node("OneHot", ["i", "d", "v"], axis=0),
    {"i": np.asarray([[-5, 2.5], [0, 3], [5, -0.5], [7, -6], [1, 4]], np.float32)},
    {"d": np.asarray(6.0, np.float32), "v": np.asarray([-1, 5], np.float32)}, opset=11)
add("OneHot", "int32-indices", node("OneHot", ["i", "d", "v"], axis=1),
    {"i": ints(3, 2, lo=-3, hi=5, dtype=np.int32)},
    {"d": np.asarray(3, np.int32), "v": np.asarray([2, 7], np.float32)}, opset=11)
add("EyeLike", "k1", node("EyeLike", ["x"], k=1), {"x": f32(3, 4)}, opset=9)
add("EyeLike", "dtype-int", [node("EyeLike", ["x"], ["e"], dtype=onnx.TensorProto.INT32, k=-1),
                             node("Add", ["e", "e"])], {"x": f32(4, 4)}, opset=9)

_upd_idx = np.asarray([[1, 0, 3], [2, 2, 0]], np.int64)
for _red in ("none", "add", "mul", "max", "min"):
    _idx = _upd_idx if _red == "none" else np.asarray([[1, 0, 3], [1, 0, 0]], np.int64)  # duplicates combine
    add("ScatterElements", f"axis0-{_red}", node("ScatterElements", ["d", "i", "u"], axis=0,
                                                    **({} if _red == "none" else {"reduction": _red})),
        {"d": f32(4, 3), "u": f32(2, 3)}, {"i": _idx}, opset=18)
add("ScatterElements", "axis1-negative-index", node("ScatterElements", ["d", "i", "u"], axis=1),
    {"d": f32(3, 5), "u": f32(3, 2)}, {"i": np.asarray([[-1, 0], [2, -3], [4, 1]], np.int64)}, opset=13)
add("ScatterElements", "runtime-indices", node("ScatterElements", ["d", "i", "u"], axis=1),
    {"d": f32(2, 4), "i": np.asarray([[3, 1], [0, 2]], np.int64), "u": f32(2, 2)}, opset=13)
add("Scatter", "opset9", node("Scatter", ["d", "i", "u"], axis=1), {"d": f32(3, 4), "u": f32(3, 1)},
    {"i": np.asarray([[2], [0], [3]], np.int64)}, opset=9)
add("ScatterND", "rows", node("ScatterND", ["d", "i", "u"]), {"d": f32(4, 3), "u": f32(2, 3)},
    {"i": np.asarray([[2], [0]], np.int64)}, opset=13)
add("ScatterND", "elements", node("ScatterND", ["d", "i", "u"]), {"d": f32(2, 3, 4), "u": f32(3)},
    {"i": np.asarray([[0, 1, 2], [1, 2, 3], [1, 0, -1]], np.int64)}, opset=13)
for _red in ("add", "mul", "max", "min"):
    add("ScatterND", f"reduction-{_red}", node("ScatterND", ["d", "i", "u"], reduction=_red),
        {"d": f32(4, 3), "u": f32(3, 3)}, {"i": np.asarray([[1], [1], [3]], np.int64)}, opset=18)

for _mode in ("DCR", "CRD"):
    add("DepthToSpace", _mode, node("DepthToSpace", ["x"], blocksize=2, mode=_mode), {"x": f32(2, 8, 3, 2)},
        opset=13)
add("SpaceToDepth", "b2", node("SpaceToDepth", ["x"], blocksize=2), {"x": f32(1, 3, 4, 6)}, opset=13)
add("SpaceToDepth", "b3", node("SpaceToDepth", ["x"], blocksize=3), {"x": f32(2, 2, 6, 3)}, opset=13)


# ---------------------------------------------------------------------------------------------
# einsum, pooling, sampling

add("Einsum", "matmul", node("Einsum", ["a", "b"], equation="ij,jk->ik"), {"a": f32(3, 4), "b": f32(4, 5)},
    opset=12)
add("Einsum", "batch-matmul", node("Einsum", ["a", "b"], equation="bij,bjk->bik"),
    {"a": f32(2, 3, 4), "b": f32(2, 4, 5)}, opset=12)
add("Einsum", "implicit-transpose", node("Einsum", ["a"], equation="ji"), {"a": f32(3, 4)}, opset=12)
add("Einsum", "trace-ellipsis", node("Einsum", ["a"], equation="...ii->...i"), {"a": f32(2, 3, 3)}, opset=12)
add("Einsum", "sum-outer", node("Einsum", ["a", "b"], equation="i,j->ij"), {"a": f32(3), "b": f32(4)}, opset=12)
add("Einsum", "reduce-all", node("Einsum", ["a"], equation="ij->"), {"a": f32(3, 4)}, opset=12)
add("Einsum", "attention-scores", node("Einsum", ["q", "k"], equation="bhqd,bhkd->bhqk"),
    {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 5, 4)}, opset=12)

# DeformConv (opset 19): offsets move each tap (some outside the image), optional bias and mask, groups
add("DeformConv", "pads", node("DeformConv", ["x", "w", "o"], pads=[1, 1, 1, 1]),
    {"x": f32(1, 2, 5, 5), "w": f32(3, 2, 3, 3), "o": unit(-1.5, 1.5, 1, 18, 5, 5)}, opset=19)
add("DeformConv", "bias-mask-strides", node("DeformConv", ["x", "w", "o", "b", "m"], strides=[2, 1], dilations=[1, 2]),
    {"x": f32(2, 2, 6, 7), "w": f32(2, 2, 2, 2), "o": unit(-2, 2, 2, 8, 3, 5), "b": f32(2),
     "m": unit(0, 1, 2, 4, 3, 5)}, opset=19)
add("DeformConv", "groups-offset-groups", node("DeformConv", ["x", "w", "o"], group=2, offset_group=2),
    {"x": f32(1, 4, 4, 4), "w": f32(4, 2, 2, 2), "o": unit(-1, 1, 1, 16, 3, 3)}, opset=19)
# Col2Im: columns summed back into an image (overlaps add, padding taps dropped)
add("Col2Im", "overlap-strides-pads", node("Col2Im", ["x", "i", "b"], strides=[2, 1], pads=[1, 0, 1, 1]),
    {"x": f32(2, 2 * 6, 3 * 4)}, {"i": i64(5, 5), "b": i64(2, 3)}, opset=18)
add("Col2Im", "dilations", node("Col2Im", ["x", "i", "b"], dilations=[2, 1]),
    {"x": f32(1, 3 * 4, 4 * 3)}, {"i": i64(6, 4), "b": i64(2, 2)}, opset=18)
add("Col2Im", "runtime-shapes-settled", node("Col2Im", ["x", "i", "b"], strides=[2, 2]),
    {"x": f32(1, 9, 4), "i": i64(5, 5), "b": i64(3, 3)}, opset=18, ref="onnx")
add("LpPool", "p2-2d", node("LpPool", ["x"], kernel_shape=[2, 2]), {"x": f32(1, 2, 5, 5)}, opset=18)
add("LpPool", "p1-strides-pads", node("LpPool", ["x"], kernel_shape=[3, 3], p=1, strides=[2, 2],
                                      pads=[1, 1, 1, 1]), {"x": f32(1, 2, 6, 7)}, opset=18)
add("LpPool", "p3-1d-same", node("LpPool", ["x"], kernel_shape=[3], p=3, auto_pad="SAME_UPPER"),
    {"x": f32(2, 3, 8)}, opset=18)
add("LpPool", "dilations", node("LpPool", ["x"], kernel_shape=[2, 2], dilations=[2, 2]), {"x": f32(1, 1, 6, 6)},
    opset=18)

_grid = lambda *s: unit(-1.3, 1.3, *s)  # noqa: E731 - a few samples fall outside, exercising padding
for _mode in ("nearest", "linear", "cubic"):
    for _pad in ("zeros", "border", "reflection"):
        if _mode == "cubic" and _pad == "border":
            continue  # refused: see UNSUPPORTED
        for _align in (0, 1):
            add("GridSample", f"{_mode}-{_pad}-align{_align}",
                node("GridSample", ["x", "g"], mode=_mode, padding_mode=_pad, align_corners=_align),
                {"x": f32(2, 3, 5, 6), "g": _grid(2, 4, 7, 2)}, opset=20)
add("AffineGrid", "2d", node("AffineGrid", ["t", "s"]), {"t": f32(2, 2, 3)}, {"s": i64(2, 3, 4, 5)}, opset=20)
add("AffineGrid", "2d-align-runtime-size", node("AffineGrid", ["t", "s"], align_corners=1),
    {"t": f32(1, 2, 3), "s": i64(1, 1, 3, 3)}, opset=20, ref="onnx")
add("AffineGrid", "3d", node("AffineGrid", ["t", "s"]), {"t": f32(1, 3, 4)}, {"s": i64(1, 2, 2, 3, 4)}, opset=20,
    ref="onnx")
# MaxPool's Indices output and MaxUnpool (SegNet-style pooling/unpooling)
add("MaxPool", "indices-pads-strides", node("MaxPool", ["x"], ["y", "i"], kernel_shape=[3, 3], strides=[2, 2],
                                            pads=[1, 1, 1, 1]), {"x": f32(2, 3, 6, 7)}, opset=12)
add("MaxPool", "indices-storage-order1", node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2, 2], storage_order=1),
    {"x": f32(1, 2, 4, 5)}, opset=12)
add("MaxPool", "indices-1d-dilated", node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2], dilations=[2]),
    {"x": f32(2, 2, 7)}, opset=12)
add("MaxUnpool", "roundtrip", [node("MaxPool", ["x"], ["p", "i"], kernel_shape=[2, 2], strides=[2, 2]),
                               node("MaxUnpool", ["p", "i"], kernel_shape=[2, 2], strides=[2, 2])],
    {"x": f32(1, 2, 4, 6)}, opset=12)
add("MaxUnpool", "output-shape-same", [node("MaxPool", ["x"], ["p", "i"], kernel_shape=[2, 2], strides=[2, 2]),
                                       node("MaxUnpool", ["p", "i", "s"], kernel_shape=[2, 2], strides=[2, 2])],
    {"x": f32(1, 1, 4, 4)}, {"s": i64(1, 1, 4, 4)}, opset=12)
_rois = np.asarray([[0, 0, 9, 9], [0, 5, 4, 9], [5.5, 2.2, 9.1, 7.7], [-2, -1, 3, 12]], np.float32)
_bidx = np.asarray([0, 1, 1, 0], np.int64)
for _mode in ("avg", "max"):
    for _ctm in ("half_pixel", "output_half_pixel"):
        add("RoiAlign", f"{_mode}-{_ctm}", node("RoiAlign", ["x", "r", "b"], mode=_mode, output_height=3,
                                                output_width=4, sampling_ratio=2, spatial_scale=0.8,
                                                coordinate_transformation_mode=_ctm),
            {"x": f32(2, 3, 8, 9), "r": _rois, "b": _bidx}, opset=16)
add("RoiAlign", "adaptive-sampling", node("RoiAlign", ["x", "r", "b"], output_height=2, output_width=2),
    {"x": f32(2, 2, 10, 10), "r": _rois, "b": _bidx}, opset=16)
add("GridSample", "opset16-bilinear", node("GridSample", ["x", "g"], mode="bilinear"),
    {"x": f32(1, 2, 4, 4), "g": _grid(1, 3, 3, 2)}, opset=16)
add("GridSample", "volumetric-linear", node("GridSample", ["x", "g"], mode="linear", align_corners=1),
    {"x": f32(1, 2, 3, 4, 5), "g": _grid(1, 2, 3, 4, 3)}, opset=20)


# opset 25's sliding-window attention (onnx's reference: the window is newer than most onnxruntime kernels)
_qkv = {"q": f32(1, 2, 5, 4), "k": f32(1, 2, 5, 4), "v": f32(1, 2, 5, 4)}
add("Attention", "window-left", node("Attention", ["q", "k", "v"], left_window_size=1), _qkv, opset=25, ref="onnx")
add("Attention", "window-causal-left", node("Attention", ["q", "k", "v"], is_causal=1, left_window_size=2), _qkv,
    opset=25, ref="onnx")
add("Attention", "window-both-past", node("Attention", ["q", "k", "v", "", "pk", "pv"], ["y", "k2", "v2"],
                                          left_window_size=2, right_window_size=1),
    {**_qkv, "pk": f32(1, 2, 3, 4), "pv": f32(1, 2, 3, 4)}, opset=25, ref="onnx")


# RotaryEmbedding (opset 23): 4-D and 3-D inputs, interleaved, partial rotation, position_ids
_pos = np.asarray([[0, 3, 1, 5], [2, 2, 4, 0]], np.int64)
add("RotaryEmbedding", "4d-position-ids", node("RotaryEmbedding", ["x", "c", "s", "p"]),
    {"x": f32(2, 3, 4, 8)}, {"c": f32(6, 4), "s": f32(6, 4), "p": _pos}, opset=23, ref="onnx")
add("RotaryEmbedding", "3d-interleaved", node("RotaryEmbedding", ["x", "c", "s", "p"], num_heads=2, interleaved=1),
    {"x": f32(2, 4, 12)}, {"c": f32(6, 3), "s": f32(6, 3), "p": _pos}, opset=23, ref="onnx")
add("RotaryEmbedding", "partial-no-positions", node("RotaryEmbedding", ["x", "c", "s"], rotary_embedding_dim=4),
    {"x": f32(2, 3, 4, 8), "c": f32(2, 4, 2), "s": f32(2, 4, 2)}, opset=23, ref="onnx")

# DFT: real and complex input, forward, inverse, one-sided, padded and cut lengths
add("DFT", "opset17-real", node("DFT", ["x"], axis=1), {"x": f32(2, 8, 1)}, opset=17)
add("DFT", "opset17-onesided-length", node("DFT", ["x", "n"], axis=1, onesided=1), {"x": f32(2, 8, 1)},
    {"n": np.asarray(10, np.int64)}, opset=17)
add("DFT", "opset17-inverse-complex", node("DFT", ["x"], axis=1, inverse=1), {"x": f32(3, 6, 2)}, opset=17)
add("DFT", "opset20-axis-cut", node("DFT", ["x", "n", "a"]), {"x": f32(2, 7, 3, 2)},
    {"n": np.asarray(5, np.int64), "a": np.asarray(1, np.int64)}, opset=20, ref="onnx")

# a run-time axis: every signal axis gives the output shape here, the where picks the named one
for _ax in (0, 1, -2):
    add("DFT", f"opset20-runtime-axis{_ax}", node("DFT", ["x", "", "a"]),
        {"x": f32(4, 4, 4, 2), "a": np.asarray(_ax, np.int64)}, opset=20, ref="onnx")
add("DFT", "opset20-irfft", node("DFT", ["x", "n", "a"], inverse=1, onesided=1),
    {"x": np.stack([f32(5, 3), f32(5, 3)], -1).reshape(1, 5, 3, 2)},
    {"n": np.asarray(8, np.int64), "a": np.asarray(1, np.int64)}, opset=20, ref="onnx")
add("DFT", "opset17-irfft-default-length", node("DFT", ["x"], axis=1, inverse=1, onesided=1),
    {"x": f32(2, 5, 2)}, opset=17, ref="onnx")
# run-time scales: the output shape is declared (static), the scales are read when the program runs
add("Resize", "runtime-scales-nearest", node("Resize", ["x", "", "s"], mode="nearest"),
    {"x": f32(1, 2, 3, 4), "s": np.asarray([1, 1, 2, 1.5], np.float32)}, opset=13, ref="onnx")
add("Resize", "runtime-scales-linear-down", node("Resize", ["x", "", "s"], mode="linear"),
    {"x": f32(1, 1, 5, 5), "s": np.asarray([1, 1, 0.6, 0.6], np.float32)}, opset=13, ref="onnx")
add("Resize", "runtime-scales-cubic-axes", node("Resize", ["x", "", "s"], mode="cubic", axes=[3, 2]),
    {"x": f32(1, 2, 4, 4), "s": np.asarray([2, 0.5], np.float32)}, opset=18, ref="onnx")
add("Upsample", "runtime-scales", node("Upsample", ["x", "s"], mode="nearest"),
    {"x": f32(1, 2, 2, 3), "s": np.asarray([1, 1, 2, 3], np.float32)}, opset=9)
add("Resize", "sizes-not-larger", node("Resize", ["x", "", "", "s"], mode="nearest", axes=[2, 3],
                                       keep_aspect_ratio_policy="not_larger"),
    {"x": f32(1, 1, 4, 6)}, {"s": i64(3, 5)}, opset=18)
add("Resize", "sizes-not-smaller-axes", node("Resize", ["x", "", "", "s"], mode="linear", axes=[3, 2],
                                             keep_aspect_ratio_policy="not_smaller"),
    {"x": f32(1, 2, 4, 6)}, {"s": i64(9, 5)}, opset=18)
# STFT: frames at the step, windowed, one DFT per frame (constant step/length, or settled by the output shape)
add("STFT", "window-const-step", node("STFT", ["x", "s", "w"], onesided=1), {"x": f32(2, 64, 1)},
    {"s": np.asarray(8, np.int64), "w": np.hanning(16).astype(np.float32)}, opset=17)
add("STFT", "length-two-sided", node("STFT", ["x", "s", "", "n"], onesided=0), {"x": f32(1, 40, 1)},
    {"s": np.asarray(6, np.int64), "n": np.asarray(10, np.int64)}, opset=17)
add("STFT", "runtime-step-settled", node("STFT", ["x", "s", "w"], onesided=1),
    {"x": f32(1, 128, 1), "s": np.asarray(8, np.int64)}, {"w": np.hanning(16).astype(np.float32)}, opset=17,
    ref="onnx")
add("Det", "batch", node("Det", ["x"]), {"x": f32(2, 3, 3)}, opset=11)
add("Det", "2d", node("Det", ["x"]), {"x": f32(4, 4)}, opset=11)
add("ReverseSequence", "time0", node("ReverseSequence", ["x", "l"], batch_axis=1, time_axis=0),
    {"x": f32(4, 3, 2), "l": i64(4, 1, 3)}, opset=10)
add("ReverseSequence", "batch0-runtime-lens", node("ReverseSequence", ["x", "l"], batch_axis=0, time_axis=1),
    {"x": f32(3, 5), "l": i64(2, 5, 0)}, opset=10)
# (without an axes attribute onnx's own shape inference of the function body fails: axes given here)
add("MeanVarianceNormalization", "axes-0-2-3", node("MeanVarianceNormalization", ["x"], axes=[0, 2, 3]),
    {"x": f32(2, 3, 4, 5)}, opset=13)
add("MeanVarianceNormalization", "axes", node("MeanVarianceNormalization", ["x"], axes=[1, 2]), {"x": f32(2, 3, 4)},
    opset=13)
add("GroupNormalization", "opset21-per-channel", node("GroupNormalization", ["x", "s", "b"], num_groups=2),
    {"x": f32(2, 4, 3, 3)}, {"s": f32(4), "b": f32(4)}, opset=21, ref="onnx")
add("GroupNormalization", "opset18-per-group", node("GroupNormalization", ["x", "s", "b"], num_groups=3,
                                                    epsilon=1e-3),
    {"x": f32(2, 6, 5), "s": f32(3), "b": f32(3)}, opset=18, ref="onnx")


def _swiglu(alpha: float):
    def ref(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        a = feeds["a"].astype(np.float64)
        return {"y": (a / (1 + np.exp(-alpha * a)) * feeds["b"]).astype(np.float32)}

    return ref


# SwiGLU (opset 28) and BitCast (opset 26): the spec's formula and onnx's reference
add("SwiGLU", "default", node("SwiGLU", ["a", "b"]), {"a": f32(3, 8), "b": f32(3, 8)}, opset=28, ref=_swiglu(1.0))
add("SwiGLU", "alpha", node("SwiGLU", ["a", "b"], alpha=1.702), {"a": f32(2, 4), "b": f32(2, 4)}, opset=28,
    ref=_swiglu(1.702))
add("BitCast", "float32-to-int32", node("BitCast", ["x"], to=onnx.TensorProto.INT32), {"x": f32(3, 4)}, opset=26,
    ref="onnx")
add("BitCast", "uint16-to-float16", node("BitCast", ["x"], to=onnx.TensorProto.FLOAT16),
    {"x": ints(5, lo=0, hi=0x7C00, dtype=np.uint16)}, opset=26, ref="onnx")


# Attention's qk_matmul_output, every mode, with a mask and with a soft cap
_mask = f32(5, 5)
for _m in range(4):
    add("Attention", f"qk-output-mode{_m}", node("Attention", ["q", "k", "v", "m"], ["y", "", "", "qk"],
                                               qk_matmul_output_mode=_m), {**_qkv, "m": _mask}, opset=23)
    add("Attention", f"qk-output-mode{_m}-softcap-causal",
        node("Attention", ["q", "k", "v"], ["y", "", "", "qk"], qk_matmul_output_mode=_m, softcap=1.5, is_causal=1),
        _qkv, opset=23, ref="onnx")

# nonpad_kv_seqlen (opset 24): an external KV cache with per-batch valid lengths, alone, causal, windowed
_kv = {"q": f32(2, 2, 3, 4), "k": f32(2, 2, 6, 4), "v": f32(2, 2, 6, 4), "n": np.asarray([4, 6], np.int64)}
add("Attention", "nonpad", node("Attention", ["q", "k", "v", "", "", "", "n"]), _kv, opset=24, ref="onnx")
add("Attention", "nonpad-causal-mask", node("Attention", ["q", "k", "v", "m", "", "", "n"], is_causal=1),
    {**_kv, "m": f32(3, 6)}, opset=24, ref="onnx")
add("Attention", "nonpad-window", node("Attention", ["q", "k", "v", "", "", "", "n"], left_window_size=1,
                                       right_window_size=0), _kv, opset=25, ref="onnx")

# LinearAttention (opset 27): every update rule, GQA, a past state, per-head and per-feature decay
_la = {"q": f32(2, 3, 8), "k": f32(2, 3, 4), "v": f32(2, 3, 6)}  # q_num_heads 2, kv_num_heads 1, d_k 4, d_v 6
_la_dec = {"d": unit(-1, 0, 2, 3, 1)}
add("LinearAttention", "linear-gqa", node("LinearAttention", ["q", "k", "v"], ["y", "s"], q_num_heads=2,
                                          kv_num_heads=1, update_rule="linear"), _la, opset=27, ref="onnx")
add("LinearAttention", "gated-past", node("LinearAttention", ["q", "k", "v", "p", "d"], ["y", "s"], q_num_heads=2,
                                          kv_num_heads=1, update_rule="gated", scale=0.3),
    {**_la, "p": f32(2, 1, 4, 6), **_la_dec}, opset=27, ref="onnx")
add("LinearAttention", "delta", node("LinearAttention", ["q", "k", "v", "", "", "b"], ["y", "s"], q_num_heads=2,
                                     kv_num_heads=1, update_rule="delta"),
    {**_la, "b": unit(0, 1, 2, 3, 1)}, opset=27, ref="onnx")
add("LinearAttention", "gated-delta-feature-decay", node("LinearAttention", ["q", "k", "v", "", "d", "b"],
                                                         ["y", "s"], q_num_heads=2, kv_num_heads=2),
    {"q": f32(1, 4, 8), "k": f32(1, 4, 8), "v": f32(1, 4, 4), "d": unit(-1, 0, 1, 4, 8), "b": unit(0, 1, 1, 4, 2)},
    opset=27, ref="onnx")

# CausalConvWithState (opset 27): a depthwise conv over [past_state, input], onnx's reference
add("CausalConvWithState", "no-past", node("CausalConvWithState", ["x", "w"], ["y", "state"]),
    {"x": f32(2, 3, 6), "w": f32(3, 1, 4)}, opset=27, ref="onnx")
add("CausalConvWithState", "past-bias-silu", node("CausalConvWithState", ["x", "w", "b", "p"], ["y", "state"],
                                                  activation="silu"),
    {"x": f32(1, 4, 5), "w": f32(4, 1, 3), "b": f32(4), "p": f32(1, 4, 2)}, opset=27, ref="onnx")
add("CausalConvWithState", "kernel-one", node("CausalConvWithState", ["x", "w"], ["y", "state"], activation="swish"),
    {"x": f32(2, 2, 3), "w": f32(2, 1, 1)}, opset=27, ref="onnx")


# attribute variants that used to be refused: run-time Clip bounds and Trilu k, LayerNormalization statistics
add("Clip", "runtime-min-max", node("Clip", ["x", "lo", "hi"]),
    {"x": f32(3, 4), "lo": np.asarray(-0.5, np.float32), "hi": np.asarray(0.7, np.float32)}, opset=13)
add("Clip", "runtime-max-only-int8", node("Clip", ["x", "", "hi"]),
    {"x": ints(3, 4, lo=-100, hi=100, dtype=np.int8), "hi": np.asarray(20, np.int8)}, opset=13)
add("Clip", "runtime-min-greater-than-max", node("Clip", ["x", "lo", "hi"]),
    {"x": f32(5), "lo": np.asarray(1, np.float32)}, {"hi": np.asarray(-1, np.float32)}, opset=13)
add("Trilu", "runtime-k-upper", node("Trilu", ["x", "k"]), {"x": f32(2, 4, 5), "k": np.asarray(-1, np.int64)},
    opset=14)
add("Trilu", "runtime-k-lower-int", node("Trilu", ["x", "k"], upper=0),
    {"x": ints(3, 6), "k": np.asarray(2, np.int64)}, opset=14)
# Reduce* with axes given at run time: the declared output shape settles which axes are reduced
add("ReduceSum", "runtime-axes-keepdims", node("ReduceSum", ["x", "a"]), {"x": f32(3, 4, 5), "a": i64(1, -1)},
    opset=13, ref="onnx")
add("ReduceMax", "runtime-axes-drop", node("ReduceMax", ["x", "a"], keepdims=0), {"x": f32(3, 4, 5), "a": i64(1)},
    opset=18, ref="onnx")
add("ReduceL2", "runtime-axes-drop-size1", node("ReduceL2", ["x", "a"], keepdims=0), {"x": f32(3, 1, 5), "a": i64(0)},
    opset=18, ref="onnx")
add("ReduceSumSquare", "runtime-axes-empty-noop", node("ReduceSumSquare", ["x", "a"], noop_with_empty_axes=1),
    {"x": f32(2, 3), "a": np.zeros(0, np.int64)}, opset=18, ref="onnx")
# run-time k, depth, repeats and shape, read off the declared output shape
add("TopK", "runtime-k-declared", node("TopK", ["x", "k"], ["v", "i"], axis=0), {"x": f32(5, 3), "k": i64(2)},
    opset=11)
add("OneHot", "runtime-depth-declared", node("OneHot", ["i", "d", "v"]),
    {"i": ints(4, lo=-3, hi=3), "d": np.asarray(3, np.int64)}, {"v": np.asarray([0, 1], np.float32)}, opset=11,
    ref="onnx")
add("Tile", "runtime-repeats-declared", node("Tile", ["x", "r"]), {"x": f32(2, 3), "r": i64(2, 1)}, opset=13)
add("ConstantOfShape", "runtime-shape-declared",
    node("ConstantOfShape", ["s"], value=helper.make_tensor("v", onnx.TensorProto.INT32, [1], [7])),
    {"s": i64(2, 3)}, opset=13)
add("Range", "runtime-start-delta-declared", node("Range", ["s", "l", "d"]),
    {"s": np.asarray(1.5, np.float32), "d": np.asarray(-0.25, np.float32)}, {"l": np.asarray(-1, np.float32)},
    opset=11, ref="onnx")
add("Range", "runtime-int-declared", node("Range", ["s", "l", "d"]),
    {"s": np.asarray(-3, np.int32), "l": np.asarray(9, np.int32), "d": np.asarray(4, np.int32)}, opset=11)
for _w in ("HannWindow", "HammingWindow", "BlackmanWindow"):
    add(_w, "periodic-const", [node(_w, ["n"], ["w"]), node("Add", ["x", "w"])], {"x": f32(10)},
        {"n": np.asarray(10, np.int64)}, opset=17, ref="onnx")
    add(_w, "symmetric-runtime-size", node(_w, ["n"], periodic=0), {"n": np.asarray(7, np.int32)}, opset=17,
        ref="onnx")
# MelWeightMatrix with constant arguments is folded (audio front ends build it from constants)
add("MelWeightMatrix", "folded", [node("MelWeightMatrix", ["m", "n", "r", "lo", "hi"], ["w"]),
                                  node("MatMul", ["x", "w"])], {"x": f32(2, 9)},
    {"m": np.asarray(4, np.int64), "n": np.asarray(16, np.int64), "r": np.asarray(8000, np.int64),
     "lo": np.asarray(0, np.float32), "hi": np.asarray(4000, np.float32)}, opset=17)
# TensorScatter (opset 24): KV-cache writes, linear and circular, with and without write indices
add("TensorScatter", "linear-indices", node("TensorScatter", ["c", "u", "w"]),
    {"c": f32(2, 3, 6, 4), "u": f32(2, 3, 2, 4), "w": np.asarray([1, 4], np.int64)}, opset=24, ref="onnx")
add("TensorScatter", "circular-axis1", node("TensorScatter", ["c", "u", "w"], mode="circular", axis=1),
    {"c": f32(2, 5, 3), "u": f32(2, 3, 3), "w": np.asarray([4, 1], np.int64)}, opset=24, ref="onnx")
add("TensorScatter", "no-indices", node("TensorScatter", ["c", "u"]), {"c": f32(1, 2, 4, 2), "u": f32(1, 2, 3, 2)},
    opset=24, ref="onnx")
add("CenterCropPad", "crop-and-pad", node("CenterCropPad", ["x", "s"]), {"x": f32(5, 4, 3)}, {"s": i64(2, 7, 3)},
    opset=18, ref="onnx")
add("CenterCropPad", "axes-hw-runtime-shape", node("CenterCropPad", ["x", "s"], axes=[0, 1]),
    {"x": f32(4, 5, 2), "s": i64(3, 8)}, opset=18, ref="onnx")
add("Pad", "runtime-value", node("Pad", ["x", "p", "v"]), {"x": f32(4, 5), "v": np.asarray(1.5, np.float32)},
    {"p": i64(0, 1, 2, 1)}, opset=13)
add("Pad", "runtime-value-crop-int", node("Pad", ["x", "p", "v"]), {"x": ints(4, 5), "v": np.asarray(-7, np.int64)},
    {"p": i64(-1, 2, 1, -2)}, opset=13)
add("LayerNormalization", "mean-invstd", node("LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"], axis=1),
    {"x": f32(2, 3, 4)}, {"s": f32(3, 4), "b": f32(3, 4)}, opset=17)
add("LayerNormalization", "invstd-only-last", node("LayerNormalization", ["x", "s"], ["y", "", "inv"], epsilon=1e-2),
    {"x": f32(4, 5)}, {"s": f32(5)}, opset=17, ref="onnx")
# float16 input, float32 statistics (stash_type 1); Y itself is within a float16 ulp, which assert_close's
# 1e-4 does not allow, so the case checks the statistics
add("LayerNormalization", "fp16-stash-float", node("LayerNormalization", ["x", "s"], ["y", "mean", "inv"]),
    {"x": f32(3, 8).astype(np.float16)}, {"s": f32(8).astype(np.float16)}, opset=17,
    outputs=["mean", "inv"])


# ---------------------------------------------------------------------------------------------
# the tests


def _static(o: onnx.ValueInfoProto) -> bool:
    t = o.type.tensor_type if o.type.HasField("tensor_type") else None
    return t is not None and t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim)


def _load(case: Case, tmp_path, monkeypatch: pytest.MonkeyPatch) -> tuple[onnx.ModelProto, Any]:
    model = build(case)
    if not all(_static(o) for o in model.graph.output):
        # onnx infers no output shape for some function ops (GroupNormalization) or from run-time scales
        # (Resize): declare it, as exporters do
        ref = run_reference(model, case.inputs, case.ref)
        del model.graph.output[:]
        model.graph.output.extend(helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                                  for k, v in ref.items())
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    if case.opset > loader.MAX_OPSET:
        monkeypatch.setattr(loader, "MAX_OPSET", case.opset)
    return model, path


#: the op families these two files cover (others, e.g. the recurrent layers, have their own test file)
FAMILIES = {f"h3pc.frontend.ops.{m}" for m in ("elementwise", "gemm", "layout", "norm", "pool", "reduce", "attention",
                                               "signal")}


def test_every_new_importer_has_a_case() -> None:
    """Every importer entry of those families that test_reference_ops.py does not cover has a case here."""
    covered = {c.op for c in BASE_CASES} | {c.op for c in TAIL_CASES}
    ours = {t for t, e in load_importers().items() if e.fn.__module__ in FAMILIES}
    assert len(ours) > 100, sorted(ours)
    missing = sorted(ours - covered)
    assert not missing, f"ops without a reference case: {missing}"


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in TAIL_CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", TAIL_CASES, ids=[c.id for c in TAIL_CASES])
def test_matches_onnxruntime(case: Case, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, path = _load(case, tmp_path, monkeypatch)
    ref = run_reference(model, case.inputs, case.ref)
    imported = import_model(path)
    imported.module.verify()
    got = NNProgram(imported.module, imported.weights).run(case.inputs)
    assert set(got) == set(ref)
    for name, r in ref.items():
        assert_close(name, got[name], r)


def test_swish_formula_is_onnxruntime_s(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Swish cases use the spec's formula; the pinned onnxruntime runs opset 24 Swish and agrees."""
    case = next(c for c in TAIL_CASES if c.id == "Swish-alpha")
    model, _ = _load(case, tmp_path, monkeypatch)
    ort_out = run_reference(model, case.inputs, "ort")
    assert_close("y", case.ref(case.inputs)["y"], ort_out["y"])


UNSUPPORTED = [
    Case("GridSample", "cubic-border", [node("GridSample", ["x", "g"], mode="cubic", padding_mode="border")],
         {"x": f32(1, 1, 4, 4), "g": unit(-1, 1, 1, 2, 2, 2)}, opset=20),
    # a run-time k, depth with no output shape declared: nothing settles the shape
    Case("TopK", "runtime-k-undeclared", [node("TopK", ["x", "k"], ["v", "i"])], {"x": f32(3, 4), "k": i64(2)},
         opset=11),
    Case("OneHot", "runtime-depth-undeclared", [node("OneHot", ["i", "d", "v"])],
         {"i": ints(3, lo=0, hi=3), "d": np.asarray(3, np.int64)}, {"v": np.asarray([0, 1], np.float32)}, opset=11),
    Case("LpNormalization", "p3", [node("LpNormalization", ["x"], p=3)], {"x": f32(3, 4)}, opset=13),
    Case("Celu", "alpha0", [node("Celu", ["x"], alpha=0.0)], {"x": f32(3, 4)}, opset=12),
    Case("Attention", "nonpad-with-past", [node("Attention", ["q", "k", "v", "", "pk", "pv", "n"])],
         {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 3, 4), "v": f32(1, 2, 3, 4), "pk": f32(1, 2, 2, 4),
          "pv": f32(1, 2, 2, 4), "n": np.asarray([4], np.int64)}, opset=24),
    Case("Resize", "runtime-scales-align-corners", [node("Resize", ["x", "", "s"], mode="linear",
                                                         coordinate_transformation_mode="align_corners")],
         {"x": f32(1, 1, 4, 4), "s": np.asarray([1, 1, 0.6, 0.6], np.float32)}, opset=13),
    Case("MaxUnpool", "larger-output-shape", [node("MaxUnpool", ["p", "i", "s"], kernel_shape=[2, 2], strides=[2, 2])],
         {"p": f32(1, 1, 2, 2)}, {"i": np.asarray([[[[5, 7], [13, 15]]]], np.int64), "s": i64(1, 1, 5, 5)}, opset=12),
    Case("DFT", "runtime-axis-no-candidate", [node("DFT", ["x", "", "a"], onesided=1)],
         {"x": f32(2, 8, 1), "a": np.asarray(1, np.int64)}, opset=20),
    Case("ReverseSequence", "axes-1-2", [node("ReverseSequence", ["x", "l"], batch_axis=1, time_axis=2)],
         {"x": f32(2, 3, 4)}, {"l": i64(1, 2, 3)}, opset=10),
]


@pytest.mark.parametrize("case", UNSUPPORTED, ids=[c.id for c in UNSUPPORTED])
def test_unsupported_raises_one_line(case: Case, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused with one line that names the node and the op (no traceback, no wrong numbers)."""
    if case.opset > loader.MAX_OPSET:
        monkeypatch.setattr(loader, "MAX_OPSET", case.opset)
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(
        helper.make_graph(case.nodes, "g",
                          [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                           for k, v in case.inputs.items()],
                          [helper.make_value_info(o, onnx.TypeProto()) for o in case.nodes[-1].output if o],
                          initializer=[onnx.numpy_helper.from_array(v, k) for k, v in case.inits.items()]),
        opset_imports=[helper.make_opsetid("", case.opset)], ir_version=10), str(path))
    with pytest.raises(H3pcError) as info:
        import_model(path)
    text = str(info.value)
    assert "\n" not in text and f"({case.op})" in text, text


def test_runtime_reduce_axes_that_the_shape_does_not_settle_are_refused(tmp_path) -> None:
    """[3, 2, 2] -> [3, 2] reduces axis 1 or axis 2, which give different values: refused, by name."""
    graph = helper.make_graph([node("ReduceMean", ["x", "a"], keepdims=0)], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3, 2, 2]),
                               helper.make_tensor_value_info("a", onnx.TensorProto.INT64, [1])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3, 2])])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), str(path))
    with pytest.raises(H3pcError, match=r"\(ReduceMean\): 'axes' \(input 1\) is known only at run time"):
        import_model(path)
