"""The compile pipeline in one place: import, place, lower, allocate, generate (in memory, no text IR)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from h3pc.backends.codegen import generate
from h3pc.backends.program import Program
from h3pc.context import make_context
from h3pc.frontend.importer import ImportedModel, import_model
from h3pc.hardware.schema import load_hardware

#: the pass pipeline after import, in order (names are the h3pc-opt pass names)
PIPELINE = ("place", "lower-tiers", "allocate-crossbars")


@dataclass
class Compiled:
    program: Program | None  # None when stopped before code generation
    imported: ImportedModel
    timings: dict[str, float] = field(default_factory=dict)


def compile_model(path: str, target: str = "hybrid", hw: str = "h3pimap",
                  input_shapes: dict[str, list[int]] | None = None,
                  after_pass: Callable[[str, object], None] | None = None, codegen: bool = True) -> Compiled:
    from h3pc.context import PASSES

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    config = load_hardware(hw)
    imported = import_model(path, input_shapes or {})
    timings["import"] = time.perf_counter() - t0
    ctx = make_context()
    for name in PIPELINE:
        t = time.perf_counter()
        cls = PASSES[name]()
        p = cls(hw=hw, target=target) if name == "place" else cls(hw=hw)
        p.apply(ctx, imported.module)
        timings[name] = time.perf_counter() - t
        if after_pass is not None:
            after_pass(name, imported.module)
    if not codegen:
        return Compiled(None, imported, timings)
    t = time.perf_counter()
    program = generate(imported.module, imported.weights, config)
    timings["codegen"] = time.perf_counter() - t
    return Compiled(program, imported, timings)


