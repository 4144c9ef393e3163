"""Stage one against the paper's baselines, per model.

    python benchmarks/partition.py [--models SUBSTR] [--solve-time S] [--out benchmarks/results/partition.json]

Models: gpt2_tiny, llama_tiny, vit_tiny, mobilenet_v2, efficientnet_lite0_real from the development
models (benchmarks/common.py; $H3PC_MODELS overrides) and gpt2_small from the large-model folder (`make
models`, ${XDG_CACHE_HOME:-~/.cache}/h3pc/models; $H3PC_MODELS_EXTRA overrides; skipped with a note when
absent).

Per model, latency and energy of:
  * the four homogeneous targets (`--target photonic|sram-pim|reram-pim|electronic`, compiled; the
    compiler's estimate, which the emulator reproduces exactly);
  * naive (the paper's equal split) and the best of 100 random valid splits (seed 0), by latency;
  * the cpsat front (8 points: min-latency, knee, min-energy and epsilon points), with its wall time;
  * nsga2 (pymoo, population 40, random start) for the same wall time as the cpsat sweep.
The hypervolume of the cpsat and nsga2 fronts uses one reference point, 1.1x the worst latency and
energy over both fronts, in objectives normalised by it (1.0 = the whole box). One PNG per model
(`partition_<model>.png` beside the JSON) plots every point and both fronts.

Targets (PASS/FAIL lines): cpsat hypervolume >= nsga2's on every model; the whole gpt2_small front
in under 60 s; and, printed per model, the speedup of the cpsat min-latency point over the best
homogeneous target.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RESULTS

MODELS = ["gpt2_tiny", "llama_tiny", "vit_tiny", "mobilenet_v2", "efficientnet_lite0_real", "gpt2_small"]
HOMOGENEOUS = ("photonic", "sram-pim", "reram-pim", "electronic")
FRONT_TARGET_S = 60.0  # gpt2_small's whole front


def model_path(name: str) -> Path:
    return (EXTRA_MODELS if name == "gpt2_small" else DEV_MODELS) / f"{name}.onnx"


def hypervolume(front: list[tuple[float, float]], ref: tuple[float, float]) -> float:
    """Area a 2-objective front dominates inside the box [0, ref], normalised to the box (pymoo's HV)."""
    import numpy as np
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=np.ones(2))(np.array([(lat / ref[0], e / ref[1]) for lat, e in front])))


def run_model(name: str, solve_time: float) -> dict[str, Any]:
    from h3pc.compiler import compile_model
    from h3pc.frontend.importer import import_model
    from h3pc.hardware.schema import load_hardware
    from h3pc.runtime.emulator import estimate
    from h3pc.transforms.stage1.cpsat import SolverOptions
    from h3pc.transforms.stage1.mappings import SearchOptions, cpsat_front, naive, pick, random_search
    from h3pc.transforms.stage1.nsga2 import nsga2
    from h3pc.transforms.stage1.problem import build_problem

    path = str(model_path(name))
    row: dict[str, Any] = {"model": name}
    for target in HOMOGENEOUS:
        rep = estimate(compile_model(path, target).program)
        row[target] = {"latency_s": rep["latency_s"], "energy_j": rep["energy_j"]}
    imported = import_model(path, {})
    t = time.perf_counter()
    problem = build_problem(imported.module, imported.weights, load_hardware("h3pimap"))
    row["tables_s"] = time.perf_counter() - t
    row["layers"] = len(problem.layers)

    def pt(p) -> dict[str, Any]:
        return {"latency_s": p.latency_s, "energy_j": p.energy_j,
                **({"status": p.solve.status, "gap": p.solve.gap} if p.solve else {})}

    solver = SolverOptions(time_limit_s=solve_time, workers=2, seed=0, progress=False)
    row["naive"] = pt(naive(problem, SearchOptions())[0])
    t = time.perf_counter()
    row["random100"] = pt(random_search(problem, SearchOptions(samples=100, seed=0))[0])
    row["random100"]["wall_s"] = time.perf_counter() - t
    t = time.perf_counter()
    front = cpsat_front(problem, SearchOptions(points=8, solver=solver))
    cp_wall = time.perf_counter() - t
    row["cpsat"] = {"wall_s": cp_wall, "front": [pt(p) | {"label": p.label} for p in front],
                    "min_latency": pt(pick(front, "latency")), "knee": pt(pick(front, "knee")),
                    "min_energy": pt(pick(front, "energy"))}
    t = time.perf_counter()
    ga = nsga2(problem, SearchOptions(seed=0, solver=SolverOptions(time_limit_s=cp_wall)))
    row["nsga2"] = {"wall_s": time.perf_counter() - t, "front": [pt(p) for p in ga],
                    "min_latency": pt(pick(ga, "latency")), "evaluations": ga[0].extra.get("evaluations"),
                    "generations": ga[0].extra.get("generations")}
    both = [(p.latency_s, p.energy_j) for p in front + ga]
    ref = (1.1 * max(x for x, _ in both), 1.1 * max(y for _, y in both))
    row["hypervolume"] = {"reference": ref,
                          "cpsat": hypervolume([(p.latency_s, p.energy_j) for p in front], ref),
                          "nsga2": hypervolume([(p.latency_s, p.energy_j) for p in ga], ref)}
    best = min(HOMOGENEOUS, key=lambda t: row[t]["latency_s"])
    row["best_homogeneous"] = best
    row["speedup"] = row[best]["latency_s"] / row["cpsat"]["min_latency"]["latency_s"]
    row["energy_ratio"] = row["cpsat"]["min_latency"]["energy_j"] / row[best]["energy_j"]
    return row


def plot(row: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for target in HOMOGENEOUS:
        ax.scatter(row[target]["latency_s"] * 1e3, row[target]["energy_j"] * 1e3, marker="s", label=target)
    for key, marker in (("naive", "^"), ("random100", "v")):
        ax.scatter(row[key]["latency_s"] * 1e3, row[key]["energy_j"] * 1e3, marker=marker, label=key)
    for key, style in (("nsga2", "o--"), ("cpsat", "D-")):
        pts = sorted((p["latency_s"] * 1e3, p["energy_j"] * 1e3) for p in row[key]["front"])
        ax.plot([x for x, _ in pts], [y for _, y in pts], style, ms=4,
                label=f"{key} front (HV {row['hypervolume'][key]:.3f})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("energy (mJ)")
    ax.set_title(f"{row['model']}: stage one vs baselines ({row['layers']} layers)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="", help="only models whose name contains this")
    ap.add_argument("--solve-time", type=float, default=10.0, help="cpsat sweep budget (s), nsga2 gets its wall time")
    ap.add_argument("--out", default=str(RESULTS / "partition.json"))
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in progress.track(MODELS, "partition: models", unit="model"):
        if args.models not in name:
            continue
        if not model_path(name).exists():
            print(f"{name}: skipped ({model_path(name)} not found; `make models` makes it)")
            continue
        row = run_model(name, args.solve_time)
        plot(row, out.with_name(f"partition_{name}.png"))
        rows.append(row)
        c, g = row["cpsat"], row["nsga2"]
        print(f"{name}: {row['layers']} layers")
        for t in HOMOGENEOUS + ("naive", "random100"):
            print(f"  {t:12s} {row[t]['latency_s'] * 1e6:11.1f} us {row[t]['energy_j'] * 1e6:11.1f} uJ")
        for label in ("min_latency", "knee", "min_energy"):
            p = c[label]
            print(f"  cpsat {label:11s} {p['latency_s'] * 1e6:8.1f} us {p['energy_j'] * 1e6:11.1f} uJ  "
                  f"({p.get('status', '-')}, gap {p.get('gap') or 0:.3f})")
        print(f"  cpsat front {len(c['front'])} points in {c['wall_s']:.1f} s; nsga2 {len(g['front'])} points, "
              f"{g['evaluations']} evaluations in {g['wall_s']:.1f} s, fastest {g['min_latency']['latency_s'] * 1e6:.1f} us")
        hv = row["hypervolume"]
        print(f"  hypervolume cpsat {hv['cpsat']:.4f} vs nsga2 {hv['nsga2']:.4f}: "
              f"{'PASS' if hv['cpsat'] >= hv['nsga2'] else 'FAIL'}")
        print(f"  speedup over best homogeneous ({row['best_homogeneous']}): {row['speedup']:.2f}x latency, "
              f"energy x{row['energy_ratio']:.3f}")
        if name == "gpt2_small":
            ok = c["wall_s"] < FRONT_TARGET_S
            print(f"  gpt2_small front in {c['wall_s']:.1f} s (target < {FRONT_TARGET_S:.0f} s): {'PASS' if ok else 'FAIL'}")
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
