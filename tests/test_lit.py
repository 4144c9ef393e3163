"""Runs the lit suite (tests/filecheck) so that `pytest` is the one entry point, and lints its CHECKs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FILECHECK_DIR = Path(__file__).parent / "filecheck"
LIT = Path(sys.executable).parent / "lit"
CHECK_WITHOUT_COLON = re.compile(r"//\s*CHECK(-[A-Z]+)?\s+[^:]")


def test_lit_suite() -> None:
    proc = subprocess.run([str(LIT), "-q", "-j", "2", str(FILECHECK_DIR)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_check_line_has_its_colon() -> None:
    bad = []
    for f in FILECHECK_DIR.rglob("*.mlir"):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if CHECK_WITHOUT_COLON.search(line):
                bad.append(f"{f.name}:{n}: {line.strip()}")
    assert not bad, "CHECK lines without a colon check nothing:\n" + "\n".join(bad)


def test_every_dialect_has_roundtrip_and_invalid_tests() -> None:
    from h3pc.dialects import DIALECTS

    for name in DIALECTS:
        folder = FILECHECK_DIR / "dialects" / name
        assert (folder / "ops.mlir").exists(), f"{name}: no ops.mlir round-trip test"
        assert (folder / "invalid.mlir").exists(), f"{name}: no invalid.mlir diagnostics test"


def test_lint_catches_a_missing_colon(tmp_path: Path) -> None:
    assert CHECK_WITHOUT_COLON.search("// CHECK nn.add")
    assert not CHECK_WITHOUT_COLON.search("// CHECK: nn.add")
    assert not CHECK_WITHOUT_COLON.search("// CHECK-NEXT: nn.add")


def test_stock_xdsl_opt_sees_h3pc_dialects_through_the_universe_entry_point() -> None:
    src = FILECHECK_DIR / "dialects" / "pim" / "ops.mlir"
    proc = subprocess.run([str(LIT.parent / "xdsl-opt"), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "pim.mvm" in proc.stdout
