"""partition: stage one as a pass. Splits the rows of every GEMM-like layer over the tiers.

It runs the partitioner of `h3pc --target hybrid` (transforms/stage1/: cost tables, the mapping's search,
the pick) on the module in the context's hardware description and writes its decisions where the
`place` pass writes its own, as attributes that print and parse: `h3pc.split = {tier = rows}` on each
layer, `h3pc.stream` where a PIM part does not fit and streams its weights. So stage one can run on
text IR:

    h3pc-opt model.mlir -p 'partition{objective=latency},lower-tiers,allocate-crossbars'

Costs depend on shapes, never on values, so on text IR (whose weights are `dense_resource` handles
without data) the pass stands a zero tensor of the declared type in for each handle; the splits are
the ones `h3pc` chooses from the ONNX file with its real weights (tests/test_stage1.py checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import DenseResourceAttr, ModuleOp, TensorType

from h3pc.context import H3Context
from h3pc.diagnostics import H3pcError
from h3pc.files import write_file
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.weights import WeightStore
from h3pc.passes import PassBase
from h3pc.transforms.place import split_of, streamed_of
from h3pc.transforms.stage1.mappings import point_of, search_options
from h3pc.transforms.stage1.partition import StageOne, StageOneOptions, partition
from h3pc.transforms.stage1.problem import build_problem


def shape_store(module: ModuleOp) -> WeightStore:
    """A weight store with a zero tensor of the declared type behind every `dense_resource` handle."""
    store = WeightStore()
    for op in module.walk():
        for attr in (*op.properties.values(), *op.attributes.values()):
            if isinstance(attr, DenseResourceAttr) and isinstance(attr.type, TensorType):
                key = attr.resource_handle.data
                if key not in store:
                    dtype, shape = np.dtype(numpy_dtype(attr.type.element_type)), tuple(attr.type.get_shape())
                    got = store.add_lazy(key, dtype, shape, lambda d=dtype, s=shape: np.zeros(s, d))
                    assert got == key, (got, key)  # handles are already valid, unique store keys
    return store


def weights_of(ctx: Context, module: ModuleOp) -> WeightStore:
    """The weights behind the module's handles: the context's, else zeros of each handle's type."""
    return ctx.weights if isinstance(ctx, H3Context) and ctx.weights is not None else shape_store(module)


def record_of(ctx: Context, module: ModuleOp, hw, options: StageOneOptions) -> StageOne:
    """Stage one's record for stage two's passes: the one the partition pass left in the context for
    this module, else rebuilt from the split the module carries (`h3pc.split`, `h3pc.stream`)."""
    record = ctx.analyses.get("partition") if isinstance(ctx, H3Context) else None
    if record is not None and record.problem.layers and record.problem.layers[0].op.get_toplevel_object() is module:
        return record
    problem = build_problem(module, weights_of(ctx, module), hw, options.max_chunks, options.replication)
    chunks, streams = [], []
    for layer in problem.layers:
        split = split_of(layer.op)
        if not split:
            raise H3pcError(f"layer '{layer.node}' has no h3pc.split: run partition (or place) first")
        bad = [t for t, r in split.items() if r % layer.chunk or t not in layer.allowed]
        if bad or sum(split.values()) != layer.rows:
            raise H3pcError(f"layer '{layer.node}': h3pc.split {split} is not a split of its {layer.rows} rows "
                            f"in chunks of {layer.chunk} over {', '.join(layer.allowed)}")
        chunks.append({t: r // layer.chunk for t, r in split.items()})
        streams.append(streamed_of(layer.op))
    record = StageOne(problem, options, [], point_of(problem, chunks, "input", streams=streams))
    if isinstance(ctx, H3Context):
        ctx.analyses["partition"] = record
    return record


def has_weights(ctx: Context, module: ModuleOp) -> bool:
    """Quality needs values: the context's weights, or a module without weight handles."""
    if isinstance(ctx, H3Context) and ctx.weights is not None:
        return True
    return not any(isinstance(a, DenseResourceAttr) for op in module.walk()
                   for a in (*op.properties.values(), *op.attributes.values()))


@dataclass(frozen=True)
class Partition(PassBase):
    """Stage one: `mapping` (cpsat, naive, random, nsga2, rule), `objective` (latency, energy, edp),
    `pick` (latency, energy, knee; a front of `points` when not latency), `solve_time` in seconds
    (negative: the default budget), CP-SAT `workers` and `seed`, `placement_in` (a placement file
    whose layers are pinned), `placement_out` (where to write the chosen point's placement file, as
    `h3pc --placement-out`)."""

    name = "partition"

    mapping: str = "cpsat"
    objective: str = "latency"
    pick: str = "latency"
    points: int = 8
    solve_time: float = -1.0
    workers: int = 2
    seed: int = 0
    placement_in: str = ""
    placement_out: str = ""
    replication: bool = True

    def options(self) -> StageOneOptions:
        front = self.pick != "latency" or self.objective != "latency"
        search = search_options(self.objective, front, self.points, 100, self.seed, self.workers,
                                self.solve_time if self.solve_time >= 0 else None, progress=False)
        return StageOneOptions(self.mapping, self.pick, search, self.placement_in or None,
                               replication=self.replication)

    def run(self, ctx: Context, op: ModuleOp, options: StageOneOptions | None = None) -> StageOne:
        """Apply the pass and return stage one's record (problem, front, chosen point), which it also
        leaves in the context for stage two's passes. The compiler passes its full `options` (with
        stage two's), which the pass options cannot spell."""
        record = partition(op, weights_of(ctx, op), self.hardware(ctx), options or self.options())
        if isinstance(ctx, H3Context):
            ctx.analyses["partition"] = record
        return record

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        record = self.run(ctx, op)
        if self.placement_out:  # the IR goes to stdout; the file is written whole or not at all
            write_file(self.placement_out, json.dumps(record.placement(), indent=1) + "\n")
