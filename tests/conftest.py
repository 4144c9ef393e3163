"""Shared fixtures: where the development models are.

The twelve models live in the repository (`tests/models/`): four verbatim, eight as skeletons that
`tests/models/generate.py` refills with seeded weights into the user's cache folder on first use. `MODELS`
is that folder; `H3PC_MODELS` points the tests at another folder holding NAME.onnx + NAME.npz instead.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    """tests/models/generate.py, loaded by path: it is a script as well as a module, not a package."""
    spec = importlib.util.spec_from_file_location("h3pc_devmodels", ROOT / "tests" / "models" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _models() -> tuple[Path, str | None]:
    """The models' folder, and why it could not be built (reported once, as a usage error)."""
    if os.environ.get("H3PC_MODELS"):
        return Path(os.environ["H3PC_MODELS"]), None
    try:
        return GENERATOR.build(), None
    except OSError as exc:  # an unwritable cache folder, a full disk
        return GENERATOR.cache_root() / "devmodels", f"cannot build the development models there: {exc}"


GENERATOR = _generator()
MODELS, BUILD_ERROR = _models()
DEV_MODELS = sorted(p.stem for p in MODELS.glob("*.onnx")) if MODELS.is_dir() and not BUILD_ERROR else []


def model_path(name: str) -> Path:
    return MODELS / f"{name}.onnx"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not DEV_MODELS:
        why = BUILD_ERROR or "no development models found there"
        raise pytest.UsageError(f"{MODELS}: {why} (set XDG_CACHE_HOME, or H3PC_MODELS to a folder of models)")
