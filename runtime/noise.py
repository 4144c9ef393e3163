"""Each analog tier's noise, as the emulator applies it on top of quantisation (the default run).

Sources (docs/hardware-model.md c):

- Photonic (H3PIMAP 3.3, after TeMPO): X~ = X_q + dX, dX ~ N(0, (sigma |X_q|)^2), on both quantised
  operands (`noise_sigma`, 0.0031). Optional, after Lightening-Transformer: input phase noise, a
  factor cos(N(0, phase_noise_deg)) per input element, and relative output noise
  (`output_noise_sigma`) before the output ADC.
- ReRAM (H3PIMAP Eq. 1): every read of a cell of conductance G adds thermal and shot noise,
  dG ~ N(0, 4 k_B T G f / V^2 + 2 q G f / V), f the tier's clock. Weights are bit-sliced over cells
  of 2^cell_bits levels between g_min and g_max, a signed weight on a differential pair of columns
  (the unused side at g_min). Inputs are bit-serial, so the noise of a column's partial sum over a
  crossbar block is a sum over input bit planes and cells: in weight-code units its variance is
  sum_k s(x_k) v_k, with s(x) = sum_b 4^b bit_b(|x|) and v the weight's cell-noise variance
  (`read_variance`). Sampling that Gaussian per partial sum is exact in distribution and costs one
  extra product instead of one sample per cell per read.
- ReRAM, optional: programming noise (per cell, relative to the conductance range, drawn once per
  PROG) and drift G (t/t0)^-nu with nu ~ N(drift_nu, drift_nu_sigma) per weight.
- SRAM-PIM: noise-free (H3PIMAP 3.3); only its quantisation and ADC.

Every draw comes from one generator the emulator seeds per run, so a seed reproduces a run.
"""

from __future__ import annotations

import functools

import numpy as np

from h3pc.hardware.schema import PhotonicTier, PimTier
from h3pc.runtime.quantize import row_blocks

K_B = 1.380649e-23  # J/K
Q_E = 1.602176634e-19  # C


def photonic_operand(x: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    """A quantised operand as the modulators encode it: relative Gaussian noise, then phase noise."""
    if p.noise_sigma:
        x = x * (1.0 + p.noise_sigma * rng.standard_normal(x.shape, dtype=np.float32))
    return x


def photonic_input_phase(x: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    if p.phase_noise_deg:
        x = x * np.cos(np.deg2rad(p.phase_noise_deg) * rng.standard_normal(x.shape, dtype=np.float32))
    return x


def photonic_output(y: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    if p.output_noise_sigma:
        y = y * (1.0 + p.output_noise_sigma * rng.standard_normal(y.shape, dtype=np.float32))
    return y


def cell_variance_per_us(t: PimTier) -> float:
    """Read-noise variance of one cell's conductance per uS of conductance, in uS^2 (linear in G)."""
    f = t.freq_mhz * 1e6
    per_siemens = 4 * K_B * t.temperature_k * f / t.read_voltage_v**2 + 2 * Q_E * f / t.read_voltage_v
    return per_siemens * 1e-6 / 1e-12  # S^2 per S -> uS^2 per uS


def _cells(codes: np.ndarray, t: PimTier) -> list[np.ndarray]:
    """The cell levels (least significant first) holding |code|."""
    mag = np.abs(codes).astype(np.int64)
    levels = 2**t.cell_bits
    return [(mag >> (t.cell_bits * j)) & (levels - 1) for j in range(t.cells_per_weight)]


def read_variance(codes: np.ndarray, t: PimTier) -> np.ndarray:
    """Per weight, the variance (in weight-code units^2) that one read of its cells adds: cell j
    counts 2^(cell_bits j) codes per level; both columns of the differential pair are read."""
    levels = 2**t.cell_bits - 1
    delta = (t.g_max_us - t.g_min_us) / levels  # uS per level
    c = cell_variance_per_us(t)
    var = np.zeros(codes.shape, dtype=np.float64)
    for j, d in enumerate(_cells(codes, t)):
        g = 2 * t.g_min_us + d * delta  # the used cell plus its idle twin at g_min
        var += (4.0 ** (t.cell_bits * j)) * c * g / delta**2
    return var.astype(np.float32)


@functools.cache
def bit_plane_weights(input_bits: int) -> np.ndarray:
    """s(x) = sum_b 4^b bit_b(x) for every input magnitude code x (bit-serial reads)."""
    x = np.arange(2 ** max(input_bits - 1, 1), dtype=np.int64)
    s = np.zeros(x.shape, dtype=np.float64)
    for b in range(max(input_bits - 1, 1)):
        s += ((x >> b) & 1) * 4.0**b
    return s.astype(np.float32)


def program(codes: np.ndarray, t: PimTier, rng: np.random.Generator) -> np.ndarray:
    """Weight codes as written: programming noise per cell and drift per weight (both optional)."""
    out = codes
    if t.program_noise_sigma:
        levels = 2**t.cell_bits - 1
        var = sum(4.0 ** (t.cell_bits * j) for j in range(t.cells_per_weight)) * 2 * (t.program_noise_sigma * levels) ** 2
        out = out + np.sqrt(var) * rng.standard_normal(codes.shape, dtype=np.float32)
    if t.drift_time_s and (t.drift_nu or t.drift_nu_sigma):
        nu = t.drift_nu + t.drift_nu_sigma * rng.standard_normal(codes.shape, dtype=np.float32)
        out = out * np.power(max(t.drift_time_s, t.drift_t0_s) / t.drift_t0_s, -nu, dtype=np.float32)
    return out.astype(np.float32, copy=False)


def partial_sum_std(x_codes: np.ndarray, var: np.ndarray, rows: int, input_bits: int) -> np.ndarray:
    """Per crossbar row block, the std of a column's partial-sum read noise: x[g, m, k], var[g, k, n]
    -> [g, m, blocks, n]."""
    table = bit_plane_weights(input_bits)
    # fmin maps a NaN code (a NaN the model itself computed) to a valid index: the read is NaN anyway
    s = table[np.fmin(np.abs(x_codes), len(table) - 1).astype(np.int64)]
    return np.sqrt(np.einsum("gmbr,gbrn->gmbn", *row_blocks(s, var, rows), optimize=True))
