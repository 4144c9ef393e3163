"""`place`: the rule-based tier placement used until stage one (the CP-SAT partitioner) lands.

Every GEMM-like op gets `h3pc.split = {tier = rows}`: how many of its output rows (the N columns of
its [m, k] x [k, n] product) each tier computes. The rules:

- `--target photonic|sram-pim|reram-pim|electronic`: every GEMM on that one tier. PIM tiers then also
  run dynamic-operand GEMMs by programming the operand before each use (charged per inference).
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
from xdsl.ir import Operation

from h3pc.backends import tiers
from h3pc.backends.tier import StationaryTier
from h3pc.diagnostics import H3pcError
from h3pc.dialects import nn
from h3pc.hardware.schema import HardwareConfig
from h3pc.passes import PassBase
from h3pc.workload import GemmWork, gemm_work

SPLIT = "h3pc.split"
STREAM = "h3pc.stream"
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


def crossbars_needed(hw: HardwareConfig, tier: StationaryTier, w: GemmWork) -> int:
    return w.groups * tier.crossbars(hw, w.k, w.n)


def rule_placement(hw: HardwareConfig, target: str, works: list[GemmWork]) -> list[str]:
    """The tier of each GEMM under the rules above (one tier per layer): the weight-stationary tiers in
    registry order while their crossbars last, else the first tier that streams both operands."""
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
            out.append(fixed)
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

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        hw = self.hardware(ctx)
        works = [w for o in op.walk() if (w := gemm_work(o)) is not None]
        for w, tier in zip(works, rule_placement(hw, self.target, works)):
            set_split(w.op, {tier: w.n})
