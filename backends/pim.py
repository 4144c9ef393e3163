"""What the two crossbar tiers share: weight-stationary PIM arrays (`pim` dialect, PROG and MVM).

Weights are bit-sliced over `cells_per_weight` cells and written into crossbars (once at program load
when resident, else before every use, in pieces, through a streaming region of `stream_tiles` tiles at
the top of the tier, so residents that fit stay resident whatever streams); inputs are
bit-serial; every crossbar's columns are read by shared ADCs (docs/hardware-model.md b.2, b.3). The
SRAM and ReRAM tiers (backends/sram_pim.py, backends/reram_pim.py) differ in their block of the
hardware description, their kind (`#pim.kind<...>`) and when they may take dynamic operands. Their
execution and noise: runtime/pim.py.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
from xdsl.dialects.builtin import DenseArrayBase, FloatAttr, UnitAttr, f32
from xdsl.ir import Operation, SSAValue

from h3pc.backends.isa import PROGRAMS, Instr, make
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, StationaryTier, load, seq, store, stored
from h3pc.cost import Cost, pim_crossbars, pim_mvm, pim_program, pim_static_w
from h3pc.diagnostics import H3pcError, UnsupportedError
from h3pc.dialects import pim
from h3pc.dialects.nn import int_attr, shape_of
from h3pc.hardware.schema import HardwareConfig, PimTier
from h3pc.workload import FREE


#: the attributes a quantized model's importer puts on the op that dequantizes an activation
#: (frontend/ops/quant.py): its scale, zero point and the range of its integer codes
SCALE, ZERO_POINT, CODE_RANGE = "h3pc.scale", "h3pc.zero_point", "h3pc.code_range"
#: ops that only move or view data: an activation keeps its quantization grid through them
_VIEWS = FREE | {"nn.transpose", "nn.broadcast", "nn.slice"}


def model_input_step(v: SSAValue, input_bits: int) -> tuple[float, int] | None:
    """The DAC step and code bound of a crossbar read whose input is a quantized model's activation
    (docs/quantized.md): (the model's scale, the largest code the DAC passes) when its codes fit the
    tier's `input_bits`, else None (the read takes a step from the input's own range, as for any
    float activation). Codes with a zero point (or unsigned) go to the DAC unsigned, the zero point
    corrected after the read; signed symmetric codes go signed."""
    owner = v.owner
    while isinstance(owner, Operation) and owner.name in _VIEWS and owner.operands:
        owner = owner.operands[0].owner
    if not isinstance(owner, Operation) or SCALE not in owner.attributes:
        return None
    scale = owner.attributes[SCALE].value.data  # type: ignore[attr-defined]
    zp = owner.attributes[ZERO_POINT].value.data  # type: ignore[attr-defined]
    lo, hi = (a.value.data for a in owner.attributes[CODE_RANGE].data)  # type: ignore[attr-defined]
    if zp != 0 or lo >= 0:
        levels = 2**input_bits - 1
        return (scale, levels) if hi - lo <= levels else None
    levels = 2 ** (input_bits - 1) - 1
    return (scale, levels) if max(-lo, hi) <= levels + 1 else None  # -2^(b-1) saturates by one code


def replicated_mvm(t: PimTier, m: int, k: int, n: int, input_bits: int, adc_bits: int, groups: int,
                   replicas: int) -> Cost:
    """m input vectors through `replicas` copies of a k x n matrix: each copy reads ceil(m / replicas) of
    them, all copies at once (PIMCOMP, PIMSYN, NeuroSim's speedUpDegree, docs/hardware-model.md h.2), so
    the time is that of the largest share; every vector is still read once: the energy of all m."""
    full = pim_mvm(t, m, k, n, input_bits, adc_bits, groups=groups)
    if replicas <= 1:
        return full
    share = pim_mvm(t, -(-m // replicas), k, n, input_bits, adc_bits, groups=groups)
    return Cost(share.latency_s, full.energy)


def programmed(t: PimTier, k: int, n: int, groups: int, replicas: int) -> tuple[Cost, int]:
    """Writing `replicas` copies of a matrix (on different crossbars, written in parallel): the time of
    one, the cells and energy of all."""
    cost, cells = pim_program(t, k, n, groups)
    if replicas <= 1:
        return cost, cells
    return Cost(cost.latency_s, {c: e * replicas for c, e in cost.energy.items()}), cells * replicas


def _copies(replicas: int, resident: bool, pieces: list[tuple[int, int]]) -> int:
    """The copies a part gets: only a resident matrix in one piece is replicated (costs and lowering)."""
    return replicas if resident and len(pieces) == 1 else 1


class CrossbarTier(StationaryTier):
    """A PIM tier of one crossbar kind."""

    kind: ClassVar[str]  # its `#pim.kind`
    instructions = ("PROG", "PROGS", "MVM", "MVMS")
    bit_knobs = ("input_bits", "adc_bits")  # weight bits set the cells per weight: the tier's own
    geometry = ("tiles", "crossbars_per_tile", "crossbar_rows", "crossbar_cols", "cell_bits", "weight_bits")

    def config(self, hw: HardwareConfig) -> PimTier:
        cfg = hw.tier(self.name)
        assert isinstance(cfg, PimTier), self.name
        return cfg

    def static_power_w(self, hw: HardwareConfig) -> float | None:
        """`static_power_mw`, plus every ADC's leakage when the tier is not power-gated (cost.pim_static_w)."""
        return pim_static_w(self.config(hw))

    def weight_bits(self, hw: HardwareConfig) -> int:
        return self.config(hw).weight_bits

    def output_bits(self, hw: HardwareConfig) -> int:
        """Results leave in the format the next crossbar's DAC reads (the paper's 8-8-8 datapath)."""
        return self.config(hw).input_bits

    def capacity(self, hw: HardwareConfig) -> int:
        t = self.config(hw)
        return t.tiles * t.crossbars_per_tile

    def crossbars(self, hw: HardwareConfig, k: int, n: int) -> int:
        return pim_crossbars(self.config(hw), k, n)

    def allows_reprogramming(self, hw: HardwareConfig) -> bool:
        return self.config(hw).allow_reprogramming

    def program_cells(self, hw: HardwareConfig, shape: tuple[int, ...]) -> int:
        groups = shape[0] if len(shape) == 3 else 1
        return pim_program(self.config(hw), shape[-2], shape[-1], groups)[1]

    def stream_region(self, hw: HardwareConfig) -> int:
        """Crossbars of the streaming region (`stream_tiles` tiles at the top, at most the whole tier)."""
        t = self.config(hw)
        return min(t.stream_tiles, t.tiles) * t.crossbars_per_tile

    def pieces(self, hw: HardwareConfig, g: int, k: int, n: int, node: str,
               streamed: bool = False) -> list[tuple[int, int]]:
        """The column ranges a part of n columns is cut into, each one `pim.program`: resident weights in
        pieces that fit the tier, weights written before every use (`streamed`: a dynamic operand, or
        static weights that stream) in pieces that fit the streaming region, so that streaming one matrix
        never needs more of the tier than that region. A piece is at least one block of crossbar columns
        (g x ceil(k / rows) crossbars), which may exceed the region (it then grows to it) but not the tier."""
        t = self.config(hw)
        total = self.capacity(hw)
        per_block = t.crossbar_cols // t.cells_per_weight  # weights per crossbar row
        if per_block < 1:
            raise UnsupportedError(f"{self.name}: a crossbar of {t.crossbar_cols} columns cannot hold one "
                                   f"{t.weight_bits}-bit weight")
        column = g * math.ceil(k / t.crossbar_rows)  # crossbars of one block of crossbar columns
        if column > total:
            raise UnsupportedError(f"node '{node}': one column of its [{g}x{k}x{n}] weights needs "
                                   f"{column} crossbars, {self.name} has {total}")
        blocks = max(1, (self.stream_region(hw) if streamed else total) // column)
        width = blocks * per_block
        return [(lo, min(n, lo + width)) for lo in range(0, n, width)]

    # -- stage one ---------------------------------------------------------------------------------
    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills,
                  replicas: int = 1) -> Part:
        t, me = self.config(hw), self.name
        g, m, k = s.g, s.m, s.k
        ld_a = load(hw, s.a_bytes, spills.a, me)
        resident = s.static and not streamed
        pieces = self.pieces(hw, g, k, rows, s.node, not resident)
        replicas = _copies(replicas, resident, pieces)
        steps: list[Cost] = []
        cells = scratch = 0
        for lo, hi in pieces:
            pn = hi - lo
            if not resident:  # programmed before each use (static weights come from off-chip)
                prog, written = pim_program(t, k, pn, g)
                # a weight in the tier's weight_bits codes (from off-chip unless the M tier holds it),
                # a dynamic operand as its producer stored it
                w_bytes = stored(g * k * pn, self.weight_bits(hw)) if s.static else g * k * pn * ELEM_BYTES
                ld_w = load(hw, w_bytes, s.static and s.b_offchip, me)
                steps += [ld_w, prog]
                cells += written
                scratch = max(scratch, g * pim_crossbars(t, k, pn))
            steps += [ld_a, replicated_mvm(t, m, k, pn, t.input_bits, t.adc_bits, g, replicas),
                      store(hw, stored(g * m * pn, self.output_bits(hw)), spills.out, me)]
        tail: list[Cost] = []
        if len(pieces) > 1:  # the host re-joins the pieces
            host = s.host
            tail = [load(hw, stored(g * m * (hi - lo), self.output_bits(hw)), spills.out, host) for lo, hi in pieces]
            tail.append(store(hw, g * m * rows * ELEM_BYTES, spills.out, host))
        part = seq(steps + tail, replicas * g * pim_crossbars(t, k, rows) if resident else 0, cells)
        return replace(part, latency_s=sum(c.latency_s for c in steps), tail_s=sum(c.latency_s for c in tail),
                       scratch=scratch, pieces=0 if resident else len(pieces), a_loads=len(pieces))

    # -- lowering ----------------------------------------------------------------------------------
    def lower_part(self, e: Any, hw: HardwareConfig, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None, replicas: int = 1) -> SSAValue:
        t = self.config(hw)
        m, k = shape_of(a)[1:]
        parts = []
        pieces = self.pieces(hw, g, k, hi - lo, e.node, streamed)
        replicas = _copies(replicas, not streamed, pieces)
        for plo, phi in pieces:
            w = e.columns(b, lo + plo, lo + phi)
            dims = (k, phi - plo) if g == 1 else (g, k, phi - plo)
            w = e.reshape(w, dims)
            props = {"kind": pim.KindAttr(self.kind), "weight_bits": int_attr(t.weight_bits),
                     "cell_bits": int_attr(t.cell_bits)}
            if streamed:
                props["streamed"] = UnitAttr()
            if replicas > 1:
                props["replicas"] = int_attr(replicas)
            if weight_scale is not None and weight_scale[1] <= 2 ** (t.weight_bits - 1):
                # the model's own codes go into the cells (PROGS); -2^(b-1) saturates by one code
                steps = weight_scale[0][:, lo + plo : lo + phi].reshape(-1)
                props["weight_scale"] = DenseArrayBase.from_list(f32, [float(s) for s in steps])
            xb = e.op(pim.ProgramOp, [w], (), props=props, result_type=pim.CrossbarsType(self.kind, *dims))
            mvm_props = {k: int_attr(bits.get(f"{self.name}.{k}", getattr(t, k))) for k in self.bit_knobs}
            static = model_input_step(a, mvm_props["input_bits"].value.data)
            if static is not None:  # the model's own activation grid fits the DAC: step by it
                mvm_props["input_scale"] = FloatAttr(static[0], f32)
                mvm_props["input_levels"] = int_attr(static[1])
            parts.append(e.op(pim.MVMOp, [a, xb], (g, m, phi - plo), elem, mvm_props))
        return e.join(parts)

    def kind_of(self, op: Operation) -> str | None:
        if isinstance(op, pim.ProgramOp):
            return op.kind.kind.data
        if isinstance(op, pim.MVMOp):
            return op.crossbars.type.kind.data  # type: ignore[attr-defined]
        return None

    def owns(self, op: Operation) -> bool:
        return self.kind_of(op) == self.kind

    # -- codegen -----------------------------------------------------------------------------------
    def emit(self, cg: Any, op: Operation, sym: int) -> None:
        tier = self.name
        if isinstance(op, pim.ProgramOp):
            resident = op.resident is not None
            if op.base is None:
                raise H3pcError("pim.program without a crossbar base: run allocate-crossbars first")
            w = cg.tid[op.weights] if resident else cg.load(tier, op.weights, sym, op.weight_bits.value.data)
            if resident and not cg.is_const(op.weights):
                raise H3pcError("a resident pim.program must hold constant weights")
            cg.tid[op.result] = w
            fields = dict(w=w, base=op.base.value.data, resident=int(resident), weight_bits=op.weight_bits.value.data,
                          cell_bits=op.cell_bits.value.data, replicas=op.copies, sym=sym)
            if op.weight_scale is None:
                cg.emit(tier, make("PROG", **fields))
            else:  # a quantized model's weight steps, one per output column, as a constant of the program
                steps = np.asarray(op.weight_scale.get_values(), np.float32)
                cg.emit(tier, make("PROGS", **fields, scale=cg.const_tensor(steps)))
            return
        assert isinstance(op, pim.MVMOp)
        prog = op.crossbars.owner
        assert isinstance(prog, pim.ProgramOp) and prog.base is not None
        x = cg.load(tier, op.input, sym, op.input_bits.value.data)
        fields = dict(x=x, w=cg.tid[op.crossbars], out=len(cg.tensors), base=prog.base.value.data,
                      input_bits=op.input_bits.value.data, adc_bits=op.adc_bits.value.data, replicas=prog.copies,
                      sym=sym)
        if op.input_scale is None:
            cg.emit(tier, make("MVM", **fields))
        else:  # the model's activation scale, as the float32 bits the instruction word carries
            scale = struct.unpack("<I", struct.pack("<f", op.input_scale.value.data))[0]
            cg.emit(tier, make("MVMS", **fields, scale_f32=scale, levels=op.input_levels.value.data))
        cg.store(tier, op.result, sym, self.output_bits(cg.hw))

    # -- charges -----------------------------------------------------------------------------------
    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        hw, tensors = ch.hw, ch.prog.tensors
        t = self.config(hw)
        if ins.op in PROGRAMS:
            shape = tensors[ins.w].shape  # type: ignore[attr-defined]
            g = shape[0] if len(shape) == 3 else 1
            return programmed(t, shape[-2], shape[-1], g, ins.replicas)  # type: ignore[attr-defined]
        x, w = tensors[ins.x].shape, tensors[ins.w].shape  # type: ignore[attr-defined]
        g = w[0] if len(w) == 3 else 1
        m = math.prod(x[:-1]) // g
        return replicated_mvm(t, m, w[-2], w[-1], ins.input_bits, ins.adc_bits, g, ins.replicas), 0  # type: ignore
