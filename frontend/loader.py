"""Load an ONNX file without copying its weights.

The file is memory-mapped and its protobuf wire format scanned just deep enough to find every
initializer's raw bytes; those become zero-copy numpy views in the weight store. What protobuf parses
is a *skeleton*: the same model with large initializer payloads left out. So a 500 MB model costs a
few MB of Python objects, and a broken file is reported with the byte offset where it breaks.

External data (a tensor whose bytes live in another file) is resolved here and nowhere else: `ExternalData`
opens only regular files inside the model's own folder, reads exactly the declared bytes at the declared
offset, and every external reference, initializer or tensor-valued attribute at any depth (subgraphs,
model-local functions, sparse tensors, training graphs), is resolved before the model leaves this module.
So neither onnx's helpers nor onnxruntime, which resolve `location` against the working directory, ever
see one.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from h3pc.diagnostics import H3pcError, UnsupportedError, shown, shown_name
from h3pc.dialects.types import ELEMENT_TYPES, MAX_FOLD_BYTES
from h3pc.files import note_input
from h3pc.frontend.weights import WeightStore

#: newest ONNX IR version we read (onnx 1.23), and the ai.onnx opsets the importers handle (onnxruntime
#: 1.31, our reference and constant folder, runs opsets up to 26).
MAX_IR_VERSION = 13
MIN_OPSET, MAX_OPSET = 7, 26
#: initializers up to this many payload bytes stay inside the skeleton (shape inference reads them).
INLINE_BYTES = 4096

_NP_BY_ONNX = {o: d for o, d, _ in ELEMENT_TYPES if o != 16}


@dataclass
class LoadedModel:
    path: Path
    model: "onnx.ModelProto"  # noqa: F821 - the skeleton
    weights: WeightStore
    file_size: int
    #: the files inside the model's folder its external data was read from (real paths)
    external_files: tuple[str, ...] = ()


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
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise H3pcError(f"{path}: no such file") from None
    except OSError as exc:
        raise H3pcError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise H3pcError(f"{path}: is a directory, not an ONNX file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the open, a device has no end
        raise H3pcError(f"{path}: not a regular file, not an ONNX model")
    if st.st_size == 0:
        raise H3pcError(f"{path}: empty file, not an ONNX model")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise H3pcError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise H3pcError(f"{path}: not a regular file, not an ONNX model")
        size = os.fstat(fd).st_size
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    buf = memoryview(mm)
    wire = _Wire(buf, path)
    external = ExternalData(path)
    store = WeightStore()
    skeleton = bytearray()
    saw_graph = False
    ir_version = None
    for field, wtype, a, b, tag in wire.fields(0, size):
        if field == 1 and wtype == 0:
            ir_version = a
        if field == 7 and wtype == 2:
            saw_graph = True
            skeleton += _ld(7, _scan_graph(wire, a, b, store, mm, external))
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
    external.inline_all(model)
    _check_opsets(model, path)
    _check_declared(model, path)
    return LoadedModel(path, model, store, size, tuple(external.files))


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
    if g.sparse_initializer:
        raise UnsupportedError(f"{path}: sparse initializer '{g.sparse_initializer[0].values.name}' is not supported")
    inits: set[str] = set()
    for t in g.initializer:
        if t.name in inits:
            raise H3pcError(f"{path}: initializer '{t.name}' is defined twice")
        inits.add(t.name)
    _open_minus_one(g)
    inputs: set[str] = set()
    for vi in g.input:
        if vi.name in inputs:
            raise H3pcError(f"{path}: graph input '{vi.name}' is declared twice")
        inputs.add(vi.name)
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in vi.type.tensor_type.shape.dim]
        if any(isinstance(d, int) and d < 0 for d in dims):
            raise H3pcError(f"{path}: graph input '{vi.name}' has a negative dimension {dims}")
    for i, node in enumerate(g.node):
        where = f"node '{node.name or node.op_type}' ({node.op_type})"
        if not any(node.output):  # every reader names a node by its first output, and every op has one
            raise H3pcError(f"{path}: {where}, node #{i} of the graph, has no output")
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


def _open_minus_one(g: "onnx.GraphProto") -> None:  # noqa: F821
    """A dim of -1 is how some exporters (PaddlePaddle) write "unknown": made an open dim, which
    --input-shape pins like any other. Other negative dims stay errors."""
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and d.dim_value == -1:
                d.ClearField("dim_value")


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


def _scan_graph(wire: _Wire, start: int, end: int, store: WeightStore, mm: mmap.mmap, external: "ExternalData"
                ) -> bytes:
    """Copy a GraphProto, moving large initializer payloads into the store."""
    out = bytearray()
    for field, wtype, a, b, tag in wire.fields(start, end):
        if field == 5 and wtype == 2:
            out += _ld(5, _scan_tensor(wire, a, b, store, mm, external))
        else:
            out += bytes(wire.buf[tag:b])
    return bytes(out)


def _scan_tensor(wire: _Wire, start: int, end: int, store: WeightStore, mm: mmap.mmap, external: "ExternalData"
                 ) -> bytes:
    """Register one initializer in the store; return its TensorProto bytes, payload dropped if large."""
    import onnx
    from onnx import numpy_helper

    path = external.model
    dims: list[int] = []
    dtype = 0
    name = ""
    raw: tuple[int, int] | None = None
    external_flag = False
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
            external_flag = a == 1
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
    if external_flag:
        return _add_external(store, name, bytes(wire.buf[start:end]), external)
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


def _add_external(store: WeightStore, name: str, blob: bytes, external: "ExternalData") -> bytes:
    """An initializer stored in another file: a zero-copy view in the store; in the skeleton its values
    when small (shape inference reads them), else its dims only. The skeleton never keeps the reference."""
    import onnx

    tensor = onnx.TensorProto.FromString(blob)
    arr = external.array(tensor, f"initializer '{name}'")
    store.add_lazy(name, arr.dtype, arr.shape, lambda: arr)
    del tensor.external_data[:]
    tensor.ClearField("data_location")
    if arr.nbytes <= INLINE_BYTES:
        tensor.raw_data = arr.tobytes()
    return tensor.SerializeToString()


class ExternalData:
    """The one way a model's external data is read: only regular files inside the model's folder.

    `location` is resolved against the folder of the model file (never the working directory), symlinks
    included, and must stay strictly inside it; the target is `stat`ed before it is opened (a FIFO or a
    device is refused without opening it) and opened non-blocking without following a last symlink. Exactly
    `count x itemsize` bytes are used at `offset`; a given `length` must say the same; the file must hold
    them. Each file is mapped once and shared by the tensors stored in it."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.folder = Path(os.path.realpath(model.parent if str(model.parent) else "."))
        self._maps: dict[str, mmap.mmap | None] = {}
        self._sizes: dict[str, int] = {}
        self.inlined = 0  # bytes copied into tensor-valued attributes, bounded by MAX_FOLD_BYTES

    @property
    def files(self) -> list[str]:
        """The files read so far (real paths)."""
        return list(self._maps)

    def _fail(self, what: str, msg: str) -> H3pcError:
        return H3pcError(f"{self.model}: {what}: {msg}")

    def _target(self, loc: str, what: str) -> str:
        """The real path of `loc` inside the model folder, or a refusal naming it."""
        if not loc:
            raise self._fail(what, "external data without a location")
        if "\0" in loc:
            raise self._fail(what, f"external data location {shown(loc)} holds a NUL character")
        if len(loc) > 4096:  # PATH_MAX: resolving 100,000 components took seconds to say "missing"
            raise self._fail(what, f"external data location '{shown_name(loc)}' is longer than any path")
        if os.path.isabs(loc):
            raise self._fail(what, f"external data location '{shown_name(loc)}' is outside the model folder "
                                   "(absolute path)")
        real = os.path.realpath(os.path.join(self.folder, loc))
        if os.path.commonpath([real, str(self.folder)]) != str(self.folder) or real == str(self.folder):
            raise self._fail(what, f"external data location '{shown_name(loc)}' is outside the model folder")
        return real

    def _map(self, real: str, loc: str, what: str) -> tuple[mmap.mmap | None, int]:
        if real in self._maps:
            return self._maps[real], self._sizes[real]
        try:
            st = os.stat(real)
        except FileNotFoundError:
            raise self._fail(what, f"external file '{shown_name(loc)}' is missing or too short") from None
        except OSError as exc:
            raise self._fail(what, f"external file '{shown_name(loc)}' cannot be read ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise self._fail(what, f"external data location '{shown_name(loc)}' is {kind}")
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(real, flags)
        except OSError as exc:
            raise self._fail(what, f"external file '{shown_name(loc)}' cannot be opened ({exc.strerror})") from None
        try:
            st2 = os.fstat(fd)
            if not stat.S_ISREG(st2.st_mode) or (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino):
                raise self._fail(what, f"external data location '{shown_name(loc)}' changed while it was opened")
            mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if st2.st_size else None
        finally:
            os.close(fd)
        self._maps[real], self._sizes[real] = mm, st2.st_size
        note_input(real, f"external data of {self.model.name}")  # no output of this command may replace it
        return mm, st2.st_size

    def array(self, tensor: "onnx.TensorProto", what: str) -> np.ndarray:  # noqa: F821
        """The tensor's values: a read-only view of the mapped file, shaped as declared."""
        info = {e.key: e.value for e in tensor.external_data}
        loc = info.get("location", "")
        real = self._target(loc, what)
        np_dtype = _NP_BY_ONNX.get(tensor.data_type)
        if np_dtype is None:
            raise UnsupportedError(f"{self.model}: {what}: external data of type {tensor.data_type} is not supported")
        dims = list(tensor.dims)
        if any(d < 0 for d in dims):
            raise self._fail(what, f"has a negative dimension {shown(dims)}")
        count = int(np.prod(dims, dtype=object)) if dims else 1
        nbytes = count * np_dtype.itemsize
        offset = _non_negative(info.get("offset", "0"))
        if offset is None:
            raise self._fail(what, f"external data offset {shown(info['offset'], 30)} is not a non-negative integer")
        if "length" in info:
            length = _non_negative(info["length"])
            if length is None:
                raise self._fail(what, f"external data length {shown(info['length'], 30)} is not a non-negative "
                                       "integer")
            if length != nbytes:
                raise self._fail(what, f"external data length {shown(length, 30)} does not match "
                                       f"{shown(count, 30)} x {np_dtype.name} ({shown(nbytes, 30)} bytes, "
                                       f"shape {shown(dims)})")
        mm, size = self._map(real, loc, what)
        if offset + nbytes > size:
            raise self._fail(what, f"external file '{shown_name(loc)}' is missing or too short: "
                                   f"{shown(nbytes, 30)} bytes at offset {shown(offset, 30)}, but it has {size}")
        if count == 0:
            return np.empty(tuple(dims), np_dtype)
        return np.frombuffer(mm, np_dtype, count, offset).reshape(dims)

    def inline_all(self, model: "onnx.ModelProto") -> None:  # noqa: F821
        """Copy every remaining external tensor's bytes into the model (attributes, subgraphs, functions),
        so no later reader resolves a location on its own; the copies together stay within MAX_FOLD_BYTES."""
        for tensor, what in model_tensors(model):
            if tensor.data_location != 1:
                continue
            arr = self.array(tensor, what)
            self.inlined += arr.nbytes
            if self.inlined > MAX_FOLD_BYTES:
                raise self._fail(what, f"external tensors inside the graph hold more than {MAX_FOLD_BYTES} bytes; "
                                       "store large tensors as initializers")
            del tensor.external_data[:]
            tensor.ClearField("data_location")
            tensor.raw_data = arr.tobytes()


def _non_negative(text: str) -> int | None:
    """An offset or length key's value; more than 20 digits is past any file (and Python refuses to convert
    more than 4300), so it counts as 10^20."""
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= 20 else 10**20


def model_tensors(model: "onnx.ModelProto") -> Iterator[tuple["onnx.TensorProto", str]]:  # noqa: F821
    """Every TensorProto of a model with a description of where it is: initializers, sparse initializers,
    tensor-valued attributes, at any depth (subgraphs, model-local functions, training graphs)."""
    yield from _graph_tensors(model.graph, "")
    for f in model.functions:
        yield from _node_tensors(f.node, f"function '{f.name}': ")
    for info in model.training_info:
        yield from _graph_tensors(info.initialization, "training initialization: ")
        yield from _graph_tensors(info.algorithm, "training algorithm: ")


def _graph_tensors(g: "onnx.GraphProto", where: str) -> Iterator[tuple["onnx.TensorProto", str]]:  # noqa: F821
    for t in g.initializer:
        yield t, f"{where}initializer '{t.name}'"
    for sp in g.sparse_initializer:
        yield sp.values, f"{where}sparse initializer '{sp.values.name}'"
        yield sp.indices, f"{where}sparse initializer '{sp.values.name}' indices"
    yield from _node_tensors(g.node, where)


def _node_tensors(nodes, where: str) -> Iterator[tuple["onnx.TensorProto", str]]:  # noqa: F821
    for node in nodes:
        for a in node.attribute:
            what = f"{where}node '{node.name or node.op_type}' ({node.op_type}) attribute '{a.name}'"
            if a.HasField("t"):
                yield a.t, what
            for t in a.tensors:
                yield t, what
            sparse = ([a.sparse_tensor] if a.HasField("sparse_tensor") else []) + list(a.sparse_tensors)
            for sp in sparse:
                yield sp.values, what
                yield sp.indices, f"{what} indices"
            inner = f"{what} subgraph: "
            if a.HasField("g"):
                yield from _graph_tensors(a.g, inner)
            for sub in a.graphs:
                yield from _graph_tensors(sub, inner)


def external_tensors(model: "onnx.ModelProto") -> list[str]:  # noqa: F821
    """Where `model` still refers to external data (empty for every model `load_onnx` returns)."""
    return [what for t, what in model_tensors(model) if t.data_location == 1]
