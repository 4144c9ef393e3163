"""A new tier is one module: a digital systolic array defined entirely here, without editing the package.

Everything a tier brings sits in this file: its block of the hardware description (`SystolicConfig`),
its instruction (`SMM`, a new opcode), its dialect op, its cost per part and per instruction, its
lowering and emission (`Systolic`), and its functional execution (`bind_smm`). Registered, it is a
tier like the built-in ones: stage one splits a dev model's layers onto it, the program carries its
stream, the emulator runs it, and the reports have its row. A fixture registers it for one test and
removes it again, so the other tests see the built-in machine only.
"""

from __future__ import annotations

import dataclasses

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, result_def

from conftest import MODELS, model_path
from h3pc.backends import container, isa
from h3pc.backends import tiers as registry
from h3pc.backends.program import from_container, to_container
from h3pc.backends.tier import ELEM_BYTES, Part, Shape, Spills, Tier, load, seq, store
from h3pc.compiler import compile_model
from h3pc.cost import PJ, Cost
from h3pc.hardware import schema
from h3pc.hardware.schema import NONNEG, POS, SIDE, load_hardware, num
from h3pc.runtime import tiers as executors
from h3pc.runtime.emulator import Emulator, estimate
from h3pc.transforms.stage1.cpsat import SolverOptions
from h3pc.transforms.stage1.mappings import SearchOptions
from h3pc.transforms.stage1.partition import StageOneOptions

NAME = "systolic"


@dataclass(frozen=True)
class SystolicConfig:
    """An output-stationary array of rows x cols multiply-accumulate cells (fp32, exact)."""

    rows: int = num(SIDE)
    cols: int = num(SIDE)
    freq_mhz: float = num()
    mac_energy_pj: float = num(NONNEG)
    static_power_mw: float = num(NONNEG)


def systolic_cycles(cfg: SystolicConfig, m: int, k: int, n: int) -> int:
    """Output tiles of rows x cols, each k accumulation cycles plus the array's fill and drain."""
    return math.ceil(m / cfg.rows) * math.ceil(n / cfg.cols) * (k + cfg.rows + cfg.cols - 2)


def systolic_gemm(cfg: SystolicConfig, g: int, m: int, k: int, n: int) -> Cost:
    t = g * systolic_cycles(cfg, m, k, n) / (cfg.freq_mhz * 1e6)
    return Cost(t, {"digital": g * m * k * n * cfg.mac_energy_pj * PJ})


@irdl_op_definition
class SystolicMatMulOp(IRDLOperation):
    """C[g, m, n] = A[g, m, k] @ B[g, k, n] on the systolic array."""

    name = "systolic.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)


SMM = isa.Spec(0x40, "SMM", "tier", ("a", "b", "out", "sym"), "grouped GEMM on the systolic array")


class Systolic(Tier):
    name = NAME
    target = "systolic"
    instructions = ("SMM",)

    def static_power_w(self, hw) -> float | None:
        return self.config(hw).static_power_mw * 1e-3

    def part_cost(self, hw, s: Shape, rows: int, streamed: bool, spills: Spills) -> Part:
        ld_a = load(hw, s.a_bytes, spills.a, self.name)
        ld_b = load(hw, s.g * s.k * rows * ELEM_BYTES, s.b_offchip if s.static else spills.b, self.name)
        compute = systolic_gemm(self.config(hw), s.g, s.m, s.k, rows)
        return seq([ld_a, ld_b, compute, store(hw, s.g * s.m * rows * ELEM_BYTES, spills.out, self.name)])

    def lower_part(self, e: Any, hw, a: SSAValue, b: SSAValue, lo: int, hi: int, g: int, elem: Any,
                   streamed: bool, bits: Mapping[str, int], weight_scale: Any = None) -> SSAValue:
        m = a.type.get_shape()[1]  # type: ignore[attr-defined]
        return e.op(SystolicMatMulOp, [a, e.columns(b, lo, hi)], (g, m, hi - lo), elem)

    def owns(self, op: Operation) -> bool:
        return isinstance(op, SystolicMatMulOp)

    def emit(self, cg: Any, op: Operation, sym: int) -> None:
        a, b = cg.load(self.name, op.operands[0], sym), cg.load(self.name, op.operands[1], sym)
        cg.emit(self.name, isa.make("SMM", a=a, b=b, out=len(cg.tensors), sym=sym))
        cg.store(self.name, op.results[0], sym)

    def charge(self, ch: Any, ins: Any) -> tuple[Cost, int]:
        a, b = ch.prog.tensors[ins.a].shape, ch.prog.tensors[ins.b].shape
        return systolic_gemm(self.config(ch.hw), a[0], a[1], a[2], b[2]), 0


def bind_smm(em: Any, tier: str, ins: Any, exact: bool):
    env, a, b, out = em.env, ins.a, ins.b, ins.out

    def run() -> None:
        env[out] = np.matmul(env[a], env[b])
    return run


@pytest.fixture
def systolic() -> Iterator[Systolic]:
    isa.register_instruction(SMM)
    tier = registry.register(Systolic(), SystolicConfig)
    executors.register("SMM", bind_smm)
    try:
        yield tier
    finally:
        executors.unregister("SMM")
        registry.unregister(NAME)
        schema.BLOCKS.pop(NAME)
        isa.unregister_instruction("SMM")


def machine(cfg: SystolicConfig | None = None):
    cfg = cfg or SystolicConfig(rows=16, cols=16, freq_mhz=5000.0, mac_energy_pj=0.05, static_power_mw=1.0)
    hw = load_hardware("h3pimap").with_tier(NAME, cfg)
    # its own link to the buffer, like the photonic tier's (a tier on the shared TSV starves), and a
    # narrow host, so that the small model's GEMMs are worth splitting onto the new tier
    memory = dataclasses.replace(hw.memory, links={**hw.memory.links, NAME: 256.0})
    hw = hw.with_tier("digital", dataclasses.replace(hw.digital, lanes=8))
    return dataclasses.replace(hw, memory=memory)


def reference(name: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    ref = np.load(MODELS / f"{name}.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    sess = ort.InferenceSession(str(model_path(name)))
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    return feeds, outs


def test_a_tier_defined_in_the_tests_runs_a_dev_model_split_by_stage_one(systolic: Systolic) -> None:
    hw = machine()
    opts = StageOneOptions(search=SearchOptions(solver=SolverOptions(time_limit_s=0.5, workers=1)))
    compiled = compile_model(str(model_path("mlp_digits")), "hybrid", hw, stage1=opts)
    chosen = compiled.stage1.chosen
    rows = [s for s in compiled.stage1.problem.rows(chosen.chunks)]
    assert any(s.get(NAME) for s in rows), f"stage one put no rows on the new tier: {rows}"
    assert any(len(s) > 1 and NAME in s for s in rows), f"no layer split between the new tier and another: {rows}"

    # through program.bin: the stream of the new tier is a section; the description carries its block
    prog = from_container(container.decode(container.encode(to_container(compiled.program))), "test")
    assert prog.hw.tier(NAME) == hw.tier(NAME)
    assert any(ins.op == "SMM" for ins in prog.streams[NAME])

    feeds, want = reference("mlp_digits")
    outs, rep, _ = Emulator(prog, ideal=True).run(feeds)
    for k, w in want.items():
        assert np.abs(outs[k] - w).max() <= 1e-4 * max(1.0, float(np.abs(w).max())), k
    est = estimate(prog)
    assert rep["latency_s"] == pytest.approx(est["latency_s"], rel=0.02)
    assert rep["latency_s"] == pytest.approx(chosen.latency_s, rel=0.02)  # stage one's promise
    assert rep["energy_j"] == pytest.approx(chosen.energy_j, rel=0.02)
    assert rep["tiers"][NAME]["compute_s"] > 0
    assert rep["static_energy"]["tiers"][NAME]["power_w"] == pytest.approx(1e-3)


def test_the_new_tier_is_a_target_and_leaves_the_built_in_machine_alone(systolic: Systolic) -> None:
    assert registry.targets()["systolic"] == NAME
    prog = compile_model(str(model_path("mlp_digits")), "systolic", machine()).program
    streams = {t: [i.op for i in s] for t, s in prog.streams.items()}
    assert "SMM" in streams[NAME]
    assert not any(op in ("PMM", "MVM", "GEMM") for s in streams.values() for op in s)
    feeds, want = reference("mlp_digits")
    outs, _, _ = Emulator(prog, ideal=True).run(feeds)
    assert all(np.allclose(outs[k], w, rtol=1e-4, atol=1e-4) for k, w in want.items())
    # a description without the block is a machine without the tier: no stream, no report row
    plain = compile_model(str(model_path("mlp_digits")), "hybrid", load_hardware("h3pimap"),
                          stage1=StageOneOptions(mapping="rule")).program
    assert NAME not in plain.streams and NAME not in estimate(plain)["tiers"]


def test_registering_checks_its_parts() -> None:
    with pytest.raises(Exception, match="not in the instruction table"):
        registry.register(Systolic())
    assert NAME not in registry.names()
