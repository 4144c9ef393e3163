"""Golden programs: what a restructuring must not change.

For every development model and target (hybrid with its default mapping, hybrid with the naive equal
split, the four homogeneous targets) and for stage two on mlp_digits, the sha256 of program.bin, of the
compiler's report and of the emulator's report is recorded in `golden/programs.json`. Moving code
around (the Tier registry, stage one as a pass, named instruction fields) must give the same bytes.

Reports are hashed after dropping what legitimately varies between runs and machines: wall-clock
measurements (`wall_s`, `timings`), the model's path (it lives in a per-user cache folder), and the
figures of the default noisy quality check (floating-point sums whose last bits depend on the BLAS
build; the program and every cost are data-independent and stay in the hash).

A deliberate change of results regenerates the file (`H3PC_UPDATE_GOLDEN=1 pytest
tests/test_golden_programs.py`) in its own commit that says why.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import DEV_MODELS, MODELS, model_path
from h3pc.cli import main as h3pc_main
from h3pc.run import main as run_main

#: H3PC_GOLDEN_FILE points a refactoring's own before/after comparison at a scratch file
GOLDEN = Path(os.environ.get("H3PC_GOLDEN_FILE") or Path(__file__).parent / "golden" / "programs.json")
UPDATE = os.environ.get("H3PC_UPDATE_GOLDEN") == "1"
#: one CP-SAT worker and a small deterministic-time budget: the same split on every run (two workers
#: race), and the deterministic limit comes long before CP-SAT's wall-clock safety net (1 s at least)
#: even on a loaded machine; the split is warm-started, so a small budget always has one
SOLVER = ["--workers", "1", "--solve-time", "0.1"]
TARGETS: dict[str, list[str]] = {
    "hybrid": ["--target", "hybrid", *SOLVER],
    "naive": ["--target", "hybrid", "--mapping", "naive"],
    "photonic": ["--target", "photonic"],
    "sram-pim": ["--target", "sram-pim"],
    "reram-pim": ["--target", "reram-pim"],
    "electronic": ["--target", "electronic"],
}
#: keys whose values are measurements of this run, not results
VOLATILE = {"wall_s", "timings", "model"}


def canonical(obj: Any) -> Any:
    """The report without its run-dependent values (see the module docstring)."""
    if isinstance(obj, dict):
        if obj.get("how") == "default":  # the default quality check: keep what was checked, not its figures
            return {k: obj[k] for k in ("checked", "how", "samples", "seed") if k in obj}
        return {k: canonical(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    return obj


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_digest(path: Path) -> str:
    return digest(json.dumps(canonical(json.loads(path.read_text())), sort_keys=True).encode())


def cases() -> list[tuple[str, str, list[str]]]:
    out = [(m, t, args) for m in DEV_MODELS for t, args in TARGETS.items()]
    out.append(("mlp_digits", "stage2", ["--target", "hybrid", *SOLVER, "--calib", str(MODELS / "mlp_digits.npz"),
                                         "--metric", "top1", "--precision-trials", "8"]))
    return out


def run_case(model: str, args: list[str], out: Path) -> dict[str, str]:
    prog, est, rep = out / "p.bin", out / "estimate.json", out / "report.json"
    assert h3pc_main([str(model_path(model)), "-o", str(prog), "--report", str(est), *args]) == 0
    assert run_main([str(prog), "--inputs", str(MODELS / f"{model}.npz"), "--report", str(rep), "-q",
                     "--seed", "0"]) == 0
    return {"program": digest(prog.read_bytes()), "estimate": report_digest(est), "report": report_digest(rep)}


def _load() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.mark.slow
@pytest.mark.parametrize(("model", "target", "args"), cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_program_unchanged(model: str, target: str, args: list[str], tmp_path: Path) -> None:
    key = f"{model}/{target}"
    got = run_case(model, args, tmp_path)
    if UPDATE:
        golden = _load()
        golden[key] = got
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(dict(sorted(golden.items())), indent=1) + "\n")
        return
    want = _load().get(key)
    assert want is not None, f"no golden entry for {key}: regenerate with H3PC_UPDATE_GOLDEN=1"
    if got != want and "_WALL_LIMIT" in (tmp_path / "estimate.json").read_text():
        # CP-SAT's wall-clock safety net (3x the budget) stopped a solve on a loaded machine before its
        # deterministic limit: that run is not comparable, so it is repeated once
        again = tmp_path / "again"
        again.mkdir()
        got = run_case(model, args, again)
    assert got == want, f"{key}: program or report changed ({', '.join(k for k in got if got[k] != want[k])})"


def test_golden_covers_every_case() -> None:
    """A model added to the corpus gets golden entries too (and a removed one loses them)."""
    assert sorted(_load()) == sorted(f"{m}/{t}" for m, t, _ in cases())
