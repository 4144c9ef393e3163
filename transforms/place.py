"""`place`: the rule-based tier placement used until stage one (the CP-SAT partitioner) lands.

Every GEMM-like op gets `h3pc.split = {tier = rows}`: how many of its output rows (the N columns of
its [m, k] x [k, n] product) each tier computes. The rules:

- `--target photonic|sram-pim|reram-pim|electronic`: every GEMM on that one tier, except dynamic-operand
  GEMMs (both operands computed at run time) when the tier can never take them
  (`Tier.takes_dynamic_operands` false: ReRAM, whose cells would wear out): those run on the host (the
  digital tier). A weight-stationary tier that can take them (SRAM-PIM) runs them by programming the
  operand before each use through its streaming region (charged per inference), whatever its
  `allow_dynamic_operands` says: that key is the hybrid mapping's choice, and a homogeneous target is
  the tier alone. Static weights that do not fit stream through the same region (transforms/lower_tiers.py).
- `--target hybrid`: static-weight GEMMs go to SRAM-PIM while its crossbars last (fast, noise-free
  writes), then to ReRAM-PIM while its crossbars last, then to photonics; dynamic-operand GEMMs go to
  photonics (ReRAM cannot be rewritten per inference, SRAM only if the description allows it and the
  rule keeps it simple); everything else stays on the digital tier.

ConvTranspose is not lowered to crossbars yet and stays digital on every target.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.ir import Operation, SSAValue

from h3pc.backends import tiers
from h3pc.backends.tier import Shape, Spills, StationaryTier
from h3pc.diagnostics import H3pcError
from h3pc.dialects import nn
from h3pc.hardware.schema import HardwareConfig
from h3pc.passes import PassBase
from h3pc.transforms.allocate_crossbars import is_static
from h3pc.workload import GemmWork, gemm_work

SPLIT = "h3pc.split"
STREAM = "h3pc.stream"
REPLICAS = "h3pc.replicas"
BITS = "h3pc.bits"

def bit_knobs() -> dict[str, tuple[str, ...]]:
    """The per-layer bit widths stage two's precision refinement may lower, per tier: the keys of
    `h3pc.bits` ("tier.knob"), each the tier's own field that is its default (backends/tier.py)."""
    return {t.name: t.bit_knobs for t in tiers.REGISTRY.values() if t.bit_knobs}


def split_of(op: Operation) -> dict[str, int] | None:
    """The tier split of a placed op ({tier: rows}, non-zero entries only), or None if unplaced."""
    attr = op.attributes.get(SPLIT)
    if not isinstance(attr, DictionaryAttr):
        return None
    return {k: v.value.data for k, v in attr.data.items() if isinstance(v, IntegerAttr) and v.value.data}


def set_split(op: Operation, split: dict[str, int], streamed: frozenset[str] = frozenset()) -> None:
    """Set the split, and the PIM tiers whose part writes its weights before every use (stage one's
    choice where a tier allows reprogramming; `h3pc.stream`)."""
    op.attributes[SPLIT] = DictionaryAttr({t: IntegerAttr(r, i64) for t, r in split.items() if r})
    if streamed:
        op.attributes[STREAM] = ArrayAttr([StringAttr(t) for t in sorted(streamed)])
    else:
        op.attributes.pop(STREAM, None)


def streamed_of(op: Operation) -> frozenset[str]:
    attr = op.attributes.get(STREAM)
    return frozenset(a.data for a in attr.data if isinstance(a, StringAttr)) if isinstance(attr, ArrayAttr) \
        else frozenset()


def replicas_of(op: Operation) -> dict[str, int]:
    """The weight-stationary tiers that hold copies of the layer's weights, and how many ({tier: copies},
    copies > 1; `h3pc.replicas`): the part's input vectors are shared out over the copies."""
    attr = op.attributes.get(REPLICAS)
    return {k: v.value.data for k, v in attr.data.items() if isinstance(v, IntegerAttr) and v.value.data > 1} \
        if isinstance(attr, DictionaryAttr) else {}


def set_replicas(op: Operation, replicas: dict[str, int]) -> None:
    copies = {t: r for t, r in replicas.items() if r > 1}
    if copies:
        op.attributes[REPLICAS] = DictionaryAttr({t: IntegerAttr(r, i64) for t, r in copies.items()})
    else:
        op.attributes.pop(REPLICAS, None)


def bits_of(op: Operation) -> dict[str, int]:
    """Per-layer bit widths ({"tier.knob": bits}) that override the tier's defaults when lowering."""
    attr = op.attributes.get(BITS)
    return {k: v.value.data for k, v in attr.data.items() if isinstance(v, IntegerAttr)} \
        if isinstance(attr, DictionaryAttr) else {}


def set_bits(op: Operation, bits: dict[str, int]) -> None:
    knobs = bit_knobs()
    for key in bits:
        tier, _, knob = key.partition(".")
        if knob not in knobs.get(tier, ()):
            raise H3pcError(f"unknown bit width '{key}' (expected tier.knob, one of "
                            f"{', '.join(f'{t}.{k}' for t, ks in knobs.items() for k in ks)})")
    if bits:
        op.attributes[BITS] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in sorted(bits.items())})
    else:
        op.attributes.pop(BITS, None)


def b_operand(op: Operation) -> SSAValue | None:
    """The B operand of a GEMM-like op as the model holds it (`lower-tiers`' canonical B is a view of
    it), or None for one that is not lowered to tiers (conv_transpose runs as it is on the host)."""
    if isinstance(op, nn.MatMulOp):
        return op.rhs
    if isinstance(op, nn.GemmOp):
        return op.b
    if isinstance(op, nn.ConvOp):
        return op.w
    return None


def crossbars_needed(hw: HardwareConfig, tier: StationaryTier, w: GemmWork) -> int:
    return w.groups * tier.crossbars(hw, w.k, w.n)


def rule_placement(hw: HardwareConfig, target: str, works: list[GemmWork]) -> list[str]:
    """The tier of each GEMM under the rules above (one tier per layer): a fixed target's tier (the host
    for the dynamic-operand GEMMs a tier never takes), or the weight-stationary tiers in registry order
    while their crossbars last, else the first tier that streams both operands."""
    fixed = tiers.target_tier(target)
    if fixed is not None and not hw.has(fixed):
        raise H3pcError(f"--target {target}: the hardware description '{hw.name}' has no '{fixed}' block")
    host = tiers.host().name
    stationary = tiers.stationary(hw)
    streaming = next(t.name for t in tiers.of(hw) if not t.host and not t.stationary)
    left = {t.name: t.capacity(hw) for t in stationary}
    out = []
    for w in works:
        if isinstance(w.op, nn.ConvTransposeOp):
            out.append(host)
        elif fixed is not None:
            b = b_operand(w.op)  # static as stage one and the lowering judge it (a constant batch of weights too)
            static = b is not None and is_static(b)
            out.append(fixed if static or tiers.get(fixed).takes_dynamic_operands else host)
        elif not w.static_weights:
            out.append(streaming)
        else:
            for t in stationary:
                need = crossbars_needed(hw, t, w)
                if need <= left[t.name]:
                    left[t.name] -= need
                    out.append(t.name)
                    break
            else:
                out.append(streaming)
    return out


@dataclass(frozen=True)
class Place(PassBase):
    """Annotate every GEMM-like op with its tier split (h3pc.split) by the placement rules."""

    name = "place"
    target: str = "hybrid"
    replication: bool = True  # weight-stationary tiers fill their free crossbars with copies (`replicate`)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        hw = self.hardware(ctx)
        works = [w for o in op.walk() if (w := gemm_work(o)) is not None]
        placed = rule_placement(hw, self.target, works)
        copies = replicate(hw, works, placed) if self.replication else [{} for _ in works]
        for w, tier, r in zip(works, placed, copies):
            set_split(w.op, {tier: w.n})
            set_replicas(w.op, r)


def replicate(hw: HardwareConfig, works: list[GemmWork], placed: list[str]) -> list[dict[str, int]]:
    """Copies of the rule placement's resident weights on each weight-stationary tier's free crossbars
    (PIMCOMP and PIMSYN replicate a layer's weights over idle crossbars so that its input vectors are
    read in parallel): greedily, the doubling that saves the most time per crossbar it takes, while
    crossbars are free and a copy still gets input vectors. Layers follow one another on a tier, so the
    tier's time is the sum of its layers' and each doubling's saving is its layer's alone."""
    out: list[dict[str, int]] = [{} for _ in works]
    for tier in tiers.stationary(hw):
        mine = [i for i, (w, t) in enumerate(zip(works, placed)) if t == tier.name]
        need = {i: crossbars_needed(hw, tier, works[i]) for i in mine}
        free = tier.capacity(hw) - sum(need.values())
        if free <= 0:
            continue
        shapes = {i: Shape(works[i].groups, works[i].m, works[i].k, works[i].n, 0, True,
                           works[i].op.node_name if isinstance(works[i].op, nn.NNOp) else "", b_offchip=False)
                  for i in mine if works[i].static_weights}

        memo: dict[tuple[int, int], float] = {}

        def time(i: int, r: int) -> float:
            if (i, r) not in memo:
                part = tier.part_cost(hw, shapes[i], works[i].n, False, Spills(),  # type: ignore[call-arg]
                                      **({"replicas": r} if r > 1 else {}))
                memo[(i, r)] = part.latency_s
            return memo[(i, r)]

        copies = dict.fromkeys(shapes, 1)
        while True:
            best, best_gain = None, 0.0
            for i, r in copies.items():
                if 2 * r > works[i].m or need[i] * r > free:
                    continue
                gain = (time(i, r) - time(i, 2 * r)) / (need[i] * r)
                if gain > best_gain:
                    best, best_gain = i, gain
            if best is None:
                break
            free -= need[best] * copies[best]
            copies[best] *= 2
        for i, r in copies.items():
            if r > 1:
                out[i] = {tier.name: r}
    return out
