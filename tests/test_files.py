"""h3pc/files.py: the one place every tool reads and writes files through (input checks, parsers with
limits, outputs declared up front, staged and committed together), and the drivers' use of it."""

from __future__ import annotations

import io
import json
import os
import stat
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, model_path
from h3pc.cli import main as h3pc_main
from h3pc.diagnostics import H3pcError
from h3pc.files import (MAX_DEPTH, MAX_NODES, Outputs, check_input, parse_json, parse_yaml, read_bytes, read_text,
                        write_file)
from h3pc.npz import npz_keys, read_npz
from h3pc.run import main as run_main


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# -- inputs ------------------------------------------------------------------------------------------------
def test_check_input_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    assert check_input(tmp_path / "f", "--x").st_size == 1
    for path, words in ((tmp_path / "nope", "no such file"), (tmp_path, "is a directory"),
                        (tmp_path / "fifo", "is a FIFO"), ("/dev/zero", "is a character device")):
        with pytest.raises(H3pcError, match=words) as exc:
            check_input(path, "--x")
        assert str(exc.value).startswith(f"--x {path}: ")


def test_read_bytes_refuses_a_file_over_the_limit_without_reading_it(tmp_path: Path) -> None:
    p = tmp_path / "big"
    p.write_bytes(b"a" * 1000)
    assert read_bytes(p, None, 1000) == b"a" * 1000
    with pytest.raises(H3pcError, match="1000 bytes, more than the 999"):
        read_bytes(p, None, 999)
    p.write_bytes(b"\xffabc")
    with pytest.raises(H3pcError, match="not UTF-8 at byte 0"):
        read_text(p)


# -- YAML and JSON ---------------------------------------------------------------------------------------
def test_yaml_keeps_small_aliases_and_merges() -> None:
    data = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n", "f", "test file")
    assert data == {"base": {"x": 1, "y": 2}, "other": {"x": 1, "y": 3}, "list": [{"x": 1, "y": 2}] * 2}


def test_yaml_billion_laughs_is_refused_at_once() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    t = time.perf_counter()
    with pytest.raises(H3pcError, match=f"more than {MAX_NODES} values once aliases are expanded"):
        parse_yaml("\n".join(lines), "f", "test file")
    assert time.perf_counter() - t < 2.0


@pytest.mark.parametrize("text, words", [
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' at line 3 \\(first at line 1\\)"),
    ("a: {b: 1, b: 2}\n", "duplicate key 'b'"),
    ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", f"more than {MAX_DEPTH} levels"),
    ("a: " + "[" * 50_000, "nested too deeply"),
    ("a: &x [*x]\n", "refers to itself"),
    ("a: " + "b" * (2 << 20) + "\n", "more than the 262144 characters"),
    ("a: [unclosed\n", "not valid YAML at line 2"),
])
def test_yaml_limits(text: str, words: str) -> None:
    with pytest.raises(H3pcError, match=words):
        parse_yaml(text, "f", "test file")


def test_json_parses_within_limits() -> None:
    assert parse_json('{"a": [1, 2, {"b": "c,]"}]}', "f", "x") == {"a": [1, 2, {"b": "c,]"}]}
    assert parse_json(b'{"s": "\\"[[["}', "f", "x") == {"s": '"[[['}  # brackets inside strings do not nest


@pytest.mark.parametrize("text, words", [
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH} levels"),
    ("[" + "0," * MAX_NODES + "0]", f"more than {MAX_NODES} values"),
    ('"' + "a" * (2 << 20) + '"', "a string of more than"),
    ("{not json", "Expecting property name"),
    (b"\xff[]", "not UTF-8"),
])
def test_json_limits(text: str | bytes, words: str) -> None:
    with pytest.raises(H3pcError, match=words):
        parse_json(text, "f", "x")


# -- outputs -----------------------------------------------------------------------------------------------
def test_new_output_follows_the_umask_and_existing_keeps_its_mode(tmp_path: Path, umask_027) -> None:
    new, old = tmp_path / "new", tmp_path / "old"
    old.write_text("before")
    old.chmod(0o604)
    outs = Outputs()
    outs.declare("-a", new)
    outs.declare("-b", old)
    outs.write("-a", "A")
    outs.write("-b", [b"B", memoryview(b"b")])
    outs.commit()
    assert (new.read_text(), mode(new)) == ("A", 0o640)  # 0666 & ~027, not mkstemp's 0600
    assert (old.read_text(), mode(old)) == ("Bb", 0o604)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old"]


def test_outputs_are_all_or_none(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    with pytest.raises(H3pcError, match="late"):
        with Outputs() as outs:
            outs.declare("-a", a)
            outs.declare("-b", b)
            outs.write("-a", "new a")
            assert any(p.name.endswith(".part") for p in tmp_path.iterdir())  # staged beside it
            raise H3pcError("a late check fails")
    assert a.read_text() == "old a" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_an_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_text("model")
    (tmp_path / "hard").hardlink_to(model)
    (tmp_path / "soft").symlink_to(model)
    (tmp_path / "sub").mkdir()
    for path in (model, tmp_path / "hard", tmp_path / "soft", tmp_path / "sub" / ".." / "m.onnx"):
        with pytest.raises(H3pcError, match="is also the model, an input of this command"):
            Outputs({"the model": model}).declare("-o", path)
    outs = Outputs()
    outs.declare("-o", tmp_path / "hard")
    with pytest.raises(H3pcError, match="is also the --calib file"):  # inputs added after outputs count too
        outs.add_input("--calib", model)
    assert model.read_text() == "model"


def test_an_input_found_while_working_is_not_overwritten(tmp_path: Path) -> None:
    """A file read after the outputs were declared (a model's external data) is refused at commit."""
    from h3pc.files import begin_command, note_input

    data = tmp_path / "weights.bin"
    data.write_bytes(b"weights")
    begin_command()
    outs = Outputs()
    outs.declare("-o", data)
    outs.write("-o", "program")
    note_input(data, "external data of m.onnx")
    with pytest.raises(H3pcError, match="-o .*weights.bin: is also external data of m.onnx, read by this command"):
        outs.commit()
    assert data.read_bytes() == b"weights" and sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]
    begin_command()  # the next command in this process starts with nothing read


def test_outputs_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    (tmp_path / "a").write_text("a")
    cases = [(tmp_path / "fifo", "is a FIFO"), (tmp_path, "is a directory"), ("/dev/null", "character device"),
             (tmp_path / "dangling", "symbolic link to a missing file"), (tmp_path / "no" / "f", "no such folder")]
    for path, words in cases:
        with pytest.raises(H3pcError, match=words):
            Outputs().declare("-o", path)
    outs = Outputs()
    outs.declare("-o", tmp_path / "a")
    with pytest.raises(H3pcError, match="also given as -o"):
        outs.declare("--report", tmp_path / "." / "a")
    assert not (tmp_path / "missing").exists()


def test_a_read_only_output_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file its owner made read-only is not replaced (root may write anything, so access is faked)."""
    ro = tmp_path / "ro.json"
    ro.write_text("keep")
    ro.chmod(0o444)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if (Path(p) == ro and m & os.W_OK) else real_access(p, m))
    with pytest.raises(H3pcError, match="ro.json: is read-only; refusing to replace it"):
        Outputs().declare("--report", ro)
    assert ro.read_text() == "keep"


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "p.bin"
    target.write_text("old")
    target.chmod(0o644)
    link = tmp_path / "p.bin"
    link.symlink_to(target)
    write_file(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new" and mode(target) == 0o644
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["p.bin"]


# -- the drivers ------------------------------------------------------------------------------------------
def test_h3pc_keeps_permissions_and_writes_through_a_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.bin"
    real.write_text("old")
    real.chmod(0o600)
    (tmp_path / "p.bin").symlink_to(real)
    report = tmp_path / "r.json"
    assert h3pc_main([str(model_path("mlp_digits")), "--mapping", "naive", "-o", str(tmp_path / "p.bin"),
                      "--report", str(report)]) == 0
    assert (tmp_path / "p.bin").is_symlink() and real.read_bytes()[:8] == b"H3PCPROG" and mode(real) == 0o600
    assert json.loads(report.read_text())["target"] == "hybrid"
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'p.bin'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.bin", "r.json", "real.bin"]


def test_h3pc_checks_every_flag_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad last flag is found before the model is even read (a missing model would be named first)."""
    os.mkfifo(tmp_path / "fifo")
    assert h3pc_main([str(tmp_path / "missing.onnx"), "--solve-time", "nan"]) == 1
    assert capsys.readouterr().err == "h3pc: error: --solve-time: nan is not a finite number\n"
    assert h3pc_main([str(model_path("mlp_digits")), "-o", str(tmp_path / "p.bin"), "--report",
                      str(tmp_path / "fifo")]) == 1
    assert "--report" in capsys.readouterr().err and not (tmp_path / "p.bin").exists()


def _inputs(tmp_path: Path, **extra: np.ndarray) -> tuple[Path, Path]:
    prog = tmp_path / "p.bin"
    assert h3pc_main([str(model_path("mlp_digits")), "--mapping", "naive", "-o", str(prog)]) == 0
    ref = np.load(MODELS / "mlp_digits.npz")
    x = tmp_path / "x.npz"
    np.savez(x, **{k[3:]: ref[k] for k in ref.files if k.startswith("in/")}, **extra)
    return prog, x


def test_run_ignores_extra_keys_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog, x = _inputs(tmp_path, labels=np.zeros(1, np.int64), extra=np.ones(2, np.float32))
    capsys.readouterr()
    assert run_main([str(prog), "--inputs", str(x), "--outputs", str(tmp_path / "y.npz")]) == 0
    err = capsys.readouterr().err
    assert f"h3pc-run: note: {x}: ignored extra (neither an input of the program nor a label key)" in err.splitlines()
    assert set(np.load(tmp_path / "y.npz").files)
    assert run_main([str(prog), "--inputs", str(x), "-q", "--outputs", str(tmp_path / "y.npz")]) == 0
    assert capsys.readouterr().err == ""  # --quiet: errors only


def test_run_needs_no_inputs_when_calib_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog, _ = _inputs(tmp_path)
    ref = np.load(MODELS / "mlp_digits.npz")
    calib = tmp_path / "calib.npz"
    np.savez(calib, **{k: ref[k][:4] if ref[k].ndim else ref[k] for k in ref.files if k.startswith("eval/")}
             if any(k.startswith("eval/") for k in ref.files)
             else {k[3:]: np.repeat(ref[k], 4, axis=0) for k in ref.files if k.startswith("in/")})
    capsys.readouterr()
    assert run_main([str(prog), "--calib", str(calib), "-q", "--report", str(tmp_path / "r.json")]) == 0
    assert "quality" in json.loads((tmp_path / "r.json").read_text())
    assert run_main([str(prog)]) == 1
    assert "give --inputs" in capsys.readouterr().err


def test_npz_reads_only_the_members_used(tmp_path: Path) -> None:
    """A member declaring 10^12 elements is refused when read, and never read when not used."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)})
    p = tmp_path / "x.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.npy", header.getvalue() + b"\0" * 64)
        buf = io.BytesIO()
        np.save(buf, np.arange(3, dtype=np.float32))
        z.writestr("x.npy", buf.getvalue())
    assert npz_keys(p) == ["bomb", "x"]
    assert read_npz(p, ["x", "absent"])["x"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(H3pcError, match="'bomb.npy' declares shape"):
        read_npz(p)


def test_error_suggestions_work_when_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each suggestion h3pc and h3pc-run print, followed literally, gets past the error."""
    import yaml

    from h3pc.hardware.schema import PRESETS

    prog, x = _inputs(tmp_path)
    model = str(model_path("mlp_digits"))
    capsys.readouterr()
    # nothing to run: "give --inputs X.npz"
    assert run_main([str(prog)]) == 1 and "give --inputs X.npz" in capsys.readouterr().err
    assert run_main([str(prog), "--inputs", str(x), "-q"]) == 0
    # another crossbar geometry: "recompile with this --hw"
    hw = yaml.safe_load((PRESETS / "h3pimap.yaml").read_text())
    hw["sram_pim"]["crossbar_rows"] = 64
    (tmp_path / "hw.yaml").write_text(yaml.safe_dump(hw))
    hw_flag = ["--hw", str(tmp_path / "hw.yaml")]
    assert run_main([str(prog), "--inputs", str(x), "-q", *hw_flag]) == 1
    assert "recompile with this --hw" in capsys.readouterr().err
    assert h3pc_main([model, "--mapping", "naive", "-q", "-o", str(tmp_path / "p64.bin"), *hw_flag]) == 0
    assert run_main([str(tmp_path / "p64.bin"), "--inputs", str(x), "-q", *hw_flag]) == 0
    # an output that is an input: "choose another output file"
    assert run_main([str(prog), "--inputs", str(x), "--outputs", str(x)]) == 1
    assert "choose another output file" in capsys.readouterr().err
    assert run_main([str(prog), "--inputs", str(x), "--outputs", str(tmp_path / "y.npz"), "-q"]) == 0
    # --calib on the rule mapping: "needs --target hybrid and a --mapping other than rule"
    calib = tmp_path / "calib.npz"
    np.savez(calib, **{k: np.repeat(v, 4, axis=0) for k, v in np.load(x).items()})
    assert h3pc_main([model, "--mapping", "rule", "--calib", str(calib), "--report", str(tmp_path / "r.json")]) == 1
    assert "a --mapping other than rule" in capsys.readouterr().err
    assert h3pc_main([model, "--mapping", "naive", "--no-precision", "-q", "--calib", str(calib), "--report",
                      str(tmp_path / "r.json")]) == 0
    # a command line argparse cannot parse: "(see h3pc-run --help)"
    assert run_main([str(prog), "--seed", "x"]) == 2
    assert capsys.readouterr().err.endswith("(see h3pc-run --help)\n")
    with pytest.raises(SystemExit) as done:
        run_main(["--help"])
    assert done.value.code == 0


def test_npz_header_check_refuses_a_member_before_decompressing_it(tmp_path: Path) -> None:
    """A reader that knows the shape it wants sees each member's declared shape first: a member of 2^28
    zeros (1 GB, a 1 MB file) of the wrong shape is refused without its gigabyte being allocated."""
    import resource

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (1 << 28,)})
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w", force_zip64=True) as f:
        f.write(header.getvalue())
        for _ in range(64):
            f.write(bytes(1 << 24))
    assert path.stat().st_size < 2 << 20
    seen: list[tuple[str, tuple[int, ...], str]] = []

    def want_1x64(key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        seen.append((key, shape, dtype.str))
        if shape != (1, 64):
            raise H3pcError(f"{path}: '{key}' has shape {list(shape)}; input 'x' takes [1, 64]")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(H3pcError, match=r"'x' has shape \[268435456\]"):
        read_npz(path, ["x"], "--inputs", check=want_1x64)
    assert seen == [("x", (1 << 28,), "<f4")]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 << 10  # KB: far from 1 GB
    np.savez(tmp_path / "ok.npz", x=np.ones((1, 64), np.float32))
    assert read_npz(tmp_path / "ok.npz", None, check=want_1x64)["x"].shape == (1, 64)


def test_opt_reads_stdin_within_the_limit() -> None:
    """`h3pc-opt < /dev/zero` is refused at MAX_IR_BYTES in one line (xdsl-opt read stdin to the end:
    memory grew until the process was killed); IR on stdin still works."""
    import resource
    import subprocess
    import sys

    from h3pc.opt import MAX_IR_BYTES

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    opt = [sys.executable, "-c", "import sys; from h3pc.opt import main; sys.exit(main())"]
    with open("/dev/zero", "rb") as zero:
        res = subprocess.run(opt, stdin=zero, capture_output=True, text=True, timeout=60, preexec_fn=cap)
    assert res.returncode == 1
    assert res.stderr == f"h3pc-opt: error: <stdin>: more than the {MAX_IR_BYTES} bytes supported\n"
    res = subprocess.run(opt, input="builtin.module {\n}\n", capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("builtin.module")


def test_the_limits_table_of_docs_files_md_is_the_codes() -> None:
    """docs/files.md lists every limit with the constant that defines it: each row's value is the
    constant's, and every MAX_ constant of the file layer, the sweep spec and h3pc's flags has a row."""
    import importlib
    import inspect
    import re

    text = (Path(__file__).parent.parent / "docs" / "files.md").read_text()
    rows = re.findall(r"^\| `(h3pc(?:\.\w+)+)\.([A-Z_]+)` \| ([\d.]+) \|", text, re.M)
    assert len(rows) >= 15
    documented = set()
    for module, name, value in rows:
        actual = getattr(importlib.import_module(module), name)
        assert float(value) == actual and ("." in value) == isinstance(actual, float), (module, name, value, actual)
        documented.add(f"{module}.{name}")
    for module in ("h3pc.files", "h3pc.sweep.spec", "h3pc.cli", "h3pc.opt", "h3pc.dialects.types",
                   "h3pc.diagnostics", "h3pc.hardware.schema", "h3pc.frontend.folding"):
        source = inspect.getsource(importlib.import_module(module))  # defined there, not imported
        names = re.findall(r"^(MAX_[A-Z_]+) = ", source, re.M)
        assert {f"{module}.{n}" for n in names} <= documented, module


def test_a_long_output_name_is_staged_under_a_legal_name(tmp_path: Path) -> None:
    """An output name of 250 bytes is legal, and so must be its staged name (it was `.NAME.XXXXXXXX.part`,
    15 bytes longer: refused after the whole compile); a name past the limit is refused when declared."""
    name = "p" * 250
    outs = Outputs()
    outs.declare("-o", tmp_path / name)
    outs.write("-o", b"data")
    outs.commit()
    assert (tmp_path / name).read_bytes() == b"data" and sorted(p.name for p in tmp_path.iterdir()) == [name]
    with pytest.raises(H3pcError, match="File name too long"):
        Outputs().declare("-o", tmp_path / ("p" * 300))
