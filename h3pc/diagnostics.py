"""User-facing errors: one line, a non-zero exit code, tracebacks only behind --debug."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


class H3pcError(Exception):
    """An error in the user's input or request; its message is the whole diagnostic."""

    exit_code = 1


class UnsupportedError(H3pcError):
    """The input uses something we do not support (ops, opsets, types)."""

    exit_code = 2


def printable(text: str) -> str:
    """`text` on one line, control characters escaped: names read from a damaged file may hold a newline or
    a terminal escape sequence, and a diagnostic must stay one harmless line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def run_main(prog: str, main: Callable[[list[str]], int], argv: list[str] | None = None) -> int:
    """Run a tool's main; turn every exception into one `prog: error: ...` line unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("H3PC_DEBUG") == "1"
    try:
        return main(args)
    except H3pcError as exc:
        if debug:
            raise
        print(f"{prog}: error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        if debug:
            raise
        print(f"{prog}: error: out of memory", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{prog}: internal error: {type(exc).__name__}: {printable(first)} (rerun with --debug for a traceback)",
              file=sys.stderr)
        return 70


def atomic_write(path: str | Path, data: bytes | str | Iterable[bytes | memoryview]) -> int:
    """Write a file so that readers see either the old content or the whole new one, never a part.
    `data` may be a sequence of chunks (written in order, never joined). Returns the bytes written."""
    path = Path(path)
    chunks = [data.encode()] if isinstance(data, str) else [data] if isinstance(data, (bytes, bytearray)) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                size += f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size
