"""`h3pc sweep`: a design-space sweep (models x hardware points x mappings x objectives) from a YAML
file, on local worker processes or a Ray cluster, resumable (docs/sweep.md)."""

from __future__ import annotations

import argparse
import os
import sys

from h3pc import __version__, progress
from h3pc.diagnostics import ArgumentParser, check_number
from h3pc.tool import run_main
from h3pc.files import check_input


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="h3pc sweep",
        description="Run every point of a design-space sweep through the compiler (stage one and two) and the "
                    "emulator; write a table (Parquet and CSV), plots and a summary. Points already in the "
                    "results folder are not run again.")
    p.add_argument("sweep", help="the sweep file (YAML; see docs/sweep.md)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="results folder (default: NAME_results beside the sweep file NAME.yaml)")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="points run at once: local worker processes, or the CPUs of the local Ray cluster "
                        "of --ray auto (default: the CPUs this process may use)")
    p.add_argument("--ray", metavar="auto|ADDRESS",
                   help="run on Ray: auto starts a local Ray on this machine, ADDRESS connects to a running "
                        "cluster (ray start --head; needs h3pc[ray] on every node)")
    p.add_argument("--point-timeout", type=float, default=None, metavar="S",
                   help="stop a point after S seconds; it becomes a row with status timeout (default: the "
                        "sweep file's point_timeout, or none)")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the stored points that timed out or crashed (other rows are final)")
    p.add_argument("--check", action="store_true",
                   help="validate the sweep file and list its points; run nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    p.add_argument("--version", action="version", version=f"h3pc {__version__}")
    return p


def main_args(argv: list[str]) -> int:
    from pathlib import Path

    from h3pc.sweep.spec import MAX_POINT_TIMEOUT_S, load_spec

    args = build_parser().parse_args(argv)
    progress.configure(quiet=args.quiet, name="h3pc sweep")
    check_number("--jobs", args.jobs, 1, 1024)
    check_number("--point-timeout", args.point_timeout, 0, MAX_POINT_TIMEOUT_S, low_open=True)
    check_input(args.sweep)
    spec = load_spec(args.sweep)
    tasks = spec.tasks()
    if args.check:
        print(f"{spec.path}: {len(spec.models)} model(s) x {len(spec.points)} hardware point(s) x "
              f"{len(spec.choices)} mapping(s) -> {len(tasks)} points")
        for p in spec.points:
            print(f"  {p.id}  {p.label}")
        return 0
    out = Path(args.output) if args.output else spec.path.parent / f"{spec.path.stem}_results"
    from h3pc.sweep.driver import run_sweep

    engine = "ray" if args.ray else "local"
    outcome = run_sweep(spec, out, engine, args.jobs or default_jobs(), args.ray, args.point_timeout,
                        args.retry_failed, None if args.quiet else sys.stderr)
    failed = f", {outcome.failed} failed (see summary.md)" if outcome.failed else ""
    print(f"h3pc sweep: {len(outcome.rows)} points ({outcome.ran} run now{failed}) in {outcome.wall_s:.1f} s "
          f"-> {out}/sweep.parquet, sweep.csv, pareto.png, sensitivity.png, summary.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main("h3pc sweep", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
