"""The h3pc dialects and passes by name (h3pc-opt, xdsl-opt's universe and the compiler read them here)."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.context import Context

from h3pc.dialects import DIALECTS, load_dialects

__all__ = ["DIALECTS", "PASSES", "make_context"]


def _place() -> type:
    from h3pc.transforms.place import Place

    return Place


def _lower_tiers() -> type:
    from h3pc.transforms.lower_tiers import LowerTiers

    return LowerTiers


def _allocate_crossbars() -> type:
    from h3pc.transforms.allocate_crossbars import AllocateCrossbars

    return AllocateCrossbars


#: pass name -> factory returning the ModulePass class (lazy, as xDSL's own registry)
PASSES: dict[str, Callable[[], type]] = {
    "place": _place,
    "lower-tiers": _lower_tiers,
    "allocate-crossbars": _allocate_crossbars,
}


def make_context() -> Context:
    """A context that parses builtin, func and every h3pc dialect."""
    return load_dialects(Context())
