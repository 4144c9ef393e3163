"""Fuzz the program.bin reader: whatever the bytes, loading a program (backends/container.py, then
backends/program.py), verifying and running it as `h3pc-run` does (runtime/verify.py, the emulator,
both exact and noisy) and `h3pc-objdump`'s rendering either succeed or raise H3pcError with a one-line
message; any other exception is a bug that would reach users as a traceback.

Mutations: raw byte flips, truncations and insertions anywhere in a valid program (mostly caught by the
checksums), the same applied to one section's payload with the checksums recomputed (so the tables'
own checks are exercised), section-table fields set to boundary values, and JSON tables with one value
replaced, and single instruction fields set to other tensor ids, crossbar bases, kernels or bits (the
verifier's cases). The default run is bounded (200 examples per test, derandomised so CI repeats); set
H3PC_FUZZ_PROFILE=long for a random run of 20000 examples per test, or H3PC_FUZZ_EXAMPLES=N for N.
"""

from __future__ import annotations

import dataclasses
import contextlib
import hashlib
import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODELS, model_path
from h3pc.backends import container, isa, program
from h3pc.cli import main as h3pc_main
from h3pc.diagnostics import H3pcError
from h3pc.objdump import main_args as objdump_args
from h3pc.runtime.emulator import Emulator

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("h3pc-default", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("h3pc-long", max_examples=20_000, **_COMMON)
FUZZ = settings.get_profile("h3pc-long" if os.environ.get("H3PC_FUZZ_PROFILE") == "long" else "h3pc-default")
if os.environ.get("H3PC_FUZZ_EXAMPLES"):  # the knob the other fuzz tests read (`make fuzz`)
    FUZZ = settings(FUZZ, max_examples=int(os.environ["H3PC_FUZZ_EXAMPLES"]))

_HEADER, _ENTRY = 64, 48
#: interesting values for u32/u64 fields: zero, ones, around the file size, the top of the range
BOUNDARY = [0, 1, 63, 64, 65, 4095, 4096, (1 << 31) - 1, 1 << 31, (1 << 32) - 1, 1 << 32, (1 << 63), (1 << 64) - 1]
JSON_TABLES = ("signature", "tensors", "symbols", "hardware")


class Valid(tuple):
    """(program bytes, scratch path, inputs); a short repr, so hypothesis does not print 85 kB per failure."""

    def __repr__(self) -> str:
        return f"<valid program, {len(self[0])} bytes>"


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Valid:
    """A small program with every section non-empty, a scratch path to write mutants to and the inputs
    every mutant runs on (mlp_digits' sample)."""
    d = tmp_path_factory.mktemp("fuzz")
    path = d / "p.bin"
    assert h3pc_main([str(model_path("mlp_digits")), "-o", str(path), "--mapping", "naive"]) == 0
    ref = np.load(MODELS / "mlp_digits.npz")
    feeds = {k[3:]: ref[k] for k in ref.files if k.startswith("in/")}
    return Valid((path.read_bytes(), d / "mutant.bin", feeds))


def load(data: bytes, path: Path, feeds: dict[str, np.ndarray]) -> None:
    """Everything h3pc-run and h3pc-objdump do with a program; H3pcError is the only way out."""
    path.unlink(missing_ok=True)  # a new file, never rewritten in place: the reader memory-maps it
    path.write_bytes(data)
    try:
        container.decode(data, "fuzz")
        with contextlib.redirect_stdout(io.StringIO()):
            objdump_args([str(path)])
        prog = program.read(str(path))
        for ideal in (True, False):
            Emulator(prog, ideal=ideal, where="fuzz").run(feeds)
    except H3pcError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)


def reseal(raw: bytes, sections: dict[str, tuple[str, bytes]], digest: bytes | None = None) -> bytes:
    c = container.decode(raw)
    return container.encode(container.make((digest or c.hw_digest).hex(), c.tool_version, sections))


def sections_of(raw: bytes) -> dict[str, tuple[str, bytes]]:
    return {s.name: (s.kind, bytes(s.data)) for s in container.decode(raw).sections}


def mutate(data: st.DataObject, buf: bytes) -> bytes:
    """One byte-level edit: flip bytes, cut, insert or overwrite a range."""
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
    n = len(buf)
    if kind == "flip":
        out = bytearray(buf)
        for pos in data.draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=1, max_size=8)) if n else []:
            out[pos] ^= data.draw(st.integers(1, 255))
        return bytes(out)
    pos = data.draw(st.integers(0, n))
    if kind == "cut":
        return buf[:pos]
    blob = data.draw(st.binary(min_size=1, max_size=64))
    if kind == "insert":
        return buf[:pos] + blob + buf[pos:]
    return buf[:pos] + blob + buf[pos + len(blob):]


@FUZZ
@given(data=st.data())
def test_raw_mutations(valid: Valid, data: st.DataObject) -> None:
    raw, path, feeds = valid
    out = raw
    for _ in range(data.draw(st.integers(1, 3))):
        out = mutate(data, out)
    load(out, path, feeds)


@FUZZ
@given(data=st.data())
def test_section_mutations_with_valid_checksums(valid: Valid, data: st.DataObject) -> None:
    raw, path, feeds = valid
    sections = sections_of(raw)
    name = data.draw(st.sampled_from(sorted(sections)))
    kind, payload = sections[name]
    sections[name] = (kind, mutate(data, payload))
    if data.draw(st.booleans()):  # sometimes lose or reorder sections too
        names = data.draw(st.permutations(list(sections)))
        keep = data.draw(st.integers(1, len(names)))
        sections = {n: sections[n] for n in names[:keep]}
    load(reseal(raw, sections), path, feeds)


@FUZZ
@given(data=st.data())
def test_header_and_table_fields(valid: Valid, data: st.DataObject) -> None:
    raw, path, feeds = valid
    buf = bytearray(raw)
    n = struct.unpack_from("<H", raw, 10)[0]
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from(["version", "count", "head_size", "kind", "flags", "offset", "size", "crc"]))
        value = data.draw(st.sampled_from(BOUNDARY) | st.integers(0, len(raw) + 128))
        i = data.draw(st.integers(0, n - 1))
        fmt, at = {"version": ("<H", 8), "count": ("<H", 10), "head_size": ("<I", 12),
                   "kind": ("<I", _HEADER + i * _ENTRY + 16), "flags": ("<I", _HEADER + i * _ENTRY + 20),
                   "offset": ("<Q", _HEADER + i * _ENTRY + 24), "size": ("<Q", _HEADER + i * _ENTRY + 32),
                   "crc": ("<I", _HEADER + i * _ENTRY + 40)}[field]
        struct.pack_into(fmt, buf, at, value % (1 << (8 * struct.calcsize(fmt))))
    load(bytes(buf), path, feeds)


def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats() | st.text(max_size=8),
    containers, max_leaves=12,
)


def replace_somewhere(data: st.DataObject, obj: object) -> object:
    """obj with one value (at a random depth) replaced by a random JSON value, or a key dropped."""
    if isinstance(obj, (dict, list)) and obj and data.draw(st.integers(0, 3)):
        keys = sorted(obj) if isinstance(obj, dict) else list(range(len(obj)))
        k = data.draw(st.sampled_from(keys))
        if isinstance(obj, dict) and data.draw(st.integers(0, 7)) == 0:
            return {kk: v for kk, v in obj.items() if kk != k}
        out = dict(obj) if isinstance(obj, dict) else list(obj)
        out[k] = replace_somewhere(data, obj[k])
        return out
    return data.draw(JSON_VALUES)


@FUZZ
@given(data=st.data())
def test_json_tables(valid: Valid, data: st.DataObject) -> None:
    raw, path, feeds = valid
    sections = sections_of(raw)
    name = data.draw(st.sampled_from(JSON_TABLES))
    kind, payload = sections[name]
    table = replace_somewhere(data, json.loads(payload))
    text = json.dumps(table, sort_keys=True, separators=(",", ":")).encode()
    sections[name] = (kind, text)
    digest = hashlib.sha256(json.dumps(table, sort_keys=True).encode()).digest() if name == "hardware" else None
    load(reseal(raw, sections, digest), path, feeds)


#: values an instruction field is set to: small ids (other tensors, kernels, bases), boundaries
FIELD_VALUES = st.integers(0, 80) | st.sampled_from([(1 << 31) - 1, (1 << 32) - 1])


@FUZZ
@given(data=st.data())
def test_instruction_fields(valid: Valid, data: st.DataObject) -> None:
    raw, path, feeds = valid
    sections = sections_of(raw)
    for _ in range(data.draw(st.integers(1, 2))):
        name = data.draw(st.sampled_from(sorted(n for n in sections if n.startswith("stream.") and sections[n][1])))
        instrs = isa.decode_stream(sections[name][1], "fuzz")
        i = data.draw(st.integers(0, len(instrs) - 1))
        spec = isa.BY_NAME[instrs[i].op]
        if not spec.fields:
            continue
        f = data.draw(st.integers(0, len(spec.fields) - 1))
        value = data.draw(st.lists(FIELD_VALUES, max_size=3).map(tuple) if spec.fields[f].endswith("*") else FIELD_VALUES)
        instrs[i] = dataclasses.replace(instrs[i], **{instrs[i].names[f]: value})
        sections[name] = ("stream", isa.encode_stream(instrs))
    load(reseal(raw, sections), path, feeds)
