"""Load an ONNX file without copying its weights.

The file is memory-mapped and its protobuf wire format scanned just deep enough to find every
initializer's raw bytes; those become zero-copy numpy views in the weight store. What protobuf parses
is a *skeleton*: the same model with large initializer payloads left out. So a 500 MB model costs a
few MB of Python objects, and a broken file is reported with the byte offset where it breaks.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from h3pc.diagnostics import H3pcError, UnsupportedError
from h3pc.dialects.types import ELEMENT_TYPES
from h3pc.frontend.weights import WeightStore

#: newest ONNX IR version we read (onnx 1.23), and the ai.onnx opsets the importers handle.
MAX_IR_VERSION = 13
MIN_OPSET, MAX_OPSET = 9, 23
#: initializers up to this many payload bytes stay inside the skeleton (shape inference reads them).
INLINE_BYTES = 4096

_NP_BY_ONNX = {o: d for o, d, _ in ELEMENT_TYPES if o != 16}


@dataclass
class LoadedModel:
    path: Path
    model: "onnx.ModelProto"  # noqa: F821 - the skeleton
    weights: WeightStore
    file_size: int


class _Wire:
    """Protobuf wire-format reader over a buffer, reporting absolute byte offsets in errors."""

    def __init__(self, buf: memoryview | bytes, path: Path) -> None:
        self.buf = buf
        self.path = path

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        result, shift = 0, 0
        buf = self.buf
        while True:
            if pos >= end:
                raise H3pcError(f"{self.path}: truncated ONNX file: varint runs past byte offset {end}")
            b = buf[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result, pos
            shift += 7
            if shift > 63:
                raise H3pcError(f"{self.path}: not an ONNX model: malformed varint at byte offset {pos}")

    def fields(self, start: int, end: int):  # -> Iterator[(field, wire, value_or_start, stop, tag_start)]
        pos = start
        while pos < end:
            tag_pos = pos
            key, pos = self.varint(pos, end)
            field, wire = key >> 3, key & 7
            if field == 0:
                raise H3pcError(f"{self.path}: not an ONNX model: field number 0 at byte offset {tag_pos}")
            if wire == 0:
                val, pos = self.varint(pos, end)
                yield field, wire, val, pos, tag_pos
            elif wire == 2:
                n, pos = self.varint(pos, end)
                if pos + n > end:
                    raise H3pcError(
                        f"{self.path}: truncated ONNX file: field {field} at byte offset {tag_pos} declares "
                        f"{n} bytes but only {end - pos} remain"
                    )
                yield field, wire, pos, pos + n, tag_pos
                pos += n
            elif wire == 1:
                if pos + 8 > end:
                    raise H3pcError(f"{self.path}: truncated ONNX file at byte offset {pos}")
                yield field, wire, pos, pos + 8, tag_pos
                pos += 8
            elif wire == 5:
                if pos + 4 > end:
                    raise H3pcError(f"{self.path}: truncated ONNX file at byte offset {pos}")
                yield field, wire, pos, pos + 4, tag_pos
                pos += 4
            else:
                raise H3pcError(
                    f"{self.path}: not an ONNX model: invalid protobuf wire type {wire} at byte offset {tag_pos}"
                )


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | 2) + _encode_varint(len(payload)) + payload


def load_onnx(path: str | Path) -> LoadedModel:
    """Read `path` into a skeleton ModelProto plus a weight store of zero-copy views."""
    import onnx

    path = Path(path)
    if not path.exists():
        raise H3pcError(f"{path}: no such file")
    if path.is_dir():
        raise H3pcError(f"{path}: is a directory, not an ONNX file")
    size = path.stat().st_size
    if size == 0:
        raise H3pcError(f"{path}: empty file, not an ONNX model")
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    buf = memoryview(mm)
    wire = _Wire(buf, path)
    store = WeightStore()
    skeleton = bytearray()
    saw_graph = False
    ir_version = None
    for field, wtype, a, b, tag in wire.fields(0, size):
        if field == 1 and wtype == 0:
            ir_version = a
        if field == 7 and wtype == 2:
            saw_graph = True
            skeleton += _ld(7, _scan_graph(wire, a, b, store, mm, path))
        else:
            skeleton += bytes(buf[tag:b])
    if not saw_graph or ir_version is None:
        raise H3pcError(f"{path}: not an ONNX model (no {'graph' if not saw_graph else 'ir_version'} field)")
    if ir_version > MAX_IR_VERSION:
        raise UnsupportedError(
            f"{path}: ONNX IR version {ir_version} is newer than the newest supported ({MAX_IR_VERSION})"
        )
    try:
        model = onnx.ModelProto.FromString(bytes(skeleton))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise H3pcError(f"{path}: not a valid ONNX model: {exc}") from None
    _check_opsets(model, path)
    _check_declared(model, path)
    return LoadedModel(path, model, store, size)


def _check_opsets(model: "onnx.ModelProto", path: Path) -> None:  # noqa: F821
    versions = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    v = versions.get("ai.onnx")
    if v is None:
        raise UnsupportedError(f"{path}: model imports no ai.onnx opset")
    if not MIN_OPSET <= v <= MAX_OPSET:
        raise UnsupportedError(f"{path}: ai.onnx opset {v} is outside the supported range {MIN_OPSET}..{MAX_OPSET}")


#: the typed field that holds each element type's values when there is no raw_data
_TYPED_FIELD = {1: "float_data", 11: "double_data", 7: "int64_data", 12: "uint64_data", 13: "uint64_data",
                **dict.fromkeys((2, 3, 4, 5, 6, 9, 10, 16), "int32_data")}


def _check_declared(model: "onnx.ModelProto", path: Path) -> None:  # noqa: F821
    """What protobuf accepts but no graph may hold: a name defined twice, a negative input dimension, a
    tensor attribute whose payload does not match its declared shape. Caught here, each is one clear line;
    later, shape inference would report a confusing consequence (or numpy a traceback)."""
    from onnx import AttributeProto

    g = model.graph
    inits: set[str] = set()
    for t in g.initializer:
        if t.name in inits:
            raise H3pcError(f"{path}: initializer '{t.name}' is defined twice")
        inits.add(t.name)
    inputs: set[str] = set()
    for vi in g.input:
        if vi.name in inputs:
            raise H3pcError(f"{path}: graph input '{vi.name}' is declared twice")
        inputs.add(vi.name)
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in vi.type.tensor_type.shape.dim]
        if any(isinstance(d, int) and d < 0 for d in dims):
            raise H3pcError(f"{path}: graph input '{vi.name}' has a negative dimension {dims}")
    for node in g.node:
        where = f"node '{node.name or node.op_type}' ({node.op_type})"
        for out in node.output:
            if out in inputs:
                raise H3pcError(f"{path}: {where} writes tensor '{out}', which is a graph input")
            if out in inits:
                raise H3pcError(f"{path}: {where} writes tensor '{out}', which is an initializer")
        for a in node.attribute:
            if a.type == AttributeProto.TENSOR:
                _check_payload(a.t, f"{where} attribute '{a.name}'", path)
            elif a.type == AttributeProto.TENSORS:
                for t in a.tensors:
                    _check_payload(t, f"{where} attribute '{a.name}'", path)


def _check_payload(t: "onnx.TensorProto", what: str, path: Path) -> None:  # noqa: F821
    """A tensor inside the graph (not an initializer): its payload must hold exactly the declared elements."""
    dims = list(t.dims)
    if any(d < 0 for d in dims):
        raise H3pcError(f"{path}: {what} has a negative dimension {dims}")
    if t.data_location == 1:  # EXTERNAL: checked when (if ever) read
        return
    count = int(np.prod(dims, dtype=object)) if dims else 1
    np_dtype = _NP_BY_ONNX.get(t.data_type)
    if t.raw_data and np_dtype is not None:
        if len(t.raw_data) != count * np_dtype.itemsize:
            raise H3pcError(f"{path}: {what}: {len(t.raw_data)} payload bytes for {count} x {np_dtype.name} "
                            f"(shape {dims})")
    elif not t.raw_data and t.data_type in _TYPED_FIELD:
        n = len(getattr(t, _TYPED_FIELD[t.data_type]))
        if n != count:
            raise H3pcError(f"{path}: {what}: {n} values for {count} elements (shape {dims})")


def _scan_graph(wire: _Wire, start: int, end: int, store: WeightStore, mm: mmap.mmap, path: Path) -> bytes:
    """Copy a GraphProto, moving large initializer payloads into the store."""
    out = bytearray()
    for field, wtype, a, b, tag in wire.fields(start, end):
        if field == 5 and wtype == 2:
            out += _ld(5, _scan_tensor(wire, a, b, store, mm, path))
        else:
            out += bytes(wire.buf[tag:b])
    return bytes(out)


def _scan_tensor(wire: _Wire, start: int, end: int, store: WeightStore, mm: mmap.mmap, path: Path) -> bytes:
    """Register one initializer in the store; return its TensorProto bytes, payload dropped if large."""
    import onnx
    from onnx import numpy_helper

    dims: list[int] = []
    dtype = 0
    name = ""
    raw: tuple[int, int] | None = None
    external = False
    kept = bytearray()
    payload = 0
    for field, wtype, a, b, tag in wire.fields(start, end):
        if field == 1:
            if wtype == 0:
                dims.append(a if a < 1 << 63 else a - (1 << 64))
            else:  # packed
                pos = a
                while pos < b:
                    d, pos = wire.varint(pos, b)
                    dims.append(d if d < 1 << 63 else d - (1 << 64))
        elif field == 2 and wtype == 0:
            dtype = a
        elif field == 8 and wtype == 2:
            name = bytes(wire.buf[a:b]).decode("utf-8", "replace")
        elif field == 14 and wtype == 0:
            external = a == 1
        if field == 9 and wtype == 2:
            raw = (a, b)
            payload += b - a
            continue
        if field in (4, 5, 6, 7, 10, 11):
            payload += b - tag
        kept += bytes(wire.buf[tag:b])
    if any(d < 0 for d in dims):
        raise H3pcError(f"{path}: initializer '{name}' has a negative dimension {dims}")
    count = int(np.prod(dims, dtype=object)) if dims else 1
    if external:
        _add_external(store, name, dtype, dims, bytes(wire.buf[start:end]), path)
        return bytes(wire.buf[start:end])
    np_dtype = _NP_BY_ONNX.get(dtype)
    if raw is not None and np_dtype is not None:
        a, b = raw
        if (b - a) != count * np_dtype.itemsize:
            raise H3pcError(
                f"{path}: initializer '{name}' at byte offset {a}: {b - a} payload bytes for "
                f"{count} x {np_dtype.name}"
            )
        shape = tuple(dims)
        store.add_lazy(name, np_dtype, shape,
                       lambda mm=mm, a=a, n=count, dt=np_dtype: np.frombuffer(mm, dt, n, a))
        if payload <= INLINE_BYTES:
            return bytes(wire.buf[start:end])
        return bytes(kept)
    # typed fields (float_data, int64_data, ...), bf16, strings: let onnx decode this one tensor
    blob = bytes(wire.buf[start:end])
    if dtype not in onnx.TensorProto.DataType.values():
        raise UnsupportedError(f"{path}: initializer '{name}' has element type {dtype}, which is not an ONNX type")
    if count > 1 << 31:
        raise H3pcError(f"{path}: initializer '{name}' declares {count} elements")
    tensor = onnx.TensorProto.FromString(blob)
    try:
        arr = numpy_helper.to_array(tensor)
    except Exception as exc:  # noqa: BLE001
        raise UnsupportedError(f"{path}: initializer '{name}': cannot decode ({exc})") from None
    if dtype == 16:  # bfloat16 -> float32 compute copy
        arr = arr.astype(np.float32)
    store.add(name, arr)
    return blob if payload <= INLINE_BYTES else bytes(kept)


def _add_external(store: WeightStore, name: str, dtype: int, dims: list[int], blob: bytes, path: Path) -> None:
    import onnx

    tensor = onnx.TensorProto.FromString(blob)
    info = {e.key: e.value for e in tensor.external_data}
    loc = info.get("location", "")
    target = (path.parent / loc).resolve()
    if not loc or Path(loc).is_absolute() or path.parent.resolve() not in target.parents:
        raise H3pcError(f"{path}: initializer '{name}': external data location '{loc}' is outside the model folder")
    np_dtype = _NP_BY_ONNX.get(dtype)
    if np_dtype is None:
        raise UnsupportedError(f"{path}: initializer '{name}': external data of type {dtype} is not supported")
    try:
        offset = int(info.get("offset", 0))
    except ValueError:
        offset = -1
    if offset < 0:
        raise H3pcError(f"{path}: initializer '{name}': external data offset '{info['offset']}' is not a "
                        "non-negative integer")
    count = int(np.prod(dims, dtype=object)) if dims else 1
    if not target.is_file() or target.stat().st_size < offset + count * np_dtype.itemsize:
        raise H3pcError(f"{path}: initializer '{name}': external file '{loc}' is missing or too short")
    if count == 0:  # mmap cannot map zero bytes
        store.add(name, np.empty(tuple(dims), np_dtype))
        return
    store.add_lazy(name, np_dtype, tuple(dims),
                   lambda: np.memmap(target, np_dtype, "r", offset, (count,)))
