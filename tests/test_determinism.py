"""The same model, options and seed give a byte-identical program.bin, the same estimate, and the same
emulator outputs and report, within one process and across processes with different hash seeds (a set
or dict iterated in hash order, a wall-clock limit or an unseeded generator would break this).

Reports may differ only in wall-clock measurements (`wall_s`: how long the solver ran).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import MODELS, model_path
from h3pc.cli import main as h3pc_main
from h3pc.run import main as run_main

#: (model, compile options): a CNN and a transformer split over the tiers by stage one's default
#: mapping (cpsat; its budget is CP-SAT deterministic time, so it repeats), one seeded search and one
#: homogeneous target. gpt2_tiny gets a smaller budget than the default 2 s (about 5 s of wall time
#: on this model) so each compile stays near one second.
CONFIGS = {
    "cnn-hybrid-cpsat": ("cnn_digits", ["--target", "hybrid"]),
    "cnn-hybrid-random": ("cnn_digits", ["--target", "hybrid", "--mapping", "random", "--seed", "3", "--samples", "20"]),
    # one CP-SAT worker: its deterministic time repeats; two can stop at the wall-clock guard under load
    "gpt2-hybrid-cpsat": ("gpt2_tiny", ["--target", "hybrid", "--solve-time", "0.5", "--workers", "1"]),
    "gpt2-photonic": ("gpt2_tiny", ["--target", "photonic"]),
}
RUN_SEED = ["--seed", "7"]  # the noisy emulator (the default: quantisation and each tier's noise)
WALL_CLOCK = {"wall_s"}


def without_wall_clock(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: without_wall_clock(v) for k, v in obj.items() if k not in WALL_CLOCK}
    if isinstance(obj, list):
        return [without_wall_clock(v) for v in obj]
    return obj


def inputs_for(model: str) -> Path:
    """The model's reference inputs (the corpus npz: in/ keys)."""
    return MODELS / f"{model}.npz"


def compile_args(model: str, opts: list[str], out: Path) -> list[str]:
    return [str(model_path(model)), "-o", str(out / "p.bin"), "--report", str(out / "estimate.json"), *opts]


def run_args(model: str, program: Path, out: Path, seed: list[str]) -> list[str]:
    return [str(program), "--inputs", str(inputs_for(model)), "--outputs", str(out / "y.npz"),
            "--report", str(out / "r.json"), "-q", *seed]


def results(out: Path) -> tuple[bytes, Any]:
    return (out / "p.bin").read_bytes(), without_wall_clock(json.loads((out / "estimate.json").read_text()))


def run_results(out: Path) -> tuple[dict[str, np.ndarray], Any]:
    with np.load(out / "y.npz") as z:
        outputs = {k: z[k] for k in z.files}
    return outputs, json.loads((out / "r.json").read_text())


def same_outputs(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


def fresh(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    return d


def cli(module: str, argv: list[str], hash_seed: int) -> None:
    """One tool run in its own interpreter with the given PYTHONHASHSEED."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "H3PC_DEBUG")}
    env["PYTHONHASHSEED"] = str(hash_seed)
    proc = subprocess.run([sys.executable, "-m", module, *argv], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Every config compiled twice in this process (two output folders each)."""
    done = {}
    for name, (model, opts) in CONFIGS.items():
        folders = tmp_path_factory.mktemp(f"{name}-a"), tmp_path_factory.mktemp(f"{name}-b")
        for out in folders:
            assert h3pc_main(compile_args(model, opts, out)) == 0
        done[name] = folders
    return done


@pytest.mark.parametrize("name", list(CONFIGS))
def test_within_one_process(name: str, in_process, tmp_path: Path, capsys) -> None:
    model, _ = CONFIGS[name]
    a, b = in_process[name]
    (bin_a, est_a), (bin_b, est_b) = results(a), results(b)
    assert bin_a == bin_b, "program.bin differs between two compiles in one process"
    assert est_a == est_b, "the estimate report differs between two compiles in one process"
    runs = []
    for i in range(2):
        out = fresh(tmp_path, f"run{i}")
        assert run_main(run_args(model, a / "p.bin", out, RUN_SEED)) == 0
        runs.append(run_results(out))
    assert same_outputs(runs[0][0], runs[1][0]), "the noisy emulator's outputs differ for the same --seed"
    assert runs[0][1] == runs[1][1], "the emulator report differs for the same --seed"
    other = fresh(tmp_path, "other-seed")
    assert run_main(run_args(model, a / "p.bin", other, ["--seed", "8"])) == 0
    assert not same_outputs(runs[0][0], run_results(other)[0]), "the run is not noisy: this test would prove nothing"
    capsys.readouterr()


@pytest.mark.parametrize("name", ["cnn-hybrid-cpsat", "gpt2-hybrid-cpsat"])
def test_across_processes(name: str, in_process, tmp_path: Path) -> None:
    """PYTHONHASHSEED 1 and 2: the same bytes as each other and as the in-process compile."""
    model, opts = CONFIGS[name]
    compiled, ran = [], []
    for seed in (1, 2):
        out = fresh(tmp_path, f"hash{seed}")
        cli("h3pc.cli", compile_args(model, opts, out), seed)
        compiled.append(results(out))
        cli("h3pc.run", run_args(model, out / "p.bin", out, RUN_SEED), seed)
        ran.append(run_results(out))
    reference = results(in_process[name][0])
    assert compiled[0][0] == compiled[1][0] == reference[0], "program.bin differs between processes"
    assert compiled[0][1] == compiled[1][1] == reference[1], "the estimate report differs between processes"
    assert same_outputs(ran[0][0], ran[1][0]), "emulator outputs differ between processes"
    assert ran[0][1] == ran[1][1], "the emulator report differs between processes"
