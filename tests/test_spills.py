"""Spills and dynamic operands on the weight-stationary tiers (issue 22, rule 8).

A weight that does not fit streams through a bounded region at the top of the tier, in pieces that
fit it; every weight that fits beside that region stays resident, so one large matrix (an LM head)
no longer evicts the others. ReRAM never takes a dynamic operand, in any target: `--target
reram-pim` runs those products on the host (digital) tier.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import model_path
from h3pc.backends import tiers
from h3pc.backends.isa import PROGRAMS
from h3pc.backends.tier import crossbar_layout
from h3pc.compiler import compile_model
from h3pc.dialects import digital, nn, pim
from h3pc.hardware.schema import load_hardware, parse_hardware
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.transforms.allocate_crossbars import is_static


def test_layout_keeps_residents_when_one_item_does_not_fit() -> None:
    """Items 4, 2, 8 (the big one, streaming through a 4-crossbar region) and 4 crossbars on a tier of
    16: the big one fits first-come but pushes the last out; once the region is reserved, the big one
    streams and every other item stays resident. Its region is its streamed piece, not its size."""
    spilled, region = crossbar_layout([4, 2, 8, 4], [4, 2, 4, 4], [False] * 4, 16)
    assert spilled == [2] and region == 4
    # the rule before the region was bounded (a spilled item streamed as one piece of its own size):
    # the region grows to 8 and evicts the last matrix as well
    assert crossbar_layout([4, 2, 8, 4], [4, 2, 8, 4], [False] * 4, 16) == ([2, 3], 8)


def test_streamed_pieces_fit_the_region() -> None:
    """Resident weights are cut to the tier, weights written before every use to `stream_tiles`
    tiles; a region smaller than one block of crossbar columns grows to that block, not further."""
    hw = _machine(tiles=4, crossbars_per_tile=4, stream_tiles=1)
    reram = tiers.get("reram_pim")
    assert reram.stream_region(hw) == 4
    assert reram.pieces(hw, 1, 64, 256, "n") == [(0, 256)]  # 8 crossbars: one piece
    assert reram.pieces(hw, 1, 64, 256, "n", streamed=True) == [(0, 128), (128, 256)]  # 4 + 4
    assert reram.pieces(hw, 1, 640, 64, "n", streamed=True) == [(0, 32), (32, 64)]  # 5 > 4: one block
    assert _machine(tiles=4, crossbars_per_tile=4, stream_tiles=9).reram_pim.stream_tiles == 9
    assert reram.stream_region(_machine(tiles=4, crossbars_per_tile=4, stream_tiles=9)) == 16  # the tier


def test_one_big_matrix_streams_and_the_others_stay_resident(tmp_path) -> None:
    """A ReRAM tier with room for every matrix but one: the big one is written before every use, in
    pieces through the streaming region, and is the only thing written per inference; the others are
    written once at load. The estimate equals the emulator, and the outputs are exact."""
    weights = _chain_weights()
    path = _chain(tmp_path / "chain.onnx", weights)
    hw = _machine(tiles=4, crossbars_per_tile=4, stream_tiles=1)
    prog = compile_model(path, "reram-pim", hw=hw).program
    progs = [i for i in prog.streams["reram_pim"] if i.op in PROGRAMS]
    shapes = [prog.tensors[i.w].shape for i in progs]
    big = weights["w_big"].shape
    streamed = [s for i, s in zip(progs, shapes) if not i.resident]
    resident = [s for i, s in zip(progs, shapes) if i.resident]
    assert streamed == [(big[0], big[1] // 2)] * 2  # 8 crossbars through a region of 4: two pieces
    assert sorted(resident) == sorted(w.shape for k, w in weights.items() if k != "w_big")
    cells = tiers.get("reram_pim").config(hw).cells_per_weight
    x = np.random.default_rng(0).standard_normal((1, 64)).astype(np.float32)
    outs, rep, _ = Emulator(prog, ideal=True).run({"x": x})
    assert rep["per_inference_writes"]["reram_pim"] == big[0] * big[1] * cells  # that matrix's cells only
    assert rep["program_load"]["writes"]["reram_pim"] == sum(
        w.size * cells for k, w in weights.items() if k != "w_big")
    assert rep["worst_crossbar_writes"]["reram_pim"] == 2  # the region's top crossbar, once per piece
    assert rep["inferences_to_wear_out"]["reram_pim"] == pytest.approx(hw.reram_pim.endurance_writes / 2)
    want = x @ weights["w_a"] @ weights["w_b"] @ weights["w_big"] @ weights["w_c"]
    np.testing.assert_allclose(outs["y"], want, rtol=1e-4, atol=1e-4)
    est = estimate(prog)
    assert rep["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)
    assert rep["energy_j"] == pytest.approx(est["energy_j"], rel=0.02)


def test_stage_one_streams_only_what_does_not_fit(tmp_path) -> None:
    """Stage one's layout of a split that puts every matrix on an SRAM tier which may reprogram is the
    lowering's: by the layout rule only the big matrix streams; compiled with that split, the emulator
    charges what stage one predicted, writes included."""
    from h3pc.frontend.importer import import_model
    from h3pc.transforms.stage1.cpsat import SolverOptions
    from h3pc.transforms.stage1.mappings import SearchOptions
    from h3pc.transforms.stage1.partition import StageOneOptions
    from h3pc.transforms.stage1.problem import build_problem
    import json

    weights = _chain_weights()
    path = _chain(tmp_path / "chain.onnx", weights)
    # SRAM crossbars hold 16 8-bit weights per row: the matrices need 8, 4, 16 and 8 crossbars; the
    # tier has 32, the streaming region 8
    hw = _machine(tiles=8, crossbars_per_tile=4, stream_tiles=2, tier="sram_pim", allow_reprogramming=True)
    imported = import_model(path, {})
    problem = build_problem(imported.module, imported.weights, hw)
    everything = [{"sram_pim": layer.chunks} for layer in problem.layers]
    streams = problem.fit(everything)
    assert streams is not None and [bool(s) for s in streams] == [False, False, True, False]
    wear = problem.wear(everything, streams)["sram_pim"]
    assert wear["cells_written"] == weights["w_big"].size * 8 and wear["worst_crossbar_writes"] == 2
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"format": "h3pc-placement", "layers": [
        {"node": layer.node, "split": {"sram_pim": layer.rows}} for layer in problem.layers]}))
    quick = SolverOptions(time_limit_s=1.0, workers=1, seed=0, progress=False)
    c = compile_model(path, "hybrid", hw=hw, stage1=StageOneOptions(placement_in=str(pins),
                                                                     search=SearchOptions(solver=quick)))
    p = c.stage1.chosen  # the solver may choose to stream other parts instead (as many cells, fewer pieces)
    assert any(p.streams) and problem.fits(p.chunks, p.streams)
    chosen = c.stage1.problem.wear(p.chunks, p.streams)["sram_pim"]
    x = np.random.default_rng(1).standard_normal((1, 64)).astype(np.float32)
    _, rep, _ = Emulator(c.program, ideal=True).run({"x": x})
    assert rep["per_inference_writes"]["sram_pim"] == chosen["cells_written"] > 0
    assert rep["worst_crossbar_writes"]["sram_pim"] == chosen["worst_crossbar_writes"]
    assert rep["latency_s"] == pytest.approx(p.latency_s, rel=0.02)
    assert rep["energy_j"] == pytest.approx(p.energy_j, rel=0.02)


def test_reram_target_runs_dynamic_matmuls_on_the_host() -> None:
    """gpt2_tiny on `--target reram-pim`: every ReRAM pim.program holds constant weights; the attention
    products (both operands computed at run time) are digital, and nothing is written per inference."""
    c = compile_model(str(model_path("gpt2_tiny")), "reram-pim", codegen=False)
    ops = list(c.imported.module.walk())
    progs = [o for o in ops if isinstance(o, pim.ProgramOp)]
    assert progs and all(p.kind.kind.data == "reram" and is_static(p.weights) for p in progs)
    assert all(p.resident is not None for p in progs)
    dynamic = [o for o in ops if isinstance(o, digital.MatMulOp)]
    assert dynamic and not any(isinstance(o, nn.MatMulOp) for o in ops)
    rep = estimate(compile_model(str(model_path("gpt2_tiny")), "reram-pim").program)
    assert rep["per_inference_writes"]["reram_pim"] == 0
    assert rep["tiers"]["digital"]["busy_s"] > 0 and rep["tiers"]["photonic"]["busy_s"] == 0


def test_sram_target_still_programs_dynamic_operands() -> None:
    """The fixed SRAM target keeps its own rule: its cells may be rewritten per inference, so it runs
    the attention products itself, writing the operand before each use (charged per inference)."""
    c = compile_model(str(model_path("gpt2_tiny")), "sram-pim", codegen=False)
    progs = [o for o in c.imported.module.walk() if isinstance(o, pim.ProgramOp)]
    dynamic = [p for p in progs if not is_static(p.weights)]
    assert dynamic and all(p.streamed is not None and p.resident is None for p in dynamic)


def test_dynamic_operand_on_reram_is_refused_when_allocating(tmp_path) -> None:
    """Hand-written IR that programs a run-time value into ReRAM is an error, not a silent rewrite."""
    from xdsl.dialects.builtin import ModuleOp

    from h3pc.frontend.importer import import_model
    from h3pc.transforms.allocate_crossbars import allocate_module
    from h3pc.transforms.lower_tiers import lower_module
    from h3pc.transforms.place import set_split

    imported = import_model(str(model_path("gpt2_tiny")), {})
    module: ModuleOp = imported.module
    hw = load_hardware("h3pimap")
    from h3pc.workload import gemm_work

    for o in list(module.walk()):
        w = gemm_work(o)
        if w is not None:
            set_split(o, {"reram_pim": w.n})
    lower_module(module, hw)
    with pytest.raises(Exception, match="reram_pim cannot take dynamic operands"):
        allocate_module(module, hw)


# -- helpers -----------------------------------------------------------------------------------------

def _machine(tiles: int, crossbars_per_tile: int, stream_tiles: int, tier: str = "reram_pim", **extra):
    """h3pimap with one PIM tier resized."""
    d = load_hardware("h3pimap").to_dict()
    d[tier].update(tiles=tiles, crossbars_per_tile=crossbars_per_tile, stream_tiles=stream_tiles, **extra)
    return parse_hardware(d, "spills")


def _chain_weights() -> dict[str, np.ndarray]:
    """y = x @ A @ B @ BIG @ C: on ReRAM (32 weights per crossbar row) A, B and C take 4, 2 and 4
    crossbars, BIG 8."""
    rng = np.random.default_rng(7)
    shapes = {"w_a": (64, 128), "w_b": (128, 64), "w_big": (64, 256), "w_c": (256, 64)}
    return {k: (rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float32) for k, s in shapes.items()}


def _chain(path, weights: dict[str, np.ndarray]) -> str:
    names = list(weights)
    nodes, x = [], "x"
    for i, w in enumerate(names):
        out = "y" if i == len(names) - 1 else f"h{i}"
        nodes.append(helper.make_node("MatMul", [x, w], [out], name=f"mm_{w}"))
        x = out
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
                          [numpy_helper.from_array(w, k) for k, w in weights.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.save(model, str(path))
    return str(path)
