"""The digital tier's timeline around the layers: what stage one schedules its layer parts against.

Every tier runs its stream in program order and waits only for the tensors it reads from another
tier (runtime/schedule.py). Nothing the split changes sits on the digital tier except the layers'
own digital work, so the digital stream of one reference lowering (every layer whole on the digital
tier) fixes the rest of the program: runs of instructions (`Segment`s) with their latency, the layer
outputs their first instruction waits for, and the slot of each layer among them. Each layer's
operands are ready at the end of the segment (or layer) that produces them. Segments are cut after
every instruction producing a layer's operand and before every instruction reading a layer's output,
so these readiness times are exact. The stream is read through the schedule's typed model
(runtime/schedule.py `steps`: transfers, syncs, computes, the reads and writes of each, the layer parts
and their products), never by mnemonic or operand position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp

from h3pc.backends.codegen import generate
from h3pc.backends.tier import Spills
from h3pc.backends import tiers
from h3pc.backends.program import Program
from h3pc.charges import Charges
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime.schedule import Step, steps
from h3pc.transforms.allocate_crossbars import allocate_module
from h3pc.transforms.lower_tiers import lower_module
from h3pc.transforms.place import set_bits, set_replicas, set_split

#: where a tensor becomes ready: ("seg", segment index), ("layer", layer index) or None (at start)
Ref = tuple[str, int] | None


@dataclass
class Segment:
    """A run of digital instructions no split changes; it starts once `after`'s layers are done."""

    latency_s: float
    after: tuple[int, ...] = ()
    #: the layer outputs it loads: (layer, bytes in the host's format, lives off-chip); a layer whose
    #: tier stores a narrower format makes these loads cheaper (Problem.evaluate)
    reads: list[tuple[int, int, bool]] = field(default_factory=list)


@dataclass
class Timeline:
    items: list[Segment | int]  # segments and layer slots (layer index) in digital program order
    operands: list[tuple[Ref, Ref]]  # per layer: where its A and its B become ready
    energy_j: float  # per inference, of every segment
    spills: list[Spills] = field(default_factory=list)  # per layer, in the reference plan
    #: per layer, the layer whose stored output its A load reads (through views), or None: then A's
    #: format is the host's whatever the split; else it is the format that layer's tier stored it in
    a_layer: list[int | None] = field(default_factory=list)

    @property
    def latency_s(self) -> float:
        return sum(i.latency_s for i in self.items if isinstance(i, Segment))


def program_for(module: ModuleOp, weights, hw: HardwareConfig, layer_ops: list, splits: list[dict[str, int]],
                streams: list[frozenset[str]] | None = None, bits: list[dict[str, int]] | None = None,
                replicas: list[dict[str, int]] | None = None) -> Program:
    """The program of `module` with each of `layer_ops` split as given (in rows; the module is not
    changed), and with their bit widths where `bits` gives them: lowered, crossbars allocated,
    generated."""
    clone = module.clone()
    index = {id(op): i for i, op in enumerate(layer_ops)}
    mine = [op for op, twin in zip(clone.walk(), module.walk()) if id(twin) in index]
    for i, (op, split) in enumerate(zip(mine, splits)):
        set_split(op, split, streams[i] if streams else frozenset())
        if replicas:
            set_replicas(op, replicas[i])
        if bits:
            set_bits(op, bits[i])
    lower_module(clone, hw)
    allocate_module(clone, hw)
    return generate(clone, weights, hw)


def reference_program(module: ModuleOp, weights, hw: HardwareConfig, layer_ops: list, rows: list[int]) -> Program:
    """The program of `module` with every layer whole on the host tier."""
    host = tiers.host().name
    return program_for(module, weights, hw, layer_ops, [{host: n} for n in rows])


def extract(prog: Program, layers: int) -> Timeline:
    """Segments, layer slots and operand readiness from a reference program's digital steps."""
    charges = Charges.build(prog)
    host = tiers.host().name
    model = [s for s in steps(prog, host) if s.kind != "sync"]
    gemms = [s.ins for s in model if s.product]
    if len(gemms) != layers:
        raise AssertionError(f"reference lowering has {len(gemms)} layer products, stage one {layers} layers")
    out_of = {g.out: li for li, g in enumerate(gemms)}  # a layer's output tensor -> layer
    wanted = {g.a for g in gemms} | {g.b for g in gemms}  # every layer operand
    items: list[Segment | int] = []
    ready: dict[int, Ref] = {t: ("layer", li) for t, li in out_of.items()}
    seg: Segment | None = None
    energy = 0.0
    nxt = 0
    for step in model:
        if step.part:
            if step.product:
                items.append(nxt)
                nxt += 1
                seg = None
            continue
        waits = tuple(sorted({out_of[t] for t in step.reads if t in out_of}))
        if seg is None or (waits and seg.latency_s > 0):
            seg = Segment(0.0, waits)
            items.append(seg)
        elif waits:
            seg.after = tuple(sorted(set(seg.after) | set(waits)))
        c = charges.of(host, step.ins)
        if step.kind == "transfer" and step.reads and step.reads[0] in out_of:
            t = step.reads[0]
            seg.reads.append((out_of[t], prog.tensors[t].stored_bytes, prog.tensors[t].home == "offchip"))
        seg.latency_s += c.latency_s
        energy += c.energy_j
        if any(t in wanted for t in step.writes):
            si = sum(isinstance(i, Segment) for i in items) - 1
            for t in step.writes:
                ready[t] = ("seg", si)
            seg = None  # a layer may start reading here: the next instruction opens a new segment
    operands = [(ready.get(g.a), ready.get(g.b)) for g in gemms]
    spills, a_loads = _spills(prog, model)
    return Timeline(items, operands, energy, spills, [out_of.get(t) for t in a_loads])


def _spills(prog: Program, model: list[Step]) -> tuple[list[Spills], list[int]]:
    """Per layer product: whether the tensors its part loads (A, then B) and stores live off-chip, and
    the tensor its A load reads."""
    out: list[Spills] = []
    a_loads: list[int] = []
    loads: list[int] = []
    for step in model:
        if not step.part:
            loads = []
        elif step.kind == "transfer":
            loads.extend(step.reads)
        elif step.product:
            ts = prog.tensors
            off = [ts[t].home == "offchip" and ts[t].role != "const" for t in loads[:2]] + [False, False]
            out.append(Spills(off[0], off[1], ts[step.ins.out].home == "offchip"))
            a_loads.append(loads[0] if loads else -1)
            loads = []
    return out, a_loads
