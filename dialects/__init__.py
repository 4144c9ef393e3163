"""h3pc dialects: nn (tier-neutral), photonic, pim (SRAM/ReRAM), digital.

`DIALECTS` is the lazy name -> dialect table (as xDSL's own registry) and `load_dialects` makes a context
parse them: here, below every pass, so that reading a program's kernels section (runtime/kernels.py)
needs nothing above the dialects.
"""

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


def load_dialects(ctx: Context) -> Context:
    """Load builtin and func, register every h3pc dialect (loaded on first use); returns `ctx`."""
    from xdsl.dialects.builtin import Builtin
    from xdsl.dialects.func import Func

    ctx.load_dialect(Builtin)
    ctx.load_dialect(Func)
    for name, factory in DIALECTS.items():
        ctx.register_dialect(name, factory)
    return ctx
