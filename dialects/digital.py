"""The `digital` dialect: the electronic SIMD vector tier.

Non-GEMM `nn` ops run here as they are (their reference kernels are the tier's semantics); this
dialect adds what only the digital tier does: GEMMs on the vector unit (the fallback and the
homogeneous `electronic` baseline) and joining the per-tier partial outputs of a row-split layer.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerAttr, TensorType
from xdsl.ir import Dialect
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    var_operand_def,
)

from h3pc.dialects.nn import verify_concat, verify_matmul


@irdl_op_definition
class MatMulOp(IRDLOperation):
    """numpy.matmul on the digital vector unit (fp32)."""

    name = "digital.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        verify_matmul(self.lhs, self.rhs, self.result)


@irdl_op_definition
class JoinOp(IRDLOperation):
    """Concatenate the tiers' partial outputs of one layer along its output-feature axis."""

    name = "digital.join"
    parts = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$parts attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        verify_concat(list(self.parts), self.axis.value.data, self.result)


Digital = Dialect("digital", [MatMulOp, JoinOp], [])
