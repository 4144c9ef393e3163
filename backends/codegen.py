"""Backends: a lowered module becomes one instruction stream per tier (a Program).

Every SSA tensor gets a tensor id and lives in the global buffer; a tier loads its operands (LD),
computes, stores its results (ST) and signals tensors that another tier consumes; a consumer waits
for them first. Values computed from constants only (layout of weights: reshapes, transposes,
column slices) are folded here, at compile time, into the weights section.

Tier of an op: the registered tier whose dialect it is (backends/tiers.py `owner`), which emits its
instructions; everything else runs on the host tier (vector ops as kernels of the `kernels` section,
one generic-MLIR function each, shared by equal ops).
"""

from __future__ import annotations

import dataclasses
import io
from collections import defaultdict

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.printer import Printer

from h3pc.backends import tiers
from h3pc.backends.isa import Instr, make, tensors_of
from h3pc.backends.plan_buffer import plan_buffer
from h3pc.backends.program import Program, Tensor
from h3pc.diagnostics import H3pcError
from h3pc.dialects import nn
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.weights import WeightStore
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime.evaluate import constant_value, io_names, main_func
from h3pc.runtime.reference import compile_op
from h3pc.workload import FREE


def tier_of(op: Operation) -> str:
    return tiers.owner(op).name


def _is_part(op: Operation) -> bool:
    """An op of a tier's own dialect: the hardware's work, never folded at compile time even with
    constant operands."""
    return any(t.owns(op) for t in tiers.REGISTRY.values())


def _kernel_key(op: Operation) -> tuple:
    return (op.name, tuple(sorted(op.properties.items())), tuple(o.type for o in op.operands),
            tuple(r.type for r in op.results))


class _Codegen:
    def __init__(self, module: ModuleOp, weights: WeightStore, hw: HardwareConfig) -> None:
        self.hw = hw
        self.weights = weights
        self.fn = main_func(module)
        self.tensors: list[Tensor] = []
        self.tid: dict[SSAValue, int] = {}
        self.consts: dict[int, np.ndarray] = {}
        self.streams: dict[str, list[Instr]] = {t.name: [] for t in tiers.of(hw)}
        self.host = tiers.host().name
        self.producer: dict[int, str] = {}  # tensor -> tier that stores it
        self.waited: dict[str, set[int]] = defaultdict(set)
        self.symbols: list[dict] = []
        self.sym_index: dict[tuple[str, str], int] = {}
        self.kernel_ops: list[Operation] = []
        self.kernel_index: dict[tuple, int] = {}
        self.view_source: dict[int, int] = {}  # view tensor -> the stored tensor it reads

    # -- tensors ------------------------------------------------------------------------------
    def new_tensor(self, v: SSAValue, role: str) -> int:
        t = v.type
        assert isinstance(t, TensorType)
        i = len(self.tensors)
        self.tensors.append(Tensor(tuple(t.get_shape()), str(numpy_dtype(t.element_type)), role,
                                   home="offchip" if role == "const" else "buffer"))
        self.tid[v] = i
        return i

    def set_const(self, v: SSAValue, arr: np.ndarray) -> None:
        t = v.type
        assert isinstance(t, TensorType)
        arr = np.asarray(arr, dtype=numpy_dtype(t.element_type)).reshape(t.get_shape())
        self.consts[self.new_tensor(v, "const")] = arr

    def const_tensor(self, arr: np.ndarray) -> int:
        """A constant of the program that no SSA value holds (a tier's table, e.g. a quantized model's
        weight steps): its tensor id."""
        arr = np.ascontiguousarray(arr)
        i = len(self.tensors)
        self.tensors.append(Tensor(tuple(arr.shape), str(arr.dtype), "const", home="offchip"))
        self.consts[i] = arr
        return i

    def symbol(self, op: Operation) -> int:
        node = op.attributes.get("onnx_node")
        key = (node.data if node is not None else "", op.name)
        if key not in self.sym_index:
            self.sym_index[key] = len(self.symbols)
            self.symbols.append({"node": key[0], "op": key[1]})
        return self.sym_index[key]

    # -- streams ------------------------------------------------------------------------------
    def emit(self, tier: str, ins: Instr) -> None:
        self.streams[tier].append(ins)

    def depend(self, tier: str, v: SSAValue) -> int:
        """Wait for v if another tier produces it (once per tier and tensor)."""
        t = self.tid[v]
        prod = self.producer.get(t)
        if prod is not None and prod != tier and t not in self.waited[tier]:
            self.emit(tier, make("WAIT", tensor=t))
            self.waited[tier].add(t)
        return t

    def load(self, tier: str, v: SSAValue, sym: int, bits: int = 0) -> int:
        """Read v from the buffer; a view (reshape, im2col windows) reads the tensor it views. A weight
        is held in the format of the tier that reads it (`bits`, 0: its dtype's); any other tensor
        keeps the format its producer stored it in."""
        t = self.depend(tier, v)
        src = self.view_source.get(t, t)
        if bits and self.tensors[src].role == "const" and not self.tensors[src].bits:
            self.tensors[src] = dataclasses.replace(self.tensors[src], bits=bits)
        self.emit(tier, make("LD", tensor=src, sym=sym))
        return t

    def store(self, tier: str, v: SSAValue, sym: int, bits: int = 0) -> int:
        """Write v to the buffer in the tier's output format (`bits`, 0: its dtype's)."""
        t = self.new_tensor(v, "value")
        if bits:
            self.tensors[t] = dataclasses.replace(self.tensors[t], bits=bits)
        self.emit(tier, make("ST", tensor=t, sym=sym))
        self.producer[t] = tier
        if any(tier_of(u.operation) != tier for u in v.uses):
            self.emit(tier, make("SIGNAL", tensor=t))
            self.waited[tier].add(t)
        return t

    def is_const(self, v: SSAValue) -> bool:
        return self.tid.get(v, -1) in self.consts

    # -- ops ----------------------------------------------------------------------------------
    def run(self) -> Program:
        in_names, out_names = io_names(self.fn)
        inputs = [{"name": n, "tensor": self.new_tensor(a, "input")} for n, a in zip(in_names, self.fn.args)]
        for op in self.fn.body.block.ops:
            if isinstance(op, func.ReturnOp):
                # the host reads outputs from the buffer once every stream has halted
                outputs = [{"name": n, "tensor": self.tid[v]} for n, v in zip(out_names, op.operands)]
            elif isinstance(op, nn.ConstantOp):
                self.set_const(op.result, constant_value(op, self.weights))
            elif not _is_part(op) and op.operands and all(self.is_const(o) for o in op.operands):
                outs = compile_op(op)(*[self.consts[self.tid[o]] for o in op.operands])
                for r, arr in zip(op.results, outs):
                    self.set_const(r, arr)
            else:
                self.lower(op)
        for tier in self.streams:
            self.emit(tier, make("HALT"))
        used = {a for ins in (i for s in self.streams.values() for i in s) for a in tensors_of(ins)}
        used |= {o["tensor"] for o in outputs}
        consts = {t: a for t, a in self.consts.items() if t in used}
        return Program(self.hw, self.streams, self.tensors, self.kernels_text(), self.symbols, inputs, outputs,
                       consts, list(self.kernel_ops))

    def lower(self, op: Operation) -> None:
        tiers.owner(op).emit(self, op, self.symbol(op))

    def vector_op(self, op: Operation, sym: int) -> None:
        free = op.name in FREE
        host = self.host
        ins = [self.depend(host, o) if free or self._table_read(op, i) else self.load(host, o, sym)
               for i, o in enumerate(op.operands)]
        kernel = self.kernel(op)
        first = len(self.tensors)
        outs = list(range(first, first + len(op.results)))
        self.emit(host, make("VOP", kernel=kernel, ins=ins, outs=outs, sym=sym))
        for r in op.results:
            if free:  # a view: no data moves, but other tiers may still wait for it
                t = self.new_tensor(r, "value")
                self.producer[t] = host
                if len(ins) == 1:
                    self.view_source[t] = self.view_source.get(ins[0], ins[0])
                if any(tier_of(u.operation) != host for u in r.uses):
                    self.emit(host, make("SIGNAL", tensor=t))
            else:
                self.store(host, r, sym)

    def _table_read(self, op: Operation, i: int) -> bool:
        """A gather's constant table stays off-chip: the tier fetches the rows it indexes (charged
        by h3pc/charges.py), not the table."""
        return isinstance(op, nn.GatherOp) and i == 0 and self.is_const(op.operands[0])

    def kernel(self, op: Operation) -> int:
        key = _kernel_key(op)
        if key not in self.kernel_index:
            self.kernel_index[key] = len(self.kernel_ops)
            self.kernel_ops.append(op)
        return self.kernel_index[key]

    def kernels_text(self) -> str:
        """One function per distinct vector op: the emulator parses this module once."""
        funcs = []
        for i, op in enumerate(self.kernel_ops):
            block = Block(arg_types=[o.type for o in op.operands])
            clone = op.clone()
            clone.operands = list(block.args)
            clone.attributes.clear()
            block.add_op(clone)
            block.add_op(func.ReturnOp(*clone.results))
            funcs.append(func.FuncOp(f"k{i}", ([o.type for o in op.operands], [r.type for r in op.results]),
                                     Region(block)))
        module = ModuleOp(funcs)
        buf = io.StringIO()
        Printer(stream=buf, print_generic_format=True).print_op(module)
        return buf.getvalue() + "\n"


def generate(module: ModuleOp, weights: WeightStore, hw: HardwareConfig, plan: bool = True) -> Program:
    """The Program of a lowered, allocated module, its global buffer planned (backends/plan_buffer.py)
    unless `plan` is False."""
    prog = _Codegen(module, weights, hw).run()
    return plan_buffer(prog) if plan else prog
