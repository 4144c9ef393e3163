"""ONNX (static, folded) -> `nn` dialect module.

One pass over the nodes in topological order; each node goes through its entry in the importer table.
Constants become `nn.constant` ops only where an op consumes them as a tensor, so shape arguments
that importers turn into properties leave no trace in the IR.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
    f32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from h3pc.diagnostics import H3pcError, UnsupportedError
from h3pc.dialects import nn
from h3pc.dialects.types import (MAX_TENSOR_ELEMENTS, element_type_from_numpy, element_type_from_onnx, numpy_dtype,
                               onnx_type_name)
from h3pc.frontend.control import DEFAULT_MAX_UNROLL, is_control
from h3pc.frontend.folding import StaticGraph, make_static, used_names
from h3pc.frontend.loader import LoadedModel, load_onnx
from h3pc.frontend.node import NodeContext
from h3pc.frontend.ops import load_importers
from h3pc.frontend.weights import WeightStore

#: constants with at most this many elements are printed inline; larger ones are resources.
INLINE_ELEMENTS = 16


@dataclass
class ImportedModel:
    """The result of the frontend: the nn module and the weights its resources refer to."""

    module: ModuleOp
    weights: WeightStore
    source: Path
    op_counts: Counter[str]
    folded_nodes: int

    @property
    def func(self) -> func.FuncOp:
        return next(op for op in self.module.ops if isinstance(op, func.FuncOp))


class ModuleImporter:
    def __init__(self, graph: StaticGraph) -> None:
        self.graph = graph
        self.store = graph.weights
        self.env: dict[str, SSAValue] = {}
        self.builder: Builder
        self.opset = {o.domain or "ai.onnx": o.version for o in graph.model.opset_import}["ai.onnx"]

    def tensor_type(self, name: str) -> TensorType:
        elem, shape = self.graph.types[name]
        et = element_type_from_onnx(elem)
        if et is None:
            raise UnsupportedError(f"tensor '{name}' has unsupported element type {onnx_type_name(elem)}")
        return TensorType(et, list(shape))

    def const_value(self, name: str) -> np.ndarray | None:
        if name not in self.graph.constants:
            return None
        return self.store.array(self.store.key_of(name))

    def value(self, name: str) -> SSAValue:
        v = self.env.get(name)
        if v is not None:
            return v
        if name in self.graph.constants:
            key = self.store.key_of(name)
            entry = self.store.entry(key)
            v = self._constant_op(entry.dtype, entry.shape, key, name)
            self.env[name] = v
            return v
        raise H3pcError(f"tensor '{name}' is used before it is defined")

    def materialize(self, arr: np.ndarray, name: str) -> SSAValue:
        key = self.store.add(name, arr)
        return self._constant_op(arr.dtype, arr.shape, key, name)

    def _constant_op(self, dtype: np.dtype, shape: tuple[int, ...], key: str, name: str) -> SSAValue:
        try:
            et = element_type_from_numpy(dtype)
        except KeyError:
            raise UnsupportedError(f"constant '{name}' has unsupported dtype {dtype}") from None
        typ = TensorType(et, list(shape))
        n = int(np.prod(shape)) if shape else 1
        value: Attribute
        if n <= INLINE_ELEMENTS and not (isinstance(et, IntegerType) and et.width.data == 1):
            arr = np.ascontiguousarray(self.store.array(key))
            value = DenseIntOrFPElementsAttr.from_list(typ, arr.reshape(-1).tolist())
        else:
            value = DenseResourceAttr.from_params(key, typ)
        op = nn.ConstantOp.create(properties={"value": value}, result_types=[typ],
                                  attributes={"onnx_name": StringAttr(name)})
        self.builder.insert(op)
        return op.results[0]

    def run(self, source: Path) -> ImportedModel:
        g = self.graph.model.graph
        table = load_importers()
        self.used = used_names(g)
        in_names = [i.name for i in g.input if i.name not in self.graph.constants]
        out_names = [o.name for o in g.output]
        in_types = [self.tensor_type(n) for n in in_names]
        out_types = [self.tensor_type(n) for n in out_names]
        block = Block(arg_types=in_types)
        for arg, n in zip(block.args, in_names):
            self.env[n] = arg
        self.builder = Builder(InsertPoint.at_end(block))
        counts: Counter[str] = Counter()
        for node in g.node:
            counts[node.op_type] += 1
            ctx = NodeContext(self, node, self.opset)
            entry = table.get(node.op_type)
            if entry is None or node.domain not in ("", "ai.onnx"):
                raise UnsupportedError(f"node '{ctx.name}': op {node.domain or 'ai.onnx'}.{node.op_type} is not supported")
            results = entry.fn(ctx)
            for out, val in zip(node.output, results):
                if out:
                    self.env[out] = val
            if len(node.input) > 1 and node.input[1] in self.graph.quantized and results:
                _mark_weight_steps(node, results[0], self.graph.quantized[node.input[1]])
        rets = [self.value(n) for n in out_names]
        self.builder.insert(func.ReturnOp(*rets))

        def names(ns: list[str]) -> ArrayAttr[DictionaryAttr]:
            return ArrayAttr([DictionaryAttr({"onnx.name": StringAttr(n)}) for n in ns])

        fn = func.FuncOp("main", (in_types, out_types), Region(block), arg_attrs=names(in_names), res_attrs=names(out_names))
        module = ModuleOp([fn])
        module.attributes["h3pc.source"] = StringAttr(source.name)
        return ImportedModel(module, self.store, source, counts, self.graph.folded_nodes)


#: the GEMM-like nn ops whose weight (operand 1) may carry a quantized model's steps, and the axis of
#: that weight along which its output channels lie (nn.gemm: 0 with trans_b)
_OUTPUT_AXIS = {"nn.matmul": 1, "nn.conv": 0}


def _mark_weight_steps(node: Any, result: SSAValue, q: Any) -> None:
    """A GEMM-like op whose weight a DequantizeLinear made from codes gets the model's step per output
    channel (`h3pc.weight_scale`) and its largest code (`h3pc.weight_codes`): a tier holding integer
    codes then writes these, not codes of a range of its own (backends/pim.py, PROGS)."""
    op = result.owner
    if not isinstance(op, Operation) or op.name not in (*_OUTPUT_AXIS, "nn.gemm") or len(op.operands) < 2:
        return
    shape = op.operands[1].type.get_shape()  # type: ignore[attr-defined]
    if op.name == "nn.gemm":
        axis = 0 if op.trans_b.value.data else 1  # type: ignore[attr-defined]
    else:
        axis = _OUTPUT_AXIS[op.name]
    if op.name == "nn.matmul" and len(shape) != 2:
        return  # batched weights: not a crossbar's static matrix
    channels = shape[axis]
    if q.scale.ndim == 0 or q.scale.size == 1:
        steps = np.full(channels, float(q.scale.reshape(-1)[0]), np.float32)
    elif q.axis == axis and q.scale.size == channels:
        steps = q.scale.astype(np.float32)
    else:
        return
    op.attributes["h3pc.weight_scale"] = DenseArrayBase.from_list(f32, [float(s) for s in steps])
    op.attributes["h3pc.weight_codes"] = IntegerAttr(q.max_code, i64)


def unsupported_nodes(model: Any, control_flow: bool = False) -> list[tuple[str, str, str]]:
    """(node name, op type, domain) of every node no importer handles; If, Loop and Scan count as handled
    with `control_flow` (they are resolved while the graph is made static, or refused by name then)."""
    table = load_importers()
    bad = []
    for node in model.graph.node:
        if control_flow and is_control(node):
            continue
        if node.domain not in ("", "ai.onnx") or node.op_type not in table:
            bad.append((node.name or node.output[0], node.op_type, node.domain or "ai.onnx"))
    return bad


def _check_sizes(static: StaticGraph, path: Path) -> None:
    """Every tensor's element count within MAX_TENSOR_ELEMENTS (shapes only: nothing is allocated)."""
    inputs = {i.name for i in static.model.graph.input}
    for name, (_, shape) in static.types.items():
        n = int(np.prod(shape, dtype=object)) if shape else 1
        if n > MAX_TENSOR_ELEMENTS:
            what = "graph input" if name in inputs else "tensor"
            raise UnsupportedError(f"{path}: {what} '{name}' has {n} elements (shape {list(shape)}); at most "
                                   f"{MAX_TENSOR_ELEMENTS} per tensor are supported")


def _refuse_unsupported(model: Any, path: Path) -> None:
    bad = unsupported_nodes(model, control_flow=True)
    if bad:
        listed = "; ".join(f"'{n}' ({d}.{t})" for n, t, d in bad[:50])
        more = f" and {len(bad) - 50} more" if len(bad) > 50 else ""
        kinds = sorted({f"{d}.{t}" for _, t, d in bad})
        raise UnsupportedError(
            f"{path}: {len(bad)} unsupported node(s) of {len(kinds)} op type(s) "
            f"[{', '.join(kinds)}]: {listed}{more}"
        )


def import_model(path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None,
                 loaded: LoadedModel | None = None, input_values: dict[str, np.ndarray] | None = None,
                 max_unroll: int = DEFAULT_MAX_UNROLL) -> ImportedModel:
    """Load, check coverage, make static and import an ONNX model. `input_values` pins inputs to constants
    (they are no longer inputs of the result); Loop and Scan unrolling makes at most `max_unroll` body
    copies in all."""
    loaded = loaded or load_onnx(path)
    _refuse_unsupported(loaded.model, loaded.path)  # before any folding: every unsupported node at once
    counts = Counter(n.op_type for n in loaded.model.graph.node)  # before folding rewrites the graph
    static = make_static(loaded, input_shapes, input_values, max_unroll)
    _refuse_unsupported(static.model, loaded.path)  # the nodes that came out of If/Loop/Scan subgraphs
    _check_sizes(static, loaded.path)
    imported = ModuleImporter(static).run(loaded.path)
    imported.op_counts = counts
    verify_imported(imported)
    return imported


def verify_imported(imported: ImportedModel) -> None:
    """The nn dialect's verifiers, run now and reported per ONNX node: the runtime verifies the kernels it
    reads back from a program, so a module that fails them compiles into a program that cannot run."""
    from xdsl.utils.exceptions import VerifyException

    for op in imported.func.body.block.ops:
        try:
            op.verify()
        except VerifyException as exc:
            node = op.attributes.get("onnx_node")
            where = f"node '{node.data}'" if isinstance(node, StringAttr) else f"'{op.name}'"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnsupportedError(f"{imported.source}: {where}: {first}") from None
    try:
        imported.module.verify()
    except VerifyException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedError(f"{imported.source}: the imported module does not verify: {first}") from None
