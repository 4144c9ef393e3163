"""`allocate-crossbars`: give every `pim.program` its crossbars and decide which weights stay resident.

Static weights (derived from constants only) are written once at program load (`resident`) while
the tier has room; dynamic operands, the weights stage one chose to stream (`streamed`) and the
static weights that do not fit are written before each use into a scratch region at the top of the tier, which is reserved first so resident weights never
get overwritten. Each tier's crossbars are numbered 0..tiles*crossbars_per_tile-1.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, UnitAttr, i64
from xdsl.ir import SSAValue

from h3pc.backends import tiers
from h3pc.backends.tier import crossbar_layout
from h3pc.dialects import nn, pim
from h3pc.passes import PassBase

#: ops that only rearrange data: a value built from constants through them is itself a constant
LAYOUT_OPS = (nn.ReshapeOp, nn.TransposeOp, nn.SliceOp, nn.BroadcastOp)


def is_static(v: SSAValue) -> bool:
    """True when v is a constant or a layout view of one (foldable at compile time)."""
    owner = v.owner
    while isinstance(owner, LAYOUT_OPS):
        owner = owner.operands[0].owner
    return isinstance(owner, nn.ConstantOp)


def program_crossbars(op: pim.ProgramOp, hw) -> int:
    xb = op.result.type
    assert isinstance(xb, pim.CrossbarsType)
    return xb.groups * tiers.by_kind(xb.kind.data).crossbars(hw, xb.rows, xb.cols)


@dataclass(frozen=True)
class AllocateCrossbars(PassBase):
    """Assign crossbar bases; mark the weights that fit as resident (written once at load)."""

    name = "allocate-crossbars"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        allocate_module(op, self.hardware(ctx))

    @staticmethod
    def _allocate(progs: list[pim.ProgramOp], total: int, hw) -> None:
        need = [program_crossbars(p, hw) for p in progs]
        forced = [p.streamed is not None or not is_static(p.weights) for p in progs]
        spilled, _ = crossbar_layout(need, need, forced, total)
        resident = {p for i, p in enumerate(progs) if not forced[i] and i not in spilled}
        base = 0
        for i, p in enumerate(progs):
            if p in resident:
                p.properties["base"] = IntegerAttr(base, i64)
                p.properties["resident"] = UnitAttr()
                base += need[i]
            else:
                p.properties["base"] = IntegerAttr(total - need[i], i64)
                p.properties.pop("resident", None)


def allocate_module(module: ModuleOp, hw) -> None:
    """Allocate every PIM tier's crossbars in a lowered module (also stage two's programs)."""
    by_tier: dict[str, list[pim.ProgramOp]] = {}
    for o in module.walk():
        if isinstance(o, pim.ProgramOp):
            by_tier.setdefault(o.kind.kind.data, []).append(o)
    for kind, progs in by_tier.items():
        AllocateCrossbars._allocate(progs, tiers.by_kind(kind).capacity(hw), hw)
