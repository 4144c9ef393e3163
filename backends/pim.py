"""What the two crossbar tiers share: weight-stationary PIM arrays (`pim` dialect, PROG and MVM).

Weights are bit-sliced over `cells_per_weight` cells and written into crossbars (once at program load
when resident, else before every use into a scratch region at the top of the tier); inputs are
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
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, StationaryTier, load, seq, store
from h3pc.cost import Cost, buffer_transfer, offchip_transfer, pim_crossbars, pim_mvm, pim_program
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
        return self.config(hw).static_power_mw * 1e-3

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

    def pieces(self, hw: HardwareConfig, g: int, k: int, n: int, node: str) -> list[tuple[int, int]]:
        t = self.config(hw)
        total = self.capacity(hw)
        per_block = t.crossbar_cols // t.cells_per_weight  # weights per crossbar row
        if per_block < 1:
            raise UnsupportedError(f"{self.name}: a crossbar of {t.crossbar_cols} columns cannot hold one "
                                   f"{t.weight_bits}-bit weight")
        blocks = total // (g * math.ceil(k / t.crossbar_rows))
        if blocks < 1:
            raise UnsupportedError(f"node '{node}': one column of its [{g}x{k}x{n}] weights needs "
                                   f"{g * math.ceil(k / t.crossbar_rows)} crossbars, {self.name} has {total}")
        width = blocks * per_block
        return [(lo, min(n, lo + width)) for lo in range(0, n, width)]

    # -- stage one ---------------------------------------------------------------------------------
    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        t = self.config(hw)
        g, m, k = s.g, s.m, s.k
        ld_a = load(hw, s.a_bytes, spills.a)
        pieces = self.pieces(hw, g, k, rows, s.node)
        resident = s.static and not streamed
        steps: list[Cost] = []
        cells = scratch = 0
        for lo, hi in pieces:
            pn = hi - lo
            if not resident:  # programmed before each use (static weights come from off-chip)
                prog, written = pim_program(t, k, pn, g)
                ld_w = buffer_transfer(hw, g * k * pn * ELEM_BYTES)
                if s.static:
                    ld_w = offchip_transfer(hw, g * k * pn * ELEM_BYTES).then(ld_w)
                steps += [ld_w, prog]
                cells += written
                scratch = max(scratch, g * pim_crossbars(t, k, pn))
            steps += [ld_a, pim_mvm(t, m, k, pn, t.input_bits, t.adc_bits, groups=g),
                      store(hw, g * m * pn * ELEM_BYTES, spills.out)]
        tail: list[Cost] = []
        if len(pieces) > 1:  # the host re-joins the pieces
            tail = [load(hw, g * m * (hi - lo) * ELEM_BYTES, spills.out) for lo, hi in pieces]
            tail.append(store(hw, g * m * rows * ELEM_BYTES, spills.out))
        part = seq(steps + tail, g * pim_crossbars(t, k, rows) if resident else 0, cells)
        return replace(part, latency_s=sum(c.latency_s for c in steps), tail_s=sum(c.latency_s for c in tail),
                       scratch=scratch, pieces=0 if resident else len(pieces))

    # -- lowering ----------------------------------------------------------------------------------
    def lower_part(self, e: Any, hw: HardwareConfig, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> SSAValue:
        t = self.config(hw)
        m, k = shape_of(a)[1:]
        parts = []
        for plo, phi in self.pieces(hw, g, k, hi - lo, e.node):
            w = e.columns(b, lo + plo, lo + phi)
            dims = (k, phi - plo) if g == 1 else (g, k, phi - plo)
            w = e.reshape(w, dims)
            props = {"kind": pim.KindAttr(self.kind), "weight_bits": int_attr(t.weight_bits),
                     "cell_bits": int_attr(t.cell_bits)}
            if streamed:
                props["streamed"] = UnitAttr()
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
            w = cg.tid[op.weights] if resident else cg.load(tier, op.weights, sym)
            if resident and not cg.is_const(op.weights):
                raise H3pcError("a resident pim.program must hold constant weights")
            cg.tid[op.result] = w
            fields = dict(w=w, base=op.base.value.data, resident=int(resident), weight_bits=op.weight_bits.value.data,
                          cell_bits=op.cell_bits.value.data, sym=sym)
            if op.weight_scale is None:
                cg.emit(tier, make("PROG", **fields))
            else:  # a quantized model's weight steps, one per output column, as a constant of the program
                steps = np.asarray(op.weight_scale.get_values(), np.float32)
                cg.emit(tier, make("PROGS", **fields, scale=cg.const_tensor(steps)))
            return
        assert isinstance(op, pim.MVMOp)
        prog = op.crossbars.owner
        assert isinstance(prog, pim.ProgramOp) and prog.base is not None
        x = cg.load(tier, op.input, sym)
        fields = dict(x=x, w=cg.tid[op.crossbars], out=len(cg.tensors), base=prog.base.value.data,
                      input_bits=op.input_bits.value.data, adc_bits=op.adc_bits.value.data, sym=sym)
        if op.input_scale is None:
            cg.emit(tier, make("MVM", **fields))
        else:  # the model's activation scale, as the float32 bits the instruction word carries
            scale = struct.unpack("<I", struct.pack("<f", op.input_scale.value.data))[0]
            cg.emit(tier, make("MVMS", **fields, scale_f32=scale, levels=op.input_levels.value.data))
        cg.store(tier, op.result, sym)

    # -- charges -----------------------------------------------------------------------------------
    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        hw, tensors = ch.hw, ch.prog.tensors
        t = self.config(hw)
        if ins.op in PROGRAMS:
            shape = tensors[ins.w].shape  # type: ignore[attr-defined]
            g = shape[0] if len(shape) == 3 else 1
            return pim_program(t, shape[-2], shape[-1], g)
        x, w = tensors[ins.x].shape, tensors[ins.w].shape  # type: ignore[attr-defined]
        g = w[0] if len(w) == 3 else 1
        m = math.prod(x[:-1]) // g
        return pim_mvm(t, m, w[-2], w[-1], ins.input_bits, ins.adc_bits, groups=g), 0  # type: ignore[attr-defined]
