"""Peak memory of compiling and emulating the large models, as a user runs them (the CLIs, each in a
fresh process), against the size of the .onnx file.

    python benchmarks/memory.py [--models gpt2_small,vit_base] [--out benchmarks/results/memory.json]

Per model (from the large-model folder: `make models` writes ${XDG_CACHE_HOME:-~/.cache}/h3pc/models,
$H3PC_MODELS_EXTRA overrides):
  * compile: `h3pc MODEL.onnx -o program.bin --target hybrid` (stage one's CP-SAT split);
  * emulate: `h3pc-run program.bin --inputs MODEL.npz --outputs y.npz`, once `--ideal` and once with
    the default number formats and noise.
Each phase's peak is the child's own ru_maxrss (os.wait4), so the phases do not mask each other.
Target (issue 6): every phase under 3x the model file size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from h3pc import progress

from common import EXTRA_MODELS, RESULTS

TARGET = 3.0  # peak RSS / .onnx file size
BIN = Path(sys.executable).parent


def measured(argv: list[str]) -> dict[str, Any]:
    """Run a command; its wall time, exit code and peak resident set (MiB)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace").strip()  # before waiting: a full pipe would block the child
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # file names only: the results file is committed, and a machine's paths say nothing about the run
    shown = [Path(argv[0]).name] + [Path(x).name if os.sep in x else x for x in argv[1:]]
    return {"argv": shown, "wall_s": time.perf_counter() - t,
            "exit": proc.returncode, "peak_mb": usage.ru_maxrss / 1024, "stderr": err.splitlines()[-1:] or []}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="gpt2_small,vit_base")
    ap.add_argument("--out", default=str(RESULTS / "memory.json"))
    args = ap.parse_args()
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        for name in progress.track(args.models.split(","), "memory: models", unit="model"):
            model = EXTRA_MODELS / f"{name}.onnx"
            if not model.exists():
                print(f"{name}: skipped, {model} not found (`make models` makes it)")
                continue
            file_mb = model.stat().st_size / 2**20  # MiB, as ru_maxrss / 1024 is
            prog, out = Path(tmp) / f"{name}.bin", Path(tmp) / f"{name}.npz"
            phases = {"compile": measured([str(BIN / "h3pc"), str(model), "-o", str(prog), "--target", "hybrid"])}
            for mode, extra in (("emulate --ideal", ["--ideal"]), ("emulate", [])):
                phases[mode] = measured([str(BIN / "h3pc-run"), str(prog), "--inputs", str(model.with_suffix(".npz")),
                                         "--outputs", str(out)] + extra)
            row = {"model": name, "file_mb": file_mb, "program_mb": prog.stat().st_size / 2**20 if prog.exists() else None,
                   "phases": phases}
            for phase, r in phases.items():
                r["over_file"] = r["peak_mb"] / file_mb
                ok = r["exit"] == 0 and r["over_file"] < TARGET
                failed |= not ok
                print(f"{name:12s} {phase:16s} peak {r['peak_mb']:7.0f} MiB = {r['over_file']:.2f}x the "
                      f"{file_mb:.0f} MiB file, {r['wall_s']:6.1f} s  {'PASS' if ok else 'FAIL'}"
                      + (f"  ({r['stderr'][0]})" if r["exit"] else ""))
            rows.append(row)
    if not rows:  # nothing measured: keep the results file as it was
        print("no model measured")
        return 1
    Path(args.out).write_text(json.dumps({"target_over_file": TARGET, "cpus": os.cpu_count(), "models": rows},
                                         indent=1) + "\n")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
