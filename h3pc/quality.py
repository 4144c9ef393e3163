"""The quality oracle: how much a program's noisy emulation loses against its fp32 reference.

`--calib data.npz` holds samples in the one sample layout that `h3pc-run --inputs` also reads
(`sample_layout`; docs/samples.md is generated from LAYOUT_DOC, INPUT_KEYS and LABEL_KEYS): one
array per graph input, one sample or several on a leading axis, and optionally labels. The
reference is the same program emulated exactly (`--ideal`, which matches onnxruntime); the
candidate is the default noisy run under `--seed`. Without `--calib` quality is never silent:
`compile_quality` gives either the default check (`default_check`, CHECK_DOC) or "not checked"
with the reason, and `compare_ideal` gives `h3pc-run --compare-ideal` its per-output deviation.

Metrics (`--metric`), each with a degradation that `--tolerance` bounds:
- `top1`: argmax agreement with the reference over samples (and positions), or accuracy when labels
  are given; degradation = reference - candidate.
- `ppl`: causal-LM perplexity of the first output's logits [S, T, V] on the next token (the labels,
  or the input ids moved on by one); degradation = candidate - reference.
- `bpc`: the same cross-entropy in bits per token (bits per character for a byte-level model), i.e.
  log2 of the perplexity; degradation = candidate - reference in bits. Unlike ΔPPL it does not depend
  on the reference's scale: the default tolerance is the paper's ΔPPL <= 1.0 at its Pythia-70M
  reference (PPL 20.329, docs/hardware-model.md a.6), log2(21.329 / 20.329) = 0.0693 bits per token.
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

#: the paper's matched quality for LMs, ΔPPL <= 1.0 at Pythia-70M's PPL 20.329, as bits per token
PAPER_BITS = math.log2(21.329 / 20.329)


@dataclass(frozen=True)
class Calib:
    feeds: dict[str, np.ndarray]  # stacked: [S, ...input shape]
    labels: np.ndarray | None
    samples: int
    ignored: tuple[str, ...] = ()  # keys of the file neither an input nor the labels

    def head(self, n: int) -> "Calib":
        """The first n samples (a cheaper estimate during search)."""
        n = min(n, self.samples)
        return Calib({k: v[:n] for k, v in self.feeds.items()},
                     None if self.labels is None else self.labels[:n], n, self.ignored)

    def note(self, path: str | Path) -> str | None:
        """The line telling the user which keys were ignored (None when none were)."""
        return Samples(self.feeds, self.samples, True, self.labels, self.ignored).note(path)


#: label keys of a samples file, in the order tried (docs/samples.md is generated from this table)
LABEL_KEYS: dict[str, str] = {
    "labels": "per sample (or per sample and position): the class for `top1` (accuracy instead of agreement "
              "with fp32), the next token for `ppl` / `bpc` (instead of the input ids moved on by one)",
    "eval/y": "the same, as the model corpus stores it",
    "eval/torch_top1": "the same: the corpus's reference top-1 predictions",
    "y": "the same",
}
#: where a graph input's samples are looked for, in order, per use (`{name}`: the input's name; keys
#: without it are tried only for a model with a single input)
INPUT_KEYS: dict[str, tuple[str, ...]] = {
    "inputs": ("{name}", "in/{name}", "eval/{name}", "x"),  # h3pc-run --inputs: the corpus's one example first
    "calib": ("{name}", "eval/{name}", "eval/x", "eval/images", "x", "in/{name}"),  # --calib: its evaluation set
}
#: the sample layout, once for --inputs and --calib (docs/samples.md)
LAYOUT_DOC = """For a graph input whose signature shape is `D` (e.g. `[1, 64]`), an array may hold:

| array shape | read as |
|---|---|
| `D` | one sample (outputs are not stacked either) |
| `[S, *D]` | `S` samples on a leading axis (outputs stacked the same way) |
| `[S, *D[1:]]`, when `D[0]` is 1 | `S` samples without the batch-1 axis (restored before the run) |

Every input of a file must agree on `S`. A dtype of the same kind (a float for a float input, an
integer for an integer input) is converted; another kind is refused. Keys that are neither an
input nor a label (e.g. the corpus's `out/NAME` expected outputs) are ignored, and the tools say so."""


@dataclass(frozen=True)
class Samples:
    """Samples read from an .npz for a program's inputs (`sample_layout`)."""

    feeds: dict[str, np.ndarray]  # by input name: the signature shape, or [S, *shape] when `stacked`
    samples: int
    stacked: bool
    labels: np.ndarray | None
    ignored: tuple[str, ...]  # keys neither an input nor the labels

    def note(self, path: str | Path) -> str | None:
        """The line telling the user which keys were ignored (None when none were)."""
        if not self.ignored:
            return None
        return f"note: {path}: ignored {', '.join(self.ignored)} (neither an input of the program nor a label key)"


def sample_keys(names: list[str], keys: set[str], fits: Callable[[str, str], bool] = lambda key, name: True,
                use: str = "calib") -> dict[str, str]:
    """Which key of a samples file holds each input's samples: the first of `INPUT_KEYS[use]` present
    that `fits` (keys without `{name}` only for a single input). Inputs without one are absent."""
    found: dict[str, str] = {}
    for n in names:
        tried = (f.format(name=n) for f in INPUT_KEYS[use] if "{name}" in f or len(names) == 1)
        key = next((k for k in tried if k in keys and fits(k, n)), None)
        if key is not None:
            found[n] = key
    return found


def _layout(arr: np.ndarray, shape: tuple[int, ...]) -> int | None:
    """The sample count of `arr` for an input of `shape` (0: one unstacked sample), None if neither layout."""
    if arr.shape == shape:
        return 0
    if arr.ndim == len(shape) + 1 and arr.shape[1:] == shape:
        return arr.shape[0]
    if shape and shape[0] == 1 and arr.ndim == len(shape) and arr.shape[1:] == shape[1:]:
        return arr.shape[0]
    return None


def sample_layout(data: dict[str, np.ndarray], inputs: dict[str, tuple[tuple[int, ...], str]],
                  where: str | Path, use: str = "inputs") -> Samples:
    """The one sample layout of `--inputs` and `--calib` (LAYOUT_DOC): each input's array by key
    (`INPUT_KEYS[use]`), its samples counted and batch-1 axes restored, dtypes converted within a
    kind, labels (LABEL_KEYS) picked out and every other key listed as ignored. Errors are one line
    naming the file and the key."""
    arrays = {k: v for k, v in data.items() if v.dtype.kind not in "USO"}
    keys = sample_keys(list(inputs), set(arrays), lambda key, name: _layout(arrays[key], tuple(inputs[name][0]))
                       is not None, use)
    keys.update({n: k for n, k in sample_keys(list(inputs), set(arrays), use=use).items() if n not in keys})
    missing = [n for n in inputs if n not in keys]
    if missing:
        n = missing[0]
        tried = ", ".join(f"'{k}'" for k in dict.fromkeys(f.format(name=n) for f in INPUT_KEYS[use]
                                                           if "{name}" in f or len(inputs) == 1))
        raise H3pcError(f"{where}: no samples for input '{n}' (keys tried: {tried}; found "
                        f"{', '.join(sorted(data)) or 'none'})")
    feeds: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for name, key in keys.items():
        shape, dtype = tuple(inputs[name][0]), np.dtype(inputs[name][1])
        arr = arrays[key]
        n = _layout(arr, shape)
        if n is None:
            dims = ", ".join(map(str, shape))
            alt = f" or [S, {', '.join(map(str, shape[1:]))}]" if shape and shape[0] == 1 else ""
            raise H3pcError(f"{where}: '{key}' has shape {list(arr.shape)}; input '{name}' takes [{dims}] "
                            f"(one sample), [S, {dims}]{alt} (S samples)")
        if n and arr.shape[1:] != shape:
            arr = arr.reshape((n,) + shape)  # samples without the batch-1 axis
        if arr.dtype != dtype:
            if arr.dtype.kind != dtype.kind and not (arr.dtype.kind in "iu" and dtype.kind in "iu"):
                raise H3pcError(f"{where}: '{key}' has dtype {arr.dtype}, input '{name}' takes {dtype}")
            arr = arr.astype(dtype)
        feeds[name], counts[name] = arr, n
    if len(set(counts.values())) != 1:
        raise H3pcError(f"{where}: inputs disagree on the sample count: "
                        + ", ".join(f"'{n}' {c or 'one unstacked'}" for n, c in counts.items()))
    n = next(iter(counts.values()))
    used = set(keys.values())
    label_key = next((k for k in LABEL_KEYS if k in arrays and k not in used), None)
    labels = arrays[label_key] if label_key is not None else None
    samples = max(n, 1)
    if labels is not None and n and labels.shape[:1] != (samples,):
        raise H3pcError(f"{where}: '{label_key}' holds {labels.shape[0] if labels.ndim else 1} labels for "
                        f"{samples} samples")
    ignored = tuple(sorted(k for k in data if k not in used and k != label_key))
    return Samples(feeds, samples, bool(n), labels, ignored)


def read_samples(path: str | Path, inputs: dict[str, tuple[tuple[int, ...], str]], use: str) -> Samples:
    """The samples of an .npz file for `use` ("inputs" or "calib") in the one sample layout. Only the
    members that can hold an input or a label are decompressed (an unused member may declare any size);
    `ignored` lists every other key of the file."""
    from h3pc.npz import npz_keys, read_npz

    flag = f"--{use}"
    keys = npz_keys(path, flag)
    tried = {n: {f.format(name=n) for f in INPUT_KEYS[use] if "{name}" in f or len(inputs) == 1} for n in inputs}
    if all(tried[n] & set(keys) for n in inputs):
        data = read_npz(path, [k for k in keys if k in set().union(*tried.values(), LABEL_KEYS)], flag)
    else:  # an input without samples: sample_layout's error lists every key of the file
        data = read_npz(path, None, flag)
    got = sample_layout(data, inputs, path, use)
    used = set(data) - set(got.ignored)
    return Samples(got.feeds, got.samples, got.stacked, got.labels, tuple(sorted(k for k in keys if k not in used)))


def load_calib(path: str | Path, inputs: dict[str, tuple[tuple[int, ...], str]]) -> Calib:
    """Calibration samples for a program taking `inputs` (name -> (shape, dtype)), in the one sample
    layout (`sample_layout`); always stacked."""
    got = read_samples(path, inputs, "calib")
    feeds = got.feeds if got.stacked else {k: v[None] for k, v in got.feeds.items()}
    labels = got.labels if got.stacked or got.labels is None else np.asarray(got.labels)[None]
    return Calib(feeds, labels, got.samples, got.ignored)


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
            self._reference = Emulator(prog, ideal=True, where="stage two").run(
                self.calib.feeds, f"quality: fp32 reference on {self.calib.samples} samples")[0]
        return self._reference

    def measure(self, prog: Program, hw: HardwareConfig | None = None, exact: set[str] | None = None) -> Quality:
        """The quality of `prog`'s noisy run (the layers named in `exact` run exactly)."""
        from h3pc.runtime.emulator import Emulator

        ref = self.reference(prog)
        got = Emulator(prog, hw, where="stage two", seed=self.seed, exact=exact).run(
            self.calib.feeds, f"quality: noisy run on {self.calib.samples} samples")[0]
        r0, r1, d = METRICS[self.metric].fn(ref, got, self.calib)
        return Quality(self.metric, r0, r1, d, self.tolerance, self.calib.samples, self.seed)


# -- quality is never silent: the default check and the deviation from the exact run ----------------

#: seeded samples of the default check (the cost: 2 x this many emulated inferences)
CHECK_SAMPLES = 1
#: integer inputs that feed no lookup table are drawn from [0, DEFAULT_INT_BOUND)
DEFAULT_INT_BOUND = 2
#: kernels an integer input may pass through on its way to a table lookup (the bound still holds)
_SHAPE_ONLY = ("nn.reshape", "nn.transpose", "nn.broadcast", "nn.slice", "nn.tile", "nn.cast")
CHECK_DOC = """Without `--calib` the compiler cannot know the task; unless `--no-check-quality` is
given it runs the default check, which costs 1-12% of a compile on the development models
(docs/quality.md): the program's noisy emulation (each tier's number formats and noise, seeded)
against its exact fp32 emulation on CHECK_SAMPLES seeded random input(s) drawn from the input
signature. Floats: standard normal (what normalised images, embeddings and features look like).
Integer ids: uniform in [0, N), N the rows of the first lookup table (Gather) the input indexes,
possibly through reshapes, transposes, slices and casts; else uniform in [0, DEFAULT_INT_BOUND)
(valid as masks and as indices). Booleans: uniform. Each output is compared by SNR (dB), cosine
similarity and largest error relative to the output's largest magnitude; the report's `quality`
holds them per output, the worst output's SNR and cosine at the top. It is not a task metric:
`--calib` measures one."""


@dataclass(frozen=True)
class Deviation:
    """How far one output of a noisy run is from the exact run."""

    snr_db: float  # 10 log10(sum ref^2 / sum (got - ref)^2); inf when equal
    cosine: float  # of the flattened outputs (1 when both are zero)
    max_rel_error: float  # max |got - ref| / max |ref|

    def to_json(self) -> dict[str, float | None]:
        return {"snr_db": _finite(self.snr_db), "cosine": self.cosine, "max_rel_error": self.max_rel_error}


def _finite(x: float) -> float | None:
    """JSON has no infinity: an exact match's SNR is written as null."""
    return x if math.isfinite(x) else None


def deviation(ref: Outputs, got: Outputs) -> dict[str, Deviation]:
    """Per output, the deviation of `got` (a noisy run) from `ref` (the exact run of the same inputs);
    what `h3pc-run --compare-ideal` reports and the default check is made of."""
    out: dict[str, Deviation] = {}
    for name, r in ref.items():
        r64 = np.asarray(r, np.float64).ravel()
        g64 = np.asarray(got[name], np.float64).ravel()
        with np.errstate(all="ignore"):  # an overflowing or NaN output is a figure to report, not a warning
            err = g64 - r64
            signal, noise = float(r64 @ r64), float(err @ err)
            den = math.sqrt(signal) * float(np.linalg.norm(g64))
            dot = float(r64 @ g64)
        snr = math.inf if noise == 0 else 10 * math.log10(signal / noise) if signal > 0 else -math.inf
        cos = min(1.0, max(-1.0, dot / den)) if den > 0 else (1.0 if noise == 0 else 0.0)
        peak = float(np.abs(r64).max()) if r64.size else 0.0
        worst = float(np.abs(err).max()) if err.size else 0.0
        rel = worst / peak if peak > 0 else (0.0 if worst == 0 else math.inf)
        out[name] = Deviation(snr, cos, rel)
    return out


def compare_ideal(prog: Program, feeds: dict[str, np.ndarray], outputs: Outputs,
                  hw: HardwareConfig | None = None) -> dict[str, Deviation]:
    """The deviation of `outputs` (a run of `prog` on `feeds`) from the program's exact fp32 run on
    the same feeds (`h3pc-run --compare-ideal`)."""
    from h3pc.runtime.emulator import Emulator

    ref = Emulator(prog, hw, ideal=True, where="--compare-ideal").run(feeds, "exact fp32 run")[0]
    return deviation(ref, outputs)


def _db(snr: float) -> str:
    return "inf dB (identical)" if snr == math.inf else f"{snr:.3g} dB"


def deviation_lines(dev: dict[str, Deviation]) -> list[str]:
    """One line per output: `deviation from fp32, 'logits': SNR 23.1 dB, cosine 0.9975, max rel. error 0.042`."""
    return [f"deviation from fp32, '{k}': SNR {_db(d.snr_db)}, cosine {d.cosine:.4f}, "
            f"max rel. error {d.max_rel_error:.3g}" for k, d in dev.items()]


def _int_bounds(prog: Program) -> dict[int, int]:
    """Tensor id -> the number of rows of the first lookup table it indexes (through shape-only kernels)."""
    from h3pc.runtime.kernels import Kernels
    from h3pc.runtime.reference import prop

    ops = Kernels.of(prog, "program").ops
    consumers: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {}
    for stream in prog.streams.values():
        for ins in stream:
            if ins.op == "VOP":
                for pos, t in enumerate(ins.ins):
                    consumers.setdefault(t, []).append((ins.kernel, pos, ins.outs))
    bounds: dict[int, int] = {}
    for start in {i["tensor"] for i in prog.inputs}:
        todo, seen = [start], {start}
        while todo and start not in bounds:
            t = todo.pop(0)
            for k, pos, outs in consumers.get(t, []):
                op = ops[k]
                if op.name == "nn.gather" and pos == 1:
                    axis = int(prop(op, "axis") or 0)
                    table = prog.tensors[ins_of(prog, k, t)].shape
                    bounds[start] = table[axis] if table else DEFAULT_INT_BOUND
                    break
                if op.name in _SHAPE_ONLY:
                    todo += [o for o in outs if o not in seen]
                    seen.update(outs)
    return bounds


def ins_of(prog: Program, kernel: int, indices: int) -> int:
    """The data operand (the table) of the gather `kernel` that reads `indices`."""
    for stream in prog.streams.values():
        for ins in stream:
            if ins.op == "VOP" and ins.kernel == kernel and ins.ins[1] == indices:
                return ins.ins[0]
    raise KeyError(kernel)


def random_inputs(prog: Program, seed: int = 0, samples: int = CHECK_SAMPLES) -> tuple[dict[str, np.ndarray],
                                                                                      dict[str, str]]:
    """Seeded inputs stacked [samples, *shape] from the program's input signature (CHECK_DOC), and
    how each was drawn."""
    rng = np.random.default_rng([seed, 7])
    bounds = _int_bounds(prog)
    feeds, how = {}, {}
    for i in prog.inputs:
        t = prog.tensors[i["tensor"]]
        shape, dtype = (samples, *t.shape), np.dtype(t.dtype)
        if dtype.kind == "f":
            feeds[i["name"]], how[i["name"]] = rng.standard_normal(shape).astype(dtype), "standard normal"
        elif dtype.kind == "b":
            feeds[i["name"]], how[i["name"]] = rng.integers(0, 2, shape).astype(dtype), "uniform booleans"
        else:
            hi = bounds.get(i["tensor"], DEFAULT_INT_BOUND)
            hi = min(hi, int(np.iinfo(dtype).max) + 1)
            feeds[i["name"]] = rng.integers(0, hi, shape).astype(dtype)
            how[i["name"]] = f"uniform integers in [0, {hi})" + (" (rows of the table it indexes)"
                                                                  if i["tensor"] in bounds else "")
    return feeds, how


@dataclass(frozen=True)
class QualityResult:
    """The report's `quality`: the task metric (`--calib`), the default check or `h3pc-run
    --compare-ideal` (per-output deviation from fp32), both of the last two with `--calib`, or none."""

    checked: bool
    how: str  # "calib" | "default" | "compare-ideal" | "calib+compare-ideal" | "none"
    reason: str = ""  # why not checked
    task: Quality | None = None  # --calib
    outputs: dict[str, Deviation] | None = None  # per output: default check, --compare-ideal
    inputs: dict[str, str] | None = None  # default check: how each input was drawn
    samples: int = 0
    seed: int = 0

    @property
    def snr_db(self) -> float | None:
        return min(d.snr_db for d in self.outputs.values()) if self.outputs else None

    @property
    def cosine(self) -> float | None:
        return min(d.cosine for d in self.outputs.values()) if self.outputs else None

    def to_json(self) -> dict[str, Any]:
        if not self.checked:
            return {"checked": False, "how": "none", "reason": self.reason}
        out: dict[str, Any] = {"checked": True, "how": self.how}
        if self.task is not None:
            out.update(self.task.to_json())
        if self.outputs is not None:
            out.update({"samples": self.samples, "seed": self.seed, "snr_db": _finite(self.snr_db),
                        "cosine": self.cosine, "outputs": {k: d.to_json() for k, d in self.outputs.items()},
                        "reference": "exact fp32 emulation of the same program on the same inputs"})
            if self.inputs is not None:
                out["inputs"] = self.inputs
            if self.task is not None:  # the task's own samples and seed stay with it
                out.update({"samples": self.task.samples, "seed": self.task.seed,
                            "deviation_samples": self.samples})
        return out

    def lines(self) -> list[str]:
        """What the tools print: one line, or the task's line and one per output for --compare-ideal."""
        if not self.checked:
            return [f"quality: not checked ({self.reason})"]
        out = [self.task.line()] if self.task is not None else []
        if self.outputs is not None and self.how == "default":
            worst = min(self.outputs, key=lambda k: self.outputs[k].snr_db)
            d = self.outputs[worst]
            out.append(f"quality: default check, noisy vs fp32 on {self.samples} seeded random "
                       f"input{'s' if self.samples != 1 else ''} (seed "
                       f"{self.seed}): SNR {_db(d.snr_db)}, cosine {d.cosine:.4f}, max rel. error "
                       f"{d.max_rel_error:.3g}" + (f" (worst output '{worst}')" if len(self.outputs) > 1 else "")
                       + "; not a task metric: --calib measures one")
        elif self.outputs is not None:
            out += [f"quality: {line}" for line in deviation_lines(self.outputs)]
        return out

    def line(self) -> str:
        return "\n".join(self.lines())


def run_quality(task: Quality | None = None, deviation_: dict[str, Deviation] | None = None,
                samples: int = 1, seed: int = 0) -> QualityResult:
    """`h3pc-run`'s `quality`: the --calib measure, the --compare-ideal deviation of its own outputs
    (`compare_ideal`), both, or not checked (the same key in every report)."""
    if task is None and deviation_ is None:
        return QualityResult(False, "none", reason="no --calib and no --compare-ideal")
    how = "+".join(h for h, v in (("calib", task), ("compare-ideal", deviation_)) if v is not None)
    return QualityResult(True, how, task=task, outputs=deviation_, samples=samples, seed=seed)


def default_check(prog: Program, seed: int = 0, samples: int = CHECK_SAMPLES,
                  hw: HardwareConfig | None = None) -> QualityResult:
    """The cheap default check (CHECK_DOC): noisy vs exact emulation on seeded random inputs."""
    from h3pc.runtime.emulator import Emulator

    feeds, how = random_inputs(prog, seed, samples)
    with np.errstate(all="ignore"):
        ref = Emulator(prog, hw, ideal=True, where="quality check").run(feeds, "quality check: fp32 run")[0]
        got = Emulator(prog, hw, where="quality check", seed=seed).run(feeds, "quality check: noisy run")[0]
    return QualityResult(True, "default", outputs=deviation(ref, got), inputs=how, samples=samples, seed=seed)


#: the default check runs the program twice; past this size of one tensor it is skipped, with the reason
CHECK_MAX_TENSOR_BYTES = 1 << 30
#: the reason printed when quality was not checked (--no-check-quality and no --calib)
NOT_CHECKED = ("--no-check-quality and no --calib: latency and energy hold for this program, its output "
               "quality is unknown")


def compile_quality(compiled, check: bool, seed: int = 0) -> QualityResult:
    """The `quality` of a compile: stage two's measure with --calib (after precision refinement when
    it ran), else the default check when `check`, else not checked (with the reason)."""
    stage = compiled.stage1
    if stage is not None and stage.stage2 is not None:
        q = stage.precision.quality if stage.precision is not None else stage.stage2.after_quality
        return QualityResult(True, "calib", task=q, samples=q.samples, seed=q.seed)
    if check and compiled.program is not None:
        big = max((t.nbytes for t in compiled.program.tensors), default=0)
        if big > CHECK_MAX_TENSOR_BYTES:
            return QualityResult(False, "none", reason=f"the default check was skipped: a tensor of the program "
                                 f"takes {big / 2**30:.1f} GiB (more than {CHECK_MAX_TENSOR_BYTES >> 30} GiB); "
                                 f"--calib with small samples measures it")
        try:
            return default_check(compiled.program, seed)
        except H3pcError as exc:  # the program is written all the same; say why it was not checked
            return QualityResult(False, "none", reason=f"the default check could not emulate the program: {exc}")
    return QualityResult(False, "none", reason=NOT_CHECKED)
