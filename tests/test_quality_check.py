"""Quality is never silent: the default check, the deviation from the exact run, and the one sample
layout that `--inputs` and `--calib` share."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import DEV_MODELS, model_path
from h3pc.compiler import compile_model
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import load_hardware, parse_hardware
from h3pc.quality import (DEFAULT_INT_BOUND, LABEL_KEYS, NOT_CHECKED, compare_ideal, compile_quality,
                          default_check, deviation, load_calib, program_inputs, random_inputs, sample_layout)
from h3pc.runtime.emulator import Emulator
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.partition import StageOneOptions


@pytest.fixture(scope="module")
def mlp():
    return compile_model(str(model_path("mlp_digits")), "hybrid", stage1=StageOneOptions("naive"))


def test_deviation_figures() -> None:
    ref = {"y": np.array([[3.0, -4.0]])}
    same = deviation(ref, {"y": ref["y"].copy()})["y"]
    assert same.snr_db == math.inf and same.cosine == pytest.approx(1.0) and same.max_rel_error == 0
    d = deviation(ref, {"y": np.array([[3.0, -3.0]])})["y"]
    assert d.snr_db == pytest.approx(10 * math.log10(25 / 1))
    assert d.cosine == pytest.approx((9 + 12) / (5 * math.sqrt(18)))
    assert d.max_rel_error == pytest.approx(1 / 4)
    assert json.dumps(same.to_json(), allow_nan=False)  # an exact match is null, not Infinity


def test_default_check_is_seeded_and_sees_the_noise(mlp) -> None:
    a, b = default_check(mlp.program, seed=3), default_check(mlp.program, seed=3)
    assert a.to_json() == b.to_json() and a.checked and a.how == "default"
    assert 5 < a.snr_db < 80 and 0.9 < a.cosine < 1.0
    d = load_hardware("h3pimap").to_dict()
    d["photonic"].update(in_bits=3, w_bits=3, output_noise_sigma=0.2)
    d["sram_pim"].update(input_bits=2, adc_bits=3)
    d["reram_pim"].update(input_bits=2, adc_bits=3)
    d["name"] = "coarse"
    worse = default_check(mlp.program, seed=3, hw=parse_hardware(d, "test"))
    assert worse.snr_db < a.snr_db - 3  # coarser converters: a visibly lower SNR
    line = a.line()
    assert line.startswith("quality: default check") and "SNR" in line and "cosine" in line
    rep = a.to_json()
    assert rep["inputs"] == {"x": "standard normal"} and set(rep["outputs"]) == {o["name"] for o in mlp.program.outputs}
    assert json.dumps(rep, allow_nan=False)


def test_token_ids_stay_within_the_table_they_index() -> None:
    name = next(m for m in ("gpt2_tiny", "charlm_llama", "llama_tiny") if m in DEV_MODELS)
    prog = compile_model(str(model_path(name)), "electronic").program
    feeds, how = random_inputs(prog, seed=0, samples=3)
    ((inp, ids),) = feeds.items()
    rows = min(t.shape[0] for t in prog.tensors if len(t.shape) == 2 and t.shape[0] > DEFAULT_INT_BOUND
               and t.shape[1] >= 16 and t.role == "const")  # the embedding table is among the constants
    assert ids.dtype.kind == "i" and ids.shape[0] == 3 and ids.min() >= 0
    assert "rows of the table it indexes" in how[inp]
    bound = int(how[inp].split("[0, ")[1].split(")")[0])
    assert ids.max() < bound and bound >= rows and ids.max() > DEFAULT_INT_BOUND  # not the small default
    Emulator(prog, ideal=True).run(feeds)  # valid ids: the exact run gathers without an index error


def test_compile_quality_says_not_checked_or_gives_figures(mlp) -> None:
    q = compile_quality(mlp, check=False)
    assert not q.checked and q.line() == f"quality: not checked ({NOT_CHECKED})"
    assert q.to_json() == {"checked": False, "how": "none", "reason": NOT_CHECKED}
    assert compile_quality(mlp, check=True).how == "default"
    calib = str(model_path("mlp_digits").with_suffix(".npz"))
    two = compile_model(str(model_path("mlp_digits")), "hybrid",
                        stage1=StageOneOptions(search=SearchOptions(), calib=calib, precision=False))
    q = compile_quality(two, check=True)  # --calib: the task metric, not the default check
    assert q.how == "calib" and q.to_json()["metric"] == "top1" and q.line().startswith("quality top1")


def test_compare_ideal(mlp) -> None:
    feeds, _ = random_inputs(mlp.program, 1, 2)
    exact = Emulator(mlp.program, ideal=True).run(feeds)[0]
    assert all(d.snr_db == math.inf for d in compare_ideal(mlp.program, feeds, exact).values())
    noisy = Emulator(mlp.program, seed=1).run(feeds)[0]
    dev = compare_ideal(mlp.program, feeds, noisy)
    assert all(0 < d.snr_db < math.inf and d.max_rel_error > 0 for d in dev.values())


# -- the one sample layout --------------------------------------------------------------------------
SIG = {"x": ((1, 4), "float32")}


def test_layouts_one_sample_stacked_and_without_the_batch_axis() -> None:
    one = sample_layout({"x": np.ones((1, 4), np.float32)}, SIG, "f.npz")
    assert not one.stacked and one.samples == 1 and one.feeds["x"].shape == (1, 4)
    stacked = sample_layout({"x": np.ones((5, 1, 4), np.float32)}, SIG, "f.npz")
    squeezed = sample_layout({"x": np.ones((5, 4), np.float64)}, SIG, "f.npz")  # float64: converted
    for s in (stacked, squeezed):
        assert s.stacked and s.samples == 5 and s.feeds["x"].shape == (5, 1, 4) and s.feeds["x"].dtype == np.float32
    with pytest.raises(H3pcError, match=r"'x' has shape \[5, 3\]; input 'x' takes \[1, 4\] \(one sample\), "
                                        r"\[S, 1, 4\] or \[S, 4\] \(S samples\)"):
        sample_layout({"x": np.ones((5, 3), np.float32)}, SIG, "f.npz")
    with pytest.raises(H3pcError, match="'x' has dtype int64, input 'x' takes float32"):
        sample_layout({"x": np.ones((5, 4), np.int64)}, SIG, "f.npz")
    two = {"a": ((1, 2), "float32"), "b": ((1, 2), "float32")}
    with pytest.raises(H3pcError, match="disagree on the sample count"):
        sample_layout({"a": np.ones((3, 2), np.float32), "b": np.ones((4, 2), np.float32)}, two, "f.npz")


def test_keys_labels_and_ignored() -> None:
    data = {"in/x": np.ones((1, 4), np.float32), "eval/x": np.zeros((7, 4), np.float32),
            "eval/y": np.arange(7), "out/logits": np.ones((1, 10), np.float32)}
    run = sample_layout(data, SIG, "c.npz", "inputs")  # h3pc-run --inputs: the one example
    assert not run.stacked and run.feeds["x"].max() == 1 and set(run.ignored) == {"eval/x", "out/logits"}
    assert "ignored eval/x, out/logits" in run.note("c.npz")
    cal = sample_layout(data, SIG, "c.npz", "calib")  # --calib: the evaluation set and its labels
    assert cal.samples == 7 and cal.feeds["x"].max() == 0 and cal.labels is not None and cal.ignored == ("in/x", "out/logits")
    assert list(LABEL_KEYS)[1] == "eval/y"
    with pytest.raises(H3pcError, match="no samples for input 'x' \\(keys tried: 'x', 'in/x', 'eval/x'; found y"):
        sample_layout({"y": np.ones((1, 4), np.float32)}, SIG, "c.npz", "inputs")


def test_calib_and_inputs_read_the_same_file_the_same_way(tmp_path, mlp) -> None:
    """The issue's case: --calib took [S, 64] while --inputs wanted [S, 1, 64]; both take both now."""
    sig = program_inputs(mlp.program)
    x = np.random.default_rng(0).standard_normal((6, 64)).astype(np.float32)
    for arr in (x, x[:, None, :]):
        np.savez(tmp_path / "s.npz", x=arr, labels=np.arange(6))
        calib = load_calib(tmp_path / "s.npz", sig)
        inputs = sample_layout(dict(np.load(tmp_path / "s.npz")), sig, "s.npz", "inputs")
        assert calib.samples == inputs.samples == 6
        np.testing.assert_array_equal(calib.feeds["x"], inputs.feeds["x"])
        Emulator(mlp.program, ideal=True).run(inputs.feeds)


def test_run_quality_for_h3pc_run(mlp) -> None:
    """h3pc-run's `quality`: not checked, --compare-ideal, --calib, or both, always the same key."""
    from h3pc.quality import Oracle, run_quality

    none = run_quality()
    assert none.to_json()["checked"] is False and none.lines() == ["quality: not checked (no --calib and no --compare-ideal)"]
    feeds, _ = random_inputs(mlp.program, 0, 3)
    noisy = Emulator(mlp.program).run(feeds)[0]
    dev = compare_ideal(mlp.program, feeds, noisy)
    cmp = run_quality(deviation_=dev, samples=3)
    rep = cmp.to_json()
    assert rep["how"] == "compare-ideal" and rep["samples"] == 3 and set(rep["outputs"]) == set(dev)
    assert [line.split(":")[1] for line in cmp.lines()] == [f" deviation from fp32, '{k}'" for k in dev]
    calib = load_calib(model_path("mlp_digits").with_suffix(".npz"), program_inputs(mlp.program))
    q = Oracle(calib.head(20), "top1").measure(mlp.program)
    both = run_quality(q, dev, 3)
    j = both.to_json()
    assert j["how"] == "calib+compare-ideal" and j["metric"] == "top1" and j["samples"] == 20 and j["deviation_samples"] == 3
    assert len(both.lines()) == 1 + len(dev) and json.dumps(j, allow_nan=False)


def test_the_drivers_say_whether_quality_was_checked(tmp_path, capsys) -> None:
    """h3pc prints and reports quality after every compile (checked by default, or why not);
    h3pc-run's report always has the key and --compare-ideal gives the deviation per output."""
    from h3pc.cli import main as h3pc_main
    from h3pc.run import main as run_main

    prog, est = tmp_path / "p.bin", tmp_path / "e.json"
    args = [str(model_path("mlp_digits")), "-o", str(prog), "--report", str(est), "--mapping", "naive"]
    assert h3pc_main(args) == 0
    out = capsys.readouterr().out
    assert "quality: default check" in out.splitlines()[-1]  # the last word, after the cost summary
    q = json.loads(est.read_text())["quality"]
    assert q["checked"] and q["how"] == "default" and q["snr_db"] > 20
    assert h3pc_main([*args, "--no-check-quality"]) == 0
    assert "quality: not checked (--no-check-quality" in capsys.readouterr().out
    assert json.loads(est.read_text())["quality"] == {"checked": False, "how": "none", "reason": NOT_CHECKED}

    rep = tmp_path / "r.json"
    feeds = tmp_path / "x.npz"
    np.savez(feeds, x=np.random.default_rng(0).random((4, 1, 64), np.float32))
    assert run_main([str(prog), "--inputs", str(feeds), "--report", str(rep), "-q"]) == 0
    assert json.loads(rep.read_text())["quality"]["checked"] is False
    assert run_main([str(prog), "--inputs", str(feeds), "--report", str(rep), "--compare-ideal"]) == 0
    assert "deviation from fp32, 'logits'" in capsys.readouterr().out.splitlines()[-1]
    q = json.loads(rep.read_text())["quality"]
    assert q["how"] == "compare-ideal" and 0.99 < q["outputs"]["logits"]["cosine"] <= 1.0
    assert run_main([str(prog), "--inputs", str(feeds), "--report", str(rep), "-q", "--compare-ideal",
                     "--ideal"]) == 0  # the exact run against itself
    assert json.loads(rep.read_text())["quality"]["outputs"]["logits"]["snr_db"] is None  # infinite: identical


def test_extra_calib_keys_are_ignored_with_a_note(tmp_path, capsys) -> None:
    """The corpus format's calibration file: --calib reads eval/x and the labels eval/y; the one example
    (in/x) and the expected outputs (out/logits) are ignored, and h3pc and h3pc-run say so, as for --inputs."""
    from h3pc.cli import main as h3pc_main
    from h3pc.run import main as run_main

    calib = str(model_path("mlp_digits").with_suffix(".npz"))
    assert set(np.load(calib).files) >= {"in/x", "eval/x", "eval/y", "out/logits"}
    prog = tmp_path / "p.bin"
    assert h3pc_main([str(model_path("mlp_digits")), "-o", str(prog), "--mapping", "naive", "--no-precision",
                      "--calib", calib]) == 0
    assert f"note: {calib}: ignored in/x, out/logits" in capsys.readouterr().err
    assert run_main([str(prog), "--calib", calib, "--metric", "top1"]) == 0
    assert f"note: {calib}: ignored in/x, out/logits" in capsys.readouterr().err


def test_default_check_is_skipped_with_its_reason_on_huge_tensors(mlp, monkeypatch) -> None:
    """A program whose tensors take gigabytes compiles; the check would allocate them twice, so it is
    skipped and the report says why instead of running out of memory."""
    import h3pc.quality as quality

    monkeypatch.setattr(quality, "CHECK_MAX_TENSOR_BYTES", 1024)
    q = compile_quality(mlp, True)
    assert not q.checked and "default check was skipped" in q.reason


def test_a_program_with_a_huge_tensor_compiles_and_says_why_quality_was_not_checked(tmp_path) -> None:
    """A Resize of the run-time input to 1.6e9 elements: nothing is folded, the compile never builds the
    tensor (it runs under a 3 GiB address-space cap), and the default check is skipped with its reason
    instead of allocating 6.4 GB twice."""
    import subprocess
    import sys

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = helper.make_graph([helper.make_node("Resize", ["x", "", "", "sz"], ["y"], name="rsz")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.array([1, 1, 40_000, 40_000], np.int64), "sz")])
    m = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), m)
    cap = "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)); "
    code = cap + "from h3pc.cli import main; sys.exit(main(sys.argv[1:]))"
    res = subprocess.run([sys.executable, "-c", code, str(m), "-o", str(tmp_path / "p.bin"), "--target",
                          "electronic"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "quality: not checked (the default check was skipped: a tensor of the program takes 6.0 GiB" in res.stdout
