"""Quantized ONNX models (frontend/ops/quant.py): QDQ and QOperator ops against onnxruntime.

Single-op cases (built with `onnx.helper`, ir_version 10) cover every importer entry and attribute
variant: import_model -> NNProgram must match onnxruntime's CPU provider exactly for the quantisers and
the integer GEMMs (the same arithmetic: divide, round half to even, saturate; integer sums exact in
float32 below 2^24), and within CODE_BOUND code for QLinearMatMul / QLinearConv, whose requantisation is
onnxruntime's float multiplier a_scale * b_scale / y_scale (equal here; MLAS may round a tie differently on
other builds). The GEMM cases also compile for `sram-pim` (program.bin round trip) and emulate --ideal.

Then real quantized models: onnxruntime's own quantizer (`quantize_static` in QDQ and QOperator formats,
`quantize_dynamic`) applied to the development models mlp_digits and cnn_digits, calibrated on their
samples, compiled for `sram-pim` and `hybrid`: --ideal must match onnxruntime like a float model (the
figures in docs/quantized.md), the default mode (each tier's number formats) keeps a bounded deviation
and the top-1 class of the digits samples.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from conftest import MODELS
from h3pc.backends import container
from h3pc.backends.program import from_container, to_container
from h3pc.compiler import compile_model
from h3pc.diagnostics import UnsupportedError
from h3pc.dialects import nn, pim
from h3pc.frontend.importer import import_model
from h3pc.frontend.ops import load_importers
from h3pc.runtime.emulator import Emulator
from h3pc.runtime.evaluate import NNProgram
from test_reference_ops import Case, assert_close, build, node, run_reference

RNG = np.random.default_rng(20261221)
#: QLinearMatMul / QLinearConv: codes may differ from onnxruntime's by this much where its requantisation
#: rounds a tie differently; every other op is exact
CODE_BOUND = 1
REQUANT_OPS = {"QLinearMatMul", "QLinearConv"}
GEMM_OPS = {"MatMulInteger", "ConvInteger", "QLinearMatMul", "QLinearConv"}
QUANT_OPS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"} | GEMM_OPS

CASES: list[Case] = []


def add(op: str, name: str, nodes, inputs: dict, inits: dict | None = None, opset: int = 13,
        outputs: list[str] | None = None, ref: Any = "ort") -> None:
    """`ref` "onnx" (onnx's reference evaluator), or a function of the feeds spelling out the spec's formula,
    only where onnxruntime's CPU provider has no kernel."""
    CASES.append(Case(op, name, nodes if isinstance(nodes, list) else [nodes], dict(inputs), dict(inits or {}),
                      opset, outputs, ref))


def f32(*shape: int, scale: float = 3.0) -> np.ndarray:
    return (RNG.normal(size=shape) * scale).astype(np.float32)


def codes(dtype, *shape: int) -> np.ndarray:
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def u8(*s: int) -> np.ndarray:
    return codes(np.uint8, *s)


def i8(*s: int) -> np.ndarray:
    return codes(np.int8, *s)


def scales(*shape: int, lo: float = 0.005, hi: float = 0.1) -> np.ndarray:
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# QuantizeLinear

X = f32(2, 3, 4, 5)
_ties = (np.arange(-40, 40, dtype=np.float32) + 0.5) * np.float32(0.25)  # exact halves of the scale 0.25
add("QuantizeLinear", "opset10-uint8", node("QuantizeLinear", ["x", "s", "z"]), {"x": X},
    {"s": np.float32(0.03), "z": np.uint8(128)}, opset=10)
add("QuantizeLinear", "no-zero-point-uint8", node("QuantizeLinear", ["x", "s"]), {"x": X}, {"s": np.float32(0.02)})
add("QuantizeLinear", "int8-saturates", node("QuantizeLinear", ["x", "s", "z"]), {"x": X * 10},
    {"s": np.float32(0.05), "z": np.int8(-3)})
add("QuantizeLinear", "ties-round-half-even", node("QuantizeLinear", ["x", "s", "z"]), {"x": _ties},
    {"s": np.float32(0.25), "z": np.int8(0)})
add("QuantizeLinear", "per-axis-1", node("QuantizeLinear", ["x", "s", "z"], axis=1), {"x": X},
    {"s": scales(3), "z": np.asarray([1, -4, 0], np.int8)})
add("QuantizeLinear", "per-axis-last", node("QuantizeLinear", ["x", "s", "z"], axis=-1), {"x": X},
    {"s": scales(5), "z": u8(5)})
add("QuantizeLinear", "int32-input", node("QuantizeLinear", ["x", "s", "z"]),
    {"x": RNG.integers(-500, 500, (4, 6)).astype(np.int32)}, {"s": np.float32(3.0), "z": np.int8(2)}, ref="onnx")
add("QuantizeLinear", "float16-input", node("QuantizeLinear", ["x", "s", "z"]), {"x": X.astype(np.float16)},
    {"s": np.float16(0.03), "z": np.uint8(100)}, opset=19)
add("QuantizeLinear", "runtime-scale-and-zero-point", node("QuantizeLinear", ["x", "s", "z"]),
    {"x": X, "s": np.asarray(0.04, np.float32), "z": np.asarray(7, np.uint8)})
for _dt in (np.int16, np.uint16):
    add("QuantizeLinear", f"{np.dtype(_dt)}", node("QuantizeLinear", ["x", "s", "z"]), {"x": X * 100},
        {"s": np.float32(0.01), "z": np.asarray(-300 if _dt == np.int16 else 30000, _dt)}, opset=21)
add("QuantizeLinear", "output-dtype-int8", node("QuantizeLinear", ["x", "s"], output_dtype=3), {"x": X},
    {"s": np.float32(0.03)}, opset=21)
add("QuantizeLinear", "blocked-axis-3", node("QuantizeLinear", ["x", "s", "z"], axis=3, block_size=2), {"x": X},
    {"s": scales(2, 3, 4, 3), "z": i8(2, 3, 4, 3)}, opset=21)
add("QuantizeLinear", "blocked-runtime-scale-uneven", node("QuantizeLinear", ["x", "s", "z"], axis=3, block_size=2),
    {"x": X, "s": scales(2, 3, 4, 3)}, {"z": u8(2, 3, 4, 3)}, opset=21)
add("QuantizeLinear", "blocked-axis-1-opset23", node("QuantizeLinear", ["x", "s"], axis=1, block_size=2), {"x": X},
    {"s": scales(2, 2, 4, 5)}, opset=23)

# ---------------------------------------------------------------------------------------------
# DequantizeLinear

Q = u8(2, 3, 4, 5)
add("DequantizeLinear", "opset10-uint8", node("DequantizeLinear", ["x", "s", "z"]), {"x": Q},
    {"s": np.float32(0.03), "z": np.uint8(128)}, opset=10)
add("DequantizeLinear", "no-zero-point-int8", node("DequantizeLinear", ["x", "s"]), {"x": i8(4, 6)},
    {"s": np.float32(0.07)})
add("DequantizeLinear", "per-axis-1", node("DequantizeLinear", ["x", "s", "z"], axis=1), {"x": Q},
    {"s": scales(3), "z": u8(3)})
add("DequantizeLinear", "per-axis-0-int8", node("DequantizeLinear", ["x", "s", "z"], axis=0), {"x": i8(4, 6)},
    {"s": scales(4), "z": np.zeros(4, np.int8)})
add("DequantizeLinear", "int32", node("DequantizeLinear", ["x", "s"]),
    {"x": RNG.integers(-10**6, 10**6, (3, 7)).astype(np.int32)}, {"s": np.float32(1e-4)})
add("DequantizeLinear", "float16-scale", node("DequantizeLinear", ["x", "s", "z"]), {"x": Q},
    {"s": np.float16(0.02), "z": np.uint8(3)}, opset=19)
add("DequantizeLinear", "runtime-scale-and-zero-point", node("DequantizeLinear", ["x", "s", "z"]),
    {"x": Q, "s": np.asarray(0.05, np.float32), "z": np.asarray(100, np.uint8)})
for _dt in (np.int16, np.uint16):
    add("DequantizeLinear", f"{np.dtype(_dt)}", node("DequantizeLinear", ["x", "s", "z"]), {"x": codes(_dt, 3, 8)},
        {"s": np.float32(0.001), "z": np.asarray(-7 if _dt == np.int16 else 40000, _dt)}, opset=21)
add("DequantizeLinear", "blocked-axis-1", node("DequantizeLinear", ["x", "s", "z"], axis=1, block_size=2),
    {"x": Q}, {"s": scales(2, 2, 4, 5), "z": u8(2, 2, 4, 5)}, opset=21)
add("DequantizeLinear", "blocked-runtime-scale-and-zero-point",
    node("DequantizeLinear", ["x", "s", "z"], axis=1, block_size=2),
    {"x": Q, "s": scales(2, 2, 4, 5), "z": u8(2, 2, 4, 5)}, opset=21)
add("DequantizeLinear", "weight-folds-into-matmul",
    [node("DequantizeLinear", ["w", "s", "z"], ["wf"], axis=1), node("MatMul", ["x", "wf"])],
    {"x": f32(3, 6)}, {"w": i8(6, 4), "s": scales(4), "z": np.zeros(4, np.int8)})
add("DequantizeLinear", "qdq-pair", [node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                                     node("DequantizeLinear", ["q", "s", "z"])],
    {"x": X}, {"s": np.float32(0.05), "z": np.uint8(120)})

# ---------------------------------------------------------------------------------------------
# DynamicQuantizeLinear

_DQL = node("DynamicQuantizeLinear", ["x"], ["y", "ys", "yz"])
for _name, _x in {"mixed": X, "all-positive": np.abs(X) + 0.5, "all-negative": -np.abs(X) - 0.5,
                  "all-zero": np.zeros((3, 4), np.float32), "rank-1": f32(17)}.items():
    add("DynamicQuantizeLinear", _name, _DQL, {"x": _x}, opset=11, outputs=["y", "ys", "yz"])

# ---------------------------------------------------------------------------------------------
# MatMulInteger

A, B = u8(5, 7), i8(7, 6)
add("MatMulInteger", "uint8-int8-scalar-zero-points", node("MatMulInteger", ["a", "b", "az", "bz"]), {"a": A},
    {"b": B, "az": np.uint8(120), "bz": np.int8(3)}, opset=10)
add("MatMulInteger", "no-zero-points", node("MatMulInteger", ["a", "b"]), {"a": A}, {"b": B}, opset=10)
add("MatMulInteger", "per-column-b", node("MatMulInteger", ["a", "b", "az", "bz"]), {"a": A},
    {"b": u8(7, 6), "az": np.uint8(7), "bz": u8(6)}, opset=10)
_AZ = u8(5)
add("MatMulInteger", "per-row-a", node("MatMulInteger", ["a", "b", "az"]), {"a": A}, {"b": B, "az": _AZ}, opset=10,
    # the spec's formula: neither onnxruntime nor onnx's reference evaluator takes a per-row zero point
    ref=lambda feeds: {"y": (feeds["a"].astype(np.int32) - _AZ.astype(np.int32)[:, None]) @ B.astype(np.int32)})
add("MatMulInteger", "int8-int8-batched", node("MatMulInteger", ["a", "b", "az", "bz"]), {"a": i8(2, 5, 7)},
    {"b": B, "az": np.int8(-2), "bz": np.int8(0)}, opset=10)
add("MatMulInteger", "runtime-b-and-zero-point", node("MatMulInteger", ["a", "b", "az"]),
    {"a": A, "b": u8(7, 6), "az": np.asarray(99, np.uint8)}, opset=10)
add("MatMulInteger", "after-dynamic-quantize",
    [node("DynamicQuantizeLinear", ["x"], ["q", "qs", "qz"]), node("MatMulInteger", ["q", "b", "qz"])],
    {"x": f32(4, 7)}, {"b": B}, opset=11)

# ---------------------------------------------------------------------------------------------
# ConvInteger

XC, WC = u8(1, 4, 7, 7), u8(6, 4, 3, 3)
add("ConvInteger", "zero-points-pads", node("ConvInteger", ["x", "w", "xz", "wz"], pads=[1, 1, 1, 1]), {"x": XC},
    {"w": WC, "xz": np.uint8(90), "wz": np.uint8(128)}, opset=10)
add("ConvInteger", "no-zero-points", node("ConvInteger", ["x", "w"]), {"x": XC}, {"w": WC}, opset=10)
add("ConvInteger", "per-channel-w", node("ConvInteger", ["x", "w", "xz", "wz"], strides=[2, 2], pads=[0, 1, 1, 0]),
    {"x": XC}, {"w": WC, "xz": np.uint8(3), "wz": u8(6)}, opset=10, ref="onnx")
add("ConvInteger", "group-dilation", node("ConvInteger", ["x", "w", "xz"], group=2, dilations=[2, 2]), {"x": XC},
    {"w": u8(4, 2, 2, 2), "xz": np.uint8(77)}, opset=10)
add("ConvInteger", "same-upper-1d", node("ConvInteger", ["x", "w", "xz", "wz"], auto_pad="SAME_UPPER"),
    {"x": u8(2, 3, 9)}, {"w": u8(5, 3, 4), "xz": np.uint8(10), "wz": np.uint8(200)}, opset=10)
add("ConvInteger", "int8", node("ConvInteger", ["x", "w", "xz", "wz"], pads=[1, 1, 1, 1]), {"x": i8(1, 4, 5, 5)},
    {"w": i8(3, 4, 3, 3), "xz": np.int8(-5), "wz": np.int8(0)}, opset=10)

# ---------------------------------------------------------------------------------------------
# QLinearMatMul and QLinearConv

_QMM = ["a", "as", "az", "b", "bs", "bz", "ys", "yz"]
add("QLinearMatMul", "per-tensor-uint8", node("QLinearMatMul", _QMM), {"a": A},
    {"as": np.float32(0.03), "az": np.uint8(120), "b": B, "bs": np.float32(0.01), "bz": np.int8(0),
     "ys": np.float32(0.4), "yz": np.uint8(128)}, opset=10)
add("QLinearMatMul", "per-column-b", node("QLinearMatMul", _QMM), {"a": A},
    {"as": np.float32(0.03), "az": np.uint8(12), "b": B, "bs": scales(6, lo=0.002, hi=0.02),
     "bz": np.zeros(6, np.int8), "ys": np.float32(0.3), "yz": np.uint8(100)}, opset=10)
add("QLinearMatMul", "int8-batched", node("QLinearMatMul", _QMM), {"a": i8(2, 5, 7)},
    {"as": np.float32(0.05), "az": np.int8(-4), "b": B, "bs": np.float32(0.01), "bz": np.int8(0),
     "ys": np.float32(0.5), "yz": np.int8(3)}, opset=10)
add("QLinearMatMul", "uint8-weights-opset21", node("QLinearMatMul", _QMM), {"a": A},
    {"as": np.float32(0.02), "az": np.uint8(128), "b": u8(7, 6), "bs": np.float32(0.01), "bz": np.uint8(130),
     "ys": np.float32(0.25), "yz": np.uint8(128)}, opset=21)
_AS = scales(5, lo=0.01, hi=0.05)


def _qmm_per_row(feeds: dict) -> dict:
    """The spec's formula (onnxruntime takes only a per-tensor a_scale): per-row a_scale, per-tensor b."""
    acc = (feeds["a"].astype(np.int64) - 120) @ B.astype(np.int64)
    mult = ((_AS[:, None] * np.float32(0.01)) / np.float32(0.4)).astype(np.float32)
    return {"y": np.clip(np.rint(acc.astype(np.float32) * mult) + 128, 0, 255).astype(np.uint8)}


add("QLinearMatMul", "per-row-a", node("QLinearMatMul", _QMM), {"a": A},
    {"as": _AS, "az": np.uint8(120), "b": B, "bs": np.float32(0.01), "bz": np.int8(0), "ys": np.float32(0.4),
     "yz": np.uint8(128)}, opset=10, ref=_qmm_per_row)
add("QLinearMatMul", "runtime-b", node("QLinearMatMul", _QMM), {"a": A, "b": B},
    {"as": np.float32(0.03), "az": np.uint8(120), "bs": np.float32(0.01), "bz": np.int8(0),
     "ys": np.float32(0.4), "yz": np.uint8(128)}, opset=10)

add("QLinearMatMul", "runtime-scales-and-zero-points", node("QLinearMatMul", _QMM),
    {"a": A, "as": np.asarray(0.03, np.float32), "az": np.asarray(120, np.uint8), "bs": np.asarray(0.01, np.float32),
     "ys": np.asarray(0.4, np.float32), "yz": np.asarray(128, np.uint8)}, {"b": B, "bz": np.int8(0)}, opset=10)

_QC = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"]
_QC_INITS = {"xs": np.float32(0.03), "xz": np.uint8(120), "ys": np.float32(0.2), "yz": np.uint8(128)}
add("QLinearConv", "per-tensor-bias-pads", node("QLinearConv", _QC + ["bias"], pads=[1, 1, 1, 1]), {"x": XC},
    {**_QC_INITS, "w": i8(6, 4, 3, 3), "ws": np.float32(0.01), "wz": np.int8(0),
     "bias": RNG.integers(-2000, 2000, 6).astype(np.int32)}, opset=10)
add("QLinearConv", "per-channel-no-bias", node("QLinearConv", _QC, strides=[2, 2]), {"x": XC},
    {**_QC_INITS, "w": i8(6, 4, 3, 3), "ws": scales(6, lo=0.002, hi=0.02), "wz": np.zeros(6, np.int8)},
    opset=10)
add("QLinearConv", "depthwise-per-channel", node("QLinearConv", _QC + ["bias"], group=4, pads=[1, 1, 1, 1]),
    {"x": XC}, {**_QC_INITS, "w": i8(4, 1, 3, 3), "ws": scales(4, lo=0.005, hi=0.03), "wz": np.zeros(4, np.int8),
                "bias": RNG.integers(-500, 500, 4).astype(np.int32)}, opset=10)
add("QLinearConv", "int8-activations", node("QLinearConv", _QC, auto_pad="SAME_UPPER"), {"x": i8(1, 4, 6, 6)},
    {"xs": np.float32(0.04), "xz": np.int8(-10), "w": i8(3, 4, 3, 3), "ws": np.float32(0.01), "wz": np.int8(0),
     "ys": np.float32(0.3), "yz": np.int8(5)}, opset=10)
add("QLinearConv", "runtime-per-channel-scales", node("QLinearConv", _QC + ["bias"]),
    {"x": XC, "xs": np.asarray(0.03, np.float32), "ws": scales(6, lo=0.002, hi=0.02),
     "ys": np.asarray(0.2, np.float32)},
    {"xz": np.uint8(120), "w": i8(6, 4, 3, 3), "wz": np.zeros(6, np.int8), "yz": np.uint8(128),
     "bias": RNG.integers(-2000, 2000, 6).astype(np.int32)}, opset=10)
add("QLinearConv", "uint8-weights-zero-point", node("QLinearConv", _QC), {"x": XC},
    {**_QC_INITS, "w": u8(5, 4, 2, 2), "ws": np.float32(0.004), "wz": np.uint8(131)}, opset=10)


# ---------------------------------------------------------------------------------------------
# single-op tests


def _save(case: Case, tmp_path: Path) -> tuple[onnx.ModelProto, Path]:
    model = build(case)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return model, path


def _check(case: Case, name: str, got: np.ndarray, ref: np.ndarray) -> None:
    if case.op in REQUANT_OPS:
        assert got.dtype == ref.dtype and got.shape == ref.shape
        diff = np.abs(got.astype(np.int64) - ref.astype(np.int64))
        assert diff.max() <= CODE_BOUND, f"{name}: {int(diff.max())} codes from onnxruntime"
    else:
        assert_close(name, got, ref)


def test_every_quantized_importer_has_cases() -> None:
    assert QUANT_OPS <= set(load_importers())
    covered = Counter(c.op for c in CASES)
    assert all(covered[op] >= 3 for op in QUANT_OPS), covered
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_onnxruntime(case: Case, tmp_path: Path) -> None:
    model, path = _save(case, tmp_path)
    ref = run_reference(model, case.inputs, case.ref)
    imported = import_model(path)
    got = NNProgram(imported.module, imported.weights).run(case.inputs)
    assert set(got) == set(ref)
    for name, r in ref.items():
        _check(case, name, got[name], r)


GEMM_CASES = [c for c in CASES if c.op in GEMM_OPS or c.id == "DequantizeLinear-weight-folds-into-matmul"]


@pytest.mark.parametrize("case", GEMM_CASES, ids=[c.id for c in GEMM_CASES])
def test_gemm_compiles_to_pim_and_emulates(case: Case, tmp_path: Path) -> None:
    """The integer GEMMs stay GEMMs with a constant weight: on `sram-pim` they become crossbar reads
    (a run-time B runs on the digital tier), and the program's --ideal run matches onnxruntime."""
    model, path = _save(case, tmp_path)
    ref = run_reference(model, case.inputs, case.ref)
    compiled = compile_model(str(path), "sram-pim")
    ops = list(compiled.imported.module.walk())
    if "runtime-b" not in case.name:
        assert any(isinstance(op, pim.MVMOp) for op in ops), "the GEMM did not reach the PIM tier"
        assert not any(isinstance(op, (nn.MatMulOp, nn.ConvOp)) for op in ops)
    prog = from_container(container.decode(container.encode(to_container(compiled.program))), path.stem)
    got, _, _ = Emulator(prog, ideal=True).run(case.inputs)
    for name, r in ref.items():
        _check(case, name, got[name], r)


def test_weight_dequantization_folds_to_exact_codes_times_scale(tmp_path: Path) -> None:
    """A DequantizeLinear of a constant leaves no op: the weight becomes a float constant equal to
    (code - zero point) * scale, per channel, which is what the GEMM on a tier is given."""
    case = next(c for c in CASES if c.id == "DequantizeLinear-weight-folds-into-matmul")
    _, path = _save(case, tmp_path)
    imported = import_model(path)
    ops = [op for op in imported.func.body.block.ops if not isinstance(op, nn.ConstantOp)]
    assert [op.name for op in ops] == ["nn.matmul", "func.return"]
    w = case.inits
    expected = (w["w"].astype(np.float32) - w["z"].astype(np.float32)) * w["s"]
    matmul = ops[0]
    weight = matmul.operands[1].owner
    assert isinstance(weight, nn.ConstantOp)
    arr = imported.weights.array(weight.resource_key) if weight.resource_key else None
    assert arr is not None and arr.dtype == np.float32 and np.array_equal(arr, expected)


def test_activation_grid_is_marked_for_the_tiers(tmp_path: Path) -> None:
    """DequantizeLinear of an activation with one constant scale and zero point marks its nn.mul with the
    grid (backends/pim.py reads it); a per-axis one carries no single grid and is not marked."""
    from h3pc.backends.pim import CODE_RANGE, SCALE, ZERO_POINT

    for case_id, marked in (("DequantizeLinear-opset10-uint8", (0.03, 128, [0, 255])),
                            ("DequantizeLinear-per-axis-1", None)):
        case = next(c for c in CASES if c.id == case_id)
        _, path = _save(case, tmp_path)
        muls = [op for op in import_model(path).func.body.block.ops if op.name == "nn.mul"]
        assert len(muls) == 1
        attrs = muls[0].attributes
        if marked is None:
            assert SCALE not in attrs
            continue
        assert attrs[SCALE].value.data == pytest.approx(marked[0], rel=1e-7)
        assert attrs[ZERO_POINT].value.data == marked[1]
        assert [a.value.data for a in attrs[CODE_RANGE].data] == marked[2]


REFUSED = [
    (Case("QuantizeLinear", "float8-output", [node("QuantizeLinear", ["x", "s"], ["c"], output_dtype=17),
                                              node("DequantizeLinear", ["c", "s"])], {"x": f32(3, 4)},
          {"s": np.float32(0.1)}, opset=21),
     r"node 'q' \(QuantizeLinear\): output type FLOAT8E4M3FN is not supported"),
    (Case("QuantizeLinear", "int4-output", [node("QuantizeLinear", ["x", "s"], ["c"], output_dtype=22),
                                            node("DequantizeLinear", ["c", "s"])], {"x": f32(3, 4)},
          {"s": np.float32(0.1)}, opset=21),
     r"node 'q' \(QuantizeLinear\): output type INT4 is not supported"),
    (Case("QuantizeLinear", "scale-shape", [node("QuantizeLinear", ["x", "s"], axis=1)], {"x": f32(3, 4)},
          {"s": scales(3)}),
     r"node 'q' \(QuantizeLinear\): y_scale \(input 1\) of shape \[3\] is neither per tensor nor per axis 1"),
    (Case("DequantizeLinear", "block-shape", [node("DequantizeLinear", ["x", "s"], axis=1, block_size=2)],
          {"x": i8(3, 4)}, {"s": scales(3, 3)}, opset=21),
     r"node 'q' \(DequantizeLinear\): x_scale \(input 1\) of shape \[3, 3\] does not give blocks of 2 along axis 1"),
    (Case("DynamicQuantizeLinear", "empty", [node("DynamicQuantizeLinear", ["x"], ["y", "ys", "yz"])],
          {"x": np.zeros((0, 3), np.float32)}, opset=11),
     r"node 'q' \(DynamicQuantizeLinear\): input of shape \[0, 3\] is empty"),
    (Case("DequantizeLinear", "int32-zero-point", [node("DequantizeLinear", ["x", "s", "z"])],
          {"x": np.arange(6, dtype=np.int32)}, {"s": np.float32(0.1), "z": np.int32(3)}),
     r"node 'q' \(DequantizeLinear\): int32 input with a non-zero x_zero_point"),
]


@pytest.mark.parametrize("case,message", REFUSED, ids=[c.id for c, _ in REFUSED])
def test_refused_in_one_line(case: Case, message: str, tmp_path: Path) -> None:
    """What is not supported is refused with one line naming the node, the op and the reason."""
    case.nodes[0].name = "q"
    graph = helper.make_graph(
        case.nodes, "g",
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for k, v in case.inputs.items()],
        [helper.make_value_info("y", onnx.TypeProto())],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in case.inits.items()])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.opset)], ir_version=10), str(path))
    with pytest.raises(UnsupportedError, match=message) as info:
        import_model(path)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# real quantized models from onnxruntime's quantization tool

DEV = ("mlp_digits", "cnn_digits")
FORMATS = ("qdq", "qoperator", "dynamic")
TARGETS = ("sram-pim", "hybrid")
CALIB_SAMPLES = 32
#: --ideal against onnxruntime: as for float models (tests/test_reference_ops.py)
IDEAL_REL = 1e-4
#: default mode (the tiers' number formats: 8-bit PIM, 6-bit photonic operands) against onnxruntime, as a
#: fraction of max |output|; measured up to 0.015 on sram-pim and 0.071 on hybrid (docs/quantized.md)
DEFAULT_REL = {"sram-pim": 0.05, "hybrid": 0.15}
#: share of the digits samples whose top-1 class the default mode keeps (measured: all of them)
TOP1_AGREE = 0.97


def _gemm_as_matmul(model: onnx.ModelProto) -> onnx.ModelProto:
    """Gemm (B transposed, plus C) -> MatMul + Add, so the QOperator and dynamic formats use the standard
    QLinearMatMul / MatMulInteger (onnxruntime quantises a Gemm into its own com.microsoft.QGemm)."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes = []
    for n in g.node:
        if n.op_type != "Gemm":
            nodes.append(n)
            continue
        at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        assert not at.get("transA", 0) and at.get("alpha", 1.0) == 1.0 and at.get("beta", 1.0) == 1.0
        w = numpy_helper.to_array(inits[n.input[1]])
        g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w.T if at.get("transB", 0) else w),
                                                     n.input[1] + "_kn"))
        mid = n.output[0] + "_mm" if len(n.input) > 2 else n.output[0]
        nodes.append(helper.make_node("MatMul", [n.input[0], n.input[1] + "_kn"], [mid], name=n.name + "_matmul"))
        if len(n.input) > 2:
            nodes.append(helper.make_node("Add", [mid, n.input[2]], [n.output[0]], name=n.name + "_bias"))
    del g.node[:]
    g.node.extend(nodes)
    return model


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each dev model quantised by onnxruntime: static QDQ (per-channel int8 weights, uint8 activations),
    static QOperator (QLinearConv / QLinearMatMul) and dynamic (DynamicQuantizeLinear + ConvInteger /
    MatMulInteger), calibrated on the model's first samples."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self, xs: np.ndarray) -> None:
            self.it = iter({"x": x[None]} for x in xs)

        def get_next(self) -> dict | None:
            return next(self.it, None)

    out = tmp_path_factory.mktemp("quantized")
    made = {}
    for stem in DEV:
        xs = np.load(MODELS / f"{stem}.npz")["eval/x"][:CALIB_SAMPLES]
        src = MODELS / f"{stem}.onnx"
        mm = out / f"{stem}_matmul.onnx"
        onnx.save(_gemm_as_matmul(onnx.load(str(src))), str(mm))
        made[stem, "qdq"] = out / f"{stem}_qdq.onnx"
        quantize_static(str(src), str(made[stem, "qdq"]), Reader(xs), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        made[stem, "qoperator"] = out / f"{stem}_qop.onnx"
        quantize_static(str(mm), str(made[stem, "qoperator"]), Reader(xs), quant_format=QuantFormat.QOperator,
                        per_channel=True, op_types_to_quantize=["Conv", "MatMul"])
        made[stem, "dynamic"] = out / f"{stem}_dyn.onnx"
        quantize_dynamic(str(mm), str(made[stem, "dynamic"]), op_types_to_quantize=["Conv", "MatMul"])
    return made


#: the quantised ops each format must contain (so a quantizer change cannot make the test vacuous)
EXPECTED_OPS = {"qdq": {"QuantizeLinear", "DequantizeLinear"},
                "qoperator": {"QuantizeLinear", "QLinearMatMul", "DequantizeLinear"},
                "dynamic": {"DynamicQuantizeLinear", "MatMulInteger"}}


def _ort_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return np.stack([sess.run(None, {"x": xi[None]})[0] for xi in x])


def _output_step(model: onnx.ModelProto) -> float | None:
    """The step of the graph output's codes: the scale of the DequantizeLinear (or QLinear op) that
    writes it, when it is a constant scalar; None for a float output (dynamic quantisation)."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = model.graph.output[0].name
    for node in model.graph.node:
        if out in node.output and node.op_type == "DequantizeLinear" and node.input[1] in inits:
            return float(np.asarray(inits[node.input[1]]).max())
    return None


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", DEV)
def test_quantized_dev_model(stem: str, fmt: str, target: str, quantized: dict) -> None:
    path = quantized[stem, fmt]
    model = onnx.load(str(path))
    kinds = {n.op_type for n in model.graph.node}
    assert all(n.domain in ("", "ai.onnx") for n in model.graph.node)
    assert EXPECTED_OPS[fmt] <= kinds, kinds
    if stem == "cnn_digits":
        assert {"qdq": "DequantizeLinear", "qoperator": "QLinearConv", "dynamic": "ConvInteger"}[fmt] in kinds
    x = np.load(MODELS / f"{stem}.npz")["eval/x"]
    ref = _ort_outputs(path, x)
    compiled = compile_model(str(path), target)
    if target == "sram-pim":  # static grids reach the DAC (MVMS); a dynamic one is known only at run time
        reads = Counter(i.op for i in compiled.program.streams["sram_pim"])
        assert (reads["MVMS"] > 0 and not reads["MVM"]) if fmt != "dynamic" else (reads["MVM"] > 0), reads
    feeds = {"x": x.reshape((len(x), 1) + x.shape[1:])}
    out = next(iter(Emulator(compiled.program, ideal=True).run(feeds)[0].values())).reshape(ref.shape)
    scale = max(1.0, float(np.abs(ref).max()))
    diff = np.abs(out - ref)
    off = diff > IDEAL_REL * scale
    # a split layer's columns come from products of other widths, whose fp32 sums may differ in the
    # last bit and flip a requantisation tie: at most one output step, on at most 0.1% of outputs
    step = _output_step(model)
    assert off.mean() <= 1e-3 and (not off.any() or (step and float(diff.max()) <= step * 1.001)), \
        (int(off.sum()), float(diff.max()), step)
    noisy = next(iter(Emulator(compiled.program).run(feeds)[0].values())).reshape(ref.shape)
    dev = float(np.abs(noisy - ref).max()) / float(np.abs(ref).max())
    assert dev <= DEFAULT_REL[target], f"default mode deviates by {dev:.3g} of max |output|"
    agree = float(np.mean(noisy.reshape(len(x), -1).argmax(-1) == ref.reshape(len(x), -1).argmax(-1)))
    assert agree >= TOP1_AGREE, f"top-1 agrees on {agree:.3f} of the samples"


def _qdq_weights(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(codes, zero point, scale) of every DequantizeLinear of an int8 initializer, per output channel."""
    model = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    found = []
    for n in model.graph.node:
        if n.op_type == "DequantizeLinear" and inits.get(n.input[0], np.empty(0, np.uint8)).dtype == np.int8:
            found.append((inits[n.input[0]], inits[n.input[2]], inits[n.input[1]]))
    return found


@pytest.mark.parametrize("stem", DEV)
def test_int8_per_channel_weights_are_their_own_crossbar_codes(stem: str, quantized: dict) -> None:
    """onnxruntime's symmetric per-channel int8 weights (scale = max|w| / 127) written into an 8-bit
    crossbar (runtime/pim.py's PROG: one scale per output column, by its max |w|) keep exactly their
    codes; a per-tensor scale would be re-scaled per column instead (docs/quantized.md)."""
    from h3pc.hardware.schema import load_hardware
    from h3pc.runtime.quantize import quantize

    bits = load_hardware("h3pimap").tier("sram_pim").weight_bits
    weights = _qdq_weights(quantized[stem, "qdq"])
    assert weights and bits == 8
    for codes, zp, scale in weights:
        assert not np.any(zp) and scale.shape == (codes.shape[0],)
        w = codes.astype(np.float32) * scale.reshape((-1,) + (1,) * (codes.ndim - 1))  # the folded constant
        columns = w.reshape(codes.shape[0], -1).T[None]  # [1, k, n]: one crossbar column per output channel
        pim_codes, _ = quantize(columns, bits, axis=1)
        assert np.array_equal(pim_codes[0], codes.reshape(codes.shape[0], -1).T.astype(np.float32))
        # the same weights quantised per tensor (one scale, max |w| / 127): a column whose max is smaller
        # holds fewer levels, and the crossbar stretches it to its own 127
        t_scale = np.float32(np.abs(w).max() / 127)
        t_codes = np.rint(w / t_scale).reshape(codes.shape[0], -1).T
        rescaled, _ = quantize((t_codes * t_scale)[None].astype(np.float32), bits, axis=1)
        col_max = np.abs(t_codes).max(axis=0)
        # round(code * 127 / column max), up to a float tie
        assert np.abs(rescaled[0] - np.rint(t_codes * (127.0 / col_max))).max() <= 1
        assert not np.array_equal(rescaled[0], t_codes)


@pytest.mark.parametrize("stem", DEV)
def test_qoperator_model_on_wide_adcs_is_onnxruntime_exactly(stem: str, quantized: dict) -> None:
    """A static QOperator model on sram-pim in the default (quantized) mode: the importer marks each GEMM's
    input codes (`h3pc.scale` 1, the zero point, the code range), so the input DAC steps by them (MVMS),
    and the integer weight codes are their own crossbar codes; with ADCs that resolve every partial sum
    the crossbar read is the model's int32 accumulation and the output is onnxruntime's, bit for bit.
    With the preset's 7-bit ADCs the read is coarser (the deviation test_quantized_dev_model bounds)."""
    import dataclasses

    from h3pc.hardware.schema import load_hardware

    hw = load_hardware("h3pimap")
    hw = hw.with_tier("sram_pim", dataclasses.replace(hw.sram_pim, adc_bits=12))
    path = quantized[stem, "qoperator"]
    x = np.load(MODELS / f"{stem}.npz")["eval/x"][:100]
    ref = _ort_outputs(path, x)
    compiled = compile_model(str(path), "sram-pim", hw)
    reads = Counter(i.op for i in compiled.program.streams["sram_pim"])
    assert reads["MVMS"] > 0 and reads["MVM"] == 0, reads
    got = next(iter(Emulator(compiled.program).run({"x": x.reshape((len(x), 1) + x.shape[1:])})[0].values()))
    assert np.array_equal(got.reshape(ref.shape), ref)
