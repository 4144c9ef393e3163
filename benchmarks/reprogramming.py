"""What letting PIM tiers stream weights (`allow_reprogramming`) buys and costs, per model.

    python benchmarks/reprogramming.py [--models SUBSTR] [--solve-time S] [--scale F]
                                       [--out benchmarks/results/reprogramming.json]

Hardware: h3pimap with both PIM tiers' tiles scaled by `--scale` (default 1: the preset; gpt2_small's
124 M weights then overflow the 78 M the PIM tiers hold), in three variants: no reprogramming (the
paper's setting: capacity is a hard limit), SRAM-PIM may reprogram, and both PIM tiers may. Per model
and variant, the cpsat min-latency and min-energy points (a 4-point front): latency, energy, layers
with a streamed part, cells written per inference and the inferences until the most-written crossbar
reaches its tier's endurance (ReRAM 1e6 writes, hardware-model.md b.2; SRAM endurance is not
modelled). The min-latency point is compiled and its program's estimate checked against the
prediction (they must agree within 2%).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RESULTS

MODELS = ["gpt2_tiny", "llama_tiny", "vit_tiny", "mobilenet_v2", "gpt2_small"]
VARIANTS = {"none": (), "sram": ("sram_pim",), "both": ("sram_pim", "reram_pim")}


def model_path(name: str) -> Path:
    return (EXTRA_MODELS if name == "gpt2_small" else DEV_MODELS) / f"{name}.onnx"


def hardware(scale: float, reprogram: tuple[str, ...]):
    from h3pc.hardware.schema import load_hardware, parse_hardware

    d = load_hardware("h3pimap").to_dict()
    for t in ("sram_pim", "reram_pim"):
        d[t]["tiles"] = max(1, round(d[t]["tiles"] * scale))
        d[t]["allow_reprogramming"] = t in reprogram
    d["name"] = f"h3pimap-pim{scale:g}-reprogram-{'+'.join(reprogram) or 'none'}"
    return parse_hardware(d, "benchmark")


def run(name: str, variant: str, scale: float, solve_time: float) -> dict[str, Any]:
    from h3pc.compiler import compile_model
    from h3pc.frontend.importer import import_model
    from h3pc.runtime.emulator import estimate
    from h3pc.transforms.stage1.cpsat import SolverOptions
    from h3pc.transforms.stage1.mappings import SearchOptions, cpsat_front, pick
    from h3pc.transforms.stage1.partition import StageOneOptions
    from h3pc.transforms.stage1.problem import build_problem

    hw = hardware(scale, VARIANTS[variant])
    imported = import_model(str(model_path(name)), {})
    problem = build_problem(imported.module, imported.weights, hw)
    solver = SolverOptions(time_limit_s=solve_time, workers=2, seed=0, progress=False)
    t = time.perf_counter()
    try:
        front = cpsat_front(problem, SearchOptions(points=4, solver=solver))
    except Exception as exc:  # an infeasible variant is a result, not a crash
        return {"model": name, "variant": variant, "error": str(exc)}
    wall = time.perf_counter() - t
    row: dict[str, Any] = {"model": name, "variant": variant, "hardware": hw.name, "wall_s": wall,
                           "weights_crossbars": {}, "capacity": problem.capacity}
    for how in ("latency", "energy"):
        p = pick(front, how)
        wear = problem.wear(p.chunks, p.streams)
        row[f"min_{how}"] = {
            "latency_s": p.latency_s, "energy_j": p.energy_j, "status": p.solve.status if p.solve else None,
            "streamed_layers": sum(1 for s in (p.streams or []) if s),
            "rows_on": {t: sum(s.get(t, 0) * layer.chunk for s, layer in zip(p.chunks, problem.layers))
                        for t in problem.names},
            "cells_written_per_inference": {t: w["cells_written"] for t, w in wear.items()},
            "inferences_to_wear_out": {t: w["inferences_to_wear_out"] for t, w in wear.items()},
        }
    # the chosen point compiled: prediction = the program's own estimate
    c = compile_model(str(model_path(name)), "hybrid", hw=hw,
                      stage1=StageOneOptions(search=SearchOptions(points=1, solver=solver)))
    rep = estimate(c.program)
    row["compiled"] = {"predicted_s": c.stage1.chosen.latency_s, "estimated_s": rep["latency_s"],
                       "predicted_j": c.stage1.chosen.energy_j, "estimated_j": rep["energy_j"],
                       "worst_crossbar_writes": rep["worst_crossbar_writes"],
                       "inferences_to_wear_out": rep["inferences_to_wear_out"]}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="", help="only models whose name contains this")
    ap.add_argument("--solve-time", type=float, default=4.0, help="cpsat budget per front (s)")
    ap.add_argument("--scale", type=float, default=1.0, help="PIM tiles x this")
    ap.add_argument("--out", default=str(RESULTS / "reprogramming.json"))
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in progress.track(MODELS, "reprogramming: models", unit="model"):
        if args.models not in name:
            continue
        if not model_path(name).exists():
            print(f"{name}: skipped ({model_path(name)} not found)")
            continue
        for variant in VARIANTS:
            row = run(name, variant, args.scale, args.solve_time)
            rows.append(row)
            if "error" in row:
                print(f"{name:12s} {variant:5s} {row['error']}")
                continue
            for how in ("latency", "energy"):
                p = row[f"min_{how}"]
                wear = p["inferences_to_wear_out"]["reram_pim"]
                print(f"{name:12s} {variant:5s} min-{how:7s} {p['latency_s'] * 1e6:10.1f} us "
                      f"{p['energy_j'] * 1e6:10.2f} uJ  streamed layers {p['streamed_layers']:3d}  "
                      f"cells/inf sram {p['cells_written_per_inference']['sram_pim']:.3g} "
                      f"reram {p['cells_written_per_inference']['reram_pim']:.3g}  "
                      f"ReRAM wear-out {'-' if wear is None else f'{wear:.3g} inferences'}  "
                      f"[{p['status']}]")
            c = row["compiled"]
            print(f"{'':18s} compiled: predicted {c['predicted_s'] * 1e6:.1f} us, program "
                  f"{c['estimated_s'] * 1e6:.1f} us ({c['estimated_s'] / c['predicted_s']:.4f}); "
                  f"{c['predicted_j'] * 1e6:.2f} / {c['estimated_j'] * 1e6:.2f} uJ; front {row['wall_s']:.1f} s")
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
