"""Long steps show progress while they run, on a terminal and in a log, and nothing when quiet.

The long command is stage one's latency-energy front on gpt2_tiny (ten CP-SAT solves); it runs
under a fake terminal (a pty on stderr), with stderr on a pipe, and quietly, at the same time.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import DEV_MODELS, model_path
from h3pc import progress

LONG_MODEL = "gpt2_tiny" if "gpt2_tiny" in DEV_MODELS else DEV_MODELS[-1]


def long_command(tmp, tag: str) -> list[str]:
    return [sys.executable, "-m", "h3pc.cli", str(model_path(LONG_MODEL)), "-o", str(tmp / f"{tag}.bin"),
            "--pareto", str(tmp / f"{tag}.json"), "--solve-time", "8", "--workers", "1"]


class Reader(threading.Thread):
    """Reads a file descriptor to its end, noting when each chunk arrived."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.chunks = fd, []

    def run(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # the pty's other end closed
                return
            if not data:
                return
            self.chunks.append((time.monotonic(), data.decode(errors="replace")))

    def text(self) -> str:
        return "".join(c for _, c in self.chunks)

    def first(self, needle: str) -> float:
        seen = ""
        for t, c in self.chunks:
            seen += c
            if needle in seen:
                return t
        raise AssertionError(f"{needle!r} never arrived in {seen[-2000:]!r}")


def test_progress_appears_before_the_end(tmp_path) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    tty = subprocess.Popen(long_command(tmp_path, "tty"), stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    plain = subprocess.Popen(long_command(tmp_path, "plain"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    quiet = subprocess.Popen([*long_command(tmp_path, "quiet"), "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    on_tty, on_pipe = Reader(master), Reader(plain.stderr.fileno())
    on_tty.start()
    on_pipe.start()
    outs = {}
    for name, p in (("tty", tty), ("plain", plain), ("quiet", quiet)):
        if p is plain:  # its stderr belongs to the reader thread alone (communicate() would take lines from it)
            out, err = p.stdout.read(), b""
            p.wait(timeout=600)
        else:
            out, err = p.communicate(timeout=600)
        outs[name] = (time.monotonic(), out.decode(), err.decode() if err else "", p.returncode)
    on_tty.join(5)
    on_pipe.join(5)
    os.close(master)
    for name, (_, out, _, rc) in outs.items():
        assert rc == 0 and (tmp_path / f"{name}.bin").exists(), name
        assert name == "quiet" or ("stage one:" in out and "wrote" in out), (name, out)
    # a terminal: a live line (tqdm redraws it with \r) that shows before the process ends
    shown = on_tty.first("stage one: cpsat")
    assert redrawn(on_tty.text()) and "solve" in on_tty.text()
    assert shown < outs["tty"][0] - 1.0, "the progress line only appeared at the end"
    # not a terminal: plain lines, the first well before the end, and one when the sweep ends
    first = on_pipe.first("h3pc: stage one: cpsat")
    assert "\r" not in on_pipe.text()
    assert first < outs["plain"][0] - 1.0
    assert "done" in on_pipe.text()
    # --quiet: nothing on stderr (no progress, no CP-SAT log), the program written all the same
    assert outs["quiet"][2] == ""


def test_quick_steps_print_nothing(tmp_path) -> None:
    """Under the 2 s of DELAY_S nothing is shown, even on a terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "h3pc.cli", str(model_path("mlp_digits")), "-o",
                          str(tmp_path / "p.bin"), "--target", "sram-pim"], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    r = Reader(master)
    r.start()
    out, _ = p.communicate(timeout=300)
    r.join(5)
    os.close(master)
    assert p.returncode == 0 and b"wrote" in out
    assert r.text() == ""


@pytest.fixture
def captured(monkeypatch):
    """Progress into a buffer, shown after 50 ms, as if on a log (not a terminal)."""
    buf = io.StringIO()
    monkeypatch.setattr(progress, "DELAY_S", 0.05)
    monkeypatch.setattr(progress, "PLAIN_DELAY_S", 0.05)
    progress.configure(stream=buf, tty=False, name="h3pc")  # a driver run earlier in this process set its own
    yield buf
    progress.configure()


def test_a_failed_task_prints_no_end_line(captured) -> None:
    """The error that ends a task is its last word: no `done` line after a shown task fails."""
    with pytest.raises(ValueError), progress.task("import big.onnx") as t:
        time.sleep(0.2)
        t._tick(time.monotonic())  # shown (as the ticker would)
        raise ValueError("refused")
    text = captured.getvalue()
    assert "import big.onnx" in text and "done" not in text


def test_log_lines_wait_for_their_task_and_quiet_drops_everything(captured) -> None:
    with progress.task("quick") as t:
        t.log("never shown")  # the task ends within DELAY_S
    assert captured.getvalue() == ""
    with progress.task("slow", total=3, unit="trial") as t:
        t.log("trial 1: kept")
        time.sleep(0.3)  # the ticker shows the task (and its kept line) without a step
        assert "h3pc: slow 0/3 trial" in captured.getvalue() and "h3pc: trial 1: kept" in captured.getvalue()
        t.advance(3, note="last")
    assert captured.getvalue().splitlines()[-1].startswith("h3pc: slow 3/3 trial") and "done (last)" in captured.getvalue()
    captured.truncate(0)
    progress.configure(quiet=True, stream=captured, tty=False)
    with progress.task("slow", total=2) as t:
        t.log("hidden")
        time.sleep(0.3)
        t.advance(2)
    with progress.phase("import", {}):
        pass
    assert captured.getvalue() == ""


def test_verbose_phase_timings_appear_as_each_phase_ends(captured) -> None:
    """`-v`: a phase's time is printed when it ends, not with the others at the end."""
    from h3pc.compiler import compile_model

    progress.configure(verbose=True, stream=captured, tty=False)
    seen: dict[str, str] = {}
    compile_model(str(model_path("mlp_digits")), "sram-pim",
                  after_pass=lambda name, _: seen.setdefault(name, captured.getvalue()))
    assert "h3pc: import " in seen["place"]  # already printed when the first pass ends
    assert "h3pc: place " in seen["place"] and "h3pc: lower-tiers " not in seen["place"]
    assert "h3pc: codegen " in captured.getvalue()


def test_stage_two_reports_each_trial_as_it_goes(captured) -> None:
    """Stage two's trials (move or bit widths, metric, latency) are printed during the compile."""
    from h3pc.compiler import compile_model
    from h3pc.transforms.stage1.mappings import SearchOptions
    from h3pc.transforms.stage1.partition import StageOneOptions

    calib = model_path("mlp_digits").with_suffix(".npz")
    seen: dict[str, str] = {}
    c = compile_model(str(model_path("mlp_digits")), "hybrid", stage1=StageOneOptions(
        search=SearchOptions(), calib=str(calib), precision_trials=6),
        after_pass=lambda name, _: seen.setdefault(name, captured.getvalue()))
    log = seen["refine-precision"]  # before the compile returns, so before the driver prints anything
    assert "stage two: start: quality top1" in log
    trials = [line for line in log.splitlines() if "stage two: precision trial" in line]
    assert trials and len(trials) == c.stage1.precision.trials - 1  # the start was measured by the remap
    assert all("top1" in line and " us, " in line for line in trials)


def test_calibration_run_shows_progress_on_a_terminal(tmp_path) -> None:
    """`h3pc-run --calib`: the emulated samples of the fp32 reference and the noisy run show as they go."""
    import numpy as np

    name = "charlm_llama" if "charlm_llama" in DEV_MODELS else LONG_MODEL
    prog = tmp_path / "p.bin"
    subprocess.run([sys.executable, "-m", "h3pc.cli", str(model_path(name)), "-o", str(prog), "--target",
                    "sram-pim", "--quiet"], check=True)
    data = dict(np.load(model_path(name).with_suffix(".npz")))
    calib = tmp_path / "calib.npz"
    np.savez(calib, **{k: np.repeat(v, 96 // len(v) + 1, axis=0)[:96] if k.startswith("eval/") else v
                       for k, v in data.items()})
    code, text = on_a_terminal([sys.executable, "-m", "h3pc.run", str(prog), "--inputs", str(calib), "--calib",
                                str(calib), "--metric", "snr"])
    assert code == 0 and "quality snr" in text, text[-2000:]
    # the samples' live line comes before the results (stdout and stderr share the terminal)
    assert text.index("on 96 samples") < text.index("emulated (") < text.index("quality snr") and redrawn(text)


# -- every long-running command, on a fake terminal ---------------------------------------------------
# H3PC_PROGRESS_DELAY_S=0 shows every task at once, so small models stand in for the long runs: what is
# tested is that the command opens its task and that its line reaches the terminal before the command's
# own last output. stdout and stderr share the pty, so their order on it is the order of the writes.
REPO = Path(__file__).resolve().parents[1]
BIGGEST = max(DEV_MODELS, key=lambda m: model_path(m).stat().st_size)
CALIB = str(model_path("mlp_digits").with_suffix(".npz"))


def redrawn(text: str) -> bool:
    """A carriage return that does not end a line (a pty turns every newline into \\r\\n)."""
    return re.search("\r(?!\n)", text) is not None


def on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on one pty, progress shown at once: (exit code, all it wrote)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "H3PC_PROGRESS_DELAY_S": "0"}
    p = subprocess.Popen(argv, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    r = Reader(master)
    r.start()
    code = p.wait(timeout=600)
    r.join(10)
    os.close(master)
    return code, r.text()


def _program(tmp: Path) -> str:
    prog = tmp / "p.bin"
    subprocess.run([sys.executable, "-m", "h3pc.cli", str(model_path("mlp_digits")), "-o", str(prog), "--quiet",
                    "--mapping", "naive"], check=True)
    return str(prog)


def _dev_folder(tmp: Path) -> str:
    """A folder holding mlp_digits only, for a benchmark that runs over every model of a folder."""
    folder = tmp / "models"
    folder.mkdir()
    for suffix in (".onnx", ".npz"):
        src = model_path("mlp_digits").with_suffix(suffix)
        (folder / src.name).write_bytes(src.read_bytes())
    return str(folder)


H3PC = [sys.executable, "-m", "h3pc.cli"]
# name: (command, its progress label, what it prints once the labelled work is over, its quiet flag)
LONG_COMMANDS = {
    "import": (lambda tmp: [*H3PC, str(model_path(BIGGEST)), "-o", str(tmp / "b.bin"), "--target", "electronic"],
               f"import {BIGGEST}.onnx", "wrote ", "--quiet"),
    "import only": (lambda tmp: [*H3PC, str(model_path(BIGGEST))], f"import {BIGGEST}.onnx", "ONNX nodes", "--quiet"),
    "stage two": (lambda tmp: [*H3PC, str(model_path("mlp_digits")), "-o", str(tmp / "s2.bin"), "--calib", CALIB,
                               "--metric", "top1", "--precision-trials", "4"],
                  "stage two: precision refinement", "wrote ", "--quiet"),
    "calibration run": (lambda tmp: [sys.executable, "-m", "h3pc.run", _program(tmp), "--calib", CALIB],
                        "quality: noisy run on 397 samples", "emulated (", "--quiet"),
    "benchmark": (lambda tmp: [sys.executable, str(REPO / "benchmarks" / "deviation.py"), "--models",
                               _dev_folder(tmp), "--out", str(tmp / "deviation.json")],
                  "deviation: models", "mlp_digits  ", None),
}


@pytest.mark.parametrize("name", list(LONG_COMMANDS))
def test_long_commands_show_progress_before_their_end(name: str, tmp_path: Path) -> None:
    make, label, after, _ = LONG_COMMANDS[name]
    code, text = on_a_terminal(make(tmp_path))
    assert code == 0, text[-2000:]
    assert label in text and after in text, text[-2000:]
    assert text.index(label) < text.rindex(after), "the progress line only appeared at the end"
    assert redrawn(text)  # a live line, redrawn in place


@pytest.mark.parametrize("name", [n for n, c in LONG_COMMANDS.items() if c[3]])
def test_quiet_long_commands_print_no_progress(name: str, tmp_path: Path) -> None:
    """--quiet: no progress at all, even with every task due at once; h3pc prints nothing else either."""
    make, label, _, flag = LONG_COMMANDS[name]
    code, text = on_a_terminal([*make(tmp_path), flag])
    assert code == 0, text[-2000:]
    assert label not in text and not redrawn(text)
    assert text == ""  # nothing but errors, whatever the tool: the figures are in the files it writes
