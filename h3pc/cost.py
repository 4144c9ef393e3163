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

from h3pc.hardware.schema import HardwareConfig, PhotonicTier, PimTier

PJ = 1e-12
NS = 1e-9
MW = 1e-3

#: energy components reported in breakdowns
COMPONENTS = (
    "dac", "adc", "modulator", "laser", "detector", "tia", "crossbar_read", "shift_add", "programming",
    "digital", "buffer", "tsv", "offchip", "leakage", "static",
)


def power_gated(cfg: object) -> bool:
    """Whether a tier's block says it is power-gated while idle (`power_gated`, docs/hardware-model.md
    "Static power and power gating"): its `static_power_w` is then drawn only while the tier is busy
    (the sum of its instructions' durations), else for the whole run. A block without the key (a tier
    added from outside) is powered for the whole run, the `Tier.static_power_w` contract."""
    return bool(getattr(cfg, "power_gated", False))


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
    each accumulating k terms, `wavelengths` per cycle (one per WDM channel, summed at the detector):
    SimPhony's output-stationary model, iter_M x iter_N x ceil(k / lambda) (b.1)."""
    p = hw.photonic
    blocks = math.ceil(m / p.core_rows) * math.ceil(n / p.core_cols)
    cores = p.tiles * p.cores_per_tile
    return math.ceil(blocks / cores) * math.ceil(k / p.wavelengths)


def photonic_gemm(hw: HardwareConfig, m: int, k: int, n: int, in_bits: int | None = None,
                  out_bits: int | None = None, w_bits: int | None = None) -> Cost:
    """A dynamic-operand GEMM on the photonic cores.

    Per core-cycle, core_rows x wavelengths values of A and core_cols x wavelengths values of B are
    converted (DAC) and modulated (SimPhony dptc operand counts H.lambda and W.lambda per core, b.1): every
    operand value once per output block that uses it, except that with `tile_shared_w` one B chunk is
    broadcast to the same core of every tile, so up to `tiles` row blocks share its conversions. Every
    temporal_accumulation cycles each of the core's outputs is read by an ADC. Detector power is
    charged per busy output node; the TIA, like the ADC, works once per temporal_accumulation cycles
    (SimPhony divides ADC and TIA energy by the accumulation depth, b.1). With `power_gated`, the laser
    and the nodes' integrators draw power only while the cores compute (the laser scaled to the
    operand bits actually used: 2^b, SimPhony Eq. 1, b.1); otherwise they are the tier's static power
    (`photonic_static_w`), charged for the whole run."""
    p = hw.photonic
    if m == 0 or k == 0 or n == 0:
        return Cost()
    cycles = photonic_gemm_cycles(hw, m, k, n)
    t = cycles / (p.freq_mhz * 1e6)
    bits_in, bits_w = in_bits or p.in_bits, w_bits or p.w_bits
    in_scale = _dac_scale(bits_in, p.in_bits)
    w_scale = _dac_scale(bits_w, p.in_bits)  # dac_energy_pj is the in_bits DAC
    out_scale = (out_bits or p.out_bits) / p.out_bits  # SAR ADC energy is linear in bits (b.1)
    blocks_m, blocks_n = math.ceil(m / p.core_rows), math.ceil(n / p.core_cols)
    # operands actually converted: every A row-chunk and B column-chunk is streamed once per block pair
    # (a B chunk once per group of `tiles` row blocks when the tiles share it)
    conv_a = k * blocks_n * m
    conv_b = k * n * (math.ceil(blocks_m / p.tiles) if p.tile_shared_w else blocks_m)
    conversions = conv_a + conv_b
    # each output is read once per temporal_accumulation cycles, a cycle summing `wavelengths` terms
    reads = m * n * math.ceil(math.ceil(k / p.wavelengths) / p.temporal_accumulation)
    cores = p.tiles * p.cores_per_tile
    active_cores = min(cores, blocks_m * blocks_n)
    nodes_busy_s = t * active_cores * p.core_rows * p.core_cols  # one detector + TIA per output node
    energy = {
        "dac": (conv_a * in_scale + conv_b * w_scale) * p.dac_energy_pj * PJ,
        "modulator": conversions * p.modulator_energy_pj * PJ,
        "adc": reads * p.adc_energy_pj * out_scale * PJ,
        "detector": nodes_busy_s * p.detector_power_mw * MW,
        "tia": nodes_busy_s * p.tia_power_mw * MW / p.temporal_accumulation,
    }
    if p.power_gated:
        energy["laser"] = (t * laser_power(p) * MW * laser_scale(p, bits_in, bits_w)
                           * active_cores / cores)
        energy["leakage"] = nodes_busy_s * p.integrator_power_mw * MW
    return Cost(t, energy)


def laser_power(p: PhotonicTier) -> float:
    """The tier's laser wall power (mW) at its configured bits: `laser_power_mw` when the description gives
    it, else SimPhony Eq. 1 (b.1) per core, times the cores:
    10^((S + IL + 10 log10(split)) / 10) / WPE x 2^b / (1 - 10^(-ER / 10)), b = max(in_bits, w_bits).
    The split is core_rows x core_cols, the output nodes one core's light is divided over (SimPhony
    dptc `laser_power_distribution: H*W`, LT `core_width * core_height`): each node's detector sums its
    wavelengths, so the WDM channels share S rather than multiply it. Without an extinction ratio the
    last factor is 1 (LT's own model, which reproduces its 0.77 W for LT-B at 4 bits)."""
    if p.laser_power_mw is not None:
        return p.laser_power_mw
    assert p.pd_sensitivity_dbm is not None and p.laser_insertion_loss_db is not None
    assert p.laser_wall_plug_efficiency is not None  # PhotonicTier.__post_init__ requires them
    split_db = 10 * math.log10(p.core_rows * p.core_cols)
    per_core = (10 ** ((p.pd_sensitivity_dbm + p.laser_insertion_loss_db + split_db) / 10)
                / p.laser_wall_plug_efficiency * 2.0 ** max(p.in_bits, p.w_bits))
    if p.modulator_extinction_ratio_db is not None:
        per_core /= 1 - 10 ** (-p.modulator_extinction_ratio_db / 10)
    return per_core * p.tiles * p.cores_per_tile


def laser_scale(p: PhotonicTier, in_bits: int, w_bits: int) -> float:
    """Laser power at these operand bits relative to `laser_power` (the tier's configured bits):
    SimPhony Eq. 1 (b.1) sizes the laser for 2^b levels at the photodetector, b the finer operand."""
    return 2.0 ** (max(in_bits, w_bits) - max(p.in_bits, p.w_bits))


def photonic_static_w(p: PhotonicTier) -> float | None:
    """The photonic tier's power drawn for the whole run (None when power-gated: the laser and the
    integrators are then charged by each GEMM for its own cores and time)."""
    if p.power_gated:
        return None
    nodes = p.tiles * p.cores_per_tile * p.core_rows * p.core_cols
    return (laser_power(p) + nodes * p.integrator_power_mw) * MW


def _dac_scale(bits: int, ref_bits: int) -> float:
    """DAC energy scaling 2^b/(b+1) relative to the reference resolution (SimPhony, b.1)."""
    return (2**bits / (bits + 1)) / (2**ref_bits / (ref_bits + 1))


# ---------------------------------------------------------------------------------------------
# PIM tiers


def pim_crossbars(tier: PimTier, k: int, n: int) -> int:
    """Crossbars holding a k x n weight matrix, weights bit-sliced over cells_per_weight columns."""
    return math.ceil(k / tier.crossbar_rows) * math.ceil(n * tier.cells_per_weight / tier.crossbar_cols)


def pim_scan_cycles(tier: PimTier, n: int) -> tuple[int, int]:
    """(cycles of one pass, crossbar read cycles of one pass over one row block) for n output columns.

    `columns_per_adc` columns take turns on one ADC (H3PIMAP's Table 1 has one ADC per crossbar: 128
    cycles per pass), so a crossbar holding c active columns is read min(columns_per_adc, c) times per
    pass, all rows driven each time (NeuroSim multiplies the array read by the multiplexed columns,
    `readDynamicEnergyArray *= numColMuxed`, h.2). Crossbars work in parallel: the fullest sets the pass."""
    cols = n * tier.cells_per_weight
    full, rest = divmod(cols, tier.crossbar_cols)
    per_full = min(tier.columns_per_adc, tier.crossbar_cols)
    reads = full * per_full + min(tier.columns_per_adc, rest)
    return (per_full if full else min(tier.columns_per_adc, rest)), reads


def pim_conversion_cycles(tier: PimTier, adc_bits: int) -> float:
    """Tier clock cycles of one ADC conversion at `adc_bits`: a SAR resolves one bit per comparison, so
    its time is linear in bits (PUMA's ADC latency: 87.5 ns at 7 bits, 100 ns at 8, h.2), one cycle at
    `adc_bits_per_cycle` bits."""
    return adc_bits / (tier.adc_bits_per_cycle or tier.adc_bits)


def pim_mvm(tier: PimTier, m: int, k: int, n: int, input_bits: int | None = None,
            adc_bits: int | None = None, groups: int = 1) -> Cost:
    """m input vectors through a programmed k x n matrix.

    Inputs are bit-serial (1-bit DAC per row, input_bits passes). A pass scans every crossbar's columns
    through its ADCs (`pim_scan_cycles`), each scan cycle one conversion per ADC taking
    `pim_conversion_cycles` at adc_bits, and one array read (`crossbar_read_energy_pj` is the energy of
    one column-scan cycle with all rows driven). All crossbars of the matrix work in parallel (the groups
    of a grouped matrix too); vectors follow one another. With `power_gated`, the ADCs of the crossbars
    in use leak (`adc_leakage_mw`) while the MVM runs; the other ADCs are gated off."""
    if m == 0 or k == 0 or n == 0 or groups == 0:
        return Cost()
    bits_in = input_bits or tier.input_bits
    bits_adc = adc_bits or tier.adc_bits
    xbars = pim_crossbars(tier, k, n)
    row_blocks = math.ceil(k / tier.crossbar_rows)
    pass_cycles, reads = pim_scan_cycles(tier, n)
    t = m * bits_in * pass_cycles * pim_conversion_cycles(tier, bits_adc) / (tier.freq_mhz * 1e6)
    columns = n * tier.cells_per_weight * row_blocks
    adc_scale = bits_adc / tier.adc_bits
    energy = {
        "dac": m * bits_in * k * tier.dac_energy_pj * PJ * math.ceil(n * tier.cells_per_weight / tier.crossbar_cols),
        "crossbar_read": m * bits_in * row_blocks * reads * tier.crossbar_read_energy_pj * PJ,
        "adc": m * bits_in * columns * tier.adc_energy_pj * adc_scale * PJ,
        "shift_add": m * bits_in * columns * tier.shift_add_energy_pj * PJ,
    }
    if tier.power_gated and tier.adc_leakage_mw:
        adcs = xbars * tier.adcs_per_tile / tier.crossbars_per_tile
        energy["leakage"] = adcs * tier.adc_leakage_mw * MW * t
    return Cost(t, {c: e * groups for c, e in energy.items()})


def pim_static_w(tier: PimTier) -> float:
    """A PIM tier's power besides what its MVMs charge: `static_power_mw`, plus the leakage of every
    ADC when the tier is not power-gated (gated, the crossbars in use charge their ADCs' leakage)."""
    adcs = 0 if tier.power_gated else tier.tiles * tier.adcs_per_tile
    return (tier.static_power_mw + adcs * tier.adc_leakage_mw) * MW


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


def buffer_transfer(hw: HardwareConfig, nbytes: int, tier: str = "") -> Cost:
    """Moving nbytes between the global buffer and `tier` (the M tier's banks in parallel, then the
    tier's link: its own where the description gives it one, else the shared TSV): the slower sets the
    time. Every byte crosses one TSV (docs/hardware-model.md §b.5)."""
    mem = hw.memory
    t_buf = math.ceil(nbytes / (mem.buffer_bandwidth_bytes_per_cycle * mem.buffer_banks)) / (mem.buffer_freq_mhz * 1e6)
    own = mem.links.get(tier)
    if own is None:
        t_link = math.ceil(nbytes * 8 / mem.tsv_width_bits) / (mem.buffer_freq_mhz * 1e6)
    else:
        t_link = nbytes / (own * 1e9)
    return Cost(max(t_buf, t_link), {
        "buffer": nbytes * mem.buffer_energy_pj_per_byte * PJ,
        "tsv": nbytes * 8 * mem.tsv_energy_pj_per_bit * PJ,
    })


def offchip_transfer(hw: HardwareConfig, nbytes: int) -> Cost:
    """Spilling nbytes to (or filling from) off-chip memory."""
    mem = hw.memory
    return Cost(nbytes / (mem.offchip_bandwidth_gbps * 1e9), {"offchip": nbytes * mem.offchip_energy_pj_per_byte * PJ})
