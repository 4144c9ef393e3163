"""The `Tier` interface: everything the compiler and the emulator need to know about one tier.

A tier is one module (backends/<name>.py, registered in backends/tiers.py; its functional execution
and noise in runtime/<name>.py): its block of the hardware description, which layers it may run and
why not, what a part of a layer costs on it (from cost.py's formulas), how a part lowers from `nn`
to its dialect and how its ops become instructions, what each of its instructions costs, and the bit
widths stage two may lower. The partitioner, the lowering, codegen, the charges, the emulator and the
reports iterate over the registry and never name a tier (the model: snax-mlir's accelerator registry,
Stream's core model).

Two roles are not per-layer choices and are flags of a tier: the `host` runs everything that is not a
layer part (vector ops, joins, the layout around products); a `stationary` tier holds weights in
crossbars (capacity, programming, residency, wear: `StationaryTier`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from h3pc.backends.isa import Instr
from h3pc.cost import Cost, buffer_transfer, inferences_to_wear_out, offchip_transfer
from h3pc.hardware.schema import HardwareConfig

if TYPE_CHECKING:
    from xdsl.ir import Operation, SSAValue


#: bytes per element of what the host stores (fp32: its vector unit computes and keeps fp32)
ELEM_BYTES = 4


def stored(elems: int, bits: int) -> int:
    """Bytes of `elems` elements in a stored format of `bits` per element (program.Tensor.stored_bytes)."""
    return -(-elems * bits // 8)


@dataclass(frozen=True)
class Part:
    """Per-inference latency (s) and energy (J) of one tier's part, and the crossbars it holds."""

    latency_s: float  # on its own tier
    energy_j: float
    crossbars: int = 0
    cells_written: int = 0  # per inference (weights programmed into crossbars before every use)
    tail_s: float = 0.0  # the host's re-join of a part's pieces, after the part
    scratch: int = 0  # crossbars of its largest piece written before every use (not resident)
    pieces: int = 0  # pieces written before every use (writes per inference to the scratch top)
    a_loads: int = 1  # times it loads the layer's A operand (once per crossbar-sized piece)


@dataclass(frozen=True)
class Spills:
    """Which of a layer's activations the buffer plan keeps off-chip (backends/plan_buffer.py): its
    A operand, a dynamic B operand, its output."""

    a: bool = False
    b: bool = False
    out: bool = False


@dataclass(frozen=True)
class Shape:
    """A layer in the canonical form of `lower-tiers`, C[g, m, n] = A[g, m, k] @ B[g, k, n], with the
    bytes a tier loads for A (a conv's tier reads the input itself: im2col windows are a view)."""

    g: int
    m: int
    k: int
    n: int
    a_bytes: int
    static: bool  # B is a compile-time constant
    node: str
    #: a static B is read from off-chip per inference (it does not fit the M tier's weight region)
    b_offchip: bool = True
    host: str = ""  # the host tier, which re-joins a part's pieces (its link)


def load(hw: HardwareConfig, nbytes: int, offchip: bool, tier: str = "") -> Cost:
    """`tier`'s LD over its link (from off-chip first when the tensor lives there: charges.py's rule)."""
    near = buffer_transfer(hw, nbytes, tier)
    return offchip_transfer(hw, nbytes).then(near) if offchip else near


def store(hw: HardwareConfig, nbytes: int, offchip: bool, tier: str = "") -> Cost:
    near = buffer_transfer(hw, nbytes, tier)
    return near.then(offchip_transfer(hw, nbytes)) if offchip else near


def seq(costs: Sequence[Cost], crossbars: int = 0, cells: int = 0) -> Part:
    return Part(sum(c.latency_s for c in costs), sum(c.energy_j for c in costs), crossbars, cells)


def crossbar_layout(resident: Sequence[int], scratch_of: Sequence[int], forced: Sequence[bool], capacity: int
                    ) -> tuple[list[int], int]:
    """The one rule of how a weight-stationary tier's crossbars are laid out, which `lower-tiers` and
    `allocate-crossbars` apply to a program and stage one to a split. Items (weight matrices, or a
    layer's part) come in program order; `forced` ones are written before every use into a streaming
    region at the top of the tier, as large as the largest piece any of them streams in (`scratch_of`);
    the others stay resident, in order, while they fit below that region (`resident` crossbars each);
    one that does not fit streams too, which may grow the region, so the layout repeats until it does not.
    A streamed item's pieces are cut to the tier's bounded streaming region (`stream_tiles`,
    backends/pim.py `pieces`), not to the whole tier: one huge spilled matrix grows the region by at most
    that much and evicts no more than that of the resident weights, which stay resident.
    Returns (the unforced items written before every use, the streaming region's crossbars)."""
    scratch = max((s for s, f in zip(scratch_of, forced) if f), default=0)
    while True:
        used, spilled = 0, []
        for i, (need, f) in enumerate(zip(resident, forced)):
            if f:
                continue
            if used + need <= capacity - scratch:
                used += need
            else:
                spilled.append(i)
        grown = max([scratch] + [scratch_of[i] for i in spilled])
        if grown == scratch:
            return spilled, scratch
        scratch = grown


class Tier(ABC):
    """One tier. Subclasses set the class attributes and implement the abstract methods (the host's and a
    crossbar tier's own in `HostTier` and `StationaryTier`)."""

    #: key of its block in the hardware description, its row in reports, its key in `h3pc.split`
    name: ClassVar[str]
    #: the `--target` that puts every layer on it
    target: ClassVar[str]
    #: runs everything that is not a layer part (a `HostTier`); exactly one registered tier is the host
    host: ClassVar[bool] = False
    #: holds weights in crossbars (a `StationaryTier`)
    stationary: ClassVar[bool] = False
    #: instruction mnemonics its stream may hold besides the ones every engine has
    instructions: ClassVar[tuple[str, ...]] = ()
    #: the per-layer bit widths stage two may lower (`h3pc.bits` keys "<tier>.<knob>"), each a field
    #: of its config block that is its default
    bit_knobs: ClassVar[tuple[str, ...]] = ()
    #: loads a part's A operand before it waits for B (B streams through it: not stationary)
    leads_with_a: ClassVar[bool] = True
    #: (the host's) the ops whose instructions on it belong to a split layer's part (symbol table names)
    part_ops: ClassVar[frozenset[str]] = frozenset()
    #: may run a product whose both operands are computed at run time (where its description allows): a
    #: weight-stationary tier then writes the operand into its cells on every use. False: never, in any
    #: target (ReRAM: the writes would wear its cells out, docs/hardware-model.md a.3); a fixed target
    #: on such a tier runs those products on the host (transforms/place.py)
    takes_dynamic_operands: ClassVar[bool] = True

    def config(self, hw: HardwareConfig) -> Any:
        return hw.tier(self.name)

    def weight_bits(self, hw: HardwareConfig) -> int:
        """Bits per element of a weight held in the format this tier reads (the M tier and its links
        carry it so); the host's: fp32."""
        return ELEM_BYTES * 8

    def output_bits(self, hw: HardwareConfig) -> int:
        """Bits per element of the results it stores (the host's: fp32)."""
        return ELEM_BYTES * 8

    def static_power_w(self, hw: HardwareConfig) -> float | None:
        """Static power of the powered tier, besides what its instructions charge (None: none). It is drawn
        over the tier's busy time when its block says `power_gated` (cost.power_gated), else for the whole
        run (a block without the key: the whole run)."""
        return None

    # -- stage one ---------------------------------------------------------------------------------
    def why_not(self, hw: HardwareConfig, static: bool) -> str | None:
        """Why this tier cannot run a layer (`static`: its B operand is a constant), or None."""
        return None

    @abstractmethod
    def part_cost(self, hw: HardwareConfig, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        """What the lowered program spends per inference on `rows` output rows of layer `s` here."""

    # -- lowering (transforms/lower_tiers.py) ------------------------------------------------------
    @abstractmethod
    def lower_part(self, e: Any, hw: HardwareConfig, a: "SSAValue", b: "SSAValue", lo: int, hi: int, g: int,
                   elem: Any, streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> "SSAValue":
        """Emit the ops of one part, C[g, m, lo:hi] = a[g, m, k] @ b[g, k, lo:hi], through the lowering's
        emitter `e` (`e.op`, `e.columns`, `e.reshape`, `e.join`); `streamed`: weights written before
        every use; `bits`: the layer's `h3pc.bits` overrides; `weight_scale`: a quantized model's own
        weight step per output column ([g, n] numpy) and its largest code, or None, for tiers that
        hold integer codes."""

    @abstractmethod
    def owns(self, op: "Operation") -> bool:
        """This tier runs `op` (an op of its dialect)."""

    # -- codegen (backends/codegen.py) -------------------------------------------------------------
    @abstractmethod
    def emit(self, cg: Any, op: "Operation", sym: int) -> None:
        """Append `op`'s instructions to this tier's stream through the code generator `cg`
        (`cg.load`, `cg.store`, `cg.emit`, `cg.tid`, `cg.tensors`)."""

    # -- charges (h3pc/charges.py) -----------------------------------------------------------------
    @abstractmethod
    def charge(self, ch: Any, ins: Instr) -> tuple[Cost, int]:
        """(cost, crossbar cells written) of one of its own instructions; `ch` is the program's
        `Charges` (h3pc/charges.py: `ch.hw`, `ch.prog.tensors`, the kernels' costs)."""


class HostTier(Tier):
    """The tier that runs every op that is not a layer part: vector kernels, the joins of split layers and
    the windows of a conv (the lowering asks it for the last two)."""

    host = True

    @abstractmethod
    def windows(self, e: Any, x: "SSAValue", shape: tuple[int, ...], props: dict[str, Any]) -> "SSAValue":
        """A conv's input windows as the rows of a grouped product ([g, rows, k])."""

    @abstractmethod
    def join(self, e: Any, parts: list["SSAValue"]) -> "SSAValue":
        """A split layer's parts, columns side by side."""


class StationaryTier(Tier):
    """A tier that holds weights in crossbars: written once at load (resident) or before every use."""

    stationary = True
    leads_with_a = False
    #: the crossbar geometry a program is compiled for: another description may change costs, not these
    geometry: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def capacity(self, hw: HardwareConfig) -> int:
        """Crossbars the tier has."""

    @abstractmethod
    def crossbars(self, hw: HardwareConfig, k: int, n: int) -> int:
        """Crossbars a k x n weight matrix takes."""

    @abstractmethod
    def pieces(self, hw: HardwareConfig, g: int, k: int, n: int, node: str) -> list[tuple[int, int]]:
        """Column ranges of a [g, k, n] matrix such that each piece fits the tier."""

    def allows_reprogramming(self, hw: HardwareConfig) -> bool:
        return False

    @abstractmethod
    def program_cells(self, hw: HardwareConfig, shape: tuple[int, ...]) -> int:
        """Cells written to program a weight tensor of this shape ([k, n] or [g, k, n])."""

    def wear_out(self, hw: HardwareConfig, worst_writes: int) -> float | None:
        return inferences_to_wear_out(self.config(hw), worst_writes)

    def kind_of(self, op: "Operation") -> str | None:
        """The stationary kind an op of the shared crossbar dialect names (None: not such an op)."""
        return None
