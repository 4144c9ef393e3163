"""The compile pipeline in one place: import, place, lower, allocate, generate (in memory, no text IR)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from h3pc import progress
from h3pc.backends.codegen import generate
from h3pc.backends.program import Program, check_constants
from h3pc.context import make_context
from h3pc.frontend.control import DEFAULT_MAX_UNROLL
from h3pc.frontend.importer import ImportedModel, import_model
from h3pc.hardware.schema import HardwareConfig, load_hardware
from h3pc.transforms import PASSES

if TYPE_CHECKING:
    import numpy as np

    from h3pc.transforms.stage1.partition import StageOne, StageOneOptions

#: the pass pipeline after import, in order (the h3pc-opt pass names): stage one is `partition` on the
#: hybrid target (`place` on the others and for the rule mapping); stage two's passes run with --calib
PIPELINE = ("partition", "remap", "refine-precision", "lower-tiers", "allocate-crossbars")


@dataclass
class Compiled:
    program: Program | None  # None when stopped before code generation
    imported: ImportedModel
    timings: dict[str, float] = field(default_factory=dict)
    stage1: "StageOne | None" = None  # the partitioner's problem, front and chosen point (hybrid)


def compile_model(path: str, target: str = "hybrid", hw: str | HardwareConfig = "h3pimap",
                  input_shapes: dict[str, list[int]] | None = None,
                  after_pass: Callable[[str, object], None] | None = None, codegen: bool = True,
                  stage1: "StageOneOptions | None" = None,
                  input_values: "dict[str, np.ndarray] | None" = None,
                  max_unroll: int = DEFAULT_MAX_UNROLL) -> Compiled:
    """`hw` is a preset name, a YAML path or a `HardwareConfig` already in memory (sweeps and benchmarks
    build descriptions without files); the passes read it from the context (`H3Context`). `stage1`
    chooses the hybrid target's split (default: CP-SAT, min latency) through the `partition` pass,
    which reads the weights from the context too; the mapping `rule` runs the `place` pass instead. Homogeneous targets always use `place`. Each phase's time goes into `timings`
    and, with `progress.configure(verbose=True)`, to stderr as the phase ends; long phases show
    progress (h3pc/progress.py)."""
    from h3pc.transforms.stage1.partition import StageOneOptions

    timings: dict[str, float] = {}
    with progress.phase("import", timings), progress.task(f"import {Path(path).name}"):
        config = hw if isinstance(hw, HardwareConfig) else load_hardware(hw)
        imported = import_model(path, input_shapes or {}, input_values=input_values, max_unroll=max_unroll)
    ctx = make_context(config, imported.weights)
    stage1 = stage1 or StageOneOptions()
    stage = None
    partitioned = target == "hybrid" and stage1.mapping != "rule"
    for name in PIPELINE:
        if name == "partition" and partitioned:
            with progress.phase("stage-one", timings):
                stage = PASSES[name]()().run(ctx, imported.module, stage1)
            name = "stage-one"
        elif name in ("remap", "refine-precision"):
            if stage is None or not stage1.calib or (name == "refine-precision" and not stage1.precision):
                continue
            with progress.phase(name, timings):
                PASSES[name]()().run(ctx, imported.module, stage1)
        else:
            name = "place" if name == "partition" else name
            with progress.phase(name, timings), progress.task(f"{name} ({target})"):
                cls = PASSES[name]()
                p = cls(target=target, replication=stage1.replication) if name == "place" else cls()
                p.apply(ctx, imported.module)
        if after_pass is not None:
            after_pass(name, imported.module)
    if not codegen:
        return Compiled(None, imported, timings, stage)
    with progress.phase("codegen", timings), progress.task("code generation"):
        program = generate(imported.module, imported.weights, config)
        check_constants(program, path)  # every caller (CLI, sweeps, benchmarks) gets a NaN weight refused
    return Compiled(program, imported, timings, stage)


