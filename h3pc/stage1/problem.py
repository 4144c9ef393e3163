"""Stage one's problem: per-layer, per-tier cost tables over row chunks, from the one cost model.

A layer is a GEMM-like op (MatMul, Gemm, Conv, and the dynamic attention matmuls) in the canonical
form C[g, m, n] = A[g, m, k] @ B[g, k, n] of `lower-tiers`; its n output rows are split over the
tiers in chunks of `chunk` rows. For every (layer, tier, chunks) the table holds what the lowered
program will spend per inference on that part: the tier loads A (the stored tensor it views) and,
unless B sits resident in PIM crossbars, B's columns; computes; stores its columns (a PIM part that
needs several crossbar-sized pieces loads A per piece and is re-joined on the digital tier). A layer
split over two or more tiers adds the digital join of the parts. Everything else the program does
(the non-GEMM ops, the layout ops around each GEMM) does not depend on the split: it is measured once
from a compiled program (`rest`).

The latency model is the paper's (research/hardware-model.md a.3): layers run in sequence and a layer
waits for its slowest tier, LAT = rest + sum_l (max_t LAT_t(rows_lt) + join_l); energy is the sum of
the parts, the rest, and every tier's static power over LAT.

Dynamic-operand layers (both operands computed at run time) are placed whole on one tier: splitting
them would add a digital slice of B per part and no weight stays stationary to gain from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from h3pc.cost import (
    Cost,
    buffer_transfer,
    digital_gemm,
    offchip_transfer,
    photonic_gemm,
    pim_crossbars,
    pim_mvm,
    pim_program,
    static_energy,
)
from h3pc.dialects import nn
from h3pc.dialects.nn import shape_of
from h3pc.dialects.types import numpy_dtype
from h3pc.hardware.schema import HardwareConfig
from h3pc.tiers import PIM_TIERS, TIERS, pim_tier, total_crossbars
from h3pc.transforms.allocate_crossbars import is_static
from h3pc.transforms.lower_tiers import pim_pieces
from h3pc.workload import gemm_work

#: a layer is cut into at most this many row chunks by default (a divisor of its rows)
MAX_CHUNKS = 16


@dataclass(frozen=True)
class Part:
    """Per-inference latency (s) and energy (J) of one tier's part, and the crossbars it holds."""

    latency_s: float
    energy_j: float
    crossbars: int = 0
    cells_written: int = 0  # per inference (dynamic operands programmed into PIM)


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
    join: Part = Part(0.0, 0.0)

    @property
    def chunks(self) -> int:
        return self.rows // self.chunk

    @property
    def splittable(self) -> bool:
        return self.static


@dataclass
class Problem:
    hw: HardwareConfig
    layers: list[Layer]
    rest: Part  # everything the split does not change
    static_power_w: float
    capacity: dict[str, int]  # PIM tier -> crossbars
    memo: dict = field(default_factory=dict, repr=False)  # solver-side caches (candidate splits)

    def evaluate(self, chunks: list[dict[str, int]]) -> tuple[float, float]:
        """(latency s, energy J) of a split given in chunks per tier, under the model above."""
        lat, energy = self.rest.latency_s, self.rest.energy_j
        for layer, split in zip(self.layers, chunks):
            parts = [layer.table[t][c] for t, c in split.items() if c]
            lat += max(p.latency_s for p in parts)
            energy += sum(p.energy_j for p in parts)
            if len(parts) > 1:
                lat += layer.join.latency_s
                energy += layer.join.energy_j
        return lat, energy + self.static_power_w * lat

    def crossbars_used(self, chunks: list[dict[str, int]]) -> dict[str, int]:
        return {t: sum(layer.table[t][s.get(t, 0)].crossbars for layer, s in zip(self.layers, chunks)
                       if t in layer.table) for t in self.capacity}

    def rows(self, chunks: list[dict[str, int]]) -> list[dict[str, int]]:
        """Chunks per tier -> rows per tier (the h3pc.split of each layer)."""
        return [{t: c * layer.chunk for t, c in s.items() if c} for layer, s in zip(self.layers, chunks)]


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


def _allowed(hw: HardwareConfig, static: bool, op: Operation) -> tuple[tuple[str, ...], dict[str, str]]:
    why: dict[str, str] = {}
    for t in PIM_TIERS:
        if not static and (t == "reram_pim" or not pim_tier(hw, t).allow_dynamic_operands):
            why[t] = ("both operands are computed at run time and ReRAM cells cannot be rewritten per "
                      "inference" if t == "reram_pim" else
                      "both operands are computed at run time and the description does not allow dynamic "
                      "operands on SRAM-PIM (sram_pim.allow_dynamic_operands)")
    return tuple(t for t in TIERS if t not in why), why


def _seq(costs: list[Cost], crossbars: int = 0, cells: int = 0) -> Part:
    return Part(sum(c.latency_s for c in costs), sum(c.energy_j for c in costs), crossbars, cells)


def part_cost(hw: HardwareConfig, tier: str, g: int, m: int, k: int, r: int, a_bytes: int, static: bool,
              node: str) -> Part:
    """What the lowered program spends per inference on r rows of a layer on one tier."""
    if r == 0:
        return Part(0.0, 0.0)
    isz = 4
    ld_a = buffer_transfer(hw, a_bytes)
    if tier in ("photonic", "digital"):
        b_bytes = g * k * r * isz
        ld_b = buffer_transfer(hw, b_bytes)
        if static:
            ld_b = offchip_transfer(hw, b_bytes).then(ld_b)
        if tier == "photonic":
            p = hw.photonic
            compute = photonic_gemm(hw, m, k, r, p.in_bits, p.out_bits).scaled(g)
        else:
            compute = digital_gemm(hw, g * m, k, r)
        return _seq([ld_a, ld_b, compute, buffer_transfer(hw, g * m * r * isz)])
    t = pim_tier(hw, tier)
    pieces = pim_pieces(hw, tier, g, k, r, node)
    steps: list[Cost] = []
    cells = 0
    for lo, hi in pieces:
        pn = hi - lo
        if not static:  # programmed before each use from the buffer
            prog, written = pim_program(t, k, pn, g)
            steps += [buffer_transfer(hw, g * k * pn * isz), prog]
            cells += written
        steps += [ld_a, pim_mvm(t, m, k, pn, t.input_bits, t.adc_bits, groups=g),
                  buffer_transfer(hw, g * m * pn * isz)]
    if len(pieces) > 1:  # the digital tier re-joins the pieces
        steps += [buffer_transfer(hw, g * m * (hi - lo) * isz) for lo, hi in pieces]
        steps.append(buffer_transfer(hw, g * m * r * isz))
    return _seq(steps, g * pim_crossbars(t, k, r) if static else 0, cells)


def join_cost(hw: HardwareConfig, g: int, m: int, rows: int, parts: int = 2) -> Part:
    """The digital join of a layer's tier parts: load every part, store the whole (the bytes are the
    same however the rows are cut)."""
    b = g * m * rows * 4
    return _seq([buffer_transfer(hw, b // parts)] * (parts - 1)
                + [buffer_transfer(hw, b - (parts - 1) * (b // parts)), buffer_transfer(hw, b)])


def build_problem(module: ModuleOp, hw: HardwareConfig, rest: Part, max_chunks: int = MAX_CHUNKS) -> Problem:
    """Tables for every layer of an imported (nn-level) module."""
    layers: list[Layer] = []
    for op in module.walk():
        w = gemm_work(op)
        if w is None or isinstance(op, nn.ConvTransposeOp):  # ConvTranspose runs as a digital vector op
            continue
        g, m, k, n, a_bytes, b = _canonical(op)
        static = is_static(b)
        allowed, why = _allowed(hw, static, op)
        node = op.node_name if isinstance(op, nn.NNOp) else ""
        chunk = chunk_size(n, max_chunks) if static else n
        layer = Layer(len(layers), node, op, g, m, k, n, chunk, static, allowed, why)
        for t in allowed:
            layer.table[t] = [part_cost(hw, t, g, m, k, c * chunk, a_bytes, static, node)
                              for c in range(layer.chunks + 1)]
        layer.join = join_cost(hw, g, m, n)
        layers.append(layer)
    static_w = sum(static_energy(hw, 1.0).values())  # joules per second of latency
    return Problem(hw, layers, rest, static_w, {t: total_crossbars(pim_tier(hw, t)) for t in PIM_TIERS})
