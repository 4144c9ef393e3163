"""h3pc dialects: nn (tier-neutral), photonic, pim (SRAM/ReRAM), digital."""
