"""Bad input never produces a traceback: one line naming what is wrong, and a non-zero exit code.

The malformed files themselves are one table in tests/test_hostile.py; here are the cases that check more
than one invocation (op statistics, --input-shape, --debug, --ir-out)."""

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


def test_unknown_domain_and_every_unsupported_node_listed(tmp_path: Path, capsys) -> None:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["a"], name="mm"),
        helper.make_node("Frobnicate", ["a"], ["b"], name="frob1", domain="com.acme"),
        helper.make_node("StringNormalizer", ["b"], ["y"], name="ein"),
    ]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.ones((4, 3), np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.acme", 1)],
                          ir_version=10)
    p = save(m, tmp_path / "u.onnx")
    code, _, err = run([str(p)], capsys)
    line = one_line_error(code, err)
    assert "'frob1' (com.acme.Frobnicate)" in line and "'ein' (ai.onnx.StringNormalizer)" in line
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


def test_debug_shows_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception):
        main([str(tmp_path / "nope.onnx"), "--debug"])


def test_ir_out_is_written_atomically(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.mlir"
    code, _, _ = run([str(model_path("mlp_digits")), "--emit", "nn", "--ir-out", str(out)], capsys)
    assert code == 0 and out.read_text().startswith("builtin.module")
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlir"]


def test_dynamic_shape_suggestion_compiles_when_followed(tmp_path: Path, capsys) -> None:
    """The pin the error suggests is one that imports: a 3x3 convolution without padding needs 3 pixels
    (1x3x1x1 gave a negative dimension further on), and every dynamic input is pinned in one go."""
    conv = [helper.make_node("Conv", ["images", "k"], ["c"], name="conv", kernel_shape=[3, 3]),
            helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
            helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, "H", "W"])
    g = helper.make_graph(conv, "g", [images], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "k")])
    cnn = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), tmp_path / "c.onnx")
    two = mlp(tmp_path, name="two.onnx", inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 4])],
              nodes=[helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
                     helper.make_node("Add", ["m", "z"], ["y"], name="add")])
    m = onnx.load(two)
    m.graph.input.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, ["b", 3]))
    save(m, two)
    for model in (cnn, two):
        line = one_line_error(*run([str(model), "-o", str(tmp_path / "p.bin")], capsys)[::2])
        flags = line.split(" with ", 1)[1].split()
        assert flags[0] == "--input-shape" and len(flags) == 2 * len(m.graph.input if model == two else [1])
        code, _, err = run([str(model), "-o", str(tmp_path / "p.bin"), "-q", *flags], capsys)
        assert code == 0 and err == "", err
    assert "images=1x3x8x8" in one_line_error(*run([str(cnn)], capsys)[::2])
