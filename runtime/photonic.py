"""The photonic tier's execution: PMM exact (`--ideal`), through its DACs and ADC, or with its noise on
top. Its compile-time side: backends/photonic.py.

Noise (H3PIMAP 3.3, after TeMPO; docs/hardware-model.md c): X~ = X_q + dX, dX ~ N(0, (sigma |X_q|)^2), on
both quantised operands (`noise_sigma`, 0.0031). Optional, after Lightening-Transformer: input phase
noise, a factor cos(N(0, phase_noise_deg)) per input element, and relative output noise
(`output_noise_sigma`) before the output ADC. Every draw comes from the generator the emulator seeds per
run, so a seed reproduces a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from h3pc.hardware.schema import PhotonicTier
from h3pc.runtime.reference import delivered_dtype, product
from h3pc.runtime.quantize import fake_quantize


def operand_noise(x: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    """A quantised operand as the modulators encode it: relative Gaussian noise, then phase noise."""
    if p.noise_sigma:
        x = x * (1.0 + p.noise_sigma * rng.standard_normal(x.shape, dtype=np.float32))
    return x


def input_phase_noise(x: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    if p.phase_noise_deg:
        x = x * np.cos(np.deg2rad(p.phase_noise_deg) * rng.standard_normal(x.shape, dtype=np.float32))
    return x


def output_noise(y: np.ndarray, p: PhotonicTier, rng: np.random.Generator) -> np.ndarray:
    if p.output_noise_sigma:
        y = y * (1.0 + p.output_noise_sigma * rng.standard_normal(y.shape, dtype=np.float32))
    return y


def bind_pmm(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    a, b, out, in_bits, w_bits, out_bits = ins.a, ins.b, ins.out, ins.in_bits, ins.w_bits, ins.out_bits
    env, dtype = em.env, delivered_dtype(np.dtype(em.prog.tensors[ins.out].dtype))
    if exact:
        def run() -> None:
            env[out] = product(env[a], env[b], dtype=dtype)
    elif not em.noise:
        def run() -> None:
            x, w = np.asarray(env[a]), env[b]
            y = fake_quantize(np.matmul(fake_quantize(x, in_bits), fake_quantize(w, w_bits)), out_bits)
            env[out] = y.astype(dtype, copy=False)
    else:
        p, box = em.hw.tier(tier), em.rng

        def run() -> None:
            rng = box[0]
            x = operand_noise(fake_quantize(np.asarray(env[a]), in_bits), p, rng)
            w = operand_noise(fake_quantize(np.asarray(env[b]), w_bits), p, rng)
            y = output_noise(np.matmul(input_phase_noise(x, p, rng), w), p, rng)
            env[out] = fake_quantize(y, out_bits).astype(dtype, copy=False)
    return run


BINDERS = {"PMM": bind_pmm}
