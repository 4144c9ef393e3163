"""CP-SAT over the stage-one tables: one objective per solve, an epsilon-constraint sweep for the front.

Per (layer, tier) the chunk count is chosen by booleans (dynamic-operand layers whole on one tier;
a pin leaves one count); the tables make every part's duration, energy, PIM tail and crossbars
linear in them. The schedule of `Problem.evaluate` (tiers in program order, parts waiting for their
operands and the digital timeline, joins) becomes max-plus constraints on integer finish times, so
the solver's LAT and E are exactly what the emulator will charge. Per PIM tier, the resident
crossbars plus the scratch region (a max over the parts written before every use) fit the tier;
where the tier allows reprogramming, each part's options include its streamed variant. Latencies
are integer picoseconds and energies integer 1e-17 J, far below the tables' own resolution.

The solver facade: time limit, workers, seed; `interleave_search` with a deterministic time limit
so that the same inputs give the same objective values; statistics (status, objective, bound, gap,
wall time) per solve; each solution found is the live note of the sweep's progress task
(h3pc/progress.py); CP-SAT's own log stays off unless `SolverOptions.log` asks for it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, TypeVar

from ortools.sat.python import cp_model

from h3pc import progress

from h3pc.transforms.stage1.problem import Problem, Replicas, Streams, reps_of
from h3pc.transforms.stage1.timeline import Segment

Opt = tuple[int, bool, int]  # (chunks, streamed, replicas) of one tier's part

PS = 1e-12  # latency unit (s)
EU = 1e-17  # energy unit (J)
#: CP-SAT's deterministic time (reproducible, unlike wall time) per second of --solve-time; on the
#: 2-core reference machine one unit of it takes 2-4 s of wall time on these models
DTIME_PER_S = 0.3
#: wall-time cap as a multiple of the budget, in case a machine is much slower than the reference
WALL_CAP = 3.0


@dataclass(frozen=True)
class SolverOptions:
    time_limit_s: float = 2.0  # per sweep, split over its solves (the CLI gives a --pareto sweep 10)
    workers: int = 2
    seed: int = 0
    progress: bool = True  # notes on the progress task (h3pc/progress.py); False in sweep workers
    log: bool = False  # CP-SAT's own search log on stderr


@dataclass
class Solve:
    """One CP-SAT run: its status and statistics."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    wall_s: float

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "objective": self.objective, "bound": self.bound, "gap": self.gap,
                "wall_s": round(self.wall_s, 4)}


@dataclass
class Point:
    """One mapping: chunks per tier per layer, its modelled cost and how it was found."""

    chunks: list[dict[str, int]]
    latency_s: float
    energy_j: float
    solve: Solve | None = None
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    streams: Streams | None = None  # per layer, the PIM tiers that stream its weights (None: none do)
    replicas: Replicas | None = None  # per layer, the PIM tiers holding copies of its weights (None: none)


class _Progress(cp_model.CpSolverSolutionCallback):
    """Each solution the search finds becomes the live note of the solve's progress task."""

    def __init__(self, label: str, objective: str, task: progress.Task) -> None:
        super().__init__()
        self.label, self.task = label, task
        self.scale, self.unit = (PS * 1e6, "us") if objective == "latency" else (EU * 1e6, "uJ")

    def on_solution_callback(self) -> None:
        self.task.note(f"{self.label}: {self.objective_value * self.scale:.4g} {self.unit}, "
                       f"bound {self.best_objective_bound * self.scale:.4g}")


def quiet_solver(s: cp_model.CpSolver, log: bool = False) -> None:
    """CP-SAT prints nothing unless asked (`log`: its search log, to stderr, never to stdout where
    h3pc writes its results)."""
    s.parameters.log_search_progress = log
    s.parameters.log_to_stdout = False
    if log:
        s.log_callback = lambda line: print(line, file=sys.stderr, flush=True)


@dataclass
class Model:
    """A built CP-SAT model: per layer and tier the chunk-count booleans, and the two objectives."""

    model: cp_model.CpModel
    counts: list[dict[str, dict[Opt, cp_model.IntVar]]]  # layer -> tier -> (chunks, streamed, replicas) -> bool
    latency: Any  # ps
    energy: Any  # EU

    def split(self, value) -> tuple[list[dict[str, int]], Streams, Replicas]:
        """(chunks per tier, streamed tiers, replicated tiers) of every layer under a solution."""
        picked = [[(t, o) for t, bs in per.items() for o, b in bs.items() if o[0] and value(b)]
                  for per in self.counts]
        return ([{t: o[0] for t, o in p} for p in picked],
                [frozenset(t for t, o in p if o[1]) for p in picked],
                [{t: o[2] for t, o in p if o[2] > 1} for p in picked])


def build(problem: Problem, pins: dict[int, dict[str, int]] | None = None) -> Model:
    """The schedule of `Problem.evaluate` as linear constraints over the chosen chunk counts.

    Per (layer, tier) one boolean per chunk count, exactly one true, the counts summing to the
    layer's chunks. A part's duration, energy, crossbars and PIM tail are linear in them. Times are
    integer picoseconds bounded below by the schedule's max-plus recurrence (tier free, operands
    ready); minimising the makespan makes them the earliest start times, i.e. the emulator's."""
    m = cp_model.CpModel()
    pins = pins or {}
    tl = problem.timeline
    layers = problem.layers
    horizon = _ps(tl.latency_s) + sum(
        _ps(sum(max(p.latency_s + p.tail_s for p in layer.table[t] + layer.streamed.get(t, []))
                for t in layer.allowed) + layer.join.latency_s)
        for layer in layers) + 1

    def instant(name: str) -> cp_model.IntVar:
        return m.new_int_var(0, horizon, name)

    counts: list[dict[str, dict[int, cp_model.IntVar]]] = []
    energy_terms: list = []
    xbar_terms: dict[str, list] = {t: [] for t in problem.capacity}
    scratch_terms: dict[str, list] = {t: [] for t in problem.capacity}
    seg_end: list[cp_model.IntVar] = []
    host = problem.host
    clock: dict[str, Any] = dict.fromkeys(problem.names, 0)

    def ready(ref) -> Any:
        return 0 if ref is None else seg_end[ref[1]] if ref[0] == "seg" else out[ref[1]]

    def later(name: str, after: Any, duration: Any, deps=(), enforce=None) -> cp_model.IntVar:
        """A finish time: duration after `after`, and after each dependency (when `enforce` holds)."""
        v = instant(name)
        m.add(v >= after + duration)
        for d in deps:
            c = m.add(v >= d + duration)
            if enforce is not None:
                c.only_enforce_if(enforce)
        return v

    out = [instant(f"out{layer.index}") for layer in layers]
    #: per layer, tier -> "the layer ran whole on that tier, in one piece": its output is then stored in
    #: the tier's format, and the segments' loads of it cost what Problem._narrower says
    alone: list[dict[str, Any]] = [{} for _ in layers]
    for item in tl.items:
        if isinstance(item, Segment):
            dur: Any = _ps(item.latency_s)
            for li, nbytes, offchip in item.reads:
                for t, v in alone[li].items():
                    d = problem.narrower_read(li, nbytes, offchip, problem.out_bits[t])
                    dur += _ps(d.latency_s) * v
                    energy_terms.append(_eu(d.energy_j) * v)
            clock[host] = later(f"seg{len(seg_end)}", clock[host], dur, [out[li] for li in item.after])
            seg_end.append(clock[host])
            continue
        layer = layers[item]
        i = layer.index
        pin = pins.get(i)
        per: dict[str, dict[Opt, cp_model.IntVar]] = {}
        for t in layer.allowed:
            opts = ([pin.get(t, 0)] if pin is not None else range(layer.chunks + 1) if layer.splittable
                    else (0, layer.chunks))
            modes = (False, True) if t in layer.streamed else (False,)
            per[t] = {(c, st, 1): m.new_bool_var(f"y{i}_{t}_{c}{'s' if st else ''}")
                      for c in opts for st in (modes if c else (False,))}
            if problem.replication and t in problem.capacity:  # copies of the weights on free crossbars
                for c in opts:
                    for r in layer.replica_options(t, c, problem.capacity[t]):
                        per[t][(c, False, r)] = m.new_bool_var(f"y{i}_{t}_{c}r{r}")
            m.add_exactly_one(per[t].values())
        m.add(sum(o[0] * b for bs in per.values() for o, b in bs.items()) == layer.chunks)
        counts.append(per)
        uses = {t: m.new_bool_var(f"u{i}_{t}") for t in per}
        for t, bs in per.items():
            m.add(uses[t] == (1 - bs[(0, False, 1)] if (0, False, 1) in bs else 1))
        split = m.new_bool_var(f"split{i}")
        m.add(sum(uses.values()) >= 2 * split)
        m.add(sum(uses.values()) <= 1 + (len(uses) - 1) * split)
        ra, rb = ready(layer.a_from), ready(layer.b_from)
        finish: dict[str, Any] = {}
        for t in problem.names:
            if t not in per:
                continue
            part = {o: layer.part(t, *o) for o in per[t]}
            dur = sum(_ps(part[o].latency_s) * b for o, b in per[t].items())
            energy_terms += [_eu(part[o].energy_j) * b for o, b in per[t].items()]
            if t in xbar_terms:
                xbar_terms[t] += [part[o].crossbars * b for o, b in per[t].items() if part[o].crossbars]
                if any(p.scratch for p in part.values()):
                    scratch_terms[t].append(sum(part[o].scratch * b for o, b in per[t].items()))
            lead = _ps(layer.ld_a_s.get(t, 0.0)) if t in problem.leads else 0
            tailed = [o for o in per[t] if part[o].tail_s]  # options that cut the part into pieces
            tail = sum(_ps(part[o].tail_s) * per[t][o] for o in tailed)
            f = instant(f"f{i}_{t}")  # the part's finish if it runs
            m.add(f >= clock[t] + dur)
            for d in (ra, rb - lead):
                m.add(f >= d + dur)
                # valid whether or not t runs a part (dur = tail = 0 if not): a tight LP bound
                m.add(out[i] >= d + dur + tail + _ps(layer.join.latency_s) * split)
            k = instant(f"k{i}_{t}")  # the tier's clock after the layer
            m.add(k >= clock[t] + dur)
            m.add(k >= f).only_enforce_if(uses[t])
            clock[t] = k
            m.add(out[i] >= f).only_enforce_if(uses[t])
            finish[t] = f
            has: Any = 0
            if tailed:
                has = m.new_bool_var(f"tail{i}_{t}")
                m.add(has == sum(per[t][c] for c in tailed))
                clock[host] = later(f"t{i}_{t}", clock[host], tail, [f], has)
                m.add(out[i] >= clock[host]).only_enforce_if(has)
            if problem.out_bits.get(t, problem.host_bits) != problem.host_bits:
                a = alone[i][t] = m.new_bool_var(f"alone{i}_{t}")
                m.add(a <= uses[t])
                m.add(a <= 1 - split)
                m.add(a <= 1 - has)
                m.add(a >= uses[t] - split - has)
        jd = _ps(layer.join.latency_s)
        j = instant(f"j{i}")
        m.add(j >= clock[host] + jd * split)
        for t, f in finish.items():
            m.add(j >= f + jd).only_enforce_if([split, uses[t]])
        clock[host] = j
        m.add(out[i] >= j).only_enforce_if(split)
        energy_terms.append(_eu(layer.join.energy_j) * split)
    for t, terms in xbar_terms.items():
        scratch: Any = 0
        if scratch_terms[t]:  # the largest piece written before every use: a max by lower bounds
            scratch = m.new_int_var(0, problem.capacity[t], f"scratch_{t}")
            for term in scratch_terms[t]:
                m.add(scratch >= term)
        if terms or scratch_terms[t]:
            m.add(sum(terms) + scratch <= problem.capacity[t])
    lat = instant("latency")
    for t in problem.names:
        m.add(lat >= clock[t])
    static = round(problem.static_power_w * PS / EU)  # EU per ps of latency
    return Model(m, counts, lat, _eu(tl.energy_j) + sum(energy_terms) + static * lat)


def solve(problem: Problem, objective: str, opts: SolverOptions, time_limit_s: float, label: str = "solve",
          pins: dict[int, dict[str, int]] | None = None, lat_le_s: float | None = None,
          energy_le_j: float | None = None,
          hint: tuple[list[dict[str, int]], Streams | None, Replicas | None] | None = None,
          task: progress.Task | None = None
          ) -> tuple[Solve, tuple[list[dict[str, int]], Streams, Replicas] | None]:
    """Minimise latency or energy, optionally under latency / energy bounds, starting from `hint`
    (a feasible split and its streamed parts: the search then always has a solution to improve).
    Each solution found becomes the note of `task` (the sweep's progress line)."""
    built = build(problem, pins)
    m, lat, energy = built.model, built.latency, built.energy
    hinted = _complete_hint(built, *hint) if hint is not None else None
    # A bound taken from the hint's float cost may sit a rounding step below the hint's own integer
    # cost (each term is rounded to whole ps / EU): the hint must still meet it, or the model is
    # infeasible with a hint, which OR-tools 9.15 aborts the process on (interleaved search).
    if lat_le_s is not None:
        m.add(lat <= max(int(lat_le_s / PS), hinted[0] if hinted else 0))
    if energy_le_j is not None:
        m.add(energy <= max(int(energy_le_j / EU), hinted[1] if hinted else 0))
    m.minimize(lat if objective == "latency" else energy)
    s = cp_model.CpSolver()
    s.parameters.num_workers = max(1, opts.workers)
    s.parameters.random_seed = opts.seed
    s.parameters.interleave_search = True  # with a deterministic time limit: same inputs, same result
    s.parameters.max_deterministic_time = max(0.02, time_limit_s * DTIME_PER_S)
    s.parameters.max_time_in_seconds = max(1.0, WALL_CAP * time_limit_s)  # a safety net only
    # probing and symmetry detection cost seconds on these models and find little
    s.parameters.cp_model_probing_level = 0
    s.parameters.symmetry_level = 0
    quiet_solver(s, opts.log)
    t0 = time.perf_counter()
    if task is not None and opts.progress:
        task.note(f"{label}: searching")
        status = s.solve(m, _Progress(label, objective, task))
    else:
        status = s.solve(m)
    wall = time.perf_counter() - t0
    name = s.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solve(name, None, None, None, wall), None
    obj, bound = s.objective_value, s.best_objective_bound
    gap = 0.0 if status == cp_model.OPTIMAL or obj == 0 else abs(obj - bound) / abs(obj)
    unit = PS if objective == "latency" else EU
    chunks, streams, reps = built.split(s.boolean_value)
    if any(sum(c.values()) != layer.chunks for c, layer in zip(chunks, problem.layers)):
        return Solve("MODEL_INVALID", None, None, None, wall), None  # a solver fault: never trust it
    if wall >= s.parameters.max_time_in_seconds * 0.99:
        name += "_WALL_LIMIT"  # stopped by the safety net: this result may differ between runs
    return Solve(name, obj * unit, bound * unit, gap, wall), (chunks, streams, reps)


def _complete_hint(built: Model, split: list[dict[str, int]], streams: Streams | None,
                   replicas: Replicas | None = None) -> tuple[int, int] | None:
    """Hint every variable, not just the chunk counts: the times of a fixed split follow from
    propagation, which CP-SAT's own hint repair may not finish within a small budget. Returns the
    hint's (latency, energy) in model units, or None when there is no feasible hint."""
    m = built.model
    fixed = m.clone()
    for i, (per, want) in enumerate(zip(built.counts, split)):
        for t, bs in per.items():
            c = want.get(t, 0)
            o = (c, bool(c) and bool(streams) and t in streams[i], reps_of(replicas, i, t) if c else 1)
            for opt, b in bs.items():
                fixed.add(fixed.get_bool_var_from_proto_index(b.index) == int(opt == o))
    fixed.minimize(fixed.get_int_var_from_proto_index(built.latency.index))
    s = cp_model.CpSolver()
    quiet_solver(s)
    s.parameters.num_workers = 1
    s.parameters.max_deterministic_time = 5.0
    if s.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None  # an infeasible hint (a pin or capacity excludes it): the search starts without one
    for i, v in enumerate(s.response_proto.solution):
        m.proto.solution_hint.vars.append(i)
        m.proto.solution_hint.values.append(v)
    return s.value(built.latency), s.value(built.energy)


def _ps(seconds: float) -> int:
    return int(round(seconds / PS))


def _eu(joules: float) -> int:
    return int(round(joules / EU))


T = TypeVar("T")


def non_dominated(points: list[T], cost: Callable[[T], tuple[float, float]] = lambda p: (p.latency_s, p.energy_j)
                  ) -> list[T]:
    """Points no other point beats on both latency and energy (ties: the first kept), by latency;
    `cost` gives a point's (latency, energy)."""
    out: list[T] = []
    for p in sorted(points, key=cost):
        if not out or cost(p)[1] < cost(out[-1])[1] * (1 - 1e-9):
            out.append(p)
    return out
