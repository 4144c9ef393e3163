"""How far each tier's number formats move the outputs: quantised emulation vs onnxruntime's reference.

For every dev model and target, compiles, emulates with the default (quantised) number formats and
with --ideal, and prints max|diff| / max(1, max|ref|) against the reference outputs stored with the
model. Writes benchmarks/results/deviation.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from h3pc import progress
from h3pc.compiler import compile_model
from h3pc.runtime.emulator import Emulator
from h3pc.backends.tiers import targets

from common import DEV_MODELS, RESULTS

TARGETS = list(targets())


def rel_err(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> float:
    return max(float(np.abs(got[k].astype(np.float64) - w).max()) / max(1.0, float(np.abs(w).max()))
               for k, w in want.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(DEV_MODELS))
    ap.add_argument("--out", default=str(RESULTS / "deviation.json"))
    args = ap.parse_args()
    rows = []
    print(f"{'model':<24}" + "".join(f"{t:>12}" for t in TARGETS) + "   (quantised; --ideal worst shown last)")
    paths = sorted(Path(args.models).glob("*.onnx"))
    for path in progress.track(paths, "deviation: models", unit="model"):
        ref = np.load(path.with_suffix(".npz"))
        feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
        want = {k[4:]: ref[k] for k in ref.files if k.startswith("out/")}
        errs, ideal_worst = {}, 0.0
        for target in TARGETS:
            prog = compile_model(str(path), target).program
            errs[target] = rel_err(Emulator(prog).run(feeds)[0], want)
            ideal_worst = max(ideal_worst, rel_err(Emulator(prog, ideal=True).run(feeds)[0], want))
        rows.append({"model": path.stem, "quantized": errs, "ideal_worst": ideal_worst})
        print(f"{path.stem:<24}" + "".join(f"{errs[t]:>12.2e}" for t in TARGETS) + f"   {ideal_worst:.1e}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
