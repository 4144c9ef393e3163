"""program.bin container: round trip, and every kind of damage refused with a one-line reason."""

from __future__ import annotations

import pytest

from h3pc import __version__
from h3pc.backends.container import ALIGN, FORMAT_VERSION, Container, decode, encode, make
from h3pc.diagnostics import H3pcError
from h3pc.hardware import load_hardware

HW = load_hardware("h3pimap")


def sample() -> Container:
    return make(HW.digest, __version__, {
        "photonic": ("stream", b"\x01\x02\x03"),
        "weights": ("weights", bytes(range(200))),
        "hardware": ("hardware", b"name: h3pimap\n"),
        "symbols": ("symbols", b"[]"),
    })


def test_round_trip_and_alignment() -> None:
    c = sample()
    raw = encode(c)
    assert decode(raw) == c
    assert raw[:8] == b"H3PCPROG"
    assert encode(decode(raw)) == raw  # byte-identical re-encode
    import struct

    n = struct.unpack_from("<H", raw, 10)[0]
    for i in range(n):
        off = struct.unpack_from("<Q", raw, 64 + i * 48 + 24)[0]
        assert off % ALIGN == 0


def test_every_flipped_byte_is_detected() -> None:
    raw = encode(sample())
    detected = 0
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x5A
        try:
            if decode(bytes(bad)) != decode(raw):
                detected += 1
        except H3pcError:
            detected += 1
    # flips in padding and reserved fields change nothing that is read; every other flip is caught
    padding = sum(1 for i in range(len(raw)) if raw[i] == 0)
    assert detected >= len(raw) - padding


@pytest.mark.parametrize("cut", [0, 10, 63, 100, -1])
def test_truncation(cut: int) -> None:
    raw = encode(sample())
    with pytest.raises(H3pcError, match="truncated"):
        decode(raw[:cut] if cut >= 0 else raw[:-1])


def test_wrong_magic_and_version() -> None:
    raw = bytearray(encode(sample()))
    with pytest.raises(H3pcError, match="bad magic"):
        decode(b"NOTPROGR" + bytes(raw[8:]))
    raw[8] = FORMAT_VERSION + 1
    with pytest.raises(H3pcError, match=f"format version {FORMAT_VERSION + 1} is not supported"):
        decode(bytes(raw))


def test_missing_section_is_named() -> None:
    with pytest.raises(H3pcError, match="no section 'digital'"):
        sample().section("digital")


def test_trailing_bytes_refused() -> None:
    with pytest.raises(H3pcError, match="trailing bytes"):
        decode(encode(sample()) + b"\0")


def test_a_program_without_symbol_names_runs_and_disassembles(tmp_path, capsys) -> None:
    """The symbol table only names ONNX nodes: emptied, a program still runs, reports and disassembles."""
    import dataclasses

    import numpy as np

    from conftest import model_path
    from h3pc.backends import isa
    from h3pc.backends.isa import decode_stream, encode_stream
    from h3pc.backends.program import symbol_of, to_container
    from h3pc.compiler import compile_model
    from h3pc.objdump import main as objdump
    from h3pc.run import main as run

    prog = compile_model(str(model_path("cnn_digits")), "hybrid").program
    c = to_container(prog)

    def unnamed(section):  # every instruction names symbol 0, which an empty table may hold
        if section.name == "symbols":
            return dataclasses.replace(section, data=b"[]")
        if section.name.startswith("stream."):
            instrs = decode_stream(bytes(section.data), section.name)
            return dataclasses.replace(section, data=encode_stream([dataclasses.replace(i, sym=0)
                                                                    if symbol_of(i) is not None else i
                                                                    for i in instrs]))
        return section

    empty = [unnamed(s) for s in c.sections]
    (tmp_path / "p.bin").write_bytes(encode(dataclasses.replace(c, sections=empty)))
    data = np.load(model_path("cnn_digits").with_suffix(".npz"))
    np.savez(tmp_path / "x.npz", **{k[3:]: data[k] for k in data.files if k.startswith("in/")})
    assert run([str(tmp_path / "p.bin"), "--inputs", str(tmp_path / "x.npz"), "--outputs", str(tmp_path / "y.npz"),
                "--report", str(tmp_path / "r.json"), "--trace", str(tmp_path / "t.json")]) == 0
    assert objdump([str(tmp_path / "p.bin")]) == 0
    assert "PMM" in capsys.readouterr().out
