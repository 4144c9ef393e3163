"""The resumable store: one small JSON file per finished point, named by the point's key.

Each file is written atomically as soon as its point ends, so a killed sweep loses at most the
points that were running; a resumed sweep runs only the keys that have no file. The table is always
rebuilt from these files. A lock file keeps two sweeps out of one results folder, and marks it as a
sweep's: a folder that exists and holds anything without that mark is refused (a sweep never
overwrites a file it did not create).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from h3pc.diagnostics import H3pcError, printable
from h3pc.files import write_file
from h3pc.files import MAX_TEXT_BYTES, parse_json, read_bytes


#: the lock file, which also marks a folder as a sweep's results folder
LOCK = ".lock"
#: prefix of a run's scratch folder (its workers' temporary files) inside the results folder
SCRATCH = ".scratch-"


class Store:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.dir = out / "points"
        self._lock: int | None = None

    def open(self) -> "Store":
        """Create the folders and take the lock (an error when another sweep holds it)."""
        import fcntl

        if self.out.is_symlink() or (self.out.exists() and not self.out.is_dir()):
            raise H3pcError(f"{self.out}: not a folder; the results folder must be a new or empty folder, or one "
                            f"an earlier sweep wrote")
        if self.out.is_dir() and not (self.out / LOCK).is_file() and any(self.out.iterdir()):
            raise H3pcError(f"{self.out}: holds files no sweep wrote; give -o a new or empty folder")
        self._refuse_links()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.out / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise H3pcError(f"{self.out}: cannot create the results folder: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise H3pcError(f"{self.out}: another sweep is writing to this results folder") from None
        self._lock = fd
        for folder in (self.dir, self.out):  # writes cut short by a kill (staged temporaries of h3pc.files)
            for stale in folder.glob(".*.part"):
                stale.unlink(missing_ok=True)
        for stale in self.out.glob(f"{SCRATCH}*"):  # a killed run's workers' temporary files
            shutil.rmtree(stale, ignore_errors=True)
        return self

    def _refuse_links(self) -> None:
        """A results folder holds only what a sweep wrote: a symbolic link among the names a sweep writes
        (the lock, `points/` and its records, spec.json, the table, plots and summary) would make it
        replace a file it did not create (outputs are written through a link to its target), so it is
        refused, named, before anything is written."""
        from h3pc.sweep.report import FILES

        names = [LOCK, self.dir.name, "spec.json", *FILES]
        found = [self.out / n for n in names if (self.out / n).is_symlink()]
        if not found and self.dir.is_dir():
            found = [p for p in self.dir.iterdir() if p.is_symlink()]
        if found:
            raise H3pcError(f"{printable(str(found[0]))}: a symbolic link in the results folder; a sweep replaces "
                            f"only files it wrote (remove the link, or give -o a new folder)")

    def scratch(self, run: str) -> Path:
        """A new folder for the temporary files of this run's workers (removed by the driver, or by
        the next sweep here if this one is killed)."""
        path = self.out / f"{SCRATCH}{run}"
        path.mkdir()
        return path

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # releases the lock
            self._lock = None

    def __enter__(self) -> "Store":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record of a point, or None (a file that does not read back is run again)."""
        try:
            record = parse_json(read_bytes(self.path(key), None, MAX_TEXT_BYTES), str(self.path(key)), "point record")
        except H3pcError:
            return None
        if not isinstance(record, dict) or record.get("key") != key or not isinstance(record.get("row"), dict):
            return None
        return record

    def put(self, key: str, row: dict[str, Any], run: str) -> None:
        record = {"key": key, "row": row, "run": run, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        try:
            write_file(self.path(key), json.dumps(record, indent=1) + "\n")
        except OSError as exc:
            raise H3pcError(f"{self.path(key)}: cannot store the point: {exc.strerror or exc}") from None
