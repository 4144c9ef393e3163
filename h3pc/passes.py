"""What every h3pc pass shares: the hardware description it compiles for, named by its `hw` option."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xdsl.passes import ModulePass

from h3pc.hardware.schema import HardwareConfig, load_hardware


@lru_cache(maxsize=8)
def _load(spec: str) -> HardwareConfig:
    return load_hardware(spec)


@dataclass(frozen=True)
class PassBase(ModulePass):
    """A pass that reads the hardware description: `-p name{hw=h3pimap}` (a preset or a YAML path)."""

    hw: str = "h3pimap"

    def hardware(self) -> HardwareConfig:
        return _load(self.hw)
