"""The digital tier: the electronic SIMD vector unit, the machine's host (`digital` dialect, GEMM, VOP).

It runs every op that is not a layer part (vector ops as kernels of program.bin's `kernels` section,
the joins of split layers, the layout around products) and, as a tier, exact fp32 GEMMs: the
fallback every layer can take. Its execution: runtime/digital.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import Operation, SSAValue

from h3pc.backends.isa import Instr, make
from h3pc.backends.tier import ELEM_BYTES, HostTier, Part, Shape, Spills, load, seq, store
from h3pc.cost import Cost, digital_gemm, offchip_transfer
from h3pc.dialects import digital
from h3pc.dialects.nn import shape_of
from h3pc.hardware.schema import HardwareConfig


class Digital(HostTier):
    name = "digital"
    target = "electronic"
    instructions = ("GEMM", "VOP")
    #: the ops (as the symbol table names them) whose host instructions belong to a split layer's part:
    #: its own product and the join of the tiers' columns
    part_ops = frozenset({"digital.join", "digital.matmul"})

    def static_power_w(self, hw: HardwareConfig) -> float | None:
        return hw.digital.static_power_mw * 1e-3

    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        me = self.name
        ld_a = load(hw, s.a_bytes, spills.a, me)
        ld_b = load(hw, s.g * s.k * rows * ELEM_BYTES, s.b_offchip if s.static else spills.b, me)
        compute = digital_gemm(hw, s.g * s.m, s.k, rows)
        return seq([ld_a, ld_b, compute, store(hw, s.g * s.m * rows * ELEM_BYTES, spills.out, me)])

    def lower_part(self, e: Any, hw: HardwareConfig, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> SSAValue:
        return e.op(digital.MatMulOp, [a, e.columns(b, lo, hi)], (g, shape_of(a)[1], hi - lo), elem)

    # -- the host's part in every lowering: the windows of a conv, the join of a split layer's parts ------
    def windows(self, e: Any, x: SSAValue, shape: tuple[int, ...], props: dict[str, Any]) -> SSAValue:
        """A conv's input windows as the rows of a grouped product ([g, rows, k])."""
        return e.op(digital.Im2ColOp, [x], shape, props=props)

    def join(self, e: Any, parts: list[SSAValue]) -> SSAValue:
        """The parts' columns side by side."""
        s = shape_of(parts[0])
        n = sum(shape_of(p)[-1] for p in parts)
        return e.op(digital.JoinOp, parts, s[:-1] + (n,), props={"axis": IntegerAttr(len(s) - 1, i64)})

    def owns(self, op: Operation) -> bool:
        return isinstance(op, digital.MatMulOp)

    def emit(self, cg: Any, op: Operation, sym: int) -> None:
        if not isinstance(op, digital.MatMulOp):
            cg.vector_op(op, sym)
            return
        a, b = cg.load(self.name, op.lhs, sym), cg.load(self.name, op.rhs, sym)
        cg.emit(self.name, make("GEMM", a=a, b=b, out=len(cg.tensors), sym=sym))
        cg.store(self.name, op.result, sym)

    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        tensors = ch.prog.tensors
        if ins.op == "GEMM":
            a, b = tensors[ins.a].shape, tensors[ins.b].shape  # type: ignore[attr-defined]
            return digital_gemm(ch.hw, a[0] * a[1], a[2], b[2]), 0
        cost = ch.kernel_costs[ins.kernel]  # type: ignore[attr-defined]
        if ins.kernel in ch.gathers and tensors[ins.ins[0]].role == "const":  # type: ignore[attr-defined]
            # a lookup table stays off-chip (codegen loads no copy of it): only the gathered rows,
            # i.e. the result's bytes, cross the off-chip link
            cost = offchip_transfer(ch.hw, tensors[ins.outs[0]].nbytes).then(cost)  # type: ignore[attr-defined]
        return cost, 0


TIER = Digital()
