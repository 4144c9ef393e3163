"""The sweep file: loading, strict validation, and its expansion into points.

Everything a sweep would trip over is found here, before anything runs: unknown keys, models that
are not there, axes naming a hardware key that does not exist, and values (or combinations of
values) that the hardware schema rejects; every hardware point goes through `parse_hardware`.
Errors are one line naming the sweep file and the key. Relative paths are resolved against the
sweep file's own folder, never the working directory.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from h3pc import __version__
from h3pc.diagnostics import H3pcError, shown, shown_name
from h3pc.files import MAX_YAML_BYTES, check_input, read_bytes, read_text
from h3pc.hardware.schema import PRESETS, HardwareConfig, parse_hardware, parse_yaml, preset_names
from h3pc.quality import METRICS
from h3pc.transforms.stage1.mappings import MAPPINGS
from h3pc.transforms.stage2 import MAX_TRIALS
from h3pc.backends.tiers import targets

#: bump when a row's meaning changes, so stores written before are not reused
ROW_FORMAT = 1

OBJECTIVES = ("latency", "energy", "edp")
#: most points one sweep file may expand to (counted before anything is enumerated; docs/sweep.md)
MAX_POINTS = 100_000
#: most values on one axis
MAX_AXIS_VALUES = 10_000
#: longest solver budget and point time limit accepted (one day; one week)
MAX_SOLVE_TIME_S = 86_400.0
MAX_POINT_TIMEOUT_S = 7 * 86_400.0
GRIDS = ("product", "zip")


@dataclass(frozen=True)
class Choice:
    """One `mappings:` entry: the target, and the stage-one mapping for the hybrid target."""

    target: str
    mapping: str | None  # None: a homogeneous target (every GEMM on one tier)

    @property
    def label(self) -> str:
        return f"{self.target}/{self.mapping}" if self.mapping else self.target

    @property
    def uses_objective(self) -> bool:
        """Whether the objective changes what this mapping picks (else the point runs once)."""
        return self.mapping in ("cpsat", "nsga2", "random")


def _choices() -> dict[str, Choice]:
    table = {"hybrid": Choice("hybrid", "cpsat")}
    for m in MAPPINGS:
        table[m] = table[f"hybrid/{m}"] = Choice("hybrid", m)
    for t in targets():
        if t != "hybrid":
            table[t] = Choice(t, None)
    return table


#: `mappings:` entry -> what it runs: `hybrid/NAME` (or `NAME`) for every stage-one mapping, and the
#: homogeneous targets by name
CHOICES: dict[str, Choice] = _choices()


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sha256: str
    calib: Path | None = None
    calib_sha256: str | None = None


@dataclass(frozen=True)
class HardwarePoint:
    id: str  # hw00, hw01, ... in expansion order
    values: dict[str, Any]  # axis path -> value (as the schema normalised it)
    hw: dict[str, Any]  # the whole description (HardwareConfig.to_dict)
    digest: str

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items()) or "base"


@dataclass(frozen=True)
class Solver:
    solve_time: float | None = None  # None: as the h3pc CLI (2 s, or 10 s for a front)
    points: int = 8  # front size when the objective is energy or edp
    seed: int = 0
    samples: int = 100  # --mapping random


@dataclass(frozen=True)
class Quality:
    metric: str = "top1"
    tolerance: float | None = None
    samples: int | None = None  # the first N calibration samples (None: all)
    stage2: bool = True  # remap rows (and refine precision) until the metric holds
    precision: bool = True
    precision_trials: int = MAX_TRIALS


@dataclass(frozen=True)
class Task:
    """One point of the sweep: what to run, and the key its row is stored under."""

    key: str
    model: Model
    point: HardwarePoint
    choice: Choice
    objective: str | None


@dataclass
class Spec:
    path: Path
    models: list[Model]
    base: str
    axes: dict[str, list[Any]]
    points: list[HardwarePoint]
    choices: list[Choice]
    objectives: list[str]
    solver: Solver
    quality: Quality | None
    point_timeout: float | None
    payloads: dict[str, bytes] = field(default_factory=dict, repr=False)  # sha256 -> file bytes

    def tasks(self) -> list[Task]:
        """Every point in table order: model, hardware point, mapping, objective."""
        out = []
        for model in self.models:
            for point in self.points:
                for choice in self.choices:
                    for objective in (self.objectives if choice.uses_objective else [None]):
                        out.append(Task(self.key(model, point, choice, objective), model, point, choice, objective))
        return out

    def key(self, model: Model, point: HardwarePoint, choice: Choice, objective: str | None) -> str:
        """sha256 of everything the row depends on: model bytes, hardware, options, tool version."""
        options: dict[str, Any] = {"target": choice.target, "mapping": choice.mapping, "objective": objective,
                                   "solver": self.solver.__dict__}
        if self.quality is not None:
            options["quality"] = {**self.quality.__dict__, "calib": model.calib_sha256}
        blob = {"model": model.sha256, "hw": point.hw, "options": options, "version": __version__,
                "row_format": ROW_FORMAT}
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The resolved sweep (what `spec.json` in the results folder records)."""
        return {"sweep": str(self.path), "version": __version__, "base": self.base,
                "models": [{"name": m.name, "path": str(m.path), "sha256": m.sha256,
                            "calib": str(m.calib) if m.calib else None} for m in self.models],
                "axes": self.axes,
                "points": [{"id": p.id, "values": p.values, "digest": p.digest} for p in self.points],
                "mappings": [c.label for c in self.choices], "objectives": self.objectives,
                "solver": self.solver.__dict__, "quality": self.quality.__dict__ if self.quality else None,
                "point_timeout": self.point_timeout}


# -- loading ----------------------------------------------------------------------------------------
TOP_KEYS = ("models", "hardware", "axes", "grid", "mappings", "objectives", "quality", "solver", "point_timeout")


def load_spec(path: str | Path) -> Spec:
    """Read and validate a sweep file; every hardware point is checked by the hardware schema."""
    path = Path(path).resolve()
    where = str(path)
    # a FIFO or folder is refused unopened; the size is bounded
    text = read_text(path, None, "YAML text", MAX_YAML_BYTES)
    data = parse_yaml(text, where, "sweep file")
    if not isinstance(data, dict):
        raise H3pcError(f"{where}: expected a mapping with keys {', '.join(TOP_KEYS)}, got "
                        f"{'an empty file' if data is None else type(data).__name__}")
    _known(data, TOP_KEYS, "", where)
    payloads: dict[str, bytes] = {}
    quality = _quality(data.get("quality"), where)
    models = _models(data.get("models"), path.parent, quality is not None, data.get("quality") or {}, payloads, where)
    base_name, base = _base(data.get("hardware", "h3pimap"), path.parent, where)
    grid = data.get("grid", "product")
    if grid not in GRIDS:
        raise H3pcError(f"{where}: grid: {shown(grid)} is not one of {', '.join(GRIDS)}")
    choices = _mappings(data.get("mappings", ["hybrid/cpsat"]), where)
    objectives = _objectives(data.get("objectives", ["latency"]), where)
    _count(data.get("axes") or {}, grid, len(models), choices, objectives, where)
    axes = _axes(data.get("axes") or {}, base, where)
    points = _expand(base, axes, grid, where)
    solver = _solver(data.get("solver") or {}, where)
    timeout = data.get("point_timeout")
    if timeout is not None:
        timeout = _number(timeout, "point_timeout", where, positive=True, hi=MAX_POINT_TIMEOUT_S)
    return Spec(path, models, base_name, axes, points, choices, objectives, solver, quality, timeout, payloads)


def _count(axes: Any, grid: str, models: int, choices: list[Choice], objectives: list[str], where: str) -> int:
    """The number of points the file asks for, counted from the list lengths alone (nothing is
    enumerated or validated yet), refused above MAX_POINTS."""
    lengths = [len(v) if isinstance(v, list) else 1 for v in _mapping_of(axes, "axes", where).values()]
    for path, n in zip(axes, lengths):
        if n > MAX_AXIS_VALUES:
            raise H3pcError(f"{where}: axes.{shown_name(path)}: {n} values, more than the {MAX_AXIS_VALUES} "
                            f"supported per axis")
    hw_points = (max(lengths) if lengths else 1) if grid == "zip" else math.prod(lengths)
    runs = sum(len(objectives) if c.uses_objective else 1 for c in choices)
    total = models * hw_points * runs
    if total > MAX_POINTS:
        raise H3pcError(f"{where}: {total} points ({models} model(s) x {hw_points} hardware point(s) x {runs} "
                        f"mapping/objective run(s)), more than the {MAX_POINTS} a sweep may hold; split it into "
                        f"several sweep files")
    return total


def _known(data: dict, keys: tuple[str, ...], at: str, where: str) -> None:
    for k in data:
        if k not in keys:
            name = f"{at}.{k}" if at else str(k)
            raise H3pcError(f"{where}: {shown_name(name)}: unknown key (expected one of {', '.join(keys)})")


def _mapping_of(v: Any, at: str, where: str) -> dict:
    if not isinstance(v, dict):
        raise H3pcError(f"{where}: {at}: expected a mapping, got {type(v).__name__}")
    return v


def _list_of(v: Any, at: str, where: str) -> list:
    if isinstance(v, (str, int, float)):
        return [v]
    if not isinstance(v, list) or not v:
        raise H3pcError(f"{where}: {at}: expected a non-empty list, got {shown(v)}")
    return v


def _number(v: Any, at: str, where: str, positive: bool = False, integer: bool = False,
            hi: float | None = None) -> Any:
    """A number from the sweep file: finite, > 0 when `positive`, at most `hi` (absurd values such as
    a solve time of 1e300 seconds are refused here, before any point runs)."""
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok:
        raise H3pcError(f"{where}: {at}: expected {'an integer' if integer else 'a number'}, got {shown(v)}")
    if not math.isfinite(v):
        raise H3pcError(f"{where}: {at}: expected a finite number, got {shown(v)}")
    if positive and not v > 0:
        raise H3pcError(f"{where}: {at}: {shown(v)} must be > 0")
    if hi is not None and v > hi:
        raise H3pcError(f"{where}: {at}: {shown(v)} must be <= {hi:g}")
    return v


def _bool(v: Any, at: str, where: str) -> bool:
    if not isinstance(v, bool):
        raise H3pcError(f"{where}: {at}: expected true or false, got {shown(v)}")
    return v


def _file(value: Any, folder: Path, at: str, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise H3pcError(f"{where}: {at}: expected a file path, got {shown(value)}")
    p = Path(value).expanduser()
    p = p if p.is_absolute() else folder / p
    try:
        check_input(p)
    except H3pcError as exc:
        raise H3pcError(f"{where}: {at}: {exc}") from None
    return p


def _read(p: Path, at: str, payloads: dict[str, bytes], where: str) -> str:
    try:
        data = read_bytes(p)
    except H3pcError as exc:
        raise H3pcError(f"{where}: {at}: {exc}") from None
    sha = hashlib.sha256(data).hexdigest()
    payloads[sha] = data
    return sha


def _models(v: Any, folder: Path, quality: bool, qdata: dict, payloads: dict[str, bytes], where: str) -> list[Model]:
    if v is None:
        raise H3pcError(f"{where}: models: missing key (a list of ONNX model paths)")
    out: list[Model] = []
    for i, entry in enumerate(_list_of(v, "models", where)):
        at = f"models[{i}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        entry = _mapping_of(entry, at, where)
        _known(entry, ("path", "name", "calib"), at, where)
        if "path" not in entry:
            raise H3pcError(f"{where}: {at}.path: missing key")
        path = _file(entry["path"], folder, f"{at}.path", where)
        name = entry.get("name", path.stem)
        if not isinstance(name, str) or not name:
            raise H3pcError(f"{where}: {at}.name: expected a string, got {shown(name)}")
        if any(m.name == name for m in out):
            raise H3pcError(f"{where}: {at}: a second model named '{shown_name(name)}' (give it a `name:`)")
        sha = _read(path, f"{at}.path", payloads, where)
        _check_self_contained(path, f"{at}.path", where)
        calib = calib_sha = None
        if quality:
            given = entry.get("calib", qdata.get("calib", "auto"))
            if given == "auto":
                calib = path.with_suffix(".npz")
                if not calib.is_file():
                    raise H3pcError(f"{where}: {at}: quality needs calibration data and {calib} does not exist "
                                    f"(give `calib:` for this model)")
            else:
                calib = _file(given, folder, f"{at}.calib" if "calib" in entry else "quality.calib", where)
            _check_calib(path, calib, f"{at}.calib" if "calib" in entry else at, where)
            calib_sha = _read(calib, f"{at}.calib", payloads, where)
        elif "calib" in entry:
            raise H3pcError(f"{where}: {at}.calib: calibration data needs a `quality:` section")
        out.append(Model(name, path, sha, calib, calib_sha))
    return out


def _check_self_contained(model: Path, at: str, where: str) -> None:
    """A model whose tensors live in external files is refused up front: workers receive each model as
    the bytes of its one file (every point failed with "external file missing")."""
    from h3pc.frontend.loader import load_onnx

    try:
        files = load_onnx(model).external_files
    except H3pcError:
        return  # not a model we can read: each of its points says why
    if files:
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        raise H3pcError(f"{where}: {at}: {model.name} keeps tensors in external files ({Path(files[0]).name}"
                        f"{more}); a sweep sends each model to its workers as one file: save it with its "
                        f"tensors inside (onnx.save_model(model, path, save_as_external_data=False))")


def _check_calib(model: Path, calib: Path, at: str, where: str) -> None:
    """The calibration file has samples for every graph input (by the quality oracle's key rules)."""
    from h3pc.frontend.loader import load_onnx
    from h3pc.npz import npz_keys
    from h3pc.quality import sample_keys

    try:
        graph = load_onnx(model).model.graph
    except H3pcError:
        return  # not a model we can read: each of its points says why
    inits = {t.name for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in inits]
    try:
        keys = set(npz_keys(calib))
    except H3pcError as exc:
        raise H3pcError(f"{where}: {at}: {exc}") from None
    found = sample_keys(inputs, keys)
    missing = [n for n in inputs if n not in found]
    if missing:
        n = missing[0]
        raise H3pcError(f"{where}: {at}: {calib} has no calibration samples for input '{shown_name(n)}' "
                        f"of {model.name} (expected key '{shown_name(n)}' or 'eval/{shown_name(n)}')")


def _base(v: Any, folder: Path, where: str) -> tuple[str, HardwareConfig]:
    """The base hardware: a preset name, or a YAML file relative to the sweep file."""
    from h3pc.hardware.schema import load_hardware

    if not isinstance(v, str) or not v:
        raise H3pcError(f"{where}: hardware: expected a preset ({', '.join(preset_names())}) or a file, "
                        f"got {shown(v)}")
    if not Path(v).suffix and v in preset_names():
        return v, load_hardware(PRESETS / f"{v}.yaml")
    p = Path(v).expanduser()
    p = p if p.is_absolute() else folder / p
    if not p.exists():
        raise H3pcError(f"{where}: hardware: {v}: no such preset or file (presets: {', '.join(preset_names())})")
    return str(p), load_hardware(p)


def _axes(v: Any, base: HardwareConfig, where: str) -> dict[str, list[Any]]:
    """axis path -> its values, each value checked alone against the schema (and normalised by it)."""
    v = _mapping_of(v, "axes", where)
    d = base.to_dict()
    out: dict[str, list[Any]] = {}
    for path, values in v.items():
        if not isinstance(path, str):
            raise H3pcError(f"{where}: axes: {shown(path)}: expected a hardware key path such as "
                            f"memory.prefetch_depth")
        at = f"axes.{path}"
        _resolve(d, path, at, where)
        values = _list_of(values, at, where)
        seen: list[Any] = []
        for i, value in enumerate(values):
            cfg = parse_hardware(_set(d, path, value), f"{where}: {at}[{i}]")  # the schema's error, naming the key
            value = _get(cfg.to_dict(), path)  # as the schema normalised it (1 -> 1.0 for a float key)
            if value in seen:
                raise H3pcError(f"{where}: {at}[{i}]: {shown(value)} is listed twice")
            seen.append(value)
        out[path] = seen
    return out


def _resolve(d: dict, path: str, at: str, where: str) -> None:
    node: Any = d
    parts = path.split(".")
    for depth, part in enumerate(parts):
        here = ".".join(parts[:depth]) or "the hardware description"
        if not isinstance(node, dict):
            raise H3pcError(f"{where}: {at}: unknown hardware key ({here} is a value, not a section)")
        if part not in node:
            raise H3pcError(f"{where}: {at}: unknown hardware key '{shown_name(part)}' ({here} has: "
                            f"{', '.join(node)})")
        node = node[part]
    if isinstance(node, dict):
        raise H3pcError(f"{where}: {at}: a section, not a key (name one of {', '.join(node)})")


def _set(d: dict, path: str, value: Any) -> dict:
    out = copy.deepcopy(d)
    node = out
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return out


def _get(d: dict, path: str) -> Any:
    for p in path.split("."):
        d = d[p]
    return d


def _expand(base: HardwareConfig, axes: dict[str, list[Any]], grid: str, where: str) -> list[HardwarePoint]:
    names = list(axes)
    if grid == "zip":
        lengths = {len(v) for v in axes.values()}
        if len(lengths) > 1:
            raise H3pcError(f"{where}: grid: zip needs axes of one length, got "
                            + ", ".join(f"{k} {len(v)}" for k, v in axes.items()))
        combos = list(zip(*axes.values())) if axes else [()]  # no axes: the base point, as for product
    else:
        combos = list(itertools.product(*axes.values()))
    points = []
    width = max(2, len(str(len(combos) - 1)))
    d = base.to_dict()
    for i, combo in enumerate(combos):
        trial = d
        for path, value in zip(names, combo):
            trial = _set(trial, path, value)
        label = ", ".join(f"{k}={v}" for k, v in zip(names, combo)) or "base"
        cfg = parse_hardware(trial, f"{where}: hardware point {label}")  # cross-field checks
        hw = cfg.to_dict()
        points.append(HardwarePoint(f"hw{i:0{width}d}", {k: _get(hw, k) for k in names}, hw, cfg.digest))
    return points


def _unique(v: Any, key: str, table: Mapping[str, Any], expected: str, where: str) -> list[Any]:
    """The entries of a list key, each looked up in `table` and listed once."""
    out: list[Any] = []
    for i, entry in enumerate(_list_of(v, key, where)):
        if entry not in table:
            raise H3pcError(f"{where}: {key}[{i}]: unknown {key[:-1]} {shown(entry)} "
                            f"(expected one of {expected})")
        value = table[entry]
        if value in out:
            raise H3pcError(f"{where}: {key}[{i}]: {getattr(value, 'label', value)} is listed twice")
        out.append(value)
    return out


def _mappings(v: Any, where: str) -> list[Choice]:
    shown = ", ".join(k for k in CHOICES if "/" in k or CHOICES[k].mapping is None)
    return _unique(v, "mappings", CHOICES, shown, where)


def _objectives(v: Any, where: str) -> list[str]:
    return _unique(v, "objectives", {o: o for o in OBJECTIVES}, ", ".join(OBJECTIVES), where)


def _solver(v: Any, where: str) -> Solver:
    v = _mapping_of(v, "solver", where)
    _known(v, ("solve_time", "points", "seed", "samples"), "solver", where)
    s = Solver()
    budget = v.get("solve_time")
    return Solver(
        solve_time=None if budget is None else float(_number(budget, "solver.solve_time", where, positive=True,
                                                              hi=MAX_SOLVE_TIME_S)),
        points=_number(v.get("points", s.points), "solver.points", where, positive=True, integer=True, hi=1000),
        seed=_seed(_number(v.get("seed", s.seed), "solver.seed", where, integer=True, hi=2**31 - 1), where),
        samples=_number(v.get("samples", s.samples), "solver.samples", where, positive=True, integer=True,
                        hi=1_000_000))


def _seed(v: int, where: str) -> int:
    if v < 0:
        raise H3pcError(f"{where}: solver.seed: {v} must be >= 0")
    return v


def _quality(v: Any, where: str) -> Quality | None:
    if v is None:
        return None
    v = _mapping_of(v, "quality", where)
    _known(v, ("calib", "metric", "tolerance", "samples", "stage2", "precision", "precision_trials"), "quality", where)
    q = Quality()
    metric = v.get("metric", q.metric)
    if metric not in METRICS:
        raise H3pcError(f"{where}: quality.metric: unknown metric {shown(metric)} "
                        f"(expected one of {', '.join(METRICS)})")
    tol = v.get("tolerance")
    samples = v.get("samples")
    return Quality(
        metric=metric,
        tolerance=None if tol is None else float(_number(tol, "quality.tolerance", where, hi=1e6)),
        samples=None if samples is None else _number(samples, "quality.samples", where, positive=True, integer=True,
                                                     hi=1_000_000),
        stage2=_bool(v.get("stage2", q.stage2), "quality.stage2", where),
        precision=_bool(v.get("precision", q.precision), "quality.precision", where),
        precision_trials=_number(v.get("precision_trials", q.precision_trials), "quality.precision_trials", where,
                                 positive=True, integer=True, hi=MAX_TRIALS * 100))
