"""Pass implementations, one ModulePass per file named after its CLI name.

`PASSES` is the lazy name -> pass class table (as xDSL's own registry) that h3pc-opt, xdsl-opt's
universe and the compiler read; it sits here, above the passes it names, so that the passes can
import what they share (h3pc/passes.py, the context) without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable


def _place() -> type:
    from h3pc.transforms.place import Place

    return Place


def _partition() -> type:
    from h3pc.transforms.partition import Partition

    return Partition


def _remap() -> type:
    from h3pc.transforms.remap import Remap

    return Remap


def _refine_precision() -> type:
    from h3pc.transforms.refine_precision import RefinePrecision

    return RefinePrecision


def _lower_tiers() -> type:
    from h3pc.transforms.lower_tiers import LowerTiers

    return LowerTiers


def _allocate_crossbars() -> type:
    from h3pc.transforms.allocate_crossbars import AllocateCrossbars

    return AllocateCrossbars


#: pass name -> factory returning the ModulePass class (lazy, as xDSL's own registry)
PASSES: dict[str, Callable[[], type]] = {
    "place": _place,
    "partition": _partition,
    "remap": _remap,
    "refine-precision": _refine_precision,
    "lower-tiers": _lower_tiers,
    "allocate-crossbars": _allocate_crossbars,
}
