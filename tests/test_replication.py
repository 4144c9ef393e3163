"""PIM weight replication (issue 22): copies of a layer's weights on free crossbars read its input vectors
in parallel. The cost rule, CP-SAT's choice of rows and copies against enumeration, the homogeneous
targets' greedy fill, and programs that execute replicas exactly as the emulator charges them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from conftest import model_path
from h3pc.backends.pim import programmed, replicated_mvm
from h3pc.compiler import compile_model
from h3pc.cost import pim_mvm, pim_program
from h3pc.hardware.schema import load_hardware, parse_hardware
from h3pc.objdump import main as objdump_main
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.transforms.stage1.cpsat import SolverOptions, solve
from h3pc.transforms.stage1.partition import StageOneOptions
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.warmstart import compositions
from test_end_to_end import max_rel_err, reference, through_binary
from test_stage1 import small_problem

HW = load_hardware("h3pimap")
SOLVER = SolverOptions(time_limit_s=10.0, workers=2, seed=0, progress=False)


@pytest.mark.parametrize("tier", ["sram_pim", "reram_pim"])
def test_r_copies_take_a_share_of_the_vectors_and_the_same_energy(tier: str) -> None:
    """Latency with r copies = latency of ceil(m / r) vectors (the granularity), energy unchanged;
    programming r copies writes r times the cells in the time of one."""
    t = HW.tier(tier)
    m, k, n = 50, 256, 96
    one = pim_mvm(t, m, k, n, t.input_bits, t.adc_bits)
    for r in (1, 2, 4, 8, 64):
        c = replicated_mvm(t, m, k, n, t.input_bits, t.adc_bits, 1, r)
        assert c.latency_s == pytest.approx(one.latency_s * math.ceil(m / r) / m)
        assert c.energy_j == pytest.approx(one.energy_j)
        prog, cells = programmed(t, k, n, 1, r)
        base, base_cells = pim_program(t, k, n)
        assert cells == r * base_cells and prog.energy_j == pytest.approx(r * base.energy_j)
        assert prog.latency_s == pytest.approx(base.latency_s)


def slow_photonic_hw():
    """h3pimap with a photonic tier and a host too slow to matter and PIM tiers of 8 crossbars each:
    the PIM tiers then run the layers, and their free crossbars are worth copies."""
    d = load_hardware("h3pimap").to_dict()
    d["photonic"]["freq_mhz"] = 1.0
    d["digital"]["lanes"] = 1
    for t in ("sram_pim", "reram_pim"):
        d[t].update({"tiles": 1, "crossbars_per_tile": 8})
    return parse_hardware(d, "slow photonic, small PIM")


def brute_force(problem, pins):
    """Best latency and energy over every split, and every choice of copies per PIM part, that fits."""
    per_layer = []
    for layer in problem.layers:
        if layer.index in pins:
            splits = [pins[layer.index]]
        else:
            splits = [{t: c for t, c in s.items() if c} for s in compositions(layer.chunks, list(layer.allowed))]
        opts = []
        for s in splits:
            pim = [t for t in s if t in problem.capacity]
            choices = [[1] + layer.replica_options(t, s[t], problem.capacity[t]) for t in pim]
            for rs in itertools.product(*choices):
                opts.append((s, {t: r for t, r in zip(pim, rs) if r > 1}))
        per_layer.append(opts)
    best_lat = best_energy = None
    for combo in itertools.product(*per_layer):
        chunks, reps = [c for c, _ in combo], [r for _, r in combo]
        if not problem.fits(chunks, None, reps):
            continue
        lat, energy = problem.evaluate(chunks, None, reps)
        best_lat = lat if best_lat is None else min(best_lat, lat)
        best_energy = energy if best_energy is None else min(best_energy, energy)
    return best_lat, best_energy


def test_cpsat_chooses_rows_and_copies_as_enumeration_does() -> None:
    problem = small_problem("cnn_digits", 2, slow_photonic_hw())
    assert problem.replication
    pins = {len(problem.layers) - 1: {"digital": problem.layers[-1].chunks}}  # the 1-vector classifier
    want_lat, want_energy = brute_force(problem, pins)
    st, found = solve(problem, "latency", SOLVER, 10.0, pins=pins)
    assert st.status == "OPTIMAL" and found is not None
    assert problem.fits(found[0], found[1], found[2])
    assert problem.evaluate(*found)[0] == pytest.approx(want_lat, rel=1e-6)
    assert any(found[2]), "the fastest split of this machine replicates"
    st, found = solve(problem, "energy", SOLVER, 10.0, pins=pins)
    assert st.status == "OPTIMAL" and found is not None
    assert problem.evaluate(*found)[1] == pytest.approx(want_energy, rel=1e-6)


def test_without_replication_the_solver_offers_no_copies() -> None:
    from h3pc.frontend.importer import import_model
    from h3pc.transforms.stage1.problem import build_problem

    imported = import_model(str(model_path("cnn_digits")), {})
    problem = build_problem(imported.module, imported.weights, slow_photonic_hw(), 2, replication=False)
    st, found = solve(problem, "latency", SOLVER, 5.0)
    assert found is not None and not any(found[2])
    with_copies = small_problem("cnn_digits", 2, slow_photonic_hw())
    _, faster = solve(with_copies, "latency", SOLVER, 5.0)
    assert with_copies.evaluate(*faster)[0] < problem.evaluate(*found)[0]


@pytest.mark.parametrize("target", ["sram-pim", "reram-pim"])
def test_homogeneous_targets_fill_free_crossbars_and_outputs_do_not_change(target: str) -> None:
    """`--target sram-pim` with replication: copies of the conv layers on the free crossbars, the same
    outputs as without (ideal: exact), much less latency, the same dynamic energy but the copies'
    programming at load; the compiler's estimate is the emulator's."""
    feeds, want = reference("cnn_digits")
    path = str(model_path("cnn_digits"))
    on = through_binary(compile_model(path, target).program)
    off = through_binary(compile_model(path, target, stage1=StageOneOptions(replication=False)).program)
    tier = target.replace("-", "_")
    progs = [i for i in on.streams[tier] if i.op in ("PROG", "PROGS")]
    assert any(i.replicas > 1 for i in progs)
    assert not any(i.replicas > 1 for i in off.streams[tier] if i.op in ("PROG", "PROGS"))
    out_on, rep_on, _ = Emulator(on, ideal=True).run(feeds)
    out_off, rep_off, _ = Emulator(off, ideal=True).run(feeds)
    assert max_rel_err(out_on, want) <= 1e-4
    for k in out_on:
        np.testing.assert_array_equal(out_on[k], out_off[k])
    assert rep_on["latency_s"] < rep_off["latency_s"] / 4
    dyn = {k: v for k, v in rep_on["energy_breakdown_j"].items() if k not in ("static", "leakage")}
    dyn_off = {k: v for k, v in rep_off["energy_breakdown_j"].items() if k not in ("static", "leakage")}
    assert sum(dyn.values()) == pytest.approx(sum(dyn_off.values()), rel=1e-6)
    assert rep_on["program_load"]["writes"][tier] > rep_off["program_load"]["writes"][tier]
    est = estimate(on)
    assert est["latency_s"] == pytest.approx(rep_on["latency_s"], rel=0.02)
    assert est["energy_j"] == pytest.approx(rep_on["energy_j"], rel=0.02)
    # the copies fit the tier, side by side from their base
    cap = HW.tier(tier).tiles * HW.tier(tier).crossbars_per_tile
    assert rep_on["program_load"]["writes"][tier] <= cap * 128 * 128


def test_noisy_replicated_program_matches_its_dense_twin_in_distribution() -> None:
    """With ReRAM read noise the copies are the same devices' model: outputs are as noisy as without
    copies (same seed: identical, since each vector is read once either way)."""
    feeds, _ = reference("cnn_digits")
    path = str(model_path("cnn_digits"))
    on = compile_model(path, "reram-pim").program
    off = compile_model(path, "reram-pim", stage1=StageOneOptions(replication=False)).program
    a, _, _ = Emulator(on, seed=3).run(feeds)
    b, _, _ = Emulator(off, seed=3).run(feeds)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_trace_shows_the_copies(tmp_path, capsys) -> None:
    prog = compile_model(str(model_path("cnn_digits")), "sram-pim").program
    from h3pc.backends.container import encode
    from h3pc.backends.program import to_container

    path = tmp_path / "p.bin"
    path.write_bytes(encode(to_container(prog)))
    assert objdump_main([str(path)]) == 0
    text = capsys.readouterr().out
    assert "replicas=" in text and any(f"replicas={r}" in text for r in (2, 4, 8, 16, 32, 64))


def test_stage_one_prediction_with_copies_matches_the_emulator() -> None:
    """A machine where the fastest hybrid split replicates: stage one's predicted latency and energy
    are the emulator's."""
    feeds, _ = reference("cnn_digits")
    opts = StageOneOptions(search=SearchOptions(solver=SolverOptions(2.0, 1, 0, progress=False)))
    c = compile_model(str(model_path("cnn_digits")), "hybrid", slow_photonic_hw(), stage1=opts)
    p = c.stage1.chosen
    assert p.replicas and any(p.replicas)
    assert any(i.replicas > 1 for s in c.program.streams.values() for i in s if i.op in ("MVM", "MVMS"))
    _, rep, _ = Emulator(c.program, ideal=True).run(feeds)
    assert rep["latency_s"] == pytest.approx(p.latency_s, rel=0.02)
    assert rep["energy_j"] == pytest.approx(p.energy_j, rel=0.02)
