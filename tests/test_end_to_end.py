"""Every dev model, every target: compile to program.bin, emulate, compare with onnxruntime's outputs.

Also: the compiler's estimate equals the emulator's charges, row splits over all four tiers stay
exact, stacked samples, determinism, and the CLIs' files.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from conftest import DEV_MODELS, MODELS, model_path
from h3pc.backends import container
from h3pc.backends.codegen import generate
from h3pc.backends.program import from_container, to_container
from h3pc.compiler import compile_model
from h3pc.context import H3Context, make_context
from h3pc.diagnostics import H3pcError
from h3pc.frontend.importer import import_model
from h3pc.hardware.schema import load_hardware
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.backends import tiers
from h3pc.transforms.allocate_crossbars import AllocateCrossbars, is_static
from h3pc.transforms.lower_tiers import LowerTiers
from h3pc.transforms.place import Place, b_operand, set_split, split_of

ENGINES = tiers.engines()
TARGETS = tiers.targets()
TIERS = tiers.names()


def reference(name: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    ref = np.load(MODELS / f"{name}.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    outs = {k[4:]: ref[k] for k in ref.files if k.startswith("out/")}
    return feeds, outs


def max_rel_err(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> float:
    """max|diff| / max(1, max|ref|), the worst over outputs."""
    worst = 0.0
    for k, w in want.items():
        g = got[k]
        assert g.shape == w.shape, k
        worst = max(worst, float(np.abs(g.astype(np.float64) - w).max()) / max(1.0, float(np.abs(w).max())))
    return worst


def through_binary(program):
    return from_container(container.decode(container.encode(to_container(program))), "test")


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("name", DEV_MODELS)
def test_model_runs_end_to_end(name: str, target: str) -> None:
    feeds, want = reference(name)
    prog = through_binary(compile_model(str(model_path(name)), target).program)
    outs, rep, _ = Emulator(prog, ideal=True).run(feeds)
    assert max_rel_err(outs, want) <= 1e-4
    est = estimate(prog)
    assert rep["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)
    assert rep["energy_j"] == pytest.approx(est["energy_j"], rel=0.02)
    assert est["latency_s"] > 0 and est["energy_j"] > 0
    q_outs, q_rep, _ = Emulator(prog).run(feeds)  # quantised: completes, finite, same cost
    assert all(np.isfinite(v).all() for v in q_outs.values() if v.dtype.kind == "f")
    assert q_rep["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)


def test_rule_mapping_uses_pim_for_weights_and_photonics_for_attention() -> None:
    from h3pc.transforms.stage1.partition import StageOneOptions

    rule = StageOneOptions(mapping="rule")
    rep = estimate(compile_model(str(model_path("gpt2_tiny")), "hybrid", stage1=rule).program)
    assert rep["tiers"]["sram_pim"]["busy_s"] > 0
    assert rep["tiers"]["photonic"]["busy_s"] > 0  # Q.K^T and P.V have two dynamic operands
    assert rep["program_load"]["writes"]["sram_pim"] > 0
    assert rep["per_inference_writes"]["reram_pim"] == 0  # no ReRAM rewrites at run time


def test_homogeneous_reram_runs_dynamic_operands_on_the_host() -> None:
    """ReRAM never takes a dynamic operand: on `--target reram-pim` the attention products run on the
    digital tier and nothing is rewritten per inference (tests/test_spills.py has the wear of a spill)."""
    rep = estimate(compile_model(str(model_path("gpt2_tiny")), "reram-pim").program)
    assert rep["per_inference_writes"]["reram_pim"] == 0 and rep["worst_crossbar_writes"]["reram_pim"] == 0
    assert rep["inferences_to_wear_out"]["reram_pim"] is None  # no writes per inference
    assert rep["inferences_to_wear_out"]["sram_pim"] is None  # SRAM endurance is not modelled
    assert rep["tiers"]["photonic"]["busy_s"] == 0 and rep["tiers"]["digital"]["busy_s"] > 0


def test_embedding_lookup_fetches_rows_not_the_table() -> None:
    """gpt2_tiny's token embedding: no LD of the table; its Gather pays for the gathered rows only."""
    from h3pc.charges import Charges
    from h3pc.cost import offchip_transfer

    prog = compile_model(str(model_path("gpt2_tiny")), "hybrid").program
    kernels = Emulator(prog, ideal=True).kernels
    vops = [i for i in prog.streams["digital"]
            if i.op == "VOP" and kernels.ops[i.kernel].name == "nn.gather"
            and prog.tensors[i.ins[0]].role == "const"]
    assert vops
    loaded = {i.tensor for s in prog.streams.values() for i in s if i.op == "LD"}
    charges = Charges.build(prog)
    for ins in vops:
        table, rows = prog.tensors[ins.ins[0]], prog.tensors[ins.outs[0]]
        assert ins.ins[0] not in loaded and rows.nbytes < table.nbytes
        fetch = offchip_transfer(prog.hw, rows.nbytes)
        assert charges.of("digital", ins).latency_s == pytest.approx(
            fetch.latency_s + charges.kernel_costs[ins.kernel].latency_s)


def test_a_hardware_object_compiles_as_its_file(tmp_path) -> None:
    """compile_model takes a HardwareConfig built in memory (no file) and gives the program its YAML
    file gives, byte for byte."""
    import yaml

    hw = load_hardware("h3pimap")
    small = dataclasses.replace(hw, memory=dataclasses.replace(hw.memory, prefetch_depth=0))
    path = tmp_path / "hw.yaml"
    path.write_text(yaml.safe_dump(small.to_dict()))
    model = str(model_path("cnn_digits"))
    from_object = compile_model(model, "sram-pim", hw=small).program
    from_file = compile_model(model, "sram-pim", hw=str(path)).program
    assert from_object.hw.memory.prefetch_depth == 0 and not from_object.streams.get("dma")
    assert container.encode(to_container(from_object)) == container.encode(to_container(from_file))


def test_passes_read_the_hardware_from_the_context() -> None:
    """A pass compiles for its context's description; its `hw` option only names one for a context
    without it (the stock xdsl-opt)."""
    module = import_model(model_path("mlp_digits")).module
    ctx = make_context(load_hardware("h3pimap"))
    assert isinstance(ctx, H3Context) and isinstance(ctx.clone(), H3Context) and ctx.clone().hardware is ctx.hardware
    Place(hw="no-such-preset", target="photonic").apply(ctx, module)  # the option is never read
    assert any(split_of(op) == {"photonic": sum(split_of(op).values())} for op in module.walk() if split_of(op))
    with pytest.raises(H3pcError, match="no-such-preset"):
        Place(hw="no-such-preset", target="photonic").apply(make_context(), import_model(model_path("mlp_digits")).module)


@pytest.mark.parametrize("name", ["cnn_digits", "gpt2_tiny", "mobilenet_v2"])
def test_row_split_over_all_tiers_is_exact(name: str) -> None:
    """Cut every GEMM's rows over the four tiers (a dynamic-operand GEMM over those that take dynamic
    operands: not ReRAM): the joined result must not change."""
    hw = load_hardware("h3pimap")
    imported = import_model(model_path(name))
    ctx = make_context()
    Place(target="hybrid").apply(ctx, imported.module)
    for op in imported.module.walk():
        split = split_of(op)
        if split:
            n = sum(split.values())
            b = b_operand(op)
            over = [t for t in TIERS if (b is not None and is_static(b)) or tiers.get(t).takes_dynamic_operands]
            cuts = [n * i // len(over) for i in range(len(over) + 1)]
            set_split(op, {t: cuts[i + 1] - cuts[i] for i, t in enumerate(over)})
    LowerTiers().apply(ctx, imported.module)
    AllocateCrossbars().apply(ctx, imported.module)
    imported.module.verify()
    prog = through_binary(generate(imported.module, imported.weights, hw))
    feeds, want = reference(name)
    outs, rep, _ = Emulator(prog, ideal=True).run(feeds)
    assert max_rel_err(outs, want) <= 1e-4
    assert all(rep["tiers"][t]["busy_s"] > 0 for t in TIERS)
    assert any(len(layer["tiers"]) >= 3 for layer in rep["layers"])


def test_stacked_samples_and_determinism() -> None:
    path = str(model_path("cnn_digits"))
    a = container.encode(to_container(compile_model(path, "hybrid").program))
    b = container.encode(to_container(compile_model(path, "hybrid").program))
    assert a == b
    prog = from_container(container.decode(a), "t")
    feeds, _ = reference("cnn_digits")
    x = next(iter(feeds.values()))
    rng = np.random.default_rng(0)
    stack = np.stack([x, x + rng.normal(0, 0.1, x.shape).astype(x.dtype), x * 0.5])
    name = next(iter(feeds))
    emu = Emulator(prog, noise=False)
    outs, rep, _ = emu.run({name: stack})
    assert rep["samples"] == 3
    for i in range(3):
        single, _, _ = Emulator(prog, noise=False).run({name: stack[i]})
        for k, v in single.items():
            np.testing.assert_array_equal(outs[k][i], v)
    # with noise, sample s draws from (seed, s): the first stacked sample is a single run of it
    noisy, _, _ = Emulator(prog, seed=3).run({name: stack})
    single, _, _ = Emulator(prog, seed=3).run({name: stack[0]})
    for k, v in single.items():
        np.testing.assert_array_equal(noisy[k][0], v)


def test_cli_compile_run_objdump(tmp_path, capsys) -> None:
    from h3pc.cli import main as h3pc
    from h3pc.objdump import main as objdump
    from h3pc.run import main as run

    prog, rep = tmp_path / "p.bin", tmp_path / "est.json"
    assert h3pc([str(model_path("gpt2_tiny")), "-o", str(prog), "--target", "hybrid", "--mapping", "rule",
                 "--report", str(rep)]) == 0
    assert "latency" in capsys.readouterr().out
    y, rrep, trace = tmp_path / "y.npz", tmp_path / "run.json", tmp_path / "t.json"
    assert run([str(prog), "--inputs", str(MODELS / "gpt2_tiny.npz"), "--outputs", str(y), "--report", str(rrep),
                "--trace", str(trace), "--ideal"]) == 0
    _, want = reference("gpt2_tiny")
    got = dict(np.load(y))
    assert max_rel_err(got, want) <= 1e-4
    est, emu = json.loads(rep.read_text()), json.loads(rrep.read_text())
    for key in ("latency_s", "energy_j", "program_load", "tiers", "layers"):
        assert key in est and key in emu
    assert set(emu["tiers"]) == set(ENGINES) and set(est["tiers"]) == set(ENGINES)  # the trace's tracks
    assert all({"busy_s", "compute_s", "load_s", "store_s", "utilisation", "energy_j", "static_energy_j"} <= set(v)
               for v in emu["tiers"].values())
    assert emu["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)
    assert all(row["node"] and row["tiers"] for row in emu["layers"])
    tr = json.loads(trace.read_text())
    tracks = {e["args"]["name"] for e in tr["traceEvents"] if e.get("name") == "thread_name"}
    assert tracks == set(ENGINES)  # the same names as the report's rows
    assert emu["buffer_plan"]["peak_bytes"] <= emu["buffer_plan"]["capacity_bytes"]
    assert emu["buffer_plan"] == est["buffer_plan"]
    assert any(e.get("ph") == "X" and e.get("args", {}).get("node") for e in tr["traceEvents"])
    capsys.readouterr()
    assert objdump([str(prog)]) == 0
    text = capsys.readouterr().out
    for section in ("stream.photonic", "stream.sram_pim", "stream.dma", "weights", "hardware", "signature", "symbols", "kernels"):
        assert section in text
    assert "PMM" in text and "MVM" in text and "; " in text


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32"])
@pytest.mark.parametrize("target", ["photonic", "sram-pim"])
def test_products_of_other_element_types_run_on_analog_tiers(tmp_path, dtype: str, target: str) -> None:
    """A product's table dtype is the model's; the analog tiers compute in float32 whatever it is (the
    program verifier once refused these valid programs)."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    rng = np.random.default_rng(3)
    w = rng.integers(-3, 4, (8, 6)).astype(dtype)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("MatMul", ["x", "b"], ["z"])],
                          "g", [helper.make_tensor_value_info("x", elem, [4, 8]), helper.make_tensor_value_info("b", elem, [8, 6])],
                          [helper.make_tensor_value_info("y", elem, [4, 6]), helper.make_tensor_value_info("z", elem, [4, 6])],
                          [numpy_helper.from_array(w, "w")])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), str(path))
    feeds = {"x": rng.integers(-3, 4, (4, 8)).astype(dtype), "b": rng.integers(-3, 4, (8, 6)).astype(dtype)}
    want = dict(zip(["y", "z"], ort.InferenceSession(str(path)).run(None, feeds)))
    prog = from_container(container.decode(container.encode(to_container(compile_model(str(path), target).program))),
                          "test")
    got = Emulator(prog, ideal=True).run(feeds)[0]
    assert max_rel_err(got, want) <= 1e-4
