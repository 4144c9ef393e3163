"""Import time and peak memory per model (ONNX -> verified nn module), each in a fresh process.

    python benchmarks/import.py [MODEL_DIR ...] [--json out.json]

Default folders: the development models (benchmarks/common.py) and, when `make models` has made them,
the large models in its folder (${XDG_CACHE_HOME:-~/.cache}/h3pc/models; $H3PC_MODELS_EXTRA overrides).
Targets (issue 2): < 2 s per 100 MB of weights; peak RSS < 2x the file size. Peak RSS includes the
interpreter and libraries (`base`), so the model's own cost is `peak - base`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RSS_MB

CHILD = RSS_MB + r"""
import json, resource, sys, time
import numpy, onnx, xdsl.dialects.builtin
from h3pc.frontend.importer import import_model
import h3pc.frontend.ops
base = rss_mb()
t = time.perf_counter()
m = import_model(sys.argv[1])
m.module.verify()
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ops = sum(1 for _ in m.func.body.block.ops)
print(json.dumps({"import_s": dt, "peak_mb": peak, "base_mb": base, "nn_ops": ops,
                  "weights_mb": m.weights.nbytes / 1e6}))
"""


def measure(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"model": path.stem, "error": proc.stderr.strip().splitlines()[-1]}
    r = json.loads(proc.stdout)
    size = path.stat().st_size / 1e6
    r.update(model=path.stem, file_mb=size,
             s_per_100mb=r["import_s"] / max(size, 1e-9) * 100,
             peak_over_file=r["peak_mb"] / size, model_rss_over_file=(r["peak_mb"] - r["base_mb"]) / size)
    return r


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="*", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    dirs = args.dirs or [DEV_MODELS] + ([EXTRA_MODELS] if EXTRA_MODELS.is_dir() else [])
    paths = [p for d in dirs for p in sorted(d.glob("*.onnx"))]
    rows = [measure(p) for p in progress.track(paths, "import: models", unit="model")]
    print(f"{'model':26} {'file MB':>8} {'import s':>9} {'s/100MB':>8} {'peak MB':>8} {'base MB':>8} "
          f"{'peak/file':>9} {'(peak-base)/file':>16} {'nn ops':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:26} ERROR {r['error']}")
            continue
        print(f"{r['model']:26} {r['file_mb']:8.1f} {r['import_s']:9.3f} {r['s_per_100mb']:8.2f} {r['peak_mb']:8.0f} "
              f"{r['base_mb']:8.0f} {r['peak_over_file']:9.2f} {r['model_rss_over_file']:16.2f} {r['nn_ops']:7d}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
