"""Hostile input, one table: malformed ONNX models, damaged program.bin files, bad hardware files and bad
input sets. Each must fail with a non-zero exit code, exactly one `<prog>: error: ...` line naming what is
wrong, no traceback, and nothing left behind in the output folder (no output file, no temporary file).

A case writes its hostile file(s) into a fresh folder and returns the tool's arguments; the runner adds
every output flag the tool has, pointing into an empty `out/` folder that must still be empty afterwards.
Cases that declare huge sizes run in a subprocess under an address-space cap, so a reader that believed
the declared size and allocated it fails the test instead of the machine.
"""

from __future__ import annotations

import io
import json
import resource
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import MODELS, model_path
from h3pc.backends import container, isa
from h3pc.cli import main as h3pc_main
from h3pc.hardware.schema import PRESETS
from h3pc.objdump import main as objdump_main
from h3pc.run import main as run_main
from h3pc.tiers import ENGINES

#: the sections of every program.bin, in file order (checked against the compiled program below)
SECTIONS = [f"stream.{t}" for t in ENGINES] + ["hardware", "signature", "tensors", "kernels", "symbols", "weights"]
#: address-space cap of an isolated case: a normal compile of a small model peaks below 0.6 GB
AS_CAP = 2 << 30
_HEADER, _ENTRY = 64, 48  # sizes of the container header and of one section-table entry

MAINS: dict[str, Callable[[list[str]], int]] = {"h3pc": h3pc_main, "h3pc-run": run_main, "h3pc-objdump": objdump_main}
MODULES = {"h3pc": "h3pc.cli", "h3pc-run": "h3pc.run", "h3pc-objdump": "h3pc.objdump"}


@dataclass(frozen=True)
class Valid:
    """The good files every case starts from: a compiled program and an input set that runs it."""

    program: Path
    raw: bytes
    inputs: Path
    feeds: dict[str, np.ndarray]

    def section(self, name: str) -> container.Section:
        return container.decode(self.raw).section(name)


@dataclass(frozen=True)
class Case:
    id: str
    #: h3pc | h3pc-run | h3pc-objdump, or "program": both h3pc-run and h3pc-objdump read the file
    tool: str
    #: writes the hostile file(s) into the folder; returns the tool's arguments (no output flags)
    make: Callable[[Path, Valid], list[str]]
    #: substrings the error line must contain (each one; a tuple inside: any one of its alternatives)
    expect: tuple[str | tuple[str, ...], ...]
    #: run in a subprocess under an address-space cap (declared sizes that must never be allocated)
    isolate: bool = False


# --- ONNX builders ---------------------------------------------------------------------------


def save(model: onnx.ModelProto, path: Path) -> list[str]:
    path.write_bytes(model.SerializeToString())
    return [str(path)]


def model(nodes=None, inputs=None, inits=None, outputs=None, opset: int = 18, ir: int = 10,
          extra_opsets: tuple[tuple[str, int], ...] = ()) -> onnx.ModelProto:
    """x[2,4] @ w[4,3] -> y unless told otherwise."""
    nodes = nodes if nodes is not None else [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    inputs = inputs if inputs is not None else [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])]
    inits = inits if inits is not None else [numpy_helper.from_array(np.ones((4, 3), np.float32), "w")]
    outputs = outputs if outputs is not None else [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    return helper.make_model(g, opset_imports=opsets, ir_version=ir)


def onnx_file(m: onnx.ModelProto) -> Callable[[Path, Valid], list[str]]:
    return lambda d, v: save(m, d / "m.onnx")


def raw_file(data: bytes, name: str = "m.onnx") -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        (d / name).write_bytes(data)
        return [str(d / name)]
    return make


def truncated_model(fraction: float) -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        data = model_path("helper_mlp").read_bytes()
        return raw_file(data[: int(len(data) * fraction)])(d, v)
    return make


def init(name: str, dims: list[int], dtype: int = TensorProto.FLOAT, raw: bytes | None = None,
         **fields) -> TensorProto:
    """An initializer with exactly the declared dims and payload given (nothing checked)."""
    t = TensorProto(name=name, data_type=dtype, dims=dims, **fields)
    if raw is not None:
        t.raw_data = raw
    return t


def with_init(t: TensorProto, x_shape: list[int] | None = None) -> Callable[[Path, Valid], list[str]]:
    x = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape or [2, 4])]
    return onnx_file(model(inputs=x, inits=[t]))


def calib_of(d: Path, **arrays: np.ndarray) -> str:
    np.savez(d / "calib.npz", **arrays)
    return str(d / "calib.npz")


def external(location: str, dims: list[int], offset: str = "0", data: bytes = b"\0" * 48
             ) -> Callable[[Path, Valid], list[str]]:
    """w stored in `data.bin` beside the model, read from `location` at `offset`."""
    def make(d: Path, v: Valid) -> list[str]:
        (d / "data.bin").write_bytes(data)
        t = init("w", dims, data_location=TensorProto.EXTERNAL)
        for k, val in (("location", location), ("offset", offset)):
            t.external_data.add(key=k, value=val)
        return save(model(inits=[t]), d / "m.onnx")
    return make


def two_nodes(*nodes: onnx.NodeProto, **kw) -> Callable[[Path, Valid], list[str]]:
    return onnx_file(model(nodes=list(nodes), **kw))


N = helper.make_node
X2x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
X1x1 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])
F32 = np.ones((4, 3), np.float32)


def identity_of(elem: int) -> Callable[[Path, Valid], list[str]]:
    """y = Identity(x) for an x of element type `elem` (consistent, so only the importer can object)."""
    vi = [helper.make_tensor_value_info("x", elem, [2])]
    return onnx_file(model([N("Identity", ["x"], ["y"], name="id")], inputs=vi, inits=[],
                           outputs=[helper.make_tensor_value_info("y", elem, [2])]))


def external_folder(d: Path, v: Valid) -> list[str]:
    """The external data location is a folder inside the model's folder."""
    args = external("sub", [4, 3])(d, v)
    (d / "sub").mkdir()
    return args


def unknown_dtype(dtype: int) -> TensorProto:
    t = numpy_helper.from_array(F32, "w")
    t.data_type = dtype
    return t


def duplicate_graph_input() -> onnx.ModelProto:
    return model(inputs=[X2x4, X2x4])


def no_graph() -> bytes:
    return onnx.ModelProto(ir_version=10).SerializeToString()


# --- program.bin builders ----------------------------------------------------------------------


def patched(edit: Callable[[bytearray, Valid], None]) -> Callable[[Path, Valid], list[str]]:
    """The valid program with bytes edited in place (checksums not recomputed)."""
    def make(d: Path, v: Valid) -> list[str]:
        buf = bytearray(v.raw)
        edit(buf, v)
        return raw_file(bytes(buf), "bad.bin")(d, v)
    return make


def cut(at: Callable[[Valid], int]) -> Callable[[Path, Valid], list[str]]:
    return lambda d, v: raw_file(v.raw[: at(v)], "bad.bin")(d, v)


def cut_section(name: str) -> Callable[[Path, Valid], list[str]]:
    return cut(lambda v: v.section(name).offset + len(v.section(name).data) // 2)


def flip_section(name: str) -> Callable[[Path, Valid], list[str]]:
    def edit(buf: bytearray, v: Valid) -> None:
        s = v.section(name)
        buf[s.offset + len(s.data) // 2] ^= 0x40
    return patched(edit)


def entry_field(i: int, fmt: str, at: int, value: int) -> Callable[[bytearray, Valid], None]:
    """Overwrite one field of section-table entry i (at: byte offset inside the entry)."""
    return lambda buf, v: struct.pack_into(fmt, buf, _HEADER + i * _ENTRY + at, value)


def resealed(change: Callable[[dict[str, tuple[str, bytes]]], None]) -> Callable[[Path, Valid], list[str]]:
    """The valid program with its sections edited and every checksum recomputed: damage only the
    tables' own checks can find."""
    def make(d: Path, v: Valid) -> list[str]:
        c = container.decode(v.raw)
        sections = {s.name: (s.kind, bytes(s.data)) for s in c.sections}
        change(sections)
        data = container.encode(container.make(c.hw_digest.hex(), c.tool_version, sections))
        return raw_file(data, "bad.bin")(d, v)
    return make


def json_section(name: str, edit: Callable[[object], object]) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    def change(s: dict[str, tuple[str, bytes]]) -> None:
        kind, data = s[name]
        s[name] = (kind, json.dumps(edit(json.loads(data))).encode())
    return change


def set_in(obj: dict, key: str, value: object) -> dict:
    obj[key] = value
    return obj


def drop(name: str) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    return lambda s: s.pop(name)


def put(name: str, data: bytes) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    return lambda s: s.__setitem__(name, (s[name][0], data))


def nan_weights(s: dict[str, tuple[str, bytes]]) -> None:
    s["weights"] = ("weights", b"\xff" * len(s["weights"][1]))  # 0xffffffff is a float32 NaN


def run_on(make: Callable[[Path, Valid], list[str]]) -> Callable[[Path, Valid], list[str]]:
    """h3pc-run arguments for the program `make` writes."""
    return lambda d, v: make(d, v) + ["--inputs", str(v.inputs)]


def find(s: dict[str, tuple[str, bytes]], tier: str, op: str, last: bool = False) -> tuple[list[isa.Instr], int]:
    """The instructions of stream.<tier> and the position of its first (or last) `op`."""
    instrs = isa.decode_stream(s[f"stream.{tier}"][1], "test")
    at = [k for k, ins in enumerate(instrs) if ins.op == op]
    return instrs, at[-1 if last else 0]


def edit_instr(tier: str, op: str, **change: int | tuple[int, ...]) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    """The first `op` of stream.<tier> with some fields changed."""
    def edit(s: dict[str, tuple[str, bytes]]) -> None:
        instrs, i = find(s, tier, op)
        instrs[i] = isa.make(op, **{**dict(zip((f.rstrip("*") for f in isa.BY_NAME[op].fields), instrs[i].args)),
                                   **change})
        s[f"stream.{tier}"] = ("stream", isa.encode_stream(instrs))
    return edit


def without(tier: str, op: str, nth: int) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    """stream.<tier> without its nth `op` (from 0)."""
    def edit(s: dict[str, tuple[str, bytes]]) -> None:
        instrs = isa.decode_stream(s[f"stream.{tier}"][1], "test")
        i = [k for k, ins in enumerate(instrs) if ins.op == op][nth]
        s[f"stream.{tier}"] = ("stream", isa.encode_stream(instrs[:i] + instrs[i + 1:]))
    return edit


def output_is_a_token(s: dict[str, tuple[str, bytes]]) -> None:
    """The graph output names a sync token, which no instruction computes."""
    token = next(i for i, t in enumerate(json.loads(s["tensors"][1])) if t["role"] == "token")
    json_section("signature", lambda sig: set_in(sig, "outputs", [{"name": "logits", "tensor": token}]))(s)


def reshaped(tier: str, op: str, field: str, shape: list[int], last: bool = False
             ) -> Callable[[dict[str, tuple[str, bytes]]], None]:
    """The tensor table entry of one operand of the first (or last) `op` of stream.<tier> given another shape."""
    def edit(s: dict[str, tuple[str, bytes]]) -> None:
        instrs, i = find(s, tier, op, last)
        tid = dict(zip(isa.BY_NAME[op].fields, instrs[i].args))[field]
        tid = tid[0] if isinstance(tid, tuple) else tid
        json_section("tensors", lambda table: table.__setitem__(tid, set_in(table[tid], "shape", shape)) or table)(s)
    return edit


# --- hardware files ------------------------------------------------------------------------------


PRESET = (PRESETS / "h3pimap.yaml").read_text()


def hw_text(text: str | bytes, tool: str = "h3pc") -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        p = d / "hw.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        if tool == "h3pc-run":
            return [str(v.program), "--inputs", str(v.inputs), "--hw", str(p)]
        return [str(model_path("mlp_digits")), "--hw", str(p)]
    return make


def hw_edit(path: str, value: object | None, tool: str = "h3pc") -> Callable[[Path, Valid], list[str]]:
    """The preset with `a.b` set to value (None: removed); the rest untouched."""
    import yaml

    data = yaml.safe_load(PRESET)
    *parents, key = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    if value is None:
        del node[key]
    else:
        node[key] = value
    return hw_text(yaml.safe_dump(data), tool)


def hw_raw(path: str, text: str) -> Callable[[Path, Valid], list[str]]:
    """The preset with the line of `tier.key` replaced by `key: text` (YAML spellings safe_dump won't write)."""
    tier, key = path.split(".")
    lines, in_tier, done = [], False, False
    for line in PRESET.splitlines():
        if not line.startswith(" ") and line.strip():
            in_tier = line.startswith(f"{tier}:")
        if in_tier and line.strip().startswith(f"{key}:") and not done:
            line, done = f"  {key}: {text}", True
        lines.append(line)
    assert done, path
    return hw_text("\n".join(lines) + "\n")


# --- input sets ------------------------------------------------------------------------------------


def npz(**arrays: Callable[[Valid], np.ndarray]) -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        p = d / "x.npz"
        np.savez(p, **{k: f(v) for k, f in arrays.items()})
        return [str(v.program), "--inputs", str(p)]
    return make


def npz_bytes(data: Callable[[Valid], bytes], name: str = "x.npz") -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        (d / name).write_bytes(data(v))
        return [str(v.program), "--inputs", str(d / name)]
    return make


def x(v: Valid) -> np.ndarray:
    return v.feeds["x"]


def pickled_npz(v: Valid) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x=np.array([{"a": 1}], dtype=object))
    return buf.getvalue()


def npy_bytes(v: Valid) -> bytes:
    buf = io.BytesIO()
    np.save(buf, x(v))
    return buf.getvalue()


def zip_of_text(v: Valid) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", "not an array")
    return buf.getvalue()


def huge_npz(v: Valid, version: int = 1) -> bytes:
    """A member whose .npy header (format `version`.0) declares 10^12 float32 elements and holds 256 bytes."""
    npy = io.BytesIO()
    write = np.lib.format.write_array_header_1_0 if version == 1 else np.lib.format.write_array_header_2_0
    write(npy, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)})
    header = bytearray(npy.getvalue())
    header[6] = version  # format 3.0 is 2.0 with utf-8 field names
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", bytes(header) + b"\0" * 256)
    return buf.getvalue()


def corrupt_compressed(v: Valid) -> bytes:
    """savez_compressed with the deflate stream of its member damaged."""
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.arange(4096, dtype=np.float32))
    data = bytearray(buf.getvalue())
    for i in range(60, 200):
        data[i] ^= 0xA5
    return bytes(data)


def savez_bytes(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# --- the table ---------------------------------------------------------------------------------------

ONNX_CASES = [
    Case("onnx-missing-file", "h3pc", lambda d, v: [str(d / "nope.onnx")], ("no such file",)),
    Case("onnx-directory", "h3pc", lambda d, v: [str(d)], ("is a directory",)),
    Case("onnx-empty-file", "h3pc", raw_file(b""), ("empty file",)),
    Case("onnx-text-file", "h3pc", raw_file(b"hello world\n"), ("ONNX",)),
    Case("onnx-not-protobuf", "h3pc", raw_file(b"\xff\xfe this is not a protobuf \x07\x00" * 10),
         ("not an ONNX model", "byte offset")),
    Case("onnx-random-bytes", "h3pc", raw_file(np.random.default_rng(6).bytes(4096)), ("ONNX",)),
    Case("onnx-no-graph", "h3pc", raw_file(no_graph()), ("no graph",)),
    *[Case(f"onnx-truncated-{int(f * 100)}pct", "h3pc", truncated_model(f), (("truncated", "not an ONNX model"),))
      for f in (0.1, 0.5, 0.97)],
    Case("onnx-ir-version-too-new", "h3pc", onnx_file(model(ir=14)), ("IR version 14",)),
    Case("onnx-opset-out-of-range", "h3pc",
         onnx_file(model([N("Relu", ["x"], ["y"], name="r")], inits=[], opset=7)), ("opset 7",)),
    # sizes: declared, never allocated (isolated under an address-space cap)
    Case("onnx-huge-initializer-raw", "h3pc", with_init(init("w", [10**6, 10**6], raw=F32.tobytes()), [2, 10**6]),
         ("'w'", "payload bytes"), isolate=True),
    Case("onnx-huge-initializer-typed", "h3pc",
         with_init(init("w", [10**6, 10**6], float_data=[1.0] * 12), [2, 10**6]), ("'w'", "elements"), isolate=True),
    Case("onnx-huge-initializer-external", "h3pc", external("data.bin", [10**6, 10**6]),
         ("'w'", "too short"), isolate=True),
    Case("onnx-huge-input", "h3pc", onnx_file(model(
        [N("Relu", ["x"], ["y"], name="r")], inits=[],
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [10**6, 10**6])])),
         ("'x'", "elements"), isolate=True),
    Case("onnx-huge-constant-node", "h3pc", two_nodes(
        N("Constant", [], ["c"], name="k", value=init("c", [10**6, 10**6], raw=F32.tobytes())),
        N("Add", ["x", "c"], ["y"], name="add"), inits=[]), ("'k'", "payload bytes"), isolate=True),
    Case("onnx-huge-constant-of-shape", "h3pc", two_nodes(
        N("ConstantOfShape", ["s"], ["c"], name="cos"), N("Add", ["x", "c"], ["y"], name="add"),
        inputs=[X1x1], inits=[numpy_helper.from_array(np.array([10**6, 10**6], np.int64), "s")]),
         ("'c'", "elements"), isolate=True),
    Case("onnx-huge-expand", "h3pc", two_nodes(
        N("Expand", ["x", "s"], ["y"], name="ex"),
        inputs=[X1x1], inits=[numpy_helper.from_array(np.array([10**6, 10**6], np.int64), "s")]),
         ("'y'", "elements"), isolate=True),
    Case("onnx-constant-node-count-mismatch", "h3pc", two_nodes(
        N("Constant", [], ["c"], name="k", value=init("c", [4, 3], float_data=[1.0] * 5)),
        N("MatMul", ["x", "c"], ["y"], name="mm"), inits=[]), ("'k'", "5 values for 12 elements")),
    Case("npz-calib-is-npy", "h3pc", lambda d, v: [str(model_path("mlp_digits")), "--calib", str(
        (np.save(d / "c.npy", np.ones(3, np.float32)), d / "c.npy")[1])], ("c.npy", "not a readable .npz file")),
    Case("onnx-nan-weight-calib", "h3pc", lambda d, v: with_init(numpy_helper.from_array(
        np.full((4, 3), np.nan, np.float32), "w"))(d, v) + ["--calib", calib_of(d, x=np.ones((3, 2, 4), np.float32))],
         ("stage two", "node 'mm'", "NaN")),  # stage two emulates before any NaN check of its own
    Case("onnx-nan-weight", "h3pc", with_init(numpy_helper.from_array(np.full((4, 3), np.nan, np.float32), "w")),
         ("node 'mm'", "NaN")),
    Case("onnx-negative-dim-initializer", "h3pc", with_init(init("w", [-4, 3], raw=F32.tobytes())),
         ("'w'", "negative dimension")),
    Case("onnx-negative-dim-input", "h3pc", onnx_file(model(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, -4])])), ("'x'", "negative dimension")),
    Case("onnx-raw-data-too-short", "h3pc", with_init(init("w", [4, 3], raw=F32.tobytes()[:-4])),
         ("'w'", "44 payload bytes")),
    Case("onnx-raw-data-too-long-large", "h3pc",
         with_init(init("w", [4, 3000], raw=np.ones((4, 3001), np.float32).tobytes())),
         ("'w'", "payload bytes")),
    # types we do not compute with
    Case("onnx-string-initializer", "h3pc", with_init(init("w", [4, 3], TensorProto.STRING,
                                                            string_data=[b"a"] * 12)), ("node name: mm", "tensor(string)")),
    Case("onnx-complex-initializer", "h3pc", with_init(init("w", [4, 3], TensorProto.COMPLEX64,
                                                             raw=np.ones((4, 3), np.complex64).tobytes())),
         ("node name: mm", "tensor(complex64)")),
    Case("onnx-undefined-dtype-initializer", "h3pc", with_init(unknown_dtype(0)), ("'w'", "type")),
    Case("onnx-unknown-dtype-initializer", "h3pc", with_init(unknown_dtype(99)), ("'w'", "type 99")),
    Case("onnx-string-input", "h3pc", identity_of(TensorProto.STRING), ("'x'", "STRING")),
    Case("onnx-complex-input", "h3pc", identity_of(TensorProto.COMPLEX128), ("'x'", "COMPLEX128")),
    Case("onnx-dtype-mismatch", "h3pc", with_init(numpy_helper.from_array(F32.astype(np.float64), "w")),
         ("node name: mm", "tensor(double)")),
    Case("onnx-typed-initializer-count-mismatch", "h3pc", with_init(init("w", [4, 3], float_data=[1.0] * 5)),
         ("'w'",)),
    # graph structure
    Case("onnx-dangling-input", "h3pc", two_nodes(N("MatMul", ["x", "ghost"], ["y"], name="mm")),
         ("'ghost'", "'mm'")),
    Case("onnx-missing-initializer", "h3pc", onnx_file(model(inits=[])), ("'w'", "'mm'")),
    Case("onnx-output-never-produced", "h3pc", onnx_file(model(
        outputs=[helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])), ("'z'", "never produced")),
    Case("onnx-cycle", "h3pc", two_nodes(N("Add", ["x", "b"], ["a"], name="n1"), N("Relu", ["a"], ["b"], name="n2"),
                                         N("Identity", ["a"], ["y"], name="n3"), inits=[]), ("cycle",)),
    Case("onnx-self-loop", "h3pc", two_nodes(N("Add", ["x", "a"], ["a"], name="n1"),
                                             N("Identity", ["a"], ["y"], name="n2"), inits=[]), ("cycle",)),
    Case("onnx-unknown-domain", "h3pc", two_nodes(N("Frobnicate", ["x"], ["y"], name="frob", domain="com.acme"),
                                                  extra_opsets=(("com.acme", 1),)), ("'frob' (com.acme.Frobnicate)",)),
    Case("onnx-unsupported-op", "h3pc", two_nodes(N("Einsum", ["x"], ["y"], name="ein", equation="ij->ji")),
         ("'ein' (ai.onnx.Einsum)",)),
    # name clashes
    Case("onnx-two-producers", "h3pc", two_nodes(N("Relu", ["x"], ["a"], name="r1"), N("Relu", ["x"], ["a"], name="r2"),
                                                 N("Identity", ["a"], ["y"], name="id"), inits=[]),
         ("'a'", "two nodes")),
    Case("onnx-node-overwrites-input", "h3pc", two_nodes(N("Relu", ["x"], ["x"], name="r"),
                                                         N("Identity", ["x"], ["y"], name="id"), inits=[]),
         ("'x'", "graph input")),
    Case("onnx-node-overwrites-initializer", "h3pc", two_nodes(N("Relu", ["x"], ["w"], name="r"),
                                                               N("MatMul", ["x", "w"], ["y"], name="mm")),
         ("'w'", "initializer")),
    Case("onnx-duplicate-initializer", "h3pc", onnx_file(model(inits=[
        numpy_helper.from_array(F32, "w"), numpy_helper.from_array(np.zeros((4, 5), np.float32), "w")])),
         ("'w'", "twice")),
    Case("onnx-duplicate-graph-input", "h3pc", onnx_file(duplicate_graph_input()), ("'x'", "twice")),
    # external data
    Case("onnx-external-missing-file", "h3pc", external("nowhere.bin", [4, 3]), ("'w'", "nowhere.bin")),
    Case("onnx-external-outside-folder", "h3pc", external("../../etc/passwd", [4, 3]),
         ("'w'", "outside the model folder")),
    Case("onnx-external-offset-past-end", "h3pc", external("data.bin", [4, 3], offset="4096"), ("'w'", "too short")),
    Case("onnx-external-offset-not-a-number", "h3pc", external("data.bin", [4, 3], offset="abc"), ("'w'", "offset")),
    Case("onnx-external-offset-negative", "h3pc", external("data.bin", [4, 3], offset="-8"), ("'w'", "offset")),
    Case("onnx-external-is-the-model-folder", "h3pc", external(".", [4, 3]), ("'w'", "'.'")),
    Case("onnx-external-is-a-folder", "h3pc", external_folder, ("'w'", "'sub'")),
]

PROGRAM_CASES = [
    Case("prog-missing-file", "program", lambda d, v: [str(d / "nope.bin")], ("No such file",)),
    Case("prog-directory", "program", lambda d, v: [str(d)], ("directory",)),
    Case("prog-empty-file", "program", raw_file(b"", "bad.bin"), ("truncated",)),
    Case("prog-cut-in-header", "program", cut(lambda v: 10), ("truncated",)),
    Case("prog-cut-header-last-byte", "program", cut(lambda v: _HEADER - 1), ("truncated",)),
    Case("prog-cut-in-table", "program", cut(lambda v: 100), ("truncated in the section table",)),
    Case("prog-cut-last-byte", "program", cut(lambda v: len(v.raw) - 1), ("truncated: section 'weights'",)),
    *[Case(f"prog-cut-{s}", "program", cut_section(s), (f"truncated: section '{s}'",)) for s in SECTIONS],
    *[Case(f"prog-flip-{s}", "program", flip_section(s), (f"checksum mismatch in section '{s}'",)) for s in SECTIONS],
    Case("prog-wrong-magic", "program", patched(lambda b, v: b.__setitem__(slice(0, 8), b"NOTAPROG")), ("bad magic",)),
    Case("prog-format-version-99", "program", patched(lambda b, v: struct.pack_into("<H", b, 8, 99)),
         ("format version 99",)),
    Case("prog-format-version-1", "program", patched(lambda b, v: struct.pack_into("<H", b, 8, 1)),
         ("format version 1 ",)),
    Case("prog-section-count-huge", "program", patched(lambda b, v: struct.pack_into("<H", b, 10, 0xFFFF)),
         ("corrupt header",)),
    Case("prog-offset-past-end", "program", patched(entry_field(0, "<Q", 24, 1 << 40)), ("stream.photonic", "the file has")),
    Case("prog-size-past-end", "program", patched(entry_field(10, "<Q", 32, (1 << 64) - 1)), ("weights", "the file has")),
    Case("prog-overlapping-sections", "program",
         patched(lambda b, v: entry_field(1, "<Q", 24, v.section("stream.photonic").offset)(b, v)), ("overlaps",)),
    Case("prog-unknown-section-kind", "program", patched(entry_field(3, "<I", 16, 77)), ("unknown kind 77",)),
    Case("prog-section-name-control-chars", "program", patched(lambda b, v: (
        b.__setitem__(slice(_HEADER, _HEADER + 16), b"\n\x1b[2Jstream\r".ljust(16, b"\0")),
        entry_field(0, "<I", 16, 99)(b, v))), ("'\\n\\x1b[2Jstream\\r'", "unknown kind 99")),
    Case("prog-trailing-bytes", "program", lambda d, v: raw_file(v.raw + b"\0" * 7, "bad.bin")(d, v),
         ("7 unexpected trailing bytes",)),
    Case("prog-missing-section", "program", resealed(drop("symbols")), ("no section 'symbols'",)),
    Case("prog-unknown-opcode", "program", resealed(lambda s: s.__setitem__(
        "stream.digital", ("stream", b"\xee\x00\x00\x00" + s["stream.digital"][1]))), ("unknown opcode 0xee at byte 0",)),
    Case("prog-hardware-digest-mismatch", "program", resealed(json_section("hardware", lambda h: set_in(
        h, "name", "tampered"))), ("header digest",)),
    Case("prog-bits-out-of-range", "program", resealed(edit_instr("photonic", "PMM", in_bits=4_000_000_000)),
         ("PMM", "in_bits 4000000000")),
    # consistent checksums, inconsistent program: the verifier (runtime/verify.py) names the instruction
    Case("prog-vop-kernel-past-end", "h3pc-run", run_on(resealed(edit_instr("digital", "VOP", kernel=999))),
         ("stream.digital instruction", "runs kernel 999, but the kernels section has")),
    Case("prog-vop-extra-operand", "h3pc-run", run_on(resealed(edit_instr("digital", "VOP", ins=(0, 0, 0)))),
         ("VOP", "passes 3 operands")),
    Case("prog-vop-operand-shape", "h3pc-run", run_on(resealed(reshaped("digital", "VOP", "outs*", [3, 5], last=True))),
         ("VOP", "kernel", "result 0 is [3,5] float32, expected [1,10] float32")),
    Case("prog-pmm-inner-dims", "h3pc-run", run_on(resealed(reshaped("photonic", "PMM", "b", [1, 7, 9]))),
         ("stream.photonic instruction 5 (PMM, node 'node_linear')",)),
    Case("prog-pmm-not-grouped", "h3pc-run", run_on(resealed(reshaped("photonic", "PMM", "a", [64]))),
         ("PMM", "not grouped")),
    Case("prog-mvm-result-shape", "h3pc-run", run_on(resealed(reshaped("sram_pim", "MVM", "out", [1, 1, 7]))),
         ("MVM", "result is [1,1,7] float32, expected")),
    Case("prog-mvm-unprogrammed-base", "h3pc-run", run_on(resealed(edit_instr("reram_pim", "MVM", base=4321))),
         ("MVM", "crossbars at 4321 that no earlier PROG programmed")),
    Case("prog-prog-vector", "h3pc-run", run_on(resealed(reshaped("reram_pim", "PROG", "w", [8192]))),
         ("PROG", "not a rows x cols")),
    Case("prog-missing-wait", "h3pc-run", run_on(resealed(without("photonic", "WAIT", 2))),  # layer 2's input
         ("stream.photonic instruction 11 (PMM, node 'node_linear_1') reads %", "before any instruction computes it")),
    Case("prog-output-never-computed", "h3pc-run", run_on(resealed(output_is_a_token)),
         ("output 'logits'", "is never computed")),
    Case("prog-prog-resident-2", "h3pc-run", run_on(resealed(edit_instr("reram_pim", "PROG", resident=2))),
         ("PROG", "resident is 2, not 0 or 1")),
    Case("prog-kernels-odd-element-type", "h3pc-run", run_on(resealed(lambda s: s.__setitem__(
        "kernels", ("meta", s["kernels"][1].replace(b"xf32>", b"xi7>"))))), ("kernels section", "i7")),
    Case("prog-kernels-func-without-type", "h3pc-run",
         run_on(resealed(put("kernels", b'"func.func"() <{sym_name = "k0"}> ({\n}) : () -> ()\n'))),
         ("kernels section",)),
    Case("prog-kernels-empty-function", "h3pc-run", run_on(resealed(put(
        "kernels", b'func.func @k0() {\n  func.return\n}\n'))), ("entry 0 is not function @k0 holding one op",)),
    Case("prog-nan-weights", "h3pc-run", run_on(resealed(nan_weights)), ("constant %", "contains NaN")),
    Case("prog-kernels-unterminated-string", "program",  # xDSL's lexer backtracks exponentially on this
         resealed(put("kernels", b'"func.func"() <{sym_name = "k0' + b"(tensor<1x1x128xf32>) " * 20 + b"\n")),
         ("kernels section", "string literal at line 1")),
    Case("prog-tensors-not-json", "program", resealed(put("tensors", b"{not json")), ("tensors", "malformed")),
    Case("prog-tensors-nested-too-deeply", "program", resealed(put("tensors", b"[" * 100_000)),
         ("tensors", "malformed")),
    Case("prog-weights-short", "program", resealed(put("weights", b"")), ("weights section",)),
    Case("prog-signature-bad-tensor", "program", resealed(json_section("signature", lambda s: set_in(
        s, "inputs", [{"name": "x", "tensor": 10**6}]))), ("signature", "10000")),
    Case("prog-signature-not-a-table", "program", resealed(json_section("signature", lambda s: [1, 2])),
         ("signature",)),
]

HW_CASES = [
    Case("hw-missing-file", "h3pc", lambda d, v: [str(model_path("mlp_digits")), "--hw", str(d / "nope.yaml")],
         ("no such preset or file",)),
    Case("hw-directory", "h3pc", lambda d, v: [str(model_path("mlp_digits")), "--hw", str(d)], ("directory",)),
    Case("hw-not-yaml", "h3pc", hw_text("photonic: [unclosed\n  : : :\n"), ("hw.yaml", "not valid YAML")),
    Case("hw-binary", "h3pc", hw_text(b"\xff\xfe\x00\x81binary" * 8), ("hw.yaml", "UTF-8")),
    Case("hw-list", "h3pc", hw_text("- photonic\n- sram_pim\n"), ("hw.yaml", "expected a mapping, got list")),
    Case("hw-scalar", "h3pc", hw_text("42\n"), ("hw.yaml", "expected a mapping")),
    Case("hw-empty", "h3pc", hw_text(""), ("hw.yaml", "empty")),
    Case("hw-deeply-nested", "h3pc", hw_text("[" * 100_000), ("hw.yaml", "nested too deeply")),
    Case("hw-missing-tiers", "h3pc", hw_text("name: x\nphotonic: {tiles: 2}\n"), ("hw.yaml", "photonic")),
    Case("hw-number-key", "h3pc", hw_text(PRESET + "1: one\nnull: none\n"), ("hw.yaml", "unknown key")),
    Case("hw-missing-key", "h3pc", hw_edit("memory.buffer_bytes", None), ("memory.buffer_bytes: missing key",)),
    Case("hw-unknown-key", "h3pc", hw_edit("turbo", True), ("turbo: unknown key",)),
    Case("hw-unknown-nested-key", "h3pc", hw_edit("digital.lanez", 4), ("digital.lanez: unknown key",)),
    Case("hw-string-for-int", "h3pc", hw_edit("photonic.tiles", "four"), ("photonic.tiles", "expected an integer")),
    Case("hw-bool-for-int", "h3pc", hw_edit("photonic.tiles", True), ("photonic.tiles", "expected an integer")),
    Case("hw-float-for-int", "h3pc", hw_edit("sram_pim.crossbar_rows", 2.5), ("sram_pim.crossbar_rows", "integer")),
    Case("hw-list-for-number", "h3pc", hw_edit("digital.freq_mhz", [1, 2]), ("digital.freq_mhz", "expected a number")),
    Case("hw-mapping-for-tier", "h3pc", hw_edit("digital", 3), ("digital", "expected a mapping")),
    Case("hw-string-for-name", "h3pc", hw_edit("name", 5), ("name", "expected a string")),
    Case("hw-negative-size", "h3pc", hw_edit("memory.buffer_bytes", -1), ("memory.buffer_bytes", "must be > 0")),
    Case("hw-zero-size", "h3pc", hw_edit("reram_pim.tiles", 0), ("reram_pim.tiles", "must be > 0")),
    Case("hw-negative-energy", "h3pc", hw_edit("digital.add_energy_pj", -0.5), ("digital.add_energy_pj", ">= 0")),
    Case("hw-bits-out-of-range", "h3pc", hw_edit("photonic.in_bits", 64), ("photonic.in_bits", "<= 16")),
    Case("hw-nan", "h3pc", hw_raw("digital.freq_mhz", ".nan"), ("digital.freq_mhz", "finite")),
    Case("hw-inf", "h3pc", hw_raw("memory.offchip_bandwidth_gbps", ".inf"), ("memory.offchip_bandwidth_gbps", "finite")),
    Case("hw-cell-bits", "h3pc", hw_edit("sram_pim.cell_bits", 3), ("sram_pim.weight_bits", "multiple")),
    Case("hw-conductance-range", "h3pc", hw_edit("reram_pim.g_min_us", 50.0), ("hw.yaml", "reram_pim", "g_min_us")),
    Case("hw-run-bad-file", "h3pc-run", hw_text("name: x\nphotonic: {tiles: 2}\n", "h3pc-run"), ("hw.yaml", "photonic")),
    Case("hw-run-other-geometry", "h3pc-run", hw_edit("sram_pim.crossbar_rows", 64, "h3pc-run"),
         ("sram_pim.crossbar_rows", "recompile")),
]

NPZ_CASES = [
    Case("npz-missing-file", "h3pc-run", lambda d, v: [str(v.program), "--inputs", str(d / "nope.npz")],
         ("no such file",)),
    Case("npz-wrong-name", "h3pc-run", npz(other=x), ("missing input 'x'",)),
    Case("npz-extra-name", "h3pc-run", npz(x=x, extra=x), ("unknown input 'extra'",)),
    Case("npz-empty", "h3pc-run", npz(), ("missing input 'x'",)),
    Case("npz-wrong-shape", "h3pc-run", npz(x=lambda v: x(v)[..., :-1]), ("'x'", "has shape")),
    Case("npz-scalar", "h3pc-run", npz(x=lambda v: np.float32(1.0)), ("'x'", "has shape")),
    Case("npz-zero-samples", "h3pc-run", npz(x=lambda v: np.zeros((0, *x(v).shape), np.float32)),
         ("'x'", "no samples")),
    Case("npz-float64", "h3pc-run", npz(x=lambda v: x(v).astype(np.float64)), ("'x'", "has dtype float64")),
    Case("npz-int32", "h3pc-run", npz(x=lambda v: x(v).astype(np.int32)), ("'x'", "has dtype int32")),
    Case("npz-complex", "h3pc-run", npz(x=lambda v: x(v).astype(np.complex64)), ("'x'", "has dtype complex64")),
    Case("npz-strings", "h3pc-run", npz(x=lambda v: np.full(x(v).shape, "a")), ("'x'", "has dtype")),
    Case("npz-nan", "h3pc-run", npz(x=lambda v: np.full_like(x(v), np.nan)), ("'x'", "NaN or Inf")),
    Case("npz-inf", "h3pc-run", npz(x=lambda v: np.where(np.arange(x(v).size).reshape(x(v).shape) == 3,
                                                          np.float32(np.inf), x(v))), ("'x'", "NaN or Inf")),
    Case("npz-not-npz", "h3pc-run", npz_bytes(lambda v: b"not an npz"), ("not a readable .npz",)),
    Case("npz-zero-bytes", "h3pc-run", npz_bytes(lambda v: b""), ("not a readable .npz",)),
    Case("npz-truncated", "h3pc-run", npz_bytes(lambda v: savez_bytes(x=x(v))[:-30]), ("not a readable .npz",)),
    Case("npz-huge-declared", "h3pc-run", npz_bytes(huge_npz), ("'x.npy'", "declares shape [1000000, 1000000]"),
         isolate=True),
    Case("npz-huge-declared-v3", "h3pc-run", npz_bytes(lambda v: huge_npz(v, 3)),
         ("'x.npy'", "declares shape [1000000, 1000000]"), isolate=True),
    Case("npz-compressed-corrupt", "h3pc-run", npz_bytes(corrupt_compressed), ("not a readable .npz",)),
    Case("npz-pickled-object", "h3pc-run", npz_bytes(pickled_npz), ("not a readable .npz",)),
    Case("npz-is-npy", "h3pc-run", npz_bytes(npy_bytes, "x.npy"), ("not a readable .npz",)),
    Case("npz-zip-of-text", "h3pc-run", npz_bytes(zip_of_text), ("not a readable .npz",)),
]

CASES = ONNX_CASES + PROGRAM_CASES + HW_CASES + NPZ_CASES


def test_table_is_well_formed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40


# --- the runner ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Valid:
    """mlp_digits split over every tier (naive mapping: fast, and every stream has instructions)."""
    d = tmp_path_factory.mktemp("valid")
    program = d / "p.bin"
    assert h3pc_main([str(model_path("mlp_digits")), "-o", str(program), "--mapping", "naive"]) == 0
    raw = program.read_bytes()
    assert container.decode(raw).names() == SECTIONS
    assert all(len(s.data) for s in container.decode(raw).sections)
    ref = np.load(MODELS / "mlp_digits.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    inputs = d / "x.npz"
    np.savez(inputs, **feeds)
    assert run_main([str(program), "--inputs", str(inputs), "-q"]) == 0
    return Valid(program, raw, inputs, feeds)


def output_flags(tool: str, out: Path) -> list[str]:
    """Every file the tool can write, all into `out`."""
    if tool == "h3pc":
        return ["-o", str(out / "p.bin"), "--report", str(out / "estimate.json")]
    if tool == "h3pc-run":
        return ["--outputs", str(out / "y.npz"), "--report", str(out / "r.json"), "--trace", str(out / "t.json"), "-q"]
    return []


def limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_CAP, AS_CAP))


def run_isolated(tool: str, argv: list[str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", MODULES[tool], *argv], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=limit_address_space, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"})
    return proc.returncode, proc.stderr


def check_line(tool: str, code: int, err: str, expect: tuple[str | tuple[str, ...], ...], folder: Path) -> str:
    """One error line holding every expected piece outside the test's own folder name (pytest names it
    after the case, so a path could otherwise supply the expected words)."""
    assert code != 0, f"{tool} exited 0"
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{tool}: error: "), lines[0]
    text = lines[0].replace(str(folder), "")
    for want in expect:
        alternatives = (want,) if isinstance(want, str) else want
        assert any(a in text for a in alternatives), f"{want!r} not in {lines[0]!r}"
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case: Case, valid: Valid, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work, out = tmp_path / "in", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    argv = case.make(work, valid)
    for tool in ("h3pc-run", "h3pc-objdump") if case.tool == "program" else (case.tool,):
        if tool == "h3pc-run" and case.tool == "program":
            args = argv[:1] + ["--inputs", str(valid.inputs)] + argv[1:]
        else:
            args = list(argv)
        args += output_flags(tool, out)
        if case.isolate:
            code, err = run_isolated(tool, args, tmp_path)
        else:
            code = MAINS[tool](args)
            err = capsys.readouterr().err
        check_line(tool, code, err, case.expect, tmp_path)
        assert sorted(p.name for p in out.iterdir()) == [], "output or temporary file left behind"
