"""The instruction table: every instruction encodes and decodes back; malformed streams name the byte."""

from __future__ import annotations

import pytest

from h3pc.backends.isa import BY_CODE, ISA, decode_stream, disassemble, encode_stream, make, tensors_of
from h3pc.diagnostics import H3pcError


def sample(spec) -> dict:
    return {f.rstrip("*"): ((1, 2, 3) if f.endswith("*") else 7 + i) for i, f in enumerate(spec.fields)}


def test_every_instruction_round_trips() -> None:
    instrs = [make(s.mnemonic, **sample(s)) for s in ISA]
    data = encode_stream(instrs)
    assert decode_stream(data, "s") == instrs
    assert len({s.code for s in ISA}) == len(ISA) == len(BY_CODE)
    for ins in instrs:
        assert disassemble(ins).startswith(ins.op)


def test_tensor_operands_follow_the_table() -> None:
    vop = make("VOP", kernel=3, ins=(4, 5), outs=(6,), sym=0)
    assert tensors_of(vop) == [4, 5, 6]
    assert tensors_of(make("MVM", x=1, w=2, out=3, base=9, input_bits=8, adc_bits=7, sym=0)) == [1, 2, 3]


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00", "truncated instruction header at byte 0"),
    (b"\x99\x00\x00\x00", "unknown opcode 0x99 at byte 0"),
    (b"\x05\x00\x00\x00\x01\x00\x05\x00", "LD at byte 4 runs past the end"),
    (b"\x01\x00\x01\x00\x00\x00\x00\x00", "LD at byte 0 has too few operand words (1)"),
    (b"\x05\x00\x01\x00\x00\x00\x00\x00", "HALT at byte 0 has 1 words, its fields use 0"),
    (b"\x31\x00\x03\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00", "VOP at byte 0 has too few operand words"),
])
def test_malformed_streams(data: bytes, message: str) -> None:
    with pytest.raises(H3pcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_stream(data, "s")
