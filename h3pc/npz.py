"""Reading the .npz files users hand us (inputs, calibration sets): bounded, and one line on any damage."""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from h3pc.diagnostics import H3pcError
from h3pc.dialects.types import MAX_TENSOR_ELEMENTS

#: what numpy and zipfile raise on a damaged or foreign file
_UNREADABLE = (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError)


def _check_declared_sizes(z: np.lib.npyio.NpzFile, path: str | Path) -> None:
    """Compare each member's declared shape with the bytes it holds before numpy allocates the shape:
    a header declaring 10^12 elements must be refused, not allocated."""
    for info in z.zip.infolist():
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
                continue  # not an .npy member (or a damaged header): reported when it is read
            if dtype.hasobject:
                continue
            elements = math.prod(shape)
            if elements > MAX_TENSOR_ELEMENTS:
                raise H3pcError(f"{path}: member '{info.filename}' declares shape {list(shape)}: more than the "
                                f"{MAX_TENSOR_ELEMENTS} elements per tensor supported")
            need = elements * dtype.itemsize
            have = info.file_size - f.tell()
            if need > have:
                raise H3pcError(f"{path}: member '{info.filename}' declares shape {list(shape)} of {dtype} "
                                f"({need} bytes) but holds {have} bytes")


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array in an .npz file; anything else (a missing or foreign file, a damaged or pickled
    member, a header declaring more bytes than it holds) is one H3pcError line."""
    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise H3pcError(f"{path}: no such file") from None
    except _UNREADABLE as exc:
        raise H3pcError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise H3pcError(f"{path}: not a readable .npz file (one .npy array; save inputs by name with numpy.savez)")
    try:
        with z:
            _check_declared_sizes(z, path)
            data = {k: z[k] for k in z.files}
    except _UNREADABLE as exc:
        raise H3pcError(f"{path}: not a readable .npz file ({exc})") from None
    for k, v in data.items():
        if not isinstance(v, np.ndarray):  # numpy hands back the raw bytes of a member that is not .npy
            raise H3pcError(f"{path}: not a readable .npz file (member '{k}' is not a .npy array)")
    return data
