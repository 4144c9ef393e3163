"""Hostile ONNX models: what a model file can make the compiler do (a table, not a test module).

Each case is a dict: `id`, `tool` ("h3pc"), `make(folder) -> argv` (writes the model into `folder`, and any
file it must never read into `folder.parent / "outside"`; returns the tool's arguments, the model first),
`expect` (substrings the one error line must hold; a nested tuple lists alternatives), `isolate` (run under
an address-space cap) and `canary` (the outside file that must never be opened, as a path relative to the
case folder's parent, e.g. "outside/secret.bin": `folder.parent / canary`; or None).

Four classes: external data that points outside the model's folder (or at something that is not a regular
file), shape inference and constant folding asked to build huge tensors, programs the runtime could not
run, and onnxruntime failures during folding that must stay one line. tests/test_hostile.py runs them all;
tests/test_frontend_security.py runs them too, and tests the pieces directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = helper.make_node
#: what every outside file holds: it must never appear in a program or an error line
SECRET = b"H3PC-CANARY-SECRET-0123456789abcdef"


def _vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _const(name: str, value: np.ndarray | int | float) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def build(nodes: list[onnx.NodeProto], inits: list[TensorProto] | None = None, x_shape: list[int] | None = None,
          functions: list[onnx.FunctionProto] | None = None, opset: int = 18) -> onnx.ModelProto:
    """A graph from float input `x` to output `y`."""
    g = helper.make_graph(nodes, "hostile", [_vi("x", x_shape if x_shape is not None else [2, 4])],
                          [_vi("y", None)], inits or [])
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("local", 1)] if functions else [])
    return helper.make_model(g, opset_imports=opsets, ir_version=10, functions=functions or [])


def save(model: onnx.ModelProto, folder: Path, name: str = "m.onnx") -> list[str]:
    path = folder / name
    path.write_bytes(model.SerializeToString())
    return [str(path)]


def outside(folder: Path) -> Path:
    """The secret beside (not inside) the model folder."""
    d = folder.parent / "outside"
    d.mkdir(exist_ok=True)
    secret = d / "secret.bin"
    if not secret.exists():
        secret.write_bytes(SECRET)
    return secret


def external_tensor(location: str, dims: list[int], elem: int = TensorProto.UINT8, **keys: str) -> TensorProto:
    """A tensor with no payload of its own, stored at `location` (offset/length as given)."""
    t = TensorProto(name="ext", data_type=elem, dims=dims, data_location=TensorProto.EXTERNAL)
    t.external_data.add(key="location", value=location)
    for k, v in keys.items():
        t.external_data.add(key=k, value=v)
    return t


def uses_k(extra: list[onnx.NodeProto], count: int = len(SECRET)) -> onnx.ModelProto:
    """`extra` defines uint8 tensor `k` of `count` elements; y = x + float(k) so the bytes reach the program."""
    return build(extra + [N("Cast", ["k"], ["kf"], name="cast", to=TensorProto.FLOAT),
                          N("Add", ["x", "kf"], ["y"], name="add")], x_shape=[count])


def constant_at(location: Callable[[Path], str], count: int = len(SECRET), **keys: str
                ) -> Callable[[Path], list[str]]:
    """Constant node 'c' whose value attribute is stored at location(folder)."""
    def make(folder: Path) -> list[str]:
        outside(folder)
        t = external_tensor(location(folder), [count], **keys)
        return save(uses_k([N("Constant", [], ["k"], name="c", value=t)], count), folder)
    return make


def beside(folder: Path) -> str:
    """The secret next to the model folder (where a tool run from the folder's parent has its working
    directory), named by a plain relative location: found there only by a reader that resolves against the
    working directory instead of the model's folder."""
    secret = folder.parent / "secret.bin"
    secret.write_bytes(SECRET)
    return "secret.bin"


def symlink_out(folder: Path) -> str:
    (folder / "data.bin").symlink_to(outside(folder))
    return "data.bin"


def symlink_to_device(folder: Path) -> str:
    (folder / "zero.bin").symlink_to("/dev/zero")
    return "zero.bin"


def fifo_inside(folder: Path) -> str:
    os.mkfifo(folder / "pipe.bin")
    return "pipe.bin"


def folder_inside(folder: Path) -> str:
    (folder / "sub").mkdir()
    return "sub"


def data_inside(folder: Path) -> str:
    (folder / "data.bin").write_bytes(bytes(range(64)))
    return "data.bin"


def constant_of_shape_out(folder: Path) -> list[str]:
    """ConstantOfShape whose `value` attribute (one element) is read from outside the folder."""
    outside(folder)
    value = external_tensor("../outside/secret.bin", [1], TensorProto.FLOAT)
    nodes = [N("ConstantOfShape", ["shape"], ["k"], name="cos", value=value), N("Add", ["x", "k"], ["y"], name="add")]
    return save(build(nodes, [_const("shape", np.array([2, 4], np.int64))]), folder)


def if_branch_out(folder: Path) -> list[str]:
    """The secret behind a Constant inside an If branch (a subgraph), with a constant condition."""
    outside(folder)

    def branch(name: str) -> onnx.GraphProto:
        t = external_tensor("../outside/secret.bin", [2, 4], TensorProto.FLOAT)
        return helper.make_graph([N("Constant", [], [f"{name}_v"], name=f"{name}_c", value=t)], name, [],
                                 [_vi(f"{name}_v", [2, 4])])
    nodes = [N("If", ["cond"], ["k"], name="if", then_branch=branch("then"), else_branch=branch("else")),
             N("Add", ["x", "k"], ["y"], name="add")]
    return save(build(nodes, [_const("cond", np.array(True))]), folder)


def function_out(folder: Path) -> list[str]:
    """The secret behind a Constant inside a model-local function."""
    outside(folder)
    t = external_tensor("../outside/secret.bin", [2, 4], TensorProto.FLOAT)
    fn = helper.make_function("local", "AddSecret", ["a"], ["b"],
                              [N("Constant", [], ["s"], value=t), N("Add", ["a", "s"], ["b"])],
                              [helper.make_opsetid("", 18)])
    return save(build([N("AddSecret", ["x"], ["y"], name="fn", domain="local")], functions=[fn]), folder)


def initializer_out(folder: Path) -> list[str]:
    """An initializer (the path every loader already checked) behind a symlink that leaves the folder."""
    link = symlink_out(folder)
    w = external_tensor(link, [4, 3], TensorProto.FLOAT)
    w.name = "w"
    return save(build([N("MatMul", ["x", "w"], ["y"], name="mm")], [w]), folder)


def sparse_out(folder: Path) -> list[str]:
    """A sparse tensor attribute whose values come from outside the folder."""
    outside(folder)
    values = external_tensor("../outside/secret.bin", [2], TensorProto.FLOAT)
    values.name = "vals"
    sparse = helper.make_sparse_tensor(values, _const("idx", np.array([0, 5], np.int64)), [2, 4])
    nodes = [N("Constant", [], ["k"], name="c", sparse_value=sparse), N("Add", ["x", "k"], ["y"], name="add")]
    return save(build(nodes), folder)


EXTERNAL = [
    ("ext-attr-working-directory", constant_at(beside), ("'c'", "'secret.bin'", "missing")),
    ("ext-attr-relative-parent", constant_at(lambda d: "../outside/secret.bin"), ("'c'", "outside the model folder")),
    ("ext-attr-dotdot-deep", constant_at(lambda d: "a/../../outside/secret.bin"), ("'c'", "outside the model folder")),
    ("ext-attr-absolute", constant_at(lambda d: str(outside(d))), ("'c'", "outside the model folder")),
    ("ext-attr-symlink-out", constant_at(symlink_out), ("'c'", "outside the model folder")),
    ("ext-attr-dev-zero", constant_at(lambda d: "/dev/zero"), ("'c'", "outside the model folder")),
    ("ext-attr-symlink-dev-zero", constant_at(symlink_to_device), ("'c'", "outside the model folder")),
    ("ext-attr-fifo-inside", constant_at(fifo_inside), ("'c'", "not a regular file")),
    ("ext-attr-folder-inside", constant_at(folder_inside), ("'c'", "is a folder")),
    ("ext-attr-length-mismatch", constant_at(data_inside, length="1000000"), ("'c'", "length 1000000")),
    ("ext-attr-offset-past-end", constant_at(data_inside, offset="60"), ("'c'", "too short")),
    ("ext-attr-huge-declared", constant_at(data_inside, count=10**12), ("'c'", "too short")),
    # spellings of a location that a careless reader might resolve elsewhere, and ones that would break the line
    ("ext-attr-location-nul", constant_at(lambda d: data_inside(d) + "\0../outside/secret.bin"), ("'c'", "NUL")),
    ("ext-attr-location-url", constant_at(lambda d: "file:///../outside/secret.bin"), ("'c'", "missing")),
    ("ext-attr-location-windows", constant_at(lambda d: "..\\outside\\secret.bin"), ("'c'", "missing")),
    ("ext-attr-location-escape", constant_at(lambda d: "\x1b[2J\nsecret.bin"), ("'c'", "\\x1b[2J\\nsecret.bin")),
    ("ext-attr-location-200k-chars", constant_at(lambda d: "a/" * 100_000), ("'c'", "a/a/a", "longer than any path")),
    ("ext-attr-offset-5000-digits", constant_at(data_inside, offset="9" * 5000), ("'c'", "too short")),
    ("ext-attr-length-unicode-digit", constant_at(data_inside, length="\u0663\u0665"), ("'c'", "length")),
    ("ext-constant-of-shape-value", constant_of_shape_out, ("'cos'", "outside the model folder")),
    ("ext-if-branch-constant", if_branch_out, (("'then_c'", "'else_c'"), "subgraph", "outside the model folder")),
    ("ext-function-constant", function_out, ("AddSecret", "outside the model folder")),
    ("ext-initializer-symlink-out", initializer_out, ("'w'", "outside the model folder")),
    ("ext-sparse-attribute", sparse_out, ("'c'", "outside the model folder")),
]


# --- bounded work: a tiny file asks for a huge tensor ---------------------------------------------------------


def reduced(nodes: list[onnx.NodeProto], inits: list[TensorProto], out: str = "r") -> Callable[[Path], list[str]]:
    """y = x + sum(float(out)): the huge tensor feeds a real computation."""
    tail = [N("Cast", [out], ["rf"], name="cast", to=TensorProto.FLOAT),
            N("ReduceSum", ["rf"], ["total"], name="sum", keepdims=0), N("Add", ["x", "total"], ["y"], name="add")]
    return lambda folder: save(build(nodes + tail, inits, x_shape=[1]), folder)


def i64(name: str, value: int | list[int]) -> TensorProto:
    return _const(name, np.array(value, np.int64))


def model_of(nodes: list[onnx.NodeProto], inits: list[TensorProto], x_shape: list[int]) -> Callable[[Path], list[str]]:
    return lambda folder: save(build(nodes, inits, x_shape), folder)


BOUNDED = [
    ("fold-range-1e12", reduced([N("Range", ["s", "l", "d"], ["r"], name="rng")],
                                [i64("s", 0), i64("l", 10**12), i64("d", 1)]), ("'rng'", "elements")),
    ("fold-range-1e12-computed-limit", reduced(
        [N("Mul", ["a", "b"], ["l"], name="mul"), N("Range", ["s", "l", "d"], ["r"], name="rng")],
        [i64("s", 0), i64("a", 10**6), i64("b", 10**6), i64("d", 1)]), ("'rng'", "elements")),
    ("fold-range-float-inf", reduced([N("Range", ["s", "l", "d"], ["r"], name="rng")],
                                     [_const("s", np.float32(0)), _const("l", np.float32(np.inf)),
                                      _const("d", np.float32(1))]), ("'rng'", ("finite", "elements", "Range"))),
    ("fold-constant-of-shape-computed", reduced(
        [N("Mul", ["a", "b"], ["shape"], name="mul"), N("ConstantOfShape", ["shape"], ["r"], name="cos")],
        [i64("a", [10**6, 10**6]), i64("b", [1, 1])]), ("'cos'", "elements")),
    ("fold-expand-huge", reduced([N("Expand", ["v", "shape"], ["r"], name="exp")],
                                 [i64("v", [1]), i64("shape", [10**6, 10**6])]), ("'exp'", "elements")),
    ("fold-tile-huge", reduced([N("Tile", ["v", "rep"], ["r"], name="tile")],
                               [i64("v", [[1, 2]]), i64("rep", [10**6, 10**6])]), ("'tile'", "elements")),
    ("fold-resize-huge-scales", reduced([N("Resize", ["v", "", "sc"], ["r"], name="rsz")],
                                        [_const("v", np.ones((1, 1, 2, 2), np.float32)),
                                         _const("sc", np.array([1, 1, 10**6, 10**6], np.float32))]),
     ("'rsz'", "elements")),
    # (a Resize of the run-time input to 1.6e9 elements compiles without building it, and its default quality
    # check is skipped with the reason: tests/test_quality_check.py)
    ("fold-pad-huge", reduced([N("Pad", ["v", "p"], ["r"], name="pad")],
                              [i64("v", [1, 2]), i64("p", [0, 10**12])]), ("'pad'", "elements")),
]


# --- compiled means runnable --------------------------------------------------------------------------------


def f32(name: str, shape: tuple[int, ...]) -> TensorProto:
    return _const(name, np.ones(shape, np.float32))


RUNNABLE = [
    ("run-conv-kernel-larger-than-input", model_of([N("Conv", ["x", "w"], ["y"], name="conv")],
                                                   [f32("w", (2, 1, 5, 5))], [1, 1, 4, 4]), ("'conv'", "larger")),
    ("run-conv-dilated-kernel-too-large", model_of([N("Conv", ["x", "w"], ["y"], name="conv", dilations=[3, 3])],
                                                   [f32("w", (2, 1, 3, 3))], [1, 1, 6, 6]), ("'conv'", "larger")),
    ("run-maxpool-kernel-larger-than-input", model_of([N("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[5, 5])],
                                                      [], [1, 1, 4, 4]), ("'pool'", "larger")),
    ("run-avgpool-kernel-larger-than-padded", model_of([N("AveragePool", ["x"], ["y"], name="pool",
                                                          kernel_shape=[7, 7], pads=[1, 1, 1, 1])],
                                                        [], [1, 1, 4, 4]), ("'pool'", "larger")),
    ("run-conv-stride-zero", model_of([N("Conv", ["x", "w"], ["y"], name="conv", strides=[0, 1])],
                                      [f32("w", (2, 1, 3, 3))], [1, 1, 4, 4]), (("'conv'", "node name: conv"), "strides")),
    ("run-gather-index-past-end", model_of([N("Gather", ["x", "i"], ["y"], name="gat", axis=0)],
                                           [i64("i", [0, 7])], [4, 3]), ("'gat'", "out of range")),
    ("run-gather-index-below-start", model_of([N("Gather", ["x", "i"], ["y"], name="gat", axis=1)],
                                              [i64("i", [-4])], [4, 3]), ("'gat'", "out of range")),
    ("run-gather-elements-index", model_of([N("GatherElements", ["x", "i"], ["y"], name="gel", axis=1)],
                                           [i64("i", [[0, 3], [1, 1]])], [2, 3]), ("'gel'", "out of range")),
    ("run-gather-nd-index", model_of([N("GatherND", ["x", "i"], ["y"], name="gnd")],
                                     [i64("i", [[0, 5]])], [2, 3]), ("'gnd'", "out of range")),
    ("run-conv-group-in-channels", model_of([N("Conv", ["x", "w"], ["y"], name="conv", group=2)],
                                            [f32("w", (2, 1, 1, 1))], [1, 3, 4, 4]), ("'conv'", "group 2")),
    ("run-conv-group-out-channels", model_of([N("Conv", ["x", "w"], ["y"], name="conv", group=2)],
                                             [f32("w", (3, 2, 1, 1))], [1, 4, 4, 4]), ("'conv'", "group 2")),
    ("run-conv-transpose-group", model_of([N("ConvTranspose", ["x", "w"], ["y"], name="convt", group=2)],
                                          [f32("w", (2, 1, 1, 1))], [1, 4, 4, 4]), ("'convt'", "weight")),
    ("run-conv-zero-size-weight", model_of([N("Conv", ["x", "w"], ["y"], name="conv")],
                                           [f32("w", (0, 1, 1, 1))], [1, 1, 4, 4]), ("'conv'", "empty")),
    ("run-matmul-zero-size-weight", model_of([N("MatMul", ["x", "w"], ["y"], name="mm")],
                                             [f32("w", (4, 0))], [2, 4]), ("'mm'", "empty")),
    ("run-gemm-zero-size-input", model_of([N("Gemm", ["x", "w"], ["y"], name="gm")],
                                          [f32("w", (0, 3))], [2, 0]), ("'gm'", "empty")),
    ("run-gemm-bias-not-broadcastable", model_of([N("Gemm", ["x", "w", "b"], ["y"], name="gm")],
                                                 [f32("w", (4, 3)), f32("b", (2,))], [2, 4]), ("'gm'", "does not broadcast")),
    ("run-pad-negative-dimension", model_of([N("Pad", ["x", "p"], ["y"], name="pad")], [i64("p", [0, -2, 0, -2])],
                                            [2, 3]), ("'pad'", "negative dimension")),
    ("run-lrn-size-zero", model_of([N("LRN", ["x"], ["y"], name="lrn", size=0)], [], [1, 3, 4, 4]),
     ("'lrn'", "size 0")),
    ("run-reduce-max-over-empty-axis", model_of([N("ReduceMax", ["x"], ["y"], name="rmax", keepdims=0)], [],
                                                [2, 0]), ("'rmax'", "empty")),
    ("run-layer-norm-scale-shape", model_of([N("LayerNormalization", ["x", "s"], ["y"], name="ln")],
                                            [f32("s", (5,))], [2, 3]), ("'ln'", "does not broadcast")),
    ("run-pad-edge-of-empty-axis", model_of([N("Pad", ["x", "p"], ["y"], name="pad", mode="edge")],
                                            [i64("p", [0, 1, 0, 1])], [2, 0]), ("'pad'", "empty")),
    ("run-softmax-over-empty-axis", model_of([N("Softmax", ["x"], ["y"], name="sm", axis=1)], [], [2, 0]),
     ("'sm'", "empty")),
]


# --- onnxruntime fails while folding: its own log must not add a line ---------------------------------------


def folded_then_used(op: onnx.NodeProto, inits: list[TensorProto]) -> Callable[[Path], list[str]]:
    tail = [N("Cast", ["g"], ["gf"], name="cast", to=TensorProto.FLOAT), N("Add", ["x", "gf"], ["y"], name="add")]
    return lambda folder: save(build([op] + tail, inits, x_shape=[1]), folder)


ONE_LINE = [
    ("log-fold-integer-division-by-zero", folded_then_used(N("Div", ["a", "b"], ["g"], name="div"),
                                                           [i64("a", [1]), i64("b", [0])]), ("'div'", "division")),
    ("log-fold-gather-out-of-bounds", folded_then_used(N("Gather", ["d", "i"], ["g"], name="gat"),
                                                       [i64("d", [1, 2]), i64("i", [5])]),
     (("'gat'", "node name: gat"), ("bounds", "out of range"))),
]


#: where `outside` puts the secret, relative to the case folder's parent
CANARY = "outside/secret.bin"


def _case(cid: str, make: Callable[[Path], list[str]], expect: tuple, isolate: bool, canary: bool) -> dict:
    where = "secret.bin" if cid == "ext-attr-working-directory" else CANARY
    return {"id": cid, "tool": "h3pc", "make": make, "expect": expect, "isolate": isolate,
            "canary": where if canary else None}


CASES: list[dict] = (
    [_case(i, m, e, isolate="huge" in i, canary=True) for i, m, e in EXTERNAL]
    + [_case(i, m, e, isolate=True, canary=False) for i, m, e in BOUNDED]
    + [_case(i, m, e, isolate=False, canary=False) for i, m, e in RUNNABLE]
    + [_case(i, m, e, isolate=False, canary=False) for i, m, e in ONE_LINE]
)
