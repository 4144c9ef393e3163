"""The quality oracle: how much a program's noisy emulation loses against its fp32 reference.

`--calib data.npz` holds samples stacked on a leading axis, one array per graph input (keys are the
input names, or `eval/NAME` as in the model corpus; a single-input model also takes `eval/x` or
`eval/images`), and optionally labels (`labels`, `eval/y` or `eval/torch_top1`). The reference is
the same program emulated exactly (`--ideal`, which matches onnxruntime); the candidate is the
default noisy run under `--seed`.

Metrics (`--metric`), each with a degradation that `--tolerance` bounds:
- `top1`: argmax agreement with the reference over samples (and positions), or accuracy when labels
  are given; degradation = reference - candidate.
- `ppl`: causal-LM perplexity of the first output's logits [S, T, V] on the next token (the labels,
  or the input ids moved on by one); degradation = candidate - reference.
- `bpc`: the same cross-entropy in bits per token (bits per character for a byte-level model), i.e.
  log2 of the perplexity; degradation = candidate - reference in bits. Unlike ΔPPL it does not depend
  on the reference's scale: the default tolerance is the paper's ΔPPL <= 1.0 at its Pythia-70M
  reference (PPL 20.329, research/hardware-model.md a.6), log2(21.329 / 20.329) = 0.0693 bits per token.
- `cosine`: mean cosine similarity of each sample's output with the reference; degradation = 1 - it.
- `snr`: signal-to-noise ratio of all outputs against the reference, in dB; the tolerance is the
  lowest acceptable SNR (degradation = -SNR).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from h3pc.backends.program import Program
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig

LABEL_KEYS = ("labels", "eval/y", "eval/torch_top1", "y")
SINGLE_INPUT_KEYS = ("eval/x", "eval/images", "x")
#: the paper's matched quality for LMs, ΔPPL <= 1.0 at Pythia-70M's PPL 20.329, as bits per token
PAPER_BITS = math.log2(21.329 / 20.329)


@dataclass(frozen=True)
class Calib:
    feeds: dict[str, np.ndarray]  # stacked: [S, ...input shape]
    labels: np.ndarray | None
    samples: int

    def head(self, n: int) -> "Calib":
        """The first n samples (a cheaper estimate during search)."""
        n = min(n, self.samples)
        return Calib({k: v[:n] for k, v in self.feeds.items()},
                     None if self.labels is None else self.labels[:n], n)


def sample_keys(names: list[str], keys: set[str],
                fits: Callable[[str, str], bool] = lambda key, name: True) -> dict[str, str]:
    """Which key of a calibration file holds each input's samples: its name, or `eval/NAME` as in the
    model corpus; a single input also takes `eval/x`, `eval/images` or `x`. Inputs without one are absent."""
    found: dict[str, str] = {}
    for n in names:
        key = next((k for k in (n, f"eval/{n}") if k in keys and fits(k, n)), None)
        if key is not None:
            found[n] = key
    missing = [n for n in names if n not in found]
    if len(names) == 1 and missing:
        key = next((k for k in SINGLE_INPUT_KEYS if k in keys), None)
        if key is not None:
            found[missing[0]] = key
    return found


def load_calib(path: str | Path, inputs: dict[str, tuple[tuple[int, ...], str]]) -> Calib:
    """Calibration samples for a program taking `inputs` (name -> (shape, dtype)); errors name the key."""
    from h3pc.npz import read_npz

    arrays = {k: v for k, v in read_npz(path).items() if v.dtype.kind != "U"}
    keys = sample_keys(list(inputs), set(arrays), lambda key, name: arrays[key].ndim >= len(inputs[name][0]))
    feeds = {name: arrays[key] for name, key in keys.items()}
    used = set(keys.values())
    missing = [n for n in inputs if n not in feeds]
    if missing:
        raise H3pcError(f"{path}: no samples for input '{missing[0]}' (expected key '{missing[0]}' or "
                        f"'eval/{missing[0]}' with a leading sample axis; found {', '.join(sorted(arrays)) or 'none'})")
    counts = {n: a.shape[0] for n, a in feeds.items()}
    if len(set(counts.values())) != 1:
        raise H3pcError(f"{path}: inputs disagree on the sample count: {counts}")
    samples = next(iter(counts.values()))
    for name, arr in feeds.items():
        shape, dtype = inputs[name]
        if shape and shape[0] == 1 and tuple(arr.shape[1:]) == tuple(shape[1:]):
            arr = feeds[name] = arr.reshape((samples,) + tuple(shape))  # batch-1 graph, samples without it
        if tuple(arr.shape[1:]) != tuple(shape):
            raise H3pcError(f"{path}: '{name}' samples have shape {list(arr.shape[1:])}, the program takes {list(shape)}")
        if arr.dtype != np.dtype(dtype):
            if arr.dtype.kind != np.dtype(dtype).kind:
                raise H3pcError(f"{path}: '{name}' has dtype {arr.dtype}, the program takes {dtype}")
            feeds[name] = arr.astype(dtype)
    labels = next((arrays[k] for k in LABEL_KEYS if k in arrays and k not in used), None)
    if labels is not None and labels.shape[0] != samples:
        raise H3pcError(f"{path}: {labels.shape[0]} labels for {samples} samples")
    return Calib(feeds, labels, samples)


def program_inputs(prog: Program) -> dict[str, tuple[tuple[int, ...], str]]:
    return {i["name"]: (tuple(prog.tensors[i["tensor"]].shape), prog.tensors[i["tensor"]].dtype) for i in prog.inputs}


def module_inputs(module) -> dict[str, tuple[tuple[int, ...], str]]:
    """The same signature read from an imported module's function (no program needed)."""
    from h3pc.dialects.nn import shape_of
    from h3pc.dialects.types import numpy_dtype
    from h3pc.runtime.evaluate import io_names, main_func

    fn = main_func(module)
    names, _ = io_names(fn)
    return {n: (tuple(shape_of(a)), np.dtype(numpy_dtype(a.type.element_type)).name) for n, a in zip(names, fn.args)}


# -- metrics: (reference outputs, candidate outputs, calib) -> (reference value, value, degradation)
Outputs = dict[str, np.ndarray]


def _first(out: Outputs) -> np.ndarray:
    return np.asarray(next(iter(out.values())), dtype=np.float64)


def _top1(ref: Outputs, got: Outputs, calib: Calib) -> tuple[float, float, float]:
    r, g = _first(ref), _first(got)
    pr, pg = r.reshape(calib.samples, -1, r.shape[-1]).argmax(-1), g.reshape(calib.samples, -1, g.shape[-1]).argmax(-1)
    if calib.labels is not None and calib.labels.size == pr.size:
        y = calib.labels.reshape(pr.shape)
        a0, a1 = float((pr == y).mean()), float((pg == y).mean())
        return a0, a1, a0 - a1
    agree = float((pr == pg).mean())
    return 1.0, agree, 1.0 - agree


def _nll(logits: np.ndarray, targets: np.ndarray) -> float:
    z = logits - logits.max(-1, keepdims=True)
    lse = np.log(np.exp(z).sum(-1))
    picked = np.take_along_axis(z, targets[..., None], -1)[..., 0]
    return float((lse - picked).mean())


def _next_token_nll(ref: Outputs, got: Outputs, calib: Calib, metric: str) -> tuple[float, float]:
    """Mean next-token cross-entropy (nats) of the reference's and the candidate's logits."""
    r, g = _first(ref), _first(got)
    if r.ndim < 3:
        raise H3pcError(f"--metric {metric} needs logits [samples, (1,) tokens, vocab], the first output is {list(r.shape)}")
    r, g = r.reshape(calib.samples, -1, r.shape[-1]), g.reshape(calib.samples, -1, g.shape[-1])  # batch-1 axes
    if calib.labels is not None:
        targets = calib.labels.astype(np.int64).reshape(r.shape[:2])
    else:
        ids = next((v.reshape(calib.samples, -1) for v in calib.feeds.values()
                    if v.dtype.kind in "iu" and v.size == r.shape[0] * r.shape[1]), None)
        if ids is None:
            raise H3pcError(f"--metric {metric} needs token ids: an integer input [samples, tokens] or labels")
        r, g, targets = r[:, :-1], g[:, :-1], ids[:, 1:].astype(np.int64)
    return _nll(r, targets), _nll(g, targets)


def _ppl(ref: Outputs, got: Outputs, calib: Calib) -> tuple[float, float, float]:
    n0, n1 = _next_token_nll(ref, got, calib, "ppl")
    p0, p1 = math.exp(n0), math.exp(n1)
    return p0, p1, p1 - p0


def _bpc(ref: Outputs, got: Outputs, calib: Calib) -> tuple[float, float, float]:
    n0, n1 = _next_token_nll(ref, got, calib, "bpc")
    b0, b1 = n0 / math.log(2), n1 / math.log(2)
    return b0, b1, b1 - b0


def _cosine(ref: Outputs, got: Outputs, calib: Calib) -> tuple[float, float, float]:
    r, g = _first(ref).reshape(calib.samples, -1), _first(got).reshape(calib.samples, -1)
    num = (r * g).sum(1)
    den = np.linalg.norm(r, axis=1) * np.linalg.norm(g, axis=1)
    cos = float(np.mean(np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)))
    return 1.0, cos, 1.0 - cos


def _snr(ref: Outputs, got: Outputs, calib: Calib) -> tuple[float, float, float]:
    signal = sum(float((np.asarray(v, np.float64) ** 2).sum()) for v in ref.values())
    err = sum(float(((np.asarray(got[k], np.float64) - np.asarray(v, np.float64)) ** 2).sum()) for k, v in ref.items())
    db = math.inf if err == 0 else 10 * math.log10(signal / err) if signal > 0 else -math.inf
    return math.inf, db, -db


@dataclass(frozen=True)
class Metric:
    fn: Callable[[Outputs, Outputs, Calib], tuple[float, float, float]]
    default_tolerance: float
    unit: str


METRICS: dict[str, Metric] = {
    "top1": Metric(_top1, 0.02, "accuracy"),
    "ppl": Metric(_ppl, 1.0, "perplexity"),
    "bpc": Metric(_bpc, PAPER_BITS, "bits per token"),
    "cosine": Metric(_cosine, 0.01, "cosine"),
    "snr": Metric(_snr, 20.0, "dB"),
}


@dataclass(frozen=True)
class Quality:
    metric: str
    reference: float
    value: float
    degradation: float
    tolerance: float
    samples: int
    seed: int

    @property
    def passed(self) -> bool:
        if self.metric == "snr":
            return self.value >= self.tolerance
        return self.degradation <= self.tolerance

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "reference": self.reference, "value": self.value,
                "degradation": self.degradation, "tolerance": self.tolerance, "passed": self.passed,
                "samples": self.samples, "seed": self.seed}

    def line(self) -> str:
        verdict = "within" if self.passed else "outside"
        return (f"quality {self.metric}: {self.value:.4g} against {self.reference:.4g} fp32 "
                f"({'SNR' if self.metric == 'snr' else 'loss'} {self.value if self.metric == 'snr' else self.degradation:.4g}, "
                f"{verdict} tolerance {self.tolerance:g}; {self.samples} samples, seed {self.seed})")


def add_arguments(group, metric: str, calib_help: str) -> None:
    """--calib, --metric and --tolerance, for h3pc (stage two) and h3pc-run alike (from METRICS)."""
    group.add_argument("--calib", metavar="DATA.npz", help=calib_help)
    group.add_argument("--metric", default=metric, choices=list(METRICS),
                       help=f"quality metric against the fp32 run (default {metric})")
    group.add_argument("--tolerance", type=float, default=None, metavar="T",
                       help="allowed loss (" + ", ".join(f"{k} {m.default_tolerance:.3g}" for k, m in METRICS.items()
                                                          if k != "snr")
                       + f") or lowest SNR in dB (snr {METRICS['snr'].default_tolerance:g})")


class Oracle:
    """Measures programs on one calibration set against one fp32 reference (computed once)."""

    def __init__(self, calib: Calib, metric: str = "snr", tolerance: float | None = None, seed: int = 0) -> None:
        if metric not in METRICS:
            raise H3pcError(f"unknown --metric '{metric}' (expected one of {', '.join(METRICS)})")
        self.calib, self.metric, self.seed = calib, metric, seed
        self.tolerance = METRICS[metric].default_tolerance if tolerance is None else tolerance
        self._reference: Outputs | None = None

    def reference(self, prog: Program) -> Outputs:
        from h3pc.runtime.emulator import Emulator

        if self._reference is None:
            self._reference = Emulator(prog, ideal=True, where="stage two").run(self.calib.feeds)[0]
        return self._reference

    def measure(self, prog: Program, hw: HardwareConfig | None = None, exact: set[str] | None = None) -> Quality:
        """The quality of `prog`'s noisy run (the layers named in `exact` run exactly)."""
        from h3pc.runtime.emulator import Emulator

        ref = self.reference(prog)
        got = Emulator(prog, hw, where="stage two", seed=self.seed, exact=exact).run(self.calib.feeds)[0]
        r0, r1, d = METRICS[self.metric].fn(ref, got, self.calib)
        return Quality(self.metric, r0, r1, d, self.tolerance, self.calib.samples, self.seed)
