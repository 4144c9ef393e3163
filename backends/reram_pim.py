"""The ReRAM-PIM tier: dense non-volatile crossbars whose cells cannot be rewritten on every use, so it
runs static-weight layers only, in every target (static weights that do not fit may still stream
through its streaming region, charged against endurance). Shared crossbar logic: backends/pim.py."""

from __future__ import annotations

from h3pc.backends.pim import CrossbarTier
from h3pc.hardware.schema import HardwareConfig


class ReramPim(CrossbarTier):
    name = "reram_pim"
    target = "reram-pim"
    kind = "reram"
    #: never, whatever `reram_pim.allow_dynamic_operands` says: a dynamic operand is rewritten on every
    #: use, which wears the cells out (docs/hardware-model.md a.3, h.2); `--target reram-pim` runs such
    #: products on the host
    takes_dynamic_operands = False

    def why_not(self, hw: HardwareConfig, static: bool) -> str | None:
        if not static and not self.takes_dynamic_operands:
            return "both operands are computed at run time and ReRAM cells cannot be rewritten per inference"
        return None


TIER = ReramPim()
