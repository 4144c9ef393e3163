"""A compiled program in memory, and its program.bin form (docs/program-format.md).

Sections: one `stream.<tier>` per tier (backends/isa.py encoding), `weights` (every constant tensor,
64-byte aligned), `hardware` (the description as canonical JSON, whose sha256 is the header digest),
`signature` (graph inputs and outputs), `tensors` (shape, dtype, role and weight offset of every
tensor id), `kernels` (the digital tier's vector ops as generic MLIR, one function each) and
`symbols` (instruction -> ONNX node). Tables are JSON with sorted keys, so the same program always
encodes to the same bytes.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h3pc import __version__
from h3pc.backends import container
from h3pc.backends.isa import Instr, decode_stream, encode_stream, tensors_of
from h3pc.diagnostics import H3pcError
from h3pc.dialects.types import ELEMENT_TYPES, MAX_TENSOR_ELEMENTS
from h3pc.hardware.schema import DMA, HardwareConfig, parse_hardware

ALIGN = container.ALIGN


@dataclass(frozen=True)
class Tensor:
    shape: tuple[int, ...]
    dtype: str
    role: str  # input | const | value | folded (a compile-time constant that is not stored) | token
    offset: int = -1  # into the weights section (consts only)
    #: where the tensor lives while the program runs: "buffer" (global buffer, at byte `addr` once
    #: planned), "resident" (a weight held in the M tier's weight region from program load on),
    #: "offchip" (weights read straight from off-chip memory, spilled values); a token (a sync flag
    #: of the buffer plan) lives nowhere ("")
    home: str = "buffer"
    addr: int = -1
    #: bits per element in the buffer and on the links: the stored format of whoever writes it (a
    #: tier's output precision, a weight in the format of the tier that holds it); 0: the dtype's
    bits: int = 0

    @property
    def nbytes(self) -> int:
        """Bytes of its numpy value (the weights section, the emulator's memory)."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    @property
    def stored_bits(self) -> int:
        return self.bits or np.dtype(self.dtype).itemsize * 8

    @property
    def stored_bytes(self) -> int:
        """Bytes it takes in the global buffer and moves over a link, in its stored format."""
        return -(-int(np.prod(self.shape, dtype=np.int64)) * self.stored_bits // 8)


@dataclass
class Program:
    hw: HardwareConfig
    streams: dict[str, list[Instr]]
    tensors: list[Tensor]
    kernels: str  # MLIR text: func @k<i> per vector-op kernel
    symbols: list[dict[str, Any]]  # {"node", "op"}
    inputs: list[dict[str, Any]]  # {"name", "tensor"}
    outputs: list[dict[str, Any]]
    consts: dict[int, np.ndarray] = field(default_factory=dict)
    #: the vector ops behind `kernels` when the program was just generated (None when read from a file):
    #: in-process users need not print and re-parse them
    kernel_ops: list[Any] | None = None

    def const(self, tid: int) -> np.ndarray:
        return self.consts[tid]


def _json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def to_container(prog: Program) -> container.Container:
    offsets: dict[int, int] = {}
    parts: list[bytes | memoryview] = []  # each constant's bytes in place, then its padding
    pos = 0
    for tid in sorted(prog.consts):
        arr = np.ascontiguousarray(prog.consts[tid])
        offsets[tid] = pos
        pad = (-arr.nbytes) % ALIGN
        parts.append(memoryview(arr.reshape(-1).view(np.uint8)))
        if pad:
            parts.append(bytes(pad))
        pos += arr.nbytes + pad
    # constants consumed only at compile time (folded into others) are not stored
    tensors = [{"shape": list(t.shape), "dtype": t.dtype, "offset": offsets.get(i, -1),
                "role": "folded" if t.role == "const" and i not in offsets else t.role,
                "home": t.home, "addr": t.addr, "bits": t.bits}
               for i, t in enumerate(prog.tensors)]
    sections: dict[str, tuple[str, bytes | memoryview]] = {}
    for tier in prog.hw.engines():
        sections[f"stream.{tier}"] = ("stream", encode_stream(prog.streams.get(tier, [])))
    sections["hardware"] = ("hardware", _json(prog.hw.to_dict()))
    sections["signature"] = ("signature", _json({"inputs": prog.inputs, "outputs": prog.outputs}))
    sections["tensors"] = ("meta", _json(tensors))
    sections["kernels"] = ("meta", prog.kernels.encode())
    sections["symbols"] = ("symbols", _json(prog.symbols))
    sections["weights"] = ("weights", container.Pieces(tuple(parts)))
    return container.make(prog.hw.digest, __version__, sections)


def from_container(c: container.Container, where: str) -> Program:
    """Rebuild a Program; every table is checked so that a damaged file fails here with one line."""
    hw = parse_hardware(_json_section(c, "hardware", where), f"{where}: hardware section")
    if hw.digest != c.hw_digest.hex():
        raise H3pcError(f"{where}: hardware section does not match the header digest")
    sig = _json_section(c, "signature", where)
    tables = _json_section(c, "tensors", where)
    symbols = _json_section(c, "symbols", where)
    section = "tensors"
    try:
        tensors = [_tensor(t) for t in tables]
        section = "signature"
        inputs, outputs = list(sig["inputs"]), list(sig["outputs"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise H3pcError(f"{where}: malformed {section} section ({type(exc).__name__}: {exc})") from None
    _check_tables(tensors, inputs, outputs, symbols, where)
    streams = {t: decode_stream(c.section(f"stream.{t}").data, f"{where}: stream.{t}") for t in hw.engines()}
    weights = _aligned(c.section("weights").data)
    consts: dict[int, np.ndarray] = {}
    for i, t in enumerate(tensors):
        if t.role != "const":
            continue
        if t.offset < 0 or t.offset + t.nbytes > len(weights):
            raise H3pcError(f"{where}: tensor %{i} points past the end of the weights section")
        consts[i] = weights[t.offset : t.offset + t.nbytes].view(t.dtype).reshape(t.shape)
    _check_refs(streams, tensors, symbols, where)
    kernels = bytes(c.section("kernels").data).decode("utf-8", "replace")
    _check_string_literals(kernels, where)
    return Program(hw, streams, tensors, kernels, symbols, inputs, outputs, consts)


#: what a tensor table entry may say (backends/codegen.py, backends/plan_buffer.py write these)
_DTYPES = frozenset(str(d) for _, d, _ in ELEMENT_TYPES)
_ROLES = frozenset({"input", "const", "value", "folded", "token"})
_HOMES = frozenset({"buffer", "resident", "offchip", ""})


def _json_section(c: container.Container, name: str, where: str) -> Any:
    try:
        return json.loads(bytes(c.section(name).data))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        raise H3pcError(f"{where}: malformed {name} section (not valid JSON: {type(exc).__name__})") from None


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"expected an integer, got {v!r}")
    return v


def _tensor(t: Any) -> Tensor:
    """One tensor table entry, strictly: a damaged table must not become a numpy error later."""
    shape = tuple(_int(d) for d in t["shape"])
    dtype, role, home = t["dtype"], t["role"], t["home"]
    if dtype not in _DTYPES or role not in _ROLES or home not in _HOMES:
        raise ValueError(f"bad dtype, role or home {dtype!r}, {role!r}, {home!r}")
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=object)) > MAX_TENSOR_ELEMENTS:
        raise ValueError(f"bad shape {list(shape)}")
    bits = _int(t["bits"])
    if not 0 <= bits <= 64:
        raise ValueError(f"bad bits {bits}")
    return Tensor(shape, dtype, role, _int(t["offset"]), home, _int(t["addr"]), bits)


def _check_tables(tensors: list[Tensor], inputs: list, outputs: list, symbols: Any, where: str) -> None:
    """The signature names tensors in the table; every symbol is a {node, op} pair."""
    for kind, entries in (("input", inputs), ("output", outputs)):
        for e in entries:
            if not (isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("tensor"), int)
                    and not isinstance(e["tensor"], bool)):
                raise H3pcError(f"{where}: malformed signature section ({kind} entry {e!r:.60})")
            if not 0 <= e["tensor"] < len(tensors):
                raise H3pcError(f"{where}: signature: {kind} {e['name']!r} names tensor %{e['tensor']} past the "
                                f"table ({len(tensors)} tensors)")
    if not isinstance(symbols, list) or not all(
            isinstance(s, dict) and isinstance(s.get("node"), str) and isinstance(s.get("op"), str) for s in symbols):
        raise H3pcError(f"{where}: malformed symbols section (expected a list of {{node, op}} entries)")


#: an MLIR string literal, as xDSL's lexer accepts it, but without its nested quantifier
#: (`(?:[^"...]+|...)*`), which backtracks exponentially on a literal that does not close: a damaged
#: kernels section of a few hundred bytes would hang the parser (runtime/kernels.py) for hours
_STRING_LITERAL = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')


def _check_string_literals(text: str, where: str) -> None:
    """Every string literal of the kernels text closes on its line with valid escapes (linear time)."""
    pos = text.find('"')
    while pos >= 0:
        m = _STRING_LITERAL.match(text, pos)
        if m is None:
            line = text.count("\n", 0, pos) + 1
            raise H3pcError(f"{where}: kernels section: malformed string literal at line {line}")
        pos = text.find('"', m.end())


def _aligned(data: bytes | memoryview) -> np.ndarray:
    """The weights in one 64-byte aligned buffer, so every constant view is aligned (numpy kernels
    copy or slow down on unaligned views). A section of a memory-mapped file already is (pages are
    aligned and sections start at 64-byte offsets): it is used in place, not copied."""
    view = np.frombuffer(data, np.uint8)
    if view.ctypes.data % ALIGN == 0:
        return view
    raw = np.empty(len(data) + ALIGN, np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    buf = raw[start : start + len(data)]
    buf[:] = np.frombuffer(data, np.uint8)
    buf.flags.writeable = False
    return buf


def in_scope(scope: str, stream: str) -> bool:
    """May a stream hold an instruction of this scope (backends/isa.py)? Which tier owns a tier's own
    instruction is the runtime verifier's check (it knows the registered tiers)."""
    return scope == "engines" or (scope == "dma") == (stream == DMA)


def _check_refs(streams: dict[str, list[Instr]], tensors: list[Tensor], symbols: list, where: str) -> None:
    n, ns = len(tensors), len(symbols)
    for tier, instrs in streams.items():
        for i, ins in enumerate(instrs):
            if not in_scope(ins.spec.scope, tier):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) belongs to another tier")
            if any(t >= n for t in tensors_of(ins)):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) names a tensor past "
                                f"the table ({n} tensors)")
            fields = dict(zip(ins.names, ins.args))
            bad = [f for f, v in fields.items() if f.endswith("_bits") and not 1 <= v <= 32]
            if bad:  # the quantisers compute 2 ** (bits - 1)
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) has {bad[0]} {fields[bad[0]]}, "
                                "outside 1..32")
            sym = fields.get("sym", 0)
            if sym >= max(ns, 1):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) has symbol {sym} of {ns}")


def symbol_of(ins: Instr) -> int | None:
    """The symbol-table index of an instruction (None for the kinds that carry none: SIGNAL, WAIT, HALT)."""
    return getattr(ins, "sym", None)


def entry_of(prog: Program, ins: Instr) -> dict[str, Any] | None:
    """The symbol-table entry (ONNX node and op) of an instruction; None when it has none, e.g. in a
    program whose (debug-only) table is empty, which the reader accepts."""
    sym = symbol_of(ins)
    return prog.symbols[sym] if sym is not None and sym < len(prog.symbols) else None


def node_of(prog: Program, ins: Instr) -> str | None:
    """The ONNX node an instruction came from (None when it carries no symbol in the table)."""
    entry = entry_of(prog, ins)
    return entry["node"] if entry is not None else None


def check_constants(prog: Program, where: str) -> None:
    """A NaN weight makes every result it touches meaningless, and the PIM noise models index their tables
    with weight codes: refuse it up front, naming the node that reads it (Inf stays legal: masks use it)."""
    for tid, arr in prog.consts.items():
        if arr.dtype.kind == "f" and arr.size and np.isnan(np.max(arr)):  # max propagates NaN, no temporary
            raise H3pcError(f"{where}: constant %{tid}{_reader(prog, tid)} contains NaN")


def _reader(prog: Program, tid: int) -> str:
    for instrs in prog.streams.values():
        for ins in instrs:
            if tid in tensors_of(ins) and (node := node_of(prog, ins)) is not None:
                return f" (read by node '{node}')"
    return ""


def read(path: str) -> Program:
    """The program in a file, memory-mapped: the weights section is used where it lies, so loading a
    program costs no copy of its weights (gpt2_small: 649 MB)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data: bytes | memoryview = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)) \
                if size else b""
    except OSError as exc:
        raise H3pcError(f"{path}: {exc.strerror or exc}") from None
    return from_container(container.decode(data, str(path)), str(path))
