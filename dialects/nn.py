"""The `nn` dialect: tier-neutral tensor ops that the ONNX frontend targets.

Every op has static shapes and normalised attributes (what ONNX passes as constant inputs, opset by
opset, is a property here), so later passes never look at ONNX again. Shape-only ops collapse into one
op each: Reshape/Flatten/Squeeze/Unsqueeze are `nn.reshape`, Expand is `nn.broadcast`, Identity and
Dropout disappear. The numpy meaning of every op lives in `h3pc.runtime.reference`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
    AttrSizedOperandSegments,
    ParsePropInAttrDict,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from h3pc.dialects.shapes import broadcast_shapes, concat_shape, fmt_shape, matmul_shape

# ---------------------------------------------------------------------------------------------
# property helpers


def ints_attr(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def float_attr(value: float) -> FloatAttr:
    from xdsl.dialects.builtin import f64

    return FloatAttr(float(value), f64)


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    typ = value.type if isinstance(value, SSAValue) else value
    assert isinstance(typ, TensorType)
    return tuple(typ.get_shape())


def _ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _check_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < max(rank, 1):
        raise VerifyException(f"{what} {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


_FORMAT_1 = "$input attr-dict `:` functional-type(operands, results)"
_FORMAT_N = "$inputs attr-dict `:` functional-type(operands, results)"


class NNOp(IRDLOperation):
    """Base of every nn op: pure, with an optional ONNX node name for diagnostics and symbols."""

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)

    @property
    def node_name(self) -> str:
        attr = self.attributes.get("onnx_node")
        return attr.data if isinstance(attr, StringAttr) else ""


# ---------------------------------------------------------------------------------------------
# constants


@irdl_op_definition
class ConstantOp(NNOp):
    """A tensor constant: small values inline (`dense<...>`), weights as `dense_resource<key>`.

    Resource keys index the weight store that travels beside the module; the text never holds weights.
    """

    name = "nn.constant"
    value = prop_def(DenseIntOrFPElementsAttr | DenseResourceAttr)
    result = result_def(TensorType)
    assembly_format = "attr-dict `:` type($result)"

    def verify_(self) -> None:
        vtype = self.value.get_type() if isinstance(self.value, DenseIntOrFPElementsAttr) else self.value.type
        if vtype != self.result.type:
            raise VerifyException(f"value type {vtype} does not match result type {self.result.type}")

    @property
    def resource_key(self) -> str | None:
        return self.value.resource_handle.data if isinstance(self.value, DenseResourceAttr) else None


# ---------------------------------------------------------------------------------------------
# elementwise


class UnaryOp(NNOp):
    """Elementwise op of one tensor: the result has the operand's shape."""

    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        if shape_of(self.input) != shape_of(self.result):
            raise VerifyException(
                f"result shape {fmt_shape(shape_of(self.result))} differs from operand shape "
                f"{fmt_shape(shape_of(self.input))}"
            )


class BinaryOp(NNOp):
    """Elementwise op of two tensors with numpy (ONNX multidirectional) broadcasting."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        _verify_broadcast([self.lhs, self.rhs], self.result)


class VariadicOp(NNOp):
    """Elementwise op over one or more tensors with broadcasting (ONNX Sum/Mean/Max/Min)."""

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = _FORMAT_N

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("expects at least one operand")
        _verify_broadcast(list(self.inputs), self.result)


def _verify_broadcast(operands: Sequence[SSAValue], result: SSAValue) -> None:
    shapes = [shape_of(o) for o in operands]
    expected = broadcast_shapes(*shapes)
    if expected is None:
        raise VerifyException(f"operand shapes {', '.join(map(fmt_shape, shapes))} do not broadcast")
    if expected != shape_of(result):
        raise VerifyException(
            f"result shape {fmt_shape(shape_of(result))} is not the broadcast shape {fmt_shape(expected)}"
        )


def _unary(op_name: str, doc: str) -> type[UnaryOp]:
    cls = type(op_name.split(".")[1].title().replace("_", "") + "Op", (UnaryOp,), {"name": op_name, "__doc__": doc})
    return irdl_op_definition(cls)


def _binary(op_name: str, doc: str) -> type[BinaryOp]:
    cls = type(op_name.split(".")[1].title().replace("_", "") + "Op", (BinaryOp,), {"name": op_name, "__doc__": doc})
    return irdl_op_definition(cls)


def _variadic(op_name: str, doc: str) -> type[VariadicOp]:
    cls = type(op_name.split(".")[1].title().replace("_", "") + "Op", (VariadicOp,), {"name": op_name, "__doc__": doc})
    return irdl_op_definition(cls)


NegOp = _unary("nn.neg", "-x.")
AbsOp = _unary("nn.abs", "|x|.")
ReciprocalOp = _unary("nn.reciprocal", "1 / x.")
SqrtOp = _unary("nn.sqrt", "Square root.")
ExpOp = _unary("nn.exp", "e^x.")
LogOp = _unary("nn.log", "Natural logarithm.")
ErfOp = _unary("nn.erf", "Gauss error function.")
TanhOp = _unary("nn.tanh", "Hyperbolic tangent.")
SigmoidOp = _unary("nn.sigmoid", "1 / (1 + e^-x).")
ReluOp = _unary("nn.relu", "max(x, 0).")
NotOp = _unary("nn.not", "Logical not of a boolean tensor.")
FloorOp = _unary("nn.floor", "Round down.")
CeilOp = _unary("nn.ceil", "Round up.")
RoundOp = _unary("nn.round", "Round half to even.")
SignOp = _unary("nn.sign", "-1, 0 or 1.")
SinOp = _unary("nn.sin", "Sine.")
CosOp = _unary("nn.cos", "Cosine.")
SoftplusOp = _unary("nn.softplus", "log(1 + e^x).")
HardSwishOp = _unary("nn.hard_swish", "x * max(0, min(1, x/6 + 1/2)).")
CastOp = _unary("nn.cast", "Element type conversion to the result's element type (ONNX Cast semantics).")

AddOp = _binary("nn.add", "a + b.")
SubOp = _binary("nn.sub", "a - b.")
MulOp = _binary("nn.mul", "a * b.")
DivOp = _binary("nn.div", "a / b (integer division truncates toward zero, as ONNX).")
PowOp = _binary("nn.pow", "a ** b.")
PReluOp = _binary("nn.prelu", "x if x >= 0 else slope * x; the slope broadcasts to x.")
AndOp = _binary("nn.and", "Logical and.")
OrOp = _binary("nn.or", "Logical or.")
XorOp = _binary("nn.xor", "Logical xor.")
EqualOp = _binary("nn.equal", "a == b (boolean result).")
LessOp = _binary("nn.less", "a < b (boolean result).")
LessEqualOp = _binary("nn.less_equal", "a <= b (boolean result).")
GreaterOp = _binary("nn.greater", "a > b (boolean result).")
GreaterEqualOp = _binary("nn.greater_equal", "a >= b (boolean result).")

MaxOp = _variadic("nn.max", "Elementwise maximum of all operands.")
MinOp = _variadic("nn.min", "Elementwise minimum of all operands.")
SumOp = _variadic("nn.sum", "Elementwise sum of all operands.")
MeanOp = _variadic("nn.mean", "Elementwise mean of all operands.")


@irdl_op_definition
class WhereOp(NNOp):
    """cond ? x : y with broadcasting."""

    name = "nn.where"
    cond = operand_def(TensorType)
    x = operand_def(TensorType)
    y = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$cond `,` $x `,` $y attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        _verify_broadcast([self.cond, self.x, self.y], self.result)


@irdl_op_definition
class LeakyReluOp(UnaryOp):
    """x if x >= 0 else alpha * x."""

    name = "nn.leaky_relu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class EluOp(UnaryOp):
    """x if x > 0 else alpha * (e^x - 1)."""

    name = "nn.elu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class HardSigmoidOp(UnaryOp):
    """max(0, min(1, alpha * x + beta))."""

    name = "nn.hard_sigmoid"
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)


@irdl_op_definition
class ClipOp(UnaryOp):
    """min(max(x, min), max); an absent bound is unbounded."""

    name = "nn.clip"
    min = opt_prop_def(FloatAttr)
    max = opt_prop_def(FloatAttr)


@irdl_op_definition
class GeluOp(UnaryOp):
    """GELU, exact (`none`, erf) or the tanh approximation (`tanh`)."""

    name = "nn.gelu"
    approximate = prop_def(StringAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.approximate.data not in ("none", "tanh"):
            raise VerifyException(f"approximate must be 'none' or 'tanh', got '{self.approximate.data}'")


# ---------------------------------------------------------------------------------------------
# GEMM-like


@irdl_op_definition
class MatMulOp(NNOp):
    """numpy.matmul: batched matrix product with broadcasting over leading dims (1-D operands allowed)."""

    name = "nn.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        verify_matmul(self.lhs, self.rhs, self.result)


def verify_matmul(lhs: SSAValue, rhs: SSAValue, result: SSAValue) -> None:
    """Shared by every matmul-shaped op of every dialect."""
    out = matmul_shape(shape_of(lhs), shape_of(rhs))
    if isinstance(out, str):
        raise VerifyException(out)
    if out != shape_of(result):
        raise VerifyException(f"result shape {fmt_shape(shape_of(result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class GemmOp(NNOp):
    """alpha * op(A) @ op(B) + beta * C on 2-D A, B; op() transposes when trans_a / trans_b is set."""

    name = "nn.gemm"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    c = opt_operand_def(TensorType)
    result = result_def(TensorType)
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)
    trans_a = prop_def(BoolAttr)
    trans_b = prop_def(BoolAttr)
    irdl_options = (AttrSizedOperandSegments(as_property=True), ParsePropInAttrDict())
    # optional operands: printed in generic form (the declarative functional-type cannot parse them)

    def verify_(self) -> None:
        a, b = shape_of(self.a), shape_of(self.b)
        if len(a) != 2 or len(b) != 2:
            raise VerifyException("gemm operands A and B must be 2-D")
        m, k = (a[1], a[0]) if self.trans_a.value.data else a
        k2, n = (b[1], b[0]) if self.trans_b.value.data else b
        if k != k2:
            raise VerifyException(f"contraction dims differ: {k} vs {k2}")
        if shape_of(self.result) != (m, n):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape((m, n))}")
        if self.c is not None and broadcast_shapes(shape_of(self.c), (m, n)) != (m, n):
            raise VerifyException(f"C of shape {fmt_shape(shape_of(self.c))} does not broadcast to {fmt_shape((m, n))}")


def check_window_attrs(nsp: int, **attrs: DenseArrayBase) -> None:
    """Each window attribute has one value per spatial dim (pads: two)."""
    for label, attr in attrs.items():
        n = 2 * nsp if label == "pads" else nsp
        if len(_ints(attr)) != n:
            raise VerifyException(f"{label} needs {n} values, got {len(_ints(attr))}")


def window_out(spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int],
               dilations: Sequence[int]) -> tuple[int, ...]:
    """Output spatial dims of a (floor-mode) sliding window: conv and im2col agree by construction."""
    nsp = len(spatial)
    return tuple((spatial[i] + pads[i] + pads[nsp + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1
                 for i in range(nsp))


class _ConvBase(NNOp):
    x = operand_def(TensorType)
    w = operand_def(TensorType)
    b = opt_operand_def(TensorType)
    result = result_def(TensorType)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    group = prop_def(IntegerAttr)
    irdl_options = (AttrSizedOperandSegments(as_property=True), ParsePropInAttrDict())
    # optional operands: printed in generic form (the declarative functional-type cannot parse them)

    def _spatial(self) -> int:
        x, w = shape_of(self.x), shape_of(self.w)
        if len(x) < 3 or len(w) != len(x):
            raise VerifyException(f"input {fmt_shape(x)} and weight {fmt_shape(w)} must have the same rank >= 3")
        nsp = len(x) - 2
        check_window_attrs(nsp, strides=self.strides, dilations=self.dilations, pads=self.pads)
        if self.group.value.data < 1:
            raise VerifyException("group must be >= 1")
        if any(v < 1 for v in _ints(self.strides) + _ints(self.dilations)):
            raise VerifyException("strides and dilations must be >= 1")
        return nsp


@irdl_op_definition
class ConvOp(_ConvBase):
    """N-d convolution (cross-correlation), NCHW; pads are [begin..., end...] and already resolved from auto_pad."""

    name = "nn.conv"

    def verify_(self) -> None:
        nsp = self._spatial()
        x, w = shape_of(self.x), shape_of(self.w)
        g = self.group.value.data
        if x[1] != w[1] * g:
            raise VerifyException(f"input channels {x[1]} != weight channels {w[1]} x group {g}")
        if w[0] % g:
            raise VerifyException(f"output channels {w[0]} not divisible by group {g}")
        out = (x[0], w[0]) + window_out(x[2:], w[2:], _ints(self.strides), _ints(self.pads), _ints(self.dilations))
        if tuple(out) != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class ConvTransposeOp(_ConvBase):
    """N-d transposed convolution, NCHW; weight is [C_in, C_out/group, k...]; pads are resolved."""

    name = "nn.conv_transpose"
    output_padding = prop_def(DenseArrayBase)

    def verify_(self) -> None:
        nsp = self._spatial()
        x, w = shape_of(self.x), shape_of(self.w)
        g = self.group.value.data
        if x[1] != w[0]:
            raise VerifyException(f"input channels {x[1]} != weight dim 0 {w[0]}")
        s, d, p, op = _ints(self.strides), _ints(self.dilations), _ints(self.pads), _ints(self.output_padding)
        out = [x[0], w[1] * g] + [
            s[i] * (x[2 + i] - 1) + op[i] + (w[2 + i] - 1) * d[i] + 1 - p[i] - p[nsp + i] for i in range(nsp)
        ]
        if tuple(out) != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


# ---------------------------------------------------------------------------------------------
# normalisation and softmax


@irdl_op_definition
class BatchNormOp(NNOp):
    """Inference batch norm over channel axis 1: scale * (x - mean) / sqrt(var + epsilon) + bias."""

    name = "nn.batch_norm"
    x = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    mean = operand_def(TensorType)
    var = operand_def(TensorType)
    result = result_def(TensorType)
    epsilon = prop_def(FloatAttr)
    assembly_format = (
        "$x `,` $scale `,` $bias `,` $mean `,` $var attr-dict `:` functional-type(operands, results)"
    )

    def verify_(self) -> None:
        x = shape_of(self.x)
        if len(x) < 2:
            raise VerifyException("batch_norm input must have rank >= 2")
        for v in (self.scale, self.bias, self.mean, self.var):
            if shape_of(v) != (x[1],):
                raise VerifyException(f"per-channel operand of shape {fmt_shape(shape_of(v))}, expected [{x[1]}]")
        if shape_of(self.result) != x:
            raise VerifyException("result shape differs from input shape")


class _NormBase(NNOp):
    x = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    epsilon = prop_def(FloatAttr)
    irdl_options = (AttrSizedOperandSegments(as_property=True), ParsePropInAttrDict())
    # optional operands: printed in generic form (the declarative functional-type cannot parse them)

    def verify_(self) -> None:
        x = shape_of(self.x)
        axis = _check_axis(self.axis.value.data, len(x))
        for v in (self.scale, self.bias):
            if v is not None and broadcast_shapes(shape_of(v), x[axis:]) != x[axis:]:
                raise VerifyException(
                    f"scale/bias of shape {fmt_shape(shape_of(v))} does not broadcast to {fmt_shape(x[axis:])}"
                )
        if shape_of(self.result) != x:
            raise VerifyException("result shape differs from input shape")


@irdl_op_definition
class LayerNormOp(_NormBase):
    """Normalise over dims [axis, rank) to zero mean and unit variance, then scale and shift."""

    name = "nn.layer_norm"


@irdl_op_definition
class RMSNormOp(_NormBase):
    """x / sqrt(mean(x^2 over dims [axis, rank)) + epsilon) * scale."""

    name = "nn.rms_norm"


class _AxisOp(UnaryOp):
    axis = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        _check_axis(self.axis.value.data, len(shape_of(self.input)))


@irdl_op_definition
class SoftmaxOp(_AxisOp):
    """Softmax along one axis (opset-13 semantics; older opsets are rewritten by the frontend)."""

    name = "nn.softmax"


@irdl_op_definition
class LogSoftmaxOp(_AxisOp):
    """Log-softmax along one axis."""

    name = "nn.log_softmax"


@irdl_op_definition
class LRNOp(UnaryOp):
    """Local response normalisation across channels (ONNX LRN)."""

    name = "nn.lrn"
    size = prop_def(IntegerAttr)
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)
    bias = prop_def(FloatAttr)


# ---------------------------------------------------------------------------------------------
# pooling and resize


class _PoolBase(NNOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    ceil_mode = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        verify_pool(self, [self.result])


def verify_pool(op: IRDLOperation, results: Sequence[SSAValue]) -> None:
    """Shared by the pooling ops: window attributes that fit the input, and each result's shape."""
    x = shape_of(op.input)  # type: ignore[attr-defined]
    nsp = len(x) - 2
    k, s, d, p = (_ints(op.properties[n]) for n in ("kernel", "strides", "dilations", "pads"))  # type: ignore[arg-type]
    ceil = op.properties["ceil_mode"].value.data  # type: ignore[attr-defined]
    if nsp < 1 or len(k) != nsp or len(s) != nsp or len(d) != nsp or len(p) != 2 * nsp:
        raise VerifyException(f"kernel/strides/dilations/pads do not fit input {fmt_shape(x)}")
    if any(v < 1 for v in k + s + d):
        raise VerifyException("pool kernel, strides and dilations must be >= 1")
    out = [x[0], x[1]]
    for i in range(nsp):
        span = x[2 + i] + p[i] + p[nsp + i] - d[i] * (k[i] - 1) - 1
        n = -(-span // s[i]) if ceil else span // s[i]
        n += 1
        if ceil and (n - 1) * s[i] >= x[2 + i] + p[i]:
            n -= 1
        out.append(n)
    for r in results:
        if tuple(out) != shape_of(r):
            raise VerifyException(f"result shape {fmt_shape(shape_of(r))}, expected {fmt_shape(out)}")


@irdl_op_definition
class MaxPoolOp(_PoolBase):
    """Max pooling over spatial dims; padding never wins."""

    name = "nn.max_pool"


@irdl_op_definition
class MaxPoolIndicesOp(NNOp):
    """Max pooling that also returns, per output, the flat index of the input element chosen (the first
    maximum; row-major over N, C and the spatial dims, or the spatial dims column-major when storage_order 1)."""

    name = "nn.max_pool_indices"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    indices = result_def(TensorType)
    kernel = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    ceil_mode = prop_def(BoolAttr)
    storage_order = prop_def(IntegerAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        verify_pool(self, [self.result, self.indices])
        if self.storage_order.value.data not in (0, 1):
            raise VerifyException(f"storage_order must be 0 or 1, got {self.storage_order.value.data}")


@irdl_op_definition
class MaxUnpoolOp(NNOp):
    """The partial inverse of max pooling: each value written at its flat index (as nn.max_pool_indices gives
    them) into zeros of `unpooled` shape (what the pooling window implies), placed at the origin of the
    result (ONNX's output_shape may be larger)."""

    name = "nn.max_unpool"
    input = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    unpooled = prop_def(DenseArrayBase)
    assembly_format = "$input `,` $indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x, i, y, u = shape_of(self.input), shape_of(self.indices), shape_of(self.result), _ints(self.unpooled)
        if x != i:
            raise VerifyException(f"indices {fmt_shape(i)} must have the input's shape {fmt_shape(x)}")
        if len(y) != len(x) or y[:2] != x[:2] or len(u) != len(y) or u[:2] != y[:2]:
            raise VerifyException(f"result {fmt_shape(y)} and unpooled {fmt_shape(u)} must keep the input's "
                                  f"batch and channels {fmt_shape(x[:2])}")
        if any(a > b for a, b in zip(u, y)):
            raise VerifyException(f"unpooled {fmt_shape(u)} exceeds the result {fmt_shape(y)}")


@irdl_op_definition
class AvgPoolOp(_PoolBase):
    """Average pooling; count_include_pad chooses the divisor at the borders."""

    name = "nn.avg_pool"
    count_include_pad = prop_def(BoolAttr)


@irdl_op_definition
class ResizeOp(NNOp):
    """ONNX Resize with a static output shape; `scales` are the per-dim factors the coordinates use."""

    name = "nn.resize"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    scales = prop_def(ArrayAttr[FloatAttr])
    mode = prop_def(StringAttr)
    coordinate_transformation_mode = prop_def(StringAttr)
    nearest_mode = prop_def(StringAttr)
    cubic_coeff_a = prop_def(FloatAttr)
    exclude_outside = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        if self.mode.data not in ("nearest", "linear", "cubic"):
            raise VerifyException(f"unknown resize mode '{self.mode.data}'")
        if len(self.scales.data) != len(shape_of(self.input)):
            raise VerifyException("scales need one value per input dim")


@irdl_op_definition
class ResizeScaledOp(NNOp):
    """nn.resize whose per-dim scales (the coordinate mapping's factors) are an operand computed at run time;
    the output shape is static all the same."""

    name = "nn.resize_scaled"
    input = operand_def(TensorType)
    scales = operand_def(TensorType)
    result = result_def(TensorType)
    mode = prop_def(StringAttr)
    coordinate_transformation_mode = prop_def(StringAttr)
    nearest_mode = prop_def(StringAttr)
    cubic_coeff_a = prop_def(FloatAttr)
    exclude_outside = prop_def(BoolAttr)
    assembly_format = "$input `,` $scales attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        if self.mode.data not in ("nearest", "linear", "cubic"):
            raise VerifyException(f"unknown resize mode '{self.mode.data}'")
        if shape_of(self.scales) != (len(shape_of(self.input)),):
            raise VerifyException(f"scales need one value per input dim, got shape {fmt_shape(shape_of(self.scales))}")
        if len(shape_of(self.result)) != len(shape_of(self.input)):
            raise VerifyException("result rank differs from input rank")


# ---------------------------------------------------------------------------------------------
# reductions


class ReduceOp(NNOp):
    """Reduction over `axes` (all dims when empty), keeping reduced dims as 1 when keepdims."""

    input = operand_def(TensorType)
    result = result_def(TensorType)
    axes = prop_def(DenseArrayBase)
    keepdims = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x = shape_of(self.input)
        axes = {_check_axis(a, len(x), "reduction axis") for a in _ints(self.axes)} or set(range(len(x)))
        keep = self.keepdims.value.data
        out = tuple(1 if i in axes else n for i, n in enumerate(x) if keep or i not in axes)
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


def _reduce(op_name: str, doc: str) -> type[ReduceOp]:
    cls = type(op_name.split(".")[1].title().replace("_", "") + "Op", (ReduceOp,), {"name": op_name, "__doc__": doc})
    return irdl_op_definition(cls)


ReduceSumOp = _reduce("nn.reduce_sum", "Sum over axes.")
ReduceMeanOp = _reduce("nn.reduce_mean", "Mean over axes.")
ReduceMaxOp = _reduce("nn.reduce_max", "Maximum over axes.")
ReduceMinOp = _reduce("nn.reduce_min", "Minimum over axes.")
ReduceProdOp = _reduce("nn.reduce_prod", "Product over axes.")
ReduceL1Op = _reduce("nn.reduce_l1", "Sum of |x| over axes.")
ReduceL2Op = _reduce("nn.reduce_l2", "sqrt(sum of x^2) over axes.")
ReduceSumSquareOp = _reduce("nn.reduce_sum_square", "Sum of x^2 over axes.")
ReduceLogSumOp = _reduce("nn.reduce_log_sum", "log(sum) over axes.")
ReduceLogSumExpOp = _reduce("nn.reduce_log_sum_exp", "log(sum(e^x)) over axes.")


class _ArgBase(NNOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    keepdims = prop_def(BoolAttr)
    select_last_index = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x = shape_of(self.input)
        axis = _check_axis(self.axis.value.data, len(x))
        keep = self.keepdims.value.data
        out = tuple(1 if i == axis else n for i, n in enumerate(x) if keep or i != axis)
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class ArgMaxOp(_ArgBase):
    """Index of the maximum along an axis (int64)."""

    name = "nn.arg_max"


@irdl_op_definition
class ArgMinOp(_ArgBase):
    """Index of the minimum along an axis (int64)."""

    name = "nn.arg_min"


# ---------------------------------------------------------------------------------------------
# data layout


@irdl_op_definition
class ReshapeOp(UnaryOp):
    """Same elements, the result type's shape (covers Reshape, Flatten, Squeeze, Unsqueeze)."""

    name = "nn.reshape"

    def verify_(self) -> None:
        import math

        a, b = shape_of(self.input), shape_of(self.result)
        if math.prod(a) != math.prod(b):
            raise VerifyException(f"cannot reshape {fmt_shape(a)} into {fmt_shape(b)}: element counts differ")


@irdl_op_definition
class BroadcastOp(UnaryOp):
    """Broadcast to the result type's shape (ONNX Expand)."""

    name = "nn.broadcast"

    def verify_(self) -> None:
        a, b = shape_of(self.input), shape_of(self.result)
        if broadcast_shapes(a, b) != b:
            raise VerifyException(f"cannot broadcast {fmt_shape(a)} to {fmt_shape(b)}")


@irdl_op_definition
class TransposeOp(UnaryOp):
    """Permute dims: result dim i is input dim perm[i]."""

    name = "nn.transpose"
    perm = prop_def(DenseArrayBase)

    def verify_(self) -> None:
        a, perm = shape_of(self.input), _ints(self.perm)
        if sorted(perm) != list(range(len(a))):
            raise VerifyException(f"perm {list(perm)} is not a permutation of {len(a)} dims")
        if tuple(a[p] for p in perm) != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))} does not match perm")


@irdl_op_definition
class SliceOp(UnaryOp):
    """Strided slice with one (start, end, step) per dim, already clamped to the input."""

    name = "nn.slice"
    starts = prop_def(DenseArrayBase)
    ends = prop_def(DenseArrayBase)
    steps = prop_def(DenseArrayBase)

    def verify_(self) -> None:
        a = shape_of(self.input)
        st, en, sp = _ints(self.starts), _ints(self.ends), _ints(self.steps)
        if not len(st) == len(en) == len(sp) == len(a):
            raise VerifyException(f"starts/ends/steps need {len(a)} values each")
        if any(s == 0 for s in sp):
            raise VerifyException("slice step must not be 0")
        out = tuple(len(range(s, e, p)) for s, e, p in zip(st, en, sp))
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class ConcatOp(NNOp):
    """Concatenate along `axis`."""

    name = "nn.concat"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    assembly_format = _FORMAT_N

    def verify_(self) -> None:
        verify_concat(list(self.inputs), self.axis.value.data, self.result)


def verify_concat(inputs: Sequence[SSAValue], axis: int, result: SSAValue) -> None:
    """Shared by nn.concat and digital.join."""
    shapes = [shape_of(v) for v in inputs]
    axis = _check_axis(axis, len(shapes[0])) if shapes else 0
    out = concat_shape(shapes, axis)
    if isinstance(out, str):
        raise VerifyException(out)
    if out != shape_of(result):
        raise VerifyException(f"result shape {fmt_shape(shape_of(result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class GatherOp(NNOp):
    """numpy.take(data, indices, axis) with negative indices wrapped (ONNX Gather)."""

    name = "nn.gather"
    data = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    assembly_format = "$data `,` $indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        d, i = shape_of(self.data), shape_of(self.indices)
        axis = _check_axis(self.axis.value.data, len(d))
        out = d[:axis] + i + d[axis + 1 :]
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class GatherElementsOp(NNOp):
    """numpy.take_along_axis (ONNX GatherElements)."""

    name = "nn.gather_elements"
    data = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    assembly_format = "$data `,` $indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        _check_axis(self.axis.value.data, len(shape_of(self.data)))
        if shape_of(self.indices) != shape_of(self.result):
            raise VerifyException("result shape differs from indices shape")


@irdl_op_definition
class GatherNDOp(NNOp):
    """ONNX GatherND with batch_dims."""

    name = "nn.gather_nd"
    data = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    batch_dims = prop_def(IntegerAttr)
    assembly_format = "$data `,` $indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        d, i = shape_of(self.data), shape_of(self.indices)
        b = self.batch_dims.value.data
        if not i or i[-1] > len(d) - b:
            raise VerifyException(f"index depth {i[-1] if i else 0} exceeds data rank {len(d)} - batch_dims {b}")
        out = i[:-1] + d[b + i[-1] :]
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class PadOp(UnaryOp):
    """Pad with [begin..., end...] amounts (negative crops); mode constant, reflect, edge or wrap."""

    name = "nn.pad"
    pads = prop_def(DenseArrayBase)
    mode = prop_def(StringAttr)
    value = prop_def(FloatAttr)

    def verify_(self) -> None:
        a, p = shape_of(self.input), _ints(self.pads)
        if len(p) != 2 * len(a):
            raise VerifyException(f"pads need {2 * len(a)} values, got {len(p)}")
        if self.mode.data not in ("constant", "reflect", "edge", "wrap"):
            raise VerifyException(f"unknown pad mode '{self.mode.data}'")
        out = tuple(n + p[i] + p[len(a) + i] for i, n in enumerate(a))
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class TileOp(UnaryOp):
    """Repeat the tensor `repeats[i]` times along dim i."""

    name = "nn.tile"
    repeats = prop_def(DenseArrayBase)

    def verify_(self) -> None:
        a, r = shape_of(self.input), _ints(self.repeats)
        out = tuple(n * k for n, k in zip(a, r))
        if len(r) != len(a) or out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))} does not match repeats {list(r)}")


@irdl_op_definition
class SplitOp(NNOp):
    """Split along `axis` into pieces of the given sizes (one result each)."""

    name = "nn.split"
    input = operand_def(TensorType)
    outputs = var_result_def(TensorType)
    axis = prop_def(IntegerAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        a = shape_of(self.input)
        axis = _check_axis(self.axis.value.data, len(a))
        outs = [shape_of(r) for r in self.outputs]
        if any(len(o) != len(a) for o in outs) or sum(o[axis] for o in outs) != a[axis] or any(
            any(o[i] != a[i] for i in range(len(a)) if i != axis) for o in outs
        ):
            raise VerifyException(f"results {', '.join(map(fmt_shape, outs))} do not split {fmt_shape(a)}")


# ---------------------------------------------------------------------------------------------
# the long tail of the standard domain: more elementwise maps, scans, selection, scatter, einsum


TanOp = _unary("nn.tan", "Tangent.")
AsinOp = _unary("nn.asin", "Arcsine.")
AcosOp = _unary("nn.acos", "Arccosine.")
AtanOp = _unary("nn.atan", "Arctangent.")
SinhOp = _unary("nn.sinh", "Hyperbolic sine.")
CoshOp = _unary("nn.cosh", "Hyperbolic cosine.")
AsinhOp = _unary("nn.asinh", "Inverse hyperbolic sine.")
AcoshOp = _unary("nn.acosh", "Inverse hyperbolic cosine.")
AtanhOp = _unary("nn.atanh", "Inverse hyperbolic tangent.")
SoftsignOp = _unary("nn.softsign", "x / (1 + |x|).")
MishOp = _unary("nn.mish", "x * tanh(softplus(x)).")
IsNanOp = _unary("nn.is_nan", "x != x (boolean result).")
BitwiseNotOp = _unary("nn.bitwise_not", "Bitwise complement of an integer tensor.")

BitwiseAndOp = _binary("nn.bitwise_and", "Bitwise and of integer tensors.")
BitwiseOrOp = _binary("nn.bitwise_or", "Bitwise or of integer tensors.")
BitwiseXorOp = _binary("nn.bitwise_xor", "Bitwise xor of integer tensors.")


@irdl_op_definition
class ModOp(BinaryOp):
    """Remainder: the divisor's sign (`fmod` false, integers only, Python %) or the dividend's (`fmod` true, C fmod)."""

    name = "nn.mod"
    fmod = prop_def(BoolAttr)


@irdl_op_definition
class BitShiftOp(BinaryOp):
    """Logical shift of unsigned integers, `left` or `right`, by the second operand's amounts."""

    name = "nn.bit_shift"
    direction = prop_def(StringAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.direction.data not in ("left", "right"):
            raise VerifyException(f"direction must be 'left' or 'right', got '{self.direction.data}'")


@irdl_op_definition
class IsInfOp(UnaryOp):
    """x is +inf (when detect_positive) or -inf (when detect_negative); boolean result."""

    name = "nn.is_inf"
    detect_positive = prop_def(BoolAttr)
    detect_negative = prop_def(BoolAttr)


@irdl_op_definition
class SeluOp(UnaryOp):
    """gamma * (x if x > 0 else alpha * (e^x - 1))."""

    name = "nn.selu"
    alpha = prop_def(FloatAttr)
    gamma = prop_def(FloatAttr)


@irdl_op_definition
class CeluOp(UnaryOp):
    """max(0, x) + min(0, alpha * (e^(x/alpha) - 1))."""

    name = "nn.celu"
    alpha = prop_def(FloatAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.alpha.value.data == 0:
            raise VerifyException("alpha must not be 0")


@irdl_op_definition
class ThresholdedReluOp(UnaryOp):
    """x if x > alpha else 0."""

    name = "nn.thresholded_relu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class ShrinkOp(UnaryOp):
    """x + bias if x < -lambd, x - bias if x > lambd, else 0."""

    name = "nn.shrink"
    bias = prop_def(FloatAttr)
    lambd = prop_def(FloatAttr)


@irdl_op_definition
class SwishOp(UnaryOp):
    """x * sigmoid(alpha * x)."""

    name = "nn.swish"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class HardmaxOp(_AxisOp):
    """1 at the first maximum along `axis`, 0 elsewhere."""

    name = "nn.hardmax"


@irdl_op_definition
class LpNormOp(_AxisOp):
    """x / ||x||_p along `axis` (p is 1 or 2)."""

    name = "nn.lp_norm"
    p = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.p.value.data not in (1, 2):
            raise VerifyException(f"p must be 1 or 2, got {self.p.value.data}")


class _ScanBase(_AxisOp):
    exclusive = prop_def(BoolAttr)
    reverse = prop_def(BoolAttr)


@irdl_op_definition
class CumSumOp(_ScanBase):
    """Running sum along `axis`; `exclusive` leaves out the element itself, `reverse` runs from the end."""

    name = "nn.cumsum"


@irdl_op_definition
class CumProdOp(_ScanBase):
    """Running product along `axis`; `exclusive` and `reverse` as nn.cumsum."""

    name = "nn.cumprod"


@irdl_op_definition
class TriluOp(UnaryOp):
    """Keep the upper (`upper`) or lower triangle of the last two dims, offset by diagonal `k`; zero the rest."""

    name = "nn.trilu"
    upper = prop_def(BoolAttr)
    k = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        if len(shape_of(self.input)) < 2:
            raise VerifyException("trilu needs an input of rank >= 2")


@irdl_op_definition
class TopKOp(NNOp):
    """The k largest (`largest`) or smallest values along `axis` and their int64 indices; ties keep the lower
    index first. `sorted` false still returns them sorted (a valid order)."""

    name = "nn.top_k"
    input = operand_def(TensorType)
    values = result_def(TensorType)
    indices = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    k = prop_def(IntegerAttr)
    largest = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x = shape_of(self.input)
        axis = _check_axis(self.axis.value.data, len(x))
        k = self.k.value.data
        if not 0 <= k <= (x[axis] if x else 1):
            raise VerifyException(f"k {k} is out of range for axis {axis} of {fmt_shape(x)}")
        out = tuple(k if i == axis else n for i, n in enumerate(x))
        for r in (self.values, self.indices):
            if shape_of(r) != out:
                raise VerifyException(f"result shape {fmt_shape(shape_of(r))}, expected {fmt_shape(out)}")


@irdl_op_definition
class OneHotOp(NNOp):
    """values[1] where indices (negative ones wrapped by depth) hit position i along the new axis, else
    values[0]; out-of-range indices give an all-off row."""

    name = "nn.one_hot"
    indices = operand_def(TensorType)
    values = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    depth = prop_def(IntegerAttr)
    assembly_format = "$indices `,` $values attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        i = shape_of(self.indices)
        if shape_of(self.values) != (2,):
            raise VerifyException(f"values must have shape [2], got {fmt_shape(shape_of(self.values))}")
        axis = _check_axis(self.axis.value.data, len(i) + 1)
        out = i[:axis] + (self.depth.value.data,) + i[axis:]
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


_REDUCTIONS = ("none", "add", "mul", "max", "min")


class _ScatterBase(NNOp):
    data = operand_def(TensorType)
    indices = operand_def(TensorType)
    updates = operand_def(TensorType)
    result = result_def(TensorType)
    reduction = prop_def(StringAttr)
    assembly_format = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        if self.reduction.data not in _REDUCTIONS:
            raise VerifyException(f"reduction must be one of {', '.join(_REDUCTIONS)}, got '{self.reduction.data}'")
        if shape_of(self.result) != shape_of(self.data):
            raise VerifyException("result shape differs from data shape")


@irdl_op_definition
class ScatterElementsOp(_ScatterBase):
    """A copy of data with updates written (or combined by `reduction`) at indices along `axis`."""

    name = "nn.scatter_elements"
    axis = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        _check_axis(self.axis.value.data, len(shape_of(self.data)))
        if shape_of(self.indices) != shape_of(self.updates) or len(shape_of(self.indices)) != len(shape_of(self.data)):
            raise VerifyException("indices and updates must have one shape, of the data's rank")


@irdl_op_definition
class ScatterNDOp(_ScatterBase):
    """A copy of data with updates written (or combined by `reduction`) at the index tuples of indices[..., :]."""

    name = "nn.scatter_nd"

    def verify_(self) -> None:
        super().verify_()
        d, i, u = shape_of(self.data), shape_of(self.indices), shape_of(self.updates)
        if not i or i[-1] > len(d):
            raise VerifyException(f"index depth {i[-1] if i else 0} exceeds data rank {len(d)}")
        if u != i[:-1] + d[i[-1]:]:
            raise VerifyException(f"updates shape {fmt_shape(u)}, expected {fmt_shape(i[:-1] + d[i[-1]:])}")


def _einsum_term(term: str, shape: tuple[int, ...]) -> tuple[list[tuple[str, int]], tuple[int, ...]] | str:
    """(label, size) pairs of one operand term and the dims its `...` covers, or why they do not fit."""
    head, dots, tail = term.partition("...")
    if not (head + tail).isalpha() and (head + tail):
        return f"bad term '{term}'"
    n_ell = len(shape) - len(head) - len(tail)
    if n_ell < 0 or (n_ell and not dots):
        return f"term '{term}' does not fit an operand of rank {len(shape)}"
    labels = list(zip(head, shape[:len(head)])) + list(zip(tail, shape[len(shape) - len(tail):]))
    return labels, shape[len(head):len(head) + n_ell]


def einsum_shape(equation: str, shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...] | str:
    """The result shape of an einsum equation (explicit or implicit output, `...` broadcast), or why not."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        return f"equation has {len(terms)} operand terms for {len(shapes)} operands"
    dims: dict[str, int] = {}
    counts: dict[str, int] = {}
    ell: tuple[int, ...] = ()
    for term, shape in zip(terms, shapes):
        parsed = _einsum_term(term, shape)
        if isinstance(parsed, str):
            return parsed
        labels, sub = parsed
        b = broadcast_shapes(ell, sub)
        if b is None:
            return f"'...' dims {fmt_shape(ell)} and {fmt_shape(sub)} do not broadcast"
        ell = b
        for c, d in labels:
            if c in dims and dims[c] != d and 1 not in (dims[c], d):
                return f"label '{c}' has sizes {dims[c]} and {d}"
            dims[c] = max(dims.get(c, d), d)
            counts[c] = counts.get(c, 0) + 1
    if not arrow:
        return ell + tuple(dims[c] for c in sorted(c for c in dims if counts[c] == 1))
    head, dots, tail = rhs.partition("...")
    out = head + tail
    if any(c not in dims for c in out) or len(set(out)) != len(out):
        return f"output term '{rhs}' names an unknown or repeated label"
    return tuple(dims[c] for c in head) + (ell if dots else ()) + tuple(dims[c] for c in tail)


@irdl_op_definition
class EinsumOp(NNOp):
    """numpy.einsum with the ONNX equation (explicit `->` output or the implicit alphabetical one)."""

    name = "nn.einsum"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    equation = prop_def(StringAttr)
    assembly_format = _FORMAT_N

    def verify_(self) -> None:
        out = einsum_shape(self.equation.data, [shape_of(v) for v in self.inputs])
        if isinstance(out, str):
            raise VerifyException(out)
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class LpPoolOp(_PoolBase):
    """(sum over the window of |x|^p)^(1/p); padding contributes zeros."""

    name = "nn.lp_pool"
    p = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.p.value.data < 1:
            raise VerifyException(f"p must be >= 1, got {self.p.value.data}")


@irdl_op_definition
class InstanceNormOp(NNOp):
    """Per sample and channel: scale[c] * (x - mean) / sqrt(var + epsilon) + bias[c] over the spatial dims."""

    name = "nn.instance_norm"
    x = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    result = result_def(TensorType)
    epsilon = prop_def(FloatAttr)
    assembly_format = "$x `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x = shape_of(self.x)
        if len(x) < 3:
            raise VerifyException("instance_norm input must have rank >= 3")
        for v in (self.scale, self.bias):
            if shape_of(v) != (x[1],):
                raise VerifyException(f"per-channel operand of shape {fmt_shape(shape_of(v))}, expected [{x[1]}]")
        if shape_of(self.result) != x:
            raise VerifyException("result shape differs from input shape")


@irdl_op_definition
class GridSampleOp(NNOp):
    """ONNX GridSample: sample x [N, C, D...] at the normalised coordinates of grid [N, D_out..., r]."""

    name = "nn.grid_sample"
    x = operand_def(TensorType)
    grid = operand_def(TensorType)
    result = result_def(TensorType)
    mode = prop_def(StringAttr)
    padding_mode = prop_def(StringAttr)
    align_corners = prop_def(BoolAttr)
    assembly_format = "$x `,` $grid attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x, g = shape_of(self.x), shape_of(self.grid)
        r = len(x) - 2
        if r < 1 or len(g) != r + 2 or g[0] != x[0] or g[-1] != r:
            raise VerifyException(f"grid {fmt_shape(g)} does not fit input {fmt_shape(x)}")
        if self.mode.data not in ("nearest", "linear", "cubic"):
            raise VerifyException(f"unknown mode '{self.mode.data}'")
        if self.padding_mode.data not in ("zeros", "border", "reflection"):
            raise VerifyException(f"unknown padding_mode '{self.padding_mode.data}'")
        out = (x[0], x[1]) + g[1:-1]
        if out != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


@irdl_op_definition
class BitCastOp(UnaryOp):
    """The same bytes read as the result's element type (of the same bit width); no value conversion."""

    name = "nn.bitcast"

    def verify_(self) -> None:
        super().verify_()
        from h3pc.dialects.types import numpy_dtype

        a, b = self.input.type.element_type, self.result.type.element_type  # type: ignore[attr-defined]
        if numpy_dtype(a).itemsize != numpy_dtype(b).itemsize:
            raise VerifyException(f"bit widths differ: {a} and {b}")


@irdl_op_definition
class DetOp(NNOp):
    """Determinant of each square matrix in the last two dims: [*, M, M] -> [*]."""

    name = "nn.det"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x = shape_of(self.input)
        if len(x) < 2 or x[-1] != x[-2]:
            raise VerifyException(f"input {fmt_shape(x)} is not a (batch of) square matrices")
        if shape_of(self.result) != x[:-2]:
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(x[:-2])}")


@irdl_op_definition
class ReverseSequenceOp(NNOp):
    """Per batch entry b, the first seq_lens[b] elements along `time_axis` reversed; the rest copied."""

    name = "nn.reverse_sequence"
    input = operand_def(TensorType)
    seq_lens = operand_def(TensorType)
    result = result_def(TensorType)
    batch_axis = prop_def(IntegerAttr)
    time_axis = prop_def(IntegerAttr)
    assembly_format = "$input `,` $seq_lens attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x = shape_of(self.input)
        b, t = self.batch_axis.value.data, self.time_axis.value.data
        if len(x) < 2 or {b, t} not in ({0, 1},):
            raise VerifyException(f"batch_axis {b} and time_axis {t} must be 0 and 1 of a rank >= 2 input")
        if shape_of(self.seq_lens) != (x[b],):
            raise VerifyException(f"seq_lens of shape {fmt_shape(shape_of(self.seq_lens))}, expected [{x[b]}]")
        if shape_of(self.result) != x:
            raise VerifyException("result shape differs from input shape")


@irdl_op_definition
class RotaryEmbeddingOp(NNOp):
    """Rotary position embedding (ONNX RotaryEmbedding) with the caches already gathered to [B, S, rotary_dim/2]."""

    name = "nn.rotary_embedding"
    input = operand_def(TensorType)
    cos = operand_def(TensorType)
    sin = operand_def(TensorType)
    result = result_def(TensorType)
    interleaved = prop_def(BoolAttr)
    num_heads = prop_def(IntegerAttr)
    rotary_dim = prop_def(IntegerAttr)
    assembly_format = "$input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x = shape_of(self.input)
        heads, rd = self.num_heads.value.data, self.rotary_dim.value.data
        if len(x) == 4:
            b, s, head = x[0], x[2], x[3]
        elif len(x) == 3 and heads > 0 and x[2] % heads == 0:
            b, s, head = x[0], x[1], x[2] // heads
        else:
            raise VerifyException(f"input {fmt_shape(x)} must be [B, H, S, D], or [B, S, H*D] with num_heads H")
        if rd <= 0 or rd % 2 or rd > head:
            raise VerifyException(f"rotary_dim {rd} must be even and within the head size {head}")
        for c in (self.cos, self.sin):
            if shape_of(c) != (b, s, rd // 2):
                raise VerifyException(
                    f"cos/sin of shape {fmt_shape(shape_of(c))}, expected {fmt_shape((b, s, rd // 2))}")
        if shape_of(self.result) != x:
            raise VerifyException("result shape differs from input shape")


@irdl_op_definition
class DFTOp(NNOp):
    """DFT along `axis` of a real ([..., 1]) or complex ([..., 2]) signal, zero-padded or cut to `length`;
    `inverse` scales by 1/length; `onesided` keeps the length//2 + 1 non-negative frequencies (with
    `inverse`: the input is that half spectrum and the result the real signal of `length`, [..., 1])."""

    name = "nn.dft"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    length = prop_def(IntegerAttr)
    inverse = prop_def(BoolAttr)
    onesided = prop_def(BoolAttr)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x = shape_of(self.input)
        axis, n = self.axis.value.data, self.length.value.data
        if len(x) < 2 or x[-1] not in (1, 2) or not 0 <= axis < len(x) - 1:
            raise VerifyException(f"input {fmt_shape(x)} with axis {axis}: needs [..., 1 or 2] and a signal axis")
        if n < 1:
            raise VerifyException(f"length {n} must be >= 1")
        inverse, onesided = self.inverse.value.data, self.onesided.value.data
        out = list(x[:-1]) + [1 if inverse and onesided else 2]
        out[axis] = n // 2 + 1 if onesided and not inverse else n
        if tuple(out) != shape_of(self.result):
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(out)}")


_UPDATE_RULES = ("linear", "gated", "delta", "gated_delta")


@irdl_op_definition
class LinearAttentionOp(NNOp):
    """ONNX LinearAttention, token by token: a [B, H_kv, d_k, d_v] state updated by `update_rule` (decay and
    beta are read only by the rules that use them) and read by every query head. Results: the output
    [B, T, H_q * d_v] and the final state."""

    name = "nn.linear_attention"
    query = operand_def(TensorType)
    key = operand_def(TensorType)
    value = operand_def(TensorType)
    past_state = operand_def(TensorType)
    decay = operand_def(TensorType)
    beta = operand_def(TensorType)
    output = result_def(TensorType)
    present_state = result_def(TensorType)
    q_num_heads = prop_def(IntegerAttr)
    kv_num_heads = prop_def(IntegerAttr)
    scale = prop_def(FloatAttr)
    update_rule = prop_def(StringAttr)
    assembly_format = (
        "$query `,` $key `,` $value `,` $past_state `,` $decay `,` $beta attr-dict `:` "
        "functional-type(operands, results)"
    )

    def verify_(self) -> None:
        q, k, v = shape_of(self.query), shape_of(self.key), shape_of(self.value)
        hq, hk = self.q_num_heads.value.data, self.kv_num_heads.value.data
        if self.update_rule.data not in _UPDATE_RULES:
            raise VerifyException(f"update_rule must be one of {', '.join(_UPDATE_RULES)}")
        if hq < 1 or hk < 1 or hq % hk:
            raise VerifyException(f"q_num_heads {hq} must be a positive multiple of kv_num_heads {hk}")
        if len(q) != 3 or len(k) != 3 or len(v) != 3 or q[:2] != k[:2] or q[:2] != v[:2]:
            raise VerifyException(
                f"query {fmt_shape(q)}, key {fmt_shape(k)}, value {fmt_shape(v)} must be [B, T, H*D]")
        if q[2] % hq or k[2] % hk or v[2] % hk or q[2] // hq != k[2] // hk:
            raise VerifyException("head sizes do not divide, or query and key head sizes differ")
        b, t, dk, dv = q[0], q[1], q[2] // hq, v[2] // hk
        if shape_of(self.past_state) != (b, hk, dk, dv) or shape_of(self.present_state) != (b, hk, dk, dv):
            raise VerifyException(f"state shapes must be {fmt_shape((b, hk, dk, dv))}")
        if shape_of(self.decay)[:2] != (b, t) or shape_of(self.decay)[2] not in (hk, hk * dk):
            raise VerifyException(f"decay of shape {fmt_shape(shape_of(self.decay))} does not fit")
        if shape_of(self.beta)[:2] != (b, t) or shape_of(self.beta)[2] not in (hk, 1):
            raise VerifyException(f"beta of shape {fmt_shape(shape_of(self.beta))} does not fit")
        if shape_of(self.output) != (b, t, hq * dv):
            raise VerifyException(
                f"output shape {fmt_shape(shape_of(self.output))}, expected {fmt_shape((b, t, hq * dv))}")


@irdl_op_definition
class TensorScatterOp(NNOp):
    """A KV-cache write (ONNX TensorScatter): a copy of the cache with `update` written along `axis` from each
    batch entry's write index on (modulo the cache length when `circular`)."""

    name = "nn.tensor_scatter"
    cache = operand_def(TensorType)
    update = operand_def(TensorType)
    write_indices = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)
    circular = prop_def(BoolAttr)
    assembly_format = "$cache `,` $update `,` $write_indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        c, u = shape_of(self.cache), shape_of(self.update)
        axis = self.axis.value.data
        if not 1 <= axis < len(c) or len(u) != len(c):
            raise VerifyException(f"axis {axis} must be a non-batch axis of a cache {fmt_shape(c)} and its update")
        if any(c[i] != u[i] for i in range(len(c)) if i != axis) or u[axis] > c[axis]:
            raise VerifyException(f"update {fmt_shape(u)} does not fit cache {fmt_shape(c)} along axis {axis}")
        if shape_of(self.write_indices) != (c[0],):
            raise VerifyException(
                f"write_indices of shape {fmt_shape(shape_of(self.write_indices))}, expected [{c[0]}]")
        if shape_of(self.result) != c:
            raise VerifyException("result shape differs from the cache's")


@irdl_op_definition
class RoiAlignOp(NNOp):
    """ONNX RoiAlign: per region of interest [x1, y1, x2, y2] (times spatial_scale) on image batch_indices[r],
    a bilinear sample grid per output bin, averaged (`avg`) or maxed (`max`); result [R, C, H_out, W_out]."""

    name = "nn.roi_align"
    input = operand_def(TensorType)
    rois = operand_def(TensorType)
    batch_indices = operand_def(TensorType)
    result = result_def(TensorType)
    mode = prop_def(StringAttr)
    sampling_ratio = prop_def(IntegerAttr)
    spatial_scale = prop_def(FloatAttr)
    half_pixel = prop_def(BoolAttr)
    assembly_format = "$input `,` $rois `,` $batch_indices attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        x, r, b, y = shape_of(self.input), shape_of(self.rois), shape_of(self.batch_indices), shape_of(self.result)
        if len(x) != 4 or len(r) != 2 or r[1] != 4 or b != (r[0],):
            raise VerifyException(f"input {fmt_shape(x)}, rois {fmt_shape(r)}, batch_indices {fmt_shape(b)} must be "
                                  "[N, C, H, W], [R, 4], [R]")
        if len(y) != 4 or y[:2] != (r[0], x[1]):
            raise VerifyException(f"result {fmt_shape(y)} must be [{r[0]}, {x[1]}, H_out, W_out]")
        if self.mode.data not in ("avg", "max"):
            raise VerifyException(f"mode must be 'avg' or 'max', got '{self.mode.data}'")


@irdl_op_definition
class DeformConvOp(NNOp):
    """2-D deformable convolution (ONNX DeformConv): each kernel tap reads the input at its regular position
    plus a learned offset (bilinear, zeros outside), scaled by the mask; then a grouped convolution."""

    name = "nn.deform_conv"
    x = operand_def(TensorType)
    w = operand_def(TensorType)
    offset = operand_def(TensorType)
    b = operand_def(TensorType)
    mask = operand_def(TensorType)
    result = result_def(TensorType)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    group = prop_def(IntegerAttr)
    offset_group = prop_def(IntegerAttr)
    assembly_format = (
        "$x `,` $w `,` $offset `,` $b `,` $mask attr-dict `:` functional-type(operands, results)"
    )

    def verify_(self) -> None:
        x, w, off, y = shape_of(self.x), shape_of(self.w), shape_of(self.offset), shape_of(self.result)
        g, og = self.group.value.data, self.offset_group.value.data
        if len(x) != 4 or len(w) != 4:
            raise VerifyException(f"input {fmt_shape(x)} and weight {fmt_shape(w)} must be 4-D (2-D deformable conv)")
        check_window_attrs(2, strides=self.strides, dilations=self.dilations, pads=self.pads)
        if g < 1 or og < 1 or x[1] != w[1] * g or w[0] % g or x[1] % og:
            raise VerifyException(f"channels {x[1]} / {w[0]} do not fit group {g} and offset_group {og}")
        out = (x[0], w[0]) + window_out(x[2:], w[2:], _ints(self.strides), _ints(self.pads), _ints(self.dilations))
        if y != out:
            raise VerifyException(f"result shape {fmt_shape(y)}, expected {fmt_shape(out)}")
        taps = w[2] * w[3]
        if off != (x[0], og * taps * 2) + out[2:] or shape_of(self.mask) != (x[0], og * taps) + out[2:]:
            raise VerifyException(f"offset {fmt_shape(off)} / mask {fmt_shape(shape_of(self.mask))} do not fit "
                                  f"{og} offset groups of {taps} taps over {fmt_shape(out[2:])}")
        if shape_of(self.b) != (w[0],):
            raise VerifyException(f"bias of shape {fmt_shape(shape_of(self.b))}, expected [{w[0]}]")


def col2im_blocks(image: Sequence[int], block: Sequence[int], strides: Sequence[int], pads: Sequence[int],
                  dilations: Sequence[int]) -> int:
    """How many block positions fit in the padded image (0 when the block does not fit)."""
    r, count = len(image), 1
    for i in range(r):
        span = image[i] + pads[i] + pads[r + i] - dilations[i] * (block[i] - 1) - 1
        if span < 0:
            return 0
        count *= span // strides[i] + 1
    return count


@irdl_op_definition
class Col2ImOp(NNOp):
    """ONNX Col2Im: sum the columns [N, C * prod(block), L] back into an image [N, C, *image] (the inverse of
    im2col; overlapping taps add, padding taps are dropped)."""

    name = "nn.col2im"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    block = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    pads = prop_def(DenseArrayBase)
    dilations = prop_def(DenseArrayBase)
    assembly_format = _FORMAT_1

    def verify_(self) -> None:
        x, y = shape_of(self.input), shape_of(self.result)
        block, st, pd, dl = _ints(self.block), _ints(self.strides), _ints(self.pads), _ints(self.dilations)
        r = len(y) - 2
        if len(x) != 3 or r < 1 or len(block) != r or len(st) != r or len(dl) != r or len(pd) != 2 * r:
            raise VerifyException(f"input {fmt_shape(x)} and result {fmt_shape(y)} do not fit a {len(block)}-D block")
        prod = 1
        for b in block:
            prod *= b
        if x[0] != y[0] or x[1] != y[1] * prod or x[2] != col2im_blocks(y[2:], block, st, pd, dl):
            raise VerifyException(f"columns {fmt_shape(x)} do not fit image {fmt_shape(y)} with block {list(block)}")


NN_OPS: list[type[IRDLOperation]] = [
    v for v in list(globals().values()) if isinstance(v, type) and issubclass(v, NNOp) and "name" in v.__dict__
]

NN = Dialect("nn", NN_OPS, [])

__all__ = ["NN", "NN_OPS", "ConstantOp", "ints_attr", "int_attr", "float_attr", "shape_of"]
