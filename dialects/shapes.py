"""Shape arithmetic shared by the dialect verifiers and the frontend."""

from __future__ import annotations

from collections.abc import Sequence


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...] | None:
    """numpy/ONNX multidirectional broadcast of static shapes, or None if they do not broadcast."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def fmt_shape(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def matmul_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | str:
    """numpy.matmul result shape, or the reason the operands do not fit."""
    if not a or not b:
        return "matmul operands must have rank >= 1"
    k_b = b[-2] if len(b) >= 2 else b[0]
    if a[-1] != k_b:
        return f"contraction dims differ: {fmt_shape(a)} x {fmt_shape(b)}"
    batch = broadcast_shapes(a[:-2], b[:-2])
    if batch is None:
        return f"batch dims of {fmt_shape(a)} and {fmt_shape(b)} do not broadcast"
    return tuple(batch) + ((a[-2],) if len(a) >= 2 else ()) + ((b[-1],) if len(b) >= 2 else ())


def concat_shape(shapes: Sequence[Sequence[int]], axis: int) -> tuple[int, ...] | str:
    """Result shape of concatenating `shapes` along `axis` (already normalised), or the reason it fails."""
    if not shapes:
        return "expects at least one operand"
    rank = len(shapes[0])
    if rank == 0:
        return "cannot concatenate rank-0 tensors"
    for s in shapes:
        if len(s) != rank or any(s[i] != shapes[0][i] for i in range(rank) if i != axis):
            return f"operand shapes {', '.join(map(fmt_shape, shapes))} differ off the axis"
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)
