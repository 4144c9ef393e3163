"""The development models the repository carries: verbatim ones unchanged, generated ones sane and stable."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import GENERATOR as G

MANIFEST = json.loads((G.HERE / "manifest.json").read_text())["models"]


def test_manifest_names_every_model_once() -> None:
    assert sorted(MANIFEST) == sorted(G.VERBATIM + G.GENERATED)
    assert {n for n, e in MANIFEST.items() if e["weights"] == "verbatim"} == set(G.VERBATIM)


@pytest.mark.parametrize("name", G.VERBATIM)
def test_verbatim_models_are_the_originals(name: str) -> None:
    assert hashlib.sha256((G.HERE / f"{name}.onnx").read_bytes()).hexdigest() == MANIFEST[name]["sha256"]


@pytest.mark.parametrize("name", G.GENERATED)
def test_skeleton_keeps_no_weight_payload(name: str) -> None:
    """Every float tensor left in a skeleton is one the rule keeps (small, mask-like or non-finite)."""
    model = onnx.load(G.SKELETONS / f"{name}.onnx")
    removed = 0
    for key, t in G._tensors(model):
        if G.FILL_TAG in t.doc_string:
            removed += 1
            assert not t.raw_data and not t.float_data, key
        else:
            assert not G._removable(numpy_helper.to_array(t)), f"{name}: {key} should have been removed"
    assert removed > 0


@pytest.mark.parametrize("name", G.GENERATED)
def test_refilled_tensors_have_their_recorded_moments(name: str) -> None:
    model = G.refill(name)
    skeleton = {key: t for key, t in G._tensors(onnx.load(G.SKELETONS / f"{name}.onnx"))}
    for key, t in G._tensors(model):
        if G.FILL_TAG not in skeleton[key].doc_string:
            continue
        spec = json.loads(skeleton[key].doc_string)
        a = numpy_helper.to_array(t).astype(np.float64)
        assert a.shape == tuple(skeleton[key].dims)
        if "axis0_std" in spec:
            rows = a.reshape(a.shape[0], -1)
            np.testing.assert_allclose(rows.std(1), spec["axis0_std"], rtol=1e-4, atol=1e-7)
            np.testing.assert_allclose(rows.mean(1), spec["axis0_mean"], rtol=1e-4, atol=1e-6)
        else:
            assert a.std() == pytest.approx(spec["std"], rel=1e-4)
            assert a.mean() == pytest.approx(spec["mean"], rel=1e-3, abs=1e-6)


def test_refill_is_deterministic() -> None:
    assert G.refill("onnxscript_block").SerializeToString() == G.refill("onnxscript_block").SerializeToString()


@pytest.mark.parametrize("name", G.GENERATED)
def test_generated_outputs_are_sane(name: str) -> None:
    """Finite, and spread like the original weights' output (within a factor of two): a regenerated
    network that collapses or blows up would make every numeric test on it meaningless."""
    folder = G.build()
    with np.load(folder / f"{name}.npz") as z:
        outs = [z[k] for k in z.files if k.startswith("out/")]
        assert outs and all(k.startswith(("in/", "out/")) for k in z.files)
    for out in outs:
        assert np.isfinite(out).all()
        assert 0.5 <= float(out.std()) / MANIFEST[name]["out_std"] <= 2.0


def test_concurrent_builds_agree(tmp_path: Path) -> None:
    """Two processes filling an empty cache at once both succeed with the same complete folder."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    cmd = [sys.executable, str(G.HERE / "generate.py"), "build"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    folders = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and folders[0] == folders[1]
    built = Path(folders[0])
    assert built.parent == tmp_path / "h3pc" / "devmodels" and (built / "complete").is_file()
    assert sorted(p.stem for p in built.glob("*.onnx")) == sorted(G.VERBATIM + G.GENERATED)
    assert [p.name for p in built.parent.iterdir()] == [built.name]  # no temporary folder left behind
    for name in G.GENERATED:
        assert (built / f"{name}.onnx").read_bytes() == (G.build() / f"{name}.onnx").read_bytes()
