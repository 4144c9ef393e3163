"""User-facing errors: one line, a non-zero exit code, tracebacks only behind --debug."""

from __future__ import annotations

import argparse
import os
import sys
import typing
import warnings
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


#: longest error message printed: a name read from a file (a node, a location, a path) may be megabytes long,
#: and the one line must stay readable; the middle of a longer message is cut, keeping what it is about (the
#: file or flag, first) and why (last)
MAX_MESSAGE = 600


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` as one printable line of at most `limit` characters (the middle cut out when longer)."""
    text = printable(text)
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    return f"{text[:head]} [...] {text[len(text) - (limit - head - 7):]}"


def run_main(prog: str, main: Callable[[list[str]], int], argv: list[str] | None = None) -> int:
    """Run a tool's main; turn every exception into one `prog: error: ...` line unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("H3PC_DEBUG") == "1"
    from h3pc.files import Interrupted, begin_command, install_signal_handlers

    install_signal_handlers()
    begin_command()
    try:
        with warnings.catch_warnings():
            if not debug:
                # Python warnings (numpy's RuntimeWarning on an overflow in a model's own arithmetic, a
                # library's DeprecationWarning) are two lines each on stderr: noise beside a result and a
                # broken promise beside a refusal, which must be the only line; --debug shows them
                warnings.simplefilter("ignore")
            return main(args)
    except H3pcError as exc:
        if debug:
            raise
        print(f"{prog}: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:  # SIGTERM, SIGINT or SIGHUP: staged outputs and temporary folders are gone by now
        print(f"{prog}: interrupted ({exc})", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError as exc:
        if debug:
            raise
        # numpy says what it could not allocate ("Unable to allocate 8.00 GiB for an array with shape ...")
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{prog}: error: out of memory{f' ({one_line(why, 200)})' if why else ''}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{prog}: internal error: {type(exc).__name__}: {one_line(first)} (rerun with --debug for a traceback)",
              file=sys.stderr)
        return 70


def atomic_write(path: str | Path, data: bytes | str | Iterable[bytes | memoryview]) -> int:
    """Write a file so that readers see either the old content or the whole new one, never a part,
    under the output rules of h3pc.files (regular files only, permissions kept, temporaries removed).
    `data` may be a sequence of chunks (written in order, never joined). Returns the bytes written."""
    from h3pc.files import write_file

    return write_file(path, data)


def check_number(flag: str, value: float | int | None, lo: float, hi: float, *, low_open: bool = False) -> None:
    """Refuse NaN, infinities and absurd values of a numeric flag up front, in one line: a solver or
    a loop handed `--solve-time inf` or `--points 10**9` would otherwise run until killed."""
    if value is None:
        return
    import math

    if isinstance(value, float) and not math.isfinite(value):
        raise H3pcError(f"{flag}: {value} is not a finite number")
    if value < lo or (low_open and value == lo) or value > hi:
        low = f"above {lo:g}" if low_open else f"at least {lo:g}"
        raise H3pcError(f"{flag}: {value:g} is out of range (must be {low} and at most {hi:g})")


class UsageError(H3pcError):
    """A command line argparse cannot parse (exit code 2, as argparse's own)."""

    exit_code = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one `prog: error: ...` line like every other error (argparse
    prints its usage block first), raised so that run_main reports it."""

    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def shown(value: object, limit: int = 60, as_text: bool = False) -> str:
    """A value as a diagnostic quotes it: its repr (or str, for names) on one line, cut at `limit`
    characters (a value read from a file may be a list of 100,000 numbers; the message stays a line)."""
    text = printable(str(value) if as_text else repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_name(value: object) -> str:
    """A name read from a file (a key, a node, a tier) as a diagnostic quotes it: one line, at most 80
    characters."""
    return shown(value, 80, as_text=True)
