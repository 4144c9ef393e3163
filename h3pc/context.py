"""The MLIR context with every h3pc dialect loaded (and lazily registered for parsing)."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.context import Context
from xdsl.ir import Dialect


def _nn() -> Dialect:
    from h3pc.dialects.nn import NN

    return NN


def _photonic() -> Dialect:
    from h3pc.dialects.photonic import Photonic

    return Photonic


def _pim() -> Dialect:
    from h3pc.dialects.pim import PIM

    return PIM


def _digital() -> Dialect:
    from h3pc.dialects.digital import Digital

    return Digital


#: dialect name -> factory (lazy, as xDSL's own registry)
DIALECTS: dict[str, Callable[[], Dialect]] = {
    "nn": _nn,
    "photonic": _photonic,
    "pim": _pim,
    "digital": _digital,
}

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
    from xdsl.dialects.builtin import Builtin
    from xdsl.dialects.func import Func

    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Func)
    for name, factory in DIALECTS.items():
        ctx.register_dialect(name, factory)
    return ctx
