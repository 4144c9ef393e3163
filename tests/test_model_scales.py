"""A quantized model's activation scale drives the PIM tiers' input DAC (MVMS), not a range of its own.

A layer whose input is a dequantized activation (the op carries `h3pc.scale`, `h3pc.zero_point` and
`h3pc.code_range`, as frontend/ops/quant.py writes them) is read from the crossbars with the model's
own codes: on a noise-free tier whose ADC resolves every partial sum, the result is the model's integer
arithmetic exactly. The same layer without the marker re-quantizes its input to the tier's own range,
and differs. Codes that do not fit the tier's DAC fall back to the tier's own range.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import ArrayAttr, FloatAttr, IntegerAttr, f64, i64

from h3pc.backends import container
from h3pc.backends.program import from_container, to_container
from h3pc.compiler import compile_model
from h3pc.hardware.schema import load_hardware
from h3pc.runtime.emulator import Emulator

RNG = np.random.default_rng(7)
S_X = np.float32(0.05)  # the model's activation scale
K, N = 32, 12


def model(tmp_path, zero_point: int, lo: int, hi: int):
    """x -> fake-quantized onto the grid S_X (zero point, code range) -> MatMul with int8-coded weights."""
    w_codes = RNG.integers(-127, 128, (K, N)).astype(np.float32)
    w_codes[0] = 127  # every column's largest code is 127: the crossbar keeps the codes as they are
    s_w = (RNG.random(N).astype(np.float32) + 0.5) / 100
    w = w_codes * s_w
    nodes = [
        helper.make_node("Div", ["x", "s"], ["q0"]),
        helper.make_node("Round", ["q0"], ["q1"]),
        helper.make_node("Add", ["q1", "zp"], ["q2"]),
        helper.make_node("Clip", ["q2", "lo", "hi"], ["q3"]),
        helper.make_node("Sub", ["q3", "zp"], ["q4"]),
        helper.make_node("Mul", ["q4", "s"], ["xd"], name="dequant"),
        helper.make_node("MatMul", ["xd", "w"], ["y"], name="fc"),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in (("s", np.asarray(S_X, np.float32)),
             ("zp", np.asarray(zero_point, np.float32)), ("lo", np.asarray(lo, np.float32)),
             ("hi", np.asarray(hi, np.float32)), ("w", w))]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, N])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    path = tmp_path / "q.onnx"
    path.write_bytes(m.SerializeToString())
    return path, w_codes, s_w


def fine_adcs():
    """SRAM-PIM with ADCs wide enough for every partial sum, and no noise: only the DACs quantize."""
    hw = load_hardware("h3pimap")
    return hw.with_tier("sram_pim", dataclasses.replace(hw.sram_pim, adc_bits=12))


def compiled(path, mark: tuple[int, int, int] | None):
    def tag(name, module):
        if name != "place" or mark is None:
            return
        zp, lo, hi = mark
        for op in module.walk():
            if op.attributes.get("onnx_node") is not None and op.attributes["onnx_node"].data == "dequant" \
                    and op.name == "nn.mul":
                op.attributes["h3pc.scale"] = FloatAttr(float(S_X), f64)
                op.attributes["h3pc.zero_point"] = IntegerAttr(zp, i64)
                op.attributes["h3pc.code_range"] = ArrayAttr([IntegerAttr(lo, i64), IntegerAttr(hi, i64)])
    prog = compile_model(str(path), "sram-pim", fine_adcs(), after_pass=tag).program
    return from_container(container.decode(container.encode(to_container(prog))), "test")


@pytest.mark.parametrize("zero_point, lo, hi", [(0, -127, 127), (128, 0, 255), (0, -128, 127)])
def test_the_models_codes_reach_the_crossbars(tmp_path, zero_point: int, lo: int, hi: int) -> None:
    path, w_codes, s_w = model(tmp_path, zero_point, lo, hi)
    x = (RNG.standard_normal((4, K)) * 0.5).astype(np.float32)  # codes well inside the range: a range-based step differs
    codes = np.clip(np.rint(x / S_X) + zero_point, lo, hi) - zero_point
    want = (codes @ w_codes) * S_X * s_w  # the model's integer arithmetic, rescaled

    prog = compiled(path, (zero_point, lo, hi))
    assert any(i.op == "MVMS" for i in prog.streams["sram_pim"]) and not any(
        i.op == "MVM" for i in prog.streams["sram_pim"])
    got = Emulator(prog, noise=False).run({"x": x})[0]["y"]
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()

    plain = Emulator(compiled(path, None), noise=False).run({"x": x})[0]["y"]  # its own range: differs
    assert np.abs(plain - want).max() > 1e-3 * np.abs(want).max()
    ideal = Emulator(prog, ideal=True).run({"x": x})[0]["y"]
    assert np.abs(ideal - want).max() <= 1e-5 * np.abs(want).max()


def test_codes_wider_than_the_dac_keep_the_tiers_own_range(tmp_path) -> None:
    path, _, _ = model(tmp_path, 0, -1000, 1000)  # 11-bit codes on an 8-bit DAC
    prog = compiled(path, (0, -1000, 1000))
    assert any(i.op == "MVM" for i in prog.streams["sram_pim"]) and not any(
        i.op == "MVMS" for i in prog.streams["sram_pim"])


def qdq_model(tmp_path, per_channel: bool):
    """QuantizeLinear/DequantizeLinear on the input (uint8, a zero point) and a DequantizeLinear of int8
    weight codes (per tensor or per output channel; no column reaches code 127) feeding a MatMul."""
    w_codes = RNG.integers(-100, 101, (K, N)).astype(np.int8)
    s_w = ((RNG.random(N) + 0.5) / 100).astype(np.float32) if per_channel else np.asarray(0.01, np.float32)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        helper.make_node("DequantizeLinear", ["wq", "sw"], ["w"], axis=1),
        helper.make_node("MatMul", ["xd", "w"], ["y"], name="fc"),
    ]
    inits = [numpy_helper.from_array(np.asarray(S_X, np.float32), "sx"),
             numpy_helper.from_array(np.asarray(131, np.uint8), "zx"),
             numpy_helper.from_array(w_codes, "wq"), numpy_helper.from_array(s_w, "sw")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, N])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)], ir_version=10)
    path = tmp_path / "qdq.onnx"
    path.write_bytes(m.SerializeToString())
    return path, w_codes.astype(np.float32), np.broadcast_to(s_w, (N,))


@pytest.mark.parametrize("per_channel", [False, True])
def test_a_qdq_models_weight_codes_and_activation_grid_reach_the_crossbars(tmp_path, per_channel: bool) -> None:
    """The crossbars hold the model's int8 weight codes (PROGS) and the DAC steps by its activation scale
    (MVMS): the read is the model's integer arithmetic, as onnxruntime computes it, to float rounding."""
    import onnxruntime as ort

    path, w_codes, s_w = qdq_model(tmp_path, per_channel)
    x = (RNG.standard_normal((4, K)) * 1.5).astype(np.float32)
    codes = np.clip(np.rint(x / S_X) + 131, 0, 255) - 131
    want = (codes @ w_codes) * S_X * s_w
    ref = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    assert np.abs(ref - want).max() <= 1e-5 * np.abs(want).max()

    prog = from_container(container.decode(container.encode(to_container(
        compile_model(str(path), "sram-pim", fine_adcs()).program))), "test")
    ops = [i.op for i in prog.streams["sram_pim"]]
    assert "PROGS" in ops and "MVMS" in ops and "PROG" not in ops and "MVM" not in ops
    got = Emulator(prog, noise=False).run({"x": x})[0]["y"]
    assert np.abs(got - ref).max() <= 1e-5 * np.abs(ref).max()
    preset = compile_model(str(path), "sram-pim").program  # the preset's 7-bit ADCs: their own rounding
    dev = np.abs(Emulator(preset, noise=False).run({"x": x})[0]["y"] - ref).max() / np.abs(ref).max()
    assert dev < 0.02
