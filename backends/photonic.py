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
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, Tier, load, seq, store, stored
from h3pc.cost import Cost, photonic_gemm, photonic_static_w
from h3pc.dialects import photonic
from h3pc.dialects.nn import int_attr, shape_of
from h3pc.hardware.schema import HardwareConfig


class Photonic(Tier):
    name = "photonic"
    target = "photonic"
    instructions = ("PMM",)
    bit_knobs = ("in_bits", "w_bits", "out_bits")

    def weight_bits(self, hw: HardwareConfig) -> int:
        return hw.photonic.w_bits

    def output_bits(self, hw: HardwareConfig) -> int:
        return hw.photonic.out_bits  # 6-6-8: results leave as ADC codes

    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        p, me = hw.photonic, self.name
        ld_a = load(hw, s.a_bytes, spills.a, me)
        # a weight in w_bits codes: held in the M tier when it fits (s.b_offchip: not), a dynamic B as stored
        b_bytes = stored(s.g * s.k * rows, self.weight_bits(hw)) if s.static else s.g * s.k * rows * ELEM_BYTES
        ld_b = load(hw, b_bytes, s.b_offchip if s.static else spills.b, me)
        compute = photonic_gemm(hw, s.m, s.k, rows, p.in_bits, p.out_bits).scaled(s.g)
        return seq([ld_a, ld_b, compute, store(hw, stored(s.g * s.m * rows, self.output_bits(hw)), spills.out, me)])

    def lower_part(self, e: Any, hw: HardwareConfig, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> SSAValue:
        m = shape_of(a)[1]
        props = {k: int_attr(bits.get(f"{self.name}.{k}", getattr(hw.photonic, k))) for k in self.bit_knobs}
        return e.op(photonic.MatMulOp, [a, e.columns(b, lo, hi)], (g, m, hi - lo), elem, props)

    def owns(self, op: Operation) -> bool:
        return isinstance(op, photonic.MatMulOp)

    def emit(self, cg: Any, op: Operation, sym: int) -> None:
        assert isinstance(op, photonic.MatMulOp)
        bits = {k: getattr(op, k).value.data for k in self.bit_knobs}
        a = cg.load(self.name, op.lhs, sym, bits["in_bits"])
        b = cg.load(self.name, op.rhs, sym, bits["w_bits"])
        cg.emit(self.name, make("PMM", a=a, b=b, out=len(cg.tensors), **bits, sym=sym))
        cg.store(self.name, op.result, sym, bits["out_bits"])  # 6-6-8: results leave as ADC codes

    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        hw, tensors = ch.hw, ch.prog.tensors
        a, b = tensors[ins.a].shape, tensors[ins.b].shape  # type: ignore[attr-defined]
        g, m, k, n = a[0], a[1], a[2], b[2]
        return photonic_gemm(hw, m, k, n, ins.in_bits, ins.out_bits, ins.w_bits).scaled(g), 0  # type: ignore

    def static_power_w(self, hw: HardwareConfig) -> float | None:
        """Laser and integrators for the whole run when the tier is not power-gated (else each PMM
        charges them for its own cores and time: cost.photonic_static_w)."""
        return photonic_static_w(hw.photonic)


TIER = Photonic()
