"""One sweep point through the real pipeline, from bytes: compile (stage one and two), estimate, and
emulate for quality when it is asked.

A worker gets the model (and calibration data) as bytes and the hardware as a dict, never a shared
path: they go to a private temporary folder for the length of the point. Whatever goes wrong in a
point (an unsupported op, an infeasible split, the time limit, an internal error) becomes the
row's `status` and `reason`; only the time columns depend on the machine.
"""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h3pc.diagnostics import H3pcError, UnsupportedError, printable

#: what `run_point` fills in, in table order (the time columns last)
RESULT_COLUMNS = ("status", "reason", "latency_s", "energy_j", "edp_js", "predicted_latency_s",
                  "predicted_energy_j", "solver_status", "stage2_moves", "quality_metric", "quality_reference",
                  "quality_value", "quality_degradation", "quality_passed", "area_mm2")
TIME_COLUMNS = ("compile_s", "emulate_s", "wall_s")
#: statuses of a row; every one but `ok` counts as failed (`quality`: the metric is outside tolerance,
#: the costs are still filled in)
STATUSES = ("ok", "quality", "unsupported", "infeasible", "error", "timeout", "crash")
#: statuses that depend on the machine rather than on the point (`--retry-failed` runs them again)
TRANSIENT = ("timeout", "crash")
#: BLAS/OpenMP threads in a point: one, as Ray gives a one-CPU task, so that every engine computes
#: the same floating-point sums
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class PointTask:
    """What a worker needs for one point: plain data, no paths (picklable for every engine)."""

    key: str
    model: str  # the model's name, for messages
    model_sha256: str
    calib_sha256: str | None
    hw: dict[str, Any]
    hw_digest: str
    target: str
    mapping: str | None
    objective: str | None
    solver: dict[str, Any]  # spec.Solver fields
    quality: dict[str, Any] | None  # spec.Quality fields
    timeout_s: float | None


class PointTimeout(BaseException):
    """Raised in a point by its alarm; a BaseException so that no `except Exception` swallows it."""


def failed(status: str, reason: str, **times: float) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row.update(status=status, reason=printable(reason))
    row.update({k: times.get(k) for k in TIME_COLUMNS})
    return row


def warm() -> None:
    """Import the pipeline (a worker's first point would otherwise count a second of imports)."""
    import h3pc.compiler  # noqa: F401
    import h3pc.quality  # noqa: F401
    import h3pc.runtime.emulator  # noqa: F401
    import h3pc.transforms.stage1.partition  # noqa: F401


def run_point(task: PointTask, model: bytes, calib: bytes | None) -> dict[str, Any]:
    """The row's result columns for one point; never raises (but for KeyboardInterrupt)."""
    warm()
    t0 = time.perf_counter()
    times: dict[str, float] = {"compile_s": 0.0, "emulate_s": 0.0}
    alarm = task.timeout_s is not None and threading.current_thread() is threading.main_thread()
    old = None
    if alarm:
        def ring(signum: int, frame: Any) -> None:
            raise PointTimeout()

        old = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, task.timeout_s)
    tmp = tempfile.mkdtemp(prefix="h3pc-sweep-")
    paths: dict[str, str] = {}
    try:
        try:
            row = _run(task, model, calib, Path(tmp), times, paths)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
    except PointTimeout:
        row = failed("timeout", f"point time limit of {task.timeout_s:g} s reached")
    except UnsupportedError as exc:
        row = failed("unsupported", _clean(str(exc), paths))
    except H3pcError as exc:
        msg = _clean(str(exc), paths)
        row = failed("infeasible" if "infeasible" in msg or "no split" in msg else "error", msg)
    except MemoryError:
        row = failed("crash", "out of memory")
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a point's bug is its row, not the sweep's end
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        row = failed("crash", f"internal error: {type(exc).__name__}: {_clean(first, paths)}")
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    row.update(compile_s=round(times["compile_s"], 4), emulate_s=round(times["emulate_s"], 4),
               wall_s=round(time.perf_counter() - t0, 4))
    return row


def _clean(msg: str, paths: dict[str, str]) -> str:
    """Messages name the model and the hardware point, not the worker's temporary files."""
    for path, name in paths.items():
        msg = msg.replace(path, name)
    return printable(msg)


def _run(task: PointTask, model: bytes, calib: bytes | None, tmp: Path, times: dict[str, float],
         paths: dict[str, str]) -> dict[str, Any]:
    from h3pc.compiler import compile_model
    from h3pc.hardware.schema import parse_hardware
    from h3pc.runtime.emulator import estimate

    model_path = tmp / f"{task.model_sha256[:16]}.onnx"
    model_path.write_bytes(model)
    # the description travels as an object (the compiler's context carries it to every pass): no file
    hw = parse_hardware(task.hw, "the hardware point")
    calib_path = None
    paths[str(model_path)] = task.model
    if calib is not None:
        calib_path = tmp / "calib.npz"
        calib_path.write_bytes(calib)
        paths[str(calib_path)] = f"the calibration data of {task.model}"
    if hw.digest != task.hw_digest:
        raise RuntimeError("the hardware description changed on its way to the worker")
    q = task.quality
    stage_two = q is not None and q["stage2"] and task.target == "hybrid" and task.mapping != "rule"
    if q is not None and q["samples"] is not None and calib_path is not None:
        _head(calib_path, q["samples"])
    t = time.perf_counter()
    try:  # a point that fails in the compiler still says how long it took to
        compiled = compile_model(str(model_path), task.target, hw,
                                 stage1=_stage_one(task, str(calib_path) if stage_two else None))
        report = estimate(compiled.program)
    finally:
        times["compile_s"] = time.perf_counter() - t
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    lat, energy = float(report["latency_s"]), float(report["energy_j"])
    row.update(status="ok", reason="", latency_s=lat, energy_j=energy, edp_js=lat * energy)
    stage = compiled.stage1
    if stage is not None:
        p = stage.chosen
        row.update(predicted_latency_s=p.latency_s, predicted_energy_j=p.energy_j,
                   solver_status=p.solve.status if p.solve else None)
        if stage.stage2 is not None:
            row["stage2_moves"] = len(stage.stage2.steps)
    if q is not None:
        from h3pc.quality import Oracle, load_calib, program_inputs

        t = time.perf_counter()
        try:
            oracle = Oracle(load_calib(calib_path, program_inputs(compiled.program)), q["metric"], q["tolerance"],
                            task.solver["seed"])
            got = oracle.measure(compiled.program)
        finally:
            times["emulate_s"] = time.perf_counter() - t
        row.update(quality_metric=got.metric, quality_reference=got.reference, quality_value=got.value,
                   quality_degradation=got.degradation, quality_passed=got.passed)
        if not got.passed:
            two = stage.stage2 if stage is not None else None
            how = (f"stage two: no remap meets tolerance {got.tolerance:g} after {len(two.steps)} row moves"
                   if two is not None else f"quality outside tolerance {got.tolerance:g}")
            loss = f"SNR {got.value:.4g} dB" if got.metric == "snr" else f"{got.metric} loss {got.degradation:.4g}"
            row.update(status="quality", reason=f"{how} ({loss})")
    return row


def _stage_one(task: PointTask, calib: str | None):
    """Stage-one options as the h3pc CLI builds them, with one solver thread and a deterministic
    time limit, so that a point's row repeats on any engine."""
    from h3pc.transforms.stage1.mappings import search_options
    from h3pc.transforms.stage1.partition import StageOneOptions

    s = task.solver
    objective = task.objective or "latency"
    search = search_options(objective, objective != "latency", s["points"], s["samples"], s["seed"], 1,
                            s["solve_time"], progress=False)
    q = task.quality
    if q is None:
        return StageOneOptions(task.mapping or "cpsat", "latency", search)
    return StageOneOptions(task.mapping or "cpsat", "latency", search, None, calib=calib, metric=q["metric"],
                           tolerance=q["tolerance"], quality_seed=s["seed"], precision=q["precision"],
                           precision_trials=q["precision_trials"])


def _head(path: Path, n: int) -> None:
    """Keep the first n samples of every array of a calibration file (a cheaper quality estimate)."""
    import numpy as np

    from h3pc.npz import read_npz

    arrays = {k: (v[:n] if v.ndim else v) for k, v in read_npz(path).items()}
    with open(path, "wb") as f:
        np.savez(f, **arrays)

