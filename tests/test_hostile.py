"""Hostile input, one table: malformed ONNX models, damaged program.bin files, bad hardware, sweep,
placement and IR files, bad input sets, special files (FIFO, folder, device) for every file flag,
outputs that would destroy an input or are not regular files, absurd flags, and helper modules' cases
(tests/hostile_models.py). Each must fail with a non-zero exit code, exactly one `<prog>: error: ...`
line naming what is wrong, no traceback, under an address-space cap and a timeout, without opening
anything outside the case's model folder (a FIFO canary and an audit hook), with every input and every
pre-existing output byte-identical afterwards (and their permission bits), and nothing left behind in
the output folder or in the child's TMPDIR.

A case writes its hostile file(s) into a fresh `in/` folder and returns the tool's arguments; unless it
is about outputs, the runner adds every output flag the tool has, each naming a pre-existing file in
`out/`. Every case runs in a child forked from one server process (see the runner below). Set
H3PC_HOSTILE_STATS=FILE to record each case's time and peak memory, and print the table of figures with
`python tests/test_hostile.py FILE`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import MODELS, model_path
from h3pc.backends import container, isa
from h3pc.cli import main as h3pc_main
from h3pc.hardware.schema import PRESETS
from h3pc.run import main as run_main
from h3pc.backends import tiers

ENGINES = tiers.engines()

#: the sections of every program.bin, in file order (checked against the compiled program below)
SECTIONS = [f"stream.{t}" for t in ENGINES] + ["hardware", "signature", "tensors", "kernels", "symbols", "weights"]
_HEADER, _ENTRY = 64, 48  # sizes of the container header and of one section-table entry


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
    #: kept for the cases' own documentation: every case now runs in a child process under the caps;
    #: True marks the ones that declare sizes which must never be allocated
    isolate: bool = False
    #: whether the runner adds every output flag of the tool (pointing at pre-existing files in out/);
    #: cases about outputs pass their own
    outputs: bool = True
    #: a file outside the model folder the tool must never open (besides the runner's own FIFO canary
    #: and everything else under `outside/`), relative to the case folder (the model folder's parent)
    canary: str | Path | None = None


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


def deep_if(depth: int) -> bytes:
    """A model whose If nests `depth` subgraphs deep, written as raw protobuf (the onnx helpers stop near
    30 levels; a hand-made file need not): then_branch = graph{node{If, then_branch = graph{...}}}."""
    def varint(n: int) -> bytes:
        out = b""
        while n > 0x7F:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    def ld(field: int, payload: bytes) -> bytes:
        return varint(field << 3 | 2) + varint(len(payload)) + payload

    def if_node(branch: bytes) -> bytes:  # NodeProto: input=1, op_type=4, attribute=5 (name=1, type=20, g=6)
        return ld(1, b"c") + ld(4, b"If") + ld(5, ld(1, b"then_branch") + varint(20 << 3) + varint(5) + ld(6, branch))

    graph = b""
    for _ in range(depth):
        graph = ld(1, if_node(graph))
    m = model(nodes=[N("Identity", ["x"], ["y"], name="id")], inits=[])
    return m.SerializeToString() + ld(7, ld(1, if_node(graph)))  # one more node appended to the graph


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
         onnx_file(model([N("Relu", ["x"], ["y"], name="r")], inits=[], opset=6)), ("opset 6",)),
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
                                                            string_data=[b"a"] * 12)), ("node 'mm'", "tensor(string)")),
    Case("onnx-complex-initializer", "h3pc", with_init(init("w", [4, 3], TensorProto.COMPLEX64,
                                                             raw=np.ones((4, 3), np.complex64).tobytes())),
         ("node 'mm'", "tensor(complex64)")),
    Case("onnx-undefined-dtype-initializer", "h3pc", with_init(unknown_dtype(0)), ("'w'", "type")),
    Case("onnx-unknown-dtype-initializer", "h3pc", with_init(unknown_dtype(99)), ("'w'", "type 99")),
    Case("onnx-string-input", "h3pc", identity_of(TensorProto.STRING), ("'x'", "STRING")),
    Case("onnx-complex-input", "h3pc", identity_of(TensorProto.COMPLEX128), ("'x'", "COMPLEX128")),
    Case("onnx-dtype-mismatch", "h3pc", with_init(numpy_helper.from_array(F32.astype(np.float64), "w")),
         ("node 'mm'", "tensor(double)")),
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
    Case("onnx-unsupported-op", "h3pc", two_nodes(N("StringNormalizer", ["x"], ["y"], name="ein")),
         ("'ein' (ai.onnx.StringNormalizer)",)),
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
    Case("onnx-if-nested-3000-deep", "h3pc", raw_file(deep_if(3000)), ("not a valid ONNX model",)),
    Case("onnx-if-nested-3-deep-without-output", "h3pc", raw_file(deep_if(3)), ("node 'If' (If)", "has no output")),
    Case("onnx-node-without-output", "h3pc", two_nodes(N("Relu", ["x"], [], name=""), N("Relu", ["x"], ["y"])),
         ("node 'Relu' (Relu), node #0", "has no output")),
    Case("onnx-constant-with-empty-output", "h3pc", two_nodes(
        N("Constant", [], [""], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        N("Relu", ["x"], ["y"], name="r"), inits=[]), ("(Constant)", "has no output")),
    Case("onnx-loop-of-10e15-iterations", "h3pc", two_nodes(
        N("Loop", ["n", "c", "x"], ["y"], name="loop", body=helper.make_graph(
            [N("Identity", ["ci"], ["co"]), N("Relu", ["a"], ["b"])], "body",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("ci", TensorProto.BOOL, []),
             helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 4])],
            [helper.make_tensor_value_info("co", TensorProto.BOOL, []),
             helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 4])])),
        inits=[numpy_helper.from_array(np.array(10**15, np.int64), "n"), numpy_helper.from_array(np.array(True), "c")]),
         ("Loop 'loop'", "--max-unroll")),
    # names that would break the one line: control characters, megabytes of name
    Case("onnx-path-with-newline-and-escape", "h3pc", raw_file(b"garbage", "m\n\x1b[2Jx.onnx"),
         ("m\\n\\x1b[2Jx.onnx", "not an ONNX model")),
    Case("onnx-node-name-of-a-megabyte", "h3pc", two_nodes(N("StringNormalizer", ["x"], ["y"], name="e" * (1 << 20))),
         ("ai.onnx.StringNormalizer", "[...]")),
]

PROGRAM_CASES = [
    Case("prog-missing-file", "program", lambda d, v: [str(d / "nope.bin")], ("no such file",)),
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
    # a crossbar of 10^9 rows: every run padded its operands to it (gigabytes); sides are bounded
    Case("hw-crossbar-of-a-billion-rows", "h3pc", hw_edit("sram_pim.crossbar_rows", 10**9),
         ("hw.yaml", "sram_pim.crossbar_rows", "must be <= 65536")),
    Case("hw-run-core-of-a-billion-columns", "h3pc-run", hw_edit("photonic.core_cols", 10**9, "h3pc-run"),
         ("hw.yaml", "photonic.core_cols", "must be <= 65536")),
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
    Case("npz-wrong-name", "h3pc-run", npz(other=x), ("no samples for input 'x'", "found other")),
    Case("npz-empty", "h3pc-run", npz(), ("no samples for input 'x'", "found none")),
    Case("npz-wrong-shape", "h3pc-run", npz(x=lambda v: x(v)[..., :-1]), ("'x'", "has shape")),
    Case("npz-scalar", "h3pc-run", npz(x=lambda v: np.float32(1.0)), ("'x'", "has shape")),
    Case("npz-zero-samples", "h3pc-run", npz(x=lambda v: np.zeros((0, *x(v).shape), np.float32)),
         ("'x'", "no samples")),
    Case("npz-int32", "h3pc-run", npz(x=lambda v: x(v).astype(np.int32)), ("'x'", "has dtype int32")),
    Case("npz-complex", "h3pc-run", npz(x=lambda v: x(v).astype(np.complex64)), ("'x'", "has dtype complex64")),
    Case("npz-strings", "h3pc-run", npz(x=lambda v: np.full(x(v).shape, "a")), ("no samples for input 'x'",)),
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


# --- files the tools read and write (h3pc/files.py): limits, outputs, special files --------------------


def mlp(d: Path) -> str:
    """A copy of mlp_digits inside the case folder (so the runner hashes it before and after)."""
    m = d / "m.onnx"
    if not m.exists():
        m.write_bytes(model_path("mlp_digits").read_bytes())
    return str(m)


def out_of(d: Path) -> Path:
    return d.parent / "out"


def previous(p: Path) -> str:
    """A pre-existing output file (its bytes and mode must survive a refused command)."""
    p.write_bytes(b"previous contents of " + p.name.encode() + b"\n")
    p.chmod(0o640)
    return str(p)


def laughs(levels: int = 9) -> str:
    """The billion laughs: 10 aliases per level, 10^levels values once expanded, a few hundred bytes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def duplicated_in_tier(tier: str, key: str, value: str) -> str:
    """The preset with `key: value` written a second time inside `tier`."""
    out = []
    for line in PRESET.splitlines():
        out.append(line)
        if line.startswith(f"{tier}:"):
            out.append(f"  {key}: {value}")
    return "\n".join(out) + "\n"


def sweep_yaml(d: Path, body: str, model: str | None = None) -> str:
    """A sweep file over `model` (default: mlp_digits copied beside it) with `body` appended."""
    p = d / "sweep.yaml"
    p.write_text(f"models: [{json.dumps(model or mlp(d))}]\n" + body)
    return str(p)


def sweep_case(body: str) -> Callable[[Path, Valid], list[str]]:
    return lambda d, v: [sweep_yaml(d, body)]


def placement(data: str | bytes, *extra: str) -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        p = d / "place.json"
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return [mlp(d), "--mapping", "naive", "--placement-in", str(p), *extra]
    return make


def special(kind: str, d: Path) -> str:
    """A file argument that is not a regular file: a FIFO (opening it would block), a folder, a device."""
    if kind == "device":
        return "/dev/zero"
    p = d / "special"
    if kind == "fifo":
        os.mkfifo(p)
    else:
        p.mkdir()
    return str(p)


#: every file flag of every tool, as arguments around the file `f` (a FIFO, folder or device)
FILE_FLAGS: dict[str, tuple[str, Callable[[Path, Valid, str], list[str]]]] = {
    "h3pc-model": ("h3pc", lambda d, v, f: [f]),
    "h3pc-hw": ("h3pc", lambda d, v, f: [mlp(d), "--hw", f]),
    "h3pc-placement-in": ("h3pc", lambda d, v, f: [mlp(d), "--mapping", "naive", "--placement-in", f]),
    "h3pc-calib": ("h3pc", lambda d, v, f: [mlp(d), "--calib", f]),
    "run-program": ("h3pc-run", lambda d, v, f: [f, "--inputs", str(v.inputs)]),
    "run-inputs": ("h3pc-run", lambda d, v, f: [str(v.program), "--inputs", f]),
    "run-calib": ("h3pc-run", lambda d, v, f: [str(v.program), "--inputs", str(v.inputs), "--calib", f]),
    "run-hw": ("h3pc-run", lambda d, v, f: [str(v.program), "--inputs", str(v.inputs), "--hw", f]),
    "objdump-program": ("h3pc-objdump", lambda d, v, f: [f]),
    "opt-input": ("h3pc-opt", lambda d, v, f: [f]),
    "sweep-file": ("h3pc sweep", lambda d, v, f: [f]),
    "sweep-model": ("h3pc sweep", lambda d, v, f: [sweep_yaml(d, "", f)]),
    "sweep-hardware": ("h3pc sweep", lambda d, v, f: [sweep_yaml(d, f"hardware: {json.dumps(f)}\n")]),
    "sweep-calib": ("h3pc sweep", lambda d, v, f: [sweep_yaml(d, f"quality: {{calib: {json.dumps(f)}}}\n")]),
}
KIND_WORDS = {"fifo": "FIFO", "dir": "directory", "device": "character device"}


def file_flag_case(name: str, kind: str) -> Case:
    tool, args = FILE_FLAGS[name]
    return Case(f"file-{kind}-as-{name}", tool, lambda d, v: args(d, v, special(kind, d)),
                (KIND_WORDS[kind], ("special", "/dev/zero")))


def outputs_case(id: str, tool: str, make: Callable[[Path, Valid], list[str]],
                 expect: tuple[str | tuple[str, ...], ...]) -> Case:
    """A case that passes its own output flags (quiet, as the runner's flags are)."""
    quiet = ["-q"] if tool in ("h3pc", "h3pc-run", "h3pc sweep") else []
    return Case(id, tool, lambda d, v: make(d, v) + quiet, expect, outputs=False)


def o_as(link: Callable[[Path, Path], None]) -> Callable[[Path, Valid], list[str]]:
    """-o names the model through a hard or symbolic link made in out/."""
    def make(d: Path, v: Valid) -> list[str]:
        m = Path(mlp(d))
        target = out_of(d) / "p.bin"
        link(m, target)
        return [str(m), "-o", str(target)]
    return make


def run_copy(d: Path, v: Valid) -> tuple[str, str]:
    """The valid program and inputs copied into the case folder."""
    p, x_ = d / "p.bin", d / "x.npz"
    p.write_bytes(v.raw)
    x_.write_bytes(v.inputs.read_bytes())
    return str(p), str(x_)


def hw_is_report(d: Path) -> list[str]:
    hw = d / "hw.yaml"
    hw.write_text(PRESET)
    return [mlp(d), "--hw", str(hw), "--report", str(hw)]


def dangling(d: Path) -> list[str]:
    target = out_of(d) / "p.bin"
    target.symlink_to(out_of(d) / "missing.bin")
    return [mlp(d), "-o", str(target)]


#: every output flag of every tool, with the arguments of a run that would otherwise succeed
OUTPUT_FLAGS: dict[str, tuple[str, str, Callable[[Path, Valid], list[str]]]] = {
    "h3pc-o": ("h3pc", "-o", lambda d, v: [mlp(d), "--mapping", "naive"]),
    "h3pc-report": ("h3pc", "--report", lambda d, v: [mlp(d), "--mapping", "naive"]),
    "h3pc-pareto": ("h3pc", "--pareto", lambda d, v: [mlp(d), "--mapping", "naive"]),
    "h3pc-placement-out": ("h3pc", "--placement-out", lambda d, v: [mlp(d), "--mapping", "naive"]),
    "h3pc-ir-out": ("h3pc", "--ir-out", lambda d, v: [mlp(d), "--emit", "nn"]),
    "run-outputs": ("h3pc-run", "--outputs", lambda d, v: [str(v.program), "--inputs", str(v.inputs)]),
    "run-report": ("h3pc-run", "--report", lambda d, v: [str(v.program), "--inputs", str(v.inputs)]),
    "run-trace": ("h3pc-run", "--trace", lambda d, v: [str(v.program), "--inputs", str(v.inputs)]),
    "opt-o": ("h3pc-opt", "-o", lambda d, v: mlir("builtin.module {\n}\n")(d, v)),
    "sweep-o": ("h3pc sweep", "-o", lambda d, v: [sweep_yaml(d, "")]),
}


def output_flag_case(name: str, kind: str) -> Case:
    """An output flag naming a FIFO, a folder or a device: refused before any work, nothing written."""
    tool, flag, base = OUTPUT_FLAGS[name]

    def make(d: Path, v: Valid) -> list[str]:
        if kind == "device":
            target = "/dev/null"
        else:
            target = str(out_of(d) / "target")
            os.mkfifo(target) if kind == "fifo" else os.mkdir(target)
        return base(d, v) + [flag, target]
    expect = ("not a folder",) if tool == "h3pc sweep" else (f"{flag} ", KIND_WORDS[kind])
    return outputs_case(f"out-{kind}-as-{name}", tool, make, expect)


def late_failure(d: Path, v: Valid) -> list[str]:
    """Every check passes and stage two runs, then no remap meets an unreachable SNR: the outputs
    (pre-existing p.bin and r.json) stay as they were."""
    ref = np.load(MODELS / "mlp_digits.npz")
    calib = d / "calib.npz"
    np.savez(calib, **{k[3:]: ref[k][:4] for k in ref.files if k.startswith("in/")})
    o = out_of(d)
    return [mlp(d), "--mapping", "naive", "--no-precision", "-o", previous(o / "p.bin"), "--report",
            previous(o / "r.json"), "--calib", str(calib), "--metric", "snr", "--tolerance", "1000"]


def results_with(d: Path, name: str, folder: bool) -> list[str]:
    """A sweep whose -o results folder already holds a file of the user's (or is a file)."""
    res = out_of(d) / "results"
    if folder:
        res.mkdir()
        previous(res / name)
    else:
        previous(res)
    return [sweep_yaml(d, ""), "-o", str(res)]


def earlier_results_with_link(d: Path, name: str) -> list[str]:
    """An earlier sweep's results folder (its lock file marks it) in which `name` is a symbolic link to a
    file of the user's: the sweep would write the user's file through it."""
    res = out_of(d) / "results"
    (res / "points").mkdir(parents=True)
    mine = previous(out_of(d) / "mine.md")
    if name != ".lock":
        (res / ".lock").write_bytes(b"")
    (res / name).symlink_to(os.path.relpath(mine, (res / name).parent))
    return [sweep_yaml(d, ""), "-o", str(res)]


def npz_with_bomb(v: Valid) -> bytes:
    """x in the wrong dtype (an integer for a float input) beside a member declaring 10^12 elements:
    reading only the member used names x; reading every member would name the bomb (or allocate it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("junk.npy", zipfile.ZipFile(io.BytesIO(huge_npz(v))).read("x.npy"))
        arr = io.BytesIO()
        np.save(arr, x(v).astype(np.int32))
        z.writestr("x.npy", arr.getvalue())
    return buf.getvalue()


def mlir(text: str | bytes) -> Callable[[Path, Valid], list[str]]:
    def make(d: Path, v: Valid) -> list[str]:
        p = d / "in.mlir"
        p.write_bytes(text.encode() if isinstance(text, str) else text)
        return [str(p)]
    return make


FILE_CASES = [file_flag_case(name, kind) for name in FILE_FLAGS for kind in KIND_WORDS]
OUTPUT_FLAG_CASES = [output_flag_case(name, kind) for name in OUTPUT_FLAGS for kind in KIND_WORDS
                     if not (name == "sweep-o" and kind == "dir")]  # a folder is what sweep -o names

YAML_CASES = [
    Case("yaml-billion-laughs-hw", "h3pc", hw_text(laughs()), ("hw.yaml", "aliases are expanded")),
    Case("yaml-billion-laughs-run-hw", "h3pc-run", hw_text(laughs(), "h3pc-run"), ("hw.yaml", "aliases are expanded")),
    Case("yaml-billion-laughs-sweep", "h3pc sweep", sweep_case(laughs()), ("sweep.yaml", "aliases are expanded")),
    Case("yaml-alias-to-itself", "h3pc", hw_text("name: x\nphotonic: &a [*a]\n"), ("hw.yaml", "refers to itself")),
    Case("yaml-nested-65-levels", "h3pc", hw_text("name: " + "{a: " * 65 + "1" + "}" * 65 + "\n"),
         ("hw.yaml", "more than 64 levels")),
    Case("yaml-nested-sweep", "h3pc sweep", sweep_case("solver: " + "[" * 100 + "]" * 100 + "\n"),
         ("sweep.yaml", "nested too deeply")),
    Case("yaml-duplicate-key", "h3pc", hw_text(PRESET + "name: again\n"), ("hw.yaml", "duplicate key 'name'")),
    Case("yaml-duplicate-nested-key", "h3pc", hw_text(duplicated_in_tier("photonic", "tiles", "3")),
         ("hw.yaml", "duplicate key 'tiles'")),
    Case("yaml-duplicate-key-sweep", "h3pc sweep", sweep_case("grid: product\ngrid: zip\n"),
         ("sweep.yaml", "duplicate key 'grid'")),
    Case("yaml-long-string", "h3pc", hw_text("name: " + "a" * (2 << 20) + "\n"), ("hw.yaml", "bytes, more than")),
    Case("yaml-huge-file", "h3pc", hw_text("#" * (17 << 20) + "\n"), ("hw.yaml", "bytes, more than")),
    Case("yaml-many-values", "h3pc", hw_text("name: [" + "1," * 131_000 + "1]\n"),
         ("hw.yaml", "name: expected a string, got [1, 1, 1,", "...")),  # the value quoted, cut short
    Case("yaml-integer-of-5000-digits", "h3pc", hw_text("name: x\nphotonic: {tiles: " + "9" * 5000 + "}\n"),
         ("hw.yaml", "a number of more than 100 characters at line 2")),  # Python converts at most 4300
    Case("yaml-binary-integer-sweep", "h3pc sweep", sweep_case("axes: {photonic.tiles: [0b" + "1" * 20_000 + "]}\n"),
         ("sweep.yaml", "a number of more than")),
    Case("json-placement-integer-of-5000-digits", "h3pc", placement('{"format": ' + "9" * 5000 + "}"),
         ("place.json", "not a placement file")),
    Case("yaml-many-values-sweep", "h3pc sweep", sweep_case("axes: {photonic.tiles: [" + "1," * 10_000 + "1]}\n"),
         ("sweep.yaml", "10001 values, more than the 10000 supported per axis")),
]

JSON_CASES = [
    Case("json-placement-deep-lists", "h3pc", placement("[" * 100_000), ("place.json", "nested too deeply")),
    Case("json-placement-deep-objects", "h3pc", placement('{"a":' * 70 + "1" + "}" * 70),
         ("place.json", "more than 64 levels")),
    Case("json-placement-duplicate-key", "h3pc",
         placement('{"format": "h3pc-placement", "layers": [], "format": "x"}'),
         ("place.json", "duplicate key 'format'")),
    Case("json-placement-many-values", "h3pc", placement("[" + "0," * 1_100_000 + "0]"),
         ("place.json", "more than 1000000 values")),
    Case("json-placement-long-string", "h3pc", placement('{"format": "' + "a" * (2 << 20) + '"}'),
         ("place.json", "a string of more than")),
    Case("json-placement-long-escaped-string", "h3pc", placement('{"format": "' + "\\n" * (1 << 20) + '"}'),
         ("place.json", "a string of more than")),  # a regex with a state per character would need 300 MB
    Case("json-placement-huge-file", "h3pc", placement(" " * (17 << 20) + "{}"), ("place.json", "bytes, more than")),
    Case("json-placement-not-utf8", "h3pc", placement(b'\xff\xfe{"format": 1}'), ("place.json", "UTF-8")),
]

OUTPUT_CASES = [
    outputs_case("out-o-is-the-model", "h3pc", lambda d, v: [mlp(d), "-o", mlp(d)], ("-o", "is also the model")),
    outputs_case("out-o-hard-link-to-the-model", "h3pc", o_as(lambda m, t: os.link(m, t)), ("-o", "is also the model")),
    outputs_case("out-o-symlink-to-the-model", "h3pc", o_as(lambda m, t: t.symlink_to(m)), ("-o", "is also the model")),
    outputs_case("out-report-is-the-model", "h3pc",
                 lambda d, v: [mlp(d), "-o", previous(out_of(d) / "p.bin"), "--report", mlp(d)],
                 ("--report", "is also the model")),
    outputs_case("out-ir-out-is-the-model", "h3pc", lambda d, v: [mlp(d), "--emit", "nn", "--ir-out", mlp(d)],
                 ("--ir-out", "is also the model")),
    outputs_case("out-placement-out-is-placement-in", "h3pc",
                 lambda d, v: [mlp(d), "--placement-in", previous(d / "pl.json"),
                               "--placement-out", str(d / "pl.json")],
                 ("--placement-out", "is also the --placement-in file")),
    outputs_case("out-report-is-the-hw-file", "h3pc", lambda d, v: hw_is_report(d),
                 ("--report", "is also the --hw file")),
    outputs_case("out-outputs-is-inputs", "h3pc-run",
                 lambda d, v: (lambda p, xs: [p, "--inputs", xs, "--outputs", xs])(*run_copy(d, v)),
                 ("--outputs", "is also the --inputs file")),
    outputs_case("out-report-is-the-program", "h3pc-run",
                 lambda d, v: (lambda p, xs: [p, "--inputs", xs, "--report", p])(*run_copy(d, v)),
                 ("--report", "is also the program")),
    outputs_case("out-trace-is-calib", "h3pc-run",
                 lambda d, v: (lambda p, xs: [p, "--inputs", xs, "--calib", xs, "--trace", xs])(*run_copy(d, v)),
                 ("--trace", "is also the --")),
    outputs_case("out-two-outputs-one-file", "h3pc",
                 lambda d, v: [mlp(d), "-o", previous(out_of(d) / "a"), "--report", str(out_of(d) / "a")],
                 ("--report", "also given as -o")),
    outputs_case("out-dangling-symlink", "h3pc", lambda d, v: dangling(d), ("-o", "symbolic link to a missing file")),
    outputs_case("out-file-name-too-long", "h3pc", lambda d, v: [mlp(d), "-o", str(out_of(d) / ("p" * 300))],
                 ("-o", "File name too long")),
    outputs_case("out-missing-folder", "h3pc", lambda d, v: [mlp(d), "-o", str(out_of(d) / "nope" / "p.bin")],
                 ("-o", "no such folder")),
    outputs_case("out-late-failure-writes-nothing", "h3pc", late_failure, ("stage two", "no remap meets")),
    outputs_case("out-o-is-the-external-data", "h3pc", lambda d, v: external("data.bin", [4, 3])(d, v)
                 + ["--mapping", "naive", "-o", str(d / "data.bin")], ("-o", "is also external data of m.onnx")),
    # the quality check's arithmetic overflows (numpy warns: two lines), then the commit refuses: still one line
    outputs_case("out-refused-after-a-numpy-warning", "h3pc", lambda d, v: external(
        "data.bin", [4, 3], data=np.full((4, 3), 3e38, np.float32).tobytes())(d, v)
                 + ["-o", str(d / "data.bin")], ("-o", "is also external data of m.onnx")),
    outputs_case("out-opt-o-is-the-input", "h3pc-opt",
                 lambda d, v: (lambda a: a + ["-o", a[0]])(mlir("builtin.module {\n}\n")(d, v)),
                 ("-o", "is also the input")),
    outputs_case("out-sweep-results-hold-user-files", "h3pc sweep", lambda d, v: results_with(d, "notes.md", True),
                 ("results", "holds files no sweep wrote")),
    *[outputs_case(f"out-sweep-results-{name.strip('.').replace('/', '-')}-is-a-link", "h3pc sweep",
                   (lambda n: lambda d, v: earlier_results_with_link(d, n))(name), (name, "a symbolic link"))
      for name in ("summary.md", "sweep.csv", ".lock", "points/0123.json")],
    outputs_case("out-sweep-results-is-a-file", "h3pc sweep", lambda d, v: results_with(d, "", False),
                 ("results", "not a folder")),
]

SWEEP_CASES = [
    Case("sweep-model-with-external-data", "h3pc sweep",
         lambda d, v: [sweep_yaml(d, "", external("data.bin", [4, 3])(d, v)[0])],
         ("sweep.yaml", "models[0].path", "external files (data.bin)")),
    Case("sweep-grid-of-a-million", "h3pc sweep", sweep_case(
        "axes:\n" + "".join(f"  {k}: {list(range(1, 101))}\n" for k in
                            ("photonic.tiles", "sram_pim.tiles", "reram_pim.tiles"))),
         ("1000000 points", "more than the 100000")),
    Case("sweep-axis-too-long", "h3pc sweep", sweep_case(f"axes:\n  photonic.tiles: {list(range(1, 20_002))}\n"),
         ("axes.photonic.tiles", "20001 values")),
    Case("sweep-mappings-multiply", "h3pc sweep", sweep_case(
        "mappings: [hybrid/cpsat, hybrid/nsga2, hybrid/random]\nobjectives: [latency, energy, edp]\n"
        f"axes:\n  photonic.tiles: {list(range(1, 10_001))}\n  sram_pim.tiles: [1, 2]\n"),
         ("180000 points", "9 mapping/objective run(s)")),
]

NPZ_LAZY_CASES = [
    Case("npz-unused-member-not-read", "h3pc-run", npz_bytes(npz_with_bomb), ("'x'", "dtype int32"),
         isolate=True),
    Case("npz-inputs-huge-member-used", "h3pc-run", npz_bytes(huge_npz), ("'x.npy'", "declares shape"), isolate=True),
]

FLAG_CASES = [
    *[Case(f"flag-h3pc-{flag.strip('-')}-{label}", "h3pc", (lambda f, val: lambda d, v: [mlp(d), f, val])(flag, value),
           (flag,)) for flag, label, value in (
        ("--solve-time", "inf", "inf"), ("--solve-time", "nan", "nan"), ("--solve-time", "1e12", "1e12"),
        ("--solve-time", "zero", "0"), ("--points", "huge", "1000000"), ("--workers", "huge", "100000"),
        ("--samples", "huge", "1000000000"), ("--seed", "negative", "-1"), ("--seed", "huge", str(2**70)),
        ("--tolerance", "nan", "nan"), ("--tolerance", "inf", "inf"), ("--precision-trials", "huge", "1000000000"))],
    Case("flag-run-seed-negative", "h3pc-run", lambda d, v: [str(v.program), "--inputs", str(v.inputs), "--seed", "-5"],
         ("--seed",)),
    Case("flag-run-tolerance-inf", "h3pc-run",
         lambda d, v: [str(v.program), "--inputs", str(v.inputs), "--tolerance=-inf"], ("--tolerance",)),
    Case("flag-sweep-jobs-huge", "h3pc sweep", lambda d, v: [sweep_yaml(d, ""), "--jobs", "1000000"], ("--jobs",)),
    Case("flag-sweep-point-timeout-nan", "h3pc sweep", lambda d, v: [sweep_yaml(d, ""), "--point-timeout", "nan"],
         ("--point-timeout",)),
    Case("flag-sweep-solve-time-inf", "h3pc sweep", sweep_case("solver: {solve_time: .inf}\n"),
         ("solver.solve_time", "finite")),
    Case("flag-sweep-points-huge", "h3pc sweep", sweep_case("solver: {points: 1000000000}\n"), ("solver.points",)),
    Case("flag-sweep-seed-negative", "h3pc sweep", sweep_case("solver: {seed: -1}\n"), ("solver.seed",)),
    Case("flag-sweep-file-point-timeout-nan", "h3pc sweep", sweep_case("point_timeout: .nan\n"), ("point_timeout",)),
    Case("flag-sweep-tolerance-inf", "h3pc sweep", sweep_case("quality: {tolerance: .inf}\n"), ("quality.tolerance",)),
]

OPT_CASES = [
    Case("opt-unterminated-string", "h3pc-opt",
         mlir('"test.op"() {a = "k0' + "(tensor<1x1x128xf32>) " * 20 + "\n"), ("in.mlir:1:", "string literal")),
    Case("opt-long-unterminated-literal", "h3pc-opt", mlir('"test.op"() {a = "' + "\\n" * (8 << 20)),
         ("in.mlir:1:", "string literal")),
    Case("opt-bad-escape", "h3pc-opt", mlir('"test.op"() {a = "\\q"} : () -> ()\n'), ("in.mlir:1:", "string literal")),
    Case("opt-deep-nesting", "h3pc-opt", mlir("builtin.module {" + "[" * 50_000), ("in.mlir",)),
    Case("opt-not-utf8", "h3pc-opt", mlir(b"\xff\xfe\x00builtin.module {}\n"), ("in.mlir", "UTF-8")),
    Case("opt-parse-error", "h3pc-opt", mlir("builtin.module {\n  %0 = \n}\n"), ("in.mlir:",)),
    Case("opt-unknown-op", "h3pc-opt", mlir('builtin.module {\n  "nope.op"() : () -> ()\n}\n'), ("in.mlir:2",)),
    Case("opt-missing-file", "h3pc-opt", lambda d, v: [str(d / "nope.mlir")], ("no such file",)),
    Case("opt-unknown-pass", "h3pc-opt", lambda d, v: mlir("builtin.module {\n}\n")(d, v) + ["-p", "no-such-pass"],
         ("-p", "no-such-pass")),
    Case("opt-malformed-pass-pipeline", "h3pc-opt",
         lambda d, v: mlir("builtin.module {\n}\n")(d, v) + ["-p", "canonicalize{"], ("-p",)),
    Case("opt-unknown-flag", "h3pc-opt", lambda d, v: mlir("builtin.module {\n}\n")(d, v) + ["--bogus"],
         ("unrecognized arguments: --bogus",)),
]

# --- helper H2's model cases (tests/hostile_models.py), when that module is there ----------------------
try:
    import hostile_models
except ModuleNotFoundError as exc:
    if exc.name != "hostile_models":
        raise
    hostile_models = None


def _model_case(c: dict) -> Case:
    make = c["make"]
    return Case(c["id"], c["tool"], lambda d, v: [str(a) for a in make(d)], tuple(c["expect"]),
                bool(c.get("isolate", False)), canary=c.get("canary"))


MODEL_CASES = [_model_case(c) for c in getattr(hostile_models, "CASES", [])]

CASES = (ONNX_CASES + PROGRAM_CASES + HW_CASES + NPZ_CASES + FILE_CASES + YAML_CASES + JSON_CASES + OUTPUT_CASES
         + OUTPUT_FLAG_CASES
         + SWEEP_CASES + NPZ_LAZY_CASES + FLAG_CASES + OPT_CASES + MODEL_CASES)


def case_class(case_id: str) -> str:
    """The class a case counts in (the figures of issue 18): its id's first word."""
    return case_id.split("-", 1)[0]


def test_table_is_well_formed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(CASES) >= 200
    assert {case_class(i) for i in ids} >= {"onnx", "prog", "hw", "npz", "file", "yaml", "json", "out", "sweep",
                                            "flag", "opt"}


# --- the runner ------------------------------------------------------------------------------------------
#
# Every case runs in a child process forked from one server that has imported the tools once (a fresh
# interpreter per case would cost 1-2 s of imports). The child gets an address-space cap, a timeout,
# its own TMPDIR, stdin from /dev/null, and an audit hook that ends it (exit 99) the moment anything
# opens a path under the case's `outside/` folder, where a FIFO canary also sits: an open that slipped
# past the hook (native code) blocks on it and the timeout catches it. The server reports each child's
# exit code, wall time and peak RSS (wait4).

SERVER = r'''
import atexit, importlib, json, os, resource, signal, sys, tempfile, time, traceback

for name in ("h3pc.cli", "h3pc.run", "h3pc.objdump", "h3pc.opt", "h3pc.sweep.cli", "h3pc.sweep.spec",
             "h3pc.sweep.driver", "h3pc.compiler", "h3pc.runtime.emulator", "h3pc.frontend.importer",
             "h3pc.frontend.loader", "h3pc.frontend.folding", "h3pc.transforms.stage1.partition", "h3pc.quality",
             "h3pc.backends.program", "onnx", "onnx.helper", "onnx.numpy_helper", "onnx.shape_inference",
             "onnxruntime", "yaml"):
    importlib.import_module(name)  # what every case would otherwise import again
import h3pc.cli, h3pc.objdump, h3pc.opt, h3pc.run


MAINS = {"h3pc": h3pc.cli.main, "h3pc-run": h3pc.run.main, "h3pc-objdump": h3pc.objdump.main,
         "h3pc-opt": h3pc.opt.main, "h3pc sweep": lambda argv: h3pc.cli.main(["sweep", *argv])}


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def child(req):
    os.chdir(req["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    os.environ["TMPDIR"] = req["tmpdir"]
    tempfile.tempdir = None
    resource.setrlimit(resource.RLIMIT_AS, (req["as_cap"], req["as_cap"]))
    forbidden = [os.path.realpath(p) for p in req["forbid"]]
    state = {"pause": req.get("pause", False)}

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if any(path == f or path.startswith(f + os.sep) for f in forbidden):
                os.write(2, ("CANARY OPENED: " + path + "\n").encode())
                os._exit(99)
        elif event == "os.chmod" and state["pause"] and args and isinstance(args[0], int):
            state["pause"] = False  # a staged output exists and is written: wait for the test's signal
            for _ in range(3000):  # short sleeps: the handler runs between them, whichever thread got it
                time.sleep(0.01)

    sys.addaudithook(hook)
    sys.argv = [req["tool"], *req["argv"]]
    return MAINS[req["tool"]](req["argv"])


print(json.dumps({"rss_kb": status("VmRSS"), "vm_kb": status("VmSize")}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            code = child(req)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 71
        finally:
            try:
                atexit._run_exitfuncs()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    deadline = t0 + req["timeout"]
    timed_out = False
    while True:
        got, st, ru = os.wait4(pid, os.WNOHANG)
        if got:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            timed_out = True
            got, st, ru = os.wait4(pid, 0)
            break
        time.sleep(0.002)
    print(json.dumps({"code": os.waitstatus_to_exitcode(st), "wall_s": time.monotonic() - t0,
                      "maxrss_kb": ru.ru_maxrss, "timed_out": timed_out}), flush=True)
'''

#: a case may take this long (most take well under a second); a hang is a failure, not a wait
TIMEOUT_S = 60.0
#: address space a case may add to the server's (the server's own is mostly libraries mapped, not used)
AS_HEADROOM = 2 << 30


@dataclass
class Result:
    code: int
    wall_s: float
    maxrss_kb: int
    timed_out: bool
    err: str


class Server:
    """The fork server: one child per case, run under the caps; `start` returns the child's pid so a
    test can signal it, `finish` waits for its result."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        env.pop("H3PC_DEBUG", None)
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=Path(__file__).parent)
        hello = json.loads(self.proc.stdout.readline())
        self.rss_kb, self.vm_kb = hello["rss_kb"], hello["vm_kb"]
        self.as_cap = self.vm_kb * 1024 + AS_HEADROOM
        self._logs: tuple[Path, Path] | None = None

    def start(self, tool: str, argv: list[str], cwd: Path, tmpdir: Path, forbid: list[Path], logs: Path,
              pause: bool = False, timeout: float = TIMEOUT_S) -> int:
        logs.mkdir(parents=True, exist_ok=True)
        self._logs = (logs / "stdout", logs / "stderr")
        req = {"tool": tool, "argv": argv, "cwd": str(cwd), "tmpdir": str(tmpdir), "forbid": [str(p) for p in forbid],
               "stdout": str(self._logs[0]), "stderr": str(self._logs[1]), "as_cap": self.as_cap,
               "timeout": timeout, "pause": pause}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["pid"]

    def finish(self) -> Result:
        r = json.loads(self.proc.stdout.readline())
        assert self._logs is not None
        return Result(r["code"], r["wall_s"], r["maxrss_kb"], r["timed_out"], self._logs[1].read_text(errors="replace"))

    def run(self, *args: Any, **kw: Any) -> Result:
        self.start(*args, **kw)
        return self.finish()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Valid:
    """mlp_digits split over every tier (naive mapping: fast, and every stream has instructions; no M-tier
    weight region, so that the DMA engine stages weights and its stream is not empty)."""
    import dataclasses

    import yaml

    from h3pc.hardware.schema import load_hardware

    d = tmp_path_factory.mktemp("valid")
    hw = load_hardware("h3pimap")
    hw_file = d / "hw.yaml"
    hw_file.write_text(yaml.safe_dump(dataclasses.replace(
        hw, memory=dataclasses.replace(hw.memory, weight_bytes=0)).to_dict()))
    program = d / "p.bin"
    assert h3pc_main([str(model_path("mlp_digits")), "-o", str(program), "--mapping", "naive",
                      "--hw", str(hw_file)]) == 0
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
    """Every file the tool can write, all into `out`, each one a pre-existing file that must survive."""
    if tool == "h3pc":
        # not --pareto: it turns the search into a front sweep (seconds per case)
        return ["-o", previous(out / "p.bin"), "--report", previous(out / "estimate.json"),
                "--placement-out", previous(out / "place.json"), "-q"]
    if tool == "h3pc-run":
        return ["--outputs", previous(out / "y.npz"), "--report", previous(out / "r.json"),
                "--trace", previous(out / "t.json"), "-q"]
    if tool == "h3pc-opt":
        return ["-o", previous(out / "out.mlir")]
    if tool == "h3pc sweep":
        return ["-o", str(out / "results"), "-q"]
    return []


def snapshot(root: Path, extra: list[str]) -> dict[str, tuple]:
    """Every entry under `root` (kind, content hash, permission bits; a link's target) and every
    regular file named in the arguments: what must be identical after a refused command."""
    import hashlib

    def entry(p: Path) -> tuple:
        st = p.lstat()
        if p.is_symlink():
            return ("link", os.readlink(p))
        if not stat.S_ISREG(st.st_mode):
            return ("special" if not p.is_dir() else "dir", stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
        return ("file", hashlib.sha256(p.read_bytes()).hexdigest(), stat.S_IMODE(st.st_mode))

    seen: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(folder) / name
            seen[str(p.relative_to(root))] = entry(p)
    for a in extra:
        p = Path(a)
        if p.is_absolute() and not p.is_relative_to(root) and p.is_file() and not str(p).startswith("/dev/"):
            seen[str(p)] = entry(p)
    return seen


def prepare(tmp_path: Path) -> tuple[Path, Path, Path, Path, Path]:
    """case/{in,out,tmp,outside/secret (a FIFO)}; logs beside the case folder."""
    root = tmp_path / "case"
    work, out, tmp, outside = root / "in", root / "out", root / "tmp", root / "outside"
    for p in (work, out, tmp, outside):
        p.mkdir(parents=True)
    os.mkfifo(outside / "secret")
    return root, work, out, tmp, outside


def record(case_id: str, tool: str, res: Result, server: Server) -> None:
    """Figures for the issue's closing note, when H3PC_HOSTILE_STATS names a file (JSON lines)."""
    path = os.environ.get("H3PC_HOSTILE_STATS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"id": case_id, "class": case_class(case_id), "tool": tool, "code": res.code,
                                "wall_s": round(res.wall_s, 4), "maxrss_kb": res.maxrss_kb,
                                "server_rss_kb": server.rss_kb}) + "\n")


def check_line(tool: str, code: int, err: str, expect: tuple[str | tuple[str, ...], ...], folder: Path) -> str:
    """One error line holding every expected piece outside the test's own folder name (pytest names it
    after the case, so a path could otherwise supply the expected words)."""
    assert code != 99, f"a file outside the model folder was opened: {err}"
    assert code != 0, f"{tool} exited 0"
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{tool}: error: "), lines[0]
    text = lines[0].replace(str(folder), "")
    assert len(text) < 1000, f"a line of {len(text)} characters"
    for want in expect:
        alternatives = (want,) if isinstance(want, str) else want
        assert any(a in text for a in alternatives), f"{want!r} not in {lines[0]!r}"
    return lines[0]


def check_caps(res: Result, server: Server) -> None:
    assert not res.timed_out, f"no answer within {TIMEOUT_S:g} s (a hang, or a FIFO opened)"
    assert res.wall_s < TIMEOUT_S
    assert res.maxrss_kb * 1024 < server.as_cap


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case: Case, valid: Valid, server: Server, tmp_path: Path) -> None:
    root, work, out, tmp, outside = prepare(tmp_path)
    argv = case.make(work, valid)
    forbid = [outside] + ([root / case.canary] if case.canary else [])  # relative to the model folder's parent
    for tool in ("h3pc-run", "h3pc-objdump") if case.tool == "program" else (case.tool,):
        if tool == "h3pc-run" and case.tool == "program":
            args = argv[:1] + ["--inputs", str(valid.inputs)] + argv[1:]
        else:
            args = list(argv)
        if case.outputs:
            args += output_flags(tool, out)
        before = snapshot(root, args)
        res = server.run(tool, args, root, tmp, forbid, tmp_path / "log")
        record(case.id, tool, res, server)
        check_caps(res, server)
        check_line(tool, res.code, res.err, case.expect, tmp_path)
        assert sorted(p.name for p in tmp.iterdir()) == [], "temporary files left in TMPDIR"
        after = snapshot(root, args)
        assert {k for k in after if k not in before} == set(), "files left behind"
        assert after == before, "an input or a pre-existing output changed"


def test_the_runner_catches_an_open_outside_and_a_hang(server: Server, valid: Valid, tmp_path: Path) -> None:
    """The runner's own checks can fail: a file opened under outside/ ends the child (exit 99), and a
    child past its time limit is killed and reported."""
    root, work, out, tmp, outside = prepare(tmp_path)
    (outside / "hw.yaml").write_text(PRESET)
    res = server.run("h3pc", [mlp(work), "--hw", str(outside / "hw.yaml"), "-q", "--report", str(out / "r.json")],
                     root, tmp, [outside], tmp_path / "log")
    assert res.code == 99 and "CANARY OPENED" in res.err
    res = server.run("h3pc", [str(model_path("mobilenet_v2")), "-q", "--solve-time", "20", "--pareto",
                              str(out / "front.json")], root, tmp, [outside], tmp_path / "log", timeout=1.0)
    assert res.timed_out and res.code == -signal.SIGKILL


# --- interrupted commands leave nothing behind ------------------------------------------------------------


def interrupted(server: Server, valid: Valid, tmp_path: Path, tool: str, sig: signal.Signals) -> None:
    """Start a command, wait until it has staged an output (it pauses right there), signal it: it must
    exit 128+signal with one line, every pre-existing output as it was, nothing in out/ or TMPDIR."""
    root, work, out, tmp, outside = prepare(tmp_path)
    if tool == "h3pc":
        args = [mlp(work), "--mapping", "naive"] + output_flags(tool, out)
    else:
        args = [str(valid.program), "--inputs", str(valid.inputs)] + output_flags(tool, out)
    before = snapshot(root, args)
    pid = server.start(tool, args, root, tmp, [outside], tmp_path / "log", pause=True)
    deadline = time.monotonic() + TIMEOUT_S
    while not any(p.name.endswith(".part") for p in out.iterdir()):
        assert time.monotonic() < deadline, "the command never started writing"
        time.sleep(0.005)
    os.kill(pid, sig)
    res = server.finish()
    record(f"sig-{tool}-{sig.name}", tool, res, server)
    check_caps(res, server)
    assert res.code == 128 + sig, res.err
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert lines == [f"{tool}: interrupted ({sig.name})"], res.err
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert snapshot(root, args) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("tool", ["h3pc", "h3pc-run"])
def test_interrupt_leaves_nothing(tool: str, sig: signal.Signals, server: Server, valid: Valid,
                                  tmp_path: Path) -> None:
    interrupted(server, valid, tmp_path, tool, sig)


def test_a_closed_terminal_leaves_nothing(server: Server, valid: Valid, tmp_path: Path) -> None:
    """SIGHUP (the terminal window closed under a running compile) unwinds like SIGTERM."""
    interrupted(server, valid, tmp_path, "h3pc", signal.SIGHUP)


def summary(path: str) -> str:
    """The figures of the closing note from a stats file: cases per class, worst time and peak memory."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["class"], []).append(r)
    server = max(r["server_rss_kb"] for r in rows) / 1024
    out = [f"server (imports only): {server:.0f} MB RSS; per class, the slowest case and the case of the "
           f"highest peak RSS (the child's own, from wait4)",
           f"{'class':<7} {'runs':>4}  {'worst time':<46} {'worst peak RSS':<46}"]
    for cls, rs in sorted(by.items()):
        t = max(rs, key=lambda r: r["wall_s"])
        m = max(rs, key=lambda r: r["maxrss_kb"])
        out.append(f"{cls:<7} {len(rs):>4}  {t['wall_s']:>6.2f} s {t['id'][:36]:<37} "
                   f"{m['maxrss_kb'] / 1024:>6.0f} MB {m['id'][:36]:<37}")
    out.append(f"all     {len(rows):>4}  {sum(r['wall_s'] for r in rows):>6.1f} s in total")
    return "\n".join(out)


if __name__ == "__main__":  # python tests/test_hostile.py STATS.jsonl: the table of figures
    print(summary(sys.argv[1]))
