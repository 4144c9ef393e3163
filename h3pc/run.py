"""`h3pc-run`: emulate a program.bin on inputs, write its outputs, cost report and trace."""

from __future__ import annotations

import argparse
import io
import json
import sys

import numpy as np

from h3pc import __version__
from h3pc.diagnostics import H3pcError, atomic_write, run_main
from h3pc.npz import read_npz
from h3pc.quality import add_arguments as add_quality_arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="h3pc-run", description="Emulate a compiled h3pc program.bin.")
    p.add_argument("program", help="program.bin written by `h3pc -o`")
    p.add_argument("--inputs", required=True, metavar="X.npz",
                   help="inputs by graph input name (an extra leading axis holds several samples); "
                        "in the model corpus format (keys in/NAME) the in/ keys are read and out/, eval/ keys ignored")
    p.add_argument("--outputs", metavar="Y.npz", help="write the outputs here (atomically)")
    p.add_argument("--report", metavar="R.json", help="write the cost report of one inference (JSON)")
    p.add_argument("--trace", metavar="T.json", help="write a Chrome/Perfetto trace, one track per tier")
    p.add_argument("--ideal", action="store_true", help="exact fp32 on every tier (no quantisation, no noise)")
    p.add_argument("--no-noise", action="store_true",
                   help="each tier's quantisation only, without its noise models")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise models (the same seed, the same outputs)")
    add_quality_arguments(p, "snr", "also measure output quality on these samples (stacked; input names or "
                          "eval/NAME keys, optional labels) against the program's exact fp32 run")
    p.add_argument("--hw", metavar="PRESET|FILE",
                   help="cost and number formats from this description instead of the embedded one "
                        "(its tier geometry must match the program's)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the cost summary")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    p.add_argument("--version", action="version", version=f"h3pc-run {__version__}")
    return p


def read_inputs(path: str) -> dict[str, np.ndarray]:
    data = read_npz(path)
    if any(k.startswith("in/") for k in data):  # the model corpus format: in/, out/, eval/ groups
        data = {k[3:]: v for k, v in data.items() if k.startswith("in/") or "/" not in k}
    return data


def check_geometry(program_hw, hw) -> None:
    """Costs may come from another description, crossbar allocation may not."""
    for tier in ("sram_pim", "reram_pim"):
        a, b = getattr(program_hw, tier), getattr(hw, tier)
        for key in ("tiles", "crossbars_per_tile", "crossbar_rows", "crossbar_cols", "cell_bits", "weight_bits"):
            if getattr(a, key) != getattr(b, key):
                raise H3pcError(f"--hw {hw.source}: {tier}.{key} is {getattr(b, key)} but the program was "
                                f"compiled for {getattr(a, key)}; recompile with this --hw")


def main_args(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from h3pc.backends.program import read
    from h3pc.hardware.schema import load_hardware
    from h3pc.runtime.emulator import Emulator
    from h3pc.runtime.report import summary, trace

    prog = read(args.program)
    hw = None
    if args.hw:
        hw = load_hardware(args.hw)
        check_geometry(prog.hw, hw)
    feeds = read_inputs(args.inputs)
    emu = Emulator(prog, hw, ideal=args.ideal, where=args.program, seed=args.seed, noise=not args.no_noise)
    outputs, report, events = emu.run(feeds)
    quality = None
    if args.calib:
        from h3pc.quality import Oracle, load_calib, program_inputs

        oracle = Oracle(load_calib(args.calib, program_inputs(prog)), args.metric, args.tolerance, args.seed)
        quality = oracle.measure(prog, hw)
        report["quality"] = quality.to_json()
    # every check has passed and every value is computed: only now write anything
    if args.outputs:
        buf = io.BytesIO()
        np.savez(buf, **outputs)
        atomic_write(args.outputs, buf.getvalue())
    if args.report:
        atomic_write(args.report, json.dumps(report, indent=1, sort_keys=True) + "\n")
    if args.trace:
        atomic_write(args.trace, json.dumps(trace(prog, events)) + "\n")
    if not args.quiet:
        print(summary(report))
    if quality is not None:
        print(quality.line())
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main("h3pc-run", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
