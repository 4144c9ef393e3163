"""Emulator and compiler speed per model, against onnxruntime on the same inputs.

    python benchmarks/speed.py [--models SUBSTR] [--repeat N] [--target hybrid] [--out benchmarks/results/speed.json]

Models: every development model (benchmarks/common.py; $H3PC_MODELS overrides) and gpt2_small from the
large-model folder (`make models`, ${XDG_CACHE_HOME:-~/.cache}/h3pc/models; $H3PC_MODELS_EXTRA overrides;
skipped with a note when absent). Inputs are the `in/<name>` arrays of the
model's .npz, so the emulator and onnxruntime see the same feeds; `out/<name>` gives the max |error|
of the emulator's outputs on the way (ideal: should be ~1e-6; quantized: the tiers' number formats).

Per model:
  * onnxruntime: median of --ort-repeat runs after warm-up, CPU provider, default session options
    (intra_op_num_threads = 0: onnxruntime picks the thread count; the number of CPUs is reported).
  * emulator: construction time (Emulator(program, ideal=...)) and the median of --repeat
    Emulator.run(feeds) calls after one warm-up run, for --ideal (exact fp32) and the default
    quantized mode; the ratio ideal / onnxruntime.
  * compile: the sum of compile_model's phase timings plus the program.bin encode time
    (to_container + container.encode); the slowest phase is named.
  * gpt2_small: compile + encode once more in a fresh subprocess, whose ru_maxrss at the end is the
    peak memory (MB, and as a ratio to the .onnx file size).

Targets (printed as PASS/FAIL lines): --ideal within 3x onnxruntime per model; gpt2_small compiles in
under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RESULTS, RSS_MB

LARGE = "gpt2_small"
IDEAL_TARGET = 3.0  # emulator --ideal within 3x onnxruntime
COMPILE_TARGET_S = 30.0  # gpt2_small compiles in under 30 s

CHILD = RSS_MB + r"""
import json, resource, sys, time
from h3pc.compiler import compile_model
from h3pc.backends.program import to_container
from h3pc.backends import container
base = rss_mb()
t = time.perf_counter()
c = compile_model(sys.argv[1], sys.argv[2])
compile_s = time.perf_counter() - t
t = time.perf_counter()
size = container.write(sys.argv[3], to_container(c.program))  # as `h3pc -o` writes it
encode_s = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
print(json.dumps({"compile_s": compile_s, "encode_s": encode_s, "timings": c.timings, "peak_mb": peak,
                  "base_mb": base, "program_mb": size / 1e6}))
"""


def median_time(fn, repeat: int, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def load_feeds(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    data = np.load(path.with_suffix(".npz"))
    feeds = {k[3:]: data[k] for k in data.files if k.startswith("in/")}
    refs = {k[4:]: data[k] for k in data.files if k.startswith("out/")}
    return feeds, refs


def bench_ort(path: Path, feeds: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    import onnxruntime as ort

    so = ort.SessionOptions()  # defaults: intra_op_num_threads 0 (onnxruntime's choice)
    t = time.perf_counter()
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t
    med, times = median_time(lambda: sess.run(None, feeds), repeat, warmup=3)
    return {"median_s": med, "min_s": min(times), "session_s": load_s,
            "intra_op_num_threads": so.intra_op_num_threads, "inter_op_num_threads": so.inter_op_num_threads}


def bench_emulator(program, feeds: dict[str, np.ndarray], refs: dict[str, np.ndarray], ideal: bool,
                   repeat: int) -> dict[str, Any]:
    from h3pc.runtime.emulator import Emulator

    t = time.perf_counter()
    emu = Emulator(program, ideal=ideal)
    ctor_s = time.perf_counter() - t
    outs: dict[str, np.ndarray] = {}

    def run() -> None:
        nonlocal outs
        outs = emu.run(feeds)[0]

    med, times = median_time(run, repeat, warmup=1)
    err = max((float(np.max(np.abs(outs[k].astype(np.float64) - refs[k]))) for k in refs if k in outs),
              default=float("nan"))
    scale = max((float(np.max(np.abs(refs[k]))) for k in refs), default=float("nan"))
    return {"ctor_s": ctor_s, "median_s": med, "min_s": min(times), "max_abs_err": err, "ref_max_abs": scale}


def bench_compile(path: Path, target: str):
    from h3pc.backends import container
    from h3pc.backends.program import to_container
    from h3pc.compiler import compile_model

    t = time.perf_counter()
    c = compile_model(str(path), target)
    wall = time.perf_counter() - t
    t = time.perf_counter()
    data = container.encode(to_container(c.program))
    encode_s = time.perf_counter() - t
    timings = dict(c.timings)
    total = sum(timings.values()) + encode_s
    phases = {**timings, "encode": encode_s}
    top = max(phases, key=phases.get)
    return c.program, {"timings": timings, "encode_s": encode_s, "total_s": total, "wall_s": wall + encode_s,
                       "slowest_phase": top, "slowest_share": phases[top] / total if total else 0.0,
                       "program_mb": len(data) / 1e6}


def peak_memory(path: Path, target: str) -> dict[str, Any]:
    """Compile + encode in a fresh interpreter; its ru_maxrss is the peak."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path), target, str(Path(tmp) / "program.bin")],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    size = path.stat().st_size / 1e6
    r.update(file_mb=size, peak_over_file=r["peak_mb"] / size, process_wall_s=wall,
             total_s=sum(r["timings"].values()) + r["encode_s"])
    return r


def model_paths(filter_: str | None) -> tuple[list[Path], list[str]]:
    notes = []
    paths = sorted(DEV_MODELS.glob("*.onnx"))
    if not paths:
        notes.append(f"no models in {DEV_MODELS}")
    large = EXTRA_MODELS / f"{LARGE}.onnx"
    if large.exists() and large.with_suffix(".npz").exists():
        paths.append(large)
    else:
        notes.append(f"{LARGE} skipped: {large} (and its .npz) not found; run `make models` or set H3PC_MODELS_EXTRA")
    if filter_:
        paths = [p for p in paths if filter_ in p.stem]
    return paths, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="only models whose name contains this substring")
    ap.add_argument("--repeat", type=int, default=5, help="timed emulator runs per mode (median), default 5")
    ap.add_argument("--ort-repeat", type=int, default=20, help="timed onnxruntime runs (median), default 20")
    ap.add_argument("--target", default="hybrid", help="compile target, default hybrid")
    ap.add_argument("--out", "--json", dest="out", type=Path, default=RESULTS / "speed.json")
    args = ap.parse_args()
    t_start = time.perf_counter()

    paths, notes = model_paths(args.models)
    rows: list[dict[str, Any]] = []
    for path in progress.track(paths, "speed: models", unit="model"):
        row: dict[str, Any] = {"model": path.stem, "file_mb": path.stat().st_size / 1e6}
        try:
            feeds, refs = load_feeds(path)
            row["ort"] = bench_ort(path, feeds, args.ort_repeat)
            program, row["compile"] = bench_compile(path, args.target)
            row["ideal"] = bench_emulator(program, feeds, refs, True, args.repeat)
            row["quantized"] = bench_emulator(program, feeds, refs, False, args.repeat)
            del program
            ort_s = row["ort"]["median_s"]
            row["ideal_over_ort"] = row["ideal"]["median_s"] / ort_s
            row["quantized_over_ort"] = row["quantized"]["median_s"] / ort_s
            if path.stem == LARGE:
                row["fresh_process"] = peak_memory(path, args.target)
        except Exception as exc:  # one failing model must not hide the others
            row["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        rows.append(row)

    # ---- output -------------------------------------------------------------------------------
    cpus = os.cpu_count()
    print(f"target {args.target}; onnxruntime CPU provider, default threads (intra_op_num_threads=0) on {cpus} CPUs; "
          f"medians of {args.ort_repeat} onnxruntime / {args.repeat} emulator runs after warm-up")
    for n in notes:
        print(f"note: {n}")
    print(f"{'model':<26} {'file MB':>8} {'ort ms':>8} {'ctor id ms':>10} {'ideal ms':>9} {'id/ort':>7} "
          f"{'ctor q ms':>9} {'quant ms':>9} {'q/ort':>7} {'compile ms':>10} {'encode ms':>9} {'slowest phase':>20} "
          f"{'ideal err':>9} {'quant err':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<26} ERROR {r['error']}")
            continue
        c = r["compile"]
        slowest = f"{c['slowest_phase']} {c['slowest_share']:.0%}"
        print(f"{r['model']:<26} {r['file_mb']:8.1f} {r['ort']['median_s'] * 1e3:8.2f} "
              f"{r['ideal']['ctor_s'] * 1e3:10.1f} "
              f"{r['ideal']['median_s'] * 1e3:9.2f} {r['ideal_over_ort']:7.1f} {r['quantized']['ctor_s'] * 1e3:9.1f} "
              f"{r['quantized']['median_s'] * 1e3:9.2f} {r['quantized_over_ort']:7.1f} {c['total_s'] * 1e3:10.1f} "
              f"{c['encode_s'] * 1e3:9.1f} {slowest:>20} "
              f"{r['ideal']['max_abs_err']:9.2g} {r['quantized']['max_abs_err']:9.2g}")
    for r in rows:
        fp = r.get("fresh_process")
        if fp is None:
            continue
        if "error" in fp:
            print(f"{r['model']} fresh-process compile: ERROR {fp['error']}")
        else:
            print(f"{r['model']} fresh-process compile: {fp['total_s']:.2f} s "
                  f"(compile {fp['compile_s']:.2f} s + encode "
                  f"{fp['encode_s']:.2f} s; process {fp['process_wall_s']:.1f} s incl. interpreter start), "
                  f"peak RSS {fp['peak_mb']:.0f} MB (base {fp['base_mb']:.0f} MB after imports) = "
                  f"{fp['peak_over_file']:.2f}x the {fp['file_mb']:.0f} MB .onnx; "
                  f"program.bin {fp['program_mb']:.0f} MB; "
                  "phases " + ", ".join(f"{k} {v:.2f}" for k, v in fp["timings"].items()))
    print()
    checks: list[dict[str, Any]] = []
    for r in rows:
        if "error" in r:
            checks.append({"check": f"{r['model']}: --ideal within {IDEAL_TARGET:g}x onnxruntime", "pass": False,
                           "value": r["error"]})
            continue
        checks.append({"check": f"{r['model']}: --ideal within {IDEAL_TARGET:g}x onnxruntime",
                       "pass": r["ideal_over_ort"] <= IDEAL_TARGET, "value": f"{r['ideal_over_ort']:.1f}x"})
    large = next((r for r in rows if r["model"] == LARGE), None)
    if large is None:
        checks.append({"check": f"{LARGE} compiles in under {COMPILE_TARGET_S:g} s", "pass": None,
                       "value": "skipped (model absent or filtered out)"})
    else:
        fp = large.get("fresh_process", {})
        secs = fp.get("total_s", large.get("compile", {}).get("total_s"))
        ok = secs is not None and secs < COMPILE_TARGET_S
        checks.append({"check": f"{LARGE} compiles in under {COMPILE_TARGET_S:g} s", "pass": ok,
                       "value": f"{secs:.2f} s (fresh process)" if secs is not None else large.get("error", "?")})
    for c in checks:
        mark = "SKIP" if c["pass"] is None else ("PASS" if c["pass"] else "FAIL")
        print(f"{mark} {c['check']}: {c['value']}")
    runtime = time.perf_counter() - t_start
    print(f"\nruntime {runtime:.1f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = {"target": args.target, "cpus": cpus, "repeat": args.repeat, "ort_repeat": args.ort_repeat,
           "notes": notes, "models": rows, "checks": checks, "runtime_s": runtime}
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")
    return 1 if any("error" in r for r in rows) else 0  # targets missed are reported, not errors


if __name__ == "__main__":
    sys.exit(main())
