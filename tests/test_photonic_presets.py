"""The photonic tier beyond TeMPO (issue 22): WDM wavelengths per core, operands shared by the tiles, the
laser from SimPhony's Eq. 1 inputs, and the Lightening-Transformer preset built on them
(docs/hardware-model.md "Photonic presets"). Golden figures are computed by hand from the presets."""

from __future__ import annotations

import dataclasses
import math

import pytest
import yaml

from conftest import model_path
from h3pc import cost
from h3pc.compiler import compile_model
from h3pc.diagnostics import H3pcError
from h3pc.hardware import load_hardware
from h3pc.hardware.schema import PRESETS, HardwareConfig, parse_hardware
from h3pc.runtime.emulator import estimate

H3 = load_hardware("h3pimap")
LT = load_hardware("lightening-transformer")
PJ, MW = 1e-12, 1e-3


def with_photonic(hw: HardwareConfig, **changes: object) -> HardwareConfig:
    return hw.with_tier("photonic", dataclasses.replace(hw.photonic, **changes))


# -- wavelengths: k spread over the WDM channels ----------------------------------------------------

def test_wavelengths_divide_the_k_cycles() -> None:
    one, twelve = with_photonic(H3, wavelengths=1), with_photonic(H3, wavelengths=12)
    assert cost.photonic_gemm_cycles(one, 16, 120, 16) == 120  # 4 output blocks on 4 cores
    assert cost.photonic_gemm_cycles(twelve, 16, 120, 16) == 10  # 120 / 12
    assert cost.photonic_gemm_cycles(twelve, 16, 121, 16) == 11  # ceil granularity
    assert cost.photonic_gemm_cycles(twelve, 16, 5, 16) == 1
    a, b = cost.photonic_gemm(one, 16, 120, 16), cost.photonic_gemm(twelve, 16, 120, 16)
    assert b.latency_s == pytest.approx(a.latency_s / 12)
    # every operand value is still converted once per output block that uses it
    assert b.energy["dac"] == pytest.approx(a.energy["dac"])
    assert b.energy["modulator"] == pytest.approx(a.energy["modulator"])
    # an output is read every 3 cycles, a cycle now summing 12 products: 10 cycles -> 4 reads, not 40
    assert a.energy["adc"] == pytest.approx(16 * 16 * 40 * 1.48 * PJ)
    assert b.energy["adc"] == pytest.approx(16 * 16 * 4 * 1.48 * PJ)
    # detectors, TIAs, laser and integrators are powered for 1/12 of the time
    for c in ("detector", "tia", "laser", "leakage"):
        assert b.energy[c] == pytest.approx(a.energy[c] / 12)


def test_one_wavelength_leaves_the_h3pimap_figures_unchanged() -> None:
    assert H3.photonic.wavelengths == 1 and not H3.photonic.tile_shared_w
    c = cost.photonic_gemm(H3, 16, 64, 16)
    assert c.latency_s == pytest.approx(64 / 3e9)
    assert c.energy["adc"] == pytest.approx(16 * 16 * 22 * 1.48 * PJ)
    assert c.energy["dac"] == pytest.approx(64 * (2 * 16 + 2 * 16) * 1.15 * PJ)


def test_lt_gemm_golden() -> None:
    """C[24, 24] = A[24, 120] B[120, 24] on LT-B: 2 x 2 output blocks of 12 x 12 on 4 of the 8 cores, 120 / 12
    = 10 cycles at 5 GHz; B's chunks are encoded once for the 2 row blocks (the tiles share them)."""
    c = cost.photonic_gemm(LT, 24, 120, 24)
    t = 10 / 5e9
    assert c.latency_s == pytest.approx(t)
    conv_a, conv_b = 120 * 2 * 24, 120 * 24 * 1  # A once per column block; B once for both row blocks
    assert c.energy["dac"] == pytest.approx((conv_a + conv_b) * 0.40 * PJ)
    assert c.energy["modulator"] == pytest.approx((conv_a + conv_b) * 0.56 * PJ)  # MZM + 2 MRR rerouters
    assert c.energy["adc"] == pytest.approx(24 * 24 * math.ceil(10 / 3) * 0.74 * PJ)
    nodes_s = t * 4 * 144
    assert c.energy["detector"] == pytest.approx(nodes_s * 2.2 * MW)
    assert c.energy["tia"] == pytest.approx(nodes_s * 3.0 * MW / 3)
    assert c.energy["laser"] == pytest.approx(t * cost.laser_power(LT.photonic) * MW * 4 / 8)
    unshared = cost.photonic_gemm(with_photonic(LT, tile_shared_w=False), 24, 120, 24)
    assert unshared.energy["dac"] == pytest.approx((conv_a + 2 * conv_b) * 0.40 * PJ)
    assert unshared.latency_s == c.latency_s
    # energy per MAC of the photonic compute: well under a picojoule at 4 bits (LT's DeiT-B, memory
    # included, is 5.44 mJ for about 17.6 GMACs, 0.3 pJ/MAC, docs/hardware-model.md b.1)
    big = cost.photonic_gemm(LT, 192, 1200, 192)
    per_mac = big.energy_j / (192 * 1200 * 192)
    assert 0.05 * PJ < per_mac < 0.5 * PJ


def test_lt_peak_throughput() -> None:
    """LT-B's peak: 4 tiles x 2 cores x 12 x 12 nodes x 12 wavelengths at 5 GHz = 69.1 TMAC/s; a GEMM that
    fills every core reaches it exactly (16 x 16 blocks on 8 cores, k a multiple of 12)."""
    p = LT.photonic
    peak = p.tiles * p.cores_per_tile * p.core_rows * p.core_cols * p.wavelengths * p.freq_mhz * 1e6
    assert peak == pytest.approx(4 * 2 * 12 * 12 * 12 * 5e9)
    m = n = 12 * 16
    k = 12 * 100
    assert m * k * n / cost.photonic_gemm(LT, m, k, n).latency_s == pytest.approx(peak)


# -- the laser equation ------------------------------------------------------------------------------

def test_laser_equation_reproduces_the_h3pimap_number() -> None:
    """The h3pimap preset's 3512 mW, from its documented inputs: S = -25 dBm, IL 6 dB, split 14 x 14 = 196,
    WPE 0.2, 2^6 levels, ER 10 dB, x 4 cores (the preset rounds 876.9 mW per core up to 878)."""
    p = dataclasses.replace(H3.photonic, laser_power_mw=None, pd_sensitivity_dbm=-25, laser_insertion_loss_db=6,
                            laser_wall_plug_efficiency=0.2, modulator_extinction_ratio_db=10)
    by_hand = 10 ** ((-25 + 6 + 10 * math.log10(196)) / 10) / 0.2 * 2**6 / (1 - 10 ** -1) * 4
    assert cost.laser_power(p) == pytest.approx(by_hand)
    assert cost.laser_power(p) == pytest.approx(3512, rel=2e-3)
    assert cost.laser_power(H3.photonic) == 3512  # the explicit number overrides the equation
    # 3 dB more loss on the critical path doubles it; each operand bit doubles it
    assert cost.laser_power(dataclasses.replace(p, laser_insertion_loss_db=9)) == pytest.approx(
        cost.laser_power(p) * 10**0.3)
    assert cost.laser_power(dataclasses.replace(p, in_bits=7, w_bits=7)) == pytest.approx(2 * cost.laser_power(p))


def test_lt_laser_is_lt_figure() -> None:
    """LT-B's laser: 0.77 W at 4 bits, 12.3 W at 8 (docs/hardware-model.md b.1 "LT-B area / power")."""
    p = LT.photonic
    assert p.laser_power_mw is None
    assert cost.laser_power(p) == pytest.approx(770, rel=1e-3)
    assert cost.laser_power(p) * cost.laser_scale(p, 8, 8) == pytest.approx(12.3e3, rel=2e-3)
    # gated, a GEMM keeping all 8 cores busy draws the whole 0.77 W while it runs
    c = cost.photonic_gemm(LT, 192, 12, 192)
    assert c.energy["laser"] == pytest.approx(c.latency_s * 0.770, rel=1e-3)
    ungated = with_photonic(LT, power_gated=False)
    assert cost.photonic_static_w(ungated.photonic) == pytest.approx(0.770, rel=1e-3)


def _lt_dict() -> dict:
    return yaml.safe_load((PRESETS / "lightening-transformer.yaml").read_text())


@pytest.mark.parametrize("key", ["pd_sensitivity_dbm", "laser_insertion_loss_db", "laser_wall_plug_efficiency"])
def test_a_laser_without_its_inputs_is_refused(key: str) -> None:
    d = _lt_dict()
    del d["photonic"][key]
    with pytest.raises(H3pcError) as e:
        parse_hardware(d, "lt.yaml")
    msg = str(e.value)
    assert msg.startswith(f"lt.yaml: photonic: {key}: missing: without laser_power_mw"), msg
    assert "\n" not in msg
    d["photonic"]["laser_power_mw"] = 500  # an explicit laser power needs no inputs
    assert cost.laser_power(parse_hardware(d, "lt.yaml").photonic) == 500


@pytest.mark.parametrize("key, value, message", [
    ("wavelengths", 0, "photonic.wavelengths: 0 must be > 0"),
    ("laser_wall_plug_efficiency", 0, "photonic.laser_wall_plug_efficiency: 0.0 must be >= 0.001"),
    ("laser_wall_plug_efficiency", 1.5, "photonic.laser_wall_plug_efficiency: 1.5 must be <= 1"),
    ("modulator_extinction_ratio_db", 0, "photonic.modulator_extinction_ratio_db: 0.0 must be >= 0.01"),
    ("pd_sensitivity_dbm", 1e6, "photonic.pd_sensitivity_dbm: 1000000.0 must be <= 60"),
    ("laser_insertion_loss_db", -1, "photonic.laser_insertion_loss_db: -1.0 must be >= 0"),
    ("tile_shared_w", 1, "photonic.tile_shared_w: expected true or false"),
])
def test_photonic_keys_are_validated(key: str, value: object, message: str) -> None:
    d = _lt_dict()
    d["photonic"][key] = value
    with pytest.raises(H3pcError, match=message.replace(".", r"\.")):
        parse_hardware(d, "lt.yaml")


# -- the preset --------------------------------------------------------------------------------------

def test_lt_preset_is_h3pimap_with_lt_b_photonics() -> None:
    """The file header's claim: only the photonic block and the photonic link differ from h3pimap."""
    assert (LT.sram_pim, LT.reram_pim, LT.digital) == (H3.sram_pim, H3.reram_pim, H3.digital)
    assert dataclasses.replace(LT.memory, links=H3.memory.links) == H3.memory
    p = LT.photonic
    assert (p.tiles, p.cores_per_tile, p.core_rows, p.core_cols, p.wavelengths) == (4, 2, 12, 12, 12)
    assert (p.freq_mhz, p.in_bits, p.w_bits, p.out_bits, p.temporal_accumulation) == (5000, 4, 4, 4, 3)
    # the photonic link at the tier's peak operand demand: (8 x 12 + 2 x 12) x 12 values x 4 bit x 5 GHz
    assert LT.memory.links["photonic"] == (8 * 12 + 2 * 12) * 12 * 4 * 5e9 / 8 / 1e9


def test_lt_preset_compiles_a_transformer_on_photonics() -> None:
    """vit_tiny on LT-B's photonic tier: every GEMM on it, estimate and emulator schedule agree, and the
    photonic compute is a small part of the run (the digital tier's non-GEMM work dominates)."""
    c = compile_model(str(model_path("vit_tiny")), "photonic", hw="lightening-transformer")
    rep = estimate(c.program)
    tiers = rep["tiers"]
    assert tiers["photonic"]["busy_s"] > 0 and tiers["sram_pim"]["busy_s"] == tiers["reram_pim"]["busy_s"] == 0
    h3 = estimate(compile_model(str(model_path("vit_tiny")), "photonic").program)
    # the same model's photonic busy time is shorter on LT-B (69.1 TMAC/s peak) than on H3PIMAP's (2.35)
    assert tiers["photonic"]["busy_s"] < h3["tiers"]["photonic"]["busy_s"]
