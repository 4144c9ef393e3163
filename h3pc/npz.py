"""Reading the .npz files users hand us (inputs, calibration sets): bounded, and one line on any damage."""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from h3pc.diagnostics import H3pcError
from h3pc.files import open_input
from h3pc.dialects.types import MAX_TENSOR_ELEMENTS

#: what numpy and zipfile raise on a damaged or foreign file
_UNREADABLE = (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError)


#: a check of one member's declared shape and dtype, called before it is decompressed (raises H3pcError)
HeaderCheck = Callable[[str, tuple[int, ...], np.dtype], None]


def _check_declared_size(z: np.lib.npyio.NpzFile, member: str, path: str | Path,
                         check: HeaderCheck | None = None) -> None:
    """Compare one member's declared shape with the bytes it holds before numpy allocates the shape:
    a header declaring 10^12 elements must be refused, not allocated. `check` sees the declared shape
    too (a reader that knows the shape it wants refuses a 1 GB member of the wrong shape unread)."""
    info = z.zip.getinfo(member)
    with z.zip.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            # 3.0 differs from 2.0 only in allowing utf-8 field names
            header = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0,
                      (3, 0): np.lib.format.read_array_header_2_0}.get(version)
            if header is None:
                raise H3pcError(f"{path}: member '{info.filename}' has .npy format version "
                                f"{version[0]}.{version[1]}, which numpy does not read")
            shape, _, dtype = header(f)
        except ValueError:
            return  # not an .npy member (or a damaged header): reported when it is read
        if dtype.hasobject:
            return
        if check is not None:
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            check(key, tuple(shape), dtype)
        elements = math.prod(shape)
        if elements > MAX_TENSOR_ELEMENTS:
            raise H3pcError(f"{path}: member '{info.filename}' declares shape {list(shape)}: more than the "
                            f"{MAX_TENSOR_ELEMENTS} elements per tensor supported")
        need = elements * dtype.itemsize
        have = info.file_size - f.tell()
        if need > have:
            raise H3pcError(f"{path}: member '{info.filename}' declares shape {list(shape)} of {dtype} "
                            f"({need} bytes) but holds {have} bytes")


def _open(path: str | Path, flag: str | None) -> np.lib.npyio.NpzFile:
    """The archive with only its directory read; a FIFO, folder or device is refused unopened."""
    f = open_input(path, flag)  # non-blocking open, checked again on the descriptor
    try:
        z = np.load(f, allow_pickle=False)
    except _UNREADABLE as exc:
        f.close()
        raise H3pcError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        f.close()
        raise H3pcError(f"{path}: not a readable .npz file (one .npy array; save inputs by name with numpy.savez)")
    z.fid = f  # closed with the archive
    return z


def npz_keys(path: str | Path, flag: str | None = None) -> list[str]:
    """The array names in an .npz file, from its directory alone (nothing is decompressed)."""
    with _open(path, flag) as z:
        return list(z.files)


def read_npz(path: str | Path, keys: Iterable[str] | None = None, flag: str | None = None,
             check: HeaderCheck | None = None) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, or only those named in `keys` (absent names are left out): a member
    nobody uses is never decompressed. Each member read is checked against the element limit from its
    header first, and by `check(key, shape, dtype)` when given. Anything else (a missing or foreign
    file, a damaged or pickled member, a header declaring more bytes than it holds) is one H3pcError line."""
    z = _open(path, flag)
    try:
        with z:
            wanted = z.files if keys is None else [k for k in z.files if k in set(keys)]
            members = set(z.zip.namelist())
            data = {}
            for k in wanted:
                _check_declared_size(z, k + ".npy" if k + ".npy" in members else k, path, check)
                data[k] = z[k]
    except _UNREADABLE as exc:
        raise H3pcError(f"{path}: not a readable .npz file ({exc})") from None
    for k, v in data.items():
        if not isinstance(v, np.ndarray):  # numpy hands back the raw bytes of a member that is not .npy
            raise H3pcError(f"{path}: not a readable .npz file (member '{k}' is not a .npy array)")
    return data
