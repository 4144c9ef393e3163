"""The `--mapping` choices over one stage-one problem, and which front point goes into program.bin.

- `cpsat`: the epsilon-constraint front. Minimum latency first (then the least energy at that
  latency), minimum energy (then the least latency at that energy), and `points - 2` latency bounds
  evenly between the two, each minimising energy; dominated points are dropped. With `points` = 1
  only the first (the fastest point) is solved. Every solve starts from the best known split: the
  sequential model's optima (`warmstart.py`), the single-tier splits and naive; a solve that finds
  nothing better within its budget keeps that split, so cpsat is never worse than any of them.
- `naive`: the paper's equal distribution: every layer's chunks shared as evenly as possible by the
  tiers able to run it (a dynamic-operand layer, which is never split, goes to photonics).
- `random`: `samples` valid splits drawn with a seeded generator; the best by the objective is kept.
- `rule`: the placement rule of `transforms/place.py`.
- `nsga2`: the paper's own search over the same tables (`nsga2.py`).

`--pick latency|energy|knee`: the knee is the front point farthest below the straight line between
the two extreme points, with latency and energy each normalised to [0, 1] over the front.
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from h3pc import progress
from h3pc.diagnostics import H3pcError
from h3pc.transforms.stage1 import cpsat, nsga2, warmstart
from h3pc.transforms.stage1.cpsat import Point, SolverOptions, non_dominated
from h3pc.transforms.stage1.problem import Problem, Replicas, Streams, explain_infeasible

@dataclass(frozen=True)
class SearchOptions:
    objective: str = "latency"  # latency | energy | edp
    points: int = 1  # front size for cpsat (1: only the fastest point)
    samples: int = 100  # random
    seed: int = 0
    solver: SolverOptions = SolverOptions()
    pins: dict[int, dict[str, int]] | None = None
    generations: int | None = None  # nsga2 (None: run for the solver's time limit)


#: the search budget (seconds) when none is given: a front of several points gets more
FRONT_BUDGET_S, POINT_BUDGET_S = 10.0, 2.0


def search_options(objective: str, front: bool, points: int, samples: int, seed: int, workers: int,
                   solve_time: float | None, progress: bool = True) -> SearchOptions:
    """Search options as `h3pc` builds them from its flags (and `h3pc sweep` from a point): a front
    of `points` only when one is asked for, and the default budget that goes with it."""
    budget = solve_time if solve_time is not None else FRONT_BUDGET_S if front else POINT_BUDGET_S
    return SearchOptions(objective, points if front else 1, samples, seed,
                         SolverOptions(budget, workers, seed, progress=progress))


def score(p: Point, objective: str) -> float:
    return {"latency": p.latency_s, "energy": p.energy_j, "edp": p.latency_s * p.energy_j}[objective]


def point_of(problem: Problem, chunks: list[dict[str, int]], label: str, solve=None,
           streams: Streams | None = None, replicas: Replicas | None = None) -> Point:
    """A split's point; where `streams` is not given, the parts that do not fit stream (if the tier
    allows it; `feasible` first). `replicas`: the copies CP-SAT gave the parts (None: none)."""
    if streams is None:
        streams = problem.fit(chunks)
    replicas = replicas if replicas and any(replicas) else None
    lat, energy = problem.evaluate(chunks, streams, replicas)
    return Point(chunks, lat, energy, solve, label, streams=streams, replicas=replicas)


def feasible(problem: Problem, chunks: list[dict[str, int]]) -> bool:
    """The split fits every PIM tier (streaming what does not, where the tier allows it)."""
    return problem.fit(chunks) is not None


def seeds(problem: Problem, pins: dict[int, dict[str, int]] | None) -> list[list[dict[str, int]]]:
    """Feasible splits to start the search from: every layer on one tier (dynamic layers on the
    streaming tier where the tier cannot run them) and the naive split, with the pins applied."""
    pins = pins or {}
    out = []
    for tier in problem.names:
        chunks = [pins.get(layer.index) or {tier if tier in layer.allowed else problem.streaming: layer.chunks}
                  for layer in problem.layers]
        if all(set(s) <= set(layer.allowed) for s, layer in zip(chunks, problem.layers)):
            out.append(chunks)
    out.append([pins.get(layer.index) or s for layer, s in zip(problem.layers, naive_split(problem))])
    return [c for c in out if feasible(problem, c)]


def cpsat_front(problem: Problem, opts: SearchOptions) -> list[Point]:
    n = max(2, opts.points)
    solves = 2 if opts.points <= 1 else 4 + (n - 2)  # the fastest point (2), the leanest (2), the bounds
    with progress.task(f"stage one: cpsat over {len(problem.layers)} layers", total=solves, unit="solve",
                       enabled=opts.solver.progress) as task:
        return _cpsat_front(problem, opts, n, task)


def _cpsat_front(problem: Problem, opts: SearchOptions, n: int, task: progress.Task) -> list[Point]:
    per = opts.solver.time_limit_s / (n + 2 if opts.points > 1 else 2)
    pins = opts.pins

    def run(objective: str, label: str, hint: Point, **bounds) -> Point | None:
        """Solve from `hint` (which meets the bounds); the hint itself when the solver finds nothing
        better within its time."""
        st, found = cpsat.solve(problem, objective, opts.solver, per, label, pins, **bounds,
                                hint=(hint.chunks, hint.streams, hint.replicas), task=task)
        task.advance(note=f"{label} ({objective}): {st.status}")
        if found is None:
            return None
        p = point_of(problem, found[0], label, st, found[1], found[2])
        if score(hint, objective) < score(p, objective):
            return Point(hint.chunks, hint.latency_s, hint.energy_j, st, label, streams=hint.streams,
                         replicas=hint.replicas)
        return p

    starts = [point_of(problem, c, "seed") for c in seeds(problem, pins)]
    task.note("sequential warm start")
    for objective in ("latency", "energy"):
        seq = warmstart.sequential(problem, objective, pins, opts.solver.seed, per / 4)
        if seq is not None:
            chunks, streams = seq
            if not problem.fits(chunks, streams):  # its scratch region does not fit: stream by the rule
                streams = problem.fit(chunks)
            if streams is not None:
                starts.append(point_of(problem, chunks, "seed", streams=streams))
    if not starts:
        st, _ = cpsat.solve(problem, "latency", opts.solver, per, "check", pins)
        if st.status == "INFEASIBLE":
            raise H3pcError(explain_infeasible(problem, pins))
        raise H3pcError(f"stage one: no split found within --solve-time {opts.solver.time_limit_s:g} s "
                        f"(solver status {st.status}); give it more time")
    quick = min(starts, key=lambda p: (p.latency_s, p.energy_j))
    fast = run("latency", "min-latency", quick) or quick
    fast = run("energy", "min-latency", fast, lat_le_s=fast.latency_s * (1 + 1e-9)) or fast
    if opts.points <= 1:  # only the fastest point is wanted
        return [fast]
    lean0 = min(starts, key=lambda p: (p.energy_j, p.latency_s))
    lean = run("energy", "min-energy", lean0) or lean0
    lean = run("latency", "min-energy", lean, energy_le_j=lean.energy_j * (1 + 1e-9)) or lean
    points = [fast, lean]
    lo, hi = fast.latency_s, lean.latency_s
    if hi <= lo * (1 + 1e-3):  # the extremes meet (static power makes energy track latency)
        return non_dominated(points)
    for i in range(1, n - 1):
        eps = lo + (hi - lo) * i / (n - 1)
        p = run("energy", f"eps{i}", fast, lat_le_s=eps)
        if p is not None:
            points.append(p)
    return non_dominated(points)


def naive_split(problem: Problem, among: Collection[str] | None = None) -> list[dict[str, int]]:
    """The paper's equal split: a static layer's chunks shared as evenly as possible (the remainder to
    the first, in the problem's tier order) by the tiers able to run it, or by those of them in `among`
    (Table 4's equal split is over the three analog tiers); a dynamic layer whole on the streaming tier."""
    chunks = []
    for layer in problem.layers:
        if not layer.splittable:
            tier = problem.streaming if problem.streaming in layer.allowed else layer.allowed[0]
            chunks.append({tier: layer.chunks})
            continue
        k = layer.chunks
        tiers = [t for t in layer.allowed if among is None or t in among] or list(layer.allowed)
        share = {t: k // len(tiers) + (1 if i < k % len(tiers) else 0) for i, t in enumerate(tiers)}
        chunks.append({t: c for t, c in share.items() if c})
    return chunks


def naive(problem: Problem, opts: SearchOptions) -> list[Point]:
    return [point_of(problem, naive_split(problem), "naive")]


def _random_split(rng: _random.Random, layer) -> dict[str, int]:
    tiers = list(layer.allowed)
    if not layer.splittable:
        return {rng.choice(tiers): layer.chunks}
    # a uniform composition of chunks into len(tiers) parts (stars and bars)
    cuts = sorted(rng.sample(range(layer.chunks + len(tiers) - 1), len(tiers) - 1))
    bounds = [-1] + cuts + [layer.chunks + len(tiers) - 1]
    return {t: bounds[i + 1] - bounds[i] - 1 for i, t in enumerate(tiers) if bounds[i + 1] - bounds[i] - 1}


def random_search(problem: Problem, opts: SearchOptions) -> list[Point]:
    rng = _random.Random(opts.seed)
    best: Point | None = None
    drawn = tries = 0
    t0 = time.perf_counter()
    with progress.task("stage one: random splits", total=opts.samples, unit="sample",
                       enabled=opts.solver.progress) as task:
        while drawn < opts.samples and tries < opts.samples * 50:
            tries += 1
            chunks = [opts.pins[layer.index] if opts.pins and layer.index in opts.pins else _random_split(rng, layer)
                      for layer in problem.layers]
            if not feasible(problem, chunks):
                continue
            drawn += 1
            p = point_of(problem, chunks, "random")
            if best is None or score(p, opts.objective) < score(best, opts.objective):
                best = p
            task.advance(note=f"best {best.latency_s * 1e6:.4g} us, {best.energy_j * 1e6:.4g} uJ, {tries} draws")
    if best is None:
        raise H3pcError(f"random: no valid split in {tries} draws; {explain_infeasible(problem, opts.pins)}")
    best.extra = {"samples": drawn, "draws": tries, "wall_s": time.perf_counter() - t0}
    return [best]


def rule(problem: Problem, opts: SearchOptions) -> list[Point]:
    from h3pc.transforms.place import rule_placement
    from h3pc.workload import gemm_work

    works = [gemm_work(layer.op) for layer in problem.layers]
    tiers = rule_placement(problem.hw, "hybrid", works)  # type: ignore[arg-type]
    return [point_of(problem, [{t: layer.chunks} for layer, t in zip(problem.layers, tiers)], "rule")]


MAPPINGS: dict[str, Callable[[Problem, SearchOptions], list[Point]]] = {
    "cpsat": cpsat_front,
    "naive": naive,
    "random": random_search,
    "rule": rule,
    "nsga2": nsga2.nsga2,
}

PICKS = ("latency", "energy", "knee")


def pick(front: list[Point], how: str) -> Point:
    if how == "latency":
        return min(front, key=lambda p: (p.latency_s, p.energy_j))
    if how == "energy":
        return min(front, key=lambda p: (p.energy_j, p.latency_s))
    if how == "edp":
        return min(front, key=lambda p: p.latency_s * p.energy_j)
    if how != "knee":
        raise H3pcError(f"unknown --pick '{how}' (expected one of {', '.join(PICKS)})")
    if len(front) < 3:
        return pick(front, "latency")
    l0, l1 = min(p.latency_s for p in front), max(p.latency_s for p in front)
    e0, e1 = min(p.energy_j for p in front), max(p.energy_j for p in front)

    def below(p: Point) -> float:  # distance below the line from (0, 1) to (1, 0) in normalised space
        x = (p.latency_s - l0) / ((l1 - l0) or 1.0)
        y = (p.energy_j - e0) / ((e1 - e0) or 1.0)
        return (1 - x - y) / math.sqrt(2)

    return max(front, key=below)
