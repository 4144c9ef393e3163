"""CP-SAT over the stage-one tables: one objective per solve, an epsilon-constraint sweep for the front.

Every layer's candidate splits (chunks per tier; dynamic-operand layers whole on one tier) are
enumerated from the tables with their exact latency (the slowest part, plus the digital join when
two or more tiers share the layer), energy and crossbars per PIM tier; dominated candidates are
dropped, and one boolean per remaining candidate is chosen, exactly one per layer. LAT = sum of the
chosen latencies; E = sum of the chosen energies + static power * LAT; PIM capacity: the chosen
crossbars per tier fit the tier. Pins leave one candidate. Latencies are integer picoseconds and
energies integer 1e-17 J, far below the tables' own resolution.

The solver facade: time limit, workers, seed; `interleave_search` with a deterministic time limit
so that the same inputs give the same objective values; statistics (status, objective, bound, gap,
wall time) per solve; a progress line on stderr for solves that run longer than a second.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from h3pc.stage1.problem import Problem

PS = 1e-12  # latency unit (s)
EU = 1e-17  # energy unit (J)


@dataclass(frozen=True)
class SolverOptions:
    time_limit_s: float = 10.0  # per sweep, split over its solves
    workers: int = 2
    seed: int = 0
    progress: bool = True


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


class _Progress(cp_model.CpSolverSolutionCallback):
    """A progress line on a terminal's stderr for solves running longer than a second."""

    def __init__(self, label: str, enabled: bool) -> None:
        super().__init__()
        self.label, self.t0, self.last, self.shown = label, time.perf_counter(), 0.0, False
        self.enabled = enabled and sys.stderr.isatty()

    def on_solution_callback(self) -> None:
        now = time.perf_counter()
        if self.enabled and now - self.t0 > 1.0 and now - self.last > 0.25:
            self.last, self.shown = now, True
            print(f"\r  stage one {self.label}: {now - self.t0:5.1f} s, objective {self.objective_value:.4g}, "
                  f"bound {self.best_objective_bound:.4g}  ", end="", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Choice:
    """One way to split one layer: chunks per tier and what it costs."""

    chunks: dict[str, int]
    latency_ps: int
    energy_eu: int
    crossbars: tuple[int, ...]  # per PIM tier, in Problem.capacity order


def compositions(total: int, tiers: list[str]):
    """Every way to share `total` chunks among `tiers` (zeros allowed)."""
    if len(tiers) == 1:
        yield {tiers[0]: total}
        return
    for c in range(total, -1, -1):
        for rest in compositions(total - c, tiers[1:]):
            yield {tiers[0]: c, **rest}


def choices(problem: Problem, layer, pin: dict[str, int] | None = None) -> list[Choice]:
    """The layer's candidate splits with the dominated ones removed: a split no faster, no leaner and
    using no fewer crossbars on any PIM tier than another can never be needed."""
    tiers = list(layer.allowed)
    if pin is not None:
        cands = [{t: pin.get(t, 0) for t in tiers}]
    elif layer.splittable:
        cands = list(compositions(layer.chunks, tiers))
    else:
        cands = [{u: (layer.chunks if u == t else 0) for u in tiers} for t in tiers]
    caps = list(problem.capacity)
    out = []
    for split in cands:
        parts = [layer.table[t][c] for t, c in split.items() if c]
        join = len(parts) > 1
        lat = max(p.latency_s for p in parts) + (layer.join.latency_s if join else 0.0)
        energy = sum(p.energy_j for p in parts) + (layer.join.energy_j if join else 0.0)
        xb = tuple(layer.table[t][split.get(t, 0)].crossbars if t in layer.table else 0 for t in caps)
        out.append(Choice({t: c for t, c in split.items() if c}, _ps(lat), _eu(energy), xb))
    out.sort(key=lambda c: (c.latency_ps, c.energy_eu, c.crossbars))
    kept: list[Choice] = []
    for c in out:
        if not any(k.latency_ps <= c.latency_ps and k.energy_eu <= c.energy_eu
                   and all(a <= b for a, b in zip(k.crossbars, c.crossbars)) for k in kept):
            kept.append(c)
    return kept


def build(problem: Problem, pins: dict[int, dict[str, int]] | None = None):
    """(model, per layer its choices and their booleans, latency expression in ps, energy in EU).

    One boolean per (layer, non-dominated split), exactly one per layer: a multiple-choice knapsack
    whose costs are exact, so the LP relaxation CP-SAT runs alongside its search is tight."""
    m = cp_model.CpModel()
    pins = pins or {}
    picked: list[tuple[list[Choice], list[cp_model.IntVar]]] = []
    lat_terms, energy_terms = [], []
    xbar_terms: list[list] = [[] for _ in problem.capacity]
    memo = problem.memo.setdefault("choices", {})
    for layer in problem.layers:
        pin = pins.get(layer.index)
        key = (layer.index, tuple(sorted(pin.items())) if pin is not None else None)
        cs = memo.get(key)
        if cs is None:
            cs = memo[key] = choices(problem, layer, pin)
        bs = [m.new_bool_var(f"s{layer.index}_{i}") for i in range(len(cs))]
        m.add_exactly_one(bs)
        for c, b in zip(cs, bs):
            lat_terms.append(c.latency_ps * b)
            energy_terms.append(c.energy_eu * b)
            for i, x in enumerate(c.crossbars):
                if x:
                    xbar_terms[i].append(x * b)
        picked.append((cs, bs))
    for terms, cap in zip(xbar_terms, problem.capacity.values()):
        if terms:
            m.add(sum(terms) <= cap)
    lat = sum(lat_terms)
    static = round(problem.static_power_w * PS / EU)  # EU per ps of latency
    return m, picked, lat, sum(energy_terms) + static * lat


def solve(problem: Problem, objective: str, opts: SolverOptions, time_limit_s: float, label: str = "solve",
          pins: dict[int, dict[str, int]] | None = None, lat_le_s: float | None = None,
          energy_le_j: float | None = None, hint: list[dict[str, int]] | None = None
          ) -> tuple[Solve, list[dict[str, int]] | None]:
    """Minimise latency or energy, optionally under latency / energy bounds, starting from `hint`
    (a feasible split: the search then always has a solution to improve)."""
    m, picked, lat, energy = build(problem, pins)
    if hint is not None:
        for (cs, bs), want in zip(picked, hint):
            for c, b in zip(cs, bs):
                m.add_hint(b, c.chunks == want)
    if lat_le_s is not None:
        m.add(lat <= int(lat_le_s / PS))
    if energy_le_j is not None:
        m.add(energy <= int(energy_le_j / EU))
    m.minimize(lat if objective == "latency" else energy)
    s = cp_model.CpSolver()
    s.parameters.num_workers = max(1, opts.workers)
    s.parameters.random_seed = opts.seed
    s.parameters.interleave_search = True  # with a deterministic time limit: same inputs, same result
    s.parameters.max_deterministic_time = max(0.05, time_limit_s)
    cb = _Progress(label, opts.progress)
    t0 = time.perf_counter()
    status = s.solve(m, cb)
    wall = time.perf_counter() - t0
    if cb.shown:
        print(file=sys.stderr)
    name = s.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solve(name, None, None, None, wall), None
    obj, bound = s.objective_value, s.best_objective_bound
    gap = 0.0 if status == cp_model.OPTIMAL or obj == 0 else abs(obj - bound) / abs(obj)
    unit = PS if objective == "latency" else EU
    chunks = [next(c.chunks for c, b in zip(cs, bs) if s.boolean_value(b)) for cs, bs in picked]
    return Solve(name, obj * unit, bound * unit, gap, wall), chunks


def _ps(seconds: float) -> int:
    return int(round(seconds / PS))


def _eu(joules: float) -> int:
    return int(round(joules / EU))
