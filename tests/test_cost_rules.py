"""Golden figures of the cost rules of issue 22 (items 5 and 7), computed by hand from the h3pimap preset:
PIM array energy per column-scan cycle, ADC conversion time by bits, static power with power gating,
the photonic TIA over the temporal-accumulation depth and the laser power by operand bits
(docs/hardware-model.md "How the cost model uses the keys" and "Static power and power gating")."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import model_path
from h3pc import cost
from h3pc.compiler import compile_model
from h3pc.hardware import load_hardware
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime.emulator import estimate
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.partition import StageOneOptions

HW = load_hardware("h3pimap")
SRAM, RERAM, P = HW.sram_pim, HW.reram_pim, HW.photonic
NS, PJ, MW = 1e-9, 1e-12, 1e-3


def gated(hw: HardwareConfig, on: bool, *names: str) -> HardwareConfig:
    """`hw` with `power_gated` set to `on` on the named tiers (every tier when none is named)."""
    for name, cfg in hw.tiers:
        if not names or name in names:
            hw = hw.with_tier(name, dataclasses.replace(cfg, power_gated=on))
    return hw


# -- PIM: array energy per column-scan cycle -------------------------------------------------------

def test_reram_array_read_is_charged_per_column_scan_cycle() -> None:
    # k = 200 rows: 2 row blocks; n = 40 weights x 4 cells = 160 columns: a full crossbar (128 columns,
    # one ADC: 128 scan cycles) and one with 32 columns (32 scan cycles); 8 input bits, 2 vectors
    c = cost.pim_mvm(RERAM, 2, 200, 40)
    assert RERAM.crossbar_read_energy_pj == 17  # PUMA 1.7 mW x our 10 ns cycle
    assert c.energy["crossbar_read"] == pytest.approx(2 * 8 * 2 * (128 + 32) * 17 * PJ)
    # the fullest crossbar sets the pass: 128 conversions of 8 bits at 7 bits per 10 ns cycle
    assert c.latency_s == pytest.approx(2 * 8 * 128 * (8 / 7) * 10 * NS)


def test_sram_array_read_scales_with_the_columns_it_scans() -> None:
    # 4 weights x 8 cells = 32 columns on one crossbar: 32 scan cycles per pass, 18.4 pJ each
    c = cost.pim_mvm(SRAM, 1, 128, 4)
    assert c.energy["crossbar_read"] == pytest.approx(8 * 32 * 18.4 * PJ)
    assert c.latency_s == pytest.approx(8 * 32 * 10 * NS)
    # 16 weights fill the crossbar: 128 scan cycles, 4x the array energy of 32 columns
    full = cost.pim_mvm(SRAM, 1, 128, 16)
    assert full.energy["crossbar_read"] == pytest.approx(4 * c.energy["crossbar_read"])


# -- PIM: ADC conversion time by bits ----------------------------------------------------------------

def test_adc_conversion_time_grows_with_bits() -> None:
    # one vector, one full crossbar (SRAM 16 weights x 8 cells, ReRAM 32 x 4): 8 passes of 128 conversions
    sram7 = cost.pim_mvm(SRAM, 1, 128, 16)
    reram8 = cost.pim_mvm(RERAM, 1, 128, 32)
    assert sram7.latency_s == pytest.approx(8 * 128 * 10 * NS)  # one 7-bit conversion per 10 ns cycle (b.6)
    assert reram8.latency_s == pytest.approx(8 * 128 * 80 / 7 * NS)  # 8 bits: 11.43 ns per conversion
    assert reram8.latency_s / sram7.latency_s == pytest.approx(100 / 87.5)  # PUMA adc_lat_dict, 8 vs 7 bits
    # stage two's lower adc_bits shorten the pass: 4-bit conversions on SRAM take 4/7 of a cycle
    assert cost.pim_mvm(SRAM, 1, 128, 16, adc_bits=4).latency_s == pytest.approx(8 * 128 * 40 / 7 * NS)
    assert cost.pim_mvm(RERAM, 1, 128, 32, adc_bits=7).latency_s == pytest.approx(sram7.latency_s)
    # a description without the key converts its configured adc_bits in one cycle (the v0 rule)
    legacy = dataclasses.replace(RERAM, adc_bits_per_cycle=None)
    assert cost.pim_conversion_cycles(legacy, 8) == 1
    assert cost.pim_mvm(legacy, 1, 128, 32).latency_s == pytest.approx(8 * 128 * 10 * NS)


# -- static power and power gating -------------------------------------------------------------------

def test_pim_adc_leakage_follows_power_gating() -> None:
    # 256 x 64 on ReRAM: 2 row blocks x 2 column crossbars = 4 crossbars, one ADC each
    on = cost.pim_mvm(RERAM, 1, 256, 64)
    assert on.energy["leakage"] == pytest.approx(4 * 0.2 * MW * on.latency_s)  # PUMA 0.2 mW per ADC in use
    off = cost.pim_mvm(dataclasses.replace(RERAM, power_gated=False), 1, 256, 64)
    assert "leakage" not in off.energy and off.latency_s == on.latency_s
    # not gated, every ADC of the tier leaks for the whole run: 0.2 mW x 64 x 100 + 20 mW periphery
    assert cost.pim_static_w(dataclasses.replace(RERAM, power_gated=False)) == pytest.approx(1.28 + 0.02)
    assert cost.pim_static_w(RERAM) == pytest.approx(0.02)  # gated: only the periphery, while busy


@pytest.fixture(scope="module")
def electronic_program():
    """mlp_digits with every layer on the digital tier: the PIM and photonic tiers stay idle."""
    return compile_model(str(model_path("mlp_digits")), "electronic").program


def test_an_idle_gated_tier_costs_no_static_energy(electronic_program) -> None:
    prog = electronic_program
    rep = estimate(prog)
    st = rep["static_energy"]["tiers"]
    assert rep["tiers"]["sram_pim"]["busy_s"] == 0
    assert st["sram_pim"]["energy_j"] == 0 and st["reram_pim"]["energy_j"] == 0
    assert "photonic" not in st  # gated: its laser and integrators are charged by its PMMs only
    # the digital tier's 50 mW over its busy time, not the latency
    busy = rep["tiers"]["digital"]["busy_s"]
    assert st["digital"]["energy_j"] == pytest.approx(0.05 * busy)
    assert rep["tiers"]["digital"]["static_energy_j"] == st["digital"]["energy_j"]


def test_an_idle_ungated_tier_pays_for_the_whole_run(electronic_program) -> None:
    prog = dataclasses.replace(electronic_program, hw=gated(electronic_program.hw, False))
    rep = estimate(prog)
    lat, st = rep["latency_s"], rep["static_energy"]["tiers"]
    # SRAM: 100 mW periphery + 0.2 mW x 256 ADCs x 100 tiles; ReRAM: 20 mW + 0.2 mW x 64 x 100
    assert st["sram_pim"]["energy_j"] == pytest.approx(5.22 * lat)
    assert st["reram_pim"]["energy_j"] == pytest.approx(1.30 * lat)
    # photonic: the 3512 mW laser and 784 integrators of 0.3 mW
    assert st["photonic"]["energy_j"] == pytest.approx((3.512 + 784 * 0.3e-3) * lat)
    assert st["digital"]["energy_j"] == pytest.approx(0.05 * lat)
    assert rep["static_energy"]["energy_j"] == pytest.approx(sum(v["energy_j"] for v in st.values()))


@pytest.mark.parametrize("on", [True, False])
def test_stage_one_charges_static_power_as_the_report_does(on: bool) -> None:
    """The compiler's prediction of a hybrid split equals its report, gated or not (the static power of
    a gated tier is folded into its parts, the others' stays a power over LAT)."""
    hw = gated(HW, on)
    opts = StageOneOptions("naive", search=SearchOptions())
    c = compile_model(str(model_path("mlp_digits")), "hybrid", hw=hw, stage1=opts)
    rep = estimate(c.program)
    assert rep["latency_s"] == pytest.approx(c.stage1.chosen.latency_s, rel=0.02)
    assert rep["energy_j"] == pytest.approx(c.stage1.chosen.energy_j, rel=0.02)
    static = rep["static_energy"]["energy_j"]
    if on:  # every tier's static power over its busy time only
        assert static == pytest.approx(sum(
            w["power_w"] * rep["tiers"][t]["busy_s"] for t, w in rep["static_energy"]["tiers"].items()))
    else:
        assert static == pytest.approx(sum(w["power_w"] for w in rep["static_energy"]["tiers"].values())
                                       * rep["latency_s"])


# -- photonic: TIA over the accumulation depth, laser by operand bits --------------------------------

def test_tia_is_divided_by_the_temporal_accumulation_depth() -> None:
    c = cost.photonic_gemm(HW, 16, 64, 16)  # 4 output blocks on the 4 cores, 64 cycles at 3 GHz
    t = 64 / 3e9
    assert c.energy["tia"] == pytest.approx(t * 4 * 196 * 3.0 * MW / 3)
    assert c.energy["detector"] == pytest.approx(t * 4 * 196 * 1.1 * MW)
    once = cost.photonic_gemm(HW.with_tier("photonic", dataclasses.replace(P, temporal_accumulation=1)), 16, 64, 16)
    assert once.energy["tia"] == pytest.approx(3 * c.energy["tia"])


def test_laser_power_follows_the_operand_bits() -> None:
    t = 64 / 3e9
    six = cost.photonic_gemm(HW, 16, 64, 16)
    assert six.energy["laser"] == pytest.approx(t * 3512 * MW)  # all 4 cores busy, configured 6 bits
    four = cost.photonic_gemm(HW, 16, 64, 16, in_bits=4, w_bits=4)
    assert four.energy["laser"] == pytest.approx(t * 3512 * MW / 4)  # 2^4 / 2^6 (SimPhony Eq. 1)
    assert four.latency_s == six.latency_s
    # the finer operand sets the levels the photodetector must resolve
    mixed = cost.photonic_gemm(HW, 16, 64, 16, in_bits=4, w_bits=5)
    assert mixed.energy["laser"] == pytest.approx(t * 3512 * MW / 2)
    # one output block: one core of four lit
    assert cost.photonic_gemm(HW, 14, 64, 14).energy["laser"] == pytest.approx(t * 3512 * MW / 4)


def test_photonic_power_gating() -> None:
    t = 64 / 3e9
    on = cost.photonic_gemm(HW, 16, 64, 16)
    assert on.energy["leakage"] == pytest.approx(t * 4 * 196 * 0.3 * MW)  # TeMPO integrators of busy nodes
    assert cost.photonic_static_w(P) is None
    off_hw = gated(HW, False, "photonic")
    off = cost.photonic_gemm(off_hw, 16, 64, 16)
    assert "laser" not in off.energy and "leakage" not in off.energy  # drawn for the whole run instead
    assert cost.photonic_static_w(off_hw.photonic) == pytest.approx(3.512 + 784 * 0.3 * MW)
