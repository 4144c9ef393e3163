"""The memory system of cost model v2 (issue 22): transfers in stored formats, per-tier links that
contend, the M tier's weight region, and the photonic roofline with ample memory."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import model_path
from h3pc.backends.isa import make
from h3pc.charges import Charges
from h3pc.compiler import compile_model
from h3pc.cost import Cost, buffer_transfer
from h3pc.hardware.schema import HardwareConfig, load_hardware
from h3pc.runtime.emulator import estimate
from h3pc.runtime.schedule import simulate

HW = load_hardware("h3pimap")


def with_memory(hw: HardwareConfig, **memory) -> HardwareConfig:
    return dataclasses.replace(hw, memory=dataclasses.replace(hw.memory, **memory))


def gemm_model(path, m: int, k: int, n: int) -> str:
    """One MatMul with a constant [k, n] weight."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((k, n), dtype=np.float32) * 0.02, "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, str(path))
    return str(path)


def test_transfers_move_the_stored_format(tmp_path) -> None:
    """A photonic GEMM's weight moves as 6-bit codes and its result as 8-bit ADC codes; the digital tier's
    fp32 values as 4 bytes: each LD and ST is charged by the stored bytes, not the ONNX dtype's."""
    prog = compile_model(gemm_model(tmp_path / "g.onnx", 28, 64, 56), "photonic").program
    ts = prog.tensors
    pmm = next(i for i in prog.streams["photonic"] if i.op == "PMM")
    assert ts[pmm.b].stored_bits == HW.photonic.w_bits and ts[pmm.b].stored_bytes == math.ceil(64 * 56 * 6 / 8)
    assert ts[pmm.out].stored_bits == HW.photonic.out_bits and ts[pmm.out].stored_bytes == 28 * 56
    ch = Charges.build(prog)
    st = next(i for i in prog.streams["photonic"] if i.op == "ST" and i.tensor == pmm.out)
    assert ch.of("photonic", st).energy == pytest.approx(buffer_transfer(HW, 28 * 56, "photonic").energy)
    # the host stores what it computes, fp32
    host_st = [i for i in prog.streams["digital"] if i.op == "ST"]
    assert all(ts[i.tensor].stored_bits == 32 for i in host_st)


def test_links_contend_and_dedicated_links_do_not() -> None:
    """Two engines each load 1 us of data: on one link the second waits for the first; on two links
    they overlap."""
    streams = {"a": [make("LD", tensor=0, sym=0), make("HALT")], "b": [make("LD", tensor=1, sym=0), make("HALT")]}

    def charge(tier, ins):
        return Cost(1e-6) if ins.op == "LD" else Cost()

    shared, _ = simulate(streams, charge, links={"a": "tsv", "b": "tsv"})
    own, _ = simulate(streams, charge, links={"a": "a", "b": "b"})
    assert shared == pytest.approx(2e-6) and own == pytest.approx(1e-6)


def test_tiers_on_the_shared_tsv_contend_in_the_program(tmp_path) -> None:
    """The same program with the photonic tier on the shared TSV instead of its own link: its loads now
    queue behind the other tiers' and run at the TSV's bandwidth; the schedule and the charges agree."""
    path = str(model_path("gpt2_tiny"))
    own = estimate(compile_model(path, "photonic").program)
    shared_hw = with_memory(HW, links={k: v for k, v in HW.memory.links.items() if k != "photonic"})
    shared = estimate(compile_model(path, "photonic", hw=shared_hw).program)
    assert shared["latency_s"] > own["latency_s"]
    ch = Charges.build(compile_model(path, "photonic", hw=shared_hw).program)
    assert ch.links["photonic"] == ch.links["sram_pim"] == ch.links["reram_pim"] != ch.links["digital"]


def test_the_m_tier_holds_weights_that_fit(tmp_path) -> None:
    """With the default weight region every photonic weight of gpt2_tiny is held from program load on
    (only the embedding rows a Gather reads still come from off-chip), the one read charged at program
    load. Without the region they stream from off-chip every inference."""
    path = str(model_path("gpt2_tiny"))
    held = compile_model(path, "photonic").program
    rep = estimate(held)
    assert rep["buffer_plan"]["held_weight_bytes"] > 0
    loaded = {i.tensor for s in held.streams.values() for i in s if i.op == "LD"}
    consts = [t for t in loaded if held.tensors[t].role == "const"]
    assert consts and all(held.tensors[t].home == "resident" for t in consts)
    assert rep["program_load"]["energy_j"] > 0
    none = estimate(compile_model(path, "photonic", hw=with_memory(HW, weight_bytes=0)).program)
    assert none["buffer_plan"]["held_weight_bytes"] == 0
    assert none["energy_breakdown_j"]["offchip"] > rep["energy_breakdown_j"].get("offchip", 0.0)
    assert none["energy_j"] > rep["energy_j"]


def test_photonic_roofline_with_ample_memory(tmp_path) -> None:
    """With links that never bind, a big GEMM on the photonic tier takes MACs / (784 MAC sites x 3 GHz):
    2 tiles x 2 cores of 14 x 14 at full use (docs/hardware-model.md h.1), within 5%."""
    m = k = n = 1024
    hw = with_memory(HW, links={"photonic": 1e6, "digital": 1e6})
    prog = compile_model(gemm_model(tmp_path / "big.onnx", m, k, n), "photonic", hw=hw).program
    busy = estimate(prog)["tiers"]["photonic"]["busy_s"]
    p = HW.photonic
    peak = p.tiles * p.cores_per_tile * p.core_rows * p.core_cols * p.freq_mhz * 1e6
    assert peak == pytest.approx(784 * 3e9)
    assert busy == pytest.approx(m * k * n / peak, rel=0.05)
    assert estimate(prog)["latency_s"] == pytest.approx(m * k * n / peak, rel=0.05)
