"""The `photonic` dialect: ops of the TeMPO-style photonic tensor-core tier.

Both GEMM operands are dynamic (modulated onto light each time), which is what makes this tier the
home of attention's Q.K^T and P.V. Operands are quantised to `in_bits`/`w_bits` by DACs, results are
read by `out_bits` ADCs.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerAttr, TensorType
from xdsl.ir import Dialect
from xdsl.irdl import IRDLOperation, ParsePropInAttrDict, irdl_op_definition, operand_def, prop_def, result_def
from xdsl.utils.exceptions import VerifyException

from h3pc.dialects.nn import verify_matmul

MAX_BITS = 16


def verify_bits(**bits: IntegerAttr) -> None:
    """Converter resolutions are 1..16 bits on every tier."""
    for name, attr in bits.items():
        if not 1 <= attr.value.data <= MAX_BITS:
            raise VerifyException(f"{name} must be in 1..{MAX_BITS}, got {attr.value.data}")


@irdl_op_definition
class MatMulOp(IRDLOperation):
    """A GEMM tile on photonic cores: both operands dynamic, quantised to in_bits / w_bits, out_bits ADC."""

    name = "photonic.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    in_bits = prop_def(IntegerAttr)
    w_bits = prop_def(IntegerAttr)
    out_bits = prop_def(IntegerAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        verify_bits(in_bits=self.in_bits, w_bits=self.w_bits, out_bits=self.out_bits)
        verify_matmul(self.lhs, self.rhs, self.result)


Photonic = Dialect("photonic", [MatMulOp], [])
