"""What a hostile ONNX model can make the frontend do: read files outside its folder, allocate without
limit while shapes are inferred and constants folded, compile a program the runtime cannot run, or print
more than one line. The hostile cases themselves are a table (tests/hostile_models.py), run here directly
and by tests/test_hostile.py's runner; the rest tests the pieces: the one external-data reader, the size
bounds of folding, and the native-stderr guard.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import hostile_models as hm
from h3pc.cli import main as h3pc_main
from h3pc.diagnostics import H3pcError
from h3pc.frontend import folding
from h3pc.frontend.loader import LoadedModel, external_tensors, load_onnx
from h3pc.frontend.native import quiet_stderr
from h3pc.frontend.weights import WeightStore

#: address-space cap of a subprocess case; a compile of a tiny model peaks far below it
AS_CAP = 2 << 30
N = helper.make_node

# Every Python-level open (builtins.open, os.open, np.memmap, ...) of a watched path fails the test that set
# it: the canary's bytes must never be read, and an audit hook sees opens that a FIFO canary would not
# (a regular file opens without blocking). Hooks cannot be removed, so one hook reads a mutable set.
_WATCHED: set[str] = set()
_SEEN: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _WATCHED and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path in _WATCHED:
            _SEEN.append(path)


sys.addaudithook(_audit)


def one_line(code: int, err: str, expect: tuple) -> str:
    assert code != 0
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("h3pc: error: "), lines[0]
    for want in expect:
        alternatives = (want,) if isinstance(want, str) else want
        assert any(a in lines[0] for a in alternatives), f"{want!r} not in {lines[0]!r}"
    return lines[0]


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_CAP, AS_CAP))


def run_capped(argv: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, float, int]:
    """h3pc -q in a subprocess under AS_CAP: (exit code, stderr, seconds, peak RSS in MB of that child).
    -q: on a loaded machine a fresh interpreter's import step can pass the 2 s after which progress
    prints a line; what is tested here is that native libraries add none (onnxruntime logs regardless)."""
    code = ("import resource, sys\nfrom h3pc.cli import main\nfrom h3pc.tool import run_main\n"
            "rc = run_main('h3pc', main, sys.argv[1:])\n"
            "sys.stderr.flush()\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stdout)\n"
            "sys.exit(rc)\n")
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, *argv, "-q"], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=_cap, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "TMPDIR": str(cwd)})
    seconds = time.monotonic() - t
    rss = [line for line in proc.stdout.splitlines() if line.strip().isdigit()]
    return proc.returncode, proc.stderr, seconds, int(rss[-1]) // 1024 if rss else -1


# --- the hostile table ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", hm.CASES, ids=[c["id"] for c in hm.CASES])
def test_hostile_model(case: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    argv = case["make"](folder) + ["-o", str(out / "p.bin"), "--report", str(out / "r.json")]
    canary = os.path.realpath(folder.parent / case["canary"]) if case["canary"] else None
    if case["isolate"]:
        code, err, seconds, rss = run_capped(argv, tmp_path)
        assert seconds < 60 and rss < 1024, (seconds, rss)
    else:
        _WATCHED.clear()
        _SEEN.clear()
        if canary:
            _WATCHED.add(canary)
        try:
            code = h3pc_main(argv)
        finally:
            _WATCHED.clear()
        err = capsys.readouterr().err
        assert not _SEEN, f"opened {_SEEN}"
    one_line(code, err, case["expect"])
    if canary:
        assert hm.SECRET.decode() not in err
    assert list(out.iterdir()) == []


def test_table_covers_every_class() -> None:
    ids = [c["id"] for c in hm.CASES]
    assert len(ids) == len(set(ids))
    for prefix in ("ext-", "fold-", "run-", "log-"):
        assert sum(i.startswith(prefix) for i in ids) >= 2, prefix
    assert all(c["tool"] == "h3pc" and callable(c["make"]) for c in hm.CASES)


def test_fifo_canary_outside_is_never_opened(tmp_path: Path) -> None:
    """A FIFO outside the folder, reached by '..', an absolute path and a symlink: opening it would block
    until the timeout; every spelling is refused at once, by a path check alone."""
    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "outside").mkdir()
    fifo = tmp_path / "outside" / "secret.bin"
    os.mkfifo(fifo)
    (folder / "link.bin").symlink_to(fifo)
    for i, loc in enumerate(["../outside/secret.bin", str(fifo), "link.bin"]):
        t = hm.external_tensor(loc, [4], TensorProto.FLOAT)
        model = hm.build([N("Constant", [], ["k"], name="c", value=t), N("Add", ["x", "k"], ["y"], name="add")],
                         x_shape=[4])
        argv = hm.save(model, folder, f"m{i}.onnx")
        code, err, seconds, _ = run_capped(argv, tmp_path, timeout=60)
        one_line(code, err, ("'c'", "outside the model folder"))
        assert seconds < 30


# --- the external-data reader -------------------------------------------------------------------------------


def test_external_attribute_inside_folder_is_read_with_offset_and_length(tmp_path: Path) -> None:
    data = np.arange(16, dtype=np.float32)
    (tmp_path / "data.bin").write_bytes(b"\xff" * 8 + data.tobytes())
    t = hm.external_tensor("data.bin", [2, 4], TensorProto.FLOAT, offset="16", length="32")
    model = hm.build([N("Constant", [], ["k"], name="c", value=t), N("Add", ["x", "k"], ["y"], name="add")])
    loaded = load_onnx(hm.save(model, tmp_path)[0])
    assert external_tensors(loaded.model) == []
    value = numpy_helper.to_array(loaded.model.graph.node[0].attribute[0].t)
    np.testing.assert_array_equal(value, data[2:10].reshape(2, 4))


def test_external_initializer_inside_subfolder_is_a_view(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    (tmp_path / "weights" / "w.bin").write_bytes(b"\0" * 4 + w.tobytes() + b"trailing")
    t = hm.external_tensor("weights/../weights/w.bin", [4, 3], TensorProto.FLOAT, offset="4")
    t.name = "w"
    loaded = load_onnx(hm.save(hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")], [t]), tmp_path)[0])
    np.testing.assert_array_equal(loaded.weights.array(loaded.weights.key_of("w")), w)
    assert external_tensors(loaded.model) == []
    init = loaded.model.graph.initializer[0]
    assert init.data_location == TensorProto.DEFAULT and not init.external_data


def test_external_attribute_in_subgraph_is_inlined(tmp_path: Path) -> None:
    (tmp_path / "d.bin").write_bytes(np.full(8, 2.0, np.float32).tobytes())

    def branch(name: str) -> onnx.GraphProto:
        t = hm.external_tensor("d.bin", [2, 4], TensorProto.FLOAT)
        return helper.make_graph([N("Constant", [], [f"{name}_v"], name=f"{name}_c", value=t)], name, [],
                                 [helper.make_tensor_value_info(f"{name}_v", TensorProto.FLOAT, [2, 4])])
    nodes = [N("If", ["cond"], ["k"], name="if", then_branch=branch("then"), else_branch=branch("else")),
             N("Add", ["x", "k"], ["y"], name="add")]
    model = hm.build(nodes, [numpy_helper.from_array(np.array(True), "cond")])
    loaded = load_onnx(hm.save(model, tmp_path)[0])
    assert external_tensors(loaded.model) == []
    then = loaded.model.graph.node[0].attribute[0].g
    np.testing.assert_array_equal(numpy_helper.to_array(then.node[0].attribute[0].t), np.full((2, 4), 2.0))


def _spelling(kind: str, folder: Path) -> str:
    outside = folder.parent / "outside.bin"
    outside.write_bytes(b"\0" * 64)
    if kind == "dotdot":
        return "../outside.bin"
    if kind == "absolute":
        return str(outside)
    if kind == "symlink":
        (folder / "l.bin").symlink_to(outside)
        return "l.bin"
    if kind == "dev-zero":
        return "/dev/zero"
    if kind == "symlink-dev-zero":
        (folder / "z.bin").symlink_to("/dev/zero")
        return "z.bin"
    if kind == "fifo":
        os.mkfifo(folder / "p.bin")
        return "p.bin"
    if kind == "folder-itself":
        return "."
    if kind == "empty":
        return ""
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "dev-zero", "symlink-dev-zero", "fifo",
                                  "folder-itself", "empty"])
@pytest.mark.parametrize("where", ["initializer", "attribute"])
def test_every_path_spelling_outside_or_odd_is_refused(kind: str, where: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    t = hm.external_tensor(_spelling(kind, folder), [4, 3], TensorProto.FLOAT)
    if where == "initializer":
        t.name = "w"
        model = hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")], [t])
    else:
        model = hm.build([N("Constant", [], ["w"], name="c", value=t), N("MatMul", ["x", "w"], ["y"], name="mm")])
    with pytest.raises(H3pcError) as info:
        load_onnx(hm.save(model, folder)[0])
    msg = str(info.value)
    assert ("'w'" if where == "initializer" else "'c'") in msg
    assert any(s in msg for s in ("outside the model folder", "not a regular file", "is a folder", "location")), msg


@pytest.mark.parametrize("keys, expect", [
    ({"offset": "8"}, "too short"), ({"offset": "-1"}, "offset"), ({"offset": "0x10"}, "offset"),
    ({"length": "47"}, "length 47"), ({"length": "abc"}, "length"), ({"offset": "1", "length": "48"}, "too short"),
])
def test_offset_and_length_are_checked(keys: dict[str, str], expect: str, tmp_path: Path) -> None:
    (tmp_path / "d.bin").write_bytes(b"\0" * 48)
    t = hm.external_tensor("d.bin", [4, 3], TensorProto.FLOAT, **keys)
    t.name = "w"
    with pytest.raises(H3pcError, match=expect):
        load_onnx(hm.save(hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")], [t]), tmp_path)[0])


def test_exact_length_reads_only_what_is_declared(tmp_path: Path) -> None:
    """No `length`: the declared 12 floats, not the whole (larger) file."""
    (tmp_path / "d.bin").write_bytes(np.ones(12, np.float32).tobytes() + b"\1" * 4096)
    t = hm.external_tensor("d.bin", [4, 3], TensorProto.FLOAT)
    t.name = "w"
    loaded = load_onnx(hm.save(hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")], [t]), tmp_path)[0])
    assert loaded.weights.array(loaded.weights.key_of("w")).nbytes == 48


def test_output_over_the_models_external_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The external data file is an input of the command: `-o` naming it writes nothing."""
    data = np.arange(12, dtype=np.float32).tobytes()
    (tmp_path / "w.bin").write_bytes(data)
    t = hm.external_tensor("w.bin", [4, 3], TensorProto.FLOAT)
    t.name = "w"
    argv = hm.save(hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")], [t]), tmp_path)
    code = h3pc_main(argv + ["-o", str(tmp_path / "w.bin"), "-q"])
    one_line(code, capsys.readouterr().err, ("w.bin", "external data of m.onnx"))
    assert (tmp_path / "w.bin").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "w.bin"]


def test_folding_refuses_a_model_with_unresolved_external_data(tmp_path: Path) -> None:
    """Only load_onnx resolves external data; a model that reaches folding any other way is refused before
    onnx or onnxruntime could resolve a location against the working directory."""
    t = hm.external_tensor("secret.bin", [4], TensorProto.FLOAT)
    model = hm.build([N("Constant", [], ["k"], name="c", value=t), N("Add", ["x", "k"], ["y"], name="add")],
                     x_shape=[4])
    loaded = LoadedModel(tmp_path / "m.onnx", model, WeightStore(), 0)
    with pytest.raises(H3pcError, match="'c'.*not resolved"):
        folding.make_static(loaded)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_model_path_that_is_not_a_regular_file_is_refused_unopened(kind: str, tmp_path: Path) -> None:
    path = {"fifo": tmp_path / "m.onnx", "device": Path("/dev/zero"), "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # an open would block this test forever
    with pytest.raises(H3pcError, match="regular file|directory"):
        load_onnx(path)


def test_sparse_initializer_is_refused_by_name(tmp_path: Path) -> None:
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.ones(2, np.float32), "w"),
                                       numpy_helper.from_array(np.array([0, 5], np.int64), "w_idx"), [4, 3])
    model = hm.build([N("MatMul", ["x", "w"], ["y"], name="mm")])
    model.graph.sparse_initializer.append(sparse)
    with pytest.raises(H3pcError, match="sparse initializer 'w'"):
        load_onnx(hm.save(model, tmp_path)[0])


# --- bounded folding ---------------------------------------------------------------------------------------


def _range_model(folder: Path, limit: int) -> list[str]:
    return hm.reduced([N("Range", ["s", "l", "d"], ["r"], name="rng")],
                      [hm.i64("s", 0), hm.i64("l", limit), hm.i64("d", 1)])(folder)


def test_range_to_1e12_is_refused_quickly_in_little_memory(tmp_path: Path) -> None:
    code, err, seconds, rss = run_capped(_range_model(tmp_path, 10**12) + ["-o", str(tmp_path / "p.bin")], tmp_path)
    one_line(code, err, ("'rng'", "1000000000000 elements"))
    assert seconds < 30 and rss < 600, (seconds, rss)


def test_shape_inference_does_not_materialise_a_large_1d_tensor(tmp_path: Path) -> None:
    """onnx's data propagation builds every 1-D tensor element by element (a Range to 10^7 before a Cast:
    1.4 GB, 3 s); folding infers shapes without it, so this model imports in a few hundred MB."""
    argv = _range_model(tmp_path, 10**7) + ["-o", str(tmp_path / "p.bin")]
    code, err, seconds, rss = run_capped(argv, tmp_path)
    assert code == 0, err
    assert rss < 900, rss


def test_folded_constants_share_one_budget(tmp_path: Path) -> None:
    """40 Expand nodes of 4096 x 4096 floats (64 MB each) from a 4.5 KB file: folding all of them took 2.9 GB;
    past the budget they stay ops, and the compile stays well under 1 GB."""
    nodes = []
    prev = "x"
    for i in range(40):
        nodes += [N("Expand", ["v", "shape"], [f"e{i}"], name=f"exp{i}"),
                  N("ReduceSum", [f"e{i}", "axes"], [f"s{i}"], name=f"sum{i}", keepdims=0),
                  N("Add", [prev, f"s{i}"], [f"a{i}" if i < 39 else "y"], name=f"add{i}")]
        prev = f"a{i}"
    inits = [numpy_helper.from_array(np.ones(1, np.float32), "v"), hm.i64("shape", [4096, 4096]),
             hm.i64("axes", [0, 1])]
    argv = hm.save(hm.build(nodes, inits, x_shape=[1]), tmp_path) + ["-o", str(tmp_path / "p.bin")]
    code, err, seconds, rss = run_capped(argv, tmp_path)
    assert code == 0, err
    assert rss < 1024, rss


def _reshape_chain(layers: int) -> onnx.ModelProto:
    """A dynamically exported stack: each layer reshapes to a target computed from Shape of its input, so
    the shapes of layer k are known only once layer k-1's are."""
    nodes: list[onnx.NodeProto] = []
    prev = "x"
    for i in range(layers):
        p = f"l{i}_"
        nodes += [N("Relu", [prev], [p + "a"]), N("Shape", [p + "a"], [p + "shape"]),
                  N("Gather", [p + "shape", "zero"], [p + "batch"], axis=0),
                  N("Concat", [p + "batch", "minus1"], [p + "target"], axis=0),
                  N("Reshape", [p + "a", p + "target"], [p + "out" if i < layers - 1 else "y"])]
        prev = p + "out"
    inits = [hm.i64("zero", [0]), hm.i64("minus1", [-1])]
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)


def test_a_long_chain_of_computed_shapes_folds_in_few_inference_passes(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With every 1-D tensor small, data propagation runs and resolves the whole chain at once (without it,
    one round per link: 100 layers would be 100 rounds of inference)."""
    passes = []
    real = folding._run_inference
    monkeypatch.setattr(folding, "_run_inference", lambda m, p, data_prop: passes.append(data_prop) or real(m, p, data_prop))
    static = folding.make_static(load_onnx(hm.save(_reshape_chain(100), tmp_path)[0]), {"x": (2, 4)})
    assert static.types["y"][1] == (2, 4)
    assert len(passes) <= 6, passes


def test_data_propagation_only_over_small_vectors() -> None:
    small = helper.make_graph([N("Cast", ["v"], ["y"], to=TensorProto.FLOAT)], "g", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [hm.i64("v", [1, 2])])
    types = {"v": (7, (2,)), "y": (1, (2,))}
    assert folding._data_prop_is_bounded(small, types, {"v": 1, "y": 1})
    big = {"v": (7, (2,)), "y": (1, (folding.DATA_PROP_ELEMENTS + 1,))}
    assert not folding._data_prop_is_bounded(small, big, {"v": 1, "y": 1})
    assert not folding._data_prop_is_bounded(small, {"v": (7, (2,))}, {"v": 1, "y": 1})  # a vector of unknown length
    assert not folding._data_prop_is_bounded(small, {"v": (7, (2,))}, {"v": 1})  # unknown rank


def test_value_sized_ops_are_sized_from_their_constants() -> None:
    store = WeightStore()
    consts = {}
    for name, value in {"s": 0, "l": 10, "d": 3, "inf": np.inf, "zero": 0, "shape": [3, 4], "neg": [2, -1],
                        "rep": [2, 5], "v": np.ones((1, 2))}.items():
        store.add(name, np.asarray(value))
        consts[name] = True
    constants = set(consts)

    def size(op: str, *inputs: str) -> int | None:
        return folding._value_sized_count(N(op, list(inputs), ["o"], name="n"), {}, store, constants, "m.onnx")
    assert size("Range", "s", "l", "d") == 4
    assert size("ConstantOfShape", "shape") == 12
    assert size("Expand", "v", "shape") is None or size("Expand", "v", "shape") == 12
    assert size("Tile", "v", "rep") == 20
    assert size("Range", "s", "later", "d") is None  # not a constant yet: wait for the next round
    with pytest.raises(H3pcError, match="finite"):
        size("Range", "s", "inf", "d")
    with pytest.raises(H3pcError, match="delta is 0"):
        size("Range", "s", "l", "zero")
    with pytest.raises(H3pcError, match="negative"):
        size("ConstantOfShape", "neg")


def test_unknown_output_is_bounded_by_inputs() -> None:
    """An op whose output inference has not sized yet is folded only if the product of its inputs fits."""
    store = WeightStore()
    store.add("a", np.ones(3000, np.float32))
    node = N("Add", ["a", "b"], ["o"], name="n")
    assert folding._fold_size(node, {}, store, {"a"}, {"b": 3000}, "m") == 3000 * 3000
    assert folding._fold_size(node, {"o": (1, (3000,))}, store, {"a"}, {"b": 3000}, "m") == 3000


# --- one line on stderr ---------------------------------------------------------------------------------------


def test_native_writes_to_fd2_are_dropped(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("H3PC_DEBUG", raising=False)
    with quiet_stderr():
        os.write(2, b"[W:onnxruntime] native noise\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    monkeypatch.setenv("H3PC_DEBUG", "1")
    with quiet_stderr():
        os.write(2, b"kept under --debug\n")
    assert "kept under --debug" in capfd.readouterr().err


def test_a_failed_fold_is_one_line_on_the_real_stderr(tmp_path: Path) -> None:
    """onnxruntime's own error log (written to fd 2 by C++) must not add a second line."""
    argv = hm.folded_then_used(N("Div", ["a", "b"], ["g"], name="div"), [hm.i64("a", [1]), hm.i64("b", [0])])(
        tmp_path) + ["-o", str(tmp_path / "p.bin")]
    code, err, _, _ = run_capped(argv, tmp_path)
    one_line(code, err, ("'div'", "division by zero"))


def _abs_shape_chain(path: Path, links: int) -> LoadedModel:
    """Reshape to Abs(Shape(previous)), `links` times: a shape only onnxruntime computes, one fold per link."""
    nodes, prev = [], "x"
    for i in range(links):
        nodes += [helper.make_node("Shape", [prev], [f"s{i}"]), helper.make_node("Abs", [f"s{i}"], [f"a{i}"]),
                  helper.make_node("Reshape", [prev, f"a{i}"], [f"r{i}"], name=f"reshape{i}"),
                  helper.make_node("Relu", [f"r{i}"], [f"y{i}"])]
        prev = f"y{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
                     .SerializeToString())
    return load_onnx(path)


def test_folding_rounds_share_one_work_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each link of a chain of shapes only onnxruntime computes takes a folding round that infers the whole
    graph (quadratic: 400 links took 20 s, 5,000 an hour); past MAX_FOLD_WORK node inferences folding stops,
    and the first shape left open is refused by name, saying why. Within the budget the chain folds."""
    assert folding.make_static(_abs_shape_chain(tmp_path / "short.onnx", 8)).folded_nodes >= 16
    monkeypatch.setattr(folding, "MAX_FOLD_WORK", 300)
    with pytest.raises(H3pcError, match=r"'reshape\d+' \(Reshape\) \(folding stopped after \d+ node shape "
                                         r"inferences, the limit\)"):
        folding.make_static(_abs_shape_chain(tmp_path / "long.onnx", 40))
