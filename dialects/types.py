"""Element types: one table that maps ONNX data types, xDSL element types and numpy dtypes."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import (
    BFloat16Type,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute

# (ONNX TensorProto data type, numpy dtype, xDSL element type). Signless integers are the MLIR
# convention for signed ones; unsigned ones carry `ui`.
#: no tensor may have more elements (16 GiB of fp32): the importer refuses a declared 10^12-element input or an
#: Expand to such a shape, and the program reader a table declaring one
MAX_TENSOR_ELEMENTS = 1 << 32
#: bytes the frontend may materialise at compile time beyond the model's own mapped weights: constants folded
#: in one onnxruntime session, and external payloads copied into the graph's attributes (a tiny model must not
#: make the compiler allocate without limit; larger folded results stay ops)
MAX_FOLD_BYTES = 1 << 28

ELEMENT_TYPES: list[tuple[int, np.dtype, Attribute]] = [
    (1, np.dtype(np.float32), Float32Type()),
    (10, np.dtype(np.float16), Float16Type()),
    (11, np.dtype(np.float64), Float64Type()),
    (16, np.dtype(np.float32), BFloat16Type()),  # computed in float32; see numpy_dtype
    (2, np.dtype(np.uint8), IntegerType(8, Signedness.UNSIGNED)),
    (3, np.dtype(np.int8), IntegerType(8)),
    (4, np.dtype(np.uint16), IntegerType(16, Signedness.UNSIGNED)),
    (5, np.dtype(np.int16), IntegerType(16)),
    (6, np.dtype(np.int32), IntegerType(32)),
    (7, np.dtype(np.int64), IntegerType(64)),
    (12, np.dtype(np.uint32), IntegerType(32, Signedness.UNSIGNED)),
    (13, np.dtype(np.uint64), IntegerType(64, Signedness.UNSIGNED)),
    (9, np.dtype(np.bool_), IntegerType(1)),
]

_BY_ONNX = {o: (d, t) for o, d, t in ELEMENT_TYPES}
_BY_XDSL = {t: d for _, d, t in ELEMENT_TYPES}
_BY_NUMPY = {d: t for o, d, t in ELEMENT_TYPES if o != 16}


def element_type_from_onnx(onnx_type: int) -> Attribute | None:
    entry = _BY_ONNX.get(onnx_type)
    return entry[1] if entry else None


def numpy_dtype(element_type: Attribute) -> np.dtype:
    return _BY_XDSL[element_type]


def element_type_from_numpy(dtype: np.dtype) -> Attribute:
    return _BY_NUMPY[np.dtype(dtype)]


def onnx_type_name(onnx_type: int) -> str:
    import onnx

    return onnx.TensorProto.DataType.Name(onnx_type)
