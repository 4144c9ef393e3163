"""The compiler's context: `H3Context`, an xDSL `Context` that carries the parsed hardware description
the passes compile for (the passes read it here; the pass table itself is h3pc.transforms.PASSES)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xdsl.context import Context

from h3pc.dialects import load_dialects
from h3pc.frontend.weights import WeightStore
from h3pc.hardware.schema import HardwareConfig


@dataclass
class H3Context(Context):
    """A context with the hardware description the passes compile for: one parsed `HardwareConfig`
    object travels with the module, so no pass reloads a file and callers (sweeps, benchmarks) hand
    over a description they built in memory. `None`: each pass falls back to its `hw` option (a
    preset or YAML path), as under the stock xdsl-opt, whose plain `Context` has no hardware.
    `weights` is the store behind the module's `dense_resource` handles when the compiler has it (text
    IR has none: the partition pass then stands in zeros of each handle's type). `analyses` holds what
    a pass computed that a later pass of the same pipeline reuses instead of computing it again (as
    MLIR's analysis manager): stage one's record (`"partition"`: its cost tables and chosen point, which
    stage two's passes refine) and stage two's quality oracle (`"oracle"`)."""

    hardware: HardwareConfig | None = None
    weights: WeightStore | None = None
    analyses: dict[str, Any] = field(default_factory=dict)

    def clone(self) -> "H3Context":
        base = super().clone()
        return H3Context(base.allow_unregistered, base._loaded_dialects, base._loaded_ops, base._loaded_attrs,
                         base._loaded_types, base._registered_dialects, self.hardware, self.weights,
                         dict(self.analyses))


def make_context(hardware: HardwareConfig | None = None, weights: WeightStore | None = None) -> H3Context:
    """A context that parses builtin, func and every h3pc dialect, compiling for `hardware`."""
    ctx = H3Context(hardware=hardware, weights=weights)
    load_dialects(ctx)
    return ctx
