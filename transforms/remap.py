"""remap: stage two's row remap as a pass. Moves rows of the layers the task is most sensitive to onto
more accurate tiers until the quality metric on calibration samples holds (transforms/stage2/remap.py).

It starts from the split the module carries (`h3pc.split`, `h3pc.stream`: what `partition` or `place`
wrote) and writes the remapped split back the same way, so it runs on text IR too:

    h3pc-opt model.mlir -p 'partition,remap{calib=data.npz metric=snr},lower-tiers,allocate-crossbars'

Quality needs values: the module's constants must hold their data (inline `dense<...>`, or the weights
in the compiler's context); a module of `dense_resource` handles without data is refused. In `h3pc`
(with `--calib`) the pass reuses stage one's record and oracle from the context (`H3Context.analyses`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from h3pc.context import H3Context
from h3pc.diagnostics import H3pcError
from h3pc.passes import PassBase
from h3pc.transforms.partition import has_weights, record_of, weights_of
from h3pc.transforms.stage1.mappings import search_options
from h3pc.transforms.stage1.partition import StageOneOptions, oracle, remap


def stage_two_options(calib: str, metric: str, tolerance: float, seed: int, workers: int, solve_time: float
                      ) -> StageOneOptions:
    """Stage two's options from the pass options (a negative tolerance or solve time: the default)."""
    search = search_options("latency", False, 1, 100, 0, workers, solve_time if solve_time >= 0 else None,
                            progress=False)
    return StageOneOptions(search=search, calib=calib or None, metric=metric,
                           tolerance=tolerance if tolerance >= 0 else None, quality_seed=seed)


def judge_of(ctx: Context, module: ModuleOp, options: StageOneOptions):
    """Stage two's quality oracle: the one in the context for these options, else a new one."""
    if not has_weights(ctx, module):
        raise H3pcError("stage two measures quality and needs the model's weights: this IR has weight handles "
                        "without data (run it from h3pc with --calib, or on IR whose constants hold values)")
    key = (options.calib, options.metric, options.tolerance, options.quality_seed)
    cached = ctx.analyses.get("oracle") if isinstance(ctx, H3Context) else None
    if cached is not None and cached[0] == key:
        return cached[1]
    judge = oracle(module, options)
    if isinstance(ctx, H3Context):
        ctx.analyses["oracle"] = (key, judge)
    return judge


@dataclass(frozen=True)
class Remap(PassBase):
    """Stage two's row remap: `calib` (a sample file, as `--calib`), `metric` (top1, ppl, bpc, cosine,
    snr), `tolerance` (negative: the metric's default), `seed` (the noise of the quality runs),
    `workers` and `solve_time` (the re-optimisation around the moved layers)."""

    name = "remap"

    calib: str = ""
    metric: str = "snr"
    tolerance: float = -1.0
    seed: int = 0
    workers: int = 2
    solve_time: float = -1.0

    def options(self) -> StageOneOptions:
        return stage_two_options(self.calib, self.metric, self.tolerance, self.seed, self.workers, self.solve_time)

    def run(self, ctx: Context, op: ModuleOp, options: StageOneOptions | None = None):
        """Apply the pass and return the record it refined (stage one's, with `stage2` set). The compiler
        passes its full options."""
        options = options or self.options()
        hw = self.hardware(ctx)
        judge = judge_of(ctx, op, options)
        record = record_of(ctx, op, hw, options)
        record.options = replace(record.options, calib=options.calib, metric=options.metric,
                                 tolerance=options.tolerance, quality_seed=options.quality_seed)
        remap(record, op, weights_of(ctx, op), hw, judge)
        return record

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self.run(ctx, op)
