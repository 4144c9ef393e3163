"""Native libraries (onnx's C++ shape inference, onnxruntime) write to file descriptor 2 on their own.

A refusal must be exactly one `prog: error: ...` line, so while the frontend calls into them, fd 2 points at
an anonymous temporary file (unlinked from the start: nothing is left behind, even if the process is
killed). What they wrote is dropped, or copied to the real stderr under --debug (or H3PC_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _debug() -> bool:
    return os.environ.get("H3PC_DEBUG") == "1" or "--debug" in sys.argv[1:]


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Redirect fd 2 around a native call; Python's own sys.stderr is flushed first so nothing interleaves."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all: nothing to protect
        yield
        return
    try:
        try:
            sink = tempfile.TemporaryFile()
        except OSError:  # no writable temp folder: drop the text instead
            sink = open(os.devnull, "w+b")  # noqa: SIM115 - closed by the with below
        with sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                if _debug() and sink.seekable():
                    sink.seek(0)
                    text = sink.read().decode("utf-8", "replace")
                    if text:
                        sys.stderr.write(text)
    finally:
        os.close(saved)
