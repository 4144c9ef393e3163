"""The crossbar tiers' execution: PROG writes a matrix into the emulated crossbars (weight codes per
output column, programming noise), MVM reads them (bit-serial input codes, per-crossbar partial sums,
ADC steps, read noise). Their compile-time side: backends/pim.py.

Noise (docs/hardware-model.md c):
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
- SRAM-PIM: noise-free (H3PIMAP 3.3); only its quantisation and ADC (`read_noise: false`).

Every draw comes from the generator the emulator seeds per run, so a seed reproduces a run.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import PimTier
from h3pc.runtime.quantize import adc_step, crossbar_matmul, quantize, row_blocks
from h3pc.runtime.reference import Windows, delivered_dtype, product

K_B = 1.380649e-23  # J/K
Q_E = 1.602176634e-19  # C


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


def _as3(x: np.ndarray, groups: int) -> np.ndarray:
    return x.reshape(groups, -1, x.shape[-1])


def bind_prog(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    return _bind_write(em, tier, ins, exact, lambda m: quantize(m, ins.weight_bits, axis=1))


def bind_progs(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    """PROGS: the cells take the model's own codes, w / its step per output column."""
    steps = np.asarray(em.env[ins.scale], np.float32)
    if not (np.isfinite(steps).all() and (steps > 0).all()):
        raise H3pcError(f"stream.{tier}: PROGS weight steps (%{ins.scale}) must be positive and finite")
    levels = float(2 ** (ins.weight_bits - 1) - 1)

    def codes(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = steps.reshape(m.shape[0], 1, m.shape[2])
        return np.clip(np.rint(m / s), -levels, levels).astype(np.float32), s
    return _bind_write(em, tier, ins, exact, codes)


def _bind_write(em: Any, tier: str, ins: Any, exact: bool,
                weight_codes: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Callable[[], None]:
    """A crossbar write: `weight_codes` gives the cells' codes and the step per output column."""
    w, base = ins.w, ins.base
    env, crossbars, noisy, box = em.env, em.crossbars, em.noise and not exact, em.rng
    t = em.hw.tier(tier)

    def run() -> None:
        mat = np.asarray(env[w], dtype=np.float32)
        mat3 = mat.reshape((1,) + mat.shape) if mat.ndim == 2 else mat
        if exact:  # a contiguous copy, as the crossbar holds its own cells: BLAS reads it fastest
            crossbars[(tier, base)] = (np.ascontiguousarray(mat3), None, None)
            return
        # per output column scales, as each column's weights are sliced into its own cells
        codes, scale = weight_codes(mat3)
        var = None
        if noisy:
            var = read_variance(codes, t) if t.read_noise else None
            codes = program(codes, t, box[0])
        crossbars[(tier, base)] = (codes, scale, var)
    return run


def bind_mvm(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    return _bind_read(em, tier, ins, exact, lambda x: quantize(x, ins.input_bits), ins.input_bits)


def bind_mvms(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    """MVMS: the input DAC steps by the model's own activation scale; codes beyond +-levels saturate."""
    step = np.float32(struct.unpack("<f", struct.pack("<I", ins.scale_f32))[0])
    levels = float(ins.levels)

    def codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.clip(np.rint(x / step), -levels, levels).astype(np.float32), step
    # unsigned codes (a zero point) read one more magnitude bit than signed ones of the same width
    magnitude_bits = int(levels).bit_length() + 1
    return _bind_read(em, tier, ins, exact, codes, magnitude_bits)


def _bind_read(em: Any, tier: str, ins: Any, exact: bool,
               input_codes: Callable[[np.ndarray], tuple[np.ndarray, Any]], noise_bits: int) -> Callable[[], None]:
    """A crossbar read: `input_codes` quantizes the input (codes, step); `noise_bits` sizes the read
    noise's bit-plane table (the codes' magnitude bits plus the sign)."""
    x, out, base, adc_bits = ins.x, ins.out, ins.base, ins.adc_bits
    env, crossbars = em.env, em.crossbars
    shape, dtype = em.prog.tensors[out].shape, delivered_dtype(np.dtype(em.prog.tensors[out].dtype))
    t = em.hw.tier(tier)

    def weights() -> tuple[np.ndarray, Any]:
        try:
            return crossbars[(tier, base)]
        except KeyError:
            raise H3pcError(f"stream.{tier}: MVM reads crossbars at {base} that were never programmed") from None

    if exact:
        # programmed at load and never rewritten: bind the matrix itself
        resident = None if (tier, base) in em.streamed else crossbars.get((tier, base))

        def run() -> None:
            mat = resident[0] if resident is not None else weights()[0]
            xv = env[x]
            if not isinstance(xv, Windows):
                xv = xv.reshape(mat.shape[0], -1, xv.shape[-1])
            env[out] = product(xv, mat, dtype=dtype).reshape(shape)
    else:
        box = em.rng

        def run() -> None:
            mat, scale, var = weights()
            xin = _as3(np.asarray(env[x], dtype=np.float32), mat.shape[0])
            xc, xs = input_codes(xin)
            step = adc_step(min(t.crossbar_rows, mat.shape[1]), t.cell_bits, adc_bits)
            read = None
            if var is not None:  # thermal + shot noise on every bit-serial read of the cells
                std = partial_sum_std(xc, var, t.crossbar_rows, noise_bits)
                read = std * box[0].standard_normal(std.shape, dtype=np.float32)
            y = crossbar_matmul(xc, mat, t.crossbar_rows, step, read) * (xs * scale)
            env[out] = y.reshape(shape).astype(dtype, copy=False)
    return run


BINDERS = {"PROG": bind_prog, "PROGS": bind_progs, "MVM": bind_mvm, "MVMS": bind_mvms}
