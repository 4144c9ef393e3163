"""The SRAM-PIM tier: fast, noise-free crossbar writes, so it may also take dynamic operands (written
before each use) where the description allows it (`allow_dynamic_operands`). Shared crossbar logic:
backends/pim.py."""

from __future__ import annotations

from h3pc.backends.pim import CrossbarTier
from h3pc.hardware.schema import HardwareConfig


class SramPim(CrossbarTier):
    name = "sram_pim"
    target = "sram-pim"
    kind = "sram"

    def why_not(self, hw: HardwareConfig, static: bool) -> str | None:
        if not static and not self.config(hw).allow_dynamic_operands:
            return ("both operands are computed at run time and the description does not allow dynamic "
                    "operands on SRAM-PIM (sram_pim.allow_dynamic_operands)")
        return None


TIER = SramPim()
