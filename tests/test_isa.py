"""The instruction table: every instruction encodes and decodes back; malformed streams name the byte."""

from __future__ import annotations

import pytest

import dataclasses
import pickle

from h3pc.backends import isa
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
    assert tensors_of(make("MVM", x=1, w=2, out=3, base=9, input_bits=8, adc_bits=7, replicas=1, sym=0)) == [1, 2, 3]



def test_each_kind_is_a_record_with_named_fields() -> None:
    """One frozen record type per table row, fields named as the table names them; kinds never compare
    equal even with the same values (the charges are memoised per instruction), and records pickle
    (sweep workers receive programs)."""
    for spec in ISA:
        cls = isa.RECORDS[spec.mnemonic]
        assert cls is getattr(isa, spec.mnemonic) and cls.op == spec.mnemonic and cls.spec is spec
        assert tuple(f.name for f in dataclasses.fields(cls)) == tuple(f.rstrip("*") for f in spec.fields)
        ins = make(spec.mnemonic, **sample(spec))
        assert isinstance(ins, cls) and pickle.loads(pickle.dumps(ins)) == ins
        for name in ins.names:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(ins, name, 0)
    pmm = make("PMM", a=1, b=2, out=3, in_bits=6, w_bits=5, out_bits=8, sym=4)
    assert (pmm.a, pmm.b, pmm.out, pmm.in_bits, pmm.w_bits, pmm.out_bits, pmm.sym) == (1, 2, 3, 6, 5, 8, 4)
    assert make("LD", tensor=1, sym=2) != make("ST", tensor=1, sym=2)
    assert len({make("LD", tensor=1, sym=2), make("ST", tensor=1, sym=2)}) == 2
    [back] = decode_stream(encode_stream([pmm]), "s")
    assert type(back) is isa.PMM and back.out == 3

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
