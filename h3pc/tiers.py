"""The tiers of the machine and the homogeneous targets, in one table that every stage reads."""

from __future__ import annotations

from h3pc.hardware.schema import HardwareConfig, PimTier

#: tier names in report order (the key of each tier in the hardware description, reports and placements)
TIERS = ("photonic", "sram_pim", "reram_pim", "digital")
#: every engine with an instruction stream: the tiers and the off-chip DMA engine that stages weights
#: into the global buffer ahead of use (backends/plan_buffer.py)
ENGINES = (*TIERS, "dma")
PIM_TIERS = {"sram_pim": "sram", "reram_pim": "reram"}  # tier -> #pim.kind
PIM_KIND_TIER = {v: k for k, v in PIM_TIERS.items()}

#: --target -> the tier running every GEMM (None: the hybrid placement rule decides)
TARGETS: dict[str, str | None] = {
    "hybrid": None,
    "photonic": "photonic",
    "sram-pim": "sram_pim",
    "reram-pim": "reram_pim",
    "electronic": "digital",
}


def pim_tier(hw: HardwareConfig, tier: str) -> PimTier:
    tier_cfg = getattr(hw, tier)
    assert isinstance(tier_cfg, PimTier), tier
    return tier_cfg


def total_crossbars(tier: PimTier) -> int:
    return tier.tiles * tier.crossbars_per_tile
