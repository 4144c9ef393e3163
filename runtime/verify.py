"""The program verifier: every instruction's operands agree with each other, with the crossbars they
read and with the kernel they run, before anything executes.

program.bin's checksums prove that a file is what was written, not that what was written is
consistent. A program whose tables disagree (a hand edit, another tool's bug) is refused here with
one line naming the instruction and its ONNX node, instead of failing later inside numpy.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import numpy as np

from h3pc.backends import tiers
from h3pc.backends.isa import PROGRAMS, RESULT_FIELDS, TENSOR_FIELDS, Instr, tensors_of
from h3pc.backends.program import Program, Tensor
from h3pc.diagnostics import H3pcError
from h3pc.dialects.shapes import fmt_shape, matmul_shape
from h3pc.runtime.kernels import Kernels, Signature
from h3pc.runtime.report import node_of
from h3pc.runtime.schedule import Event, is_load_time


def check_program(prog: Program, kernels: Kernels, where: str) -> None:
    signatures = kernels.signatures()
    own = {t.name: frozenset(t.instructions) for t in tiers.of(prog.hw)}
    for tier, instrs in prog.streams.items():
        for i, ins in enumerate(instrs):
            if ins.spec.scope == "tier" and ins.op not in own.get(tier, ()):
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}) belongs to another tier")
        # the matrix each crossbar base holds: resident weights are written at load, the others in order
        held = {ins.base: prog.tensors[ins.w].shape for ins in instrs if is_load_time(ins)}
        for i, ins in enumerate(instrs):
            problem = _problem(ins, prog.tensors, held, signatures)
            if problem:
                raise H3pcError(f"{where}: stream.{tier} instruction {i} ({ins.op}{_node(prog, ins)}): {problem}")


#: instructions that do not compute (LD, ST and FILL move a tensor whatever it holds; the rest are sync):
#: every other one, a tier's own, reads its operands and writes its results
_NOT_COMPUTE = frozenset({"LD", "ST", "FILL", "SIGNAL", "WAIT", "HALT"})
_OPERANDS = TENSOR_FIELDS - RESULT_FIELDS


def check_order(prog: Program, events: list[Event], where: str) -> None:
    """In the order the tiers' schedule runs them (WAIT/SIGNAL included), every instruction reads only
    values already computed, and every output is computed: a missing WAIT or a wrong tensor id would
    otherwise run a kernel on nothing."""
    ready = set(prog.consts)  # at load time only the constants exist; the inputs come with each run
    load = [(t, i, ins) for t, instrs in prog.streams.items() for i, ins in enumerate(instrs) if is_load_time(ins)]
    run = [(ev.tier, ev.index, ev.ins) for ev in events]
    for k, (tier, index, ins) in enumerate(load + run):
        if k == len(load):
            ready |= {i["tensor"] for i in prog.inputs}
        if ins.op in _NOT_COMPUTE:
            continue
        for t in tensors_of(ins, _OPERANDS):
            if t not in ready:
                raise H3pcError(f"{where}: stream.{tier} instruction {index} ({ins.op}{_node(prog, ins)}) reads "
                                f"%{t} before any instruction computes it")
        ready.update(tensors_of(ins, RESULT_FIELDS))
    for o in prog.outputs:
        if o["tensor"] not in ready:
            raise H3pcError(f"{where}: output '{o['name']}' (%{o['tensor']}) is never computed")


def _node(prog: Program, ins: Instr) -> str:
    node = node_of(prog, ins)
    return f", node '{node}'" if node is not None else ""


def _problem(ins: Instr, tensors: list[Tensor], held: dict[int, tuple[int, ...]],
             signatures: list[Signature]) -> str | None:
    op = ins.op
    if op in ("PMM", "GEMM"):
        a, b, out = tensors[ins.a], tensors[ins.b], tensors[ins.out]
        if len(a.shape) != 3 or len(b.shape) != 3 or a.shape[0] != b.shape[0]:
            return f"operands {fmt_shape(a.shape)} and {fmt_shape(b.shape)} are not grouped [g, m, k] x [g, k, n]"
        want = matmul_shape(a.shape, b.shape)
        if isinstance(want, str):
            return want
        return _same("result", out, want)  # any dtype: the analog tiers deliver float32 whatever the table says
    if op in PROGRAMS:
        w = tensors[ins.w].shape
        if len(w) not in (2, 3) or 0 in w:
            return f"weights {fmt_shape(w)} are not a rows x cols (or groups x rows x cols) matrix"
        if op == "PROGS":
            s = tensors[ins.scale]
            want = ((w[0] if len(w) == 3 else 1) * w[-1],)
            if s.shape != want or s.dtype != "float32" or s.role != "const":
                return f"weight scales {fmt_shape(s.shape)} {s.dtype} ({s.role}) are not constant float32 {fmt_shape(want)}"
        if ins.resident not in (0, 1):
            return f"resident is {ins.resident}, not 0 or 1"
        if not is_load_time(ins):
            held[ins.base] = w
        return None
    if op == "MVMS":
        step = struct.unpack("<f", struct.pack("<I", ins.scale_f32))[0]
        if not (math.isfinite(step) and step > 0) or ins.levels < 1:
            return f"input step {step} and levels {ins.levels} must be a positive finite step and >= 1"
    if op in ("MVM", "MVMS"):
        x, out = tensors[ins.x], tensors[ins.out]
        w = held.get(ins.base)
        if w is None:
            return f"reads crossbars at {ins.base} that no earlier PROG programmed"
        if tensors[ins.w].shape != w:
            return f"names weights {fmt_shape(tensors[ins.w].shape)}, but the crossbars at {ins.base} hold {fmt_shape(w)}"
        if not x.shape or x.shape[-1] != w[-2] or (len(w) == 3 and (len(x.shape) != 3 or x.shape[0] != w[0])):
            return f"input {fmt_shape(x.shape)} does not match crossbars {fmt_shape(w)}"
        return _same("result", out, x.shape[:-1] + (w[-1],))
    if op == "VOP":
        k, ins_, outs = ins.kernel, ins.ins, ins.outs
        if k >= len(signatures):
            return f"runs kernel {k}, but the kernels section has {len(signatures)}"
        want_in, want_out = signatures[k]
        if len(ins_) != len(want_in) or len(outs) != len(want_out):
            return (f"passes {len(ins_)} operands and {len(outs)} results to kernel {k}, which takes "
                    f"{len(want_in)} and {len(want_out)}")
        for kind, ids, wants in (("operand", ins_, want_in), ("result", outs, want_out)):
            for j, (t, (shape, dtype)) in enumerate(zip(ids, wants)):
                problem = _same(f"{kind} {j}", tensors[t], shape, dtype)
                if problem:
                    return f"kernel {k}: {problem}"
    return None


def _same(what: str, t: Tensor, shape: Sequence[int], dtype: np.dtype | None = None) -> str | None:
    if t.shape != tuple(shape) or (dtype is not None and np.dtype(t.dtype) != dtype):
        return f"{what} is {fmt_shape(t.shape)} {t.dtype}, expected {fmt_shape(shape)} {dtype or ''}".rstrip()
    return None
