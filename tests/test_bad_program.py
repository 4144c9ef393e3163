"""Damaged binaries, bad hardware files and bad inputs: one clear line, a non-zero exit, no output file."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, model_path
from h3pc.backends import container
from h3pc.cli import main as h3pc
from h3pc.objdump import main as objdump
from h3pc.run import main as run


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prog") / "p.bin"
    assert h3pc([str(model_path("gpt2_tiny")), "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    ref = np.load(MODELS / "gpt2_tiny.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    path = tmp_path_factory.mktemp("in") / "x.npz"
    np.savez(path, **feeds)
    return path, feeds


def one_line(prog: str, code: int, err: str) -> str:
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    return lines[0]


def run_fails(argv: list[str], out: Path, capsys) -> str:
    code = run(argv + ["--outputs", str(out), "-q"])
    line = one_line("h3pc-run", code, capsys.readouterr().err)
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.*")), "temporary file left behind"
    return line


def damaged(tmp_path: Path, data: bytes, name: str = "bad.bin") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_truncated_programs(program, inputs, tmp_path, capsys) -> None:
    data = program.read_bytes()
    for cut in (0, 10, 63, 100, len(data) // 3, len(data) - 1):
        p = damaged(tmp_path, data[:cut])
        line = run_fails([str(p), "--inputs", str(inputs[0])], tmp_path / "y.npz", capsys)
        assert "truncated" in line or "bad magic" in line, line


def test_flipped_byte_in_every_section(program, inputs, tmp_path, capsys) -> None:
    data = program.read_bytes()
    c = container.decode(data)
    assert len(c.sections) >= 10
    for s in c.sections:
        if not s.data:
            continue
        buf = bytearray(data)
        buf[s.offset + len(s.data) // 2] ^= 0x40
        p = damaged(tmp_path, bytes(buf))
        line = run_fails([str(p), "--inputs", str(inputs[0])], tmp_path / "y.npz", capsys)
        assert f"checksum mismatch in section '{s.name}'" in line
        code = objdump([str(p)])
        one_line("h3pc-objdump", code, capsys.readouterr().err)


def test_wrong_magic_and_version(program, inputs, tmp_path, capsys) -> None:
    data = bytearray(program.read_bytes())
    bad_magic = b"NOTAPROG" + bytes(data[8:])
    line = run_fails([str(damaged(tmp_path, bad_magic)), "--inputs", str(inputs[0])], tmp_path / "y.npz", capsys)
    assert "bad magic" in line
    struct.pack_into("<H", data, 8, 99)
    line = run_fails([str(damaged(tmp_path, bytes(data))), "--inputs", str(inputs[0])], tmp_path / "y.npz", capsys)
    assert "format version 99" in line


def test_corrupt_stream_with_valid_checksum(program, inputs, tmp_path, capsys) -> None:
    """A stream re-checksummed after damage still fails with the byte offset of the bad instruction."""
    c = container.decode(program.read_bytes())
    sections = {s.name: (s.kind, s.data) for s in c.sections}
    kind, raw = sections["stream.digital"]
    sections["stream.digital"] = (kind, b"\xee\x00\x00\x00" + raw)
    bad = container.encode(container.make(c.hw_digest.hex(), c.tool_version, sections))
    line = run_fails([str(damaged(tmp_path, bad)), "--inputs", str(inputs[0])], tmp_path / "y.npz", capsys)
    assert "unknown opcode 0xee at byte 0" in line


def test_bad_hardware_file(inputs, program, tmp_path, capsys) -> None:
    hw = tmp_path / "hw.yaml"
    hw.write_text("name: x\nphotonic: {tiles: 2}\n")
    code = h3pc([str(model_path("mlp_digits")), "-o", str(tmp_path / "p.bin"), "--hw", str(hw)])
    line = one_line("h3pc", code, capsys.readouterr().err)
    assert "hw.yaml" in line and "photonic" in line
    assert not (tmp_path / "p.bin").exists()
    line = run_fails([str(program), "--inputs", str(inputs[0]), "--hw", str(hw)], tmp_path / "y.npz", capsys)
    assert "hw.yaml" in line


@pytest.mark.parametrize("case", ["missing", "extra", "shape", "dtype", "not-npz"])
def test_bad_inputs(case, program, inputs, tmp_path, capsys) -> None:
    _, feeds = inputs
    name, arr = next(iter(feeds.items()))
    bad = tmp_path / "bad.npz"
    if case == "missing":
        np.savez(bad, other=arr)
    elif case == "extra":
        np.savez(bad, **feeds, extra=arr)
    elif case == "shape":
        np.savez(bad, **{name: arr[..., :-1]})
    elif case == "dtype":
        np.savez(bad, **{name: arr.astype(np.float64 if arr.dtype.kind != "f" else np.int32)})
    else:
        bad.write_text("not an npz")
    line = run_fails([str(program), "--inputs", str(bad)], tmp_path / "y.npz", capsys)
    expect = {"missing": "missing input", "extra": "unknown input 'extra'", "shape": "has shape",
              "dtype": "has dtype", "not-npz": "not a readable .npz"}[case]
    assert expect in line, line


def test_nan_input(tmp_path, capsys) -> None:
    prog = tmp_path / "p.bin"
    assert h3pc([str(model_path("mlp_digits")), "-o", str(prog)]) == 0
    bad = tmp_path / "nan.npz"
    np.savez(bad, x=np.full((1, 64), np.nan, np.float32))
    line = run_fails([str(prog), "--inputs", str(bad)], tmp_path / "y.npz", capsys)
    assert "NaN or Inf" in line
