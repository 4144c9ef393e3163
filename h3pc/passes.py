"""What every h3pc pass shares: the hardware description it compiles for.

A pass reads it from the context (`H3Context.hardware`, h3pc/context.py): the compiler parses the
description once and every pass sees the same object. Under a context without one (the stock xdsl-opt,
or an `H3Context` made without hardware) the pass's `hw` option names it: a preset or a YAML path,
parsed once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xdsl.context import Context
from xdsl.passes import ModulePass

from h3pc.context import H3Context
from h3pc.hardware.schema import HardwareConfig, load_hardware


@lru_cache(maxsize=8)
def _load(spec: str) -> HardwareConfig:
    return load_hardware(spec)


@dataclass(frozen=True)
class PassBase(ModulePass):
    """A pass that reads the hardware description: the context's, else `-p name{hw=h3pimap}`."""

    hw: str = "h3pimap"

    def hardware(self, ctx: Context) -> HardwareConfig:
        if isinstance(ctx, H3Context) and ctx.hardware is not None:
            return ctx.hardware
        return _load(self.hw)
