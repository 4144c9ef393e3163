"""What the benchmark scripts share: where the models are, where results go, and the RSS probe
their child processes run. The scripts import it as a sibling module (`python benchmarks/X.py`)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEV_MODELS = Path(os.environ.get("H3PC_MODELS", ROOT.parent / "shared" / "models"))
EXTRA_MODELS = Path(os.environ.get("H3PC_MODELS_EXTRA", "/work/models-extra"))

#: source for a child process: rss_mb() is the resident set now (peak comes from getrusage)
RSS_MB = r"""
def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1]) / 1024
"""
