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

from h3pc.cost import pim_crossbars
from h3pc.diagnostics import H3pcError
from h3pc.dialects import nn
from h3pc.hardware.schema import HardwareConfig
from h3pc.passes import PassBase
from h3pc.tiers import PIM_TIERS, TARGETS, pim_tier, total_crossbars
from h3pc.workload import GemmWork, gemm_work

SPLIT = "h3pc.split"
STREAM = "h3pc.stream"
BITS = "h3pc.bits"

#: the per-layer bit widths stage two's precision refinement may lower, per tier: the keys of
#: `h3pc.bits` ("tier.knob") and the tier's own field that is their default. PIM weight bits are
#: not here: the cells per weight, hence the crossbars stage one counted, are the tier's.
BIT_KNOBS: dict[str, tuple[str, ...]] = {
    "photonic": ("in_bits", "w_bits", "out_bits"),
    "sram_pim": ("input_bits", "adc_bits"),
    "reram_pim": ("input_bits", "adc_bits"),
}


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
    for key in bits:
        tier, _, knob = key.partition(".")
        if knob not in BIT_KNOBS.get(tier, ()):
            raise H3pcError(f"unknown bit width '{key}' (expected tier.knob, one of "
                            f"{', '.join(f'{t}.{k}' for t, ks in BIT_KNOBS.items() for k in ks)})")
    if bits:
        op.attributes[BITS] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in sorted(bits.items())})
    else:
        op.attributes.pop(BITS, None)


def crossbars_needed(hw: HardwareConfig, tier: str, w: GemmWork) -> int:
    return w.groups * pim_crossbars(pim_tier(hw, tier), w.k, w.n)


def rule_placement(hw: HardwareConfig, target: str, works: list[GemmWork]) -> list[str]:
    """The tier of each GEMM under the rules above (one tier per layer)."""
    if target not in TARGETS:
        raise H3pcError(f"unknown target '{target}' (expected one of {', '.join(TARGETS)})")
    fixed = TARGETS[target]
    left = {t: total_crossbars(pim_tier(hw, t)) for t in PIM_TIERS}
    out = []
    for w in works:
        if isinstance(w.op, nn.ConvTransposeOp):
            out.append("digital")
        elif fixed is not None:
            out.append(fixed)
        elif not w.static_weights:
            out.append("photonic")
        else:
            for t in PIM_TIERS:
                need = crossbars_needed(hw, t, w)
                if need <= left[t]:
                    left[t] -= need
                    out.append(t)
                    break
            else:
                out.append("photonic")
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
