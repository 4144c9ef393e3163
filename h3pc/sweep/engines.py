"""Where sweep points run: local worker processes (the default) or a Ray cluster, in one table.

Both engines run `point.run_point` on the same plain data and report back to the driver, which alone
writes the store: a worker never writes to a shared path. Each has a hard deadline per point (the
point's own alarm plus a grace period) for a point stuck where the alarm cannot reach it (inside a
native call): the local engine kills that worker process and starts another, Ray cancels the task.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from h3pc.diagnostics import H3pcError
from h3pc.sweep.point import THREAD_ENV, PointTask, failed

POLL_S = 0.5


class Sink(Protocol):
    """The driver's side: told when a point starts and ends, and ticked while waiting."""

    def started(self, task: PointTask) -> None: ...

    def finished(self, task: PointTask, result: dict[str, Any]) -> None: ...

    def tick(self) -> None: ...


def hard_deadline(timeout_s: float | None) -> float | None:
    """Seconds after which the engine itself stops a point (its alarm rings at `timeout_s`)."""
    return None if timeout_s is None else timeout_s + max(10.0, 0.25 * timeout_s)


def killed_row(task: PointTask, after: float) -> dict[str, Any]:
    return failed("timeout", f"point time limit of {task.timeout_s:g} s reached (stopped by the engine "
                             f"after {after:.0f} s)", wall_s=round(after, 4))


# -- local worker processes ------------------------------------------------------------------------
def _die_with_parent() -> None:
    """Linux: take the worker down with the driver (killed sweeps leave no busy orphans)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(conn: Any, parent: int) -> None:
    """A local worker: points in, rows out; models and calibration data are sent once, as bytes."""
    _die_with_parent()
    if os.getppid() != parent:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    from h3pc import progress
    from h3pc.sweep.point import run_point, warm

    progress.configure(quiet=True)  # the driver's line is the sweep's progress; a worker's would interleave

    warm()

    blobs: dict[str, bytes] = {}
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task, new = msg
        blobs.update(new)
        calib = blobs[task.calib_sha256] if task.calib_sha256 else None
        try:
            conn.send(run_point(task, blobs[task.model_sha256], calib))
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Slot:
    proc: Any = None
    conn: Any = None
    task: PointTask | None = None
    since: float = 0.0
    shipped: set[str] = field(default_factory=set)


class LocalEngine:
    """`--jobs N` worker processes on this machine (spawned fresh, one BLAS thread each)."""

    def __init__(self, jobs: int, address: str | None = None) -> None:
        self.jobs = jobs

    def describe(self) -> str:
        return f"{self.jobs} local worker process{'es' if self.jobs != 1 else ''}"

    def _start(self, ctx: Any, slot: _Slot, scratch: str) -> None:
        parent, child = ctx.Pipe()
        saved = {k: os.environ.get(k) for k in (*THREAD_ENV, "TMPDIR")}
        os.environ.update({k: v if v is not None else "1" for k, v in saved.items() if k != "TMPDIR"})
        os.environ["TMPDIR"] = scratch  # a killed worker's temporary files are the driver's to remove
        try:  # the child inherits the environment at start, before it imports numpy
            proc = ctx.Process(target=_worker_main, args=(child, os.getpid()), daemon=True, name="h3pc-sweep-worker")
            proc.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                elif k == "TMPDIR":
                    os.environ[k] = v
        child.close()
        slot.proc, slot.conn, slot.task, slot.shipped = proc, parent, None, set()

    def _stop(self, slot: _Slot, kill: bool = False) -> None:
        if slot.proc is None:
            return
        if not kill:
            try:
                slot.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            slot.proc.join(2.0)
        if slot.proc.is_alive():
            slot.proc.kill()
            slot.proc.join(5.0)
        slot.conn.close()
        slot.proc = None

    def run(self, tasks: list[PointTask], payloads: dict[str, bytes], sink: Sink, scratch: str | None = None) -> None:
        """Run `tasks`; the workers' temporary files go under `scratch` (the driver's folder, removed
        by the driver whatever happens: a SIGKILLed sweep leaves it in its results folder, not in the
        system temp folder), or under a temporary folder of this engine's own."""
        import multiprocessing
        from multiprocessing.connection import wait

        ctx = multiprocessing.get_context("spawn")
        queue = collections.deque(tasks)
        slots = [_Slot() for _ in range(max(1, min(self.jobs, len(tasks))))]
        # the workers' temporary folder: removed whatever becomes of them (killed on a deadline, taken
        # down with an interrupted driver), so a sweep leaves nothing in the system temp folder
        own = scratch is None
        if scratch is None:
            scratch = tempfile.mkdtemp(prefix="h3pc-sweep-")
        try:
            for slot in slots:
                self._start(ctx, slot, scratch)
            while queue or any(s.task for s in slots):
                for slot in slots:
                    if slot.task is None and queue:
                        task = queue.popleft()
                        need = [h for h in (task.model_sha256, task.calib_sha256) if h and h not in slot.shipped]
                        slot.conn.send((task, {h: payloads[h] for h in need}))
                        slot.shipped.update(need)
                        slot.task, slot.since = task, time.monotonic()
                        sink.started(task)
                busy = {s.conn: s for s in slots if s.task is not None}
                for conn in wait(list(busy), timeout=POLL_S):
                    slot = busy[conn]
                    task = slot.task
                    assert task is not None
                    try:
                        row = conn.recv()
                    except (EOFError, OSError):
                        slot.proc.join(5.0)
                        code = slot.proc.exitcode
                        why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                        row = failed("crash", f"the worker process died ({why}), e.g. out of memory",
                                     wall_s=round(time.monotonic() - slot.since, 4))
                        self._stop(slot, kill=True)
                        self._start(ctx, slot, scratch)
                    slot.task = None
                    sink.finished(task, row)
                now = time.monotonic()
                for slot in slots:
                    limit = hard_deadline(slot.task.timeout_s) if slot.task else None
                    if slot.task is not None and limit is not None and now - slot.since > limit:
                        task = slot.task
                        self._stop(slot, kill=True)
                        self._start(ctx, slot, scratch)
                        sink.finished(task, killed_row(task, now - slot.since))
                sink.tick()
        finally:
            for slot in slots:
                self._stop(slot, kill=slot.task is not None)
            if own:
                shutil.rmtree(scratch, ignore_errors=True)


# -- Ray -------------------------------------------------------------------------------------------
def _ray_point(task: PointTask, model: bytes, calib: bytes | None) -> dict[str, Any]:
    """The Ray task: its ObjectRef arguments arrive resolved (bytes from the object store)."""
    from h3pc import progress
    from h3pc.sweep.point import run_point

    progress.configure(quiet=True)  # the driver's line is the sweep's progress

    return run_point(task, model, calib)


class RayEngine:
    """The same points as Ray tasks: `auto` starts a local Ray on this machine (loopback, `jobs`
    CPUs) and stops it at the end; an ADDRESS connects to a running cluster (`ray start --head`).
    Models and calibration data go through Ray's object store, one `ray.put` each."""

    def __init__(self, jobs: int, address: str | None = None) -> None:
        self.jobs = jobs
        self.address = address or "auto"
        self._scratch: str | None = None

    def describe(self) -> str:
        return "a local Ray cluster" if self.address == "auto" else f"the Ray cluster at {self.address}"

    def _reachable(self) -> None:
        """Ray waits a long time for a head that is not there: find out first, in seconds."""
        import socket

        where = self.address.split("://", 1)[-1]
        host, _, port = where.rpartition(":")
        if not host or not port.isdigit():
            raise H3pcError(f"--ray {self.address}: expected auto or HOST:PORT (the head's `ray start --head` port)")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
        except OSError as exc:
            raise H3pcError(f"--ray {self.address}: no Ray head answers there ({exc.strerror or exc}); start one "
                            f"with `ray start --head --port {port}`") from None

    def _init(self, scratch: str | None = None) -> Any:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if self.address != "auto":
            self._reachable()
        try:
            import ray
        except ImportError:
            raise H3pcError("--ray needs Ray: pip install 'h3pc[ray]'") from None
        common = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            if self.address == "auto":  # its session files in a folder of ours, removed after shutdown
                self._scratch = tempfile.mkdtemp(prefix="h3pc-ray-")
                # the workers run on this machine: their temporary files go to the driver's scratch
                # folder too (a task cancelled past its deadline is killed before it can clean up)
                env = {"runtime_env": {"env_vars": {"TMPDIR": scratch}}} if scratch else {}
                ray.init(address="local", num_cpus=self.jobs, _node_ip_address="127.0.0.1",
                         _temp_dir=self._scratch, **common, **env)
            else:
                ray.init(address=self.address, **common)
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds here; each is one line for the user
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = ("" if self.address == "auto" or os.environ.get("RAY_AUTH_MODE") else
                    " (a cluster with token authentication needs RAY_AUTH_MODE=token and its token here; "
                    "see docs/sweep.md)")
            raise H3pcError(f"--ray {self.address}: cannot start or reach Ray: {first}{hint}") from None
        return ray

    def run(self, tasks: list[PointTask], payloads: dict[str, bytes], sink: Sink, scratch: str | None = None) -> None:
        """Run `tasks` as Ray tasks. On a local Ray (`auto`) the workers' temporary files go under
        `scratch` (the driver's folder); on a cluster they stay on the nodes that run them."""
        try:
            ray = self._init(scratch)
            try:
                self._run(ray, tasks, payloads, sink)
            finally:
                ray.shutdown()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)

    def _run(self, ray: Any, tasks: list[PointTask], payloads: dict[str, bytes], sink: Sink) -> None:
        from ray.exceptions import GetTimeoutError, RayError

        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_point)
        needed = {h for t in tasks for h in (t.model_sha256, t.calib_sha256) if h}
        refs = {h: ray.put(payloads[h]) for h in needed}
        # as many in flight as the cluster has CPUs: submitted is running, and deadlines count from it
        slots = max(1, int(ray.cluster_resources().get("CPU", self.jobs)))
        queue = collections.deque(tasks)
        running: dict[Any, tuple[PointTask, float]] = {}
        while queue or running:
            while queue and len(running) < slots:
                task = queue.popleft()
                calib = refs[task.calib_sha256] if task.calib_sha256 else None
                running[remote.remote(task, refs[task.model_sha256], calib)] = (task, time.monotonic())
                sink.started(task)
            done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
            for ref in done:
                task, since = running.pop(ref)
                try:
                    row = ray.get(ref, timeout=60)
                except (RayError, GetTimeoutError) as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    row = failed("crash", f"the Ray task failed: {type(exc).__name__}: {first}",
                                 wall_s=round(time.monotonic() - since, 4))
                sink.finished(task, row)
            now = time.monotonic()
            for ref, (task, since) in list(running.items()):
                limit = hard_deadline(task.timeout_s)
                if limit is not None and now - since > limit:
                    ray.cancel(ref, force=True)
                    del running[ref]
                    sink.finished(task, killed_row(task, now - since))
            sink.tick()


#: `--ray` absent: local; present: ray (its value is the address)
ENGINES: dict[str, Callable[[int, str | None], Any]] = {
    "local": LocalEngine,
    "ray": RayEngine,
}
