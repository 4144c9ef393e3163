"""What the benchmark scripts share: where the models are, where results go, and the RSS probe
their child processes run. The scripts import it as a sibling module (`python benchmarks/X.py`).

Models: the twelve development models are the tests' own (tests/models/, built into the user's cache by
tests/models/generate.py; $H3PC_MODELS overrides); the large ones (gpt2_small, vit_base, minilm_l6_real,
...) are made by `make models` into ${XDG_CACHE_HOME:-~/.cache}/h3pc/models ($H3PC_MODELS_EXTRA overrides).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _dev_models() -> Path:
    """$H3PC_MODELS, else the folder tests/models/generate.py builds (the same one the tests use)."""
    if os.environ.get("H3PC_MODELS"):
        return Path(os.environ["H3PC_MODELS"])
    spec = importlib.util.spec_from_file_location("h3pc_devmodels", ROOT / "tests" / "models" / "generate.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator.build()


def _extra_models() -> Path:
    """$H3PC_MODELS_EXTRA, else where `make models` (tools/make_models.py) writes by default."""
    if os.environ.get("H3PC_MODELS_EXTRA"):
        return Path(os.environ["H3PC_MODELS_EXTRA"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "h3pc" / "models"


DEV_MODELS = _dev_models()
EXTRA_MODELS = _extra_models()

#: source for a child process: rss_mb() is the resident set now (peak comes from getrusage)
RSS_MB = r"""
def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1]) / 1024
"""
