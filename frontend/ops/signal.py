"""Signal processing: DFT (audio front ends compute spectrograms in the graph).

Registered through frontend/ops/layout.py's import of this module.
"""

from __future__ import annotations

from xdsl.dialects.builtin import BoolAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import int_attr
from h3pc.frontend.importer import NodeContext
from h3pc.frontend.registry import importer


@importer("DFT", to=["nn.dft"], note="axis and dft_length must be constants; real or complex input")
def dft(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    rank = len(shape)
    if rank < 2 or shape[-1] not in (1, 2):
        raise ctx.fail(f"input of shape {list(shape)} must end in 1 (real) or 2 (complex)")
    if ctx.opset >= 20:
        axis = int(ctx.const(2, "axis").reshape(-1)[0]) if ctx.has_input(2) else -2
    else:
        axis = int(ctx.attr("axis", 1))
    if not -rank <= axis < rank - 1 or axis % rank == rank - 1:
        raise ctx.fail(f"axis {axis} is not a signal axis of input shape {list(shape)}")
    axis %= rank
    length = int(ctx.const(1, "dft_length").reshape(-1)[0]) if ctx.has_input(1) else shape[axis]
    inverse, onesided = bool(ctx.attr("inverse", 0)), bool(ctx.attr("onesided", 0))
    if length < 1:
        raise ctx.fail(f"dft_length {length} must be >= 1")
    if inverse and onesided:
        raise ctx.fail("inverse=1 with onesided=1 is not supported")
    if onesided and shape[-1] == 2:
        raise ctx.fail("onesided=1 needs a real input (last dim 1)")
    props = {"axis": int_attr(axis), "length": int_attr(length), "inverse": BoolAttr.from_bool(inverse),
             "onesided": BoolAttr.from_bool(onesided)}
    return [ctx.emit(nn.DFTOp, [ctx.input(0)], props).results[0]]
