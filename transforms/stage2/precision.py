"""Stage two's precision refinement: per-layer bit widths as low as the quality metric allows.

The widths set the analog tiers' converters (docs/hardware-model.md b.1, b.2): a photonic DAC
costs 2^b/(b+1) per conversion and an ADC linearly in bits; a PIM tier reads its inputs bit-serially,
so its MVM time and energy grow linearly in input bits, and its ADC energy in ADC bits. The knobs
are `place.bit_knobs()` (never above the tier's own width, never below MIN_BITS). The search:

1. Uniform: each knob that a layer's split uses is lowered on every layer at once, by bisection,
   to the lowest width whose program still meets the tolerance.
2. Per layer: layers in order of the energy of their analog parts (largest first), each knob one
   more bit lower while the metric holds, until the trial budget is spent.

A lowering is only emulated when the estimate says it saves at least MIN_GAIN of the energy (or
any latency): quality margin is kept rather than spent on converters that barely cost anything.

Every trial is the whole program with those widths (`program_for`), measured by the oracle on all
calibration samples; what is saved is the program estimate's energy and latency, before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from h3pc import progress
from h3pc.hardware.schema import HardwareConfig
from h3pc.quality import Oracle, Quality
from h3pc.runtime.emulator import estimate
from h3pc.transforms.stage1.cpsat import Point
from h3pc.transforms.stage1.problem import Problem
from h3pc.transforms.stage1.timeline import program_for
from h3pc.transforms.place import bit_knobs
from h3pc.transforms.stage2 import MAX_TRIALS

#: the lowest width tried (1-bit converters leave no signal worth measuring)
MIN_BITS = 2
#: a lowering must save at least this fraction of the program's energy per inference to be tried:
#: quality margin is not spent on converters that barely cost anything
MIN_GAIN = 1e-3

Bits = list[dict[str, int]]  # per layer: {"tier.knob": width} where lowered


@dataclass
class Precision:
    bits: dict[str, dict[str, int]]  # layer node -> lowered widths
    before: dict[str, float]  # estimate of the program at the tiers' widths: latency_s, energy_j
    after: dict[str, float]
    quality: Quality
    trials: int
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def energy_saved(self) -> float:
        """Fraction of the energy per inference the lowered widths save."""
        return 1 - self.after["energy_j"] / self.before["energy_j"] if self.before["energy_j"] else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"bits": self.bits, "before": self.before, "after": self.after, "energy_saved": self.energy_saved,
                "quality": self.quality.to_json(), "trials": self.trials, "steps": self.steps}


class _Search:
    def __init__(self, problem: Problem, module, weights, hw: HardwareConfig, point: Point, oracle: Oracle,
                 budget: int, task: progress.Task) -> None:
        self.task = task
        self.problem, self.module, self.weights, self.hw, self.oracle = problem, module, weights, hw, oracle
        self.ops = [layer.op for layer in problem.layers]
        self.rows = problem.rows(point.chunks)
        self.streams = point.streams
        self.replicas = point.replicas
        self.budget = budget
        self.trials = 0
        self.report: dict[str, Any] = {}  # estimate of the program at the accepted widths

    def program(self, bits: Bits):
        return program_for(self.module, self.weights, self.hw, self.ops, self.rows, self.streams, bits,
                           replicas=self.replicas)

    @property
    def cost(self) -> dict[str, float]:
        return {"latency_s": self.report["latency_s"], "energy_j": self.report["energy_j"]}

    def start(self, bits: Bits) -> None:
        """The starting widths' estimate becomes the current one (their quality stage two measured)."""
        self.report = estimate(self.program(bits))

    def holds(self, bits: Bits, what: str) -> Quality | None:
        """The quality of the program with `bits` if it saves enough and meets the tolerance (None
        otherwise); the estimate of an accepted program becomes the current one. Each trial is
        logged as it ends (`what` changed, the metric, latency and energy)."""
        prog = self.program(bits)
        est = estimate(prog)
        if est["energy_j"] > self.report["energy_j"] * (1 - MIN_GAIN) and est["latency_s"] >= self.report["latency_s"]:
            return None
        self.trials += 1
        q = self.oracle.measure(prog, self.hw)
        self.task.advance(note=f"{q.metric} {q.value:.4g}")
        self.task.log(f"stage two: precision trial {self.trials}/{self.budget}: {what}: {q.metric} {q.value:.4g} "
                      f"({'kept' if q.passed else 'outside tolerance'}), {est['latency_s'] * 1e6:.4g} us, "
                      f"{est['energy_j'] * 1e6:.4g} uJ")
        if not q.passed:
            return None
        self.report = est
        return q

    def default(self, key: str) -> int:
        tier, _, knob = key.partition(".")
        return int(getattr(getattr(self.hw, tier), knob))

    def used(self) -> list[str]:
        """Knobs of the tiers some layer's split uses."""
        tiers = {t for split in self.rows for t, r in split.items() if r}
        return [f"{t}.{k}" for t, ks in bit_knobs().items() if t in tiers for k in ks]


def refine_precision(problem: Problem, module, weights, hw: HardwareConfig, point: Point, oracle: Oracle,
                     quality: Quality, budget: int = MAX_TRIALS) -> Precision:
    """Lower bit widths from `point` at the default widths, whose `quality` (stage two's measure of it,
    on the same oracle) meets the tolerance."""
    with progress.task("stage two: precision refinement", total=budget, unit="trial") as task:
        return _refine(_Search(problem, module, weights, hw, point, oracle, budget, task), quality, budget)


def _refine(s: _Search, quality: Quality, budget: int) -> Precision:
    problem = s.problem
    n = len(problem.layers)
    bits: Bits = [{} for _ in range(n)]
    s.start(bits)
    q = quality
    s.trials += 1  # the start counts against the budget, as when it was measured here
    s.task.advance()
    steps: list[dict[str, Any]] = []
    base = s.cost
    for key in s.used():  # 1. uniform, by bisection: the lowest width every layer keeps
        lo, hi = MIN_BITS, s.default(key)  # hi holds; find the lowest that holds
        while lo < hi and s.trials < budget:
            mid = (lo + hi) // 2
            trial = [{**b, key: mid} for b in bits]
            got = s.holds(trial, f"{key} {mid} bits on every layer")
            if got is not None:
                hi, q = mid, got
            else:
                lo = mid + 1
        if hi < s.default(key):
            bits = [{**b, key: hi} for b in bits]
            steps.append({"knob": key, "layers": "all", "bits": hi, "quality": q.value})
    analog = _analog_energy(s.report)
    order = sorted(range(n), key=lambda i: -analog.get(problem.layers[i].node, 0.0))
    for i in order:  # 2. per layer, largest analog energy first
        node = problem.layers[i].node
        if not analog.get(node):
            continue
        for key in s.used():
            tier = key.partition(".")[0]
            if not s.rows[i].get(tier):
                continue
            while s.trials < budget:
                width = bits[i].get(key, s.default(key)) - 1
                if width < MIN_BITS:
                    break
                trial = [dict(b) for b in bits]
                trial[i][key] = width
                got = s.holds(trial, f"{key} {width} bits on {node}")
                if got is None:
                    break
                bits, q = trial, got
                steps.append({"knob": key, "layers": node, "bits": width, "quality": q.value})
    lowered = {problem.layers[i].node: {k: v for k, v in b.items() if v < s.default(k)
                                         and s.rows[i].get(k.partition(".")[0])}
               for i, b in enumerate(bits)}
    return Precision({k: v for k, v in lowered.items() if v}, base, s.cost, q, s.trials, steps)


def layer_bits(problem: Problem, precision: Precision) -> Bits:
    """The refined widths in stage one's layer order (for `set_bits`)."""
    return [dict(precision.bits.get(layer.node, {})) for layer in problem.layers]


def _analog_energy(rep: dict[str, Any]) -> dict[str, float]:
    """Energy per inference of each layer's photonic and PIM instructions (what bits change), from
    a program's estimate."""
    knobs = bit_knobs()
    return {row["node"]: sum(v["energy_j"] for t, v in row["tiers"].items() if t in knobs)
            for row in rep["layers"]}
