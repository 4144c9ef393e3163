"""The `digital` dialect: the electronic SIMD vector tier.

Non-GEMM `nn` ops run here as they are (their reference kernels are the tier's semantics); this
dialect adds what only the digital tier does: GEMMs on the vector unit (the fallback and the
homogeneous `electronic` baseline) and joining the per-tier partial outputs of a row-split layer.
"""

from __future__ import annotations

import math

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType
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
from xdsl.utils.exceptions import VerifyException

from h3pc.dialects.nn import check_window_attrs, shape_of, verify_concat, verify_matmul, window_out
from h3pc.dialects.shapes import fmt_shape


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


@irdl_op_definition
class Im2ColOp(IRDLOperation):
    """Unfold convolution windows of x[N, C, *spatial] into rows: [group, N * prod(out), C/group * prod(kernel)].

    Rows run over (n, *out), columns over (c, *kernel), so a conv becomes a grouped GEMM against its
    weights reshaped to [group, C/group * prod(kernel), OC/group]: how crossbars and photonic cores
    see a convolution."""

    name = "digital.im2col"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    group = prop_def(IntegerAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def out_spatial(self) -> tuple[int, ...]:
        k, s, p, d = (tuple(int(v) for v in a.get_values())
                      for a in (self.kernel, self.strides, self.pads, self.dilations))
        return window_out(shape_of(self.input)[2:], k, s, p, d)

    def verify_(self) -> None:
        x = shape_of(self.input)
        if len(x) < 3:
            raise VerifyException(f"input {fmt_shape(x)} must be [N, C, *spatial]")
        check_window_attrs(len(x) - 2, kernel=self.kernel, strides=self.strides, dilations=self.dilations,
                           pads=self.pads)
        g = self.group.value.data
        if g < 1 or x[1] % g:
            raise VerifyException(f"group {g} does not divide input channels {x[1]}")
        out = self.out_spatial()
        if any(o < 1 for o in out):
            raise VerifyException(f"window does not fit the padded input (output spatial {fmt_shape(out)})")
        want = (g, x[0] * math.prod(out), x[1] // g * math.prod(int(v) for v in self.kernel.get_values()))
        if shape_of(self.result) != want:
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(want)}")


Digital = Dialect("digital", [MatMulOp, JoinOp, Im2ColOp], [])
