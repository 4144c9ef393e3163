"""Control flow (issue 21): If resolved once its condition folds, Loop and Scan unrolled when their trip
count is static, and a one-line refusal naming the node otherwise.

Every model is built with onnx.helper (ir_version 10), imported (with its inputs pinned where the case
says), run on the nn reference kernels and compared with onnxruntime; a few go the whole way (compile,
program.bin, h3pc-run --ideal)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from h3pc.cli import main
from h3pc.diagnostics import H3pcError, UnsupportedError
from h3pc.frontend.control import DEFAULT_MAX_UNROLL
from h3pc.frontend.importer import import_model
from h3pc.runtime.evaluate import NNProgram

RNG = np.random.default_rng(21)


def f32(*shape: int) -> np.ndarray:
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


def vi(name: str, elem: int, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=None, opset: int = 17) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def save(m: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    p = tmp_path / name
    p.write_bytes(m.SerializeToString())
    return p


def ort_run(m: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def close(got: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, onnxruntime {ref.shape}"
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype}, onnxruntime {ref.dtype}"
    tol = 1e-5 * max(1.0, float(np.abs(ref).max()) if ref.size else 1.0)
    assert np.abs(got.astype(np.float64) - ref).max(initial=0.0) <= tol, f"{what}: differs from onnxruntime"


def check(m: onnx.ModelProto, feeds: dict[str, np.ndarray], tmp_path: Path, values: dict | None = None,
          shapes: dict | None = None, max_unroll: int = DEFAULT_MAX_UNROLL) -> dict[str, int]:
    """Import with the pins, run, compare every output with onnxruntime (fed the pinned values too);
    the nn op counts, to check that no control flow is left."""
    ref = ort_run(m, {**feeds, **{k: np.asarray(v) for k, v in (values or {}).items()}})
    imp = import_model(save(m, tmp_path), shapes, input_values=values, max_unroll=max_unroll)
    imp.module.verify()
    prog = NNProgram(imp.module, imp.weights)
    assert set(prog.input_names) == set(feeds), "the pinned inputs are no longer inputs"
    got = prog.run(feeds)
    assert set(got) == set(ref)
    for k, r in ref.items():
        close(got[k], r, k)
    counts: dict[str, int] = {}
    for op in imp.func.body.block.ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    return counts


def graph(name: str, nodes, outputs, inputs=(), inits=None) -> onnx.GraphProto:
    return helper.make_graph(nodes, name, list(inputs), outputs,
                             [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()])


# --------------------------------------------------------------------------------------------- If


def if_on_rate(nested: bool = False) -> onnx.ModelProto:
    """y = If(sr == 16000) then Relu(x) * w_then else (nested: If(sr > 4000) then -x else x+1; else -x)."""
    then_g = graph("then", [helper.make_node("Relu", ["x"], ["t0"]), helper.make_node("Mul", ["t0", "w"], ["t"])],
                   [vi("t", T.FLOAT, [2, 3])], inits={"w": np.full((2, 3), 3.0, np.float32)})
    if nested:
        inner_then = graph("ithen", [helper.make_node("Neg", ["x"], ["it"])], [vi("it", T.FLOAT, [2, 3])])
        inner_else = graph("ielse", [helper.make_node("Add", ["x", "one"], ["ie"])], [vi("ie", T.FLOAT, [2, 3])])
        else_g = graph("else", [
            helper.make_node("Constant", [], ["lim"], value=numpy_helper.from_array(np.asarray(4000, np.int64))),
            helper.make_node("Greater", ["sr", "lim"], ["c2"]),
            helper.make_node("If", ["c2"], ["e"], name="inner_if", then_branch=inner_then, else_branch=inner_else),
        ], [vi("e", T.FLOAT, [2, 3])])
    else:
        else_g = graph("else", [helper.make_node("Neg", ["x"], ["e"])], [vi("e", T.FLOAT, [2, 3])])
    nodes = [helper.make_node("Equal", ["sr", "k"], ["c"]),
             helper.make_node("If", ["c"], ["y"], name="rate_if", then_branch=then_g, else_branch=else_g)]
    return model(nodes, [vi("x", T.FLOAT, [2, 3]), vi("sr", T.INT64, [])], [vi("y", T.FLOAT, [2, 3])],
                 {"k": np.asarray(16000, np.int64), "one": np.ones((2, 3), np.float32)})


@pytest.mark.parametrize("cond", [True, False])
def test_if_on_a_constant(cond: bool, tmp_path: Path) -> None:
    """The condition an initializer; the then branch has its own initializers (one returned as it is) and a
    Constant node; both outputs map to the If's."""
    then_g = graph("then", [helper.make_node("Constant", [], ["c1"], value_float=0.5),
                            helper.make_node("Mul", ["x", "c1"], ["a"]), helper.make_node("Add", ["a", "b"], ["t"])],
                   [vi("t", T.FLOAT, [3, 4]), vi("b2", T.FLOAT, [3, 4])], inits={"b": f32(4), "b2": f32(3, 4)})
    else_g = graph("else", [helper.make_node("Identity", ["x"], ["x2"]), helper.make_node("Sigmoid", ["x"], ["e"])],
                   [vi("x2", T.FLOAT, [3, 4]), vi("e", T.FLOAT, [3, 4])])
    m = model([helper.make_node("If", ["c"], ["y", "z"], name="const_if", then_branch=then_g, else_branch=else_g)],
              [vi("x", T.FLOAT, [3, 4])], [vi("y", T.FLOAT, [3, 4]), vi("z", T.FLOAT, [3, 4])],
              {"c": np.asarray(cond)})
    check(m, {"x": f32(3, 4)}, tmp_path)


@pytest.mark.parametrize("sr", [16000, 8000])
def test_if_on_a_pinned_input_api(sr: int, tmp_path: Path) -> None:
    check(if_on_rate(), {"x": f32(2, 3)}, tmp_path, values={"sr": np.asarray(sr, np.int64)})


@pytest.mark.parametrize("sr", [16000, 8000, 2000])
def test_nested_if(sr: int, tmp_path: Path) -> None:
    """The else branch holds an If on a value computed inside it: resolved in a later round."""
    check(if_on_rate(nested=True), {"x": f32(2, 3)}, tmp_path, values={"sr": np.asarray([sr])})


def test_if_on_a_shape_pinned_by_input_shape(tmp_path: Path) -> None:
    """Shape -> Gather -> Equal: constant once --input-shape pins the dynamic dim."""
    then_g = graph("then", [helper.make_node("ReduceSum", ["x"], ["t"], keepdims=1)], [vi("t", T.FLOAT, None)])
    else_g = graph("else", [helper.make_node("Abs", ["x"], ["e"])], [vi("e", T.FLOAT, None)])
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i"], ["n"], axis=0),
             helper.make_node("Equal", ["n", "k"], ["c"]),
             helper.make_node("If", ["c"], ["y"], name="shape_if", then_branch=then_g, else_branch=else_g)]
    m = model(nodes, [vi("x", T.FLOAT, [2, "n"])], [vi("y", T.FLOAT, None)],
              {"i": np.asarray(1, np.int64), "k": np.asarray(5, np.int64)})
    for n in (5, 3):
        check(m, {"x": f32(2, n)}, tmp_path, shapes={"x": (2, n)})


def test_if_on_a_pinned_input_cli_compiles_and_runs(tmp_path: Path, capsys) -> None:
    """h3pc --input-value sr=8000 -o program.bin; the program no longer takes sr; h3pc-run --ideal on an
    .npz that still holds sr (ignored with a note) matches onnxruntime."""
    from h3pc.backends import container
    from h3pc.backends.program import from_container
    from h3pc.run import main as run_main

    m = if_on_rate(nested=True)
    path = save(m, tmp_path)
    prog_path, x_path, y_path = tmp_path / "p.bin", tmp_path / "x.npz", tmp_path / "y.npz"
    assert main([str(path), "--input-value", "sr=8000", "-o", str(prog_path), "--target", "electronic", "-q",
                 "--no-check-quality"]) == 0
    prog = from_container(container.decode(prog_path.read_bytes()), str(prog_path))
    assert [i["name"] for i in prog.inputs] == ["x"]
    x = f32(2, 3)
    np.savez(x_path, x=x, sr=np.asarray(8000, np.int64))
    assert run_main([str(prog_path), "--inputs", str(x_path), "--outputs", str(y_path), "--ideal", "-q"]) == 0
    got = np.load(y_path)["y"]
    close(got, ort_run(m, {"x": x, "sr": np.asarray(8000, np.int64)})["y"], "y")
    capsys.readouterr()


def test_op_stats_count_control_flow_as_resolved(tmp_path: Path, capsys) -> None:
    """--op-stats does not call If/Loop/Scan unsupported: the compiler resolves them when they fold."""
    path = save(if_on_rate(nested=True), tmp_path)
    assert main(["--op-stats", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 unsupported" in out and "(resolved at compile time)" in out and "UNSUPPORTED" not in out


def test_if_left_dynamic_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    path = save(if_on_rate(), tmp_path)
    with pytest.raises(UnsupportedError, match=r"If 'rate_if': condition 'c' is not constant after folding \(it "
                                               r"depends on input 'sr'\); pin the inputs it depends on with "
                                               r"--input-value/--input-shape"):
        import_model(path)
    code = main([str(path)])
    err = capsys.readouterr().err
    assert code == UnsupportedError.exit_code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("h3pc: error: ") and "rate_if" in lines[0], err


# ------------------------------------------------------------------------------------------- Loop


def loop_model(trips: int, cond: str, opset: int = 17, body_cond: str = "pass", scans: bool = True
               ) -> onnx.ModelProto:
    """acc_{i+1} = acc_i * 0.5 + x * i (x from the outer scope), cnt_{i+1} = cnt_i + 1; scan outputs acc_i
    (per iteration) and i*2 as float. cond: "" (for loop), "true" or "false" (an initializer); body_cond:
    "pass" (cond_in passed through), "const" (a constant true), "computed" (cnt < 3). Without `scans`, no
    scan outputs."""
    body_nodes = [
        helper.make_node("Cast", ["i"], ["i_f"], to=T.FLOAT),
        helper.make_node("Mul", ["acc_in", "half"], ["a0"]),
        helper.make_node("Mul", ["x", "i_f"], ["a1"]),
        helper.make_node("Add", ["a0", "a1"], ["acc_out"]),
        helper.make_node("Add", ["cnt_in", "one"], ["cnt_out"]),
        helper.make_node("Identity", ["acc_out"], ["scan_acc"]),
        helper.make_node("Add", ["i_f", "i_f"], ["scan_i"]),
    ]
    if body_cond == "pass":
        body_nodes.append(helper.make_node("Identity", ["c_in"], ["c_out"]))
    elif body_cond == "const":
        body_nodes.append(helper.make_node("Constant", [], ["c_out"], value=numpy_helper.from_array(np.asarray(True))))
    else:
        body_nodes.append(helper.make_node("Less", ["cnt_out", "three"], ["c_out"]))
    body_outs = [vi("c_out", T.BOOL, []), vi("acc_out", T.FLOAT, [2, 3]), vi("cnt_out", T.INT64, [])]
    if scans:
        body_outs += [vi("scan_acc", T.FLOAT, [2, 3]), vi("scan_i", T.FLOAT, [])]
    body = graph("body", body_nodes, body_outs,
                 inputs=[vi("i", T.INT64, []), vi("c_in", T.BOOL, []), vi("acc_in", T.FLOAT, [2, 3]),
                         vi("cnt_in", T.INT64, [])],
                 inits={"half": np.asarray(0.5, np.float32), "one": np.asarray(1, np.int64),
                        "three": np.asarray(3, np.int64)})
    inits = {"M": np.asarray(trips, np.int64), "acc0": np.zeros((2, 3), np.float32), "cnt0": np.asarray(0, np.int64)}
    if cond:
        inits["cond"] = np.asarray(cond == "true")
    node = helper.make_node("Loop", ["M", "cond" if cond else "", "acc0", "cnt0"],
                            ["acc", "cnt"] + (["accs", "iters"] if scans else []), name="loop", body=body)
    outs = [vi("acc", T.FLOAT, [2, 3]), vi("cnt", T.INT64, [])]
    if scans:
        outs += [vi("accs", T.FLOAT, None), vi("iters", T.FLOAT, None)]
    return model([node], [vi("x", T.FLOAT, [2, 3])], outs, inits, opset=opset)


@pytest.mark.parametrize("trips,cond,body_cond,opset", [
    (4, "", "pass", 17),       # for loop
    (3, "true", "pass", 17),   # the condition passed through: M iterations
    (5, "true", "const", 13),  # a constant-true body condition
    (1, "true", "pass", 11),   # Unsqueeze with an axes attribute (opset < 13)
    (6, "", "pass", 11),
])
def test_loop_unrolled(trips: int, cond: str, body_cond: str, opset: int, tmp_path: Path) -> None:
    counts = check(loop_model(trips, cond, opset, body_cond), {"x": f32(2, 3)}, tmp_path)
    assert sum(counts.values()) > trips  # one body copy per iteration


def test_loop_with_a_false_condition_runs_zero_times(tmp_path: Path) -> None:
    check(loop_model(4, "false", scans=False), {"x": f32(2, 3)}, tmp_path)  # (scan outputs would be empty)


def test_loop_trip_count_from_a_pinned_shape(tmp_path: Path) -> None:
    """M = x.shape[0], known once --input-shape pins it; the body slices row i of x (Gather on the
    iteration number) into the carried sum and emits each row doubled."""
    body = graph("body", [
        helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
        helper.make_node("Add", ["s_in", "row"], ["s_out"]),
        helper.make_node("Add", ["row", "row"], ["dbl"]),
        helper.make_node("Identity", ["c_in"], ["c_out"]),
    ], [vi("c_out", T.BOOL, []), vi("s_out", T.FLOAT, None), vi("dbl", T.FLOAT, None)],
        inputs=[vi("i", T.INT64, []), vi("c_in", T.BOOL, []), vi("s_in", T.FLOAT, None)])
    nodes = [helper.make_node("Shape", ["x"], ["shp"]), helper.make_node("Gather", ["shp", "zero"], ["M"], axis=0),
             helper.make_node("Loop", ["M", "", "s0"], ["s", "rows"], name="rows_loop", body=body)]
    m = model(nodes, [vi("x", T.FLOAT, ["n", 4])], [vi("s", T.FLOAT, None), vi("rows", T.FLOAT, None)],
              {"zero": np.asarray(0, np.int64), "s0": np.zeros(4, np.float32)})
    check(m, {"x": f32(5, 4)}, tmp_path, shapes={"x": (5, 4)})


@pytest.mark.parametrize("trips,cond", [(5, "true"), (5, ""), (2, "true"), (3, "")])
def test_loop_with_a_condition_that_folds_is_peeled(trips: int, cond: str, tmp_path: Path) -> None:
    """The body computes the condition (cnt < 3): onnxruntime stops when it turns false, with or without a
    condition input, or at the trip count; each iteration is peeled once the previous condition folds."""
    counts = check(loop_model(trips, cond, body_cond="computed"), {"x": f32(2, 3)}, tmp_path)
    assert counts.get("nn.concat", 0) + counts.get("nn.reshape", 0) >= 1  # the scan outputs put together


def test_while_loop_with_a_condition_that_folds(tmp_path: Path) -> None:
    """No trip count at all: a while loop, unrolled while its condition folds."""
    m = loop_model(5, "true", body_cond="computed")
    m.graph.node[0].input[0] = ""
    check(m, {"x": f32(2, 3)}, tmp_path)


def test_loop_with_a_data_dependent_condition_is_refused(tmp_path: Path) -> None:
    """A condition computed from the data (sum of x > 0) cannot fold: refused after the first peel."""
    m = loop_model(5, "true", body_cond="computed")
    body = m.graph.node[0].attribute[0].g
    last = body.node[len(body.node) - 1]
    body.node.remove(last)
    body.node.extend([helper.make_node("ReduceSum", ["acc_out"], ["tot"], keepdims=0),
                      helper.make_node("Less", ["tot", "big"], ["c_out"])])
    body.initializer.append(numpy_helper.from_array(np.asarray(1e9, np.float32), "big"))
    with pytest.raises(UnsupportedError, match=r"Loop 'loop': condition 'loop/0/c_out' is not constant after folding "
                                               r"\(it depends on input 'x'\)"):
        import_model(save(m, tmp_path))


def test_loop_with_a_dynamic_trip_count_is_refused(tmp_path: Path) -> None:
    m = loop_model(4, "")
    m.graph.input.append(vi("n", T.INT64, []))
    m.graph.node[0].input[0] = "n"
    with pytest.raises(UnsupportedError, match=r"Loop 'loop': trip count 'n' is not constant after folding \(it "
                                               r"depends on input 'n'\)"):
        import_model(save(m, tmp_path))
    check(m, {"x": f32(2, 3)}, tmp_path, values={"n": np.asarray(3)})  # and pinned, it unrolls


def test_unrolling_beyond_the_limit_is_refused(tmp_path: Path, capsys) -> None:
    path = save(loop_model(10, ""), tmp_path)
    with pytest.raises(UnsupportedError, match=r"Loop 'loop': unrolling 10 iterations would exceed --max-unroll 6 "
                                               r"\(0 body copies already made\); raise --max-unroll to at least 10"):
        import_model(path, max_unroll=6)
    code = main([str(path), "--max-unroll", "9"])
    err = capsys.readouterr().err
    assert code == UnsupportedError.exit_code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--max-unroll 9" in lines[0], err
    assert main([str(path), "--max-unroll", "10", "-q"]) == 0
    capsys.readouterr()


def test_the_limit_counts_every_loop_together(tmp_path: Path) -> None:
    """Two loops of 4 iterations: 8 body copies in all; a limit of 6 stops the second one."""
    m = loop_model(4, "")
    second = onnx.NodeProto()
    second.CopyFrom(m.graph.node[0])
    second.name = "loop2"
    second.input[2] = "acc"
    second.input[3] = "cnt"
    second.output[:] = ["acc2", "cnt2", "accs2", "iters2"]
    m.graph.node.append(second)
    m.graph.output.append(vi("acc2", T.FLOAT, [2, 3]))
    check(m, {"x": f32(2, 3)}, tmp_path, max_unroll=8)
    with pytest.raises(UnsupportedError, match=r"would exceed --max-unroll 6 \(4 body copies already made\)"):
        import_model(save(m, tmp_path, "two.onnx"), max_unroll=6)


# ------------------------------------------------------------------------------------------- Scan


def scan_model(in_axes=None, in_dirs=None, out_axes=None, out_dirs=None, opset: int = 17) -> onnx.ModelProto:
    """A running sum over the scan axis of two inputs: state s += a_t * b_t (b from the outer scope
    weight w); scan outputs the state and a_t - b_t. a: [4, 5, 3], b: [4, 5, 3], scanned along their axes."""
    body = graph("body", [
        helper.make_node("Mul", ["a_t", "b_t"], ["p"]),
        helper.make_node("Mul", ["p", "w"], ["pw"]),
        helper.make_node("Add", ["s_in", "pw"], ["s_out"]),
        helper.make_node("Identity", ["s_out"], ["o_s"]),
        helper.make_node("Sub", ["a_t", "b_t"], ["o_d"]),
    ], [vi("s_out", T.FLOAT, None), vi("o_s", T.FLOAT, None), vi("o_d", T.FLOAT, None)],
        inputs=[vi("s_in", T.FLOAT, None), vi("a_t", T.FLOAT, None), vi("b_t", T.FLOAT, None)])
    attrs = {"num_scan_inputs": 2}
    for key, v in (("scan_input_axes", in_axes), ("scan_input_directions", in_dirs), ("scan_output_axes", out_axes),
                   ("scan_output_directions", out_dirs)):
        if v is not None:
            attrs[key] = v
    node = helper.make_node("Scan", ["s0", "a", "b"], ["s", "ys", "ds"], name="scan", body=body, **attrs)
    ax = in_axes or [0, 0]
    shape_a = [4, 5, 3]
    shape_b = [4, 5, 3]
    state = [d for k, d in enumerate(shape_a) if k != ax[0] % 3]
    return model([node], [vi("a", T.FLOAT, shape_a), vi("b", T.FLOAT, shape_b)],
                 [vi("s", T.FLOAT, None), vi("ys", T.FLOAT, None), vi("ds", T.FLOAT, None)],
                 {"s0": np.zeros(state, np.float32), "w": np.full(state, 0.5, np.float32)}, opset=opset)


@pytest.mark.parametrize("kw", [
    {},
    {"in_dirs": [1, 0]},
    {"in_dirs": [1, 1], "out_dirs": [0, 1]},
    {"in_axes": [1, 1], "out_axes": [1, 0]},
    {"in_axes": [-1, 2], "out_axes": [-1, 2], "out_dirs": [1, 0]},
    {"in_axes": [1, 1], "opset": 11},
], ids=["forward", "reverse-input", "reverse-output", "axes", "negative-axes", "opset11"])
def test_scan_unrolled(kw: dict, tmp_path: Path) -> None:
    check(scan_model(**kw), {"a": f32(4, 5, 3), "b": f32(4, 5, 3)}, tmp_path)


def test_scan_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError, match=r"Scan 'scan': unrolling 4 iterations would exceed --max-unroll 3"):
        import_model(save(scan_model(), tmp_path), max_unroll=3)


def test_if_inside_a_loop_body_reads_the_iteration_values(tmp_path: Path) -> None:
    """The body's If reads body tensors (renamed in every copy) and an outer flag: resolved after unrolling."""
    then_g = graph("then", [helper.make_node("Mul", ["acc_in", "i_f"], ["t0"]), helper.make_node("Add", ["t0", "x"], ["t"])],
                   [vi("t", T.FLOAT, [2, 3])])
    else_g = graph("else", [helper.make_node("Neg", ["acc_in"], ["e"])], [vi("e", T.FLOAT, [2, 3])])
    body = graph("body", [
        helper.make_node("Cast", ["i"], ["i_f"], to=T.FLOAT),
        helper.make_node("If", ["flag"], ["acc_out"], name="body_if", then_branch=then_g, else_branch=else_g),
        helper.make_node("Identity", ["c_in"], ["c_out"]),
        helper.make_node("Identity", ["i_f"], ["i_out"]),
    ], [vi("c_out", T.BOOL, []), vi("acc_out", T.FLOAT, [2, 3]), vi("i_out", T.FLOAT, [])],
        inputs=[vi("i", T.INT64, []), vi("c_in", T.BOOL, []), vi("acc_in", T.FLOAT, [2, 3])])
    for flag in (True, False):
        m = model([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "iters"], name="loop", body=body)],
                  [vi("x", T.FLOAT, [2, 3])], [vi("acc", T.FLOAT, [2, 3]), vi("iters", T.FLOAT, None)],
                  {"M": np.asarray(3, np.int64), "acc0": np.ones((2, 3), np.float32), "flag": np.asarray(flag)})
        check(m, {"x": f32(2, 3)}, tmp_path)


def test_a_condition_of_several_elements_is_refused(tmp_path: Path) -> None:
    then_g = graph("then", [helper.make_node("Relu", ["x"], ["t"])], [vi("t", T.FLOAT, [2])])
    else_g = graph("else", [helper.make_node("Neg", ["x"], ["e"])], [vi("e", T.FLOAT, [2])])
    m = model([helper.make_node("If", ["c"], ["y"], name="two_if", then_branch=then_g, else_branch=else_g)],
              [vi("x", T.FLOAT, [2])], [vi("y", T.FLOAT, [2])], {"c": np.asarray([True, False])})
    with pytest.raises(H3pcError, match=r"If 'two_if': condition 'c' has 2 elements, not 1"):
        import_model(save(m, tmp_path))
