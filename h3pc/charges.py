"""What every instruction costs: the ISA's operands mapped onto the cost model (h3pc/cost.py).

The compiler's estimate and the emulator's accounting both call `Charges.of`, on the same decoded
fields, so they cannot drift apart.
"""

from __future__ import annotations

import math

from h3pc.backends.isa import Instr
from h3pc.backends.program import Program
from h3pc.cost import (
    Cost,
    buffer_transfer,
    digital_gemm,
    offchip_transfer,
    photonic_gemm,
    pim_mvm,
    pim_program,
)
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime.kernels import Kernels
from h3pc.tiers import pim_tier

_FREE = Cost()


def _gemm_dims(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(groups, m, k, n) of a grouped product a[g, m, k] @ b[g, k, n]."""
    return a[0], a[1], a[2], b[2]


class Charges:
    """Instruction costs for one program on one hardware description (memoised per instruction)."""

    def __init__(self, prog: Program, hw: HardwareConfig, kernel_costs: list[Cost],
                 gathers: frozenset[int] = frozenset()) -> None:
        self.prog = prog
        self.hw = hw
        self.kernel_costs = kernel_costs
        self.gathers = gathers  # kernels that read rows of their first operand (nn.gather)
        self._memo: dict[tuple[str, Instr], tuple[Cost, int]] = {}

    @classmethod
    def build(cls, prog: Program, hw: HardwareConfig | None = None, kernels: Kernels | None = None) -> "Charges":
        """Charges of a program on its own description (or `hw`), kernels parsed once if not given."""
        hw = hw or prog.hw
        kernels = kernels or Kernels.of(prog, "program")
        return cls(prog, hw, kernels.costs(hw), kernels.gathers)

    def of(self, tier: str, ins: Instr) -> Cost:
        return self.with_writes(tier, ins)[0]

    def with_writes(self, tier: str, ins: Instr) -> tuple[Cost, int]:
        """(cost, PIM cells written) of one instruction."""
        key = (tier, ins)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._compute(tier, ins)
        return hit

    def _compute(self, tier: str, ins: Instr) -> tuple[Cost, int]:
        hw, tensors = self.hw, self.prog.tensors
        op = ins.op
        if op in ("LD", "ST"):
            t = tensors[ins.tensor]
            cost = buffer_transfer(hw, t.nbytes)
            if t.home == "offchip":  # weights not staged by the DMA engine, spilled values
                cost = offchip_transfer(hw, t.nbytes).then(cost) if op == "LD" else cost.then(offchip_transfer(hw, t.nbytes))
            return cost, 0
        if op == "FILL":  # the DMA engine stages a weight into the buffer; the tier's LD reads it there
            return offchip_transfer(hw, tensors[ins.tensor].nbytes), 0
        if op == "PMM":
            g, m, k, n = _gemm_dims(tensors[ins.a].shape, tensors[ins.b].shape)
            return photonic_gemm(hw, m, k, n, ins.in_bits, ins.out_bits, ins.w_bits).scaled(g), 0
        if op == "PROG":
            shape = tensors[ins.w].shape
            g = shape[0] if len(shape) == 3 else 1
            return pim_program(pim_tier(hw, tier), shape[-2], shape[-1], g)
        if op == "MVM":
            x, w = tensors[ins.x].shape, tensors[ins.w].shape
            g = w[0] if len(w) == 3 else 1
            m = math.prod(x[:-1]) // g
            return pim_mvm(pim_tier(hw, tier), m, w[-2], w[-1], ins.input_bits, ins.adc_bits, groups=g), 0
        if op == "GEMM":
            g, m, k, n = _gemm_dims(tensors[ins.a].shape, tensors[ins.b].shape)
            return digital_gemm(hw, g * m, k, n), 0
        if op == "VOP":
            cost = self.kernel_costs[ins.kernel]
            if ins.kernel in self.gathers and tensors[ins.ins[0]].role == "const":
                # a lookup table stays off-chip (codegen loads no copy of it): only the gathered
                # rows, i.e. the result's bytes, cross the off-chip link
                cost = offchip_transfer(hw, tensors[ins.outs[0]].nbytes).then(cost)
            return cost, 0
        return _FREE, 0
