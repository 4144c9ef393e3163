"""`h3pc`: the end-to-end driver (a fixed pipeline with named stages to stop at)."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

from h3pc import __version__, progress
from h3pc.diagnostics import ArgumentParser, H3pcError, UnsupportedError, check_number
from h3pc.tool import run_main
from h3pc.files import Outputs, check_input
from h3pc.frontend.control import DEFAULT_MAX_UNROLL, MAX_UNROLL
from h3pc.npz import npz_keys
from h3pc.hardware.schema import preset_names
from h3pc.quality import add_arguments as add_quality_arguments
from h3pc.transforms.stage1.mappings import MAPPINGS
from h3pc.transforms.stage2 import MAX_TRIALS
from h3pc.backends.tiers import targets

EMIT_STAGES = ("nn", "tiers")


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="h3pc",
        description="Compile an ONNX model for a hybrid electronic-photonic-PIM accelerator.",
    )
    p.add_argument("model", help="the ONNX model (.onnx)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the compiled program.bin to FILE (atomically)")
    p.add_argument("--target", default="hybrid", choices=list(targets()),
                   help="hybrid: stage one splits every layer over all tiers (see --mapping); otherwise every "
                         "GEMM on that one tier")
    p.add_argument("--hw", default="h3pimap", metavar="PRESET|FILE",
                   help=f"hardware description: a preset ({', '.join(preset_names())}) or a YAML file")
    p.add_argument("--report", metavar="FILE", help="write the compiler's cost estimate (JSON) to FILE")
    s1 = p.add_argument_group("stage one (--target hybrid): how the rows of every layer are split over the tiers")
    s1.add_argument("--mapping", default="cpsat", choices=list(MAPPINGS),
                    help="cpsat: CP-SAT over the cost tables and schedule; naive: equal split; random: best of "
                         "--samples; rule: the placement rule; nsga2: the paper's genetic search for "
                         "--solve-time seconds (default: cpsat)")
    s1.add_argument("--objective", default="latency", choices=("latency", "energy", "edp"),
                    help="what the chosen point minimises (default: latency)")
    s1.add_argument("--pareto", metavar="FILE", help="sweep the latency-energy front and write it (JSON) to FILE")
    s1.add_argument("--pick", default="latency", choices=("latency", "energy", "knee"),
                    help="which front point goes into program.bin (knee: farthest below the line joining "
                         "the extremes, each axis normalised)")
    s1.add_argument("--points", type=int, default=8, metavar="N", help="front points of the sweep (default 8)")
    s1.add_argument("--solve-time", type=float, default=None, metavar="S",
                    help="search budget in seconds: cpsat turns it into CP-SAT deterministic time so results "
                         "repeat, nsga2 runs for it (default 2, or 10 for a front)")
    s1.add_argument("--workers", type=int, default=2, metavar="N", help="solver threads (default 2)")
    s1.add_argument("--seed", type=int, default=0, help="seed of the solver and of --mapping random")
    s1.add_argument("--samples", type=int, default=100, metavar="N", help="splits drawn by --mapping random")
    s1.add_argument("--pim-replication", default="on", choices=("on", "off"),
                    help="on: a PIM tier may hold copies of a layer's weights on free crossbars and read its "
                         "input vectors in parallel (stage one chooses how many with the rows; a homogeneous "
                         "PIM target fills its free crossbars greedily); off: one copy each, the dense "
                         "packing of the paper's homogeneous baselines (default: on)")
    s1.add_argument("--placement-in", metavar="FILE", help="pin the layers listed in a placement file")
    s1.add_argument("--placement-out", metavar="FILE", help="write every layer's split, cost and reason (JSON)")
    s2 = p.add_argument_group("stage two (--target hybrid): keep the output quality of the fp32 model")
    add_quality_arguments(s2, "top1", "calibration samples, laid out as h3pc-run's --inputs (docs/samples.md); "
                          "stage two remaps rows until --metric is within --tolerance")
    s2.add_argument("--no-precision", dest="precision", action="store_false",
                    help="keep every tier's bit widths (default: lower per-layer DAC/ADC/input bits while "
                         "--metric stays within --tolerance)")
    s2.add_argument("--precision-trials", type=int, default=MAX_TRIALS, metavar="N",
                    help=f"programs emulated by precision refinement at most (default {MAX_TRIALS})")
    s2.add_argument("--check-quality", action=argparse.BooleanOptionalAction, default=True,
                    help="without --calib, compare the noisy emulation with fp32 on a seeded random input drawn "
                         "from the input signature and report SNR and cosine as `quality` (docs/quality.md); "
                         "--no-check-quality skips it and the report says quality was not checked")
    p.add_argument("--emit", choices=EMIT_STAGES,
                   help="stop after this stage and print its IR (nn: imported; tiers: placed and lowered)")
    p.add_argument("--ir-out", metavar="FILE", help="write the --emit IR to FILE (atomically) instead of stdout")
    p.add_argument("--op-stats", action="store_true", help="print per-op-type counts and which ones are supported")
    p.add_argument("--format", choices=("text", "json"), default="text", help="format of --op-stats")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=DIMS",
                   help="pin a dynamic input shape, e.g. input_ids=1x128 (repeatable)")
    p.add_argument("--input-value", action="append", default=[], metavar="NAME=V[,V...]",
                   help="pin an input to a constant, e.g. sr=16000 (repeatable): folding propagates it, an If on "
                        "it is resolved, and the program no longer takes that input; values are cast to the "
                        "input's type (true/false for booleans) and fill its shape (or --input-shape's)")
    p.add_argument("--max-unroll", type=int, default=DEFAULT_MAX_UNROLL, metavar="N",
                   help="Loop and Scan nodes with a static trip count are unrolled into one copy of their body "
                        f"per iteration, at most N copies in all (default {DEFAULT_MAX_UNROLL}); beyond it the "
                        "model is refused naming the node")
    p.add_argument("--print-op-generic", action="store_true", help="print IR in generic form")
    p.add_argument("-v", "--verbose", action="store_true", help="print phase timings to stderr")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing but errors and the requested IR or statistics (no progress, no summary)")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    p.add_argument("--version", action="version", version=f"h3pc {__version__}")
    return p


def op_stats(model_path: str) -> tuple[list[dict], Counter[str]]:
    """Per-op-type counts of an ONNX model, and whether our importer table covers each."""
    from h3pc.frontend.control import CONTROL_OPS
    from h3pc.frontend.loader import load_onnx
    from h3pc.frontend.ops import load_importers

    table = load_importers()
    with progress.task(f"read {Path(model_path).name}"):
        loaded = load_onnx(model_path)
    counts: Counter[str] = Counter()
    domains: dict[str, str] = {}
    for node in loaded.model.graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        counts[key] += 1
        domains[key] = node.domain or "ai.onnx"
    rows = []
    for op, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        entry = table.get(op) if domains[op] == "ai.onnx" else None
        control = domains[op] == "ai.onnx" and op in CONTROL_OPS  # resolved into the graph when it folds
        rows.append({"op_type": op, "domain": domains[op], "count": n, "supported": entry is not None or control,
                     "nn": list(entry.nn_ops) if entry else ["(resolved at compile time)"] if control else []})
    return rows, counts


def print_op_stats(path: str, fmt: str) -> int:
    rows, counts = op_stats(path)
    bad = [r for r in rows if not r["supported"]]
    if fmt == "json":
        print(json.dumps({"model": path, "nodes": sum(counts.values()), "ops": rows,
                          "unsupported": [r["op_type"] for r in bad]}, indent=2))
    else:
        print(f"{path}: {sum(counts.values())} nodes, {len(rows)} op types, {len(bad)} unsupported")
        w = max([len(r["op_type"]) for r in rows] + [7])
        print(f"  {'op type':<{w}}  count  status      lowers to")
        for r in rows:
            status = "supported" if r["supported"] else "UNSUPPORTED"
            print(f"  {r['op_type']:<{w}}  {r['count']:>5}  {status:<11} {', '.join(r['nn']) or '-'}")
    return 0 if not bad else UnsupportedError.exit_code


def print_ir(module, generic: bool) -> str:
    from xdsl.printer import Printer

    buf = io.StringIO()
    Printer(stream=buf, print_generic_format=generic).print_op(module)
    buf.write("\n\n")  # byte-identical to what h3pc-opt prints, so the two compose
    return buf.getvalue()


#: output flags of h3pc, by attribute name (what `Outputs` calls them in messages)
OUTPUT_FLAGS = {"output": "-o", "report": "--report", "pareto": "--pareto", "placement_out": "--placement-out",
                "ir_out": "--ir-out"}
#: bounds of the numeric flags: beyond them a run is a mistake, not a request (solve time: one day)
MAX_SOLVE_TIME_S = 86_400.0
MAX_POINTS = 1_000
MAX_WORKERS = 256
MAX_SAMPLES = 1_000_000
MAX_SEED = 2**31 - 1


def check_flags(args: argparse.Namespace) -> None:
    """Every numeric flag in range (one line naming it) before any file is read."""
    check_number("--points", args.points, 1, MAX_POINTS)
    check_number("--workers", args.workers, 1, MAX_WORKERS)
    check_number("--samples", args.samples, 1, MAX_SAMPLES)
    check_number("--precision-trials", args.precision_trials, 1, MAX_TRIALS * 100)
    check_number("--seed", args.seed, 0, MAX_SEED)
    check_number("--solve-time", args.solve_time, 0, MAX_SOLVE_TIME_S, low_open=True)
    check_number("--tolerance", args.tolerance, -1e6, 1e6)
    check_number("--max-unroll", args.max_unroll, 0, MAX_UNROLL)


def check_hw(spec: str) -> str | None:
    """The --hw file (None for a preset name), checked as an input: a FIFO or folder is refused unopened."""
    if not Path(spec).suffix and spec in preset_names():
        return None
    if not Path(spec).exists() and not Path(spec).is_symlink():
        raise H3pcError(f"--hw {spec}: no such preset or file (presets: {', '.join(preset_names())})")
    check_input(spec, "--hw")
    return spec


def plan_files(args: argparse.Namespace) -> Outputs:
    """Check every input file and declare every output before any work: a command that fails
    writes nothing, and no output may replace an input or something that is not a regular file."""
    check_input(args.model)
    inputs = {"the model": args.model, "--hw": check_hw(args.hw)}
    for flag, path in (("--placement-in", args.placement_in), ("--calib", args.calib)):
        if path is not None:
            check_input(path, flag)
            inputs[flag] = path
    if args.calib is not None:
        npz_keys(args.calib, "--calib")  # a file that is no .npz at all is refused now, not after stage one
    outs = Outputs(inputs)
    for attr, flag in OUTPUT_FLAGS.items():
        outs.declare(flag, getattr(args, attr))
    return outs


def main_args(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    progress.configure(quiet=args.quiet, verbose=args.verbose, name="h3pc")
    check_flags(args)
    if args.op_stats:
        check_input(args.model)
        return print_op_stats(args.model, args.format)
    from h3pc.frontend.folding import parse_input_shapes, parse_input_values

    shapes = parse_input_shapes(args.input_shape)
    args.input_values = parse_input_values(args.input_value)
    with plan_files(args) as outs:
        if args.emit == "nn" or not (args.output or args.report or args.emit or args.pareto or args.placement_out):
            return import_only(args, shapes, outs)
        return compile_(args, shapes, outs)


def import_only(args: argparse.Namespace, shapes: dict[str, list[int]], outs: Outputs) -> int:
    from h3pc.frontend.importer import import_model

    t0 = time.perf_counter()
    with progress.task(f"import {Path(args.model).name}"):  # the same task as in a compile
        imported = import_model(args.model, shapes, input_values=args.input_values, max_unroll=args.max_unroll)
        imported.module.verify()
    if args.verbose:
        print(f"h3pc: import {time.perf_counter() - t0:.3f}s ({sum(imported.op_counts.values())} ONNX nodes, "
              f"{imported.folded_nodes} folded, {len(imported.weights)} tensors, "
              f"{imported.weights.nbytes / 1e6:.1f} MB)", file=sys.stderr)
    if args.emit == "nn":
        write_text(print_ir(imported.module, args.print_op_generic), outs)
        return 0
    if args.quiet:
        return 0
    fn = imported.func
    nn_counts = Counter(op.name for op in fn.body.block.ops)
    print(f"{Path(args.model).name}: {sum(imported.op_counts.values())} ONNX nodes "
          f"({imported.folded_nodes} folded at compile time) -> {sum(nn_counts.values())} nn ops, "
          f"{imported.weights.nbytes / 1e6:.2f} MB of weights")
    for name, n in sorted(nn_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {name:<22} {n}")
    return 0


def write_text(text: str, outs: Outputs) -> None:
    """IR to --ir-out (committed at once: the only output of an --emit run) or to stdout."""
    if "--ir-out" in outs:
        outs.write("--ir-out", text)
        outs.commit()
    else:
        sys.stdout.write(text)


def compile_(args: argparse.Namespace, shapes: dict[str, list[int]], outs: Outputs) -> int:
    from h3pc.backends import container
    from h3pc.backends.program import to_container
    from h3pc.compiler import compile_model
    from h3pc.quality import compile_quality
    from h3pc.runtime.emulator import estimate
    from h3pc.runtime.report import summary

    stage1 = stage_one_options(args)
    if args.target != "hybrid" or args.mapping == "rule":
        if args.calib:
            raise H3pcError("--calib (stage two) needs --target hybrid and a --mapping other than rule")
        if args.placement_out or args.pareto or args.placement_in:
            raise H3pcError("--placement-in/--placement-out/--pareto need --target hybrid and a --mapping other "
                            "than rule")
    pins = import_pins(args)
    if args.emit == "tiers":
        compiled = compile_model(args.model, args.target, args.hw, shapes, codegen=False, stage1=stage1, **pins)
        compiled.imported.module.verify()
        write_text(print_ir(compiled.imported.module, args.print_op_generic), outs)
        return 0
    compiled = compile_model(args.model, args.target, args.hw, shapes, stage1=stage1, **pins)
    two = compiled.stage1.stage2 if compiled.stage1 is not None else None
    if two is not None and not two.after_quality.passed:  # nothing written: the quality is not met
        raise H3pcError(f"stage two: no remap meets --tolerance {two.after_quality.tolerance:g} "
                        f"({args.metric} loss {two.after_quality.degradation:.4g} after {len(two.steps)} row moves)")
    with progress.phase("estimate", compiled.timings):  # -v: each phase's time as it ends
        report = estimate(compiled.program)
    report["model"] = str(args.model)
    report["target"] = args.target
    with progress.phase("quality", compiled.timings):  # never silent: --calib, the default check, or why not
        quality = compile_quality(compiled, args.check_quality, args.seed)
    report["quality"] = quality.to_json()
    lines: list[str] = []  # printed once every output is in place
    if args.output:
        with progress.phase("write", compiled.timings):
            size = outs.write("-o", container.chunks(to_container(compiled.program)))
        lines.append(f"wrote {args.output} ({size / 1e6:.2f} MB, target {args.target}, "
                     f"hardware {compiled.program.hw.name})")
    stage = compiled.stage1
    if stage is not None:
        report["stage1"] = stage.to_json()
        if args.placement_out:
            outs.write("--placement-out", json.dumps(stage.placement(), indent=1) + "\n")
        if args.pareto:
            outs.write("--pareto", json.dumps(report["stage1"], indent=1) + "\n")
        p = stage.chosen
        lines.append(f"stage one: {stage.options.mapping} over {len(stage.problem.layers)} layers, point "
                     f"'{p.label}' of {len(stage.front)}: predicted {p.latency_s * 1e6:.4g} us, "
                     f"{p.energy_j * 1e6:.4g} uJ" + (f" ({p.solve.status}, {p.solve.wall_s:.2f} s)" if p.solve else ""))
        if stage.stage2 is not None:
            two = stage.stage2
            lines.append(f"stage two: before {two.before_quality.line()}")
            lines.append(f"stage two: after {len(two.steps)} row moves"
                         f"{' and re-optimisation' if two.reoptimised else ''}: {two.after_quality.line()}; "
                         f"{two.after.latency_s * 1e6:.4g} us, {two.after.energy_j * 1e6:.4g} uJ")
        if stage.precision is not None:
            pr = stage.precision
            lines.append(f"stage two: precision refinement lowered {sum(len(b) for b in pr.bits.values())} bit "
                         f"widths over {len(pr.bits)} layers in {pr.trials} trials: energy "
                         f"{pr.before['energy_j'] * 1e6:.4g} -> {pr.after['energy_j'] * 1e6:.4g} uJ "
                         f"({pr.energy_saved:.1%} saved), latency {pr.before['latency_s'] * 1e6:.4g} -> "
                         f"{pr.after['latency_s'] * 1e6:.4g} us; {pr.quality.line()}")
    if args.report:
        outs.write("--report", json.dumps(report, indent=1, sort_keys=True) + "\n")
    outs.commit()  # every output at once, after every check and every computation
    if args.quiet:
        return 0
    for line in lines:
        print(line)
    if args.verbose:  # the phases were shown as they ended; their sum closes the list
        print(f"h3pc: total {sum(compiled.timings.values()):.3f}s", file=sys.stderr)
    print(summary(report))
    for line in quality.lines():  # after the figures it qualifies
        print(line)
    if args.calib:  # the keys stage two did not read, said as h3pc-run says them for --inputs
        from h3pc.quality import load_calib, program_inputs

        note = load_calib(args.calib, program_inputs(compiled.program)).note(args.calib)
        if note:
            print(f"h3pc: {note}", file=sys.stderr)
    return 0


def import_pins(args: argparse.Namespace) -> dict:
    """compile_model's import arguments beyond the shapes, given only when set (--input-value values,
    a --max-unroll other than the default)."""
    pins: dict = {}
    if args.input_values:
        pins["input_values"] = args.input_values
    if args.max_unroll != DEFAULT_MAX_UNROLL:
        pins["max_unroll"] = args.max_unroll
    return pins


def stage_one_options(args: argparse.Namespace):
    from h3pc.transforms.stage1.mappings import search_options
    from h3pc.transforms.stage1.partition import StageOneOptions

    front = bool(args.pareto) or args.pick != "latency" or args.objective != "latency"
    search = search_options(args.objective, front, args.points, args.samples, args.seed, args.workers,
                            args.solve_time)
    return StageOneOptions(args.mapping, args.pick, search, args.placement_in, calib=args.calib,
                           metric=args.metric, tolerance=args.tolerance, quality_seed=args.seed,
                           precision=args.precision, precision_trials=args.precision_trials,
                           replication=args.pim_replication == "on")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sweep"]:  # `h3pc sweep sweep.yaml -o results/`: design-space sweeps (h3pc/sweep/)
        from h3pc.sweep.cli import main as sweep_main

        return sweep_main(argv[1:])
    return run_main("h3pc", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
