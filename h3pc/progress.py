"""Progress of long steps on stderr, one concept for every tool: a step that takes long says so.

Every step that can run for more than a few seconds (importing a large model, stage one's solves,
stage two's trials, calibration runs, sweeps, benchmarks) opens a *task*; the drivers set the mode
once from their flags. Nothing goes to stdout.

API (the drivers, the compiler, stage one and two, the quality oracle, the emulator, sweeps and
benchmarks all use these):

    from h3pc import progress

    progress.configure(quiet=args.quiet, verbose=args.verbose, name="h3pc")   # once, in a driver
    with progress.task("stage one: cpsat", total=8, unit="solve") as t:
        for ...:
            t.note("min-latency: objective 12.3 us")  # the live detail beside the count
            t.advance()                               # one step done (or t.advance(note=...))
            t.log("move 3: 16 rows of fc1 reram_pim -> sram_pim: top1 0.91")  # a line of its own
    for item in progress.track(items, "benchmark: models", unit="model"):   # a loop as a task
        ...
    with progress.phase("import", timings):  # records the phase's seconds in `timings`; with
        ...                                  # verbose, prints "h3pc: import 1.234s" as it ends

What is printed (all on stderr):
- nothing for a task that ends within DELAY_S (2 s): quick runs stay silent, so a refused tiny
  model still prints exactly its one error line;
- on a terminal: a live line per open task (tqdm: count, total, elapsed, rate, the latest note),
  redrawn by a ticker thread so that a task without steps (an import) still shows its elapsed time;
- not on a terminal (a log file, CI): a plain line when the task passes DELAY_S, then one every
  PLAIN_EVERY_S, and one when it ends: `h3pc: stage one: cpsat 3/8 solve, 12.3 s (eps1: ...)`;
- `log` lines: printed as they come once their task shows; before that they are kept, printed
  when it shows, and dropped if it never does;
- quiet: no progress and no `log` lines (errors are not progress: they still print);
- verbose: each `phase`'s timing as the phase ends.

`H3PC_PROGRESS_DELAY_S` replaces both delays (DELAY_S, PLAIN_DELAY_S): the tests set it to 0 to see
every task of a short run in a child process.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TypeVar

T = TypeVar("T")


def _delay_from_env(default: float) -> float:
    """`H3PC_PROGRESS_DELAY_S` (seconds, >= 0) moves both delays: the tests show every task at once in
    a child process; an unusable value keeps the default (progress is never worth an error)."""
    try:
        value = float(os.environ.get("H3PC_PROGRESS_DELAY_S", ""))
    except ValueError:
        return default
    return value if 0 <= value < 3600 else default


#: a task that ends sooner prints nothing on a terminal
DELAY_S = _delay_from_env(2.0)
#: not on a terminal (a log), a task shows later: a refused model on a loaded machine can take a few
#: seconds to import, and a refusal must still be its one error line
PLAIN_DELAY_S = _delay_from_env(5.0)
#: how often a plain (not a terminal) progress line repeats
PLAIN_EVERY_S = 10.0
#: how often the ticker redraws a terminal line
TICK_S = 0.25


@dataclass
class _Mode:
    quiet: bool = False
    verbose: bool = False
    name: str = "h3pc"
    stream: IO[str] | None = None  # None: sys.stderr at the time of writing (pytest swaps it)
    tty: bool | None = None  # None: ask the stream


_mode = _Mode()
_lock = threading.RLock()
_open: list["Task"] = []
_wake = threading.Condition(_lock)
_ticker: threading.Thread | None = None


def _after_fork_in_child() -> None:
    """A forked worker (a sweep's process pool) starts with no tasks, a free lock and no ticker: the
    parent's ticker may have held the lock at the fork."""
    global _lock, _wake, _open, _ticker
    _lock = threading.RLock()
    _wake = threading.Condition(_lock)
    _open = []
    _ticker = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def configure(quiet: bool = False, verbose: bool = False, name: str | None = None,
              stream: IO[str] | None = None, tty: bool | None = None) -> None:
    """Set the mode for the whole process (drivers call it once from `--quiet` / `-v`). `name`
    prefixes plain lines; `stream` and `tty` are for tests (default: stderr, and whether it is a
    terminal)."""
    with _lock:
        _mode.quiet, _mode.verbose = quiet, verbose
        if name is not None:
            _mode.name = name
        _mode.stream, _mode.tty = stream, tty


def quiet() -> bool:
    return _mode.quiet


def verbose() -> bool:
    return _mode.verbose


def _stream() -> IO[str]:
    return _mode.stream or sys.stderr


def _is_tty() -> bool:
    if _mode.tty is not None:
        return _mode.tty
    try:
        return _stream().isatty()
    except (AttributeError, ValueError):  # a closed or foreign stream
        return False


def _write(line: str) -> None:
    """One whole line on the stream, around any live terminal lines."""
    s = _stream()
    try:
        if _is_tty() and any(t._bar is not None for t in _open):
            from tqdm import tqdm

            tqdm.write(line, file=s)
        else:
            s.write(line + "\n")
            s.flush()
    except (OSError, ValueError):  # stderr closed under us (a pipe that went away): progress is optional
        pass


def _width() -> dict[str, object]:
    """tqdm's width: the terminal's, following resizes, or 100 columns on a terminal that reports
    none (a pty opened by a program, `script`), where tqdm would draw nothing."""
    try:
        size = os.get_terminal_size(_stream().fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    return {"dynamic_ncols": True} if size.columns > 0 and size.lines > 0 else {"ncols": 100, "nrows": 24}


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


class Task:
    """One long step: a count of steps (of `total` when known), a note, and lines to log."""

    def __init__(self, label: str, total: int | None = None, unit: str = "", enabled: bool = True) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.enabled = enabled and not _mode.quiet
        self.n = 0
        self.detail = ""
        self.t0 = time.monotonic()
        self.shown = False
        self._pending: list[str] = []
        self._bar = None  # tqdm, on a terminal once shown
        self._last_plain = 0.0
        self._depth = 0

    # -- what callers do ---------------------------------------------------------------------
    def advance(self, n: int = 1, note: str | None = None) -> None:
        """`n` more steps done (and the latest detail). Cheap enough for every emulated sample: it
        only counts; the ticker thread draws."""
        self.n += n
        if note is not None:
            self.detail = note

    def note(self, text: str) -> None:
        """The live detail shown beside the count (the latest only)."""
        self.detail = text

    def log(self, line: str) -> None:
        """A line of its own (a trial's result): now if the task shows, else when it does."""
        if not self.enabled:
            return
        with _lock:
            if not self.shown:
                self._tick(time.monotonic())  # shows the task (and its kept lines) if it is due
            if self.shown:
                _write(f"{_mode.name}: {line}")
            else:
                self._pending.append(line)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.t0

    # -- drawing (under the lock) ------------------------------------------------------------
    def _count(self) -> str:
        if self.total is None and not self.unit:
            return ""  # a step without steps (an import): its elapsed time only
        done = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        return f"{done} {self.unit}".rstrip()

    def _plain_line(self, now: float, end: bool = False) -> str:
        parts = [p for p in (self._count(), _fmt_s(now - self.t0)) if p]
        tail = f" ({self.detail})" if self.detail else ""
        return f"{_mode.name}: {self.label} {', '.join(parts)}{' done' if end else ''}{tail}"

    def _tick(self, now: float) -> None:
        if not self.enabled or now - self.t0 < (DELAY_S if _is_tty() else max(DELAY_S, PLAIN_DELAY_S)):
            return
        if not self.shown:
            self.shown = True
            if _is_tty():
                from tqdm import tqdm

                fmt = None if self.total is not None else (
                    "{desc}" + (": {n_fmt} {unit}" if self.unit else "") + " [{elapsed}{postfix}]")
                self._bar = tqdm(total=self.total, initial=self.n, desc=self.label, unit=self.unit or "it",
                                 file=_stream(), leave=self._depth == 0, mininterval=TICK_S, bar_format=fmt,
                                 **_width())
                self._bar.start_t = self._bar._time() - (now - self.t0)  # elapsed from the task's start
            else:
                self._last_plain = now
                _write(self._plain_line(now))
            for line in self._pending:
                _write(f"{_mode.name}: {line}")
            self._pending.clear()
            return
        if self._bar is not None:
            self._bar.n = self.n
            if self.detail:
                self._bar.set_postfix_str(self.detail[:80], refresh=False)
            self._bar.refresh()
        elif now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = now
            _write(self._plain_line(now))

    def _close(self, failed: bool = False) -> None:
        if not self.shown:
            return
        if self._bar is not None:
            if failed:
                self._bar.leave = False  # cleared: the error line follows
            self._bar.n = self.n
            if self.detail:
                self._bar.set_postfix_str(self.detail[:80], refresh=False)
            self._bar.close()
            self._bar = None
        elif not failed:
            _write(self._plain_line(time.monotonic(), end=True))


class _Off(Task):
    """A task that shows nothing (disabled, quiet)."""

    def __init__(self) -> None:
        super().__init__("", enabled=False)


def _tick_all() -> None:
    """The ticker thread: redraws open tasks (and shows the ones passing DELAY_S) while any is open."""
    while True:
        with _wake:
            while not _open:
                _wake.wait()
            now = time.monotonic()
            for t in list(_open):
                t._tick(now)
            _wake.wait(TICK_S)


@contextmanager
def task(label: str, total: int | None = None, unit: str = "", enabled: bool = True) -> Iterator[Task]:
    """Open a task for the duration of the block (see the module docstring)."""
    global _ticker
    if not enabled or _mode.quiet:
        yield _Off()
        return
    t = Task(label, total, unit)
    with _lock:
        t._depth = len(_open)
        _open.append(t)
        if _ticker is None or not _ticker.is_alive():
            _ticker = threading.Thread(target=_tick_all, name="h3pc-progress", daemon=True)
            _ticker.start()
        _wake.notify_all()
    failed = True
    try:
        yield t
        failed = False
    finally:
        with _lock:
            if t in _open:  # (not in a forked child's fresh list)
                _open.remove(t)
            t._close(failed)


def track(items: Iterable[T], label: str, total: int | None = None, unit: str = "",
          enabled: bool = True) -> Iterator[T]:
    """Iterate over `items` as a task, one step per item."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with task(label, total, unit, enabled) as t:
        for item in items:
            yield item
            t.advance()


@contextmanager
def phase(name: str, timings: dict[str, float] | None = None) -> Iterator[None]:
    """Time a phase into `timings[name]`; with verbose, print its time as it ends (not at the end
    of the run, so a slow phase is seen while the rest runs)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        secs = time.perf_counter() - t0
        if timings is not None:
            timings[name] = secs
    if _mode.verbose and not _mode.quiet:
        with _lock:
            _write(f"{_mode.name}: {name} {secs:.3f}s")
