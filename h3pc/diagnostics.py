"""User-facing errors: one line, a non-zero exit code, tracebacks only behind --debug."""

from __future__ import annotations

import argparse
import typing


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
