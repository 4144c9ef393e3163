"""The emulator: executes program.bin's streams with numpy, one call per macro-instruction.

Tiers run in the discrete-event loop of runtime/schedule.py and every instruction is charged through
h3pc/charges.py, the same functions the compiler's estimate uses. `ideal` computes exact fp32; the
default applies each tier's number formats (runtime/quantize.py): photonic DAC/ADC bits, PIM input,
weight and ADC bits. The digital tier is fp32.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from h3pc.backends.isa import Instr
from h3pc.backends.program import Program
from h3pc.charges import Charges
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime import report as reports
from h3pc.runtime.kernels import Kernels
from h3pc.runtime.quantize import adc_step, crossbar_matmul, fake_quantize, quantize
from h3pc.runtime.schedule import Event, program_load, simulate
from h3pc.tiers import pim_tier


def _as3(x: np.ndarray, groups: int) -> np.ndarray:
    return x.reshape(groups, -1, x.shape[-1])


class Emulator:
    def __init__(self, prog: Program, hw: HardwareConfig | None = None, ideal: bool = False, where: str = "program") -> None:
        self.prog = prog
        self.hw = hw or prog.hw
        self.ideal = ideal
        self.kernels = Kernels.of(prog, where)
        self.charges = Charges.build(prog, self.hw, self.kernels)
        self.env: list[Any] = [None] * len(prog.tensors)
        for t, arr in prog.consts.items():
            self.env[t] = arr
        self.crossbars: dict[tuple[str, int], tuple[np.ndarray, Any]] = {}
        self._dispatch = {"PMM": self._pmm, "PROG": self._prog, "MVM": self._mvm, "GEMM": self._gemm,
                          "VOP": self._vop}
        self.load_cost, self.load_writes = program_load(prog.streams, self.charges.with_writes, self._exec)

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
                samples.add(arr.shape[0])
            else:
                raise H3pcError(f"input '{name}' has shape {list(arr.shape)}, expected {list(t.shape)} "
                                f"(or [S, {', '.join(map(str, t.shape))}] for S samples)")
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                raise H3pcError(f"input '{name}' contains NaN or Inf")
        if len(samples) > 1:
            raise H3pcError("inputs disagree on the number of samples (extra leading axis)")
        return samples.pop() if samples else 0

    def run(self, feeds: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, Any], list[Event]]:
        """Outputs (stacked when the inputs were), the report of one inference and its events."""
        stacked = self.check_inputs(feeds)
        outs: list[dict[str, np.ndarray]] = []
        events: list[Event] = []
        makespan = 0.0
        for s in range(max(stacked, 1)):
            for i in self.prog.inputs:
                arr = feeds[i["name"]]
                self.env[i["tensor"]] = arr[s] if stacked else arr
            makespan, ev = simulate(self.prog.streams, self.charges.of, self._exec, record=s == 0)
            if s == 0:
                events = ev
            outs.append({o["name"]: np.array(self.env[o["tensor"]]) for o in self.prog.outputs})
        result = {k: (np.stack([o[k] for o in outs]) if stacked else outs[0][k]) for k in outs[0]}
        rep = reports.build(self.prog, makespan, events, self.load_cost, self.load_writes, "emulator")
        rep["samples"] = max(stacked, 1)
        rep["mode"] = "ideal" if self.ideal else "quantized"
        return result, rep, events

    # -- instructions -------------------------------------------------------------------------
    def _exec(self, tier: str, ins: Instr) -> None:
        fn = self._dispatch.get(ins.op)
        if fn is not None:
            fn(tier, ins.args)

    def _pmm(self, tier: str, args: tuple) -> None:
        a, b, out, in_bits, w_bits, out_bits, _ = args
        x, w = self.env[a], self.env[b]
        if self.ideal:
            y = np.matmul(x, w)
        else:
            y = fake_quantize(np.matmul(fake_quantize(x, in_bits), fake_quantize(w, w_bits)), out_bits)
        self.env[out] = y.astype(np.float32, copy=False)

    def _prog(self, tier: str, args: tuple) -> None:
        w, base, _resident, weight_bits, _cell_bits, _ = args
        mat = np.asarray(self.env[w], dtype=np.float32)
        mat3 = mat.reshape((1,) + mat.shape) if mat.ndim == 2 else mat
        if self.ideal:
            self.crossbars[(tier, base)] = (mat3, None)
        else:  # per output column scales, as each column's weights are sliced into its own cells
            codes, scale = quantize(mat3, weight_bits, axis=1)
            self.crossbars[(tier, base)] = (codes, scale)

    def _mvm(self, tier: str, args: tuple) -> None:
        x, _w, out, base, input_bits, adc_bits, _ = args
        try:
            mat, scale = self.crossbars[(tier, base)]
        except KeyError:
            raise H3pcError(f"stream.{tier}: MVM reads crossbars at {base} that were never programmed") from None
        xin = _as3(np.asarray(self.env[x], dtype=np.float32), mat.shape[0])
        shape = self.prog.tensors[out].shape
        if self.ideal:
            y = np.matmul(xin, mat)
        else:
            t = pim_tier(self.hw, tier)
            xc, xs = quantize(xin, input_bits)
            step = adc_step(min(t.crossbar_rows, mat.shape[1]), t.cell_bits, adc_bits)
            y = crossbar_matmul(xc, mat, t.crossbar_rows, step) * (xs * scale)
        self.env[out] = y.reshape(shape).astype(np.float32, copy=False)

    def _gemm(self, tier: str, args: tuple) -> None:
        a, b, out, _ = args
        self.env[out] = np.matmul(self.env[a], self.env[b])

    def _vop(self, tier: str, args: tuple) -> None:
        k, ins, outs, _ = args
        results = self.kernels.compiled[k](*[self.env[i] for i in ins])
        for o, v in zip(outs, results):
            self.env[o] = v


def estimate(prog: Program) -> dict[str, Any]:
    """The compiler's cost report: the same schedule and charges, without numerics."""
    charges = Charges.build(prog)
    load, writes = program_load(prog.streams, charges.with_writes)
    makespan, events = simulate(prog.streams, charges.of)
    return reports.build(prog, makespan, events, load, writes, "compiler")
