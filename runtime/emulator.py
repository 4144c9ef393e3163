"""The emulator: executes program.bin's streams with numpy, one call per macro-instruction.

Tiers run in the discrete-event loop of runtime/schedule.py and every instruction is charged through
h3pc/charges.py, the same functions the compiler's estimate uses. `ideal` computes exact fp32; the
default applies each tier's number formats (runtime/quantize.py): photonic DAC/ADC bits, PIM input,
weight and ADC bits, and each analog tier's noise (runtime/photonic.py, runtime/pim.py), seeded; `noise=False` keeps
the quantisation only. The digital tier is fp32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from h3pc import progress
from h3pc.backends.isa import PROGRAMS, Instr
from h3pc.backends.program import Program, check_constants
from h3pc.charges import Charges
from h3pc.cost import Cost
from h3pc.diagnostics import H3pcError
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime import report as reports
from h3pc.runtime import tiers
from h3pc.runtime.kernels import Kernels
from h3pc.runtime.report import node_of
from h3pc.runtime.schedule import Event, program_load, simulate
from h3pc.runtime.verify import check_order, check_program


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
        self.rng = [np.random.default_rng([seed, 0])]
        with progress.task(f"load {where} into the emulator (checks, schedule, crossbar writes)"):
            self.kernels = Kernels.of(prog, where)
            check_program(prog, self.kernels, where)
            check_constants(prog, where)
            self.charges = Charges.build(prog, self.hw, self.kernels)
            self.env: list[Any] = [None] * len(prog.tensors)
            for t, arr in prog.consts.items():
                self.env[t] = arr
            self.crossbars: dict[tuple[str, int], tuple[np.ndarray, Any]] = {}
            self.lazy = tiers.lazy_windows(prog, self.kernels) if ideal else set()
            #: crossbars written before every use (not bound at load in exact runs)
            self.streamed = {(t, i.base) for t, st in prog.streams.items() for i in st
                             if i.op in PROGRAMS and not i.resident}
            self.makespan, self.events = simulate(prog.streams, self.charges.of, links=self.charges.links)
            check_order(prog, self.events, where)
            self.load_cost, self.load_writes = program_load(prog.streams, self.charges.with_writes, self._exec)
            self.load_cost = Cost.parallel([self.load_cost, self.charges.preload()])
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
                    self.rng[0] = np.random.default_rng([self.seed, 1, s])
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

    # -- instructions: each binds one instruction's operands into a no-argument call (runtime/tiers.py) --
    def _bind(self, tier: str, ins: Instr) -> Callable[[], None] | None:
        make = tiers.BINDERS.get(ins.op)
        if make is None:
            return None
        exact = self.ideal or (bool(self.exact) and node_of(self.prog, ins) in self.exact)
        return make(self, tier, ins, exact)

    def _exec(self, tier: str, ins: Instr) -> None:
        fn = self._bind(tier, ins)
        if fn is not None:
            fn()


def estimate(prog: Program) -> dict[str, Any]:
    """The compiler's cost report: the same schedule and charges, without numerics."""
    charges = Charges.build(prog)
    load, writes = program_load(prog.streams, charges.with_writes)
    load = Cost.parallel([load, charges.preload()])
    makespan, events = simulate(prog.streams, charges.of, links=charges.links)
    return reports.build(prog, makespan, events, load, writes, "compiler")
