"""`allocate-crossbars`: give every `pim.program` its crossbars and decide which weights stay resident.

Static weights (derived from constants only) are written once at program load (`resident`) while
the tier has room; dynamic operands and the weights marked `streamed` (stage one's choice, or by
`lower-tiers` because they do not fit) are written before each use into the streaming region at the
top of the tier, which is reserved first so resident weights never get overwritten. `lower-tiers`
applies the same layout rule (`crossbar_layout`) to the parts before cutting them, so here every
unmarked static weight fits; one that does not (hand-written IR) streams too. A tier that never takes
dynamic operands (`Tier.takes_dynamic_operands`) rejects one. Each tier's crossbars are numbered
0..tiles*crossbars_per_tile-1; every piece written before each use ends at the top crossbar, which
is therefore written once per piece per inference (the reports' `worst_crossbar_writes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, UnitAttr, i64
from xdsl.ir import SSAValue

from h3pc.backends import tiers
from h3pc.backends.tier import crossbar_layout
from h3pc.diagnostics import H3pcError
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
    """Crossbars a program takes: its matrix (per group), times its copies (weight replication)."""
    xb = op.result.type
    assert isinstance(xb, pim.CrossbarsType)
    return op.copies * xb.groups * tiers.by_kind(xb.kind.data).crossbars(hw, xb.rows, xb.cols)


@dataclass(frozen=True)
class AllocateCrossbars(PassBase):
    """Assign crossbar bases; mark the weights that fit as resident (written once at load)."""

    name = "allocate-crossbars"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        allocate_module(op, self.hardware(ctx))

    @staticmethod
    def _allocate(progs: list[pim.ProgramOp], total: int, hw) -> None:
        need = [program_crossbars(p, hw) for p in progs]
        dynamic = [not is_static(p.weights) for p in progs]
        tier = tiers.by_kind(progs[0].kind.kind.data) if progs else None
        if tier is not None and not tier.takes_dynamic_operands and any(dynamic):
            node = progs[dynamic.index(True)].attributes.get("onnx_node")
            raise H3pcError(f"{tier.name} cannot take dynamic operands (both operands of "
                            f"{node.data if node else 'a product'} are computed at run time)")
        forced = [p.streamed is not None or d for p, d in zip(progs, dynamic)]
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
