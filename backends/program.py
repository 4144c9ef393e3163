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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h3pc import __version__
from h3pc.backends import container
from h3pc.backends.isa import BY_NAME, Instr, decode_stream, encode_stream, tensors_of
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig, parse_hardware
from h3pc.tiers import ENGINES

ALIGN = 64


@dataclass(frozen=True)
class Tensor:
    shape: tuple[int, ...]
    dtype: str
    role: str  # input | const | value | folded (a compile-time constant that is not stored) | token
    offset: int = -1  # into the weights section (consts only)
    #: where the tensor lives while the program runs: "buffer" (global buffer, at byte `addr` once
    #: planned) or "offchip" (weights read straight from off-chip memory, spilled values); a token
    #: (a sync flag of the buffer plan) lives nowhere ("")
    home: str = "buffer"
    addr: int = -1

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


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
    pos = 0
    for tid in sorted(prog.consts):
        offsets[tid] = pos
        pos += prog.consts[tid].nbytes + (-prog.consts[tid].nbytes) % ALIGN
    weights = np.zeros(pos, np.uint8)  # the one copy of the weights the file is written from
    for tid, off in offsets.items():
        arr = prog.consts[tid]
        weights[off : off + arr.nbytes] = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    # constants consumed only at compile time (folded into others) are not stored
    tensors = [{"shape": list(t.shape), "dtype": t.dtype, "offset": offsets.get(i, -1),
                "role": "folded" if t.role == "const" and i not in offsets else t.role,
                "home": t.home, "addr": t.addr}
               for i, t in enumerate(prog.tensors)]
    sections: dict[str, tuple[str, bytes | memoryview]] = {}
    for tier in ENGINES:
        sections[f"stream.{tier}"] = ("stream", encode_stream(prog.streams.get(tier, [])))
    sections["hardware"] = ("hardware", _json(prog.hw.to_dict()))
    sections["signature"] = ("signature", _json({"inputs": prog.inputs, "outputs": prog.outputs}))
    sections["tensors"] = ("meta", _json(tensors))
    sections["kernels"] = ("meta", prog.kernels.encode())
    sections["symbols"] = ("symbols", _json(prog.symbols))
    sections["weights"] = ("weights", memoryview(weights))
    return container.make(prog.hw.digest, __version__, sections)


def from_container(c: container.Container, where: str) -> Program:
    """Rebuild a Program; every table is checked so that a damaged file fails here with one line."""
    try:
        hw = parse_hardware(json.loads(bytes(c.section("hardware").data)), f"{where}: hardware section")
    except json.JSONDecodeError as exc:
        raise H3pcError(f"{where}: hardware section is not valid JSON ({exc.msg})") from None
    if hw.digest != c.hw_digest.hex():
        raise H3pcError(f"{where}: hardware section does not match the header digest")
    try:
        sig = json.loads(bytes(c.section("signature").data))
        tables = json.loads(bytes(c.section("tensors").data))
        symbols = json.loads(bytes(c.section("symbols").data))
        tensors = [Tensor(tuple(int(d) for d in t["shape"]), str(np.dtype(t["dtype"])), t["role"], int(t["offset"]),
                          str(t["home"]), int(t["addr"])) for t in tables]
        inputs, outputs = list(sig["inputs"]), list(sig["outputs"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise H3pcError(f"{where}: malformed table section ({type(exc).__name__}: {exc})") from None
    streams = {t: decode_stream(c.section(f"stream.{t}").data, f"{where}: stream.{t}") for t in ENGINES}
    weights = _aligned(c.section("weights").data)
    consts: dict[int, np.ndarray] = {}
    for i, t in enumerate(tensors):
        if t.role != "const":
            continue
        if t.offset < 0 or t.offset + t.nbytes > len(weights):
            raise H3pcError(f"{where}: tensor %{i} points past the end of the weights section")
        consts[i] = weights[t.offset : t.offset + t.nbytes].view(t.dtype).reshape(t.shape)
    _check_refs(streams, tensors, symbols, where)
    return Program(hw, streams, tensors, bytes(c.section("kernels").data).decode("utf-8", "replace"), symbols,
                   inputs, outputs, consts)


def _aligned(data: bytes) -> np.ndarray:
    """The weights in one 64-byte aligned buffer, so every constant view is aligned (numpy kernels
    copy or slow down on unaligned views)."""
    raw = np.empty(len(data) + ALIGN, np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    buf = raw[start : start + len(data)]
    buf[:] = np.frombuffer(data, np.uint8)
    buf.flags.writeable = False
    return buf


def _check_refs(streams: dict[str, list[Instr]], tensors: list[Tensor], symbols: list, where: str) -> None:
    n, ns = len(tensors), len(symbols)
    for tier, instrs in streams.items():
        for i, ins in enumerate(instrs):
            if tier not in BY_NAME[ins.op].tiers:
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) belongs to another tier")
            if any(t >= n for t in tensors_of(ins)):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) names a tensor past "
                                f"the table ({n} tensors)")
            sym = dict(zip(BY_NAME[ins.op].fields, ins.args)).get("sym", 0)
            if sym >= max(ns, 1):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) has symbol {sym} of {ns}")


def read(path: str) -> Program:
    from pathlib import Path

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise H3pcError(f"{path}: {exc.strerror or exc}") from None
    return from_container(container.decode(data, str(path)), str(path))
