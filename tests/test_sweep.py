"""`h3pc sweep`: the sweep file is validated before anything runs; points run the real pipeline into
a resumable store; the local engine and Ray give the same rows; a killed sweep resumes without
recomputing what it had finished."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import model_path
from h3pc.sweep.cli import main as sweep_main
from h3pc.sweep.point import TIME_COLUMNS
from h3pc.sweep.report import read_table
from h3pc.sweep.spec import load_spec

#: 2 models x 3 hardware points x 2 mappings, a short (deterministic) solver budget
SMALL = f"""
models:
  - {model_path("mlp_digits")}
  - {model_path("cnn_digits")}
hardware: h3pimap
axes:
  photonic.cores_per_tile: [1, 2, 4]
mappings: [hybrid/cpsat, hybrid/naive]
solver: {{solve_time: 0.5}}
"""


def write(tmp: Path, text: str, name: str = "sweep.yaml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def strip(rows: list[dict]) -> list[dict]:
    """Rows without the time columns (the only ones that may differ between runs)."""
    return [{k: v for k, v in r.items() if k not in TIME_COLUMNS} for r in rows]


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = sweep_main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def local_small(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The small sweep on 2 local workers: (results folder, its table)."""
    tmp = tmp_path_factory.mktemp("local")
    spec = write(tmp, SMALL)
    assert sweep_main([str(spec), "-o", str(tmp / "out"), "--jobs", "2", "--quiet"]) == 0
    return tmp / "out", read_table(tmp / "out" / "sweep.parquet")


# -- the sweep file --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("models: [m.onnx]\naxes: {photonic.cores_per_tyle: [1, 2]}\n",
     "axes.photonic.cores_per_tyle: unknown hardware key 'cores_per_tyle' (photonic has: tiles, cores_per_tile"),
    ("models: [m.onnx]\naxes: {photonics.tiles: [1]}\n", "axes.photonics.tiles: unknown hardware key 'photonics'"),
    ("models: [m.onnx]\naxes: {photonic: [1]}\n", "axes.photonic: a section, not a key"),
    ("models: [m.onnx]\naxes: {photonic.cores_per_tile: [2, 0]}\n",
     "axes.photonic.cores_per_tile[1]: photonic.cores_per_tile: 0 must be > 0"),
    ("models: [m.onnx]\naxes: {sram_pim.adc_bits: [8, 17]}\n",
     "axes.sram_pim.adc_bits[1]: sram_pim.adc_bits: 17 must be <= 16"),
    ("models: [m.onnx]\naxes: {reram_pim.read_noise: [yes, 3]}\n",
     "axes.reram_pim.read_noise[1]: reram_pim.read_noise: expected true or false, got 3"),
    ("models: [m.onnx]\naxes: {sram_pim.cell_bits: [1, 3]}\n",
     "axes.sram_pim.cell_bits[1]: sram_pim.weight_bits: 8 is not a multiple of cell_bits 3"),
    ("models: [m.onnx]\naxes: {photonic.tiles: [1, 1]}\n", "axes.photonic.tiles[1]: 1 is listed twice"),
    ("models: [m.onnx]\nmappings: [cpsat, greedy]\n", "mappings[1]: unknown mapping 'greedy'"),
    ("models: [m.onnx]\nobjectives: [speed]\n", "objectives[0]: unknown objective 'speed'"),
    ("models: [m.onnx]\nmodel: x\n", "model: unknown key"),
    ("models: [nosuch.onnx]\n", "models[0].path: "),
    ("models: [m.onnx]\nhardware: nosuch\n", "hardware: nosuch: no such preset or file"),
    ("models: [m.onnx]\nquality: {metric: bleu}\n", "quality.metric: unknown metric 'bleu'"),
    ("models: [m.onnx]\nsolver: {solve_time: -1}\n", "solver.solve_time: -1 must be > 0"),
    ("models: [m.onnx]\naxes: {photonic.tiles: [1, 2], reram_pim.tiles: [1]}\ngrid: zip\n",
     "grid: zip needs axes of one length"),
    ("models: [m.onnx\naxes: {\n", "not valid YAML at line"),
    ("- just\n- a list\n", "expected a mapping with keys models"),
])
def test_invalid_sweep_files_are_one_line_errors_naming_file_and_key(tmp_path, capsys, text, message) -> None:
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = write(tmp_path, text)
    code, out, err = run([str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"h3pc sweep: error: {spec}: "), err
    assert message in err, err
    assert not (tmp_path / "out").exists()  # reported before anything ran


def test_quality_without_calibration_samples_is_reported_up_front(tmp_path, capsys) -> None:
    np.savez(tmp_path / "m.npz", other=np.zeros((3, 64), np.float32))
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = write(tmp_path, "models: [m.onnx]\nquality: {metric: top1}\n")
    code, _, err = run([str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 1 and "models[0]: " in err and "has no calibration samples for input 'x'" in err


def test_a_calibration_file_that_is_not_an_npz_is_one_line(tmp_path, capsys) -> None:
    np.save(tmp_path / "calib.npy", np.zeros((3, 64), np.float32))
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = write(tmp_path, "models: [m.onnx]\nquality: {metric: top1, calib: calib.npy}\n")
    code, _, err = run([str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 1 and err.count("\n") == 1 and "not a readable .npz file" in err, err


@pytest.mark.parametrize("grid", ["product", "zip"])
def test_no_axes_is_the_base_point_in_either_grid(tmp_path, grid) -> None:
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = load_spec(write(tmp_path, f"models: [m.onnx]\ngrid: {grid}\n"))
    assert [p.id for p in spec.points] == ["hw00"] and spec.points[0].values == {}


def test_spec_expands_axes_through_the_schema(tmp_path) -> None:
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = load_spec(write(tmp_path, "models: [m.onnx]\naxes:\n  photonic.freq_mhz: [1000, 2000]\n"
                                     "  memory.buffer_bytes: [1048576, 2097152, 4194304]\n"
                                     "mappings: [cpsat, naive, sram-pim]\nobjectives: [latency, energy]\n"))
    assert len(spec.points) == 6 and len({p.digest for p in spec.points}) == 6
    assert spec.axes["photonic.freq_mhz"] == [1000.0, 2000.0]  # normalised by the schema (a float key)
    assert spec.points[5].hw["memory"]["buffer_bytes"] == 4194304 and spec.points[5].id == "hw05"
    # cpsat runs per objective; naive and the homogeneous target do not depend on it
    tasks = spec.tasks()
    assert len(tasks) == 6 * (2 + 1 + 1) and len({t.key for t in tasks}) == len(tasks)
    assert {(t.choice.label, t.objective) for t in tasks} == {
        ("hybrid/cpsat", "latency"), ("hybrid/cpsat", "energy"), ("hybrid/naive", None), ("sram-pim", None)}
    # keys depend on the model's bytes, not its path; relative paths resolve against the sweep file
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    other = load_spec(write(tmp_path / "sub", "models: [m.onnx]\naxes:\n  photonic.freq_mhz: [1000, 2000]\n"
                                              "  memory.buffer_bytes: [1048576, 2097152, 4194304]\n"
                                              "mappings: [cpsat, naive, sram-pim]\nobjectives: [latency, energy]\n"))
    assert [t.key for t in other.tasks()] == [t.key for t in tasks]
    assert other.models[0].path == tmp_path / "sub" / "m.onnx"


# -- running ---------------------------------------------------------------------------------------
def test_local_sweep_writes_table_plots_and_summary(local_small) -> None:
    out, rows = local_small
    for name in ("sweep.parquet", "sweep.csv", "pareto.png", "sensitivity.png", "summary.md", "spec.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(rows) == 12 and all(r["status"] == "ok" for r in rows), [r["reason"] for r in rows]
    assert [(r["model"], r["hw_id"], r["mapping"]) for r in rows[:4]] == [
        ("mlp_digits", "hw00", "hybrid/cpsat"), ("mlp_digits", "hw00", "hybrid/naive"),
        ("mlp_digits", "hw01", "hybrid/cpsat"), ("mlp_digits", "hw01", "hybrid/naive")]
    assert [r["photonic.cores_per_tile"] for r in rows[:6]] == [1, 1, 2, 2, 4, 4]
    for r in rows:
        assert r["latency_s"] > 0 and r["energy_j"] > 0 and r["edp_js"] == pytest.approx(r["latency_s"] * r["energy_j"])
        assert r["compile_s"] > 0 and r["wall_s"] >= r["compile_s"]
        assert r["area_mm2"] is None  # not modelled
    cpsat = [r for r in rows if r["mapping"] == "hybrid/cpsat"]
    assert all(r["solver_status"] in ("OPTIMAL", "FEASIBLE") and r["objective"] == "latency" for r in cpsat)
    # the table matches the emulator-facing cost model of stage one (same program, same schedule)
    for r in cpsat:
        assert r["latency_s"] == pytest.approx(r["predicted_latency_s"], rel=0.05)
    # CSV beside it: same rows, same columns
    csv_lines = (out / "sweep.csv").read_text().splitlines()
    assert len(csv_lines) == 13 and csv_lines[0].split(",")[:6] == ["key", "model", "hw_id", "hw_point", "hw_digest",
                                                                     "photonic.cores_per_tile"]
    summary = (out / "summary.md").read_text()
    assert "All 12 points succeeded." in summary
    assert "| mlp_digits | latency | hw" in summary and "| cnn_digits | latency | hw" in summary
    assert "| photonic.cores_per_tile | 1, 2, 4 |" in summary
    # one JSON per point, named by its key
    assert sorted(p.stem for p in (out / "points").glob("*.json")) == sorted(r["key"] for r in rows)


def test_rows_do_not_depend_on_the_number_of_jobs(local_small, tmp_path, capsys) -> None:
    _, rows2 = local_small
    spec = write(tmp_path, SMALL)
    code, out, err = run([str(spec), "-o", str(tmp_path / "out"), "--jobs", "1"], capsys)
    assert code == 0
    assert "12 points, 0 already in" in err
    wall = float(re.search(r" in ([0-9.]+) s ", out).group(1))
    from h3pc import progress

    if wall > progress.PLAIN_DELAY_S + 1:  # a sweep past the log's progress delay says how it went and ended
        assert "h3pc sweep: points 12/12 point, " in err and " done (0 failed, 0 running, done)" in err
    assert strip(read_table(tmp_path / "out" / "sweep.parquet")) == strip(rows2)


def test_a_finished_sweep_runs_nothing_again(local_small, capsys) -> None:
    out, rows = local_small
    stamps = {p: p.stat().st_mtime_ns for p in (out / "points").glob("*.json")}
    spec = out.parent / "sweep.yaml"
    code, stdout, err = run([str(spec), "-o", str(out), "--jobs", "2"], capsys)
    assert code == 0 and "12 points, 12 already in" in err and "(0 run now)" in stdout
    assert {p: p.stat().st_mtime_ns for p in (out / "points").glob("*.json")} == stamps
    assert strip(read_table(out / "sweep.parquet")) == strip(rows)


def test_failing_points_are_rows_with_their_reason(tmp_path, capsys) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("StringNormalizer", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])])
    model = helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(model, tmp_path / "odd.onnx")
    (tmp_path / "mlp.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    (tmp_path / "cnn.onnx").write_bytes(model_path("cnn_digits").read_bytes())
    spec = write(tmp_path, "models: [odd.onnx, mlp.onnx, cnn.onnx]\n"
                           "axes: {reram_pim.crossbars_per_tile: [1, 64], reram_pim.tiles: [1]}\n"
                           "mappings: [naive, reram-pim]\n")
    code, out, err = run([str(spec), "-o", str(tmp_path / "out"), "--jobs", "2", "-q"], capsys)
    assert code == 0, err  # the sweep completed, some points failed
    rows = read_table(tmp_path / "out" / "sweep.parquet")
    by = {(r["model"], r["hw_id"], r["mapping"]): r for r in rows}
    odd = by[("odd", "hw00", "reram-pim")]
    assert odd["status"] == "unsupported" and "odd: 1 unsupported node(s)" in odd["reason"]
    assert "StringNormalizer" in odd["reason"] and "/tmp" not in odd["reason"]  # names the model, not a worker's file
    full = by[("cnn", "hw00", "reram-pim")]  # one crossbar on the tier that must hold every weight
    assert full["status"] == "unsupported" and "reram_pim has 1" in full["reason"]
    assert by[("cnn", "hw01", "reram-pim")]["status"] == "ok" and by[("mlp", "hw00", "hybrid/naive")]["status"] == "ok"
    assert all(r["latency_s"] is None and r["reason"] for r in rows if r["status"] != "ok")
    summary = (tmp_path / "out" / "summary.md").read_text()
    failed = sum(r["status"] != "ok" for r in rows)
    assert f"**{failed} of {len(rows)} points failed**" in summary and "The sweep itself completed." in summary
    assert f"{failed} failed (see summary.md)" in out
    # a point over its time limit: a row, and --retry-failed runs it again (with the new limit)
    spec = write(tmp_path, "models: [mlp.onnx]\nmappings: [cpsat]\n", "slow.yaml")
    code, out, err = run([str(spec), "-o", str(tmp_path / "slow"), "--point-timeout", "0.01", "-q"], capsys)
    assert code == 0, err
    (row,) = read_table(tmp_path / "slow" / "sweep.parquet")
    assert row["status"] == "timeout" and row["reason"] == "point time limit of 0.01 s reached"
    code, out, err = run([str(spec), "-o", str(tmp_path / "slow"), "-q"], capsys)
    assert code == 0 and "(0 run now, 1 failed" in out  # stored rows are final...
    code, out, err = run([str(spec), "-o", str(tmp_path / "slow"), "--retry-failed", "-q"], capsys)
    assert code == 0 and "(1 run now)" in out  # ...but for the ones the machine made fail, when asked
    assert read_table(tmp_path / "slow" / "sweep.parquet")[0]["status"] == "ok"


def test_quality_points_emulate_and_report_the_metric(tmp_path, capsys) -> None:
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    (tmp_path / "m.npz").write_bytes(model_path("mlp_digits").with_suffix(".npz").read_bytes())
    spec = write(tmp_path, "models: [m.onnx]\nmappings: [hybrid/cpsat, photonic]\nsolver: {solve_time: 0.5}\n"
                           "quality: {metric: top1, samples: 24, precision: false}\n")
    code, _, err = run([str(spec), "-o", str(tmp_path / "out"), "--jobs", "2", "-q"], capsys)
    assert code == 0, err
    rows = read_table(tmp_path / "out" / "sweep.parquet")
    assert [r["mapping"] for r in rows] == ["hybrid/cpsat", "photonic"]
    for r in rows:
        assert r["quality_metric"] == "top1" and 0 <= r["quality_value"] <= 1 and r["emulate_s"] > 0
        assert r["status"] == ("ok" if r["quality_passed"] else "quality")
    assert rows[0]["stage2_moves"] is not None and rows[1]["stage2_moves"] is None  # stage two: hybrid only


# -- engines ---------------------------------------------------------------------------------------
def test_ray_gives_the_same_rows_as_the_local_engine(local_small, tmp_path, capsys) -> None:
    """A local Ray head on loopback (2 CPUs), the same 2 x 3 x 2 sweep: the same rows."""
    pytest.importorskip("ray")
    _, local_rows = local_small
    spec = write(tmp_path, SMALL)
    code, out, err = run([str(spec), "-o", str(tmp_path / "out"), "--ray", "auto", "--jobs", "2"], capsys)
    assert code == 0, err
    assert "to run on a local Ray cluster" in err
    assert strip(read_table(tmp_path / "out" / "sweep.parquet")) == strip(local_rows)


def test_ray_cluster_address(tmp_path, capsys) -> None:
    """`ray start --head` on loopback as a separate process, the sweep connects by its address."""
    pytest.importorskip("ray")
    ray_bin = Path(sys.executable).parent / "ray"
    port = 20000 + os.getpid() % 20000
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen([str(ray_bin), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                             "--port", str(port), "--num-cpus", "2", "--include-dashboard=false",
                             "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
        spec = write(tmp_path, "models: [m.onnx]\naxes: {reram_pim.tiles: [50, 100]}\nmappings: [naive, sram-pim]\n")
        local = tmp_path / "local"
        assert sweep_main([str(spec), "-o", str(local), "--jobs", "2", "-q"]) == 0
        t0 = time.monotonic()
        while True:  # the head takes a few seconds to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() - t0 < 60, "ray start --head did not come up"
                time.sleep(0.2)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        try:
            code, _, err = run([str(spec), "-o", str(tmp_path / "ray_out"), "--ray", f"127.0.0.1:{port}", "-q"], capsys)
        finally:
            del os.environ["RAY_AUTH_MODE"]
        assert code == 0, err
        assert strip(read_table(tmp_path / "ray_out" / "sweep.parquet")) == strip(read_table(local / "sweep.parquet"))
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)  # the head's helpers (GCS, raylet) are in its group
        except ProcessLookupError:
            pass
        head.wait(10)


def test_killed_sweep_resumes_without_recomputing(local_small, tmp_path, capsys) -> None:
    """SIGKILL the sweep after some points are stored; the resumed sweep leaves those files as they
    were (same inode, mtime and content), runs only the rest, and ends with the uninterrupted table."""
    _, uninterrupted = local_small
    spec = write(tmp_path, SMALL)
    out = tmp_path / "out"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "h3pc.sweep.cli", str(spec), "-o", str(out), "--jobs", "1", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(tmp)})
    points = out / "points"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(points.glob("*.json"))) < 3:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert list(tmp.iterdir()) == [] and list(out.glob(".scratch-*"))  # a SIGKILL leaves its scratch here
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in points.glob("*.json")}
    assert 3 <= len(before) < 12 and not (out / "sweep.parquet").exists()
    code, stdout, err = run([str(spec), "-o", str(out), "--jobs", "2"], capsys)
    assert code == 0, err
    assert f"12 points, {len(before)} already in" in err and f"({12 - len(before)} run now)" in stdout
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in points.glob("*.json")}
    assert len(after) == 12 and all(after[name] == stamp for name, stamp in before.items())
    runs = {json.loads(p.read_text())["run"] for p in points.glob("*.json")}
    assert len(runs) == 2  # the killed run's points and the resumed run's, nothing else
    assert list(out.glob(".scratch-*")) == []  # the killed run's scratch removed by the next
    assert strip(read_table(out / "sweep.parquet")) == strip(uninterrupted)


def test_two_sweeps_cannot_share_a_results_folder(tmp_path) -> None:
    from h3pc.diagnostics import H3pcError
    from h3pc.sweep.store import Store

    with Store(tmp_path / "out"):
        with pytest.raises(H3pcError, match="another sweep is writing to this results folder"):
            Store(tmp_path / "out").open()


def test_an_unreachable_ray_address_is_a_one_line_error(tmp_path, capsys) -> None:
    (tmp_path / "m.onnx").write_bytes(model_path("mlp_digits").read_bytes())
    spec = write(tmp_path, "models: [m.onnx]\nmappings: [naive]\n")
    code, _, err = run([str(spec), "-o", str(tmp_path / "out"), "--ray", "127.0.0.1:1", "-q"], capsys)
    assert code == 1 and err.startswith("h3pc sweep: error: --ray 127.0.0.1:1: no Ray head answers there")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_sweep_leaves_no_temporary_files(tmp_path, sig) -> None:
    """Interrupt the sweep while its workers are busy: it exits 128+signal with one line, its workers'
    temporary folders (under TMPDIR) are gone, the results folder holds no staged file, and the points
    it finished stay stored."""
    spec = write(tmp_path, SMALL)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "h3pc.sweep.cli", str(spec), "-o", str(out), "--jobs", "2", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "points").glob("*.json"))) < 1:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        time.sleep(0.05)
    assert list(out.glob(".scratch-*/h3pc-sweep-*")), "the workers' temporary files are in the results folder"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig and err == f"h3pc sweep: interrupted ({sig.name})\n"
    assert list(tmp.iterdir()) == []
    assert [p.name for p in out.rglob("*.part")] == [] and list((out / "points").glob("*.json"))
    assert list(out.glob(".scratch-*")) == []


def test_sweep_progress_shows_on_a_terminal_before_the_end(tmp_path) -> None:
    """On a terminal the sweep's line (h3pc.progress, tqdm: redrawn with \\r) appears while points run."""
    import pty
    import threading

    spec = write(tmp_path, SMALL)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "h3pc.sweep.cli", str(spec), "-o", str(tmp_path / "out"),
                             "--jobs", "1"], stdout=subprocess.PIPE, stderr=slave, env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    chunks: list[tuple[float, str]] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append((time.monotonic(), data.decode(errors="replace")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=600)
    ended = time.monotonic()
    reader.join(5)
    os.close(master)
    assert proc.returncode == 0 and "12 points (12 run now)" in out.decode()
    seen, shown = "", None
    for when, chunk in chunks:
        seen += chunk
        if shown is None and "\rpoints:" in seen:
            shown = when
    assert shown is not None and "/12 [" in seen and "running" in seen, seen[-500:]
    assert shown < ended - 0.3, "the progress line only appeared at the end"
