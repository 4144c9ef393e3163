"""Run an nn-dialect function on numpy arrays with the reference kernels.

The ops are compiled once into a flat list of (kernel, operand slots, result slots); running is then
one kernel call per op, so evaluation costs about what numpy itself costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, StringAttr
from xdsl.ir import SSAValue

from h3pc.diagnostics import H3pcError
from h3pc.dialects import nn
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.weights import WeightStore
from h3pc.runtime.reference import Kernel, compile_op


def main_func(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp):
            return op
    raise H3pcError("module has no function")


def io_names(fn: func.FuncOp) -> tuple[list[str], list[str]]:
    """ONNX names of the function's inputs and outputs (from arg_attrs / res_attrs)."""

    def names(attrs, n: int, prefix: str) -> list[str]:
        if attrs is None:
            return [f"{prefix}{i}" for i in range(n)]
        out = []
        for i, d in enumerate(attrs.data):
            v = d.data.get("onnx.name")
            out.append(v.data if isinstance(v, StringAttr) else f"{prefix}{i}")
        return out

    return (names(fn.arg_attrs, len(fn.args), "arg"),
            names(fn.res_attrs, len(fn.function_type.outputs.data), "result"))


def constant_value(op: nn.ConstantOp, weights: WeightStore) -> np.ndarray:
    val = op.value
    if isinstance(val, DenseIntOrFPElementsAttr):
        typ = op.result.type
        dt = numpy_dtype(typ.element_type)
        return np.asarray(val.get_values(), dtype=dt).reshape(typ.get_shape())
    key = val.resource_handle.data
    if key not in weights:
        raise H3pcError(f"weight '{key}' is not in the weight store")
    return weights.array(key)


@dataclass
class _Step:
    kernel: Kernel
    ins: list[int]
    outs: list[int]
    op: object


class NNProgram:
    """A compiled nn function: call `run(feeds)` with ONNX input names -> output names."""

    def __init__(self, module: ModuleOp, weights: WeightStore) -> None:
        fn = main_func(module)
        self.input_names, self.output_names = io_names(fn)
        self.input_types = [a.type for a in fn.args]
        slot: dict[SSAValue, int] = {}
        consts: dict[int, np.ndarray] = {}

        def slot_of(v: SSAValue) -> int:
            if v not in slot:
                slot[v] = len(slot)
            return slot[v]

        for a in fn.args:
            slot_of(a)
        self.steps: list[_Step] = []
        ret: list[int] = []
        for op in fn.body.block.ops:
            if isinstance(op, nn.ConstantOp):
                consts[slot_of(op.result)] = constant_value(op, weights)
            elif isinstance(op, func.ReturnOp):
                ret = [slot_of(v) for v in op.operands]
            else:
                try:
                    k = compile_op(op)
                except KeyError:
                    raise H3pcError(f"op {op.name} has no reference semantics") from None
                self.steps.append(_Step(k, [slot_of(v) for v in op.operands], [slot_of(r) for r in op.results], op))
        self.nslots = len(slot)
        self.consts = consts
        self.ret = ret

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        env: list[np.ndarray | None] = [None] * self.nslots
        for i, (name, typ) in enumerate(zip(self.input_names, self.input_types)):
            if name not in feeds:
                raise H3pcError(f"missing input '{name}'")
            arr = np.asarray(feeds[name])
            want = tuple(typ.get_shape())
            if arr.shape != want:
                raise H3pcError(f"input '{name}' has shape {list(arr.shape)}, expected {list(want)}")
            env[i] = arr.astype(numpy_dtype(typ.element_type), copy=False)
        for s, v in self.consts.items():
            env[s] = v
        for st in self.steps:
            outs = st.kernel(*[env[i] for i in st.ins])
            for o, v in zip(st.outs, outs):
                env[o] = v
        return {n: np.asarray(env[s]) for n, s in zip(self.output_names, self.ret)}
