"""`h3pc-run`: emulate a program.bin on inputs, write its outputs, cost report and trace."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

from h3pc import __version__, progress
from h3pc.diagnostics import ArgumentParser, H3pcError, check_number
from h3pc.tool import run_main
from h3pc.files import Outputs, check_input
from h3pc.hardware.schema import preset_names
from h3pc.quality import add_arguments as add_quality_arguments


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="h3pc-run", description="Emulate a compiled h3pc program.bin.")
    p.add_argument("program", help="program.bin written by `h3pc -o`")
    p.add_argument("--inputs", metavar="X.npz",
                   help="inputs by graph input name (an extra leading axis holds several samples); "
                        "in the model corpus format (keys in/NAME) the in/ keys are read; other keys (labels, "
                        "out/, eval/) are ignored with a note (default: the --calib samples)")
    p.add_argument("--outputs", metavar="Y.npz", help="write the outputs here (atomically)")
    p.add_argument("--report", metavar="R.json", help="write the cost report of one inference (JSON)")
    p.add_argument("--trace", metavar="T.json", help="write a Chrome/Perfetto trace, one track per tier")
    p.add_argument("--ideal", action="store_true", help="exact fp32 on every tier (no quantisation, no noise)")
    p.add_argument("--no-noise", action="store_true",
                   help="each tier's quantisation only, without its noise models")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise models (the same seed, the same outputs)")
    add_quality_arguments(p, "snr", "also measure output quality on these samples (one sample or several on a "
                          "leading axis, as --inputs: docs/samples.md) against the program's exact fp32 run")
    p.add_argument("--compare-ideal", action="store_true",
                   help="also run the program exactly (fp32) on the same inputs and report each output's "
                        "deviation: SNR in dB, cosine, max relative error")
    p.add_argument("--hw", metavar="PRESET|FILE",
                   help="cost and number formats from this description instead of the embedded one "
                        "(its tier geometry must match the program's)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing but errors (no summary, quality line, notes or progress): the figures are in "
                        "--report and --outputs")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    p.add_argument("--version", action="version", version=f"h3pc-run {__version__}")
    return p


def read_inputs(path: str, inputs: dict[str, tuple[tuple[int, ...], str]]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The program's inputs from an .npz file in the one sample layout of --inputs and --calib, and
    the keys left aside (labels, out/ groups, anything else); see h3pc.quality.read_samples."""
    from h3pc.quality import read_samples

    got = read_samples(path, inputs, "inputs")
    return got.feeds, list(got.ignored)


def check_geometry(program_hw, hw) -> None:
    """Costs may come from another description, crossbar allocation may not (each weight-stationary
    tier's `geometry`)."""
    from h3pc.backends import tiers

    for t in tiers.stationary(program_hw):
        tier = t.name
        if not hw.has(tier):
            raise H3pcError(f"--hw {hw.source}: no '{tier}' block, but the program was compiled for one; "
                            "recompile with this --hw")
        a, b = program_hw.tier(tier), hw.tier(tier)
        for key in t.geometry:
            if getattr(a, key) != getattr(b, key):
                raise H3pcError(f"--hw {hw.source}: {tier}.{key} is {getattr(b, key)} but the program was "
                                f"compiled for {getattr(a, key)}; recompile with this --hw")


#: output flags of h3pc-run, by attribute name
OUTPUT_FLAGS = {"outputs": "--outputs", "report": "--report", "trace": "--trace"}


def plan_files(args: argparse.Namespace) -> Outputs:
    """Check every input and declare every output before any work (h3pc.files)."""
    check_input(args.program)
    inputs = {"the program": args.program}
    if args.hw and not (not Path(args.hw).suffix and args.hw in preset_names()):
        if not Path(args.hw).exists():
            raise H3pcError(f"--hw {args.hw}: no such preset or file (presets: {', '.join(preset_names())})")
        check_input(args.hw, "--hw")
        inputs["--hw"] = args.hw
    for flag, path in (("--inputs", args.inputs), ("--calib", args.calib)):
        if path is not None:
            check_input(path, flag)
            inputs[flag] = path
    outs = Outputs(inputs)
    for attr, flag in OUTPUT_FLAGS.items():
        outs.declare(flag, getattr(args, attr))
    return outs


def main_args(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    progress.configure(quiet=args.quiet, name="h3pc-run")
    if args.inputs is None and args.calib is None:
        raise H3pcError("nothing to run: give --inputs X.npz (or --calib DATA.npz to run its samples)")
    check_number("--seed", args.seed, 0, 2**31 - 1)
    check_number("--tolerance", args.tolerance, -1e6, 1e6)
    with plan_files(args) as outs:
        return run(args, outs)


def run(args: argparse.Namespace, outs: Outputs) -> int:
    from h3pc.backends.program import read
    from h3pc.hardware.schema import load_hardware
    from h3pc.runtime.emulator import Emulator
    from h3pc.runtime.report import summary, trace

    prog = read(args.program)
    hw = None
    if args.hw:
        hw = load_hardware(args.hw)
        check_geometry(prog.hw, hw)
    calib = None
    ignored: list[str] = []
    if args.calib:
        from h3pc.quality import load_calib, program_inputs

        calib = load_calib(args.calib, program_inputs(prog))
    if args.inputs is not None:
        from h3pc.quality import program_inputs

        feeds, ignored = read_inputs(args.inputs, program_inputs(prog))
    else:
        feeds = calib.feeds  # the calibration samples, in the program's input layout
    emu = Emulator(prog, hw, ideal=args.ideal, where=args.program, seed=args.seed, noise=not args.no_noise)
    outputs, report, events = emu.run(feeds)
    from h3pc.quality import Oracle, compare_ideal, run_quality

    task = Oracle(calib, args.metric, args.tolerance, args.seed).measure(prog, hw) if calib is not None else None
    dev = compare_ideal(prog, feeds, outputs, hw) if args.compare_ideal else None
    quality = run_quality(task, dev, report.get("samples", 1), args.seed)
    report["quality"] = quality.to_json()  # the same key in every report: measured, or why not
    # every check has passed and every value is computed: only now write anything, all at once
    if args.outputs:
        buf = io.BytesIO()
        np.savez(buf, **outputs)
        outs.write("--outputs", buf.getbuffer())
    if args.report:
        outs.write("--report", json.dumps(report, indent=1, sort_keys=True) + "\n")
    if args.trace:
        outs.write("--trace", json.dumps(trace(prog, events)) + "\n")
    outs.commit()
    if args.quiet:  # nothing but errors: the figures are in the files written
        return 0
    print(summary(report))
    for line in quality.lines():
        print(line)
    if ignored:
        shown = ", ".join(ignored[:8]) + (f" and {len(ignored) - 8} more" if len(ignored) > 8 else "")
        print(f"h3pc-run: note: {args.inputs}: ignored {shown} (neither an input of the program nor a label key)",
              file=sys.stderr)
    if calib is not None and calib.note(args.calib):
        print(f"h3pc-run: {calib.note(args.calib)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main("h3pc-run", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
