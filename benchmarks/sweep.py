"""Wall time of one design-space sweep on each engine, and what an engine costs per point.

    python benchmarks/sweep.py [--models mlp_digits,cnn_digits] [--out benchmarks/results/sweep.json]

The sweep: 2 models x 12 hardware points (photonic.cores_per_tile x reram_pim.tiles x
memory.buffer_bytes on h3pimap), mapping hybrid/cpsat (min latency, CP-SAT budget 2 s of
deterministic time, one thread), no quality. It runs three times, each into a fresh results folder:
`--jobs 1`, `--jobs 2` and `--ray auto --jobs 2` (a local Ray of 2 workers). Per engine: wall time
of the whole sweep (start to report written), the summed wall time inside the points, and the
overhead per point, (wall x slots - summed point time) / points: process or Ray start-up, shipping
models, dispatch, idle slots at the end, the report. The rows of all three runs must be the same
(but for the time columns). Also the bare start and stop of a 2-CPU local Ray.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from h3pc import progress

from common import DEV_MODELS, RESULTS

AXES = {"photonic.cores_per_tile": [1, 2, 4], "reram_pim.tiles": [50, 100], "memory.buffer_bytes": [65536, 2097152]}
RUNS = [("local", 1, "--jobs 1"), ("local", 2, "--jobs 2"), ("ray", 2, "--ray auto --jobs 2")]


def sweep_file(folder: Path, models: list[str]) -> Path:
    import yaml

    spec = {"models": [str(DEV_MODELS / f"{m}.onnx") for m in models], "hardware": "h3pimap", "axes": AXES,
            "mappings": ["hybrid/cpsat"], "objectives": ["latency"], "solver": {"solve_time": 2}}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def ray_start_stop() -> float:
    import os

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    t = time.perf_counter()
    ray.init(address="local", num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
             log_to_driver=False, configure_logging=False)
    ray.shutdown()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp_digits,cnn_digits")
    ap.add_argument("--out", default=str(RESULTS / "sweep.json"))
    args = ap.parse_args()
    from h3pc.files import write_file
    from h3pc.sweep.driver import run_sweep
    from h3pc.sweep.point import TIME_COLUMNS
    from h3pc.sweep.spec import load_spec

    models = args.models.split(",")
    results: dict[str, Any] = {"models": models, "axes": AXES, "mapping": "hybrid/cpsat", "runs": []}
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_spec(sweep_file(Path(tmp), models))
        n = len(spec.tasks())
        results["points"] = n
        for engine, jobs, label in progress.track(RUNS, f"sweep: {n} points, runs", unit="run"):
            out = Path(tmp) / label.replace(" ", "_").replace("-", "")
            t = time.perf_counter()
            outcome = run_sweep(spec, out, engine, jobs, "auto" if engine == "ray" else None, progress=None)
            wall = time.perf_counter() - t
            inside = sum(r["wall_s"] for r in outcome.rows)
            over = (wall * jobs - inside) / n
            results["runs"].append({"engine": label, "slots": jobs, "wall_s": round(wall, 2),
                                    "point_wall_sum_s": round(inside, 2), "overhead_per_point_s": round(over, 3),
                                    "failed": outcome.failed})
            tables.append([{k: v for k, v in r.items() if k not in TIME_COLUMNS} for r in outcome.rows])
            print(f"{label:<22} {n} points: wall {wall:6.1f} s, inside points {inside:6.1f} s, "
                  f"overhead {over:.3f} s/point, failed {outcome.failed}")
    results["rows_identical"] = all(t == tables[0] for t in tables)
    local2, ray2 = results["runs"][1], results["runs"][2]
    results["ray_vs_local_overhead_per_point_s"] = round(ray2["overhead_per_point_s"]
                                                         - local2["overhead_per_point_s"], 3)
    results["ray_vs_local_wall_ratio"] = round(ray2["wall_s"] / local2["wall_s"], 3)
    results["speedup_jobs2_vs_jobs1"] = round(results["runs"][0]["wall_s"] / local2["wall_s"], 3)
    results["ray_start_stop_s"] = round(ray_start_stop(), 2)
    print(f"rows identical on every engine: {results['rows_identical']}; --jobs 2 speed-up "
          f"{results['speedup_jobs2_vs_jobs1']}x; Ray vs local (2 workers): "
          f"wall x{results['ray_vs_local_wall_ratio']}, "
          f"overhead {results['ray_vs_local_overhead_per_point_s']:+.3f} s/point; bare Ray start+stop "
          f"{results['ray_start_stop_s']} s")
    write_file(args.out, json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
