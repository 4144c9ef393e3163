"""The sweep driver: which points still have to run, running them on an engine, storing each row as
it arrives, showing progress (h3pc.progress: a live line on a terminal, plain lines in a log, nothing
for a sweep done within two seconds or with --quiet), and rebuilding the table and report from the
store at the end."""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from h3pc import progress as live
from h3pc.files import write_file
from h3pc.sweep.engines import ENGINES
from h3pc.sweep.point import TRANSIENT, PointTask
from h3pc.sweep.report import write_report
from h3pc.sweep.spec import Spec, Task
from h3pc.sweep.store import Store


def point_task(task: Task, spec: Spec, timeout_s: float | None) -> PointTask:
    return PointTask(task.key, task.model.name, task.model.sha256, task.model.calib_sha256, task.point.hw,
                     task.point.digest, task.choice.target, task.choice.mapping, task.objective,
                     dict(spec.solver.__dict__), dict(spec.quality.__dict__) if spec.quality else None, timeout_s)


def identity(task: Task) -> dict[str, Any]:
    """The columns that say which point a row is (from the sweep file, not from the store)."""
    return {"key": task.key, "model": task.model.name, "hw_id": task.point.id, "hw_point": task.point.label,
            "hw_digest": task.point.digest, **task.point.values, "target": task.choice.target,
            "mapping": task.choice.label, "objective": task.objective}


def _duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """The sweep's progress, as every tool shows it (h3pc.progress): points done of all, and beside
    the count the failed and running points and the time left at this run's pace."""

    def __init__(self, task: live.Task, done: int, failed: int) -> None:
        self.task, self.failed, self.running = task, failed, 0
        self.t0 = time.monotonic()
        self.ran = 0
        task.advance(done, note=self.detail())  # points already stored count as done

    def detail(self) -> str:
        left = (self.task.total or 0) - self.task.n
        if left == 0:
            eta = "done"
        elif self.ran:
            eta = "ETA " + _duration((time.monotonic() - self.t0) / self.ran * left)
        else:
            eta = "ETA ?"
        return f"{self.failed} failed, {self.running} running, {eta}"

    def started(self) -> None:
        self.running += 1
        self.task.note(self.detail())

    def finished(self, ok: bool) -> None:
        self.running -= 1
        self.ran += 1
        self.failed += not ok
        self.task.advance(note=self.detail())


class _Sink:
    """Stores each row the moment it arrives (atomically), then updates the progress line."""

    def __init__(self, store: Store, tasks: dict[str, Task], bar: Progress, run: str) -> None:
        self.store, self.tasks, self.bar, self.run = store, tasks, bar, run

    def started(self, task: PointTask) -> None:
        self.bar.started()

    def finished(self, task: PointTask, result: dict[str, Any]) -> None:
        self.store.put(task.key, {**identity(self.tasks[task.key]), **result}, self.run)
        self.bar.finished(result["status"] == "ok")

    def tick(self) -> None:
        self.bar.task.note(self.bar.detail())  # the ETA moves on while points run


@dataclass
class Outcome:
    rows: list[dict[str, Any]]
    ran: int  # points computed by this run (the rest came from the store)
    failed: int
    wall_s: float
    engine: str


def run_sweep(spec: Spec, out: Path, engine: str = "local", jobs: int = 1, address: str | None = None,
              timeout_s: float | None = None, retry_failed: bool = False,
              progress: TextIO | None = sys.stderr) -> Outcome:
    """Run every point of `spec` that has no row in `out`'s store yet; write the table and report.
    `progress`: None for silence, else say what will run (on that stream) and show progress
    (h3pc.progress, on stderr; nothing when quiet)."""
    t0 = time.monotonic()
    out = Path(out).resolve()
    tasks = spec.tasks()
    timeout = timeout_s if timeout_s is not None else spec.point_timeout
    runner = ENGINES[engine](jobs, address)
    with Store(out) as store:
        write_file(out / "spec.json", json.dumps(spec.to_json(), indent=1) + "\n")
        by_key = {t.key: t for t in tasks}  # two models with the same bytes share their points' keys
        stored = {k: store.get(k) for k in by_key}
        todo = [t for k, t in by_key.items() if stored[k] is None
                or (retry_failed and stored[k]["row"].get("status") in TRANSIENT)]
        rerun = {t.key for t in todo}
        have = len(by_key) - len(todo)
        failed = sum(1 for k, r in stored.items() if r is not None and r["row"].get("status") != "ok"
                     and k not in rerun)
        if progress is not None and not live.quiet():
            progress.write(f"h3pc sweep: {len(by_key)} points, {have} already in {out}, {len(todo)} to run on "
                           f"{runner.describe()}\n")
        run = uuid.uuid4().hex[:12]
        scratch = store.scratch(run)  # the workers' temporary files: in the results folder, never left in /tmp
        try:
            with live.task("points", total=len(by_key), unit="point", enabled=progress is not None) as line:
                if todo:
                    sink = _Sink(store, by_key, Progress(line, have, failed), run)
                    runner.run([point_task(t, spec, timeout) for t in todo], spec.payloads, sink, str(scratch))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        rows = []
        for t in tasks:
            record = store.get(t.key) if t.key in rerun else stored[t.key]  # the lock is held: unchanged
            assert record is not None, t.key
            rows.append({**record["row"], **identity(t)})
        wall = time.monotonic() - t0
        write_report(rows, spec, out, runner.describe(), wall, len(todo))
    return Outcome(rows, len(todo), sum(r["status"] != "ok" for r in rows), wall, runner.describe())
