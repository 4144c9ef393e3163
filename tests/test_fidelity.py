"""The pieces of benchmarks/fidelity.py that decide its figures, on a small GPT-NeoX shape (the run itself
compiles the 70 M-parameter model about 40 times: `python benchmarks/fidelity.py`)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = {"layers": 1, "d_model": 64, "heads": 2, "head_dim": 32, "d_ff": 128, "vocab": 96, "ln_eps": 1e-5}


def _fidelity():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the script imports its sibling `common`
    try:
        spec = importlib.util.spec_from_file_location("h3pc_fidelity", ROOT / "benchmarks" / "fidelity.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


fid = _fidelity()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fidelity") / "neox_tiny.onnx"
    stats = fid.build_pythia70m(path, 8, 0, shape=TINY)
    assert stats["params"] > 0
    return path


def test_paper_equal_split_is_its_linear_model():
    """§h.1: Table 4's equal split is max(T)/3 and sum(E)/3 of its homogeneous rows (to 0.3%)."""
    res = {t: {"report": {"latency_s": fid.PAPER[t]["latency_ms"] / 1e3, "energy_j": fid.PAPER[t]["energy_mj"] / 1e3}}
           for t in fid.HOMOGENEOUS}
    lin = fid.linear_split(res)
    assert lin["latency_s"] * 1e3 == pytest.approx(fid.PAPER["equal-split"]["latency_ms"], rel=3e-3)
    assert lin["energy_j"] * 1e3 == pytest.approx(fid.PAPER["equal-split"]["energy_mj"], rel=3e-3)


def test_compare_flags_the_threshold():
    c = fid.compare("photonic", {"latency_s": 0.91e-3 * 1.29, "energy_j": 8.92e-3 * 0.69})
    assert c["latency"]["within"] and c["latency"]["rel_diff"] == pytest.approx(0.29)
    assert not c["energy"]["within"] and c["energy"]["rel_diff"] == pytest.approx(-0.31)


def test_paper_advantage_reproduces_the_papers_claims():
    """a.6: PO has 3.66x lower latency than the equal split, 6.42x than the homogeneous rows averaged."""
    adv = fid.paper_advantage()
    assert adv["equal-split"]["latency_x"] == pytest.approx(3.66, abs=0.01)
    assert adv["homogeneous mean"]["latency_x"] == pytest.approx(6.42, abs=0.02)
    assert adv["homogeneous mean"]["energy_x"] == pytest.approx(1.22, abs=0.01)
    assert fid.dominated_by("po") == ["photonic"]


def _row(latency_s: float, energy_j: float, without: dict[str, float], breakdown: dict[str, float]) -> dict:
    return {"report": {"latency_s": latency_s, "energy_j": energy_j, "energy_breakdown_j": breakdown},
            "analysis": {"critical_path_s": {"gemm_compute": latency_s}, "critical_path_top_s": {},
                         "latency_without_s": without, "energy_by_category_j": {}}}


def test_explain_names_the_change_closest_to_the_paper():
    paper_s = fid.PAPER["sram-pim"]["latency_ms"] / 1e3
    r = _row(2 * paper_s, 1e-3, {"activation_move": 1.9 * paper_s, "gemm_compute": 1.1 * paper_s}, {})
    e = fid.explain("sram-pim", "latency", r, {"free_memory": {"latency_s": 1.5 * paper_s, "energy_j": 1e-3}})
    assert e["driver"]["name"] == "gemm_compute" and e["driver"]["within_after"]
    # an over-correction further away than our own number is no driver
    r = _row(1.2 * paper_s, 1e-3, {"gemm_compute": 0.5 * paper_s}, {})
    assert fid.explain("sram-pim", "latency", r, {})["driver"] is None
    # energy below the paper's: which component would have to grow
    paper_j = fid.PAPER["photonic"]["energy_mj"] / 1e3
    r = _row(1e-3, 0.5 * paper_j, {}, {"laser": 0.25 * paper_j, "adc": 0.25 * paper_j})
    e = fid.explain("photonic", "energy", r, {"laser_plus_3db": {"latency_s": 1e-3, "energy_j": 0.6 * paper_j}})
    assert e["driver"]["kind"] == "hardware" and not e["driver"]["within_after"]
    assert "laser x3" in "\n".join(e["text"])


def test_scenarios_change_what_they_say():
    base = fid.load_hardware("h3pimap")
    free = fid.scenario_hw("h3pimap", "free_memory")
    assert free.memory.offchip_bandwidth_gbps == base.memory.offchip_bandwidth_gbps * 1e6
    assert all(free.memory.links[t] == v * 1e6 for t, v in base.memory.links.items())
    assert free.memory.buffer_bytes == base.memory.buffer_bytes
    adc = fid.scenario_hw("h3pimap", "adc_per_column").to_dict()
    pims = [t.name for t in fid.tiers.stationary(base)]
    assert pims and all(adc[t]["columns_per_adc"] == 1 for t in pims)
    ungated = fid.scenario_hw("h3pimap", "ungated").to_dict()
    assert not any(b.get("power_gated") for b in ungated.values() if isinstance(b, dict))


def test_equal_split_is_thirds_over_the_papers_tiers(tiny):
    problem = fid.stage_problem(tiny, "h3pimap")
    split = fid.equal_split(problem)
    three = {fid.tiers.target_tier(t) for t in fid.HOMOGENEOUS}
    for layer, chunks in zip(problem.layers, split):
        assert sum(chunks.values()) == layer.chunks
        if layer.splittable:
            assert set(chunks) == three and max(chunks.values()) - min(chunks.values()) <= 1
        else:
            assert len(chunks) == 1 and set(chunks) <= set(layer.allowed)


def test_equal_split_row_compiles_as_pinned(tiny, tmp_path):
    dense = None if fid.replication_option() else False
    r = fid.run_row(tiny, "equal-split", "h3pimap", tmp_path, replication=dense)
    three = {fid.tiers.target_tier(t) for t in fid.HOMOGENEOUS}
    assert set(r["mac_share"]) <= three and math.isclose(sum(r["mac_share"].values()), 1.0)
    chosen = r["stage1"]["chosen"]["mac_share"]
    assert chosen == pytest.approx(r["mac_share"])  # stage one kept the pins
    a, rep = r["analysis"], r["report"]
    assert a["makespan_check_s"] == pytest.approx(rep["latency_s"], rel=1e-9)
    # the critical path's categories (waits for a shared link included) add up to the makespan
    assert sum(a["critical_path_s"].values()) == pytest.approx(rep["latency_s"], rel=1e-6)


def test_tables_render_both_ways():
    rows = [["sram-pim", "1", "2"], ["a|b", "10", "20"]]
    text = fid.text_table(["row", "x", "y"], rows).splitlines()
    assert len(text) == 3 and len({len(line) for line in text}) == 1
    md = fid.md_table(["row", "x", "y"], rows).splitlines()
    assert md[1] == "|---|---|---|" and md[3] == "| a/b | 10 | 20 |"
