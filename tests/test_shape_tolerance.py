"""Shape handling of real exporters' files (issue 21): annotations that contradict ONNX shape inference are
dropped (and said under -v), a real shape error names the node, its op, its tensors and their shapes, a -1
input dim is an open dim that --input-shape pins, and --input-value's mistakes are one line each.

Models are built with onnx.helper (ir_version 10) as minimal reproductions of the real files' problems;
each that compiles is checked against onnxruntime, which runs them all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from h3pc import progress
from h3pc.cli import main
from h3pc.diagnostics import H3pcError
from h3pc.frontend.importer import import_model
from h3pc.runtime.evaluate import NNProgram

RNG = np.random.default_rng(2121)


def f32(*shape: int) -> np.ndarray:
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


def build(nodes, inputs, outputs, inits=None, value_info=(), opset: int = 13) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
                          value_info=list(value_info))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def save(m: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    p = tmp_path / name
    p.write_bytes(m.SerializeToString())
    return p


def matches_onnxruntime(m: onnx.ModelProto, feeds: dict[str, np.ndarray], tmp_path: Path, **kw) -> None:
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    ref = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    imp = import_model(save(m, tmp_path), **kw)
    imp.module.verify()
    got = NNProgram(imp.module, imp.weights).run(feeds)
    for k, r in ref.items():
        assert got[k].shape == r.shape and got[k].dtype == r.dtype, k
        assert np.abs(got[k].astype(np.float64) - r).max() <= 1e-5 * max(1.0, float(np.abs(r).max())), k


def one_line(code: int, err: str, exit_code: int = 1) -> str:
    assert code == exit_code, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("h3pc: error: ")
    return lines[0]


def stale_value_info() -> onnx.ModelProto:
    """paddle2onnx-style: ReduceSum(keepdims=0) gives a scalar, the file says [1]; onnxruntime runs it,
    strict inference says `Inferred shape and existing shape differ in rank: (0) vs (1)`."""
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0, name="rs"),
             helper.make_node("Mul", ["x", "s"], ["m"], name="mul"),
             helper.make_node("Relu", ["m"], ["y"], name="relu")]
    return build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [2, 3])],
                 [helper.make_tensor_value_info("y", T.FLOAT, [2, 3])],
                 value_info=[helper.make_tensor_value_info("s", T.FLOAT, [1]),
                             helper.make_tensor_value_info("m", T.FLOAT, [2, 3])])


def test_the_reproduction_fails_strict_inference_and_runs_in_onnxruntime() -> None:
    """The premise: without the tolerance this file would be refused."""
    with pytest.raises(Exception, match="differ in rank"):
        onnx.shape_inference.infer_shapes(stale_value_info(), check_type=True, strict_mode=True)


def test_contradicting_value_info_is_dropped(tmp_path: Path) -> None:
    matches_onnxruntime(stale_value_info(), {"x": f32(2, 3)}, tmp_path)


def test_contradicting_output_annotation_is_dropped(tmp_path: Path) -> None:
    """A graph output declared with another rank than it has (tf2onnx's stale outputs), and a value_info
    of another rank too."""
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1, name="flat"),
             helper.make_node("Sigmoid", ["f"], ["y"], name="sig")]
    m = build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [2, 3, 4])],
              [helper.make_tensor_value_info("y", T.FLOAT, [2, 3, 4])],
              value_info=[helper.make_tensor_value_info("f", T.FLOAT, [24])])
    matches_onnxruntime(m, {"x": f32(2, 3, 4)}, tmp_path)


def test_dropping_is_said_under_verbose(tmp_path: Path, capsys) -> None:
    path = save(stale_value_info(), tmp_path)
    try:
        assert main([str(path), "-v"]) == 0
    finally:
        progress.configure()
    err = capsys.readouterr().err
    assert "rejected the file's shape annotations; dropped 2 and inferred again: contradicting 's' [1] " \
           "(inferred [])" in err, err
    assert main([str(path)]) == 0  # and not without -v
    assert "dropped" not in capsys.readouterr().err


def test_a_real_shape_error_names_node_op_tensors_and_shapes(tmp_path: Path, capsys) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("MatMul", ["r", "w"], ["y"], name="mm")]
    m = build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [2, 4])], [helper.make_tensor_value_info("y", T.FLOAT, None)],
              {"w": np.ones((5, 3), np.float32)})
    path = save(m, tmp_path)
    line = one_line(main([str(path)]), capsys.readouterr().err)
    assert line == (f"h3pc: error: {path}: shape inference failed at node 'mm' (MatMul): Incompatible dimensions for "
                    "matrix multiplication; inputs 'r' [2, 4], 'w' [5, 3]")


def test_a_contradicting_branch_output_annotation_is_dropped(tmp_path: Path) -> None:
    """An If branch whose declared output rank contradicts the node that computes it: the subgraphs'
    output shapes are annotations too."""
    then_g = helper.make_graph([helper.make_node("ReduceSum", ["x"], ["t"], keepdims=0, name="inner_sum")], "then", [],
                               [helper.make_tensor_value_info("t", T.FLOAT, [1])])
    else_g = helper.make_graph([helper.make_node("ReduceMax", ["x"], ["e"], keepdims=0, name="inner_max")], "else", [],
                               [helper.make_tensor_value_info("e", T.FLOAT, [1])])
    m = build([helper.make_node("If", ["c"], ["y"], name="if", then_branch=then_g, else_branch=else_g)],
              [helper.make_tensor_value_info("x", T.FLOAT, [3])], [helper.make_tensor_value_info("y", T.FLOAT, None)],
              {"c": np.asarray(True)})
    with pytest.raises(Exception, match="differ in rank"):
        onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    matches_onnxruntime(m, {"x": f32(3)}, tmp_path)


def minus_one_input() -> onnx.ModelProto:
    """ppocr_mobile_v2_cls: input 'x' declared [-1, 3, ?, ?]."""
    m = build([helper.make_node("GlobalAveragePool", ["x"], ["p"], name="gap"),
               helper.make_node("Flatten", ["p"], ["y"], name="flat")],
              [helper.make_tensor_value_info("x", T.FLOAT, [-1, 3, "h", "w"])],
              [helper.make_tensor_value_info("y", T.FLOAT, [-1, 3])])
    return m


def test_minus_one_dim_is_pinned_by_input_shape(tmp_path: Path) -> None:
    matches_onnxruntime(minus_one_input(), {"x": f32(2, 3, 4, 5)}, tmp_path, input_shapes={"x": (2, 3, 4, 5)})


def test_minus_one_dim_unpinned_asks_for_a_pin(tmp_path: Path) -> None:
    with pytest.raises(H3pcError, match=r"input 'x' \[\?x3xhxw\] has a dynamic shape; pin it with --input-shape "
                                        r"x=1x3x1x1"):
        import_model(save(minus_one_input(), tmp_path))


def test_other_negative_dims_are_still_refused(tmp_path: Path) -> None:
    m = build([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", T.FLOAT, [2, -4])],
              [helper.make_tensor_value_info("y", T.FLOAT, None)])
    with pytest.raises(H3pcError, match=r"graph input 'x' has a negative dimension \[2, -4\]"):
        import_model(save(m, tmp_path))


# ------------------------------------------------------------------------------------ --input-value


def flag_model(tmp_path: Path) -> Path:
    """y = x * scale + bias[k] with scale a float input, k an int64 input, and a bool input gating an If."""
    then_g = helper.make_graph([helper.make_node("Neg", ["a"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", T.FLOAT, [2, 3])])
    else_g = helper.make_graph([helper.make_node("Identity", ["a"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", T.FLOAT, [2, 3])])
    nodes = [helper.make_node("Mul", ["x", "scale"], ["xs"]), helper.make_node("Gather", ["bias", "k"], ["b"], axis=0),
             helper.make_node("Add", ["xs", "b"], ["a"]),
             helper.make_node("If", ["flip"], ["y"], name="flip_if", then_branch=then_g, else_branch=else_g)]
    m = build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [2, 3]),
                      helper.make_tensor_value_info("scale", T.FLOAT, [3]),
                      helper.make_tensor_value_info("k", T.INT64, []),
                      helper.make_tensor_value_info("flip", T.BOOL, [])],
              [helper.make_tensor_value_info("y", T.FLOAT, [2, 3])], {"bias": f32(4, 3)})
    return save(m, tmp_path)


@pytest.mark.parametrize("flip", [True, False])
def test_input_values_of_every_kind(flip: bool, tmp_path: Path) -> None:
    path = flag_model(tmp_path)
    m = onnx.load(str(path))
    x = f32(2, 3)
    scale = np.asarray([0.5, 1, 2], np.float32)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"x": x, "scale": scale, "k": np.asarray(2, np.int64), "flip": np.asarray(flip)})[0]
    for values in ({"scale": np.asarray([0.5, 1, 2]), "k": np.asarray([2]), "flip": np.asarray([flip])},
                   {"scale": scale, "k": np.asarray(2.0), "flip": np.asarray([int(flip)])}):
        imp = import_model(path, input_values=values)
        prog = NNProgram(imp.module, imp.weights)
        assert prog.input_names == ["x"]
        got = prog.run({"x": x})["y"]
        assert np.abs(got - ref).max() <= 1e-6


def test_input_value_with_input_shape_for_an_open_dim(tmp_path: Path) -> None:
    """A length input declared [batch] (asr_wespeaker's waveforms_lens): --input-shape gives the shape the
    --input-value values fill; without it, a 1-D value fills the one open dim."""
    nodes = [helper.make_node("Cast", ["n"], ["nf"], to=T.FLOAT), helper.make_node("Mul", ["x", "nf"], ["y"])]
    m = build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, ["b", 3]),
                      helper.make_tensor_value_info("n", T.INT64, ["b"])],
              [helper.make_tensor_value_info("y", T.FLOAT, None)])
    m.graph.node[1].input[1] = "nf2"
    m.graph.node.insert(1, helper.make_node("Unsqueeze", ["nf", "ax"], ["nf2"]))
    m.graph.initializer.append(numpy_helper.from_array(np.asarray([1], np.int64), "ax"))
    x = f32(2, 3)
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"x": x, "n": np.asarray([4, 7], np.int64)})[0]
    for shapes in ({"x": (2, 3), "n": (2,)}, {"x": (2, 3)}):
        imp = import_model(save(m, tmp_path), shapes, input_values={"n": np.asarray([4, 7])})
        got = NNProgram(imp.module, imp.weights).run({"x": x})["y"]
        assert np.abs(got - ref).max() <= 1e-6


@pytest.mark.parametrize("flags,message", [
    (["--input-value", "k"], "--input-value 'k': expected NAME=V[,V...] (for example sr=16000)"),
    (["--input-value", "=3"], "--input-value '=3': expected NAME=V[,V...]"),
    (["--input-value", "k="], "--input-value 'k=': expected NAME=V[,V...]"),
    (["--input-value", "k=two"], "--input-value k: 'two' is not a number (nor true/false)"),
    (["--input-value", "k=1", "--input-value", "k=2"], "--input-value names 'k' twice"),
    (["--input-value", "sr=1"], "--input-value names 'sr', which is not a graph input (inputs: x, scale, k, flip)"),
    (["--input-value", "scale=1,2"], "--input-value scale: 2 values given, its shape [3] holds 3"),
    (["--input-value", "k=1.5"], "--input-value k: the input holds integers (int64), not 1.5"),
    (["--input-value", "flip=2"], "--input-value flip: the input holds booleans; give true/false or 0/1"),
    (["--max-unroll", "-1"], "--max-unroll: -1 is out of range"),
])
def test_input_value_mistakes_are_one_line(flags: list[str], message: str, tmp_path: Path, capsys) -> None:
    path = flag_model(tmp_path)
    line = one_line(main([str(path), *flags]), capsys.readouterr().err)
    assert message in line, line


def test_stft_of_a_batch_by_length_signal_without_onesided(tmp_path: Path) -> None:
    """The log-mel front ends of onnx-asr: STFT of a [batch, length] signal, `onesided` left to its default
    (1), then a mel matrix over its bins. onnx's shape inference reads the absent attribute as 0 (twice the
    bins) and rejected the MatMul; the default is now explicit, and the signal is read as real."""
    n, frame, hop, bins = 64, 16, 8, 9
    nodes = [helper.make_node("STFT", ["x", "hop", "win"], ["spec"], name="stft"),
             helper.make_node("ReduceSumSquare", ["spec"], ["power"], axes=[-1], keepdims=0),
             helper.make_node("MatMul", ["power", "mel"], ["y"], name="mel")]
    m = build(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [1, n])],
              [helper.make_tensor_value_info("y", T.FLOAT, None)],
              {"hop": np.asarray(hop, np.int64), "win": np.hanning(frame).astype(np.float32),
               "mel": np.abs(f32(bins, 4))}, opset=17)
    matches_onnxruntime(m, {"x": f32(1, n)}, tmp_path)
