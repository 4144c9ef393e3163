"""Golden figures of the cost model on the h3pimap preset (change only deliberately)."""

from __future__ import annotations

import pytest

from h3pc import cost
from h3pc.hardware import load_hardware

HW = load_hardware("h3pimap")


def test_photonic_throughput_matches_table_1() -> None:
    # 784 MAC sites at 3 GHz = 2.352 TMAC/s (hardware-model.md a.2): a big square GEMM approaches it
    m = k = n = 14 * 2 * 64
    c = cost.photonic_gemm(HW, m, k, n)
    assert m * k * n / c.latency_s == pytest.approx(2.352e12, rel=1e-6)


def test_photonic_gemm_golden() -> None:
    c = cost.photonic_gemm(HW, 16, 64, 16)
    assert cost.photonic_gemm_cycles(HW, 16, 64, 16) == 64  # 4 output blocks on 4 cores, 64 k-steps
    assert c.latency_s == pytest.approx(64 / 3e9)
    assert c.energy["dac"] == pytest.approx(64 * (2 * 16 + 2 * 16) * 1.15e-12)
    assert c.energy["adc"] == pytest.approx(16 * 16 * 22 * 1.48e-12)
    assert set(c.energy) <= set(cost.COMPONENTS)


def test_lower_bits_cost_less() -> None:
    full = cost.photonic_gemm(HW, 32, 32, 32)
    low = cost.photonic_gemm(HW, 32, 32, 32, in_bits=4, out_bits=6)
    assert low.energy["dac"] < full.energy["dac"] and low.energy["adc"] < full.energy["adc"]
    assert low.latency_s == full.latency_s


def test_pim_mvm_golden() -> None:
    s, r = HW.sram_pim, HW.reram_pim
    assert cost.pim_crossbars(s, 256, 64) == 2 * 4  # 64 weights x 8 cells = 512 columns
    assert cost.pim_crossbars(r, 256, 64) == 2 * 2  # 64 weights x 4 cells = 256 columns
    c = cost.pim_mvm(r, 16, 256, 64)
    # bit-serial 8-bit inputs; 128 active columns share one ADC per crossbar (Table 1); 100 MHz; an 8-bit
    # conversion takes 8/7 cycles (7 bits per cycle, PUMA's ADC time linear in bits)
    assert c.latency_s == pytest.approx(16 * 8 * 128 * (8 / 7) / 100e6)
    assert c.energy["adc"] == pytest.approx(16 * 8 * 256 * 2 * 1.67e-12)
    # every crossbar (4) read once per column-scan cycle (128 per pass), 17 pJ each
    assert c.energy["crossbar_read"] == pytest.approx(16 * 8 * 4 * 128 * 17e-12)


def test_pim_program_counts_cells() -> None:
    c, cells = cost.pim_program(HW.reram_pim, 256, 64)
    assert cells == 256 * 64 * 4
    assert c.latency_s == pytest.approx(128 * 100e-9)
    assert c.energy_j == pytest.approx(cells * 1.38e-12)


def test_composition() -> None:
    a, b = cost.Cost(1.0, {"adc": 1.0}), cost.Cost(2.0, {"adc": 0.5, "dac": 1.0})
    assert a.then(b).latency_s == 3.0 and a.then(b).energy_j == 2.5
    assert cost.Cost.parallel([a, b]).latency_s == 2.0
    assert a.scaled(3).energy["adc"] == 3.0


def test_data_movement_and_digital() -> None:
    t = cost.buffer_transfer(HW, 1024)
    assert t.energy["tsv"] == pytest.approx(1024 * 8 * 0.08e-12)
    assert cost.offchip_transfer(HW, 10**6).latency_s == pytest.approx(1e6 / 1024e9)
    g = cost.digital_gemm(HW, 16, 64, 16)
    assert g.latency_s == pytest.approx(64 / 1e9)
