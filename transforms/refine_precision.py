"""refine-precision: stage two's precision refinement as a pass. Lowers per-layer converter widths
(`h3pc.bits`, the tiers' bit-width knobs) while the quality metric on calibration samples holds
(transforms/stage2/precision.py).

It refines the split the module carries and writes `h3pc.bits` on each layer, which `lower-tiers`
reads; on text IR the module's constants must hold their data (see the `remap` pass):

    h3pc-opt model.mlir -p 'partition,remap{calib=data.npz},refine-precision{calib=data.npz}'

A split whose quality does not hold is left as it is (no width is lowered below a failing start).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from h3pc.passes import PassBase
from h3pc.transforms.partition import record_of, weights_of
from h3pc.transforms.remap import judge_of, stage_two_options
from h3pc.transforms.stage1.partition import StageOneOptions, refine
from h3pc.transforms.stage2 import MAX_TRIALS


@dataclass(frozen=True)
class RefinePrecision(PassBase):
    """Stage two's precision refinement: `calib`, `metric`, `tolerance` and `seed` as the `remap` pass,
    `trials` the budget of emulated trials."""

    name = "refine-precision"

    calib: str = ""
    metric: str = "snr"
    tolerance: float = -1.0
    seed: int = 0
    trials: int = MAX_TRIALS

    def options(self) -> StageOneOptions:
        return replace(stage_two_options(self.calib, self.metric, self.tolerance, self.seed, 2, -1.0),
                       precision_trials=self.trials)

    def run(self, ctx: Context, op: ModuleOp, options: StageOneOptions | None = None):
        """Apply the pass and return the record it refined (`precision` set when the start held)."""
        options = options or self.options()
        hw = self.hardware(ctx)
        judge = judge_of(ctx, op, options)
        record = record_of(ctx, op, hw, options)
        record.options = replace(record.options, precision_trials=options.precision_trials)
        refine(record, op, weights_of(ctx, op), hw, judge)
        return record

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.run(ctx, op)
