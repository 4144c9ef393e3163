"""The `pim` dialect: weight-stationary crossbar tiers, SRAM-PIM and ReRAM-PIM.

One dialect serves both technologies; `#pim.kind<sram>` / `#pim.kind<reram>` says which. Weights are
written once (`pim.program`, charged at load time and counted against endurance) and then read by
every `pim.mvm`.
"""

from __future__ import annotations

import math

from xdsl.dialects.builtin import (ArrayAttr, DenseArrayBase, FloatAttr, IntAttr, IntegerAttr, StringAttr, TensorType,
                                   UnitAttr)
from xdsl.ir import Dialect, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from h3pc.dialects.nn import shape_of
from h3pc.dialects.photonic import verify_bits
from h3pc.dialects.shapes import fmt_shape

KINDS = ("sram", "reram")


def _verify_kind(kind: str) -> None:
    if kind not in KINDS:
        raise VerifyException(f"PIM kind must be one of {', '.join(KINDS)}, got '{kind}'")


@irdl_attr_definition
class KindAttr(ParametrizedAttribute):
    """Which PIM technology: `#pim.kind<sram>` or `#pim.kind<reram>`."""

    name = "pim.kind"
    kind: StringAttr

    def __init__(self, kind: str | StringAttr) -> None:
        super().__init__(StringAttr(kind) if isinstance(kind, str) else kind)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list:
        with parser.in_angle_brackets():
            return [StringAttr(parser.parse_identifier())]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.kind.data}>")

    def verify(self) -> None:
        _verify_kind(self.kind.data)


@irdl_attr_definition
class CrossbarsType(ParametrizedAttribute, TypeAttribute):
    """A weight matrix programmed into crossbars of one PIM kind: `!pim.crossbars<reram, 256x64>`, or
    `!pim.crossbars<sram, 4x9x8>` for 4 independent groups (grouped convolution) of 9x8 each."""

    name = "pim.crossbars"
    kind: StringAttr
    dims: ArrayAttr[IntAttr]

    def __init__(self, kind: str, *dims: int) -> None:
        super().__init__(StringAttr(kind), ArrayAttr([IntAttr(d) for d in dims]))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.dims.data)

    @property
    def groups(self) -> int:
        return self.shape[0] if len(self.shape) == 3 else 1

    @property
    def rows(self) -> int:
        return self.shape[-2]

    @property
    def cols(self) -> int:
        return self.shape[-1]

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list:
        with parser.in_angle_brackets():
            kind = parser.parse_identifier()
            parser.parse_punctuation(",")
            dims = parser.parse_dimension_list()
            return [StringAttr(kind), ArrayAttr([IntAttr(d) for d in dims])]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.kind.data}, {'x'.join(str(d) for d in self.shape)}>")

    def verify(self) -> None:
        _verify_kind(self.kind.data)
        if len(self.shape) not in (2, 3):
            raise VerifyException(f"crossbars hold a rows x cols matrix or groups x rows x cols, got {len(self.shape)} dims")
        if any(d < 1 for d in self.shape):
            raise VerifyException("crossbar matrix dims must be positive")


@irdl_op_definition
class ProgramOp(IRDLOperation):
    """Write a [rows, cols] (or [groups, rows, cols]) weight matrix into crossbars: weight_bits per
    weight, cell_bits per cell. `base` is the first crossbar (set by allocate-crossbars); `resident`
    weights are written once at program load, the others before every use. `lower-tiers` marks those
    `streamed` (dynamic operands, static weights stage one chose to stream, static weights that do
    not fit beside the resident ones) and cuts them to the tier's streaming region: they are never
    made resident. `weight_scale` (one step per output column,
    [(groups *) cols]) holds a quantized model's own weight scales: the cells then take its integer codes."""

    name = "pim.program"
    weights = operand_def(TensorType)
    result = result_def(CrossbarsType)
    kind = prop_def(KindAttr)
    weight_bits = prop_def(IntegerAttr)
    cell_bits = prop_def(IntegerAttr)
    base = opt_prop_def(IntegerAttr)
    resident = opt_prop_def(UnitAttr)
    streamed = opt_prop_def(UnitAttr)
    weight_scale = opt_prop_def(DenseArrayBase)
    #: copies of the weights on as many more crossbars (side by side from `base`): the MVMs reading them
    #: share their input vectors out over the copies, which read in parallel (weight replication)
    replicas = opt_prop_def(IntegerAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$weights attr-dict `:` functional-type(operands, results)"

    @property
    def copies(self) -> int:
        return 1 if self.replicas is None else self.replicas.value.data

    def verify_(self) -> None:
        verify_bits(weight_bits=self.weight_bits, cell_bits=self.cell_bits)
        if self.replicas is not None and self.replicas.value.data < 1:
            raise VerifyException(f"replicas must be >= 1, got {self.replicas.value.data}")
        if self.weight_bits.value.data % self.cell_bits.value.data:
            raise VerifyException(
                f"weight_bits {self.weight_bits.value.data} is not a multiple of cell_bits {self.cell_bits.value.data}"
            )
        xb = self.result.type
        assert isinstance(xb, CrossbarsType)
        if xb.kind != self.kind.kind:
            raise VerifyException(f"kind {self.kind.kind.data} differs from the result's {xb.kind.data}")
        w = shape_of(self.weights)
        if w != xb.shape:
            raise VerifyException(f"weights {fmt_shape(w)} do not match crossbars {fmt_shape(xb.shape)}")
        if self.base is not None and self.base.value.data < 0:
            raise VerifyException(f"crossbar base must be >= 0, got {self.base.value.data}")
        if self.resident is not None and self.streamed is not None:
            raise VerifyException("weights cannot be both resident and streamed")
        if self.weight_scale is not None:
            scales = self.weight_scale.get_values()
            if len(scales) != xb.groups * xb.cols or not all(math.isfinite(s) and s > 0 for s in scales):
                raise VerifyException(f"weight_scale needs {xb.groups * xb.cols} positive finite steps (one per "
                                      f"output column), got {len(scales)}")


@irdl_op_definition
class MVMOp(IRDLOperation):
    """x[..., rows] @ W[rows, cols] read from programmed crossbars (grouped: x[groups, m, rows] per
    group); input_bits DAC, adc_bits ADC. `input_scale`, when set, is the DAC's step: the model's own
    activation scale (a quantized model's), instead of a step from the input's range; `input_levels`
    the largest code magnitude the DAC passes (docs/quantized.md)."""

    name = "pim.mvm"
    input = operand_def(TensorType)
    crossbars = operand_def(CrossbarsType)
    result = result_def(TensorType)
    input_bits = prop_def(IntegerAttr)
    adc_bits = prop_def(IntegerAttr)
    input_scale = opt_prop_def(FloatAttr)
    input_levels = opt_prop_def(IntegerAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $crossbars attr-dict `:` functional-type(operands, results)"

    def verify_(self) -> None:
        verify_bits(input_bits=self.input_bits, adc_bits=self.adc_bits)
        if self.input_scale is not None and not (math.isfinite(s := self.input_scale.value.data) and s > 0):
            raise VerifyException(f"input_scale must be a positive finite number, got {s}")
        if (self.input_scale is None) != (self.input_levels is None):
            raise VerifyException("input_scale and input_levels go together (a static DAC step and its code range)")
        if self.input_levels is not None and self.input_levels.value.data < 1:
            raise VerifyException(f"input_levels must be >= 1, got {self.input_levels.value.data}")
        xb = self.crossbars.type
        assert isinstance(xb, CrossbarsType)
        x = shape_of(self.input)
        if not x or x[-1] != xb.rows:
            raise VerifyException(f"input {fmt_shape(x)} does not match crossbar rows {xb.rows}")
        if len(xb.shape) == 3 and (len(x) != 3 or x[0] != xb.groups):
            raise VerifyException(f"grouped crossbars need input [{xb.groups}, m, {xb.rows}], got {fmt_shape(x)}")
        want = x[:-1] + (xb.cols,)
        if shape_of(self.result) != want:
            raise VerifyException(f"result shape {fmt_shape(shape_of(self.result))}, expected {fmt_shape(want)}")


PIM = Dialect("pim", [ProgramOp, MVMOp], [KindAttr, CrossbarsType])
