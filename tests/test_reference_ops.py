"""Every ONNX op the frontend imports, checked end to end against onnxruntime.

Each case is a single-node (or tiny multi-node) model built with `onnx.helper`; it goes through
`import_model` -> `NNProgram` (the numpy kernels of `runtime/reference.py`) and must match
onnxruntime's CPUExecutionProvider within max|diff| <= 1e-4 * max(1, max|ref|), exactly for integer
and boolean outputs. Data tensors are graph inputs, so real nn ops are emitted; shape-like arguments
are initializers, as exporters write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from h3pc.diagnostics import UnsupportedError
from h3pc.frontend.importer import import_model
from h3pc.frontend.ops import load_importers
from h3pc.runtime.evaluate import NNProgram

RNG = np.random.default_rng(20240611)
I64_MAX = np.iinfo(np.int64).max


# ---------------------------------------------------------------------------------------------
# case construction


@dataclass
class Case:
    op: str  # the ONNX op type this case is filed under
    name: str
    nodes: list
    inputs: dict[str, np.ndarray]
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    opset: int = 17
    outputs: list[str] | None = None
    #: "ort"; for valid ONNX that onnxruntime's CPU kernels reject, "onnx" (onnx.reference) or a
    #: function of the feeds that spells out the spec's formula
    ref: Any = "ort"

    @property
    def id(self) -> str:
        return f"{self.op}-{self.name}"


CASES: list[Case] = []


def add(op: str, name: str, nodes, inputs: dict, inits: dict | None = None, opset: int = 17,
        outputs: Sequence[str] | None = None, ref: Any = "ort") -> None:
    nodes = nodes if isinstance(nodes, list) else [nodes]
    CASES.append(Case(op, name, nodes, dict(inputs), dict(inits or {}), opset, list(outputs) if outputs else None,
                      ref))


def node(op: str, ins: Sequence[str], outs: Sequence[str] = ("y",), **attrs) -> onnx.NodeProto:
    return helper.make_node(op, list(ins), list(outs), **attrs)


def f32(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def pos(*shape: int) -> np.ndarray:
    return f32(*shape, lo=0.1, hi=3.0)


def ints(*shape: int, lo: int = -5, hi: int = 6, dtype=np.int64) -> np.ndarray:
    return RNG.integers(lo, hi, size=shape).astype(dtype)


def bools(*shape: int) -> np.ndarray:
    return RNG.random(shape) < 0.5


def i64(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def build(case: Case) -> onnx.ModelProto:
    def vi(name: str, arr: np.ndarray) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape)

    outs = case.outputs or [o for o in case.nodes[-1].output if o]
    graph = helper.make_graph(
        case.nodes, case.id.replace("-", "_"),
        [vi(k, v) for k, v in case.inputs.items()],
        [helper.make_value_info(o, onnx.TypeProto()) for o in outs],
        initializer=[onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in case.inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.opset)], ir_version=10)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    del model.graph.output[:]
    model.graph.output.extend(inferred.graph.output)
    return model


def run_reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray], ref: Any) -> dict[str, np.ndarray]:
    if callable(ref):
        return ref(feeds)
    if ref == "onnx":
        from onnx.reference import ReferenceEvaluator

        sess = ReferenceEvaluator(model)
        return dict(zip(sess.output_names, (np.asarray(r) for r in sess.run(None, feeds))))
    return run_ort(model, feeds)


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds)))


def assert_close(name: str, got: np.ndarray, ref: np.ndarray) -> None:
    assert got.shape == ref.shape, f"{name}: shape {got.shape}, onnxruntime {ref.shape}"
    assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype}, onnxruntime {ref.dtype}"
    if ref.dtype.kind in "biu":
        mism = np.argwhere(got != ref)
        assert mism.size == 0, f"{name}: {len(mism)} mismatches, first at {tuple(mism[0])}: {got[tuple(mism[0])]} vs {ref[tuple(mism[0])]}"
        return
    assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{name}: NaN positions differ"
    assert np.array_equal(np.isinf(got) & (got > 0), np.isinf(ref) & (ref > 0)), f"{name}: +inf positions differ"
    assert np.array_equal(np.isinf(got) & (got < 0), np.isinf(ref) & (ref < 0)), f"{name}: -inf positions differ"
    fin = np.isfinite(ref)
    if not fin.any():
        return
    g, r = got[fin].astype(np.float64), ref[fin].astype(np.float64)
    diff = float(np.max(np.abs(g - r)))
    tol = 1e-4 * max(1.0, float(np.max(np.abs(r))))
    assert diff <= tol, f"{name}: max|diff| {diff:.3g} > {tol:.3g}"


# ---------------------------------------------------------------------------------------------
# elementwise


X = (2, 3, 4)

for op, gen in {
    "Neg": lambda: f32(*X), "Abs": lambda: f32(*X), "Reciprocal": lambda: pos(*X), "Sqrt": lambda: pos(*X),
    "Exp": lambda: f32(*X), "Log": lambda: pos(*X), "Erf": lambda: f32(*X, lo=-4, hi=4),
    "Tanh": lambda: f32(*X, lo=-5, hi=5), "Sigmoid": lambda: f32(*X, lo=-30, hi=30), "Relu": lambda: f32(*X),
    "Floor": lambda: f32(*X, lo=-5, hi=5), "Ceil": lambda: f32(*X, lo=-5, hi=5),
    "Round": lambda: (np.arange(24, dtype=np.float32).reshape(X) - 12) / 2 + np.float32(0.0),
    "Sign": lambda: np.round(f32(*X)), "Sin": lambda: f32(*X, lo=-6, hi=6), "Cos": lambda: f32(*X, lo=-6, hi=6),
    "Softplus": lambda: f32(*X, lo=-20, hi=20), "HardSwish": lambda: f32(*X, lo=-5, hi=5),
}.items():
    add(op, "f32", node(op, ["x"]), {"x": gen()}, opset=14)
add("Neg", "int64", node("Neg", ["x"]), {"x": ints(*X)}, opset=14)
add("Abs", "int32", node("Abs", ["x"]), {"x": ints(*X, dtype=np.int32)}, opset=14)
add("Sign", "int64", node("Sign", ["x"]), {"x": ints(*X)}, opset=14)
add("Relu", "opset9", node("Relu", ["x"]), {"x": f32(*X)}, opset=9)
add("Not", "bool", node("Not", ["x"]), {"x": bools(*X)})
add("Sqrt", "f64", node("Sqrt", ["x"]), {"x": pos(*X).astype(np.float64)})
add("Exp", "f16", node("Exp", ["x"]), {"x": f32(*X).astype(np.float16)})

BCAST = [((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 1, 4), (1, 3, 1)), ((3, 4), ()), ((1,), (2, 3))]
for op in ("Add", "Sub", "Mul", "Div"):
    for sa, sb in BCAST:
        b = f32(*sb) if op != "Div" else pos(*sb) * np.where(RNG.random(sb) < 0.5, -1, 1).astype(np.float32)
        add(op, f"{sa}x{sb}", node(op, ["a", "b"]), {"a": f32(*sa), "b": np.asarray(b, np.float32)}, opset=14)
    add(op, "int64", node(op, ["a", "b"]),
        {"a": ints(3, 4, lo=-20, hi=21), "b": ints(4, lo=1, hi=5) * np.array([1, -1, 1, -1])}, opset=14)
    add(op, "int32", node(op, ["a", "b"]),
        {"a": ints(2, 3, lo=-20, hi=21, dtype=np.int32), "b": ints(2, 1, lo=1, hi=7, dtype=np.int32)}, opset=14)
add("Add", "opset7-f64", node("Add", ["a", "b"]), {"a": f32(2, 3).astype(np.float64), "b": f32(3).astype(np.float64)},
    opset=9)
add("Pow", "f32", node("Pow", ["a", "b"]), {"a": pos(2, 3, 4), "b": f32(4)}, opset=15)
add("Pow", "bcast-scalar", node("Pow", ["a", "b"]), {"a": f32(2, 3), "b": np.asarray(2.0, np.float32)}, opset=15)
add("Pow", "int-exponent", node("Pow", ["a", "b"]), {"a": f32(2, 3), "b": i64(0, 1, 3)}, opset=15)
add("Pow", "int64", node("Pow", ["a", "b"]), {"a": ints(3, 4, lo=-4, hi=5), "b": ints(4, lo=0, hi=4)}, opset=15)
add("Pow", "const-exponent", node("Pow", ["a", "e"]), {"a": pos(3, 4)}, {"e": np.asarray(0.5, np.float32)}, opset=15)

for op in ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"):
    a = np.round(f32(2, 3, 4))
    add(op, "f32-bcast", node(op, ["a", "b"]), {"a": a, "b": np.round(f32(3, 1))}, opset=16)
    add(op, "int64-bcast", node(op, ["a", "b"]), {"a": ints(2, 3, 4, lo=-2, hi=3), "b": ints(4, lo=-2, hi=3)}, opset=16)
add("Equal", "bool", node("Equal", ["a", "b"]), {"a": bools(3, 4), "b": bools(4)}, opset=16)
for op in ("And", "Or", "Xor"):
    add(op, "bool-bcast", node(op, ["a", "b"]), {"a": bools(2, 3, 4), "b": bools(3, 1)})
    add(op, "bool-same", node(op, ["a", "b"]), {"a": bools(5), "b": bools(5)})

for op in ("Sum", "Mean", "Max", "Min"):
    add(op, "3-inputs-bcast", node(op, ["a", "b", "c"]), {"a": f32(2, 3, 4), "b": f32(3, 1), "c": f32(4)}, opset=13)
    add(op, "1-input", node(op, ["a"]), {"a": f32(3, 4)}, opset=13)
    add(op, "2-inputs-bcast-up", node(op, ["a", "b"]), {"a": f32(3, 1), "b": f32(2, 1, 4)}, opset=13)
add("Max", "int64", node("Max", ["a", "b", "c"]), {"a": ints(3, 4), "b": ints(4), "c": ints(3, 1)}, opset=13)
add("Min", "int32", node("Min", ["a", "b"]), {"a": ints(3, 4, dtype=np.int32), "b": ints(1, dtype=np.int32)}, opset=13)

add("Where", "bcast", node("Where", ["c", "a", "b"]), {"c": bools(2, 1, 4), "a": f32(3, 4), "b": f32(2, 3, 1)}, opset=16)
add("Where", "int64", node("Where", ["c", "a", "b"]), {"c": bools(3, 4), "a": ints(3, 4), "b": ints(1)}, opset=16)
add("Where", "scalar-other", node("Where", ["c", "a", "b"]), {"c": bools(2, 3), "a": f32(2, 3)},
    {"b": np.asarray(-1e9, np.float32)}, opset=16)

CAST_IN = np.concatenate([f32(10, lo=-9, hi=9), np.array([0.0, -0.0, 2.5, -2.5, 0.9, -0.9], np.float32)]).reshape(4, 4)
for to, tname in ((TensorProto.INT32, "f32-to-int32"), (TensorProto.INT64, "f32-to-int64"),
                  (TensorProto.BOOL, "f32-to-bool"), (TensorProto.FLOAT16, "f32-to-f16"),
                  (TensorProto.DOUBLE, "f32-to-f64"), (TensorProto.INT8, "f32-to-int8")):
    add("Cast", tname, node("Cast", ["x"], to=to), {"x": CAST_IN}, opset=13)
add("Cast", "int64-to-f32", node("Cast", ["x"], to=TensorProto.FLOAT), {"x": ints(3, 4, lo=-100, hi=100)}, opset=13)
add("Cast", "int32-to-int64", node("Cast", ["x"], to=TensorProto.INT64), {"x": ints(3, 4, dtype=np.int32)}, opset=13)
add("Cast", "int64-to-bool", node("Cast", ["x"], to=TensorProto.BOOL), {"x": ints(3, 4, lo=-2, hi=3)}, opset=13)
add("Cast", "bool-to-f32", node("Cast", ["x"], to=TensorProto.FLOAT), {"x": bools(3, 4)}, opset=13)
add("Cast", "bool-to-int64", node("Cast", ["x"], to=TensorProto.INT64), {"x": bools(3, 4)}, opset=13)
add("Cast", "f32-to-f32", node("Cast", ["x"], to=TensorProto.FLOAT), {"x": f32(3, 4)}, opset=13)
add("CastLike", "f32-like-int64", node("CastLike", ["x", "t"]), {"x": CAST_IN, "t": ints(1)}, opset=15)
add("CastLike", "int64-like-f32", node("CastLike", ["x", "t"]), {"x": ints(3, 4)}, {"t": np.zeros(1, np.float32)},
    opset=15)

add("Sigmoid", "opset9", node("Sigmoid", ["x"]), {"x": f32(3, 4, lo=-10, hi=10)}, opset=9)
add("HardSigmoid", "default", node("HardSigmoid", ["x"]), {"x": f32(*X, lo=-5, hi=5)})
add("HardSigmoid", "alpha-beta", node("HardSigmoid", ["x"], alpha=0.3, beta=0.4), {"x": f32(*X, lo=-5, hi=5)})
add("Tanh", "opset9", node("Tanh", ["x"]), {"x": f32(3, 4)}, opset=9)
add("LeakyRelu", "default", node("LeakyRelu", ["x"]), {"x": f32(*X)})
add("LeakyRelu", "alpha", node("LeakyRelu", ["x"], alpha=0.3), {"x": f32(*X)})
add("PRelu", "slope-channel", node("PRelu", ["x", "s"]), {"x": f32(2, 3, 4, 4)}, {"s": f32(3, 1, 1)})
add("PRelu", "slope-scalar", node("PRelu", ["x", "s"]), {"x": f32(2, 3, 4)}, {"s": f32(1)})
add("PRelu", "slope-trailing-input", node("PRelu", ["x", "s"]), {"x": f32(2, 3, 4), "s": f32(4)})
add("Elu", "default", node("Elu", ["x"]), {"x": f32(*X, lo=-4, hi=4)})
add("Elu", "alpha", node("Elu", ["x"], alpha=0.5), {"x": f32(*X, lo=-4, hi=4)})
add("Clip", "opset11-both", node("Clip", ["x", "lo", "hi"]), {"x": f32(*X)},
    {"lo": np.asarray(-0.5, np.float32), "hi": np.asarray(0.7, np.float32)}, opset=11)
add("Clip", "opset13-min-only", node("Clip", ["x", "lo"]), {"x": f32(*X)}, {"lo": np.asarray(0.2, np.float32)}, opset=13)
add("Clip", "opset13-max-only", node("Clip", ["x", "", "hi"]), {"x": f32(*X)}, {"hi": np.asarray(0.1, np.float32)},
    opset=13)
add("Clip", "opset13-none", node("Clip", ["x"]), {"x": f32(*X)}, opset=13)
add("Clip", "opset13-int64", node("Clip", ["x", "lo", "hi"]), {"x": ints(*X, lo=-10, hi=10)},
    {"lo": np.asarray(-3, np.int64), "hi": np.asarray(4, np.int64)}, opset=13)
add("Clip", "opset9-attrs", node("Clip", ["x"], min=-0.3, max=0.6), {"x": f32(*X)}, opset=9)
add("Clip", "opset9-min-attr", node("Clip", ["x"], min=0.0), {"x": f32(*X)}, opset=9)
add("Clip", "opset9-max-attr", node("Clip", ["x"], max=6.0), {"x": f32(*X, lo=-10, hi=10)}, opset=9)
add("Gelu", "none", node("Gelu", ["x"]), {"x": f32(*X, lo=-5, hi=5)}, opset=20)
add("Gelu", "tanh", node("Gelu", ["x"], approximate="tanh"), {"x": f32(*X, lo=-5, hi=5)}, opset=20)
add("Erf", "wide", node("Erf", ["x"]), {"x": f32(4, 8, lo=-6, hi=6)}, opset=13)
add("Identity", "f32", node("Identity", ["x"]), {"x": f32(*X)}, opset=16)
add("Identity", "between-ops", [node("Relu", ["x"], ["r"]), node("Identity", ["r"], ["y"])], {"x": f32(*X)}, opset=16)
add("Dropout", "opset13-ratio-mask", node("Dropout", ["x", "r"], ["y", "m"]), {"x": f32(*X)},
    {"r": np.asarray(0.3, np.float32)}, opset=13)
add("Dropout", "opset12-plain", [node("Dropout", ["x"], ["d"]), node("Relu", ["d"], ["y"])], {"x": f32(*X)}, opset=12)
add("Dropout", "opset9-ratio-attr", node("Dropout", ["x"], ratio=0.5), {"x": f32(*X)}, opset=9)


# ---------------------------------------------------------------------------------------------
# GEMM-like

add("MatMul", "2d", node("MatMul", ["a", "b"]), {"a": f32(3, 4), "b": f32(4, 5)})
add("MatMul", "1d-x-2d", node("MatMul", ["a", "b"]), {"a": f32(4), "b": f32(4, 5)})
add("MatMul", "2d-x-1d", node("MatMul", ["a", "b"]), {"a": f32(3, 4), "b": f32(4)})
add("MatMul", "1d-x-1d", node("MatMul", ["a", "b"]), {"a": f32(4), "b": f32(4)})
add("MatMul", "batched", node("MatMul", ["a", "b"]), {"a": f32(2, 3, 4), "b": f32(2, 4, 5)})
add("MatMul", "batched-bcast", node("MatMul", ["a", "b"]), {"a": f32(2, 1, 3, 4), "b": f32(5, 4, 6)})
add("MatMul", "3d-x-2d-weight", node("MatMul", ["a", "w"]), {"a": f32(2, 3, 4)}, {"w": f32(4, 6)})
add("MatMul", "1d-x-3d", node("MatMul", ["a", "b"]), {"a": f32(4), "b": f32(2, 4, 5)})
add("MatMul", "3d-x-1d", node("MatMul", ["a", "b"]), {"a": f32(2, 3, 4), "b": f32(4)})

for ta in (0, 1):
    for tb in (0, 1):
        a = f32(4, 3) if ta else f32(3, 4)
        b = f32(5, 4) if tb else f32(4, 5)
        add("Gemm", f"tA{ta}-tB{tb}", node("Gemm", ["a", "b", "c"], transA=ta, transB=tb), {"a": a, "b": b, "c": f32(3, 5)},
            opset=13)
add("Gemm", "alpha-beta", node("Gemm", ["a", "b", "c"], alpha=0.5, beta=2.0), {"a": f32(3, 4), "b": f32(4, 5),
                                                                            "c": f32(3, 5)}, opset=13)
add("Gemm", "no-C", node("Gemm", ["a", "b"], alpha=1.5, transB=1), {"a": f32(3, 4), "b": f32(5, 4)}, opset=13)
add("Gemm", "C-row", node("Gemm", ["a", "w", "c"], transB=1), {"a": f32(3, 4)}, {"w": f32(5, 4), "c": f32(5)}, opset=13)
add("Gemm", "C-col-beta", node("Gemm", ["a", "b", "c"], beta=-1.0), {"a": f32(3, 4), "b": f32(4, 5), "c": f32(3, 1)},
    opset=13)
add("Gemm", "C-scalar", node("Gemm", ["a", "b", "c"], beta=0.5), {"a": f32(3, 4), "b": f32(4, 5)},
    {"c": np.asarray(3.0, np.float32)}, opset=13)
add("Gemm", "C-1x1-opset9", node("Gemm", ["a", "b", "c"], transA=1), {"a": f32(4, 3), "b": f32(4, 5), "c": f32(1, 1)},
    opset=9)


def conv_case(name: str, x, w, b=None, opset: int = 11, ref: str = "ort", **attrs) -> None:
    ins = ["x", "w"] + (["b"] if b is not None else [])
    feeds = {"x": x}
    inits = {"w": w}
    if b is not None:
        inits["b"] = b
    add("Conv", name, node("Conv", ins, **attrs), feeds, inits, opset=opset, ref=ref)


conv_case("2d-bias", f32(2, 3, 7, 7), f32(4, 3, 3, 3), f32(4), kernel_shape=[3, 3])
conv_case("2d-no-bias", f32(1, 3, 6, 5), f32(4, 3, 3, 2))
conv_case("strides", f32(1, 2, 9, 8), f32(3, 2, 3, 3), f32(3), strides=[2, 3])
conv_case("dilations", f32(1, 2, 9, 9), f32(3, 2, 3, 3), dilations=[2, 1])
conv_case("asym-pads", f32(1, 2, 6, 6), f32(3, 2, 3, 3), f32(3), pads=[0, 1, 2, 1])
conv_case("pads-strides-dil", f32(2, 2, 8, 7), f32(2, 2, 3, 2), pads=[1, 2, 1, 0], strides=[2, 2], dilations=[2, 2])
conv_case("groups-2", f32(1, 4, 6, 6), f32(6, 2, 3, 3), f32(6), group=2, pads=[1, 1, 1, 1])
conv_case("depthwise", f32(2, 3, 6, 6), f32(3, 1, 3, 3), f32(3), group=3, pads=[1, 1, 1, 1])
conv_case("depthwise-mult", f32(1, 3, 5, 5), f32(6, 1, 3, 3), group=3, strides=[2, 2])
conv_case("same-upper", f32(1, 2, 7, 6), f32(3, 2, 3, 4), auto_pad="SAME_UPPER", strides=[2, 2])
conv_case("same-lower", f32(1, 2, 7, 6), f32(3, 2, 3, 4), auto_pad="SAME_LOWER", strides=[2, 2])
# onnxruntime: "Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER"
conv_case("same-upper-dil", f32(1, 2, 7, 7), f32(3, 2, 3, 3), ref="onnx", auto_pad="SAME_UPPER", dilations=[2, 2])
conv_case("same-lower-dil-stride", f32(1, 2, 8, 7), f32(3, 2, 3, 2), ref="onnx", auto_pad="SAME_LOWER", dilations=[2, 3],
          strides=[2, 2])
conv_case("valid", f32(1, 2, 7, 6), f32(3, 2, 3, 3), f32(3), auto_pad="VALID", strides=[2, 1])
conv_case("1d", f32(2, 3, 10), f32(4, 3, 3), f32(4), pads=[1, 2], strides=[2])
conv_case("1d-dil-group", f32(1, 4, 12), f32(4, 2, 3), group=2, dilations=[3])
conv_case("3d", f32(1, 2, 4, 5, 5), f32(2, 2, 2, 3, 3), f32(2), pads=[0, 1, 1, 1, 0, 1])
conv_case("1x1", f32(2, 8, 4, 4), f32(5, 8, 1, 1), f32(5))
add("Conv", "weight-input", node("Conv", ["x", "w", "b"], pads=[1, 1, 1, 1]), {"x": f32(1, 2, 5, 5), "w": f32(3, 2, 3, 3),
                                                                           "b": f32(3)})


def convt_case(name: str, x, w, b=None, opset: int = 11, **attrs) -> None:
    ins = ["x", "w"] + (["b"] if b is not None else [])
    inits = {"w": w}
    if b is not None:
        inits["b"] = b
    add("ConvTranspose", name, node("ConvTranspose", ins, **attrs), {"x": x}, inits, opset=opset)


convt_case("basic-bias", f32(1, 2, 4, 4), f32(2, 3, 3, 3), f32(3))
convt_case("strides", f32(2, 2, 3, 4), f32(2, 3, 3, 3), f32(3), strides=[2, 2])
convt_case("strides-pads", f32(1, 2, 4, 4), f32(2, 3, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1])
convt_case("asym-pads", f32(1, 2, 4, 4), f32(2, 2, 3, 3), strides=[2, 1], pads=[0, 1, 2, 0])
convt_case("output-padding", f32(1, 2, 3, 3), f32(2, 3, 3, 3), f32(3), strides=[2, 3], output_padding=[1, 2])
convt_case("output-shape", f32(1, 2, 3, 3), f32(2, 3, 3, 3), strides=[2, 2], output_shape=[6, 7])
convt_case("output-shape-exact", f32(1, 2, 3, 3), f32(2, 3, 3, 3), strides=[2, 2], output_shape=[7, 7])
convt_case("group", f32(1, 4, 3, 3), f32(4, 2, 3, 3), f32(4), group=2, strides=[2, 2])
convt_case("dilations", f32(1, 2, 3, 3), f32(2, 2, 2, 2), dilations=[2, 2])
convt_case("1d", f32(2, 3, 5), f32(3, 2, 4), f32(2), strides=[3], pads=[1, 0])
convt_case("same-upper", f32(1, 2, 3, 3), f32(2, 2, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
convt_case("same-lower", f32(1, 2, 3, 3), f32(2, 2, 3, 3), strides=[2, 2], auto_pad="SAME_LOWER")
convt_case("valid", f32(1, 2, 3, 3), f32(2, 2, 3, 3), strides=[2, 2], auto_pad="VALID")


# ---------------------------------------------------------------------------------------------
# normalisation and softmax

add("BatchNormalization", "4d", node("BatchNormalization", ["x", "s", "b", "m", "v"], epsilon=1e-3),
    {"x": f32(2, 3, 4, 5)}, {"s": f32(3), "b": f32(3), "m": f32(3), "v": pos(3)}, opset=15)
add("BatchNormalization", "2d", node("BatchNormalization", ["x", "s", "b", "m", "v"]),
    {"x": f32(4, 3)}, {"s": f32(3), "b": f32(3), "m": f32(3), "v": pos(3)}, opset=15)
add("BatchNormalization", "3d-opset9", node("BatchNormalization", ["x", "s", "b", "m", "v"]),
    {"x": f32(2, 3, 6)}, {"s": f32(3), "b": f32(3), "m": f32(3), "v": pos(3)}, opset=9)
add("BatchNormalization", "params-as-inputs", node("BatchNormalization", ["x", "s", "b", "m", "v"]),
    {"x": f32(2, 3, 4, 4), "s": f32(3), "b": f32(3), "m": f32(3), "v": pos(3)}, opset=14)

add("LayerNormalization", "last-axis-bias", node("LayerNormalization", ["x", "s", "b"]), {"x": f32(2, 3, 8)},
    {"s": f32(8), "b": f32(8)})
add("LayerNormalization", "last-axis-no-bias", node("LayerNormalization", ["x", "s"], epsilon=1e-3), {"x": f32(2, 3, 8)},
    {"s": f32(8)})
add("LayerNormalization", "inner-axis", node("LayerNormalization", ["x", "s", "b"], axis=1), {"x": f32(2, 3, 4)},
    {"s": f32(3, 4), "b": f32(3, 4)})
add("LayerNormalization", "neg-inner-axis-no-bias", node("LayerNormalization", ["x", "s"], axis=-2),
    {"x": f32(2, 3, 4, 5)}, {"s": f32(4, 5)})
add("LayerNormalization", "scale-input", node("LayerNormalization", ["x", "s", "b"]),
    {"x": f32(3, 6), "s": f32(6), "b": f32(6)})

add("RMSNormalization", "last-axis", node("RMSNormalization", ["x", "s"]), {"x": f32(2, 3, 8)}, {"s": f32(8)}, opset=23)
add("RMSNormalization", "inner-axis", node("RMSNormalization", ["x", "s"], axis=1, epsilon=1e-3), {"x": f32(2, 3, 4)},
    {"s": f32(3, 4)}, opset=23)
add("RMSNormalization", "scale-input", node("RMSNormalization", ["x", "s"], axis=-1), {"x": f32(4, 6), "s": f32(6)},
    opset=23)

for op in ("Softmax", "LogSoftmax"):
    for axis in (-1, 0, 1, 2):
        add(op, f"opset13-axis{axis}", node(op, ["x"], axis=axis), {"x": f32(2, 3, 4, lo=-5, hi=5)}, opset=13)
    add(op, "opset13-default", node(op, ["x"]), {"x": f32(3, 5, lo=-5, hi=5)}, opset=13)
    add(op, "opset11-axis1-3d", node(op, ["x"], axis=1), {"x": f32(2, 3, 4, lo=-5, hi=5)}, opset=11)
    add(op, "opset11-default-3d", node(op, ["x"]), {"x": f32(2, 3, 4, lo=-5, hi=5)}, opset=11)
    add(op, "opset11-axis0-3d", node(op, ["x"], axis=0), {"x": f32(2, 3, 4, lo=-5, hi=5)}, opset=11)
    add(op, "opset11-axis-last", node(op, ["x"], axis=-1), {"x": f32(2, 3, 4, lo=-5, hi=5)}, opset=11)
    add(op, "opset11-2d", node(op, ["x"]), {"x": f32(3, 5, lo=-5, hi=5)}, opset=11)
    add(op, "opset9-axis1-4d", node(op, ["x"], axis=1), {"x": f32(2, 3, 2, 2, lo=-5, hi=5)}, opset=9)
    add(op, "opset11-axis1-trailing-ones", node(op, ["x"], axis=1), {"x": f32(2, 5, 1, 1, lo=-5, hi=5)}, opset=11)

add("LRN", "size3", node("LRN", ["x"], size=3), {"x": f32(2, 5, 4, 4)})
add("LRN", "size5-params", node("LRN", ["x"], size=5, alpha=1e-2, beta=0.5, bias=2.0), {"x": f32(1, 6, 3, 3)})


def lrn_spec(size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0):
    """The ONNX LRN formula, channel by channel (onnxruntime only runs odd sizes on 4-D inputs)."""

    def ref(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = feeds["x"].astype(np.float64)
        c = x.shape[1]
        sq = np.zeros_like(x)
        for i in range(c):
            lo, hi = max(0, i - (size - 1) // 2), min(c - 1, i + -(-(size - 1) // 2))
            sq[:, i] = (x[:, lo : hi + 1] ** 2).sum(axis=1)
        return {"y": (x / (bias + alpha / size * sq) ** beta).astype(np.float32)}

    return ref


add("LRN", "size4-even", node("LRN", ["x"], size=4, alpha=1e-2, beta=0.5, bias=2.0), {"x": f32(1, 6, 3, 3)},
    ref=lrn_spec(4, 1e-2, 0.5, 2.0))
add("LRN", "size2-even-3d", node("LRN", ["x"], size=2, alpha=0.3), {"x": f32(2, 5, 4)}, ref=lrn_spec(2, 0.3))
add("LRN", "size5-3d", node("LRN", ["x"], size=5, alpha=0.1), {"x": f32(2, 7, 5)}, ref=lrn_spec(5, 0.1))


# ---------------------------------------------------------------------------------------------
# attention (opset 23)

def attn(name: str, ins: list[str], feeds: dict, inits: dict | None = None, outs=("y",), **attrs) -> None:
    add("Attention", name, node("Attention", ins, list(outs), **attrs), feeds, inits, opset=23)


attn("4d", ["q", "k", "v"], {"q": f32(2, 2, 3, 4), "k": f32(2, 2, 5, 4), "v": f32(2, 2, 5, 6)})
attn("3d-heads", ["q", "k", "v"], {"q": f32(2, 3, 8), "k": f32(2, 5, 8), "v": f32(2, 5, 8)}, q_num_heads=2, kv_num_heads=2)
attn("3d-gqa", ["q", "k", "v"], {"q": f32(1, 4, 16), "k": f32(1, 6, 8), "v": f32(1, 6, 8)}, q_num_heads=4,
     kv_num_heads=2)
attn("4d-gqa", ["q", "k", "v"], {"q": f32(2, 4, 3, 4), "k": f32(2, 2, 3, 4), "v": f32(2, 2, 3, 4)})
attn("causal", ["q", "k", "v"], {"q": f32(1, 2, 4, 4), "k": f32(1, 2, 4, 4), "v": f32(1, 2, 4, 4)}, is_causal=1)
attn("causal-3d", ["q", "k", "v"], {"q": f32(2, 4, 8), "k": f32(2, 4, 8), "v": f32(2, 4, 8)}, is_causal=1,
     q_num_heads=2, kv_num_heads=2)
BOOL_MASK = bools(3, 5)
BOOL_MASK[:, 0] = True
attn("bool-mask-input", ["q", "k", "v", "m"], {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 5, 4), "v": f32(1, 2, 5, 4),
                                               "m": BOOL_MASK})
attn("bool-mask-const", ["q", "k", "v", "m"], {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 5, 4), "v": f32(1, 2, 5, 4)},
     {"m": BOOL_MASK})
attn("float-mask-input", ["q", "k", "v", "m"], {"q": f32(2, 2, 3, 4), "k": f32(2, 2, 5, 4), "v": f32(2, 2, 5, 4),
                                                "m": f32(2, 1, 3, 5)})
attn("float-mask-const", ["q", "k", "v", "m"], {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 5, 4), "v": f32(1, 2, 5, 4)},
     {"m": f32(3, 5)})
attn("float-mask-causal", ["q", "k", "v", "m"], {"q": f32(1, 2, 4, 4), "k": f32(1, 2, 4, 4), "v": f32(1, 2, 4, 4),
                                                 "m": f32(4, 4)}, is_causal=1)
attn("scale", ["q", "k", "v"], {"q": f32(1, 2, 3, 4), "k": f32(1, 2, 5, 4), "v": f32(1, 2, 5, 4)}, scale=0.3)
attn("softcap", ["q", "k", "v"], {"q": f32(1, 2, 3, 4, lo=-4, hi=4), "k": f32(1, 2, 5, 4, lo=-4, hi=4),
                                  "v": f32(1, 2, 5, 4)}, softcap=2.0)
attn("softcap-scale-mask", ["q", "k", "v", "m"], {"q": f32(1, 2, 3, 4, lo=-4, hi=4), "k": f32(1, 2, 5, 4, lo=-4, hi=4),
                                                  "v": f32(1, 2, 5, 4), "m": f32(1, 1, 3, 5)}, softcap=3.0, scale=0.7)
attn("past-kv", ["q", "k", "v", "", "pk", "pv"],
     {"q": f32(1, 2, 2, 4), "k": f32(1, 2, 2, 4), "v": f32(1, 2, 2, 4), "pk": f32(1, 2, 3, 4), "pv": f32(1, 2, 3, 4)},
     outs=("y", "pko", "pvo"))
attn("past-kv-causal", ["q", "k", "v", "", "pk", "pv"],
     {"q": f32(1, 2, 2, 4), "k": f32(1, 2, 2, 4), "v": f32(1, 2, 2, 4), "pk": f32(1, 2, 3, 4), "pv": f32(1, 2, 3, 4)},
     outs=("y", "pko", "pvo"), is_causal=1)

attn("3d-dv-past", ["q", "k", "v", "", "pk", "pv"],
     {"q": f32(2, 3, 8), "k": f32(2, 3, 8), "v": f32(2, 3, 12), "pk": f32(2, 2, 2, 4), "pv": f32(2, 2, 2, 6)},
     outs=("y", "pko", "pvo"), q_num_heads=2, kv_num_heads=2)
MASK4 = bools(2, 2, 3, 5)
MASK4[..., 1] = True
attn("bool-mask-4d-causal-past", ["q", "k", "v", "m", "pk", "pv"],
     {"q": f32(2, 2, 3, 4), "k": f32(2, 2, 3, 4), "v": f32(2, 2, 3, 4), "m": MASK4, "pk": f32(2, 2, 2, 4),
      "pv": f32(2, 2, 2, 4)}, outs=("y", "pko", "pvo"), is_causal=1)


# ---------------------------------------------------------------------------------------------
# pooling and resize

IMG = (1, 2, 4, 5)


def resize(name: str, x, scales=None, sizes=None, opset: int = 19, ref: Any = "ort", **attrs) -> None:
    inits = {}
    ins = ["x", "", ""]
    if scales is not None:
        inits["scales"] = np.asarray(scales, np.float32)
        ins[2] = "scales"
    if sizes is not None:
        inits["sizes"] = np.asarray(sizes, np.int64)
        ins.append("sizes")
    if opset < 13:
        inits["roi"] = np.zeros(0, np.float32)
        ins[1] = "roi"
        if sizes is not None:
            inits["scales"] = np.zeros(0, np.float32)
            ins[2] = "scales"
    while ins[-1] == "":
        ins.pop()
    add("Resize", name, node("Resize", ins, **attrs), {"x": x}, inits, opset=opset, ref=ref)


for nm in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"):
    for ctm in ("half_pixel", "asymmetric", "align_corners"):
        resize(f"nearest-{nm}-{ctm}-x1.5", f32(*IMG), scales=[1, 1, 1.5, 1.6], mode="nearest", nearest_mode=nm,
               coordinate_transformation_mode=ctm)
    resize(f"nearest-{nm}-down", f32(1, 1, 6, 7), scales=[1, 1, 0.5, 0.6], mode="nearest", nearest_mode=nm)
resize("nearest-x2-default", f32(*IMG), scales=[1, 1, 2, 2])
resize("nearest-sizes", f32(*IMG), sizes=[1, 2, 7, 3], mode="nearest")
resize("nearest-sizes-axes", f32(*IMG), sizes=[9, 8], mode="nearest", axes=[2, 3])
resize("nearest-scales-axes", f32(*IMG), scales=[2.0, 1.5], mode="nearest", axes=[2, 3])
for ctm in ("half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric"):
    resize(f"linear-{ctm}-up", f32(*IMG), scales=[1, 1, 2, 1.5], mode="linear", coordinate_transformation_mode=ctm)
    resize(f"linear-{ctm}-down", f32(1, 2, 8, 6), scales=[1, 1, 0.5, 0.75], mode="linear",
           coordinate_transformation_mode=ctm)
    resize(f"linear-{ctm}-sizes", f32(*IMG), sizes=[1, 2, 7, 3], mode="linear", coordinate_transformation_mode=ctm)
resize("linear-pytorch-to-1", f32(1, 2, 4, 5), sizes=[1, 2, 1, 3], mode="linear",
       coordinate_transformation_mode="pytorch_half_pixel")
resize("nearest-uint8", ints(1, 2, 4, 5, lo=0, hi=256, dtype=np.uint8), scales=[1, 1, 2, 1.5], mode="nearest")
resize("linear-uint8", ints(1, 2, 4, 5, lo=0, hi=256, dtype=np.uint8), scales=[1, 1, 2, 1.5], mode="linear")
resize("linear-int8-down", ints(1, 2, 6, 6, lo=-128, hi=128, dtype=np.int8), scales=[1, 1, 0.5, 0.75], mode="linear")
resize("linear-1d", f32(2, 7), scales=[1, 2.5], mode="linear")
for ctm in ("half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"):
    resize(f"cubic-{ctm}", f32(*IMG), scales=[1, 1, 2, 1.5], mode="cubic", coordinate_transformation_mode=ctm)
resize("cubic-down", f32(1, 1, 8, 8), scales=[1, 1, 0.5, 0.75], mode="cubic")
resize("cubic-a-exclude", f32(*IMG), scales=[1, 1, 2, 2], mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1)
resize("cubic-sizes", f32(*IMG), sizes=[1, 2, 9, 7], mode="cubic")
resize("opset11-linear-roi", f32(*IMG), scales=[1, 1, 2, 2], opset=11, mode="linear")
resize("opset11-nearest-sizes", f32(*IMG), sizes=[1, 2, 8, 9], opset=11, mode="nearest")
resize("opset13-linear-align", f32(*IMG), scales=[1, 1, 1.5, 2], opset=13, mode="linear",
       coordinate_transformation_mode="align_corners")
add("Resize", "opset10", node("Resize", ["x", "s"], mode="linear"), {"x": f32(*IMG)},
    {"s": np.asarray([1, 1, 2, 2], np.float32)}, opset=10)
add("Upsample", "opset9-nearest", node("Upsample", ["x", "s"]), {"x": f32(*IMG)},
    {"s": np.asarray([1, 1, 2, 3], np.float32)}, opset=9)
add("Upsample", "opset9-linear", node("Upsample", ["x", "s"], mode="linear"), {"x": f32(*IMG)},
    {"s": np.asarray([1, 1, 2, 2.5], np.float32)}, opset=9)


def pool(op: str, name: str, x, opset: int = 12, **attrs) -> None:
    add(op, name, node(op, ["x"], **attrs), {"x": x}, opset=opset)


for op in ("MaxPool", "AveragePool"):
    pool(op, "2x2-s2", f32(2, 3, 6, 6), kernel_shape=[2, 2], strides=[2, 2])
    pool(op, "3x3-s1-pads", f32(1, 2, 5, 5), kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool(op, "asym-pads", f32(1, 2, 5, 6), kernel_shape=[3, 2], pads=[0, 1, 2, 0], strides=[2, 1])
    pool(op, "ceil", f32(1, 2, 7, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool(op, "ceil-pads", f32(1, 2, 6, 6), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    pool(op, "same-upper", f32(1, 2, 7, 6), kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    pool(op, "same-lower", f32(1, 2, 7, 6), kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_LOWER")
    pool(op, "valid", f32(1, 2, 7, 6), kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID")
    pool(op, "1d", f32(2, 3, 9), kernel_shape=[3], strides=[2], pads=[1, 1])
    pool(op, "3d", f32(1, 2, 4, 4, 4), kernel_shape=[2, 2, 2], strides=[2, 2, 2])
    pool(op, "opset9", f32(1, 2, 6, 6), opset=9, kernel_shape=[2, 2], strides=[2, 2])
pool("MaxPool", "dilations", f32(1, 2, 8, 8), kernel_shape=[2, 3], dilations=[2, 2])
pool("MaxPool", "dilations-pads-ceil", f32(1, 2, 8, 7), kernel_shape=[2, 2], dilations=[2, 3], pads=[1, 0, 1, 1],
     strides=[2, 2], ceil_mode=1)
pool("MaxPool", "f64", f32(1, 2, 5, 5).astype(np.float64), kernel_shape=[2, 2])
pool("MaxPool", "uint8", ints(1, 2, 5, 5, lo=0, hi=255, dtype=np.uint8), kernel_shape=[2, 2], pads=[1, 1, 0, 0])
pool("AveragePool", "count-include-pad", f32(1, 2, 5, 5), kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
pool("AveragePool", "count-include-pad-asym", f32(1, 2, 5, 6), kernel_shape=[3, 2], pads=[2, 0, 1, 1], strides=[2, 2],
     count_include_pad=1)
pool("AveragePool", "ceil-count-include-pad", f32(1, 2, 6, 6), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
     ceil_mode=1, count_include_pad=1)
pool("AveragePool", "ceil-count-include-pad-nopad", f32(1, 2, 7, 6), kernel_shape=[3, 3], strides=[2, 2],
     ceil_mode=1, count_include_pad=1)
pool("AveragePool", "dilations-opset19", f32(1, 2, 8, 8), opset=19, kernel_shape=[2, 2], dilations=[2, 2],
     pads=[1, 1, 1, 1])

for op in ("GlobalAveragePool", "GlobalMaxPool"):
    add(op, "4d", node(op, ["x"]), {"x": f32(2, 3, 4, 5)})
    add(op, "3d", node(op, ["x"]), {"x": f32(2, 3, 7)})
    add(op, "5d", node(op, ["x"]), {"x": f32(1, 2, 3, 4, 2)})


# ---------------------------------------------------------------------------------------------
# reductions

REDUCE_INPUT = {
    "ReduceSum": lambda: f32(2, 3, 4), "ReduceMean": lambda: f32(2, 3, 4), "ReduceMax": lambda: f32(2, 3, 4),
    "ReduceMin": lambda: f32(2, 3, 4), "ReduceProd": lambda: f32(2, 3, 4, lo=0.5, hi=1.5),
    "ReduceL1": lambda: f32(2, 3, 4), "ReduceL2": lambda: f32(2, 3, 4), "ReduceSumSquare": lambda: f32(2, 3, 4),
    "ReduceLogSum": lambda: pos(2, 3, 4), "ReduceLogSumExp": lambda: f32(2, 3, 4, lo=-10, hi=10),
}
for op, gen in REDUCE_INPUT.items():
    # attribute form (opset 13; ReduceSum took an input from 13, so it uses 11)
    attr_opset = 11 if op == "ReduceSum" else 13
    add(op, f"opset{attr_opset}-attr-keep", node(op, ["x"], axes=[1]), {"x": gen()}, opset=attr_opset)
    add(op, f"opset{attr_opset}-attr-nokeep", node(op, ["x"], axes=[0, -1], keepdims=0), {"x": gen()},
        opset=attr_opset)
    add(op, f"opset{attr_opset}-all", node(op, ["x"], keepdims=0), {"x": gen()}, opset=attr_opset)
    add(op, f"opset{attr_opset}-all-keep", node(op, ["x"]), {"x": gen()}, opset=attr_opset)
    # input form (opset 18)
    add(op, "opset18-input-keep", node(op, ["x", "axes"]), {"x": gen()}, {"axes": i64(2)}, opset=18)
    add(op, "opset18-input-nokeep", node(op, ["x", "axes"], keepdims=0), {"x": gen()}, {"axes": i64(-2, 0)}, opset=18)
    add(op, "opset18-no-axes", node(op, ["x"], keepdims=0), {"x": gen()}, opset=18)
    add(op, "opset18-empty-axes", node(op, ["x", "axes"]), {"x": gen()}, {"axes": np.zeros(0, np.int64)}, opset=18)
    add(op, "opset18-noop-empty-axes", [node(op, ["x"], ["r"], noop_with_empty_axes=1), node("Neg", ["r"])],
        {"x": gen()}, opset=18)
    add(op, "opset18-noop-with-axes", node(op, ["x", "axes"], noop_with_empty_axes=1, keepdims=0), {"x": gen()},
        {"axes": i64(1)}, opset=18)
add("ReduceSum", "opset13-input", node("ReduceSum", ["x", "axes"], keepdims=0), {"x": f32(2, 3, 4)},
    {"axes": i64(1, 2)}, opset=13)
add("ReduceSum", "opset13-noop", [node("ReduceSum", ["x"], ["r"], noop_with_empty_axes=1), node("Relu", ["r"])],
    {"x": f32(2, 3)}, opset=13)
add("ReduceSum", "int64", node("ReduceSum", ["x", "axes"]), {"x": ints(3, 4)}, {"axes": i64(0)}, opset=13)
add("ReduceMax", "int64", node("ReduceMax", ["x"], axes=[1], keepdims=0), {"x": ints(3, 4)}, opset=13)
add("ReduceMean", "4d-spatial", node("ReduceMean", ["x"], axes=[2, 3]), {"x": f32(2, 3, 4, 5)}, opset=13)

TIES = np.round(f32(3, 4, 5, lo=-1.5, hi=1.5))
for op in ("ArgMax", "ArgMin"):
    add(op, "axis1-keep", node(op, ["x"], axis=1), {"x": f32(3, 4, 5)}, opset=13)
    add(op, "axis-last-nokeep", node(op, ["x"], axis=-1, keepdims=0), {"x": f32(3, 4, 5)}, opset=13)
    add(op, "default-axis", node(op, ["x"]), {"x": f32(3, 4)}, opset=13)
    add(op, "ties-first", node(op, ["x"], axis=2), {"x": TIES}, opset=13)
    add(op, "ties-last", node(op, ["x"], axis=2, select_last_index=1), {"x": TIES}, opset=13)
    add(op, "ties-last-axis0-nokeep", node(op, ["x"], axis=0, keepdims=0, select_last_index=1), {"x": TIES}, opset=13)
    add(op, "int64", node(op, ["x"], axis=1), {"x": ints(3, 4, lo=0, hi=3)}, opset=13)
    add(op, "opset11", node(op, ["x"], axis=1, keepdims=0), {"x": f32(3, 4)}, opset=11)


# ---------------------------------------------------------------------------------------------
# data layout

add("Transpose", "perm", node("Transpose", ["x"], perm=[1, 2, 0]), {"x": f32(2, 3, 4)})
add("Transpose", "default", node("Transpose", ["x"]), {"x": f32(2, 3, 4)})
add("Transpose", "4d", node("Transpose", ["x"], perm=[0, 2, 3, 1]), {"x": f32(2, 3, 4, 5)})
add("Transpose", "int64", node("Transpose", ["x"], perm=[1, 0]), {"x": ints(3, 4)})

add("Reshape", "minus1-zero", node("Reshape", ["x", "s"]), {"x": f32(2, 3, 4)}, {"s": i64(0, -1, 2)}, opset=14)
add("Reshape", "flat", node("Reshape", ["x", "s"]), {"x": f32(2, 3, 4)}, {"s": i64(-1)}, opset=14)
add("Reshape", "expand-rank", node("Reshape", ["x", "s"]), {"x": f32(2, 12)}, {"s": i64(0, 3, 1, -1)}, opset=13)
add("Reshape", "identity", node("Reshape", ["x", "s"]), {"x": f32(2, 3)}, {"s": i64(2, 3)}, opset=14)
add("Reshape", "opset9-bool", node("Reshape", ["x", "s"]), {"x": bools(2, 6)}, {"s": i64(3, -1)}, opset=9)
add("Flatten", "axis1", node("Flatten", ["x"]), {"x": f32(2, 3, 4)}, opset=13)
add("Flatten", "axis0", node("Flatten", ["x"], axis=0), {"x": f32(2, 3, 4)}, opset=13)
add("Flatten", "axis-neg", node("Flatten", ["x"], axis=-1), {"x": f32(2, 3, 4)}, opset=13)
add("Flatten", "axis3-of-3", node("Flatten", ["x"], axis=3), {"x": f32(2, 3, 4)}, opset=13)
add("Flatten", "opset9", node("Flatten", ["x"], axis=2), {"x": f32(2, 3, 4, 5)}, opset=9)
add("Squeeze", "opset11-attr", node("Squeeze", ["x"], axes=[1, -1]), {"x": f32(2, 1, 3, 1)}, opset=11)
add("Squeeze", "opset13-input", node("Squeeze", ["x", "a"]), {"x": f32(2, 1, 3, 1)}, {"a": i64(3)}, opset=13)
add("Squeeze", "opset13-all", node("Squeeze", ["x"]), {"x": f32(1, 2, 1, 3, 1)}, opset=13)
add("Squeeze", "opset9-all", node("Squeeze", ["x"]), {"x": f32(1, 2, 1, 3)}, opset=9)
add("Unsqueeze", "opset11-attr", node("Unsqueeze", ["x"], axes=[0, 3]), {"x": f32(2, 3)}, opset=11)
add("Unsqueeze", "opset11-neg", node("Unsqueeze", ["x"], axes=[-1]), {"x": f32(2, 3)}, opset=11)
add("Unsqueeze", "opset13-input", node("Unsqueeze", ["x", "a"]), {"x": f32(2, 3)}, {"a": i64(1, -1)}, opset=13)
add("Unsqueeze", "opset13-scalar", node("Unsqueeze", ["x", "a"]), {"x": np.asarray(1.5, np.float32)}, {"a": i64(0)},
    opset=13)
add("Expand", "bcast", node("Expand", ["x", "s"]), {"x": f32(3, 1)}, {"s": i64(2, 3, 4)}, opset=13)
add("Expand", "ones-keep", node("Expand", ["x", "s"]), {"x": f32(2, 1, 4)}, {"s": i64(1, 1, 3, 1)}, opset=13)
add("Expand", "same", [node("Expand", ["x", "s"], ["e"]), node("Neg", ["e"])], {"x": f32(2, 3)}, {"s": i64(2, 1)},
    opset=13)
add("Expand", "lower-rank-shape", node("Expand", ["x", "s"]), {"x": f32(2, 3, 1)}, {"s": i64(1, 4)}, opset=13)
add("Expand", "int64", node("Expand", ["x", "s"]), {"x": ints(1, 3)}, {"s": i64(4, 3)}, opset=13)
add("Concat", "axis1", node("Concat", ["a", "b"], axis=1), {"a": f32(2, 3, 4), "b": f32(2, 2, 4)}, opset=13)
add("Concat", "axis-neg-3in", node("Concat", ["a", "b", "c"], axis=-1), {"a": f32(2, 3), "b": f32(2, 1), "c": f32(2, 4)},
    opset=13)
add("Concat", "with-const", node("Concat", ["a", "b"], axis=0), {"a": f32(2, 3)}, {"b": f32(1, 3)}, opset=13)
add("Concat", "empty-input", node("Concat", ["a", "b", "c"], axis=1),
    {"a": f32(2, 3), "b": np.zeros((2, 0), np.float32), "c": f32(2, 1)}, opset=13)
add("Concat", "int64", node("Concat", ["a", "b"], axis=0), {"a": ints(2), "b": ints(3)}, opset=13)
add("Concat", "single", [node("Concat", ["a"], ["c"], axis=0), node("Neg", ["c"])], {"a": f32(2, 3)}, opset=13)
add("Concat", "opset9", node("Concat", ["a", "b"], axis=2), {"a": f32(1, 2, 3), "b": f32(1, 2, 2)}, opset=9)

add("Split", "opset13-sizes", node("Split", ["x", "s"], ["y0", "y1", "y2"], axis=1), {"x": f32(2, 6, 3)},
    {"s": i64(1, 2, 3)}, opset=13)
add("Split", "opset13-equal", node("Split", ["x"], ["y0", "y1"], axis=-1), {"x": f32(2, 3, 4)}, opset=13)
add("Split", "opset18-num-outputs", node("Split", ["x"], ["y0", "y1", "y2"], axis=0, num_outputs=3), {"x": f32(7, 2)},
    opset=18)
add("Split", "opset18-num-outputs-even", node("Split", ["x"], ["y0", "y1"], axis=1, num_outputs=2), {"x": f32(2, 6)},
    opset=18)
add("Split", "opset11-attr", node("Split", ["x"], ["y0", "y1"], axis=0, split=[3, 1]), {"x": f32(4, 3)}, opset=11)
add("Split", "opset11-default", node("Split", ["x"], ["y0", "y1", "y2"]), {"x": f32(6, 2)}, opset=11)
add("Split", "opset9-attr", node("Split", ["x"], ["y0", "y1"], axis=1, split=[2, 3]), {"x": f32(2, 5)}, opset=9)

SL_X = f32(4, 5, 6)


def slice_case(name: str, starts, ends, axes=None, steps=None, opset: int = 13) -> None:
    ins = ["x", "st", "en"]
    inits = {"st": i64(*starts), "en": i64(*ends)}
    if axes is not None:
        ins.append("ax")
        inits["ax"] = i64(*axes)
    if steps is not None:
        if axes is None:
            ins.append("")
        ins.append("sp")
        inits["sp"] = i64(*steps)
    add("Slice", name, node("Slice", ins), {"x": SL_X}, inits, opset=opset)


slice_case("basic", [1, 0], [3, 4])
slice_case("axes-subset", [1], [4], axes=[2])
slice_case("neg-starts-ends", [-3, -4], [-1, I64_MAX], axes=[0, 2])
slice_case("neg-axes", [0], [2], axes=[-1])
slice_case("steps", [0, 1], [I64_MAX, 6], axes=[1, 2], steps=[2, 3])
slice_case("neg-step", [-1], [-I64_MAX], axes=[1], steps=[-1])
slice_case("neg-step-2", [4, 5], [0, -10], axes=[2, 0], steps=[-2, -1])
slice_case("neg-step-bounded", [3, -2], [0, 1], axes=[0, 1], steps=[-1, -2])
slice_case("clamp", [-100, 2], [100, 1000], axes=[0, 2])
slice_case("steps-no-axes", [0, 0, 0], [4, 5, 6], steps=[3, 2, 4])
slice_case("empty-result", [3], [1], axes=[0])
add("Slice", "opset9-attrs", node("Slice", ["x"], starts=[1, -3], ends=[3, 1000], axes=[0, 2]), {"x": SL_X}, opset=9)
add("Slice", "opset9-no-axes", node("Slice", ["x"], starts=[0, 1], ends=[-1, 3]), {"x": SL_X}, opset=9)
add("Slice", "opset10-inputs", node("Slice", ["x", "st", "en", "ax", "sp"]), {"x": SL_X},
    {"st": i64(-1), "en": i64(-7), "ax": i64(2), "sp": i64(-2)}, opset=10)

add("Gather", "axis0-neg-idx", node("Gather", ["x", "i"]), {"x": f32(5, 3), "i": i64(0, -1, 2, -5)}, opset=13)
add("Gather", "axis1-2d-idx", node("Gather", ["x", "i"], axis=1), {"x": f32(2, 5, 3), "i": np.array([[0, -2], [4, 1]])},
    opset=13)
add("Gather", "scalar-idx", node("Gather", ["x", "i"], axis=-1), {"x": f32(2, 5)}, {"i": np.asarray(-2, np.int64)},
    opset=13)
add("Gather", "embedding-const-table", node("Gather", ["w", "i"]), {"i": ints(2, 3, lo=-4, hi=4)}, {"w": f32(4, 6)},
    opset=13)
add("Gather", "int32-idx", node("Gather", ["x", "i"], axis=1), {"x": f32(3, 4), "i": ints(3, lo=-4, hi=4, dtype=np.int32)},
    opset=11)
add("Gather", "int64-data", node("Gather", ["x", "i"]), {"x": ints(5, 2), "i": i64(4, -5)}, opset=13)
add("GatherElements", "axis0", node("GatherElements", ["x", "i"]), {"x": f32(3, 4), "i": ints(2, 4, lo=-3, hi=3)},
    opset=13)
add("GatherElements", "axis1", node("GatherElements", ["x", "i"], axis=1), {"x": f32(3, 4), "i": ints(3, 6, lo=-4, hi=4)},
    opset=13)
add("GatherElements", "3d-axis-neg", node("GatherElements", ["x", "i"], axis=-1),
    {"x": f32(2, 3, 4), "i": ints(2, 3, 2, lo=-4, hi=4)}, opset=13)
add("GatherND", "b0-full-depth", node("GatherND", ["x", "i"]), {"x": f32(3, 4, 5), "i": np.array([[0, 1, 2], [2, -1, 4]])},
    opset=13)
add("GatherND", "b0-depth2", node("GatherND", ["x", "i"]), {"x": f32(3, 4, 5), "i": np.array([[[0, 1]], [[2, 3]]])},
    opset=13)
add("GatherND", "b0-depth1", node("GatherND", ["x", "i"]), {"x": f32(3, 4), "i": np.array([[2], [0], [-1]])}, opset=13)
add("GatherND", "b1", node("GatherND", ["x", "i"], batch_dims=1),
    {"x": f32(2, 3, 4), "i": np.array([[[0, 1], [2, 3]], [[1, 0], [-1, -1]]])}, opset=13)
add("GatherND", "b1-depth1", node("GatherND", ["x", "i"], batch_dims=1),
    {"x": f32(2, 3, 4), "i": np.array([[1], [2]])}, opset=13)
add("GatherND", "b2", node("GatherND", ["x", "i"], batch_dims=2),
    {"x": f32(2, 3, 4, 5), "i": ints(2, 3, 1, lo=0, hi=4)}, opset=13)


def pad_case(name: str, x, pads, mode=None, value=None, axes=None, opset: int = 18) -> None:
    ins = ["x", "p"]
    inits = {"p": i64(*pads)}
    if value is not None or axes is not None:
        ins.append("v" if value is not None else "")
        if value is not None:
            inits["v"] = np.asarray(value, x.dtype)
    if axes is not None:
        ins.append("a")
        inits["a"] = i64(*axes)
    attrs = {"mode": mode} if mode else {}
    add("Pad", name, node("Pad", ins, **attrs), {"x": x}, inits, opset=opset)


PAD_X = f32(2, 3, 4)
for mode in ("constant", "reflect", "edge"):
    pad_case(f"opset11-{mode}", PAD_X, [0, 1, 2, 0, 2, 1], mode=mode, opset=11)
    pad_case(f"opset18-{mode}-axes", PAD_X, [1, 2, 2, 0], mode=mode, axes=[1, -1])
    pad_case(f"opset18-{mode}-neg", PAD_X, [0, -1, 1, 1, 1, -1], mode=mode)
pad_case("opset19-wrap", PAD_X, [0, 1, 2, 0, 2, 3], mode="wrap", opset=19)
pad_case("opset19-wrap-axes", PAD_X, [1, 3, 2, 0], mode="wrap", axes=[2, 1], opset=19)
pad_case("opset19-wrap-neg", PAD_X, [0, -1, 2, 0, 1, -1], mode="wrap", opset=19)
pad_case("opset11-value", PAD_X, [1, 0, 0, 0, 1, 2], value=-3.5, opset=11)
pad_case("opset18-value-axes", PAD_X, [1, 1], value=2.0, axes=[0])
pad_case("opset13-int64", ints(3, 4), [1, 0, 0, 2], value=7, opset=13)
add("Pad", "opset9-attrs", node("Pad", ["x"], pads=[0, 1, 1, 0, 1, 1], value=1.5), {"x": PAD_X}, opset=9)
add("Pad", "opset9-reflect", node("Pad", ["x"], pads=[0, 0, 2, 0, 0, 1], mode="reflect"), {"x": PAD_X}, opset=9)
add("Pad", "opset11-empty-value", node("Pad", ["x", "p", ""]), {"x": PAD_X}, {"p": i64(0, 0, 1, 0, 0, 1)}, opset=11)

add("Tile", "3d", node("Tile", ["x", "r"]), {"x": f32(2, 3, 1)}, {"r": i64(1, 2, 3)}, opset=13)
add("Tile", "2d-ones", node("Tile", ["x", "r"]), {"x": f32(2, 3)}, {"r": i64(3, 1)}, opset=13)
add("Tile", "int64", node("Tile", ["x", "r"]), {"x": ints(2, 2)}, {"r": i64(2, 2)}, opset=13)


# ---------------------------------------------------------------------------------------------
# fold-only ops: a small shape subgraph feeding a real op

add("Shape", "reshape-like", [node("Shape", ["t"], ["s"]), node("Reshape", ["x", "s"])],
    {"x": f32(4, 6), "t": f32(2, 3, 4)}, opset=14)
add("Shape", "start-end-concat", [node("Shape", ["x"], ["s"], start=1, end=-1), node("Concat", ["s", "m"], ["s2"], axis=0),
                                  node("Reshape", ["x", "s2"])],
    {"x": f32(2, 3, 4)}, {"m": i64(-1)}, opset=15)
add("Shape", "gather-unsqueeze", [node("Shape", ["x"], ["s"]), node("Gather", ["s", "i"], ["d"]),
                                  node("Unsqueeze", ["d", "a"], ["d1"]), node("Concat", ["d1", "m"], ["s2"], axis=0),
                                  node("Reshape", ["x", "s2"])],
    {"x": f32(2, 3, 4)}, {"i": np.asarray(0, np.int64), "a": i64(0), "m": i64(-1)}, opset=13)
add("Size", "reshape", [node("Size", ["x"], ["n"]), node("Unsqueeze", ["n", "a"], ["s"]), node("Reshape", ["x", "s"])],
    {"x": f32(2, 3, 4)}, {"a": i64(0)}, opset=13)
add("ConstantOfShape", "expand-add", [node("Shape", ["x"], ["s"]),
                                      node("ConstantOfShape", ["s"], ["c"],
                                           value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.25])),
                                      node("Add", ["x", "c"])], {"x": f32(2, 3)}, opset=13)
add("ConstantOfShape", "expand-target", [node("ConstantOfShape", ["r"], ["c"],
                                              value=helper.make_tensor("v", TensorProto.INT64, [1], [1])),
                                         node("Expand", ["x", "c"])], {"x": f32(3, 1)}, {"r": i64(2)}, opset=13)
add("ConstantOfShape", "default-zero", [node("ConstantOfShape", ["s"], ["c"]), node("Mul", ["x", "c"])],
    {"x": f32(2, 3)}, {"s": i64(2, 3)}, opset=13)
add("Range", "add", [node("Range", ["st", "lim", "d"], ["r"]), node("Add", ["x", "r"])], {"x": f32(3, 4)},
    {"st": np.asarray(1.0, np.float32), "lim": np.asarray(3.0, np.float32), "d": np.asarray(0.5, np.float32)}, opset=13)
add("Range", "shape-driven", [node("Shape", ["x"], ["s"]), node("Gather", ["s", "i"], ["n"]),
                              node("Range", ["z", "n", "one"], ["r"]), node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
                              node("Mul", ["x", "rf"])],
    {"x": f32(3, 5)}, {"i": np.asarray(1, np.int64), "z": np.asarray(0, np.int64), "one": np.asarray(1, np.int64)},
    opset=13)
add("Constant", "reshape-shape", [node("Constant", [], ["s"], value=helper.make_tensor("c", TensorProto.INT64, [2], [3, -1])),
                                  node("Reshape", ["x", "s"])], {"x": f32(2, 3, 2)}, opset=13)
add("Constant", "value-float", [node("Constant", [], ["c"], value_float=1.5), node("Mul", ["x", "c"])],
    {"x": f32(2, 3)}, opset=13)
add("Constant", "value-ints-expand", [node("Constant", [], ["s"], value_ints=[2, 3, 4]), node("Expand", ["x", "s"])],
    {"x": f32(3, 1)}, opset=13)


# ---------------------------------------------------------------------------------------------
# recurrent (every attribute variant, compiled and emulated too, is in tests/test_recurrent.py)

for _op, _g in (("LSTM", 4), ("GRU", 3), ("RNN", 1)):
    add(_op, "bidirectional-sequence-lens",
        node(_op, ["x", "w", "r", "b", "sl", "h0"], ["y", "yh"], hidden_size=4, direction="bidirectional"),
        {"x": f32(5, 3, 2), "h0": f32(2, 3, 4)},
        {"w": f32(2, _g * 4, 2), "r": f32(2, _g * 4, 4), "b": f32(2, 2 * _g * 4), "sl": np.asarray([5, 2, 3], np.int32)},
        opset=14)


# ---------------------------------------------------------------------------------------------
# the tests


def test_every_importer_has_a_case() -> None:
    from test_quantized import CASES as QUANT_CASES  # quantized models and the long tail have files of their own
    from test_reference_ops_tail import TAIL_CASES

    covered = {c.op for c in CASES} | {c.op for c in TAIL_CASES} | {c.op for c in QUANT_CASES}
    missing = sorted(set(load_importers()) - covered)
    assert not missing, f"ops without a reference case: {missing}"


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_onnxruntime(case: Case, tmp_path) -> None:
    model = build(case)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    ref = run_reference(model, case.inputs, case.ref)
    imported = import_model(path)
    imported.module.verify()
    got = NNProgram(imported.module, imported.weights).run(case.inputs)
    assert set(got) == set(ref)
    for name, r in ref.items():
        assert_close(name, got[name], r)


# ---------------------------------------------------------------------------------------------
# features rejected by design

UNSUPPORTED = [
    Case("Unique", "unknown-op", [node("Unique", ["a"])], {"a": f32(3)}, opset=13),
    Case("Resize", "antialias", [node("Resize", ["x", "", "s"], mode="linear", antialias=1)], {"x": f32(*IMG)},
         {"s": np.asarray([1, 1, 0.5, 0.5], np.float32)}, opset=19),
    Case("Resize", "tf-crop-and-resize", [node("Resize", ["x", "roi", "s"], mode="linear",
                                               coordinate_transformation_mode="tf_crop_and_resize")],
         {"x": f32(*IMG)}, {"roi": np.asarray([0, 0, 0.1, 0.1, 1, 1, 0.9, 0.9], np.float32),
                            "s": np.asarray([1, 1, 2, 2], np.float32)}, opset=13),
    Case("BatchNormalization", "training-mode",
         [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], training_mode=1)],
         {"x": f32(2, 3, 4)}, {"s": f32(3), "b": f32(3), "m": f32(3), "v": pos(3)}, opset=15),
    # onnx's shape inference keeps a ceil_mode window that starts in the end padding; onnxruntime drops it
    *[Case(op, "ceil-window-in-end-padding", [node(op, ["x"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
                                                   ceil_mode=1)], {"x": f32(1, 1, 5, 5)}, opset=12)
      for op in ("MaxPool", "AveragePool")],
]


@pytest.mark.parametrize("case", UNSUPPORTED, ids=[c.id for c in UNSUPPORTED])
def test_unsupported_raises(case: Case, tmp_path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(
        helper.make_graph(case.nodes, "g",
                          [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                           for k, v in case.inputs.items()],
                          [helper.make_value_info(o, onnx.TypeProto()) for o in case.nodes[-1].output if o],
                          initializer=[onnx.numpy_helper.from_array(v, k) for k, v in case.inits.items()]),
        opset_imports=[helper.make_opsetid("", case.opset)], ir_version=10), str(path))
    with pytest.raises(UnsupportedError):
        import_model(path)
