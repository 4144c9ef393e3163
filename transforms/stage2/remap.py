"""Stage two's accuracy-driven row remap (the paper's Alg. 2, docs/hardware-model.md a.4, improved).

1. Measure every tier's accuracy on the workload itself: the model with every layer a tier can run
   placed on it (the rest exact), its outputs' SNR against fp32 (`tier_snr`); digital is exact.
2. Measure each layer's sensitivity: the SNR of the current mapping with only that layer inexact.
3. Until the quality metric is within tolerance: take the most sensitive layer that still has rows on
   a tier less accurate than another it may use, and move half of those rows (at least one chunk)
   from its least accurate tier to the more accurate tier, with room, that costs the least latency
   (the paper moves toward the most accurate tier; any more accurate tier lowers the error, and the
   cheapest keeps the speed).
4. Re-run stage one with the remapped layers pinned, so the rest is re-optimised around them; keep
   that point if it still meets the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from h3pc import progress
from h3pc.hardware.schema import HardwareConfig
from h3pc.quality import Oracle, Quality
from h3pc.transforms.stage1.cpsat import Point
from h3pc.transforms.stage1.mappings import SearchOptions, cpsat_front, point_of
from h3pc.transforms.stage1.problem import Problem
from h3pc.transforms.stage1.timeline import program_for

#: at most this many probe samples for the SNR measurements that only rank tiers and layers
PROBE_SAMPLES = 64


@dataclass
class StageTwo:
    before: Point
    before_quality: Quality
    after: Point
    after_quality: Quality
    tier_snr_db: dict[str, float]
    sensitivity_db: dict[str, float]  # layer node -> SNR with only it inexact
    steps: list[dict[str, Any]] = field(default_factory=list)
    reoptimised: bool = False

    def to_json(self) -> dict[str, Any]:
        def cost(p: Point) -> dict[str, float]:
            return {"latency_s": p.latency_s, "energy_j": p.energy_j}

        return {"before": {**cost(self.before), "quality": self.before_quality.to_json()},
                "after": {**cost(self.after), "quality": self.after_quality.to_json()},
                "tier_snr_db": self.tier_snr_db, "sensitivity_db": self.sensitivity_db,
                "steps": self.steps, "reoptimised": self.reoptimised}


class Remapper:
    def __init__(self, problem: Problem, module, weights, hw: HardwareConfig, oracle: Oracle) -> None:
        self.problem, self.module, self.weights, self.hw, self.oracle = problem, module, weights, hw, oracle
        self.ops = [layer.op for layer in problem.layers]
        self.probe = Oracle(oracle.calib.head(PROBE_SAMPLES), "snr", seed=oracle.seed)

    def program(self, chunks: list[dict[str, int]], streams=None, replicas=None):
        return program_for(self.module, self.weights, self.hw, self.ops, self.problem.rows(chunks), streams,
                           replicas=replicas)

    def quality(self, p: Point) -> Quality:
        return self.oracle.measure(self.program(p.chunks, p.streams, p.replicas), self.hw)

    def tier_snr(self) -> dict[str, float]:
        """SNR of the model with every layer a tier can run on it, whole (others on the exact host)."""
        host = self.problem.host
        out = {host: math.inf}
        for t in self.problem.names:
            if t == host:
                continue
            chunks = [{t if t in layer.allowed else host: layer.chunks} for layer in self.problem.layers]
            out[t] = self.probe.measure(self.program(chunks, self.problem.fit(chunks)), self.hw).value
        return out

    def sensitivity(self, p: Point) -> dict[str, float]:
        nodes = {layer.node for layer in self.problem.layers}
        prog = self.program(p.chunks, p.streams, p.replicas)
        return {layer.node: self.probe.measure(prog, self.hw, exact=nodes - {layer.node}).value
                for layer in self.problem.layers}


def row_remap(problem: Problem, module, weights, hw: HardwareConfig, start: Point, oracle: Oracle,
              search: SearchOptions, max_steps: int = 200) -> StageTwo:
    with progress.task("stage two: row remap", unit="trial") as task:
        return _remap(Remapper(problem, module, weights, hw, oracle), start, search, max_steps, task)


def _remap(r: Remapper, start: Point, search: SearchOptions, max_steps: int, task: progress.Task) -> StageTwo:
    """Each measurement advances `task`; each move is logged as it is measured (move, metric, cost)."""
    problem = r.problem
    q0 = r.quality(start)
    task.advance(note=f"start: {q0.metric} {q0.value:.4g}")
    task.log(f"stage two: start: {q0.line()}; {start.latency_s * 1e6:.4g} us, {start.energy_j * 1e6:.4g} uJ")
    if q0.passed:
        return StageTwo(start, q0, start, q0, {}, {})
    task.note("measuring each tier's SNR")
    snr = r.tier_snr()
    task.advance()
    task.log("stage two: tier SNR " + ", ".join(f"{t} {v:.3g} dB" for t, v in snr.items()))
    rank = sorted(problem.names, key=lambda t: snr[t])  # least accurate first
    task.note(f"measuring the sensitivity of {len(problem.layers)} layers")
    sens = r.sensitivity(start)
    task.advance()
    order = sorted(problem.layers, key=lambda layer: sens[layer.node])  # lowest SNR: most sensitive
    chunks = [dict(s) for s in start.chunks]
    q, steps, moved = q0, [], set()
    while not q.passed and len(steps) < max_steps:
        step = _next_move(problem, chunks, order, rank, snr)
        if step is None:
            break
        layer, src, dst, n = step
        chunks = _moved(chunks, layer.index, src, dst, n)
        moved.add(layer.index)
        p = point_of(problem, chunks, "remap")
        q = r.quality(p)
        steps.append({"node": layer.node, "rows": n * layer.chunk, "from": src, "to": dst,
                      "quality": q.value, "latency_s": p.latency_s, "energy_j": p.energy_j})
        task.advance(note=f"{q.metric} {q.value:.4g}")
        task.log(f"stage two: move {len(steps)}: {n * layer.chunk} rows of {layer.node} {src} -> {dst}: "
                 f"{q.metric} {q.value:.4g} ({'within' if q.passed else 'outside'} tolerance "
                 f"{q.tolerance:g}), {p.latency_s * 1e6:.4g} us, {p.energy_j * 1e6:.4g} uJ")
    after = point_of(problem, chunks, "stage-two")
    two = StageTwo(start, q0, after, q, snr, sens, steps)
    if q.passed and moved:  # re-optimise the rest around the accuracy-critical layers
        pins = {li: dict(chunks[li]) for li in moved}
        opts = SearchOptions(**{**search.__dict__, "pins": pins, "points": 1})
        task.note("re-optimising around the moved layers")
        best = cpsat_front(problem, opts)[0]
        if best.latency_s < after.latency_s:
            qb = r.quality(best)
            task.advance()
            task.log(f"stage two: re-optimised: {qb.metric} {qb.value:.4g} ({'kept' if qb.passed else 'rejected'}), "
                     f"{best.latency_s * 1e6:.4g} us, {best.energy_j * 1e6:.4g} uJ")
            if qb.passed:
                two.after, two.after_quality, two.reoptimised = best, qb, True
    return two


def _next_move(problem: Problem, chunks, order, rank, snr):
    """(layer, from, to, chunks) of the next move, or None when no move can raise accuracy."""
    for layer in order:
        split = chunks[layer.index]
        for src in rank:  # its least accurate tier holding rows first
            c = split.get(src, 0)
            if not c:
                continue
            better = [t for t in layer.allowed if snr[t] > snr[src]]
            n = c if not layer.splittable else max(1, math.ceil(c / 2))
            options = []
            for dst in better:
                trial = _moved(chunks, layer.index, src, dst, n)
                streams = problem.fit(trial)
                if streams is not None:
                    options.append((problem.evaluate(trial, streams)[0], dst))
            if options:
                return layer, src, min(options)[1], n
    return None


def _moved(chunks: list[dict[str, int]], li: int, src: str, dst: str, n: int) -> list[dict[str, int]]:
    """A copy of the split with n chunks of layer li moved from src to dst."""
    out = [dict(s) for s in chunks]
    out[li][src] -= n
    out[li][dst] = out[li].get(dst, 0) + n
    out[li] = {t: c for t, c in out[li].items() if c}
    return out
