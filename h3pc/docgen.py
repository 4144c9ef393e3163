"""Generate docs from the code's own tables (`make docs`); a test keeps them current.

docs/supported-ops.md from the importer table, docs/instruction-set.md from the ISA table,
docs/cli.md from the command-line parsers, docs/samples.md from the sample-layout and key tables of
h3pc/quality.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from h3pc.frontend.loader import MAX_IR_VERSION, MAX_OPSET, MIN_OPSET
from h3pc.frontend.ops import load_importers

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "supported-ops.md"
ISA_DOC = DOCS / "instruction-set.md"
CLI_DOC = DOCS / "cli.md"


def supported_ops_markdown() -> str:
    table = load_importers()
    lines = [
        "# Supported ONNX ops",
        "",
        "Generated from the importer table (`frontend/registry.py`) by `make docs`; do not edit by hand.",
        "",
        f"Domain `ai.onnx`, opsets {MIN_OPSET} to {MAX_OPSET}, IR versions up to {MAX_IR_VERSION}. "
        f"{len(table)} op types.",
        "",
        "| ONNX op | nn ops | notes |",
        "|---|---|---|",
    ]
    for op in sorted(table):
        e = table[op]
        nn_ops = ", ".join(f"`{n}`" for n in e.nn_ops) or "(none)"
        lines.append(f"| {op} | {nn_ops} | {e.note} |")
    return "\n".join(lines) + "\n"


def instruction_set_markdown() -> str:
    from h3pc.backends.isa import ISA

    lines = [
        "# Instruction set",
        "",
        "Generated from the instruction table (`backends/isa.py`) by `make docs`; do not edit by hand.",
        "The encoder, the decoder and `h3pc-objdump` all read that table.",
        "",
        "Encoding, little-endian: `u16 opcode | u16 word count | word count x u32`. A scalar field is one",
        "word; a list field (`name*`) is a count word followed by its items. Tensor fields index the",
        "`tensors` section; `sym` indexes the `symbols` section (the ONNX node).",
        "",
        "| opcode | mnemonic | tiers | fields | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in ISA:
        lines.append(f"| 0x{spec.code:02x} | {spec.mnemonic} | {', '.join(_streams(spec))} | "
                     f"{', '.join(spec.fields) or '-'} | {spec.doc} |")
    return "\n".join(lines) + "\n"


def _streams(spec) -> list[str]:
    """The streams that may hold an instruction (its scope, backends/isa.py; a tier's own from the registry)."""
    from h3pc.backends import tiers

    if spec.scope == "tier":
        return [t.name for t in tiers.REGISTRY.values() if spec.mnemonic in t.instructions]
    names = [t.name for t in tiers.REGISTRY.values()]
    return {"engines": [*names, "dma"], "tiers": names, "dma": ["dma"]}[spec.scope]


def shown_default(a) -> str:
    """What happens without the flag: a switch (store_true / store_false / --x/--no-x) is `off` or
    `on` as a flag, whatever its destination holds (`--no-precision` stores True in `precision` by
    default, but the flag itself is off); a value is shown as given, nothing when there is none."""
    import argparse

    if isinstance(a, argparse.BooleanOptionalAction):
        return "on" if a.default else "off"
    if isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return "off"
    return "" if a.default in (None, [], argparse.SUPPRESS) else f"`{a.default}`"


def cli_markdown() -> str:
    """Every flag of every tool, from the argparse parsers the tools themselves use."""
    import argparse

    from h3pc import cli, objdump, run
    from h3pc.sweep import cli as sweep

    lines = ["# Command-line reference", "",
             "Generated from the tools' own argument parsers by `make docs`; do not edit by hand.", ""]
    for mod in (cli, run, objdump, sweep):
        parser = mod.build_parser()
        lines += [f"## {parser.prog}", "", parser.description or "", ""]
        for group in parser._action_groups:
            rows = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
            if not rows:
                continue
            lines += [f"**{group.title}**", "", "| flag | default | meaning |", "|---|---|---|"]
            for a in rows:
                name = ", ".join(f"`{o}`" for o in a.option_strings) or f"`{a.dest}`"
                if a.choices:
                    name += " " + "\\|".join(str(c) for c in a.choices)
                elif a.metavar and a.option_strings:
                    name += " " + str(a.metavar).replace("|", "\\|")
                default = shown_default(a)
                lines.append(f"| {name} | {default} | {(a.help or '').replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines)


def samples_markdown() -> str:
    """The one sample layout of `--inputs` and `--calib`, the keys read and the default quality
    check's inputs, from h3pc/quality.py's own tables."""
    from h3pc import quality

    lines = ["# Samples: `--inputs`, `--calib` and the default quality check", "",
             "Generated from `h3pc/quality.py` by `make docs`; do not edit by hand. Both `h3pc-run --inputs` and "
             "`--calib` (of `h3pc` and `h3pc-run`) read an `.npz` through `quality.sample_layout`.", "",
             "## Layout", "", quality.LAYOUT_DOC, "",
             "## Keys of the inputs", "",
             "Tried in this order for every graph input `NAME`; a key without `NAME` only for a model with "
             "a single input.", "", "| use | keys, in order |", "|---|---|"]
    uses = {"inputs": "`h3pc-run --inputs`", "calib": "`--calib`"}
    for use, keys in quality.INPUT_KEYS.items():
        lines.append(f"| {uses[use]} | {', '.join('`' + k.format(name='NAME') + '`' for k in keys)} |")
    lines += ["", "## Label keys", "",
              "The first of these present (and not read as an input) holds the labels; `--metric` says what "
              "they mean.", "", "| key | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in quality.LABEL_KEYS.items()]
    doc = quality.CHECK_DOC.replace("CHECK_SAMPLES", str(quality.CHECK_SAMPLES)).replace(
        "DEFAULT_INT_BOUND", str(quality.DEFAULT_INT_BOUND))
    lines += ["", "## The default quality check", "", doc, ""]
    return "\n".join(lines)


SAMPLES_DOC = DOCS / "samples.md"
#: generated file -> its generator
GENERATED = {DOC: supported_ops_markdown, ISA_DOC: instruction_set_markdown, CLI_DOC: cli_markdown,
             SAMPLES_DOC: samples_markdown}


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    for path, make in GENERATED.items():
        path.write_text(make())
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
