"""The importer table: ONNX op type -> function that emits nn ops for one node.

It is the single source of what the frontend supports: `h3pc --op-stats` and docs/supported-ops.md
are generated from it. The op families (frontend/ops/) fill it as they are imported; `load_importers`
there imports them all and returns it, so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from h3pc.frontend.node import NodeContext

ImportFn = Callable[["NodeContext"], Sequence[Any]]


@dataclass(frozen=True)
class OpImporter:
    op_type: str
    fn: ImportFn
    nn_ops: tuple[str, ...]  # what it becomes, for the docs
    note: str = ""


IMPORTERS: dict[str, OpImporter] = {}


def importer(*op_types: str, to: Sequence[str] = (), note: str = "") -> Callable[[ImportFn], ImportFn]:
    """Register `fn` as the importer of the given ONNX op types (ai.onnx domain)."""

    def register(fn: ImportFn) -> ImportFn:
        for t in op_types:
            IMPORTERS[t] = OpImporter(t, fn, tuple(to), note)
        return fn

    return register
