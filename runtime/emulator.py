"""The emulator: executes program.bin's streams with numpy, one call per macro-instruction.

Tiers run in the discrete-event loop of runtime/schedule.py and every instruction is charged through
h3pc/charges.py, the same functions the compiler's estimate uses. `ideal` computes exact fp32; the
default applies each tier's number formats (runtime/quantize.py): photonic DAC/ADC bits, PIM input,
weight and ADC bits, and each analog tier's noise (runtime/noise.py), seeded; `noise=False` keeps
the quantisation only. The digital tier is fp32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from h3pc import progress
from h3pc.backends.isa import TENSOR_FIELDS, Instr, tensors_of
from h3pc.backends.program import Program, check_constants
from h3pc.charges import Charges
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime import noise
from h3pc.runtime import report as reports
from h3pc.runtime.report import node_of
from h3pc.runtime.kernels import Kernels
from h3pc.runtime.reference import Windows, prop
from h3pc.runtime.quantize import adc_step, crossbar_matmul, fake_quantize, quantize
from h3pc.runtime.schedule import Event, program_load, simulate
from h3pc.runtime.verify import check_order, check_program
from h3pc.tiers import pim_tier


def _as3(x: np.ndarray, groups: int) -> np.ndarray:
    return x.reshape(groups, -1, x.shape[-1])


#: a product's tensor fields other than its left operand (`a`, or `x` on PIM)
_BESIDES_LEFT = TENSOR_FIELDS - {"a", "x"}

class Emulator:
    """Runs a program: the tiers' schedule is fixed by the program (costs do not depend on data), so
    the discrete-event loop runs once, here, and every inference replays its events in the order
    they ran, each as one pre-bound numpy call."""

    def __init__(self, prog: Program, hw: HardwareConfig | None = None, ideal: bool = False, where: str = "program",
                 seed: int = 0, noise: bool = True, exact: set[str] | None = None) -> None:
        self.prog = prog
        self.noise = noise
        self.exact = exact or set()  # ONNX nodes whose tier instructions run exactly (stage two's probes)
        self.hw = hw or prog.hw
        self.ideal = ideal
        self.noisy = noise and not ideal
        self.seed = seed
        self.where = where
        # one generator per run (reseeded in `run`); program load draws from its own
        self._rng = [np.random.default_rng([seed, 0])]
        with progress.task(f"load {where} into the emulator (checks, schedule, crossbar writes)"):
            self.kernels = Kernels.of(prog, where)
            check_program(prog, self.kernels, where)
            check_constants(prog, where)
            self.charges = Charges.build(prog, self.hw, self.kernels)
            self.env: list[Any] = [None] * len(prog.tensors)
            for t, arr in prog.consts.items():
                self.env[t] = arr
            self.crossbars: dict[tuple[str, int], tuple[np.ndarray, Any]] = {}
            self._bind_op = {"PMM": self._pmm, "PROG": self._prog, "MVM": self._mvm, "GEMM": self._gemm,
                             "VOP": self._vop}
            self._lazy = self._lazy_windows()
            self._streamed = {(t, i.base) for t, st in prog.streams.items() for i in st
                              if i.op == "PROG" and not i.resident}
            self.makespan, self.events = simulate(prog.streams, self.charges.of)
            check_order(prog, self.events, where)
            self.load_cost, self.load_writes = program_load(prog.streams, self.charges.with_writes, self._exec)
            self._plan = [fn for ev in self.events if (fn := self._bind(ev.tier, ev.ins)) is not None]
        self._report: dict[str, Any] | None = None

    # -- I/O ----------------------------------------------------------------------------------
    def check_inputs(self, feeds: Mapping[str, np.ndarray]) -> int:
        """Validate names, dtypes and shapes; returns the sample count (1, or the extra leading axis)."""
        want = {i["name"]: self.prog.tensors[i["tensor"]] for i in self.prog.inputs}
        missing = sorted(set(want) - set(feeds))
        extra = sorted(set(feeds) - set(want))
        if missing:
            raise H3pcError(f"missing input '{missing[0]}' (the program takes {', '.join(want)})")
        if extra:
            raise H3pcError(f"unknown input '{extra[0]}' (the program takes {', '.join(want)})")
        samples = set()
        for name, t in want.items():
            arr = feeds[name]
            if arr.dtype != np.dtype(t.dtype):
                raise H3pcError(f"input '{name}' has dtype {arr.dtype}, expected {t.dtype}")
            if arr.shape == t.shape:
                samples.add(0)
            elif arr.shape[1:] == t.shape:
                if arr.shape[0] == 0:  # 0 would read as "not stacked"
                    raise H3pcError(f"input '{name}' has no samples (shape {list(arr.shape)})")
                samples.add(arr.shape[0])
            else:
                raise H3pcError(f"input '{name}' has shape {list(arr.shape)}, expected {list(t.shape)} "
                                f"(or [S, {', '.join(map(str, t.shape))}] for S samples)")
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                raise H3pcError(f"input '{name}' contains NaN or Inf")
        if len(samples) > 1:
            raise H3pcError("inputs disagree on the number of samples (extra leading axis)")
        return samples.pop() if samples else 0

    def run(self, feeds: Mapping[str, np.ndarray], label: str | None = None
            ) -> tuple[dict[str, np.ndarray], dict[str, Any], list[Event]]:
        """Outputs (stacked when the inputs were), the report of one inference and its events. A run
        taking long shows progress per sample (`label`, default: the mode and the program)."""
        stacked = self.check_inputs(feeds)
        outs: list[dict[str, np.ndarray]] = []
        env = self.env
        mode = "ideal" if self.ideal else "noisy" if self.noisy else "quantized"
        label = label or f"emulate {self.where} ({mode})"
        with np.errstate(all="ignore"), progress.task(label, max(stacked, 1), "sample") as task:
            for s in range(max(stacked, 1)):
                if self.noisy:  # sample s: its own noise, from the seed
                    self._rng[0] = np.random.default_rng([self.seed, 1, s])
                for i in self.prog.inputs:
                    arr = feeds[i["name"]]
                    env[i["tensor"]] = arr[s] if stacked else arr
                for fn in self._plan:
                    fn()
                outs.append({o["name"]: np.array(env[o["tensor"]]) for o in self.prog.outputs})
                task.advance()
        result = {k: (np.stack([o[k] for o in outs]) if stacked else outs[0][k]) for k in outs[0]}
        if self._report is None:
            self._report = reports.build(self.prog, self.makespan, self.events, self.load_cost,
                                         self.load_writes, "emulator")
        rep = dict(self._report)
        rep["samples"] = max(stacked, 1)
        rep["mode"] = mode
        if self.noisy:
            rep["seed"] = self.seed
        return result, rep, self.events

    # -- instructions: each binds one instruction's operands into a no-argument call -------------
    def _bind(self, tier: str, ins: Instr) -> Callable[[], None] | None:
        make = self._bind_op.get(ins.op)
        if make is None:
            return None
        if ins.op in ("PMM", "PROG", "MVM"):
            exact = self.ideal or node_of(self.prog, ins) in self.exact
            return make(tier, ins, exact)
        return make(tier, ins)

    def _exec(self, tier: str, ins: Instr) -> None:
        fn = self._bind(tier, ins)
        if fn is not None:
            fn()

    def _lazy_windows(self) -> set[int]:
        """im2col results whose only use is as the left operand of a product: in --ideal mode these
        stay as their source (reference.Windows) and the product runs on it directly."""
        if not self.ideal:
            return set()
        im2col = {k for k, op in enumerate(self.kernels.ops) if op.name == "digital.im2col"}
        produced, other_use = set(), {o["tensor"] for o in self.prog.outputs}
        for stream in self.prog.streams.values():
            for ins in stream:
                if ins.op == "VOP" and ins.kernel in im2col:
                    produced.update(ins.outs)
                    other_use.update(ins.ins)
                elif ins.op in ("PMM", "GEMM", "MVM"):
                    other_use.update(tensors_of(ins, _BESIDES_LEFT))
                elif ins.op not in ("LD", "ST", "SIGNAL", "WAIT"):
                    other_use.update(tensors_of(ins))
        return produced - other_use

    def _pmm(self, tier: str, ins: Any, ideal: bool) -> Callable[[], None]:
        a, b, out, in_bits, w_bits, out_bits = ins.a, ins.b, ins.out, ins.in_bits, ins.w_bits, ins.out_bits
        env = self.env
        if ideal:
            def run() -> None:
                env[out] = _product(env[a], env[b])
        elif not self.noise:
            def run() -> None:
                x, w = np.asarray(env[a]), env[b]
                y = fake_quantize(np.matmul(fake_quantize(x, in_bits), fake_quantize(w, w_bits)), out_bits)
                env[out] = y.astype(np.float32, copy=False)
        else:
            p, box = self.hw.photonic, self._rng

            def run() -> None:
                rng = box[0]
                x = noise.photonic_operand(fake_quantize(np.asarray(env[a]), in_bits), p, rng)
                w = noise.photonic_operand(fake_quantize(np.asarray(env[b]), w_bits), p, rng)
                y = noise.photonic_output(np.matmul(noise.photonic_input_phase(x, p, rng), w), p, rng)
                env[out] = fake_quantize(y, out_bits).astype(np.float32, copy=False)
        return run

    def _prog(self, tier: str, ins: Any, ideal: bool) -> Callable[[], None]:
        w, base, weight_bits = ins.w, ins.base, ins.weight_bits
        env, crossbars, noisy, box = self.env, self.crossbars, self.noise and not ideal, self._rng
        t = pim_tier(self.hw, tier)

        def run() -> None:
            mat = np.asarray(env[w], dtype=np.float32)
            mat3 = mat.reshape((1,) + mat.shape) if mat.ndim == 2 else mat
            if ideal:  # a contiguous copy, as the crossbar holds its own cells: BLAS reads it fastest
                crossbars[(tier, base)] = (np.ascontiguousarray(mat3), None, None)
                return
            # per output column scales, as each column's weights are sliced into its own cells
            codes, scale = quantize(mat3, weight_bits, axis=1)
            var = None
            if noisy:
                var = noise.read_variance(codes, t) if t.read_noise else None
                codes = noise.program(codes, t, box[0])
            crossbars[(tier, base)] = (codes, scale, var)
        return run

    def _mvm(self, tier: str, ins: Any, ideal: bool) -> Callable[[], None]:
        x, out, base, input_bits, adc_bits = ins.x, ins.out, ins.base, ins.input_bits, ins.adc_bits
        env, crossbars = self.env, self.crossbars
        shape = self.prog.tensors[out].shape
        t = pim_tier(self.hw, tier)

        def weights() -> tuple[np.ndarray, Any]:
            try:
                return crossbars[(tier, base)]
            except KeyError:
                raise H3pcError(f"stream.{tier}: MVM reads crossbars at {base} that were never programmed") from None

        if ideal:
            # programmed at load and never rewritten: bind the matrix itself
            resident = None if (tier, base) in self._streamed else crossbars.get((tier, base))

            def run() -> None:
                mat = resident[0] if resident is not None else weights()[0]
                xv = env[x]
                if not isinstance(xv, Windows):
                    xv = xv.reshape(mat.shape[0], -1, xv.shape[-1])
                env[out] = _product(xv, mat).reshape(shape)
        else:
            box = self._rng

            def run() -> None:
                mat, scale, var = weights()
                xin = _as3(np.asarray(env[x], dtype=np.float32), mat.shape[0])
                xc, xs = quantize(xin, input_bits)
                step = adc_step(min(t.crossbar_rows, mat.shape[1]), t.cell_bits, adc_bits)
                read = None
                if var is not None:  # thermal + shot noise on every bit-serial read of the cells
                    std = noise.partial_sum_std(xc, var, t.crossbar_rows, input_bits)
                    read = std * box[0].standard_normal(std.shape, dtype=np.float32)
                y = crossbar_matmul(xc, mat, t.crossbar_rows, step, read) * (xs * scale)
                env[out] = y.reshape(shape).astype(np.float32, copy=False)
        return run

    def _gemm(self, tier: str, ins: Any) -> Callable[[], None]:
        a, b, out = ins.a, ins.b, ins.out
        env = self.env

        def run() -> None:
            env[out] = _product(env[a], env[b], cast=False)
        return run

    def _vop(self, tier: str, vop: Any) -> Callable[[], None]:
        k, ins, outs = vop.kernel, vop.ins, vop.outs
        env = self.env
        if len(outs) == 1 and outs[0] in self._lazy:
            op = self.kernels.ops[k]
            params = tuple(prop(op, n) for n in ("kernel", "strides", "pads", "dilations", "group"))
            (i,), (o,) = ins, outs

            def lazy() -> None:
                env[o] = Windows(env[i], *params)
            return lazy
        fn = self.kernels.compiled[k]
        if len(ins) == 1 and len(outs) == 1:
            (i,), (o,) = ins, outs

            def unary() -> None:
                env[o] = fn(env[i])[0]
            return unary

        def run() -> None:
            for o, v in zip(outs, fn(*[env[i] for i in ins])):
                env[o] = v
        return run


def _product(a: Any, b: np.ndarray, cast: bool = True) -> np.ndarray:
    """An exact grouped product a[g, m, k] @ b[g, k, n] (a may be lazy im2col windows); the analog
    tiers deliver float32."""
    y = a.matmul(b) if isinstance(a, Windows) else np.matmul(a, b)
    return y.astype(np.float32, copy=False) if cast else y


def estimate(prog: Program) -> dict[str, Any]:
    """The compiler's cost report: the same schedule and charges, without numerics."""
    charges = Charges.build(prog)
    load, writes = program_load(prog.streams, charges.with_writes)
    makespan, events = simulate(prog.streams, charges.of)
    return reports.build(prog, makespan, events, load, writes, "compiler")
