"""What every instruction costs: the ISA's operands mapped onto the cost model (h3pc/cost.py).

The compiler's estimate and the emulator's accounting both call `Charges.of`, on the same decoded
fields, so they cannot drift apart.
"""

from __future__ import annotations

from h3pc.backends import tiers
from h3pc.backends.isa import Instr
from h3pc.backends.program import Program
from h3pc.cost import Cost, buffer_transfer, offchip_transfer
from h3pc.hardware.schema import DMA, HardwareConfig
from h3pc.runtime.kernels import Kernels

_FREE = Cost()


class Charges:
    """Instruction costs for one program on one hardware description (memoised per instruction)."""

    def __init__(self, prog: Program, hw: HardwareConfig, kernel_costs: list[Cost],
                 gathers: frozenset[int] = frozenset()) -> None:
        self.prog = prog
        self.hw = hw
        self.kernel_costs = kernel_costs
        self.gathers = gathers  # kernels that read rows of their first operand (nn.gather)
        self._memo: dict[tuple[str, Instr], tuple[Cost, int]] = {}
        self._own = {t.name: frozenset(t.instructions) for t in tiers.of(hw)}
        #: the link each engine's transfers use (the schedule serialises transfers on one link): a
        #: tier's own (memory.links), the TSV the others share, the DMA engine's off-chip channel
        self.links = {e: e if e in hw.memory.links else "<off-chip>" if e == DMA else "<shared tsv>" for e in hw.engines()}

    @classmethod
    def build(cls, prog: Program, hw: HardwareConfig | None = None, kernels: Kernels | None = None) -> "Charges":
        """Charges of a program on its own description (or `hw`), kernels parsed once if not given."""
        hw = hw or prog.hw
        kernels = kernels or Kernels.of(prog, "program")
        return cls(prog, hw, kernels.costs(hw), kernels.gathers)

    def preload(self) -> Cost:
        """Program load's fill of the M tier's weight region: every held weight once from off-chip
        (by the DMA engine, beside the crossbar writes)."""
        return offchip_transfer(self.hw, sum(t.stored_bytes for t in self.prog.tensors if t.home == "resident"))

    def of(self, tier: str, ins: Instr) -> Cost:
        return self.with_writes(tier, ins)[0]

    def with_writes(self, tier: str, ins: Instr) -> tuple[Cost, int]:
        """(cost, crossbar cells written) of one instruction."""
        key = (tier, ins)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._compute(tier, ins)
        return hit

    def _compute(self, tier: str, ins: Instr) -> tuple[Cost, int]:
        """Data movement is the memory system's (the same for every engine); the rest is the tier's."""
        hw, tensors = self.hw, self.prog.tensors
        op = ins.op
        if op in ("LD", "ST"):  # over the tier's link, in the tensor's stored format
            t = tensors[ins.tensor]
            n = t.stored_bytes
            cost = buffer_transfer(hw, n, tier)
            if t.home == "offchip":  # weights neither held nor staged, spilled values
                cost = offchip_transfer(hw, n).then(cost) if op == "LD" else cost.then(offchip_transfer(hw, n))
            return cost, 0
        if op == "FILL":  # the DMA engine stages a weight into the buffer; the tier's LD reads it there
            return offchip_transfer(hw, tensors[ins.tensor].stored_bytes), 0
        if op in self._own.get(tier, ()):
            return tiers.get(tier).charge(self, ins)
        return _FREE, 0
