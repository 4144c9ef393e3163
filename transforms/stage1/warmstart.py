"""The paper's sequential model as a warm start for the schedule model.

docs/hardware-model.md §a.3 sums the layers: LAT = rest + sum_l (slowest part + join). As a
multiple-choice knapsack (one boolean per non-dominated split of each layer, exactly one per layer)
its LP relaxation is tight and CP-SAT proves its optimum in a fraction of a second even on
gpt2_small. That optimum is a feasible split of the schedule model (`cpsat.build`), which sees
overlap between tiers and so can only improve on it; starting there, the schedule model's search
never begins from nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from h3pc.transforms.stage1.cpsat import quiet_solver
from h3pc.transforms.stage1.problem import Problem, Streams

PS = 1e-12  # latency unit (s)
EU = 1e-17  # energy unit (J)


@dataclass(frozen=True)
class Choice:
    """One way to split one layer: chunks per tier and what it costs in the sequential model."""

    chunks: dict[str, int]
    streams: frozenset[str]  # PIM tiers whose part streams its weights
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


def candidates(layer, pin: dict[str, int] | None = None) -> list[dict[str, int]]:
    """Every split the layer allows: all compositions, one tier for a dynamic layer, or the pin."""
    tiers = list(layer.allowed)
    if pin is not None:
        return [{t: pin.get(t, 0) for t in tiers}]
    if layer.splittable:
        return list(compositions(layer.chunks, tiers))
    return [{u: (layer.chunks if u == t else 0) for u in tiers} for t in tiers]


def choices(problem: Problem, layer, pin: dict[str, int] | None = None) -> list[Choice]:
    """The layer's candidate splits with the dominated ones removed: a split no faster, no leaner and
    using no fewer crossbars on any PIM tier than another can never be needed."""
    caps = list(problem.capacity)
    out = []
    for split in candidates(layer, pin):
        can_stream = [t for t, c in split.items() if c and t in layer.streamed]
        for mask in range(1 << len(can_stream)):
            streams = frozenset(t for j, t in enumerate(can_stream) if mask >> j & 1)
            parts = {t: layer.part(t, c, t in streams) for t, c in split.items() if c}
            join = len(parts) > 1
            lat = max(p.latency_s + p.tail_s for p in parts.values()) + (layer.join.latency_s if join else 0.0)
            energy = sum(p.energy_j for p in parts.values()) + (layer.join.energy_j if join else 0.0)
            xb = tuple(parts[t].crossbars if t in parts else 0 for t in caps)
            out.append(Choice({t: c for t, c in split.items() if c}, streams, round(lat / PS), round(energy / EU),
                              xb))
    out.sort(key=lambda c: (c.latency_ps, c.energy_eu, c.crossbars))
    kept: list[Choice] = []
    for c in out:
        if not any(k.latency_ps <= c.latency_ps and k.energy_eu <= c.energy_eu
                   and all(a <= b for a, b in zip(k.crossbars, c.crossbars)) for k in kept):
            kept.append(c)
    return kept


def sequential(problem: Problem, objective: str, pins: dict[int, dict[str, int]] | None, seed: int,
               time_limit_s: float) -> tuple[list[dict[str, int]], Streams] | None:
    """The sequential model's best split for `objective` and its streamed parts (None if it has
    none; the scratch region of streamed weights is left to the caller's `Problem.demand` check)."""
    m = cp_model.CpModel()
    pins = pins or {}
    picked = []
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
    static = round(problem.static_power_w * PS / EU)
    m.minimize(lat if objective == "latency" else sum(energy_terms) + static * lat)
    s = cp_model.CpSolver()
    quiet_solver(s)
    s.parameters.num_workers = 1  # deterministic
    s.parameters.random_seed = seed
    s.parameters.max_deterministic_time = max(0.05, time_limit_s)
    if s.solve(m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    best = [next(c for c, b in zip(cs, bs) if s.boolean_value(b)) for cs, bs in picked]
    return [c.chunks for c in best], [c.streams for c in best]
