"""The ReRAM-PIM tier: dense non-volatile crossbars whose cells cannot be rewritten per inference, so
it runs static-weight layers only. Shared crossbar logic: backends/pim.py."""

from __future__ import annotations

from h3pc.backends.pim import CrossbarTier
from h3pc.hardware.schema import HardwareConfig


class ReramPim(CrossbarTier):
    name = "reram_pim"
    target = "reram-pim"
    kind = "reram"

    def why_not(self, hw: HardwareConfig, static: bool) -> str | None:
        if not static:
            return "both operands are computed at run time and ReRAM cells cannot be rewritten per inference"
        return None


TIER = ReramPim()
