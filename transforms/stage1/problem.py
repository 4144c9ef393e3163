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
the timeline, and the tiers' static power: a power-gated tier's (`power_gated`) over its busy time,
folded into its parts (the host's also into the timeline, tails and joins), the others' over LAT.

Capacity: a PIM tier holds its parts' resident weights plus one streaming region, as large as the
largest piece written before every use (dynamic operands, streamed weights; pieces are cut to the
tier's `stream_tiles` region), the layout of `lower-tiers` and `allocate-crossbars` (`crossbar_layout`). Where the description allows reprogramming (`allow_reprogramming`), a static
part may stream instead of staying resident: `Layer.streamed` holds those parts, which reload the
weights from off-chip and program them on every inference (time, energy and cells written, the
endurance wear `Problem.wear` reports).

Dynamic-operand layers (both operands computed at run time) are placed whole on one tier: splitting
them would add a digital slice of B per part and no weight stays stationary to gain from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from h3pc.backends import tiers
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, StationaryTier, crossbar_layout, load, seq, store, stored
from h3pc.cost import power_gated
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
    ld_a_s: dict[str, float] = field(default_factory=dict)  # per tier: loading A, before a leading part waits for B
    a_from: Ref = None  # where A and B become ready (Timeline.operands)
    b_from: Ref = None
    #: the layer whose stored output A is (Timeline.a_layer): A then moves in the format that layer's
    #: tier stored it in; the tables assume the host's (`a_bytes`, the reference lowering's)
    a_layer: int | None = None
    a_bytes: int = 0
    a_spilled: bool = False
    _ld: dict = field(default_factory=dict, repr=False)
    #: the part of (tier, rows, replicas), for replicated options (None: the layer is not replicated)
    make_part: Any = field(default=None, repr=False)
    shape: Shape | None = None
    spills: Spills = Spills()
    _replicated: dict = field(default_factory=dict, repr=False)

    def a_delta(self, hw: HardwareConfig, tier: str, bits: int, host_bits: int) -> Part:
        """What loading A in `bits` per element instead of the host's saves (negative) per A load on `tier`."""
        key = (tier, bits)
        hit = self._ld.get(key)
        if hit is None:
            hit = self._ld[key] = narrower_load(hw, self.a_bytes, host_bits, bits, self.a_spilled, tier)
        return hit

    @property
    def chunks(self) -> int:
        return self.rows // self.chunk

    @property
    def splittable(self) -> bool:
        return self.static

    def part(self, tier: str, chunks: int, streamed: bool = False, replicas: int = 1) -> Part:
        if replicas > 1:
            key = (tier, chunks, replicas)
            hit = self._replicated.get(key)
            if hit is None:
                assert self.make_part is not None, "replicated parts need the layer's cost hook"
                hit = self._replicated[key] = self.make_part(tier, chunks * self.chunk, replicas)
            return hit
        return (self.streamed if streamed else self.table)[tier][chunks]

    def replica_options(self, tier: str, chunks: int, capacity: int) -> list[int]:
        """Replication factors worth offering for `chunks` on a weight-stationary tier: powers of two,
        at most one copy per input vector (m), every copy on the tier's crossbars, a resident matrix in
        one piece (a part cut into pieces, or streamed, is not replicated)."""
        if self.make_part is None or not chunks or not self.static:
            return []
        one = self.part(tier, chunks)
        if not one.crossbars or one.tail_s:
            return []
        out, r = [], 2
        while r <= min(self.m, MAX_REPLICAS) and r * one.crossbars <= capacity:
            out.append(r)
            r *= 2
        return out


#: per layer, the PIM tiers whose part streams its weights instead of keeping them resident
Streams = list[frozenset[str]]
#: per layer, the weight-stationary tiers whose weights are replicated, and how many copies (> 1)
Replicas = list[dict[str, int]]
#: the most copies of one matrix stage one considers (powers of two up to it)
MAX_REPLICAS = 64


def reps_of(replicas: Replicas | None, li: int, tier: str) -> int:
    return replicas[li].get(tier, 1) if replicas else 1


@dataclass
class Problem:
    hw: HardwareConfig
    layers: list[Layer]
    timeline: Timeline  # everything the split does not change
    static_power_w: float  # of the tiers not power-gated (the gated ones' is folded into parts and timeline)
    capacity: dict[str, int]  # weight-stationary tier -> crossbars
    reprogram: tuple[str, ...] = ()  # weight-stationary tiers that allow streaming static weights
    memo: dict = field(default_factory=dict, repr=False)  # solver-side caches (candidate splits)
    #: the machine's tiers in report order, the host's name, and the tiers that load A before B
    names: tuple[str, ...] = ()
    host: str = ""
    leads: frozenset[str] = frozenset()
    streaming: str = ""  # the first tier besides the host that streams both operands: dynamic layers' default
    replication: bool = False  # weight-stationary parts may hold copies of their weights (Layer.replica_options)
    #: bits per element of what each tier stores, and the host's (Tier.output_bits)
    out_bits: dict[str, int] = field(default_factory=dict)
    host_bits: int = ELEM_BYTES * 8
    #: W per busy second of each power-gated tier (already folded into the tables, the joins and the
    #: timeline; a busy-time change made at evaluation, e.g. a narrower load, adds w x its latency)
    busy_power_w: dict[str, float] = field(default_factory=dict)

    def evaluate(self, chunks: list[dict[str, int]], streams: Streams | None = None,
                 replicas: Replicas | None = None) -> tuple[float, float]:
        """(latency s, energy J) of a split given in chunks per tier, under the model above."""
        host = self.host
        clock = dict.fromkeys(self.names, 0.0)
        seg_end: list[float] = []
        out = [0.0] * len(self.layers)
        energy = self.timeline.energy_j

        def ready(ref: Ref) -> float:
            return 0.0 if ref is None else seg_end[ref[1]] if ref[0] == "seg" else out[ref[1]]

        fmt = [self.host_bits] * len(self.layers)  # the format each layer's output is stored in
        for item in self.timeline.items:
            if isinstance(item, Segment):
                d = self._narrower(item, fmt)
                energy += d.energy_j
                clock[host] = max([clock[host]] + [out[li] for li in item.after]) + item.latency_s + d.latency_s
                seg_end.append(clock[host])
                continue
            layer, split = self.layers[item], chunks[item]
            streamed = streams[item] if streams else frozenset()
            ra, rb = ready(layer.a_from), ready(layer.b_from)
            a_bits = self.host_bits if layer.a_layer is None else fmt[layer.a_layer]
            ends = []
            for t in self.names:
                if not split.get(t):
                    continue
                part = layer.part(t, split[t], t in streamed, reps_of(replicas, item, t))
                lead = layer.ld_a_s.get(t, 0.0) if t in self.leads else 0.0
                if a_bits != self.host_bits:
                    d = layer.a_delta(self.hw, t, a_bits, self.host_bits)
                    dt = d.latency_s * part.a_loads
                    part = Part(part.latency_s + dt,
                                part.energy_j + d.energy_j * part.a_loads + self.busy_power_w.get(t, 0.0) * dt,
                                tail_s=part.tail_s)
                    lead += d.latency_s if t in self.leads else 0.0
                energy += part.energy_j
                end = clock[t] = max(clock[t], ra, rb - lead) + part.latency_s
                if part.tail_s:
                    end = clock[host] = max(clock[host], end) + part.tail_s
                ends.append(end)
            if len(ends) > 1:
                clock[host] = max([clock[host]] + ends) + layer.join.latency_s
                ends = [clock[host]]
                energy += layer.join.energy_j
            out[item] = max(ends)
            used = [t for t in self.names if split.get(t)]
            if len(used) == 1 and not layer.part(used[0], split[used[0]], used[0] in streamed).tail_s:
                fmt[item] = self.out_bits.get(used[0], self.host_bits)
        lat = max(clock.values())
        return lat, energy + self.static_power_w * lat

    def narrower_read(self, li: int, nbytes: int, offchip: bool, bits: int) -> Part:
        """What the host's load of layer `li`'s output (`nbytes` in its own format) saves when that
        output is stored in `bits` per element instead (memoised: the solver asks per tier)."""
        key = ("narrow", li, nbytes, offchip, bits)
        hit = self.memo.get(key)
        if hit is None:
            d = narrower_load(self.hw, nbytes, self.host_bits, bits, offchip, self.host)
            # a gated host draws its static power for less time too
            hit = self.memo[key] = Part(d.latency_s, d.energy_j + self.busy_power_w.get(self.host, 0.0) * d.latency_s)
        return hit

    def _narrower(self, seg: Segment, fmt: list[int]) -> Part:
        """What a segment's loads of layer outputs stored narrower than the host's format save."""
        lat = energy = 0.0
        for li, nbytes, offchip in seg.reads:
            if fmt[li] != self.host_bits:
                d = self.narrower_read(li, nbytes, offchip, fmt[li])
                lat += d.latency_s
                energy += d.energy_j
        return Part(lat, energy)

    def parts(self, chunks: list[dict[str, int]], streams: Streams | None, tier: str,
              replicas: Replicas | None = None) -> list[tuple[int, Part]]:
        """(layer index, part) of every layer that runs rows on a PIM tier."""
        return [(layer.index, layer.part(tier, s[tier], bool(streams) and tier in streams[layer.index],
                                         reps_of(replicas, layer.index, tier)))
                for layer, s in zip(self.layers, chunks) if s.get(tier)]

    def demand(self, chunks: list[dict[str, int]], streams: Streams | None = None,
               replicas: Replicas | None = None) -> dict[str, int]:
        """Crossbars each PIM tier needs (`_need`)."""
        return {t: _need([p for _, p in self.parts(chunks, streams, t, replicas)]) for t in self.capacity}

    def fits(self, chunks: list[dict[str, int]], streams: Streams | None, replicas: Replicas | None = None) -> bool:
        return all(d <= self.capacity[t] for t, d in self.demand(chunks, streams, replicas).items())

    def fit(self, chunks: list[dict[str, int]]) -> Streams | None:
        """Which parts stream so that the split fits (None: it cannot). Where a tier allows
        reprogramming, parts stay resident in program order while they fit beside the streaming region
        (its largest streamed piece, at most the tier's `stream_tiles` region unless one column block is
        larger), the rule `lower-tiers` and `allocate-crossbars` follow; elsewhere every static weight
        must stay resident."""
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

    def wear(self, chunks: list[dict[str, int]], streams: Streams | None,
             replicas: Replicas | None = None) -> dict[str, dict[str, Any]]:
        """Per PIM tier: cells written per inference, writes per inference to the most-written
        crossbar (the top of the scratch region, which every streamed piece covers), and the
        inferences until that crossbar reaches the tier's endurance."""
        out = {}
        for t in self.capacity:
            parts = [p for _, p in self.parts(chunks, streams, t, replicas)]
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
    """Crossbars a PIM tier needs for these parts: their resident weights plus the streaming region the
    weights written before every use share (their largest piece, cut to the tier's `stream_tiles`
    region), as `lower-tiers` and `allocate-crossbars` lay them out."""
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
              spills: Spills = Spills(), replicas: int = 1) -> Part:
    """What the lowered program spends per inference on r rows of a layer on one tier (`streamed`:
    static weights written before every use instead of once at load; `spills`: which of the layer's
    activations the buffer plan keeps off-chip): the tier's own model (backends/<tier>.py)."""
    if r == 0:
        return Part(0.0, 0.0)
    if replicas > 1:  # a weight-stationary tier's copies (StationaryTier.part_cost)
        return tiers.get(tier).part_cost(hw, s, r, streamed, spills, replicas=replicas)  # type: ignore[call-arg]
    return tiers.get(tier).part_cost(hw, s, r, streamed, spills)


def narrower_load(hw: HardwareConfig, nbytes: int, host_bits: int, bits: int, offchip: bool, tier: str) -> Part:
    """The change (negative: a saving) in `tier`'s load of `nbytes` counted in the host's format when the
    tensor is stored in `bits` per element instead."""
    now = load(hw, stored(nbytes * 8 // host_bits, bits), offchip, tier)
    ref = load(hw, nbytes, offchip, tier)
    return Part(now.latency_s - ref.latency_s, now.energy_j - ref.energy_j)


def join_cost(hw: HardwareConfig, g: int, m: int, rows: int, parts: int = 2, offchip: bool = False,
              host: str = "") -> Part:
    """The host's join of a layer's tier parts: load every part, store the whole. The parts are charged
    in the host's own format: an upper bound (a tier storing narrower codes moves fewer bytes), which
    keeps the join one number whatever the split."""
    b = g * m * rows * ELEM_BYTES
    return seq([load(hw, b // parts, offchip, host)] * (parts - 1)
               + [load(hw, b - (parts - 1) * (b // parts), offchip, host), store(hw, b, offchip, host)])


def layer_ops(module: ModuleOp) -> list[Operation]:
    """The ops stage one splits, in program order (ConvTranspose runs as a digital vector op)."""
    return [op for op in module.walk() if gemm_work(op) is not None and not isinstance(op, nn.ConvTransposeOp)]


def build_problem(module: ModuleOp, weights, hw: HardwareConfig, max_chunks: int = MAX_CHUNKS,
                  replication: bool = True) -> Problem:
    """Tables for every layer of an imported (nn-level) module, and the timeline around them;
    `replication`: weight-stationary parts may hold copies of their weights on free crossbars."""
    layers: list[Layer] = []
    stationary = tiers.stationary(hw)
    reprogram = tuple(t.name for t in stationary if t.allows_reprogramming(hw))
    ops = layer_ops(module)
    # the rest of the program, and which layer activations its buffer plan spills, from one lowering
    canon = [_canonical(op) for op in ops]
    ref = reference_program(module, weights, hw, ops, [c[3] for c in canon])
    timeline = extract(ref, len(ops))
    host = tiers.host().name
    # the weight format of the tier that streams weights (the M tier holds them in it)
    streaming = next((t for t in tiers.of(hw) if not t.host and not t.stationary), None)
    weight_bits = (streaming or tiers.host()).weight_bits(hw)
    held = 0
    for op, (g, m, k, n, a_bytes, b), spills in zip(ops, canon, timeline.spills):
        static = is_static(b)
        allowed, why = _allowed(hw, static)
        node = op.node_name if isinstance(op, nn.NNOp) else ""
        if static:  # held in the M tier's weight region while the weights so far fit (plan-buffer's rule)
            held += stored(g * k * n, weight_bits)
        shape = Shape(g, m, k, n, a_bytes, static, node, b_offchip=held > hw.memory.weight_bytes, host=host)
        chunk = chunk_size(n, max_chunks) if static else n
        layer = Layer(len(layers), node, op, g, m, k, n, chunk, static, allowed, why,
                      ld_a_s={t: load(hw, a_bytes, spills.a, t).latency_s for t in allowed}, a_bytes=a_bytes)
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
        layer.join = join_cost(hw, g, m, n, offchip=spills.out, host=host)
        layer.shape, layer.spills = shape, spills
        layers.append(layer)
    for layer, (a, b), src, spills in zip(layers, timeline.operands, timeline.a_layer, timeline.spills):
        layer.a_from, layer.b_from, layer.a_layer, layer.a_spilled = a, b, src, spills.a
    static_w, busy_w = _static_power(hw)
    _fold_static(layers, timeline, busy_w, tiers.host().name)
    if replication:
        for layer in layers:
            if layer.static:
                layer.make_part = _replicated_parts(hw, layer, busy_w, tiers.host().name)
    machine = tiers.of(hw)
    return Problem(hw, layers, timeline, static_w, {t.name: t.capacity(hw) for t in stationary}, reprogram,
                   busy_power_w=busy_w,
                   names=tuple(t.name for t in machine), host=tiers.host().name,
                   leads=frozenset(t.name for t in machine if t.leads_with_a),
                   streaming=next(t.name for t in machine if not t.host and not t.stationary),
                   out_bits={t.name: t.output_bits(hw) for t in machine}, host_bits=tiers.host().output_bits(hw),
                   replication=replication)


def _static_power(hw: HardwareConfig) -> tuple[float, dict[str, float]]:
    """(W drawn over the whole latency by the tiers not power-gated, W per busy second of each gated tier)."""
    whole, busy = 0.0, {}
    for t in tiers.of(hw):
        w = t.static_power_w(hw)
        if w is None:
            continue
        if power_gated(t.config(hw)):
            busy[t.name] = w
        else:
            whole += w
    return whole, busy


def _replicated_parts(hw: HardwareConfig, layer: Layer, busy_w: dict[str, float], host: str):
    """The cost hook of a layer's replicated options: the tier's part with copies, its gated static
    power folded in as `_fold_static` does for the tables."""
    def make(tier: str, rows: int, replicas: int) -> Part:
        p = part_cost(hw, tier, layer.shape, rows, spills=layer.spills, replicas=replicas)
        return replace(p, energy_j=p.energy_j + busy_w.get(tier, 0.0) * p.latency_s + busy_w.get(host, 0.0) * p.tail_s)
    return make


def _fold_static(layers: list[Layer], timeline: Timeline, busy_w: dict[str, float], host: str) -> None:
    """Charge each gated tier's static power over its busy time, as the emulator's report does: a part's
    latency is its tier's instructions, its tail, the join and the timeline's segments the host's."""
    hw_host = busy_w.get(host, 0.0)

    def fold(p: Part, w: float) -> Part:
        return replace(p, energy_j=p.energy_j + w * p.latency_s + hw_host * p.tail_s)

    for layer in layers:
        for table in (layer.table, layer.streamed):
            for t, parts in table.items():
                table[t] = [fold(p, busy_w.get(t, 0.0)) for p in parts]
        layer.join = replace(layer.join, energy_j=layer.join.energy_j + hw_host * layer.join.latency_s)
    timeline.energy_j += hw_host * timeline.latency_s


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
