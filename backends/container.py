"""The program.bin container: a versioned, checksummed, little-endian file of named sections.

Layout (docs/program-format.md):

    header   magic b"H3PCPROG" | u16 format | u16 section count | u32 header size | 32 B hardware digest
             | 16 B tool version (utf-8, NUL padded)
    table    per section: 16 B name (utf-8, NUL padded) | u32 kind | u32 flags | u64 offset | u64 size
             | u32 crc32 | u32 reserved
    payload  each section at a 64-byte aligned offset; the file ends where the last section ends

The reader refuses a wrong magic, an unknown format version, a truncated file, a section that points
past the end, overlapping sections and any checksum mismatch, each with a one-line reason.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from dataclasses import dataclass, field

from h3pc.diagnostics import H3pcError, printable
from h3pc.files import write_file

MAGIC = b"H3PCPROG"
FORMAT_VERSION = 2
ALIGN = 64
_HEADER = struct.Struct("<8sHHI32s16s")
_ENTRY = struct.Struct("<16sIIQQII")

#: section kinds; the name says which stream or table it is
KINDS: dict[str, int] = {"stream": 1, "weights": 2, "hardware": 3, "signature": 4, "symbols": 5, "meta": 6}
_KIND_NAMES = {v: k for k, v in KINDS.items()}


@dataclass(frozen=True)
class Pieces:
    """A payload written as several buffers back to back: the weights section as its constants, so
    writing a program never builds one more copy of all its weights (gpt2_small: 649 MB)."""

    parts: tuple[bytes | memoryview, ...]

    def __len__(self) -> int:
        return sum(memoryview(p).nbytes for p in self.parts)


def _crc32(data: bytes | memoryview | Pieces) -> int:
    if isinstance(data, Pieces):
        crc = 0
        for part in data.parts:
            crc = zlib.crc32(part, crc)
        return crc
    return zlib.crc32(data)


@dataclass(frozen=True)
class Section:
    name: str
    kind: str
    data: bytes | memoryview | Pieces
    offset: int = field(default=0, compare=False)  # file offset, when read from a file
    crc32: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Container:
    hw_digest: bytes
    tool_version: str
    sections: tuple[Section, ...]

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise H3pcError(f"program.bin has no section '{name}'")

    def names(self) -> list[str]:
        return [s.name for s in self.sections]


def _pad(n: int) -> int:
    return (-n) % ALIGN


def _fixed(text: str, size: int, what: str) -> bytes:
    raw = text.encode()
    if len(raw) > size:
        raise ValueError(f"{what} '{text}' is longer than {size} bytes")
    return raw.ljust(size, b"\0")


def chunks(container: Container) -> Iterator[bytes | memoryview]:
    """The file as a sequence of pieces: the header, then each payload and its padding (no copies)."""
    names = [s.name for s in container.sections]
    if len(set(names)) != len(names):
        raise ValueError("section names must be unique")
    if len(container.hw_digest) != 32:
        raise ValueError("hardware digest must be 32 bytes")
    n = len(container.sections)
    head_size = _HEADER.size + n * _ENTRY.size
    offset = head_size + _pad(head_size)
    entries = []
    for s in container.sections:
        entries.append(_ENTRY.pack(_fixed(s.name, 16, "section name"), KINDS[s.kind], 0, offset, len(s.data),
                                   _crc32(s.data), 0))
        offset += len(s.data) + _pad(len(s.data))
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, n, head_size, container.hw_digest,
                          _fixed(container.tool_version, 16, "tool version"))
    head = header + b"".join(entries)
    yield head + b"\0" * _pad(len(head))
    for i, s in enumerate(container.sections):
        if isinstance(s.data, Pieces):
            yield from s.data.parts
        else:
            yield s.data
        if i < n - 1:  # no padding after the last section, so any truncation is visible
            yield b"\0" * _pad(len(s.data))


def encode(container: Container) -> bytes:
    return b"".join(chunks(container))


def write(path: str | Path, container: Container) -> int:
    """Write the file atomically, streaming the sections (weights are not copied again); returns its size."""
    return write_file(path, chunks(container))


def map_file(path: str | Path, flag: str | None = None) -> memoryview | bytes:
    """A program file mapped read-only (its pages are read as they are used, never all at once); a
    FIFO, folder or device is refused before it is opened."""
    import mmap

    from h3pc.files import open_input

    with open_input(path, flag) as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        try:
            return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
        except (OSError, ValueError) as exc:
            raise H3pcError(f"{path}: cannot map the file: {exc}") from None


def decode(data: bytes | memoryview, where: str = "program.bin") -> Container:
    buf = memoryview(data)
    if len(buf) < _HEADER.size:
        raise H3pcError(f"{where}: truncated: {len(buf)} bytes, the header alone needs {_HEADER.size}")
    magic, version, n, head_size, digest, tool = _HEADER.unpack_from(buf, 0)
    if magic != MAGIC:
        raise H3pcError(f"{where}: not an h3pc program (bad magic {bytes(magic)!r})")
    if version != FORMAT_VERSION:
        raise H3pcError(f"{where}: format version {version} is not supported (this tool reads {FORMAT_VERSION})")
    if head_size != _HEADER.size + n * _ENTRY.size:
        raise H3pcError(f"{where}: corrupt header: size {head_size} does not match {n} sections")
    if len(buf) < head_size:
        raise H3pcError(f"{where}: truncated in the section table ({len(buf)} of {head_size} bytes)")
    sections = []
    end_prev = head_size
    for i in range(n):
        raw_name, kind, _flags, off, size, crc, _ = _ENTRY.unpack_from(buf, _HEADER.size + i * _ENTRY.size)
        name = raw_name.rstrip(b"\0").decode("utf-8", "replace")
        shown = printable(name)  # the name as messages show it: a damaged one may hold control characters
        if kind not in _KIND_NAMES:
            raise H3pcError(f"{where}: section {i} ('{shown}') has unknown kind {kind}")
        if off < end_prev:
            raise H3pcError(f"{where}: section '{shown}' at offset {off} overlaps the previous data")
        if off + size > len(buf):
            raise H3pcError(
                f"{where}: truncated: section '{shown}' needs bytes {off}..{off + size} but the file has {len(buf)}")
        payload = buf[off : off + size]  # a view: large weight sections are not copied
        if zlib.crc32(payload) != crc:
            raise H3pcError(f"{where}: checksum mismatch in section '{shown}' (offset {off}, {size} bytes)")
        sections.append(Section(name, _KIND_NAMES[kind], payload, off, crc))
        end_prev = off + size
    if len(buf) > end_prev:
        raise H3pcError(f"{where}: {len(buf) - end_prev} unexpected trailing bytes after the last section")
    return Container(bytes(digest), tool.rstrip(b"\0").decode("utf-8", "replace"), tuple(sections))


def make(hw_digest_hex: str, tool_version: str,
         sections: Mapping[str, tuple[str, bytes | memoryview | Pieces]]) -> Container:
    """Convenience: sections as {name: (kind, data)} in order."""
    return Container(bytes.fromhex(hw_digest_hex), tool_version,
                     tuple(Section(n, k, d) for n, (k, d) in sections.items()))
