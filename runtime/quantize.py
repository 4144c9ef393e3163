"""Each tier's number formats, as the emulator applies them (the default, non --ideal mode).

All quantisers are symmetric and signed: `bits` include the sign, scales come from the operand's
max |value| (per tensor for activations, per output column for PIM weights), as a calibrated DAC
range would be. These are the deterministic parts; each tier's runtime module
(runtime/photonic.py, runtime/pim.py) adds its noise.
"""

from __future__ import annotations

import math

import numpy as np


def _levels(bits: int) -> float:
    return float(2 ** (bits - 1) - 1) if bits > 1 else 1.0


def quantize(x: np.ndarray, bits: int, axis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(integer codes as float32, scale) with x ~= codes * scale."""
    q = _levels(bits)
    mag = np.abs(x)
    amax = np.max(mag, axis=axis, keepdims=axis is not None) if x.size else np.float32(0)
    if not np.all(np.isfinite(amax)):  # the range is set by the finite values: Inf saturates, NaN stays NaN
        amax = np.max(mag, axis=axis, keepdims=axis is not None, where=np.isfinite(mag), initial=0.0)
    scale = np.where(amax > 0, amax / q, 1.0).astype(np.float32)
    codes = np.clip(np.rint(x / scale), -q, q).astype(np.float32)
    return codes, scale


def fake_quantize(x: np.ndarray, bits: int) -> np.ndarray:
    codes, scale = quantize(x, bits)
    return codes * scale


def adc_step(rows_used: int, cell_bits: int, adc_bits: int) -> float:
    """Resolution lost by a crossbar column read: a column sums rows_used cells of (2^cell_bits - 1)
    levels against 1-bit inputs; an ADC with fewer bits than that range reads in steps of 2^deficit
    (ISAAC's ADC sizing, docs/hardware-model.md b.2). First order: the step is applied to the
    crossbar block's integer partial sum."""
    needed = math.ceil(math.log2(rows_used * (2**cell_bits - 1) + 1))
    return float(2 ** max(0, needed - adc_bits))


def row_blocks(x: np.ndarray, w: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """x[g, m, k] and w[g, k, n] cut into crossbar row blocks (zero-padded): [g, m, b, rows], [g, b, rows, n]."""
    g, m, k = x.shape
    blocks = -(-k // rows)
    pad = blocks * rows - k
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (0, pad)))
        w = np.pad(w, ((0, 0), (0, pad), (0, 0)))
    return x.reshape(g, m, blocks, rows), w.reshape(g, blocks, rows, w.shape[-1])


def crossbar_matmul(x_codes: np.ndarray, w_codes: np.ndarray, rows: int, step: float,
                    noise: np.ndarray | None = None) -> np.ndarray:
    """sum over crossbar row blocks of ADC-rounded partial sums: x[g, m, k] @ w[g, k, n]; `noise`
    [g, m, blocks, n] is added to each partial sum before its ADC (runtime/pim.py)."""
    if (step <= 1.0 and noise is None) or x_codes.shape[-1] <= 0:
        return np.matmul(x_codes, w_codes)
    partial = np.einsum("gmbr,gbrn->gmbn", *row_blocks(x_codes, w_codes, rows), optimize=True)
    if noise is not None:
        partial = partial + noise
    if step > 1.0:
        partial = np.rint(partial / step) * step
    return partial.sum(axis=2, dtype=np.float32)
