"""The discrete-event loop over the tiers' streams, shared by the compiler's estimate and the emulator.

Each tier runs its stream in order on its own clock. WAIT blocks a tier until another tier has
SIGNALled the tensor; the loop always advances the tier that can start earliest, so overlap between
tiers is modelled and the numeric execution (when given) sees every value after it was produced.
Resident PROG instructions belong to program load and are skipped here. `lifetimes` reads a schedule's
events back as the buffer lifetime of every tensor: the buffer planner allocates by it and the report
states its peak, so both sit above this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from h3pc.backends import tiers
from h3pc.backends.isa import PROGRAMS, Instr
from h3pc.backends.program import Program
from h3pc.cost import Cost
from h3pc.diagnostics import H3pcError


@dataclass(frozen=True)
class Event:
    tier: str
    index: int  # position in the tier's stream
    ins: Instr
    start: float
    end: float
    cost: Cost


#: the ops (as the symbol table names them) whose instructions on the host tier make up a split
#: layer's part: its product and the join of the tiers' columns
PART_OPS = tiers.host().part_ops
_KIND = {"LD": "transfer", "ST": "transfer", "FILL": "transfer", "SIGNAL": "sync", "WAIT": "sync", "HALT": "sync"}
_PRODUCTS = frozenset({"PMM", "MVM", "MVMS", "GEMM"})
_TRANSFERS = frozenset({"LD", "ST", "FILL"})


@dataclass(frozen=True)
class Step:
    """One instruction as the schedule sees it, typed: what the partitioner reads of a program, so that
    no code outside this module tells instructions apart by mnemonic or position."""

    ins: Instr
    kind: str  # "transfer" (LD, ST, FILL), "sync" (SIGNAL, WAIT, HALT) or "compute"
    reads: tuple[int, ...]  # buffer tensors it reads: a load's tensor, a vector op's operands
    writes: tuple[int, ...]  # buffer tensors it writes: a store's tensor, a vector op's results
    part: bool  # one of a split layer's part instructions (its loads, product, join, stores)
    product: bool  # the product of a layer's part: `ins.a @ ins.b -> ins.out`


def steps(prog: Program, engine: str) -> list[Step]:
    """The typed model of one engine's stream, in program order."""
    out = []
    for ins in prog.streams.get(engine, []):
        op = ins.op
        reads = (ins.tensor,) if op == "LD" else ins.ins if op == "VOP" else ()
        writes = (ins.tensor,) if op == "ST" else ins.outs if op == "VOP" else ()
        part = op in ("LD", "ST", "GEMM", "VOP") and prog.symbols[ins.sym]["op"] in PART_OPS
        out.append(Step(ins, _KIND.get(op, "compute"), reads, writes, part, part and op in _PRODUCTS))
    return out


def is_load_time(ins: Instr) -> bool:
    return ins.op in PROGRAMS and ins.resident == 1


def simulate(streams: dict[str, list[Instr]], charge: Callable[[str, Instr], Cost],
             execute: Callable[[str, Instr], None] | None = None, record: bool = True,
             links: Mapping[str, str] | None = None) -> tuple[float, list[Event]]:
    """Run one inference: (makespan in seconds, the events in the order they ran). `links`: the link
    each engine's transfers (LD, ST, FILL) use; engines on one link contend for it, one transfer at a
    time (Charges.links; None: every engine has its own)."""
    engines = list(streams)  # in the program's engine order: ties go to the first
    pcs = {t: 0 for t in engines}
    clock = {t: 0.0 for t in engines}
    link_of = {t: (links or {}).get(t, t) for t in engines}
    free = dict.fromkeys(link_of.values(), 0.0)  # when each link is next free
    signalled: dict[int, float] = {}
    events: list[Event] = []
    live = [t for t in engines if streams.get(t)]
    while live:
        best, best_start = None, 0.0
        for t in live:
            ins = streams[t][pcs[t]]
            if ins.op == "WAIT":
                ready = signalled.get(ins.tensor)
                if ready is None:
                    continue
                start = max(clock[t], ready)
            elif ins.op in _TRANSFERS:
                start = max(clock[t], free[link_of[t]])
            else:
                start = clock[t]
            if best is None or start < best_start:
                best, best_start = t, start
        if best is None:
            waits = ", ".join(f"stream.{t} waits for %{streams[t][pcs[t]].tensor}" for t in live)
            raise H3pcError(f"deadlock: {waits}, which no tier signals")
        t = best
        i = pcs[t]
        ins = streams[t][i]
        pcs[t] = i + 1
        if ins.op == "HALT" or pcs[t] >= len(streams[t]):
            live.remove(t)
        if is_load_time(ins):
            continue
        cost = charge(t, ins)
        if execute is not None:
            execute(t, ins)
        end = best_start + cost.latency_s
        clock[t] = end
        if ins.op in _TRANSFERS:
            free[link_of[t]] = end
        if ins.op == "SIGNAL":
            signalled[ins.tensor] = end
        if record:
            events.append(Event(t, i, ins, best_start, end, cost))
    return max(clock.values(), default=0.0), events


def program_load(streams: dict[str, list[Instr]], charge_writes: Callable[[str, Instr], tuple[Cost, int]],
                 execute: Callable[[str, Instr], None] | None = None) -> tuple[Cost, dict[str, int]]:
    """Write every resident weight matrix: tiers in parallel, a tier's writes in sequence.
    Returns the load cost and the cells written per tier."""
    per_tier: list[Cost] = []
    writes: dict[str, int] = {}
    for t in streams:
        total = Cost()
        for ins in streams.get(t, []):
            if is_load_time(ins):
                cost, cells = charge_writes(t, ins)
                total = total.then(cost)
                writes[t] = writes.get(t, 0) + cells
                if execute is not None:
                    execute(t, ins)
        per_tier.append(total)
    return Cost.parallel(per_tier), writes


def max_overlap(spans: list[tuple[float, float]], weights: list[int] | None = None) -> int:
    """The largest total weight (default 1 each) of half-open [lo, hi) spans covering one point:
    crossbar writes per inference, live buffer bytes."""
    ws = weights or [1] * len(spans)
    edges = sorted([(lo, w) for (lo, _), w in zip(spans, ws)] + [(hi, -w) for (_, hi), w in zip(spans, ws)])
    best = cur = 0
    for _, d in edges:
        cur += d
        best = max(best, cur)
    return best


def _views(prog: Program) -> dict[int, list[int]]:
    """View tensors (results of data-free ops: no store) -> the stored tensors they read."""
    stored = {ins.tensor for s in prog.streams.values() for ins in s if ins.op == "ST"}
    out: dict[int, list[int]] = {}
    for ins in prog.streams.get(tiers.host().name, []):
        if ins.op == "VOP" and not any(o in stored for o in ins.outs):
            src = [s for i in ins.ins for s in out.get(i, [i])]
            for o in ins.outs:
                out[o] = src
    return out


def lifetimes(prog: Program, events: list[Event], makespan: float) -> dict[int, tuple[float, float]]:
    """[first write, last read) in seconds of every tensor that lives in the global buffer."""
    views = _views(prog)
    home = {i for i, t in enumerate(prog.tensors) if t.home == "buffer"}
    life: dict[int, list[float]] = {i["tensor"]: [0.0, 0.0] for i in prog.inputs if i["tensor"] in home}
    for ev in events:
        ins = ev.ins
        if ins.op not in ("ST", "FILL", "LD"):
            continue
        t = ins.tensor
        if ins.op != "LD" and t in home and t not in life:
            life[t] = [ev.start, ev.end]
        for s in views.get(t, (t,)):
            if s in life:
                life[s][1] = max(life[s][1], ev.end)
    for o in prog.outputs:
        for s in views.get(o["tensor"], (o["tensor"],)):
            if s in life:
                life[s][1] = makespan
    return {t: (a, b) for t, (a, b) in life.items()}
