"""Shared fixtures: where the development models are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = Path(os.environ.get("H3PC_MODELS", ROOT.parent / "shared" / "models"))
DEV_MODELS = sorted(p.stem for p in MODELS.glob("*.onnx")) if MODELS.is_dir() else []


def model_path(name: str) -> Path:
    return MODELS / f"{name}.onnx"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not DEV_MODELS:
        raise pytest.UsageError(f"no development models found in {MODELS} (set H3PC_MODELS)")
