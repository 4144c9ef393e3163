"""The compile pipeline in one place: import, place, lower, allocate, generate (in memory, no text IR)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from h3pc.backends.codegen import generate
from h3pc.backends.program import Program, check_constants
from h3pc.context import make_context
from h3pc.frontend.importer import ImportedModel, import_model
from h3pc.hardware.schema import load_hardware

if TYPE_CHECKING:
    from h3pc.stage1.partition import StageOne, StageOneOptions

#: the pass pipeline after import, in order (names are the h3pc-opt pass names)
PIPELINE = ("place", "lower-tiers", "allocate-crossbars")


@dataclass
class Compiled:
    program: Program | None  # None when stopped before code generation
    imported: ImportedModel
    timings: dict[str, float] = field(default_factory=dict)
    stage1: "StageOne | None" = None  # the partitioner's problem, front and chosen point (hybrid)


def compile_model(path: str, target: str = "hybrid", hw: str = "h3pimap",
                  input_shapes: dict[str, list[int]] | None = None,
                  after_pass: Callable[[str, object], None] | None = None, codegen: bool = True,
                  stage1: "StageOneOptions | None" = None) -> Compiled:
    """`stage1` chooses the hybrid target's split (default: CP-SAT, min latency); the mapping `rule`
    runs the `place` pass instead. Homogeneous targets always use `place`."""
    from h3pc.context import PASSES
    from h3pc.stage1.partition import StageOneOptions, partition

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    config = load_hardware(hw)
    imported = import_model(path, input_shapes or {})
    timings["import"] = time.perf_counter() - t0
    ctx = make_context()
    stage1 = stage1 or StageOneOptions()
    stage = None
    for name in PIPELINE:
        t = time.perf_counter()
        if name == "place" and target == "hybrid" and stage1.mapping != "rule":
            name = "stage-one"
            stage = partition(imported.module, imported.weights, config, stage1)
        else:
            cls = PASSES[name]()
            p = cls(hw=hw, target=target) if name == "place" else cls(hw=hw)
            p.apply(ctx, imported.module)
        timings[name] = time.perf_counter() - t
        if after_pass is not None:
            after_pass(name, imported.module)
    if not codegen:
        return Compiled(None, imported, timings, stage)
    t = time.perf_counter()
    program = generate(imported.module, imported.weights, config)
    check_constants(program, path)  # every caller (CLI, sweeps, benchmarks) gets a NaN weight refused
    timings["codegen"] = time.perf_counter() - t
    return Compiled(program, imported, timings, stage)


