"""Stage one in the compile pipeline: tables, pins, the chosen mapping, and the split it writes.

`partition` sets `h3pc.split` on every layer of an imported module from the mapping's chosen point
(the `place` pass's job for the rule placement). The part of the program the split does not change
comes from a reference lowering (`timeline.py`), so every point's predicted latency and energy are
those of the whole program the emulator runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects.builtin import ModuleOp

from h3pc import progress
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig
from h3pc.transforms.stage1.cpsat import Point
from h3pc.transforms.stage1.mappings import MAPPINGS, PICKS, SearchOptions, pick
from h3pc.transforms.stage1.placement import read_pins, to_json
from h3pc.transforms.stage1.problem import MAX_CHUNKS, Problem, build_problem
from h3pc.transforms.stage2 import MAX_TRIALS
from h3pc.transforms.place import set_bits, set_replicas, set_split

@dataclass(frozen=True)
class StageOneOptions:
    mapping: str = "cpsat"
    pick: str = "latency"
    search: SearchOptions = SearchOptions()
    placement_in: str | None = None
    max_chunks: int = MAX_CHUNKS
    #: weight-stationary parts may hold copies of their weights on free crossbars (CP-SAT chooses how
    #: many with the rows; off: the dense packing of the paper's homogeneous baselines)
    replication: bool = True
    # stage two (runs when `calib` is given): the quality the chosen point must keep
    calib: str | None = None
    metric: str = "top1"
    tolerance: float | None = None
    quality_seed: int = 0
    precision: bool = True  # after the remap, lower per-layer bit widths while the metric holds
    precision_trials: int = MAX_TRIALS


@dataclass
class StageOne:
    problem: Problem
    options: StageOneOptions
    front: list[Point]
    chosen: Point
    pinned: set[int] = field(default_factory=set)
    stage2: Any = None  # h3pc.transforms.stage2.remap.StageTwo when stage two ran
    precision: Any = None  # h3pc.transforms.stage2.precision.Precision when it ran

    def write(self, bits: list[dict[str, int]] | None = None) -> None:
        """The chosen point into the module: `h3pc.split` and `h3pc.stream` on every layer, and its
        bit widths (`h3pc.bits`; none: the tiers' own)."""
        problem = self.problem
        streams = self.chosen.streams or [frozenset()] * len(problem.layers)
        reps = self.chosen.replicas or [{} for _ in problem.layers]
        bits = bits or [{} for _ in problem.layers]
        for layer, rows, streamed, r, b in zip(problem.layers, problem.rows(self.chosen.chunks), streams, reps, bits):
            set_split(layer.op, rows, streamed)
            set_replicas(layer.op, r)
            set_bits(layer.op, b)

    def program(self, module: ModuleOp, weights, hw: HardwareConfig):
        """The program of the chosen point (stage two's trials are such programs)."""
        from h3pc.transforms.stage1.timeline import program_for

        return program_for(module, weights, hw, [layer.op for layer in self.problem.layers],
                           self.problem.rows(self.chosen.chunks), self.chosen.streams,
                           replicas=self.chosen.replicas)

    def placement(self) -> dict[str, Any]:
        return to_json(self.problem, self.chosen, self.options.mapping, self.pinned)

    def to_json(self) -> dict[str, Any]:
        def pt(p: Point) -> dict[str, Any]:
            d = {"label": p.label, "latency_s": p.latency_s, "energy_j": p.energy_j}
            if p.solve is not None:
                d["solver"] = p.solve.to_json()
            d.update(p.extra)
            return d

        return {"mapping": self.options.mapping, "objective": self.options.search.objective,
                "pick": self.options.pick, "layers": len(self.problem.layers),
                "predicted": pt(self.chosen), "front": [pt(p) for p in self.front],
                "pim_wear": self.problem.wear(self.chosen.chunks, self.chosen.streams, self.chosen.replicas),
                "rest": {"latency_s": self.problem.timeline.latency_s, "energy_j": self.problem.timeline.energy_j},
                **({"stage2": self.stage2.to_json()} if self.stage2 is not None else {}),
                **({"precision": self.precision.to_json()} if self.precision is not None else {})}


def partition(module: ModuleOp, weights, hw: HardwareConfig, opts: StageOneOptions) -> StageOne:
    """Stage one: the tables, the mapping's front, the chosen point, written into the module."""
    if opts.mapping not in MAPPINGS:
        raise H3pcError(f"unknown --mapping '{opts.mapping}' (expected one of {', '.join(MAPPINGS)})")
    if opts.pick not in PICKS + ("edp",):
        raise H3pcError(f"unknown --pick '{opts.pick}' (expected one of {', '.join(PICKS)})")
    with progress.task("stage one: cost tables", enabled=opts.search.solver.progress):
        problem = build_problem(module, weights, hw, opts.max_chunks, opts.replication)
    pins = read_pins(opts.placement_in, problem) if opts.placement_in else {}
    search = SearchOptions(**{**opts.search.__dict__, "pins": pins})
    front = MAPPINGS[opts.mapping](problem, search)
    fronts = opts.mapping in ("cpsat", "nsga2")
    how = opts.pick if fronts else "latency"
    if fronts and opts.search.objective != "latency" and opts.pick == "latency":
        how = opts.search.objective
    record = StageOne(problem, opts, front, pick(front, how), set(pins))
    record.write()
    return record


def oracle(module: ModuleOp, opts: StageOneOptions):
    """The quality oracle of stage two: `opts.calib` scored by `opts.metric` (h3pc/quality.py)."""
    from h3pc.quality import Oracle, load_calib, module_inputs

    if not opts.calib:
        raise H3pcError("stage two needs calibration samples (--calib, or the pass option calib=FILE)")
    return Oracle(load_calib(opts.calib, module_inputs(module)), opts.metric, opts.tolerance, opts.quality_seed)


def remap(record: StageOne, module: ModuleOp, weights, hw: HardwareConfig, judge) -> None:
    """Stage two's row remap from the record's chosen point until the metric holds (`judge`, an
    Oracle); the remapped point becomes the chosen one and is written into the module."""
    from h3pc.transforms.stage2.remap import row_remap

    two = row_remap(record.problem, module, weights, hw, record.chosen, judge, record.options.search)
    record.stage2, record.chosen = two, two.after
    record.write()


def refine(record: StageOne, module: ModuleOp, weights, hw: HardwareConfig, judge) -> None:
    """Stage two's precision refinement of the chosen point, when its quality holds: per-layer bit
    widths, written into the module as `h3pc.bits`."""
    from h3pc.transforms.stage2.precision import layer_bits, refine_precision

    start = record.stage2.after_quality if record.stage2 is not None else judge.measure(
        record.program(module, weights, hw), hw)
    if not start.passed:
        return
    record.precision = refine_precision(record.problem, module, weights, hw, record.chosen, judge, start,
                                        record.options.precision_trials)
    record.write(layer_bits(record.problem, record.precision))
