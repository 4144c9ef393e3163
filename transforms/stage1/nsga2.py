"""`--mapping nsga2`: the paper's own search (NSGA-II, pymoo) over the same cost tables and schedule.

Genome: per splittable layer one integer weight in [0, chunks] per allowed tier, decoded to chunk
counts summing to the layer's chunks by largest remainder (all zero: an even share); per dynamic
layer one gene picking its tier. Pins fix their layers. Objectives: (latency, energy) from
`Problem.evaluate`; one inequality constraint per PIM tier (crossbars needed - capacity <= 0; on a
tier that allows reprogramming, the parts that do not fit stream by `Problem.fit`'s rule).
Random initial population (the paper's setting), SBX crossover and polynomial mutation rounded to
integers. It runs for `--solve-time` seconds of wall time (the cpsat sweep's budget, so the two can
be compared at equal time) or `generations`; the front is the non-dominated feasible population.
"""

from __future__ import annotations

import time

import numpy as np

from h3pc import progress
from h3pc.diagnostics import H3pcError
from h3pc.transforms.stage1.cpsat import Point, non_dominated
from h3pc.transforms.stage1.problem import Layer, Problem, explain_infeasible

POPULATION = 40


def decode(problem: Problem, genes: np.ndarray, pins: dict[int, dict[str, int]]) -> list[dict[str, int]]:
    """Chunk counts per tier of every layer from one genome."""
    out, i = [], 0
    for layer in problem.layers:
        n = _width(layer)
        g = genes[i:i + n]
        i += n
        if layer.index in pins:
            out.append({t: c for t, c in pins[layer.index].items() if c})
        elif not layer.splittable:
            out.append({layer.allowed[int(g[0]) % len(layer.allowed)]: layer.chunks})
        else:
            out.append(_share(layer, g))
    return out


def _width(layer: Layer) -> int:
    return len(layer.allowed) if layer.splittable else 1


def _share(layer: Layer, w: np.ndarray) -> dict[str, int]:
    k = layer.chunks
    w = np.asarray(w, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = w / w.sum() * k
    base = np.floor(exact).astype(int)
    for j in np.argsort(-(exact - base), kind="stable")[: k - base.sum()]:
        base[j] += 1
    return {t: int(c) for t, c in zip(layer.allowed, base) if c}


def nsga2(problem: Problem, opts) -> list[Point]:
    try:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem as MooProblem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair
        from pymoo.operators.sampling.rnd import IntegerRandomSampling
        from pymoo.optimize import minimize
    except ImportError:
        raise H3pcError("--mapping nsga2 needs pymoo: pip install 'h3pc[search]'") from None

    pins = opts.pins or {}
    upper = np.concatenate([[layer.chunks] * len(layer.allowed) if layer.splittable else [len(layer.allowed) - 1]
                            for layer in problem.layers]).astype(float)
    caps = list(problem.capacity)
    seen: dict[bytes, tuple[float, float, list[float]]] = {}

    class Moo(MooProblem):
        def __init__(self) -> None:
            super().__init__(n_var=len(upper), n_obj=2, n_ieq_constr=len(caps), xl=0.0, xu=upper, vtype=int)

        def _evaluate(self, x, out, *args, **kwargs) -> None:
            f, g = [], []
            for row in np.atleast_2d(x):
                key = np.asarray(row, dtype=np.int64).tobytes()
                hit = seen.get(key)
                if hit is None:
                    chunks = decode(problem, row, pins)
                    streams = problem.fit(chunks)
                    lat, energy = problem.evaluate(chunks, streams)
                    used = problem.demand(chunks, streams)
                    hit = seen[key] = (lat, energy, [used[t] - problem.capacity[t] for t in caps])
                f.append(hit[:2])
                g.append(hit[2])
            out["F"] = np.array(f)
            out["G"] = np.array(g, dtype=float)

    algo = NSGA2(pop_size=POPULATION, sampling=IntegerRandomSampling(),
                 crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                 mutation=PM(eta=20, vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    gens = getattr(opts, "generations", None)
    limit = ("n_gen", gens) if gens else ("time", max(1.0, opts.solver.time_limit_s))
    t0 = time.perf_counter()
    with progress.task("stage one: nsga2", total=gens, unit="generation", enabled=opts.solver.progress) as task:
        def generation(algorithm) -> None:
            """pymoo calls this after every generation."""
            task.advance(note=f"{len(seen)} splits evaluated, {time.perf_counter() - t0:.1f} of "
                              f"{limit[1] if limit[0] == 'time' else '-'} s")

        res = minimize(Moo(), algo, limit, seed=opts.seed, verbose=False, callback=generation)
    wall = time.perf_counter() - t0
    pop = res.pop
    points = []
    for row, cv in zip(pop.get("X"), pop.get("CV")):
        if float(np.max(cv)) > 0:
            continue
        chunks = decode(problem, row, pins)
        streams = problem.fit(chunks)
        lat, energy = problem.evaluate(chunks, streams)
        points.append(Point(chunks, lat, energy, None, "nsga2",
                            {"evaluations": len(seen), "generations": int(res.algorithm.n_gen), "wall_s": wall},
                            streams))
    if not points:
        raise H3pcError(f"nsga2: no feasible split in {len(seen)} evaluations; {explain_infeasible(problem, pins)}")
    return non_dominated(points)
