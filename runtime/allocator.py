"""Keep freed activation buffers for reuse, as onnxruntime's memory arena does.

Every macro-instruction returns a fresh numpy array. glibc hands blocks above its mmap threshold
(128 KiB at first) straight back to the kernel when they are freed, so the next inference touches
brand-new pages and pays one page fault per 4 KiB: on a mobilenet-sized activation that is most of
an elementwise kernel's time (measured: a 3x3 depthwise conv of 32x112x112 takes 5.0 ms this way
and 0.96 ms with freed blocks kept). Raising the mmap and trim thresholds keeps freed blocks in the
heap, so steady-state inferences reuse warm memory. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h> parameter numbers
_M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap (glibc's ceiling for the setting on 64-bit)
MMAP_THRESHOLD = 32 << 20
#: freed memory at the top of the heap up to this size is kept rather than returned to the kernel
TRIM_THRESHOLD = 1 << 30


@functools.cache
def keep_freed_blocks() -> bool:
    """Tune glibc's malloc once per process; True when it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # both are needed: a fixed mmap threshold alone still trims the heap after every inference
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
