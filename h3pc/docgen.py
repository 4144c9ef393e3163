"""Generate docs/supported-ops.md from the importer table (`make docs`); a test keeps it current."""

from __future__ import annotations

import sys
from pathlib import Path

from h3pc.frontend.loader import MAX_IR_VERSION, MAX_OPSET, MIN_OPSET
from h3pc.frontend.registry import load_importers

DOC = Path(__file__).resolve().parents[1] / "docs" / "supported-ops.md"


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


def main() -> int:
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(supported_ops_markdown())
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
