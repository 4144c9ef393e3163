"""Bad input never produces a traceback: one line naming what is wrong, and a non-zero exit code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import model_path
from h3pc.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code != 0
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("h3pc: error: ")
    return lines[0]


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def mlp(tmp_path: Path, nodes=None, inputs=None, name="m.onnx", ir_version=10) -> Path:
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    nodes = nodes or [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])]
    g = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=ir_version)
    return save(m, tmp_path / name)


def test_missing_file(tmp_path: Path, capsys) -> None:
    line = one_line_error(*run([str(tmp_path / "nope.onnx")], capsys)[::2])
    assert "no such file" in line


def test_not_onnx(tmp_path: Path, capsys) -> None:
    p = tmp_path / "x.onnx"
    p.write_bytes(b"\xff\xfe this is not a protobuf \x07\x00" * 10)
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "not an ONNX model" in line and "byte offset" in line


def test_text_file(tmp_path: Path, capsys) -> None:
    p = tmp_path / "readme.onnx"
    p.write_text("hello world\n")
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "ONNX" in line


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.97])
def test_truncated(tmp_path: Path, capsys, fraction: float) -> None:
    data = model_path("helper_mlp").read_bytes()
    p = tmp_path / "cut.onnx"
    p.write_bytes(data[: int(len(data) * fraction)])
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "truncated" in line or "not an ONNX model" in line


def test_ir_version_too_new(tmp_path: Path, capsys) -> None:
    p = mlp(tmp_path, ir_version=14)
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "IR version 14" in line


def test_unknown_domain_and_every_unsupported_node_listed(tmp_path: Path, capsys) -> None:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["a"], name="mm"),
        helper.make_node("Frobnicate", ["a"], ["b"], name="frob1", domain="com.acme"),
        helper.make_node("Einsum", ["b"], ["y"], name="ein", equation="ij->ji"),
    ]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.ones((4, 3), np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.acme", 1)],
                          ir_version=10)
    p = save(m, tmp_path / "u.onnx")
    code, _, err = run([str(p)], capsys)
    line = one_line_error(code, err)
    assert "'frob1' (com.acme.Frobnicate)" in line and "'ein' (ai.onnx.Einsum)" in line
    code, out, _ = run(["--op-stats", str(p)], capsys)
    assert code != 0 and "UNSUPPORTED" in out and "com.acme.Frobnicate" in out


def test_dynamic_shape_needs_input_shape(tmp_path: Path, capsys) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    p = mlp(tmp_path, inputs=[x])
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "input 'x'" in line and "--input-shape x=" in line
    code, out, _ = run([str(p), "--input-shape", "x=3x4", "--emit", "nn"], capsys)
    assert code == 0 and "tensor<3x4xf32>" in out
    line = one_line_error(*run([str(p), "--input-shape", "x=3x5"], capsys)[::2])
    assert "dim 1" in line
    line = one_line_error(*run([str(p), "--input-shape", "y=3x4"], capsys)[::2])
    assert "not a graph input" in line
    line = one_line_error(*run([str(p), "--input-shape", "x=three"], capsys)[::2])
    assert "expected NAME=" in line


def test_edge_to_missing_tensor(tmp_path: Path, capsys) -> None:
    p = mlp(tmp_path, nodes=[helper.make_node("MatMul", ["x", "ghost"], ["y"], name="mm")])
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "'ghost'" in line and "'mm'" in line


def test_graph_cycle(tmp_path: Path, capsys) -> None:
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
        helper.make_node("Relu", ["a"], ["b"], name="n2"),
        helper.make_node("Identity", ["a"], ["y"], name="n3"),
    ]
    p = mlp(tmp_path, nodes=nodes)
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "cycle" in line


def test_negative_dim_initializer(tmp_path: Path, capsys) -> None:
    t = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    t.dims[0] = -4
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [t])
    p = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), tmp_path / "n.onnx")
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "negative dimension" in line


def test_huge_declared_tensor_is_not_allocated(tmp_path: Path, capsys) -> None:
    t = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    del t.dims[:]
    t.dims.extend([10**6, 10**6])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 10**6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [t])
    p = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), tmp_path / "h.onnx")
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "payload bytes" in line


def test_opset_out_of_range(tmp_path: Path, capsys) -> None:
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    p = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 7)], ir_version=10), tmp_path / "o.onnx")
    line = one_line_error(*run([str(p)], capsys)[::2])
    assert "opset 7" in line


def test_debug_shows_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception):
        main([str(tmp_path / "nope.onnx"), "--debug"])


def test_ir_out_is_written_atomically(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.mlir"
    code, _, _ = run([str(model_path("mlp_digits")), "--emit", "nn", "--ir-out", str(out)], capsys)
    assert code == 0 and out.read_text().startswith("builtin.module")
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlir"]
