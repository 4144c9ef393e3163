"""The development models, rebuilt from what the repository holds.

Twelve small ONNX models drive the tests. Four have trained or pretrained weights that only torch could
make again (`VERBATIM`): they are committed as they are, `NAME.onnx` and `NAME.npz` in this folder. The
other eight have random weights, so committing megabytes of noise would buy nothing: `skeletons/NAME.onnx`
is the graph with each large float payload removed (initializers and the tensor attributes of Constant
nodes alike, structure untouched) and `skeletons/NAME.npz` holds the sample inputs (`in/...`).

`build()` refills every removed tensor with normal values drawn from numpy's PCG64, seeded from
sha256("<model>:<tensor>"), scaled to the per-tensor mean and standard deviation recorded in the tensor's
`doc_string` (or per output channel for convolution weights, whose rows a folded BatchNorm scaled apart),
runs onnxruntime on the sample inputs for the `out/...` references and writes NAME.onnx and NAME.npz
beside copies of the verbatim models in

    ${XDG_CACHE_HOME:-~/.cache}/h3pc/devmodels/<digest>/

where the digest covers the skeletons, the verbatim files, this generator and onnxruntime's version, so
any change gives a fresh folder. The folder is built under a temporary name and renamed into place, so
concurrent test processes and interrupted runs never see half of it.

A tensor stays verbatim in a skeleton when it is not float32, has at most `KEEP_ELEMENTS` elements (biases,
LayerNorm vectors, rotary tables, cls tokens), has at most `KEEP_DISTINCT` distinct values (masks) or is not
finite (causal masks hold -inf). `strip()` made the skeletons from the original models; it is kept so the
rule that produced them is the code that reads them.

    python tests/models/generate.py build            # print the folder, building it if needed
    python tests/models/generate.py strip SRC_DIR    # rewrite skeletons/ from full models in SRC_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
SKELETONS = HERE / "skeletons"
VERBATIM = ("mlp_digits", "cnn_digits", "charlm_llama", "efficientnet_lite0_real")
GENERATED = ("helper_mlp", "gpt2_tiny", "bert_tiny", "llama_tiny", "vit_tiny", "mobilenet_v2",
             "zoo_squeezenet", "onnxscript_block")
KEEP_ELEMENTS = 4096  # at or below: kept as is (a few KB per tensor at most)
KEEP_DISTINCT = 16  # at or below: a mask or a table of constants, not a weight
FILL_TAG = "h3pc-fill"  # marks a removed tensor's doc_string


def cache_root() -> Path:
    """The user's cache folder for h3pc (XDG on every platform, as pip and most tools do)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "h3pc"


def _tensors(model: onnx.ModelProto) -> list[tuple[str, onnx.TensorProto]]:
    """Every constant tensor of the main graph with the name its seed uses.

    Constant nodes' tensors are often unnamed, so they are keyed by the node's output."""
    found = [(t.name, t) for t in model.graph.initializer]
    for node in model.graph.node:
        if node.op_type == "Constant":
            found += [(node.output[0], a.t) for a in node.attribute if a.type == onnx.AttributeProto.TENSOR]
    return found


def _removable(a: np.ndarray) -> bool:
    """A weight payload worth leaving out: large, float32, finite and not a mask-like table."""
    if a.dtype != np.float32 or a.size <= KEEP_ELEMENTS or not np.isfinite(a).all():
        return False
    return len(np.unique(a)) > KEEP_DISTINCT


def _stats(a: np.ndarray) -> dict[str, Any]:
    """Mean and std per tensor; per output channel for a 4-D (convolution) weight."""
    a64 = a.astype(np.float64)
    if a.ndim == 4:
        rows = a64.reshape(a.shape[0], -1)
        return {"axis0_mean": _short(rows.mean(1)), "axis0_std": _short(rows.std(1))}
    return {"mean": _short(a64.mean()), "std": _short(a64.std())}


def _short(x: np.ndarray | float) -> list[float] | float:
    """Six significant digits: float32 weights carry no more, and the skeleton stays small."""
    r = [float(f"{v:.6g}") for v in np.ravel(x)]
    return r if np.ndim(x) else r[0]


def strip(src: Path, dst: Path = SKELETONS) -> None:
    """Write skeletons of the GENERATED models of `src` (NAME.onnx + NAME.npz) into `dst`."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:
        model = onnx.load(src / f"{name}.onnx")
        for key, t in _tensors(model):
            a = numpy_helper.to_array(t)
            if _removable(a):
                kept = onnx.TensorProto(name=t.name, data_type=t.data_type, dims=t.dims)
                kept.doc_string = json.dumps({FILL_TAG: key, **_stats(a)})
                t.CopyFrom(kept)
        onnx.save(model, dst / f"{name}.onnx")
        with np.load(src / f"{name}.npz") as z:
            np.savez_compressed(dst / f"{name}.npz", **{k: z[k] for k in z.files if k.startswith("in/")})


def _draw(model_name: str, key: str, shape: tuple[int, ...], spec: dict[str, Any]) -> np.ndarray:
    """The tensor's new values: the same on every machine (PCG64 and sha256 are specified bit for bit)."""
    seed = int.from_bytes(hashlib.sha256(f"{model_name}:{key}".encode()).digest()[:16], "little")
    z = np.random.Generator(np.random.PCG64(seed)).standard_normal(shape)
    if "axis0_std" in spec:  # each output channel standardised, then given its recorded moments
        rows = z.reshape(shape[0], -1)
        sd = rows.std(1, keepdims=True)
        rows = (rows - rows.mean(1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
        rows = rows * np.asarray(spec["axis0_std"])[:, None] + np.asarray(spec["axis0_mean"])[:, None]
        return rows.reshape(shape).astype(np.float32)
    z = (z - z.mean()) / z.std()  # exact moments: a drawn row sum would otherwise shift every layer
    return (z * spec["std"] + spec["mean"]).astype(np.float32)


def refill(name: str) -> onnx.ModelProto:
    """The skeleton of `name` with every removed tensor drawn again."""
    model = onnx.load(SKELETONS / f"{name}.onnx")
    for _, t in _tensors(model):
        if FILL_TAG not in t.doc_string:
            continue
        spec = json.loads(t.doc_string)
        full = numpy_helper.from_array(_draw(name, spec[FILL_TAG], tuple(t.dims), spec), t.name)
        t.CopyFrom(full)
    return model


def reference_outputs(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's outputs on one thread (the same bits on every run of one build)."""
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = onnxruntime.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, inputs)))


def digest() -> str:
    """Names the cache folder: every input of `build` that can change its result."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(onnxruntime.__version__.encode())
    for path in sorted([*SKELETONS.glob("*.onnx"), *SKELETONS.glob("*.npz"),
                        *(HERE / f"{n}.{ext}" for n in VERBATIM for ext in ("onnx", "npz"))]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _write(out: Path) -> None:
    for name in VERBATIM:
        for ext in ("onnx", "npz"):
            shutil.copyfile(HERE / f"{name}.{ext}", out / f"{name}.{ext}")
    for name in GENERATED:
        model = refill(name)
        with np.load(SKELETONS / f"{name}.npz") as z:
            inputs = {k[3:]: z[k] for k in z.files if k.startswith("in/")}
        outs = reference_outputs(model, inputs)
        bad = [k for k, v in outs.items() if not np.isfinite(v).all()]
        if bad:
            raise RuntimeError(f"{name}: regenerated weights give non-finite outputs {bad}")
        onnx.save(model, out / f"{name}.onnx")
        np.savez_compressed(out / f"{name}.npz", **{f"in/{k}": v for k, v in inputs.items()},
                            **{f"out/{k}": v for k, v in outs.items()})


def build() -> Path:
    """The folder holding all twelve models, built on first use and reused after."""
    final = cache_root() / "devmodels" / digest()
    if (final / "complete").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        _write(tmp)
        (tmp / "complete").write_text("\n".join(VERBATIM + GENERATED) + "\n")
        try:
            tmp.rename(final)
        except OSError:  # another process won the race: its folder is the same bytes
            if not (final / "complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="generate.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="print the models' folder, building it if needed")
    s = sub.add_parser("strip", help="rewrite skeletons/ from the full models in SRC")
    s.add_argument("src", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "strip":
        strip(args.src)
    else:
        print(build())
    return 0


if __name__ == "__main__":
    sys.exit(main())
