"""The instruction set of every tier: one table that the encoder, the decoder and the disassembler read.

An instruction is a tile-level macro operation (a photonic GEMM tile group, a crossbar-group MVM, a
vector op over buffer tensors). Encoding, little-endian: u16 opcode | u16 word count | that many u32
words. Scalar fields take one word; a list field is a count word followed by its items. Tensor
operands are indices into the program's tensor table; `sym` indexes the symbol table (ONNX node).
Each row also makes its instruction's record type (`LD`, `PMM`, ...), whose fields are the row's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, make_dataclass
from typing import ClassVar

from h3pc.diagnostics import H3pcError


@dataclass(frozen=True)
class Spec:
    code: int
    mnemonic: str
    scope: str  # which streams may hold it: one of SCOPES
    fields: tuple[str, ...]  # a trailing "*" marks a list field
    doc: str


#: "engines": every stream; "tiers": every tier's stream; "dma": the DMA engine's; "tier": the streams
#: of the tiers that declare it (backends/tier.py `Tier.instructions`)
SCOPES = ("engines", "tiers", "dma", "tier")
_ALL, _SYNC, _OWN = "tiers", "engines", "tier"

#: the instruction table (docs/program-format.md is generated from the same rows); the built-in tiers'
#: instructions are here with the format, so that a program reads without loading any tier's code
ISA: list[Spec] = [
    Spec(0x01, "LD", _ALL, ("tensor", "sym"), "load a tensor from the global buffer (weights: from off-chip memory)"),
    Spec(0x02, "ST", _ALL, ("tensor", "sym"), "store a result tensor to the global buffer"),
    Spec(0x03, "SIGNAL", _SYNC, ("tensor",), "announce to the other engines that a tensor (or sync token) is ready"),
    Spec(0x04, "WAIT", _SYNC, ("tensor",), "block until another engine has signalled a tensor (or sync token)"),
    Spec(0x05, "HALT", _SYNC, (), "end of the stream"),
    Spec(0x06, "FILL", "dma", ("tensor", "sym"),
         "copy a weight tensor from off-chip memory into its global-buffer slot ahead of its load"),
    Spec(0x10, "PMM", _OWN, ("a", "b", "out", "in_bits", "w_bits", "out_bits", "sym"),
         "grouped GEMM out[g,m,n] = a[g,m,k] @ b[g,k,n] on the photonic cores, both operands dynamic"),
    Spec(0x20, "PROG", _OWN, ("w", "base", "resident", "weight_bits", "cell_bits", "replicas", "sym"),
         "write weights w[(g,)k,n] bit-sliced into crossbars from `base` (resident: once at load), `replicas` "
         "copies side by side"),
    Spec(0x21, "MVM", _OWN, ("x", "w", "out", "base", "input_bits", "adc_bits", "replicas", "sym"),
         "out = x @ w read from the crossbars at `base` (bit-serial inputs, per-crossbar ADC reads), the input "
         "vectors shared out over the weights' `replicas` copies, which read in parallel"),
    Spec(0x22, "MVMS", _OWN, ("x", "w", "out", "base", "input_bits", "adc_bits", "replicas", "scale_f32", "levels",
                              "sym"),
         "MVM whose input DAC steps by the model's own activation scale (`scale_f32`, the IEEE-754 bits of a "
         "float32) instead of the input's per-inference range, codes clipped to +-`levels`"),
    Spec(0x23, "PROGS", _OWN, ("w", "scale", "base", "resident", "weight_bits", "cell_bits", "replicas", "sym"),
         "PROG of a quantized model's weights: the cells hold w / scale (its own integer codes, `scale` one "
         "step per output column, [(g *) cols]) instead of codes of a step from the column's range"),
    Spec(0x30, "GEMM", _OWN, ("a", "b", "out", "sym"), "grouped GEMM on the SIMD vector unit (fp32)"),
    Spec(0x31, "VOP", _OWN, ("kernel", "ins*", "outs*", "sym"),
         "a vector op: kernel k of the kernels section over buffer tensors"),
]
BY_NAME = {s.mnemonic: s for s in ISA}
#: fields that name tensors (scalar or list)
TENSOR_FIELDS = frozenset({"tensor", "a", "b", "out", "w", "x", "ins", "outs", "scale"})
#: the instructions that write weights into crossbars
PROGRAMS = frozenset({"PROG", "PROGS"})
#: the tensor fields a computing instruction writes (it reads the others)
RESULT_FIELDS = frozenset({"out", "outs"})
BY_CODE = {s.code: s for s in ISA}
_HEAD = struct.Struct("<HH")


class Instr:
    """An instruction. Every kind has its own record type (`LD`, `PMM`, ... below, generated from the
    table), a frozen dataclass whose fields are the spec's, read by name: `ins.out`, `ins.w`. `op` is
    the mnemonic; records of different kinds never compare equal."""

    __slots__ = ()
    op: ClassVar[str]
    spec: ClassVar[Spec]
    names: ClassVar[tuple[str, ...]]  # the spec's field names without the list marker

    @property
    def args(self) -> tuple:
        """The field values in encoding order (lists as tuples). For code that walks the table's fields
        generically (the encoder, a fuzzer's mutator); code that means one field names it."""
        return tuple(getattr(self, f) for f in self.names)


def _record(spec: Spec) -> type[Instr]:
    names = tuple(f.rstrip("*") for f in spec.fields)
    cls = make_dataclass(
        spec.mnemonic,
        [(n, tuple[int, ...] if f.endswith("*") else int) for n, f in zip(names, spec.fields)],
        bases=(Instr,), frozen=True, slots=True,
        namespace={"__doc__": f"{spec.mnemonic}: {spec.doc}."})
    cls.op, cls.spec, cls.names = spec.mnemonic, spec, names
    cls.__module__ = __name__  # pickled by name: the records below are this module's globals
    return cls


#: mnemonic -> its record type
RECORDS: dict[str, type[Instr]] = {s.mnemonic: _record(s) for s in ISA}
LD, ST, SIGNAL, WAIT, HALT, FILL = (RECORDS[m] for m in ("LD", "ST", "SIGNAL", "WAIT", "HALT", "FILL"))
PMM, PROG, PROGS, MVM, MVMS, GEMM, VOP = (RECORDS[m] for m in ("PMM", "PROG", "PROGS", "MVM", "MVMS", "GEMM",
                                                                 "VOP"))


def register_instruction(spec: Spec) -> type[Instr]:
    """Add a new tier's instruction (opcode and mnemonic unused so far); returns its record type."""
    if spec.code in BY_CODE or spec.mnemonic in BY_NAME or not 0 < spec.code < 1 << 16 or spec.scope not in SCOPES:
        raise H3pcError(f"instruction {spec.mnemonic} (0x{spec.code:02x}): opcode or mnemonic taken, or bad scope")
    ISA.append(spec)
    BY_NAME[spec.mnemonic] = BY_CODE[spec.code] = spec
    RECORDS[spec.mnemonic] = rec = _record(spec)
    globals()[spec.mnemonic] = rec  # pickled by name, as the built-in records
    return rec


def unregister_instruction(mnemonic: str) -> None:
    """Remove an instruction added by `register_instruction` (tests that add a tier remove it again)."""
    spec = BY_NAME.pop(mnemonic)
    del BY_CODE[spec.code], RECORDS[mnemonic]
    globals().pop(mnemonic, None)
    ISA.remove(spec)


def make(op: str, **kw: int | tuple[int, ...] | list[int]) -> Instr:
    """The `op` instruction with its fields by name (lists become tuples, scalars ints)."""
    spec = BY_NAME[op]
    return RECORDS[op](**{f.rstrip("*"): tuple(kw[f[:-1]]) if f.endswith("*") else int(kw[f])  # type: ignore
                          for f in spec.fields})


def encode_stream(instrs: list[Instr]) -> bytes:
    out = bytearray()
    for ins in instrs:
        spec = ins.spec
        words: list[int] = []
        for f, v in zip(spec.fields, ins.args):
            if f.endswith("*"):
                words.append(len(v))
                words.extend(v)
            else:
                words.append(v)
        out += _HEAD.pack(spec.code, len(words)) + struct.pack(f"<{len(words)}I", *words)
    return bytes(out)


def decode_stream(data: bytes, where: str) -> list[Instr]:
    """Decode a stream; any malformed instruction is an error naming the byte offset."""
    out: list[Instr] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + _HEAD.size > end:
            raise H3pcError(f"{where}: truncated instruction header at byte {pos}")
        code, nwords = _HEAD.unpack_from(data, pos)
        spec = BY_CODE.get(code)
        if spec is None:
            raise H3pcError(f"{where}: unknown opcode 0x{code:02x} at byte {pos}")
        body = pos + _HEAD.size
        if body + 4 * nwords > end:
            raise H3pcError(f"{where}: {spec.mnemonic} at byte {pos} runs past the end of the stream")
        words = struct.unpack_from(f"<{nwords}I", data, body)
        args, i = [], 0
        try:
            for f in spec.fields:
                if f.endswith("*"):
                    n = words[i]
                    if i + 1 + n > nwords:
                        raise IndexError
                    args.append(tuple(words[i + 1 : i + 1 + n]))
                    i += 1 + n
                else:
                    args.append(words[i])
                    i += 1
        except IndexError:
            raise H3pcError(f"{where}: {spec.mnemonic} at byte {pos} has too few operand words ({nwords})") from None
        if i != nwords:
            raise H3pcError(f"{where}: {spec.mnemonic} at byte {pos} has {nwords} words, its fields use {i}")
        out.append(RECORDS[spec.mnemonic](*args))
        pos = body + 4 * nwords
    return out


def tensors_of(ins: Instr, fields: frozenset[str] = TENSOR_FIELDS) -> list[int]:
    """Every tensor id an instruction names (in `fields` only, when given)."""
    out: list[int] = []
    for f, name in zip(ins.spec.fields, ins.names):
        if name in fields:
            v = getattr(ins, name)
            out.extend(v if f.endswith("*") else (v,))
    return out


def disassemble(ins: Instr) -> str:
    spec = ins.spec
    parts = []
    for f, name in zip(spec.fields, ins.names):
        v = getattr(ins, name)
        if name == "sym":
            continue
        parts.append(f"{name}=[{','.join(f'%{t}' for t in v)}]" if f.endswith("*")
                     else f"{name}=%{v}" if name in TENSOR_FIELDS else f"{name}={v}")
    return f"{spec.mnemonic:<6} " + " ".join(parts)
