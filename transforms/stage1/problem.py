"""Stage one's problem: per-layer, per-tier cost tables over row chunks, from the one cost model.

A layer is a GEMM-like op (MatMul, Gemm, Conv, and the dynamic attention matmuls) in the canonical
form C[g, m, n] = A[g, m, k] @ B[g, k, n] of `lower-tiers`; its n output rows are split over the
tiers in chunks of `chunk` rows. For every (layer, tier, chunks) the table holds what the lowered
program will spend per inference on that part: the tier loads A (the stored tensor it views) and,
unless B sits resident in PIM crossbars, B's columns; computes; stores its columns (a PIM part that
needs several crossbar-sized pieces loads A per piece and is re-joined on the digital tier: the
part's `tail_s`). A layer split over two or more tiers adds the digital join of the parts. Everything
else the program does (the non-GEMM ops, the layout ops around each GEMM) does not depend on the
split: it is the `Timeline` of one reference lowering.

The latency model is the emulator's schedule, not a sum over layers: every tier runs its parts in
program order, a part starts when its tier is free and its operands are ready, the digital tier runs
the timeline's segments, the PIM tails and the joins in between, and LAT is the last tier's finish.
A layer still waits for its slowest tier (the paper's max, docs/hardware-model.md a.3) before
anything reads its output, but independent layers on different tiers overlap (Q/K/V projections,
gate/up, a tier's GEMM beside the digital tier's softmax). Energy is the sum of the parts, the joins,
the timeline, and every tier's static power over LAT.

Capacity: a PIM tier holds its parts' resident weights plus one scratch region, as large as the
largest piece written before every use (dynamic operands, streamed weights), the layout of
`allocate-crossbars`. Where the description allows reprogramming (`allow_reprogramming`), a static
part may stream instead of staying resident: `Layer.streamed` holds those parts, which reload the
weights from off-chip and program them on every inference (time, energy and cells written, the
endurance wear `Problem.wear` reports).

Dynamic-operand layers (both operands computed at run time) are placed whole on one tier: splitting
them would add a digital slice of B per part and no weight stays stationary to gain from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from h3pc.backends import tiers
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, StationaryTier, crossbar_layout, load, seq, store
from h3pc.dialects import nn
from h3pc.dialects.nn import shape_of
from h3pc.dialects.types import numpy_dtype
from h3pc.diagnostics import UnsupportedError
from h3pc.hardware.schema import HardwareConfig
from h3pc.transforms.stage1.timeline import Ref, Segment, Timeline, extract, reference_program
from h3pc.transforms.allocate_crossbars import is_static
from h3pc.workload import gemm_work

#: a layer is cut into at most this many row chunks by default (a divisor of its rows)
MAX_CHUNKS = 16


@dataclass
class Layer:
    index: int
    node: str  # the ONNX node name
    op: Operation
    g: int
    m: int
    k: int
    rows: int  # n: the rows to split
    chunk: int  # rows per chunk (divides rows)
    static: bool  # B is a compile-time constant (weight-stationary candidate)
    allowed: tuple[str, ...]  # tiers able to run it
    why_not: dict[str, str]  # tier -> why it cannot run this layer
    table: dict[str, list[Part]] = field(default_factory=dict)  # tier -> part cost per chunk count
    #: the same parts with the weights streamed (written before every use), on tiers that allow reprogramming
    streamed: dict[str, list[Part]] = field(default_factory=dict)
    join: Part = Part(0.0, 0.0)
    ld_a_s: float = 0.0  # loading A, before a photonic or digital part waits for B
    a_from: Ref = None  # where A and B become ready (Timeline.operands)
    b_from: Ref = None

    @property
    def chunks(self) -> int:
        return self.rows // self.chunk

    @property
    def splittable(self) -> bool:
        return self.static

    def part(self, tier: str, chunks: int, streamed: bool = False) -> Part:
        return (self.streamed if streamed else self.table)[tier][chunks]


#: per layer, the PIM tiers whose part streams its weights instead of keeping them resident
Streams = list[frozenset[str]]


@dataclass
class Problem:
    hw: HardwareConfig
    layers: list[Layer]
    timeline: Timeline  # everything the split does not change
    static_power_w: float
    capacity: dict[str, int]  # weight-stationary tier -> crossbars
    reprogram: tuple[str, ...] = ()  # weight-stationary tiers that allow streaming static weights
    memo: dict = field(default_factory=dict, repr=False)  # solver-side caches (candidate splits)
    #: the machine's tiers in report order, the host's name, and the tiers that load A before B
    names: tuple[str, ...] = ()
    host: str = ""
    leads: frozenset[str] = frozenset()
    streaming: str = ""  # the first tier besides the host that streams both operands: dynamic layers' default

    def evaluate(self, chunks: list[dict[str, int]], streams: Streams | None = None) -> tuple[float, float]:
        """(latency s, energy J) of a split given in chunks per tier, under the model above."""
        host = self.host
        clock = dict.fromkeys(self.names, 0.0)
        seg_end: list[float] = []
        out = [0.0] * len(self.layers)
        energy = self.timeline.energy_j

        def ready(ref: Ref) -> float:
            return 0.0 if ref is None else seg_end[ref[1]] if ref[0] == "seg" else out[ref[1]]

        for item in self.timeline.items:
            if isinstance(item, Segment):
                clock[host] = max([clock[host]] + [out[li] for li in item.after]) + item.latency_s
                seg_end.append(clock[host])
                continue
            layer, split = self.layers[item], chunks[item]
            streamed = streams[item] if streams else frozenset()
            ra, rb = ready(layer.a_from), ready(layer.b_from)
            ends = []
            for t in self.names:
                if not split.get(t):
                    continue
                part = layer.part(t, split[t], t in streamed)
                energy += part.energy_j
                lead = layer.ld_a_s if t in self.leads else 0.0
                end = clock[t] = max(clock[t], ra, rb - lead) + part.latency_s
                if part.tail_s:
                    end = clock[host] = max(clock[host], end) + part.tail_s
                ends.append(end)
            if len(ends) > 1:
                clock[host] = max([clock[host]] + ends) + layer.join.latency_s
                ends = [clock[host]]
                energy += layer.join.energy_j
            out[item] = max(ends)
        lat = max(clock.values())
        return lat, energy + self.static_power_w * lat

    def parts(self, chunks: list[dict[str, int]], streams: Streams | None, tier: str) -> list[tuple[int, Part]]:
        """(layer index, part) of every layer that runs rows on a PIM tier."""
        return [(layer.index, layer.part(tier, s[tier], bool(streams) and tier in streams[layer.index]))
                for layer, s in zip(self.layers, chunks) if s.get(tier)]

    def demand(self, chunks: list[dict[str, int]], streams: Streams | None = None) -> dict[str, int]:
        """Crossbars each PIM tier needs (`_need`)."""
        return {t: _need([p for _, p in self.parts(chunks, streams, t)]) for t in self.capacity}

    def fits(self, chunks: list[dict[str, int]], streams: Streams | None) -> bool:
        return all(d <= self.capacity[t] for t, d in self.demand(chunks, streams).items())

    def fit(self, chunks: list[dict[str, int]]) -> Streams | None:
        """Which parts stream so that the split fits (None: it cannot). Where a tier allows
        reprogramming, parts stay resident in program order while they fit beside the scratch region,
        the rule `allocate-crossbars` follows; elsewhere every static weight must stay resident."""
        streams: list[set[str]] = [set() for _ in self.layers]
        for t, cap in self.capacity.items():
            parts = self.parts(chunks, None, t)
            if t not in self.reprogram:
                if _need([p for _, p in parts]) > cap:
                    return None
                continue
            # a part holding no crossbars writes before every use (its own scratch); the others stay
            # resident while they fit, else stream as their streamed variant (its scratch)
            forced = [not p.crossbars for _, p in parts]
            scratch_of = [p.scratch if f else self.layers[li].part(t, chunks[li][t], True).scratch
                          for (li, p), f in zip(parts, forced)]
            spilled, scratch = crossbar_layout([p.crossbars for _, p in parts], scratch_of, forced, cap)
            if scratch > cap:
                return None
            for i in spilled:
                streams[parts[i][0]].add(t)
        return [frozenset(s) for s in streams]

    def wear(self, chunks: list[dict[str, int]], streams: Streams | None) -> dict[str, dict[str, Any]]:
        """Per PIM tier: cells written per inference, writes per inference to the most-written
        crossbar (the top of the scratch region, which every streamed piece covers), and the
        inferences until that crossbar reaches the tier's endurance."""
        out = {}
        for t in self.capacity:
            parts = [p for _, p in self.parts(chunks, streams, t)]
            worst = sum(p.pieces for p in parts)
            tier = tiers.get(t)
            assert isinstance(tier, StationaryTier)
            out[t] = {"cells_written": sum(p.cells_written for p in parts), "worst_crossbar_writes": worst,
                      "inferences_to_wear_out": tier.wear_out(self.hw, worst)}
        return out

    def rows(self, chunks: list[dict[str, int]]) -> list[dict[str, int]]:
        """Chunks per tier -> rows per tier (the h3pc.split of each layer)."""
        return [{t: c * layer.chunk for t, c in s.items() if c} for layer, s in zip(self.layers, chunks)]


def _need(parts: list[Part]) -> int:
    """Crossbars a PIM tier needs for these parts: their resident weights plus the scratch region the
    weights written before every use share (their largest piece), as `allocate-crossbars` lays them out."""
    return sum(p.crossbars for p in parts) + max((p.scratch for p in parts), default=0)


def chunk_size(rows: int, max_chunks: int) -> int:
    """The smallest chunk (a divisor of rows) that cuts rows into at most max_chunks pieces."""
    for parts in range(min(rows, max_chunks), 0, -1):
        if rows % parts == 0:
            return rows // parts
    return rows


def _nbytes(v, numel: int | None = None) -> int:
    return (numel if numel is not None else math.prod(shape_of(v))) * numpy_dtype(v.type.element_type).itemsize


def _canonical(op: Operation) -> tuple[int, int, int, int, int, object]:
    """(g, m, k, n, bytes the tier loads for A, the B operand) of a layer, as `lower-tiers` builds it:
    a conv's tier reads the input itself (im2col windows are a view of it)."""
    w = gemm_work(op)
    assert w is not None
    if isinstance(op, nn.ConvOp):
        return w.groups, w.m, w.k, w.n, _nbytes(op.x), op.w
    if isinstance(op, nn.GemmOp):
        return 1, w.m, w.k, w.n, _nbytes(op.a), op.b
    assert isinstance(op, nn.MatMulOp)
    return w.groups, w.m, w.k, w.n, _nbytes(op.lhs, w.groups * w.m * w.k), op.rhs


def _allowed(hw: HardwareConfig, static: bool) -> tuple[tuple[str, ...], dict[str, str]]:
    why = {t.name: w for t in tiers.of(hw) if (w := t.why_not(hw, static)) is not None}
    return tuple(t.name for t in tiers.of(hw) if t.name not in why), why


def part_cost(hw: HardwareConfig, tier: str, s: Shape, r: int, streamed: bool = False,
              spills: Spills = Spills()) -> Part:
    """What the lowered program spends per inference on r rows of a layer on one tier (`streamed`:
    static weights written before every use instead of once at load; `spills`: which of the layer's
    activations the buffer plan keeps off-chip): the tier's own model (backends/<tier>.py)."""
    if r == 0:
        return Part(0.0, 0.0)
    return tiers.get(tier).part_cost(hw, s, r, streamed, spills)


def join_cost(hw: HardwareConfig, g: int, m: int, rows: int, parts: int = 2, offchip: bool = False) -> Part:
    """The host's join of a layer's tier parts: load every part, store the whole (the bytes are the
    same however the rows are cut)."""
    b = g * m * rows * ELEM_BYTES
    return seq([load(hw, b // parts, offchip)] * (parts - 1)
               + [load(hw, b - (parts - 1) * (b // parts), offchip), store(hw, b, offchip)])


def layer_ops(module: ModuleOp) -> list[Operation]:
    """The ops stage one splits, in program order (ConvTranspose runs as a digital vector op)."""
    return [op for op in module.walk() if gemm_work(op) is not None and not isinstance(op, nn.ConvTransposeOp)]


def build_problem(module: ModuleOp, weights, hw: HardwareConfig, max_chunks: int = MAX_CHUNKS) -> Problem:
    """Tables for every layer of an imported (nn-level) module, and the timeline around them."""
    layers: list[Layer] = []
    stationary = tiers.stationary(hw)
    reprogram = tuple(t.name for t in stationary if t.allows_reprogramming(hw))
    ops = layer_ops(module)
    # the rest of the program, and which layer activations its buffer plan spills, from one lowering
    canon = [_canonical(op) for op in ops]
    ref = reference_program(module, weights, hw, ops, [c[3] for c in canon])
    timeline = extract(ref, len(ops))
    for op, (g, m, k, n, a_bytes, b), spills in zip(ops, canon, timeline.spills):
        static = is_static(b)
        allowed, why = _allowed(hw, static)
        node = op.node_name if isinstance(op, nn.NNOp) else ""
        shape = Shape(g, m, k, n, a_bytes, static, node)
        chunk = chunk_size(n, max_chunks) if static else n
        layer = Layer(len(layers), node, op, g, m, k, n, chunk, static, allowed, why,
                      ld_a_s=load(hw, a_bytes, spills.a).latency_s)
        for t in allowed:
            try:
                layer.table[t] = [part_cost(hw, t, shape, c * chunk, spills=spills) for c in range(layer.chunks + 1)]
            except UnsupportedError as exc:  # not even one weight column fits the tier
                why[t] = str(exc).removeprefix(f"node '{node}': ")
                continue
            if static and t in reprogram:
                layer.streamed[t] = [part_cost(hw, t, shape, c * chunk, streamed=True, spills=spills)
                                     for c in range(layer.chunks + 1)]
        layer.allowed = tuple(t for t in allowed if t in layer.table)
        layer.join = join_cost(hw, g, m, n, offchip=spills.out)
        layers.append(layer)
    for layer, (a, b) in zip(layers, timeline.operands):
        layer.a_from, layer.b_from = a, b
    static_w = sum(w for t in tiers.of(hw) if (w := t.static_power_w(hw)) is not None)  # J per s of latency
    machine = tiers.of(hw)
    return Problem(hw, layers, timeline, static_w, {t.name: t.capacity(hw) for t in stationary}, reprogram,
                   names=tuple(t.name for t in machine), host=tiers.host().name,
                   leads=frozenset(t.name for t in machine if t.leads_with_a),
                   streaming=next(t.name for t in machine if not t.host and not t.stationary))


def explain_infeasible(problem: Problem, pins: dict[int, dict[str, int]] | None) -> str:
    """Which limit makes the problem infeasible, demand against bound, and what would fix it."""
    pins = pins or {}
    for li, pin in pins.items():
        layer = problem.layers[li]
        for t, c in pin.items():
            if t not in layer.allowed:
                return (f"infeasible: layer '{layer.node}' is pinned to {t}, which cannot run it "
                        f"({layer.why_not.get(t, 'unsupported')}); pin it to one of {', '.join(layer.allowed)}")
        if sum(pin.values()) != layer.chunks:
            return (f"infeasible: layer '{layer.node}' is pinned to {sum(pin.values()) * layer.chunk} rows, "
                    f"it has {layer.rows}; pin exactly {layer.rows} rows")
    for t, cap in problem.capacity.items():
        if t in problem.reprogram:
            continue  # what does not fit streams
        pinned = sum(problem.layers[li].table[t][pin.get(t, 0)].crossbars for li, pin in pins.items()
                     if t in problem.layers[li].table)
        if pinned > cap:
            return (f"infeasible: {t} capacity: the pinned layers need {pinned} crossbars for their static "
                    f"weights, the tier has {cap} ({t}.tiles x {t}.crossbars_per_tile); unpin "
                    f"{pinned - cap} crossbars' worth of rows, enlarge the tier, or let it stream weights "
                    f"that do not fit ({t}.allow_reprogramming: true)")
    for layer in problem.layers:
        if not layer.allowed:
            return f"infeasible: no tier can run layer '{layer.node}'"
    return "infeasible: the constraints admit no split (no single limit explains it)"
