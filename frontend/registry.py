"""The importer table: ONNX op type -> function that emits nn ops for one node.

It is the single source of what the frontend supports: `h3pc --op-stats` and docs/supported-ops.md
are generated from it.
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


def load_importers() -> dict[str, OpImporter]:
    """Import every op family module (they register themselves) and return the table."""
    from h3pc.frontend.ops import ALL_FAMILIES  # noqa: F401 - registration side effect

    return IMPORTERS
