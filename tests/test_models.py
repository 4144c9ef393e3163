"""Every development model imports, verifies, evaluates like onnxruntime, and round-trips as text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import DEV_MODELS, MODELS, model_path
from h3pc.frontend.importer import import_model
from h3pc.runtime.evaluate import NNProgram

BIN = Path(sys.executable).parent


def test_corpus_is_complete() -> None:
    assert len(DEV_MODELS) >= 12, f"expected the 12 development models in {MODELS}"


@pytest.mark.parametrize("name", DEV_MODELS)
def test_import_and_evaluate_matches_onnxruntime(name: str) -> None:
    imported = import_model(model_path(name))
    imported.module.verify()
    ref = np.load(MODELS / f"{name}.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    outs = NNProgram(imported.module, imported.weights).run(feeds)
    for key in (k for k in ref.files if k.startswith("out/")):
        want = ref[key]
        got = outs[key[4:]]
        assert got.shape == want.shape
        tol = 1e-4 * max(1.0, float(np.abs(want).max()))
        assert float(np.abs(got.astype(np.float64) - want).max()) <= tol, key


@pytest.mark.parametrize("name", DEV_MODELS)
def test_emitted_ir_reads_back_unchanged(name: str, tmp_path) -> None:
    """`h3pc --emit nn` output is a fixed point of `h3pc-opt` (separate processes, as a user runs them:
    xDSL keeps resource handles in process-global state, so an in-process re-parse would rename them)."""
    out = tmp_path / f"{name}.mlir"
    subprocess.run([str(BIN / "h3pc"), str(model_path(name)), "--emit", "nn", "--ir-out", str(out)], check=True)
    text = out.read_text()
    assert len(text) < 300_000, "weights must stay out of the IR text"
    again = subprocess.run([str(BIN / "h3pc-opt"), str(out)], check=True, capture_output=True, text=True).stdout
    assert again == text
