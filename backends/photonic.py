"""The photonic tier: TeMPO-style dynamic-operand photonic tensor cores (`photonic` dialect, PMM).

Both operands of a product are modulated onto light each time, so the tier runs any layer, attention's
Q.K^T and P.V included; operands go through `in_bits` / `w_bits` DACs and results through
`out_bits` ADCs (the bit widths stage two may lower). Its execution and noise: runtime/photonic.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdsl.ir import Operation, SSAValue

from h3pc.backends.isa import Instr, make
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, Tier, load, seq, store
from h3pc.cost import Cost, photonic_gemm
from h3pc.dialects import photonic
from h3pc.dialects.nn import int_attr, shape_of
from h3pc.hardware.schema import HardwareConfig


class Photonic(Tier):
    name = "photonic"
    target = "photonic"
    instructions = ("PMM",)
    bit_knobs = ("in_bits", "w_bits", "out_bits")

    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        p = hw.photonic
        ld_a = load(hw, s.a_bytes, spills.a)
        ld_b = load(hw, s.g * s.k * rows * ELEM_BYTES, s.static or spills.b)
        compute = photonic_gemm(hw, s.m, s.k, rows, p.in_bits, p.out_bits).scaled(s.g)
        return seq([ld_a, ld_b, compute, store(hw, s.g * s.m * rows * ELEM_BYTES, spills.out)])

    def lower_part(self, e: Any, hw: HardwareConfig, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> SSAValue:
        m = shape_of(a)[1]
        props = {k: int_attr(bits.get(f"{self.name}.{k}", getattr(hw.photonic, k))) for k in self.bit_knobs}
        return e.op(photonic.MatMulOp, [a, e.columns(b, lo, hi)], (g, m, hi - lo), elem, props)

    def owns(self, op: Operation) -> bool:
        return isinstance(op, photonic.MatMulOp)

    def emit(self, cg: Any, op: Operation, sym: int) -> None:
        assert isinstance(op, photonic.MatMulOp)
        a, b = cg.load(self.name, op.lhs, sym), cg.load(self.name, op.rhs, sym)
        cg.emit(self.name, make("PMM", a=a, b=b, out=len(cg.tensors), in_bits=op.in_bits.value.data,
                                w_bits=op.w_bits.value.data, out_bits=op.out_bits.value.data, sym=sym))
        cg.store(self.name, op.result, sym)

    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        hw, tensors = ch.hw, ch.prog.tensors
        a, b = tensors[ins.a].shape, tensors[ins.b].shape  # type: ignore[attr-defined]
        g, m, k, n = a[0], a[1], a[2], b[2]
        return photonic_gemm(hw, m, k, n, ins.in_bits, ins.out_bits, ins.w_bits).scaled(g), 0  # type: ignore


TIER = Photonic()
