"""plan-buffer: where every tensor lives in the global buffer, and when weights are staged into it.

0. Held weights. The M tier's weight region (`memory.weight_bytes`) holds the weights the tiers load
   (photonic and digital GEMM operands, streamed PIM weights) from program load on, in the order the
   unplanned schedule first loads them, while they fit (home `resident`): their LDs read the M tier,
   with no off-chip traffic per inference. The rest is staged or read from off-chip as below.
1. Staging with double buffering. A weight not held that one LD reads is staged by the DMA engine
   (stream.dma: `FILL w; SIGNAL w`; the tier does `WAIT w` before its LD), so its off-chip transfer
   overlaps the tiers' compute instead of sitting in front of the load. The DMA engine runs ahead of
   each tier by at most `memory.prefetch_depth` weights (2: double buffering): before filling a
   tier's j-th staged weight it waits for the token the tier signals after loading its (j-depth)-th.
   Depth 0 turns staging off (every weight is read straight from off-chip, as unplanned).
2. Liveness. The schedule (runtime/schedule.py, the one the emulator replays) gives every buffer
   tensor its lifetime: from its store (a staged weight: its fill; an input: the start) to the end
   of the last LD of it or of a view of it (an output: the end of the run). Only LD reads the
   buffer: a tier computes on the copy it loaded.
3. Allocation. Activations first (a spill costs off-chip energy; an unstaged weight only loses its
   overlap), largest first within each class, each tensor goes to the lowest 64-byte aligned address
   that no tensor live at the same time occupies (interval first fit, as TFLite's arena planner
   does). A tensor that does not fit is evicted: a staged weight is read straight from off-chip
   again, a value or input is spilled (its store writes through to off-chip memory and every load
   reads it back, both charged by h3pc/charges.py).

Eviction changes the schedule, so 1-3 repeat until nothing more is evicted: the plan is valid for
the schedule the program then runs (tests/test_buffer.py checks it on every dev model).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from h3pc.backends.isa import Instr, make
from h3pc.backends.program import ALIGN, Program, Tensor
from h3pc.charges import Charges
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import DMA
from h3pc.runtime.kernels import Kernels
from h3pc.runtime.schedule import lifetimes, simulate

#: planning rounds before giving up (each evicts at least one tensor; real models settle in 2-3)
MAX_ROUNDS = 64


@dataclass(frozen=True)
class Fill:
    """A staged weight: the tier that loads it, its LD's position in that tier's stream, its tensor."""

    tier: str
    pos: int
    tensor: int
    sym: int


def plan_buffer(prog: Program) -> Program:
    """The program with its buffer planned: staged weights, tensor addresses and spills."""
    hw = prog.hw
    kernels = Kernels.of(prog, "program")
    costs = kernels.costs(hw)
    order = _load_order(prog, kernels, costs)
    held = _held(prog, order, hw.memory.weight_bytes)
    once = Counter(ins.tensor for s in prog.streams.values() for ins in s if ins.op == "LD")
    fills = [f for f in order if once[f.tensor] == 1 and f.tensor not in held] if hw.memory.prefetch_depth else []
    staged = {f.tensor for f in fills}
    spilled: set[int] = set()
    for _ in range(MAX_ROUNDS):
        planned = _staged(prog, fills, staged, spilled, held)
        ch = Charges(planned, hw, costs, kernels.gathers)
        makespan, events = simulate(planned.streams, ch.of, links=ch.links)
        life = lifetimes(planned, events, makespan)
        addrs, evicted = allocate(life, {t: planned.tensors[t].stored_bytes for t in life}, hw.memory.buffer_bytes,
                                  later=staged)
        if not evicted:
            tensors = [dataclasses.replace(t, addr=addrs[i]) if i in addrs else t
                       for i, t in enumerate(planned.tensors)]
            return dataclasses.replace(planned, tensors=tensors)
        staged -= evicted
        spilled |= {t for t in evicted if prog.tensors[t].role != "const"}
    raise H3pcError(f"buffer planning did not settle in {MAX_ROUNDS} rounds")


def _load_order(prog: Program, kernels: Kernels, costs) -> list[Fill]:
    """Every weight load, in the order the unplanned schedule runs them: the M tier holds weights in
    first-use order, and the DMA engine fills in that order, so its waits never run ahead of what the
    tiers can reach."""
    consts = {i for i, t in enumerate(prog.tensors) if t.role == "const"}
    ch = Charges(prog, prog.hw, costs, kernels.gathers)
    _, events = simulate(prog.streams, ch.of, links=ch.links)
    rank = {t: i for i, t in enumerate(prog.streams)}
    order = [(ev.start, rank[ev.tier], ev.index, ev) for ev in events
             if ev.ins.op == "LD" and ev.ins.tensor in consts]
    return [Fill(ev.tier, ev.index, ev.ins.tensor, ev.ins.sym) for *_, ev in sorted(order, key=lambda o: o[:3])]


def _held(prog: Program, order: list[Fill], capacity: int) -> set[int]:
    """The weights the M tier's weight region holds from program load on: in first-use order while
    they fit (the rest stream from off-chip every inference)."""
    held: set[int] = set()
    used = 0
    for f in order:
        if f.tensor in held:
            continue
        size = prog.tensors[f.tensor].stored_bytes
        if used + size > capacity:
            break
        held.add(f.tensor)
        used += size
    return held


def _staged(prog: Program, fills: list[Fill], staged: set[int], spilled: set[int], held: set[int]) -> Program:
    """`prog` with the weights in `held` in the M tier's weight region, those in `staged` filled by the
    DMA engine, and the tensors in `spilled` (and every other weight) homed off-chip."""
    depth = prog.hw.memory.prefetch_depth
    def home(i: int, t: Tensor) -> str:
        if t.role == "const":
            return "resident" if i in held else "buffer" if i in staged else "offchip"
        return "offchip" if i in spilled else "buffer"

    tensors = [dataclasses.replace(t, home=home(i, t)) if t.role in ("const", "input", "value") else t
               for i, t in enumerate(prog.tensors)]
    mine = [f for f in fills if f.tensor in staged]
    per_tier: dict[str, list[Fill]] = defaultdict(list)
    for f in mine:  # in schedule order, so each tier's loads are in stream order
        per_tier[f.tier].append(f)
    token: dict[tuple[str, int], int] = {}  # (tier, j) -> token tensor the tier signals after load j
    slot: dict[int, tuple[str, int]] = {}
    for tier, fs in per_tier.items():
        for j, f in enumerate(fs):
            slot[f.tensor] = (tier, j)
            if j + depth < len(fs):
                token[(tier, j)] = len(tensors)
                tensors.append(Tensor((), "uint8", "token", home=""))
    streams: dict[str, list[Instr]] = {}
    for tier, instrs in prog.streams.items():
        out: list[Instr] = []
        for ins in instrs:
            t = ins.tensor if ins.op == "LD" else -1
            if t in slot:
                out.append(make("WAIT", tensor=t))
            out.append(ins)
            if t in slot and slot[t] in token:
                out.append(make("SIGNAL", tensor=token[slot[t]]))
        streams[tier] = out
    dma: list[Instr] = []
    for f in mine:
        tier, j = slot[f.tensor]
        if j >= depth:
            dma.append(make("WAIT", tensor=token[(tier, j - depth)]))
        dma += [make("FILL", tensor=f.tensor, sym=f.sym), make("SIGNAL", tensor=f.tensor)]
    streams[DMA] = dma + [make("HALT")] if dma else []
    return dataclasses.replace(prog, streams=streams, tensors=tensors)


def allocate(life: dict[int, tuple[float, float]], sizes: dict[int, int], capacity: int,
             later: set[int] = frozenset()) -> tuple[dict[int, int], set[int]]:
    """Addresses of the tensors that fit (those not in `later` first, then largest first, each at the
    lowest free aligned address among those live at the same time) and the set that does not."""
    order = sorted(life, key=lambda t: (t in later, -sizes[t], life[t][0], t))
    n = len(order)
    starts, ends = np.empty(n), np.empty(n)
    los, his = np.empty(n, np.int64), np.empty(n, np.int64)
    placed = 0
    addrs: dict[int, int] = {}
    evicted: set[int] = set()
    for t in order:
        size = -(-max(sizes[t], 1) // ALIGN) * ALIGN
        s, e = life[t]
        busy = (starts[:placed] < e) & (s < ends[:placed]) if placed else np.zeros(0, bool)
        addr = 0
        if busy.any():
            for lo, hi in sorted(zip(los[:placed][busy].tolist(), his[:placed][busy].tolist())):
                if addr + size <= lo:
                    break
                addr = max(addr, hi)
        if addr + size > capacity:
            evicted.add(t)
            continue
        starts[placed], ends[placed], los[placed], his[placed] = s, e, addr, addr + size
        placed += 1
        addrs[t] = addr
    return addrs, evicted


def verify(prog: Program) -> None:
    """Check a planned program against the schedule it runs: every buffer tensor has an address
    inside the buffer, and no two tensors live at the same time share a byte."""
    ch = Charges.build(prog)
    makespan, events = simulate(prog.streams, ch.of, links=ch.links)
    life = lifetimes(prog, events, makespan)
    ts, cap = prog.tensors, prog.hw.memory.buffer_bytes
    for t in life:
        if ts[t].addr < 0 or ts[t].addr + ts[t].stored_bytes > cap:
            raise H3pcError(f"buffer plan: %{t} ({ts[t].stored_bytes} bytes) has address {ts[t].addr}, "
                            f"outside the {cap}-byte buffer")
    active: list[int] = []
    for t in sorted(life, key=lambda t: life[t]):
        s = life[t][0]
        active = [a for a in active if life[a][1] > s]
        lo, hi = ts[t].addr, ts[t].addr + ts[t].stored_bytes
        for a in active:
            if life[a][0] < life[t][1] and ts[a].addr < hi and lo < ts[a].addr + ts[a].stored_bytes:
                raise H3pcError(f"buffer plan: %{t} and %{a} are live together and overlap in the buffer")
        active.append(t)
