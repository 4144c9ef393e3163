"""plan-buffer: liveness allocation, double-buffered weight staging and spills, charged alike by the
compiler's estimate and the emulator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from conftest import model_path
from h3pc.backends.plan_buffer import allocate, verify
from h3pc.charges import Charges
from h3pc.compiler import compile_model
from h3pc.cost import offchip_transfer
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import load_hardware
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.runtime.schedule import lifetimes, simulate
from test_end_to_end import max_rel_err, reference, through_binary


def hw_file(tmp_path, **memory) -> str:
    hw = load_hardware("h3pimap")
    path = tmp_path / "hw.yaml"
    path.write_text(yaml.safe_dump(dataclasses.replace(hw, memory=dataclasses.replace(hw.memory, **memory)).to_dict()))
    return str(path)


def test_allocate_reuses_dead_space_and_evicts_what_does_not_fit() -> None:
    life = {0: (0.0, 2.0), 1: (1.0, 3.0), 2: (2.0, 4.0), 3: (0.0, 4.0)}
    sizes = {0: 100, 1: 64, 2: 128, 3: 1000}
    addrs, evicted = allocate(life, sizes, capacity=256)
    assert evicted == {3}  # larger than the buffer
    # largest first: 2 at 0; 0 ends when 2 starts, so it reuses address 0; 1 overlaps both: above them
    assert addrs == {2: 0, 0: 0, 1: 128}
    addrs, evicted = allocate({0: (0.0, 1.0), 1: (1.0, 2.0)}, {0: 200, 1: 200}, capacity=256)
    assert evicted == set() and addrs == {0: 0, 1: 0}  # one after the other: the same bytes


@pytest.mark.parametrize("name", ["cnn_digits", "gpt2_tiny"])
def test_small_buffer_spills_are_planned_charged_and_exact(tmp_path, name: str) -> None:
    feeds, want = reference(name)
    big = compile_model(str(model_path(name)), "hybrid").program
    small_hw = hw_file(tmp_path, buffer_bytes=4096)
    small = through_binary(compile_model(str(model_path(name)), "hybrid", hw=small_hw).program)
    verify(small)
    spilled = [t for t in small.tensors if t.role in ("input", "value") and t.home == "offchip"]
    assert spilled, "a 4 KiB buffer must spill"
    outs, rep, _ = Emulator(small, ideal=True).run(feeds)
    assert max_rel_err(outs, want) <= 1e-4
    est = estimate(small)
    assert rep["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)
    assert rep["energy_j"] == pytest.approx(est["energy_j"], rel=0.02)
    plan = est["buffer_plan"]
    assert plan["spilled_tensors"] == len(spilled) and plan["peak_bytes"] <= 4096
    # a spilled value costs at least one off-chip write and one read more than in the 2 MiB plan
    assert est["energy_breakdown_j"]["offchip"] > estimate(big)["energy_breakdown_j"].get("offchip", 0.0) + \
        2 * offchip_transfer(small.hw, min(t.stored_bytes for t in spilled)).energy_j * 0.99


def test_double_buffering_overlaps_weight_fills_and_bounds_them(tmp_path) -> None:
    name = "gpt2_tiny"
    # no M-tier weight region: every weight streams from off-chip, staged or not
    depth0 = compile_model(str(model_path(name)), "photonic", hw=hw_file(tmp_path, prefetch_depth=0, weight_bytes=0)).program
    depth2 = compile_model(str(model_path(name)), "photonic", hw=hw_file(tmp_path, weight_bytes=0)).program
    assert not depth0.streams["dma"] and all(t.home == "offchip" for t in depth0.tensors if t.role == "const")
    fills = [ins for ins in depth2.streams["dma"] if ins.op == "FILL"]
    assert len(fills) > 4
    e0, e2 = estimate(depth0), estimate(depth2)
    # the same bytes move (energy differs only by static power over the shorter run); fills overlap compute
    assert e2["latency_s"] < e0["latency_s"]
    assert e2["energy_j"] <= e0["energy_j"]
    assert e2["energy_breakdown_j"]["offchip"] == pytest.approx(e0["energy_breakdown_j"]["offchip"], rel=1e-9)
    # at most `depth` staged weights of one tier are in the buffer at any time
    ch = Charges.build(depth2)
    makespan, events = simulate(depth2.streams, ch.of, links=ch.links)
    life = lifetimes(depth2, events, makespan)
    loader = {ins.tensor: tier for tier, st in depth2.streams.items() for ins in st if ins.op == "LD"}
    for tier in set(loader[ins.tensor] for ins in fills):
        staged = [life[ins.tensor] for ins in fills if loader[ins.tensor] == tier]
        for s, _ in staged:
            assert sum(1 for a, b in staged if a <= s < b) <= depth2.hw.memory.prefetch_depth
    verify(depth2)


def test_verify_catches_an_overlap() -> None:
    prog = compile_model(str(model_path("mlp_digits")), "hybrid").program
    verify(prog)
    placed = [i for i, t in enumerate(prog.tensors) if t.addr >= 0 and t.role == "value"]
    tensors = list(prog.tensors)
    for i in placed:
        tensors[i] = dataclasses.replace(tensors[i], addr=0)
    with pytest.raises(H3pcError, match="overlap"):
        verify(dataclasses.replace(prog, tensors=tensors))
    assert np.all([t.addr % 64 == 0 for t in prog.tensors if t.addr >= 0])
