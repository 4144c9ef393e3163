"""The one cost model: latency and energy of every tile-level operation, from the hardware description.

The partitioner's estimates and the emulator's charges both call these functions, so what stage one
promises is what the emulator reports. Every result carries an energy breakdown by component.
Formulas follow docs/hardware-model.md §b.1 (SimPhony cycle model), §b.2/§b.3 (ISAAC/PUMA crossbar
accounting) and §b.6 (the v0 parameter set).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from h3pc.hardware.schema import HardwareConfig, PimTier

PJ = 1e-12
NS = 1e-9
MW = 1e-3

#: energy components reported in breakdowns
COMPONENTS = (
    "dac", "adc", "modulator", "laser", "detector", "tia", "crossbar_read", "shift_add", "programming",
    "digital", "buffer", "tsv", "offchip", "static",
)


@dataclass(frozen=True)
class Cost:
    """Latency (seconds) and energy (joules, by component) of one operation or a group of them."""

    latency_s: float = 0.0
    energy: Mapping[str, float] = field(default_factory=dict)

    @property
    def energy_j(self) -> float:
        return float(sum(self.energy.values()))

    def then(self, other: "Cost") -> "Cost":
        """Sequential composition: latencies add, energies add."""
        return Cost(self.latency_s + other.latency_s, _merge([self.energy, other.energy]))

    @staticmethod
    def parallel(costs: Iterable["Cost"]) -> "Cost":
        """Concurrent composition (tiers running one layer together): the slowest sets the latency."""
        cs = list(costs)
        return Cost(max((c.latency_s for c in cs), default=0.0), _merge([c.energy for c in cs]))

    def scaled(self, times: int) -> "Cost":
        return Cost(self.latency_s * times, {k: v * times for k, v in self.energy.items()})


def _merge(parts: Iterable[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out


# ---------------------------------------------------------------------------------------------
# photonic tier


def photonic_gemm_cycles(hw: HardwareConfig, m: int, k: int, n: int) -> int:
    """Cycles of C[m,n] = A[m,k] B[k,n]: output blocks of core_rows x core_cols spread over all cores,
    each accumulating k terms one per cycle (SimPhony output-stationary model, b.1)."""
    p = hw.photonic
    blocks = math.ceil(m / p.core_rows) * math.ceil(n / p.core_cols)
    cores = p.tiles * p.cores_per_tile
    return math.ceil(blocks / cores) * k


def photonic_gemm(hw: HardwareConfig, m: int, k: int, n: int, in_bits: int | None = None,
                  out_bits: int | None = None, w_bits: int | None = None) -> Cost:
    """A dynamic-operand GEMM on the photonic cores.

    Per core-cycle, core_rows values of A and core_cols values of B are converted (DAC) and modulated;
    every temporal_accumulation cycles each of the core's outputs is read by an ADC. Detector, TIA and
    laser power are charged for the busy time (the laser only while the tier computes)."""
    p = hw.photonic
    if m == 0 or k == 0 or n == 0:
        return Cost()
    cycles = photonic_gemm_cycles(hw, m, k, n)
    t = cycles / (p.freq_mhz * 1e6)
    in_scale = _dac_scale(in_bits or p.in_bits, p.in_bits)
    w_scale = _dac_scale(w_bits or p.w_bits, p.in_bits)  # dac_energy_pj is the in_bits DAC
    out_scale = (out_bits or p.out_bits) / p.out_bits  # SAR ADC energy is linear in bits (b.1)
    blocks_m, blocks_n = math.ceil(m / p.core_rows), math.ceil(n / p.core_cols)
    # operands actually converted: every A row-chunk and B column-chunk is streamed once per block pair
    conv_a, conv_b = k * blocks_n * m, k * blocks_m * n
    conversions = conv_a + conv_b
    reads = m * n * math.ceil(k / p.temporal_accumulation)
    active_cores = min(p.tiles * p.cores_per_tile, blocks_m * blocks_n)
    nodes_busy_s = t * active_cores * p.core_rows * p.core_cols  # one detector + TIA per output node
    energy = {
        "dac": (conv_a * in_scale + conv_b * w_scale) * p.dac_energy_pj * PJ,
        "modulator": conversions * p.modulator_energy_pj * PJ,
        "adc": reads * p.adc_energy_pj * out_scale * PJ,
        "detector": nodes_busy_s * p.detector_power_mw * MW,
        "tia": nodes_busy_s * p.tia_power_mw * MW,
        "laser": t * p.laser_power_mw * MW * active_cores / (p.tiles * p.cores_per_tile),
    }
    return Cost(t, energy)


def _dac_scale(bits: int, ref_bits: int) -> float:
    """DAC energy scaling 2^b/(b+1) relative to the reference resolution (SimPhony, b.1)."""
    return (2**bits / (bits + 1)) / (2**ref_bits / (ref_bits + 1))


# ---------------------------------------------------------------------------------------------
# PIM tiers


def pim_crossbars(tier: PimTier, k: int, n: int) -> int:
    """Crossbars holding a k x n weight matrix, weights bit-sliced over cells_per_weight columns."""
    return math.ceil(k / tier.crossbar_rows) * math.ceil(n * tier.cells_per_weight / tier.crossbar_cols)


def pim_mvm(tier: PimTier, m: int, k: int, n: int, input_bits: int | None = None,
            adc_bits: int | None = None, groups: int = 1) -> Cost:
    """m input vectors through a programmed k x n matrix.

    Inputs are bit-serial (1-bit DAC per row, input_bits passes). Each pass reads every crossbar, one
    conversion per ADC per cycle, `columns_per_adc` columns taking turns on one ADC (H3PIMAP's Table 1
    has one ADC per crossbar: 128 cycles per pass). All crossbars
    of the matrix work in parallel (the groups of a grouped matrix too); vectors follow one another."""
    if m == 0 or k == 0 or n == 0 or groups == 0:
        return Cost()
    bits_in = input_bits or tier.input_bits
    bits_adc = adc_bits or tier.adc_bits
    xbars = pim_crossbars(tier, k, n)
    active_cols = min(tier.crossbar_cols, n * tier.cells_per_weight)
    t = m * bits_in * min(tier.columns_per_adc, active_cols) / (tier.freq_mhz * 1e6)
    columns = n * tier.cells_per_weight * math.ceil(k / tier.crossbar_rows)
    adc_scale = bits_adc / tier.adc_bits
    energy = {
        "dac": m * bits_in * k * tier.dac_energy_pj * PJ * math.ceil(n * tier.cells_per_weight / tier.crossbar_cols),
        "crossbar_read": m * bits_in * xbars * tier.crossbar_read_energy_pj * PJ,
        "adc": m * bits_in * columns * tier.adc_energy_pj * adc_scale * PJ,
        "shift_add": m * bits_in * columns * tier.shift_add_energy_pj * PJ,
    }
    return Cost(t, {c: e * groups for c, e in energy.items()})


def pim_program(tier: PimTier, k: int, n: int, groups: int = 1) -> tuple[Cost, int]:
    """Writing a k x n weight matrix (times groups): (cost, cells written). Rows of one crossbar are
    written one after another; crossbars are written in parallel."""
    cells = groups * k * n * tier.cells_per_weight
    rows = min(k, tier.crossbar_rows)
    t = rows * tier.program_latency_ns * NS
    return Cost(t, {"programming": cells * tier.program_energy_pj_per_cell * PJ}), cells


def inferences_to_wear_out(tier: PimTier, worst_writes: int) -> float | None:
    """Inferences until the most-written crossbar (`worst_writes` per inference) reaches the tier's
    endurance (None: no writes per inference, or endurance not modelled)."""
    return tier.endurance_writes / worst_writes if tier.endurance_writes and worst_writes else None


# ---------------------------------------------------------------------------------------------
# digital tier and data movement


def digital_gemm(hw: HardwareConfig, m: int, k: int, n: int) -> Cost:
    """A GEMM on the SIMD unit: one multiply-add per lane per cycle."""
    d = hw.digital
    macs = m * k * n
    t = math.ceil(macs / d.lanes) / (d.freq_mhz * 1e6)
    return Cost(t, {"digital": macs * (d.add_energy_pj + d.mul_energy_pj) * PJ})


def digital_vector(hw: HardwareConfig, adds: int = 0, muls: int = 0, specials: int = 0) -> Cost:
    """Elementwise / reduction work counted in primitive operations; one op per lane per cycle."""
    d = hw.digital
    ops = adds + muls + specials
    t = math.ceil(ops / d.lanes) / (d.freq_mhz * 1e6)
    e = (adds * d.add_energy_pj + muls * d.mul_energy_pj + specials * d.special_energy_pj) * PJ
    return Cost(t, {"digital": e})


def buffer_transfer(hw: HardwareConfig, nbytes: int) -> Cost:
    """Moving nbytes between the global buffer and a tier over the TSV links."""
    mem = hw.memory
    t_buf = math.ceil(nbytes / mem.buffer_bandwidth_bytes_per_cycle) / (mem.buffer_freq_mhz * 1e6)
    t_tsv = math.ceil(nbytes * 8 / mem.tsv_width_bits) / (mem.buffer_freq_mhz * 1e6)
    return Cost(max(t_buf, t_tsv), {
        "buffer": nbytes * mem.buffer_energy_pj_per_byte * PJ,
        "tsv": nbytes * 8 * mem.tsv_energy_pj_per_bit * PJ,
    })


def offchip_transfer(hw: HardwareConfig, nbytes: int) -> Cost:
    """Spilling nbytes to (or filling from) off-chip memory."""
    mem = hw.memory
    return Cost(nbytes / (mem.offchip_bandwidth_gbps * 1e9), {"offchip": nbytes * mem.offchip_energy_pj_per_byte * PJ})
