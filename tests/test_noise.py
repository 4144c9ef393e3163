"""The emulator's noise models against their definitions (docs/hardware-model.md c), measured
through whole programs: statistics within sampling error, reproducible under a seed."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from h3pc.compiler import compile_model
from h3pc.hardware.schema import load_hardware, parse_hardware
from h3pc.runtime import pim
from h3pc.runtime.emulator import Emulator
from h3pc.runtime.quantize import fake_quantize, quantize

SAMPLES = 1500


def _save(model: onnx.ModelProto, path) -> str:
    model.ir_version = 10
    onnx.save(model, str(path))
    return str(path)


def dynamic_matmul(path, m: int, k: int, n: int) -> str:
    """Y = A @ B with both operands inputs (the photonic tier's case)."""
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k]),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), path)


def static_matmul(path, w: np.ndarray) -> str:
    """Y = X @ W with W an initializer (a PIM tier's case)."""
    k, n = w.shape
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
                          [numpy_helper.from_array(w.astype(np.float32), "w")])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), path)


def fine_adcs(**extra):
    """h3pimap with 16-bit output converters, so the measured spread is the noise, not ADC steps."""
    d = load_hardware("h3pimap").to_dict()
    d["photonic"]["out_bits"] = 16
    d["reram_pim"]["adc_bits"] = 16
    d["sram_pim"]["adc_bits"] = 16
    for tier, keys in extra.items():
        d[tier].update(keys)
    return parse_hardware(d, "test")


def compiled(model: str, target: str, tmp_path):
    """The program for `target` on `fine_adcs()` (converter bits are baked into the instructions)."""
    import yaml

    hw = tmp_path / "fine.yaml"
    hw.write_text(yaml.safe_dump(fine_adcs().to_dict()))
    return compile_model(model, target, hw=str(hw)).program


def test_photonic_gemm_error_matches_sigma(tmp_path) -> None:
    """Relative Gaussian noise sigma on both quantised operands: each output's variance over samples
    is sigma^2 (2 + sigma^2) sum_k (a_k b_k)^2."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 24)).astype(np.float32), rng.standard_normal((24, 3)).astype(np.float32)
    prog = compiled(dynamic_matmul(tmp_path / "mm.onnx", 2, 24, 3), "photonic", tmp_path)
    hw = fine_adcs()
    emu = Emulator(prog, hw, seed=7)
    ys, rep, _ = emu.run({"a": np.repeat(a[None], SAMPLES, 0), "b": np.repeat(b[None], SAMPLES, 0)})
    assert rep["mode"] == "noisy"
    p = hw.photonic
    aq, bq = fake_quantize(a, p.in_bits), fake_quantize(b, p.w_bits)
    sigma = p.noise_sigma
    want = sigma**2 * (2 + sigma**2) * ((aq[:, :, None] * bq[None]) ** 2).sum(1)
    got = ys["y"].astype(np.float64).var(0)
    # the sample variance of SAMPLES normal draws has relative std sqrt(2 / (SAMPLES - 1)) ~ 3.7%
    assert got == pytest.approx(want, rel=0.15)
    assert np.abs(ys["y"].mean(0) - aq @ bq).max() < 4 * np.sqrt(want.max() / SAMPLES)


def brute_force_reads(codes: np.ndarray, x: np.ndarray, t, trials: int, rng) -> np.ndarray:
    """Column sums read cell by cell: every bit plane of the (non-negative) input codes reads every
    cell of both columns of each weight's differential pair, each conductance with its own
    thermal + shot draw; the sum converted back to weight codes. [trials, n]."""
    levels = 2**t.cell_bits - 1
    delta = (t.g_max_us - t.g_min_us) / levels
    c = pim.cell_variance_per_us(t)
    k, n = codes.shape
    mag, sign = np.abs(codes).astype(np.int64), np.sign(codes)
    digits = [(mag >> (t.cell_bits * j)) & levels for j in range(t.cells_per_weight)]
    out = np.zeros((trials, n))
    for bit in range(t.input_bits - 1):
        on = ((x.astype(np.int64) >> bit) & 1).astype(bool)
        for j, d in enumerate(digits):
            g_used = t.g_min_us + d * delta
            g_pos = np.where(sign >= 0, g_used, t.g_min_us)[on]
            g_neg = np.where(sign >= 0, t.g_min_us, g_used)[on]
            read_pos = g_pos + np.sqrt(c * g_pos) * rng.standard_normal((trials,) + g_pos.shape)
            read_neg = g_neg + np.sqrt(c * g_neg) * rng.standard_normal((trials,) + g_neg.shape)
            out += 2.0**bit * 2.0 ** (t.cell_bits * j) * ((read_pos - read_neg) / delta).sum(1)
    return out


def test_reram_read_noise_matches_a_cell_level_simulation(tmp_path) -> None:
    """The emulator's MVM noise (a Gaussian per partial sum, `pim.partial_sum_std`) has the
    variance of a cell-by-cell simulation of H3PIMAP Eq. 1 (thermal + shot per conductance read)."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((40, 3)).astype(np.float32)
    x = np.abs(rng.standard_normal((1, 40))).astype(np.float32)
    hw = fine_adcs()
    t = hw.reram_pim
    prog = compiled(static_matmul(tmp_path / "mm.onnx", w), "reram-pim", tmp_path)
    ys, _, _ = Emulator(prog, hw, seed=3).run({"x": np.repeat(x[None], SAMPLES, 0)})
    codes, wscale = quantize(w, t.weight_bits, axis=0)
    xc, xscale = quantize(x, t.input_bits)
    want = brute_force_reads(codes, xc[0], t, 4000, rng).var(0) * float(xscale * xscale) * wscale[0] ** 2
    got = ys["y"][:, 0].astype(np.float64).var(0)
    assert got == pytest.approx(want, rel=0.15)
    # the noise is real: relative read noise of a few 0.1% of the output's size
    assert (np.sqrt(got) / np.abs(ys["y"].mean(0)[0])).max() > 1e-4


def test_sram_is_noise_free_and_runs_repeat_under_a_seed(tmp_path) -> None:
    rng = np.random.default_rng(4)
    w = rng.standard_normal((40, 3)).astype(np.float32)
    feeds = {"x": rng.standard_normal((5, 1, 40)).astype(np.float32)}
    sram = compile_model(static_matmul(tmp_path / "s.onnx", w), "sram-pim").program
    noisy, _, _ = Emulator(sram, seed=1).run(feeds)
    quiet, rep, _ = Emulator(sram, noise=False).run(feeds)
    assert rep["mode"] == "quantized" and np.array_equal(noisy["y"], quiet["y"])
    reram = compile_model(static_matmul(tmp_path / "r.onnx", w), "reram-pim").program
    a, _, _ = Emulator(reram, seed=5).run(feeds)
    emu = Emulator(reram, seed=5)
    b, _, _ = emu.run(feeds)
    again, _, _ = emu.run(feeds)  # each run starts its noise from the seed
    c, _, _ = Emulator(reram, seed=6).run(feeds)
    assert np.array_equal(a["y"], b["y"]) and np.array_equal(a["y"], again["y"])
    assert not np.array_equal(a["y"], c["y"])


def test_optional_noise_sources_are_off_by_default_and_act_when_set(tmp_path) -> None:
    rng = np.random.default_rng(5)
    w = rng.standard_normal((40, 3)).astype(np.float32)
    feeds = {"x": rng.standard_normal((50, 1, 40)).astype(np.float32)}
    prog = compiled(static_matmul(tmp_path / "r.onnx", w), "reram-pim", tmp_path)
    quiet = fine_adcs(reram_pim={"read_noise": False})
    base, _, _ = Emulator(prog, quiet, noise=False).run(feeds)
    same, _, _ = Emulator(prog, quiet, seed=1).run(feeds)  # read noise off, nothing optional on
    assert np.array_equal(base["y"], same["y"])
    drift = fine_adcs(reram_pim={"read_noise": False, "drift_nu": 0.05, "drift_time_s": 86400.0})
    drifted, _, _ = Emulator(prog, drift, seed=1).run(feeds)
    ratio = np.median(np.abs(drifted["y"]) / np.abs(base["y"]))
    assert ratio == pytest.approx((86400 / 20) ** -0.05, rel=0.02)  # G (t / t0)^-nu
    prog_noise = fine_adcs(reram_pim={"read_noise": False, "program_noise_sigma": 0.01})
    programmed, _, _ = Emulator(prog, prog_noise, seed=1).run(feeds)
    assert 0 < np.abs(programmed["y"] - base["y"]).max() < 0.2 * np.abs(base["y"]).max()


@pytest.mark.parametrize("target", ["reram-pim", "sram-pim", "photonic"])
def test_a_nan_the_model_computes_propagates_like_onnxruntime(tmp_path, recwarn, target: str) -> None:
    """sqrt of a negative input is NaN under onnxruntime too: the noisy tiers pass it on (a NaN code
    once indexed the read-noise table out of bounds) and numpy warns about nothing."""
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    g = helper.make_graph([helper.make_node("Sqrt", ["x"], ["s"]), helper.make_node("MatMul", ["s", "w"], ["y"])],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 32])],
                          [numpy_helper.from_array(rng.standard_normal((64, 32)).astype(np.float32), "w")])
    path = _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), tmp_path / "sqrt.onnx")
    x = rng.standard_normal((4, 64)).astype(np.float32)
    x[1] = np.abs(x[1])  # one row has no NaN
    want = ort.InferenceSession(path).run(None, {"x": x})[0]
    got = Emulator(compile_model(path, target).program, seed=3).run({"x": x})[0]["y"]
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.isnan(want).any()
    assert np.abs(got[1] - want[1]).max() < 0.1 * np.abs(want[1]).max()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
