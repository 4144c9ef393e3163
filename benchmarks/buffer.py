"""The global-buffer plan on every dev model and gpt2_small: peak use, staging, spills, what double
buffering buys, and what planning costs in compile time.

    python benchmarks/buffer.py [--models SUBSTR] [--out benchmarks/results/buffer.json]

Per model, the hybrid target with the placement rule (`--mapping rule`, so no solver time is mixed
in) on h3pimap (2 MiB buffer, prefetch depth 2) and on the same with prefetch depth 0 (no staging:
every weight read straight from off-chip by its load, as before buffer planning): latency and energy
per inference, the plan's peak address and live bytes, weights staged, tensors and bytes spilled,
and the planning time (plan_buffer alone, after code generation).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RESULTS


def main() -> None:
    from h3pc.backends.codegen import generate
    from h3pc.backends.plan_buffer import plan_buffer
    from h3pc.compiler import compile_model
    from h3pc.hardware.schema import load_hardware
    from h3pc.runtime.emulator import estimate
    from h3pc.transforms.stage1.partition import StageOneOptions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="")
    ap.add_argument("--out", default=str(RESULTS / "buffer.json"))
    args = ap.parse_args()
    models = sorted(DEV_MODELS.glob("*.onnx")) + [EXTRA_MODELS / "gpt2_small.onnx"]
    base = load_hardware("h3pimap")
    no_prefetch = dataclasses.replace(base, memory=dataclasses.replace(base.memory, prefetch_depth=0))
    rows = []
    print(f"  {'model':<24} {'latency us':>11} {'(depth 0)':>11} {'energy uJ':>10} {'peak KiB':>9} "
          f"{'staged':>7} {'spilled KiB':>11} {'plan s':>7}")
    for path in progress.track(models, "buffer: models", unit="model"):
        if args.models not in path.stem or not path.exists():
            continue
        c = compile_model(str(path), "hybrid", stage1=StageOneOptions("rule"), codegen=False)
        raw = generate(c.imported.module, c.imported.weights, base, plan=False)
        t = time.perf_counter()
        prog = plan_buffer(raw)
        plan_s = time.perf_counter() - t
        est = estimate(prog)
        est0 = estimate(compile_model(str(path), "hybrid", hw=no_prefetch, stage1=StageOneOptions("rule")).program)
        b = est["buffer_plan"]
        row = {"model": path.stem, "latency_s": est["latency_s"], "energy_j": est["energy_j"],
               "latency_depth0_s": est0["latency_s"], "energy_depth0_j": est0["energy_j"], "plan_s": plan_s,
               "instructions": sum(len(s) for s in prog.streams.values()), **b}
        rows.append(row)
        print(f"  {path.stem:<24} {row['latency_s'] * 1e6:>11.1f} {row['latency_depth0_s'] * 1e6:>11.1f} "
              f"{row['energy_j'] * 1e6:>10.1f} {b['peak_bytes'] / 1024:>9.0f} {b['staged_weights']:>7} "
              f"{b['spilled_bytes'] / 1024:>11.0f} {plan_s:>7.2f}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
