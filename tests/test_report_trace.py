"""Reports and traces speak one vocabulary: the trace's per-track sums are the report's figures.

Every dev model, compiled for the hybrid target (naive split: every tier and the DMA engine get
work) and one homogeneous target; the estimate (compiler) and the emulator's report must agree
with each other and with the trace the emulator writes.
"""

from __future__ import annotations

import math

import pytest

from conftest import DEV_MODELS, model_path
from h3pc.compiler import compile_model
from h3pc.quality import random_inputs
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.runtime.report import ACTIVITIES, trace
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.partition import StageOneOptions
from h3pc.backends import tiers

ENGINES = tiers.engines()
TARGETS = tiers.targets()

HOMOGENEOUS = [t for t in TARGETS if t != "hybrid"]
CASES = [(m, "hybrid") for m in DEV_MODELS] + [(m, HOMOGENEOUS[i % len(HOMOGENEOUS)]) for i, m in enumerate(DEV_MODELS)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-18)


@pytest.mark.parametrize("model,target", CASES, ids=[f"{m}-{t}" for m, t in CASES])
def test_trace_sums_are_the_report(model: str, target: str) -> None:
    c = compile_model(str(model_path(model)), target, stage1=StageOneOptions("naive", search=SearchOptions()))
    prog = c.program
    est = estimate(prog)
    emu = Emulator(prog, ideal=True)
    feeds, _ = random_inputs(prog, 0, 1)
    _, rep, events = emu.run({k: v[0] for k, v in feeds.items()})
    assert set(rep) - {"samples", "mode", "seed"} == set(est)  # the same keys from both tools
    tr = trace(prog, events)
    tracks = {e["tid"]: e["args"]["name"] for e in tr["traceEvents"] if e.get("name") == "thread_name"}
    assert sorted(tracks.values()) == sorted(ENGINES) == sorted(rep["tiers"])  # the same names
    busy = {t: 0.0 for t in ENGINES}
    energy = {t: 0.0 for t in ENGINES}
    by_activity = {(t, a): 0.0 for t in ENGINES for a in ACTIVITIES}
    for e in tr["traceEvents"]:
        if e.get("ph") != "X":
            continue
        t = tracks[e["tid"]]
        busy[t] += e["dur"] * 1e-6
        energy[t] += e["args"]["energy_pj"] * 1e-12
        by_activity[(t, e["cat"])] += e["dur"] * 1e-6
    latency = rep["latency_s"]
    static = 0.0
    for t, row in rep["tiers"].items():
        assert close(busy[t], row["busy_s"]), (t, busy[t], row["busy_s"])
        assert close(energy[t], row["dynamic_energy_j"]), (t, energy[t], row["dynamic_energy_j"])
        for a in ACTIVITIES:
            assert close(by_activity[(t, a)], row[f"{a}_s"]), (t, a)
        assert close(sum(row[f"{a}_s"] for a in ACTIVITIES), row["busy_s"])
        assert close(row["utilisation"], row["busy_s"] / latency) and row["utilisation"] <= 1 + 1e-9
        assert close(row["energy_j"], row["dynamic_energy_j"] + row["static_energy_j"])
        assert close(row["static_energy_j"], rep["static_energy"]["tiers"].get(t, {}).get("energy_j", 0.0))
        static += row["static_energy_j"]
        for key in row:  # the estimate's figures are the emulator's
            assert close(row[key], est["tiers"][t][key]), (t, key)
    assert close(static, rep["static_energy"]["energy_j"]) and rep["static_energy"]["reason"]
    assert close(sum(r["energy_j"] for r in rep["tiers"].values()), rep["energy_j"])
    assert close(rep["energy_j"], est["energy_j"]) and close(latency, est["latency_s"])
    last = max(e["ts"] + e["dur"] for e in tr["traceEvents"] if e.get("ph") == "X")
    assert last * 1e-6 == pytest.approx(latency, rel=1e-9)
    if target == "hybrid":  # a naive split gives every tier rows of some layer
        assert sum(rep["tiers"][t]["compute_s"] > 0 for t in ("photonic", "sram_pim", "reram_pim")) >= 2
