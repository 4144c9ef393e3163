"""What an importer sees of one ONNX node (`NodeContext`): its attributes, its inputs as SSA values or
constants, its output types, and how it emits nn ops.

It sits below the importer table (frontend/registry.py) and the op families (frontend/ops/) that take it,
and below the module importer (frontend/importer.py) that makes one per node, so none of them imports
another in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from h3pc.diagnostics import UnsupportedError
from h3pc.dialects import nn
from h3pc.dialects.types import element_type_from_onnx, numpy_dtype


class NodeContext:
    """What an importer sees of one ONNX node: attributes, inputs (SSA or constant), output types."""

    def __init__(self, imp: Any, node: Any, opset: int) -> None:
        self.imp = imp
        self.node = node
        self.opset = opset
        self.name = node.name or f"{node.op_type}_{node.output[0]}"
        self._attrs = {a.name: a for a in node.attribute}

    # --- attributes and constants ----------------------------------------------------------

    def attr(self, name: str, default: Any = None) -> Any:
        from onnx import helper, numpy_helper

        a = self._attrs.get(name)
        if a is None:
            return default
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            return v.decode()
        if isinstance(v, list):
            return [x.decode() if isinstance(x, bytes) else x for x in v]
        if hasattr(v, "dims"):
            return numpy_helper.to_array(v)
        return v

    def fail(self, msg: str) -> UnsupportedError:
        return UnsupportedError(f"node '{self.name}' ({self.node.op_type}): {msg}")

    def has_input(self, i: int) -> bool:
        return i < len(self.node.input) and self.node.input[i] != ""

    @property
    def num_inputs(self) -> int:
        return len(self.node.input)

    def maybe_const(self, i: int) -> np.ndarray | None:
        if not self.has_input(i):
            return None
        v = self.imp.const_value(self.node.input[i])
        if v is None and 0 in self.shape(i):  # an empty tensor has one value, even as a graph input
            et = element_type_from_onnx(self.elem(i))
            if et is not None:
                return np.zeros(self.shape(i), numpy_dtype(et))
        return v

    def const(self, i: int, what: str) -> np.ndarray:
        v = self.maybe_const(i)
        if v is None:
            raise self.fail(f"{what} (input {i}, '{self.node.input[i] if self.has_input(i) else ''}') must be a "
                            "compile-time constant")
        return v

    def attr_or_input(self, attr: str, index: int, default: Any = None, since: int = 10**9) -> Any:
        """Opset evolution: a value that was an attribute and became an input (Squeeze axes, Split, ...)."""
        if self.opset >= since or self.has_input(index):
            v = self.maybe_const(index)
            if v is None and self.has_input(index):
                raise self.fail(f"'{attr}' (input {index}) must be a compile-time constant")
            return default if v is None else v.tolist()
        return self.attr(attr, default)

    # --- inputs and outputs ------------------------------------------------------------------

    def input(self, i: int) -> SSAValue:
        return self.imp.value(self.node.input[i])

    def opt_input(self, i: int) -> SSAValue | None:
        return self.input(i) if self.has_input(i) else None

    def shape(self, i: int) -> tuple[int, ...]:
        return self.imp.graph.types[self.node.input[i]][1]

    def elem(self, i: int) -> int:
        return self.imp.graph.types[self.node.input[i]][0]

    def out_type(self, i: int = 0) -> TensorType:
        return self.imp.tensor_type(self.node.output[i])

    def output_used(self, i: int) -> bool:
        return i < len(self.node.output) and self.node.output[i] in self.imp.used

    def out_shape(self, i: int = 0) -> tuple[int, ...]:
        return self.imp.graph.types[self.node.output[i]][1]

    def emit(self, cls: type[Operation], operands: Sequence[SSAValue | None], props: dict[str, Attribute] | None = None,
             result_types: Sequence[Attribute] | None = None) -> Operation:
        """Build and insert an nn op; results default to the node's output types."""
        ops = [o for o in operands if o is not None]
        props = dict(props or {})
        if cls in (nn.GemmOp, nn.ConvOp, nn.ConvTransposeOp, nn.LayerNormOp, nn.RMSNormOp):
            from xdsl.dialects.builtin import DenseArrayBase, i32

            props["operandSegmentSizes"] = DenseArrayBase.from_list(i32, [1 if o is not None else 0 for o in operands])
        types = list(result_types) if result_types is not None else [self.out_type(0)]
        op = cls.create(operands=ops, result_types=types, properties=props,
                        attributes={"onnx_node": StringAttr(self.name)})
        self.imp.builder.insert(op)
        return op

    def unary(self, cls: type[Operation], x: SSAValue | None = None, props: dict[str, Attribute] | None = None,
              out_shape: Sequence[int] | None = None, out_elem: Attribute | None = None) -> SSAValue:
        """Emit a one-operand op; intermediate results (out_shape given) take the input's element type."""
        x = self.input(0) if x is None else x
        if out_shape is None and out_elem is None:
            return self.emit(cls, [x], props).results[0]
        elem = out_elem or x.type.element_type
        shape = out_shape if out_shape is not None else x.type.get_shape()
        return self.emit(cls, [x], props, [TensorType(elem, list(shape))]).results[0]

    def constant(self, arr: np.ndarray, hint: str = "const") -> SSAValue:
        return self.imp.materialize(np.asarray(arr), f"{self.name}_{hint}")
