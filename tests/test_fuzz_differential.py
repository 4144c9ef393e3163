"""Differential fuzzing: random valid ONNX graphs, compiled for random targets and random placements,
emulated with --ideal through a program.bin round trip, must match onnxruntime.

The default run is bounded (H3PC_FUZZ_EXAMPLES, default 30, chains of up to H3PC_FUZZ_STEPS = 6
ops); `make fuzz` runs thousands of longer chains and prints hypothesis' statistics. A failure is shrunk by hypothesis to a minimal graph: add it to
tests/test_fuzz_regressions.py as a fixed case.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from graphgen import graphs
from h3pc.backends import container
from h3pc.backends.program import from_container, to_container
from h3pc.compiler import compile_model
from h3pc.runtime.emulator import Emulator
from h3pc.transforms.stage1.cpsat import SolverOptions
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.partition import StageOneOptions
from h3pc.backends import tiers

TARGETS = tiers.targets()

EXAMPLES = int(os.environ.get("H3PC_FUZZ_EXAMPLES", "30"))
STEPS = int(os.environ.get("H3PC_FUZZ_STEPS", "6"))  # ops per chain, at most
PLACEMENTS = ("placement-in", "cpsat", "rule")  # how a hybrid compile splits its layers


def reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def compile_hybrid(path: Path, how: str, seed: int):
    """A hybrid compile: CP-SAT, the rule, or a random split written to a placement file and read
    back through --placement-in (every layer pinned)."""
    if how == "rule":
        return compile_model(str(path), "hybrid", stage1=StageOneOptions(mapping="rule"))
    if how == "cpsat":
        solver = SolverOptions(time_limit_s=1.0, workers=1, progress=False)
        return compile_model(str(path), "hybrid", stage1=StageOneOptions(search=SearchOptions(solver=solver)))
    drawn = compile_model(str(path), "hybrid", codegen=False, stage1=StageOneOptions(
        mapping="random", search=SearchOptions(samples=1, seed=seed)))
    assert drawn.stage1 is not None
    placement = path.with_suffix(".placement.json")
    placement.write_text(json.dumps(drawn.stage1.placement()))
    return compile_model(str(path), "hybrid", stage1=StageOneOptions(mapping="random", placement_in=str(placement),
                                                                      search=SearchOptions(samples=1, seed=seed)))


def check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], target: str, how: str, seed: int,
          tmp: Path) -> None:
    path = tmp / "fuzz.onnx"
    path.write_bytes(model.SerializeToString())
    compiled = compile_hybrid(path, how, seed) if target == "hybrid" else compile_model(str(path), target)
    assert compiled.program is not None
    prog = from_container(container.decode(container.encode(to_container(compiled.program))), "fuzz")
    got, _, _ = Emulator(prog, ideal=True).run(feeds)
    want = reference(model, feeds)
    assert set(got) == set(want)
    for name, ref in want.items():
        assert got[name].shape == ref.shape, name
        tol = 1e-4 * max(1.0, float(np.abs(ref).max(initial=0.0)))
        err = float(np.abs(got[name].astype(np.float64) - ref).max(initial=0.0))
        assert err <= tol, f"output {name}: max|diff| {err:.3g} > {tol:.3g}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])
@given(graph=graphs(STEPS), target=st.sampled_from(sorted(TARGETS)), how=st.sampled_from(PLACEMENTS),
       seed=st.integers(0, 2**16))
def test_ideal_emulation_matches_onnxruntime(graph, target, how, seed, tmp_path_factory) -> None:
    model, feeds, steps = graph
    note(f"steps: {steps}; target {target}" + (f" ({how}, seed {seed})" if target == "hybrid" else ""))
    note(onnx.printer.to_text(model.graph))
    check(model, feeds, target, how, seed, tmp_path_factory.mktemp("fuzz"))


def test_generator_covers_every_step() -> None:
    """The bounded run is only worth its time if the strategy reaches every op family."""
    from collections import Counter

    from graphgen import STEPS

    counts: Counter[str] = Counter()

    @settings(max_examples=500, deadline=None, database=None, derandomize=True)  # the same draws on every run
    @given(graphs())
    def collect(graph) -> None:
        counts.update(graph[2])

    collect()
    assert set(STEPS) <= set(counts), f"never drawn: {sorted(set(STEPS) - set(counts))}"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q", "--hypothesis-show-statistics"]))
