"""The tier registry: the built-in tiers, in report order, and `register` for a new one.

Everything that handles tiers generically (stage one, lowering, codegen, charges, emulator, reports)
reads this table; a machine (a hardware description) has the registered tiers whose block it
carries. The built-ins are listed here by module, the one place besides their own modules, the
presets, the file formats and the docs that names them; a new tier is one module that calls
`register` (tests/test_new_tier.py defines one entirely in the tests folder).
"""

from __future__ import annotations

from h3pc.backends import digital, photonic, reram_pim, sram_pim
from h3pc.backends.isa import BY_NAME
from h3pc.backends.tier import HostTier, StationaryTier, Tier
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import DMA, HardwareConfig, register_block

#: name -> tier, in report order (the order of the hardware description's blocks)
REGISTRY: dict[str, Tier] = {}
#: the target that leaves the split to the placement rule or stage one
HYBRID = "hybrid"


def register(tier: Tier, config: type | None = None) -> Tier:
    """Add a tier (and its hardware block, `config`, when it brings its own). Its instructions must be
    in the instruction table (backends/isa.py `register_instruction` for a new one)."""
    if tier.name in REGISTRY or tier.name == DMA:
        raise H3pcError(f"tier '{tier.name}' is already registered")
    if tier.target == HYBRID or any(t.target == tier.target for t in REGISTRY.values()):
        raise H3pcError(f"tier '{tier.name}': target '{tier.target}' is taken")
    if isinstance(tier, HostTier) and any(isinstance(t, HostTier) for t in REGISTRY.values()):
        raise H3pcError(f"tier '{tier.name}': there is already a host tier")
    missing = [m for m in tier.instructions if m not in BY_NAME]
    if missing:
        raise H3pcError(f"tier '{tier.name}': instruction {missing[0]} is not in the instruction table")
    if config is not None:
        register_block(tier.name, config)
    REGISTRY[tier.name] = tier
    return tier


def unregister(name: str) -> None:
    """Remove a registered tier (tests that add one remove it again)."""
    REGISTRY.pop(name)


def get(name: str) -> Tier:
    try:
        return REGISTRY[name]
    except KeyError:
        raise H3pcError(f"unknown tier '{name}' (expected one of {', '.join(REGISTRY)})") from None


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def of(hw: HardwareConfig) -> tuple[Tier, ...]:
    """The registered tiers the machine has, in report order."""
    return tuple(t for t in REGISTRY.values() if hw.has(t.name))


def host() -> HostTier:
    return next(t for t in REGISTRY.values() if isinstance(t, HostTier))


def stationary(hw: HardwareConfig | None = None) -> tuple[StationaryTier, ...]:
    """The weight-stationary tiers (of the machine `hw`, when given)."""
    return tuple(t for t in (of(hw) if hw is not None else REGISTRY.values()) if isinstance(t, StationaryTier))


def by_kind(kind: str) -> StationaryTier:
    """The stationary tier of a crossbar kind (`#pim.kind<...>`)."""
    for t in stationary():
        if getattr(t, "kind", None) == kind:
            return t
    raise H3pcError(f"no tier holds crossbars of kind '{kind}'")


def targets() -> dict[str, str | None]:
    """--target -> the tier running every layer (None: the hybrid placement decides)."""
    return {HYBRID: None, **{t.target: t.name for t in REGISTRY.values()}}


def target_tier(target: str) -> str | None:
    table = targets()
    if target not in table:
        raise H3pcError(f"unknown target '{target}' (expected one of {', '.join(table)})")
    return table[target]


def engines(hw: HardwareConfig | None = None) -> tuple[str, ...]:
    """Every engine with an instruction stream: the tiers and the DMA engine."""
    return (*(t.name for t in (of(hw) if hw is not None else REGISTRY.values())), DMA)


def owner(op: object) -> Tier:
    """The tier that runs a lowered op: the one whose dialect it is, else the host."""
    for t in REGISTRY.values():
        if not t.host and t.owns(op):  # type: ignore[arg-type]
            return t
    return host()


for _module in (photonic, sram_pim, reram_pim, digital):
    register(_module.TIER)
