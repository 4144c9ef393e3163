"""Make every tensor static: pin input shapes, infer shapes, fold constant subgraphs, repeat.

Exporters compute shapes at run time (Shape -> Gather -> Concat -> Reshape, ConstantOfShape, Range,
Expand ...). Once the inputs are pinned these are constants; we evaluate them with onnxruntime (the
reference our tests compare against) and feed the results back to ONNX shape inference until
nothing changes. The importer then only sees static shapes.

The work is bounded before it is done, whatever a tiny file declares: onnx's data propagation (which
materialises every 1-D tensor it meets, element by element: a `Range` to 10^7 costs it 1.4 GB) runs only
when all 1-D tensors are known to be small; every node's inferred output is checked against MAX_TENSOR_ELEMENTS; and a node is evaluated
only when its output size is known (inferred, computed from its constant inputs for the ops whose size comes
from values, or bounded by its inputs') and fits, with each onnxruntime session within MAX_FOLD_BYTES.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from h3pc import progress
from h3pc.diagnostics import H3pcError, UnsupportedError
from h3pc.dialects.types import ELEMENT_TYPES, MAX_FOLD_BYTES, MAX_TENSOR_ELEMENTS
from h3pc.frontend import control
from h3pc.frontend.loader import LoadedModel, external_tensors
from h3pc.frontend.native import quiet_stderr
from h3pc.frontend.weights import WeightStore

#: ops that are folded when all their inputs are constant; most ops qualify.
NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
#: do not materialise folded tensors larger than this many elements (keep them as ops instead).
MAX_FOLD_ELEMENTS = 1 << 26
#: ops whose output size comes from the *values* of their inputs: folded only once their size is known
VALUE_SIZED = {"Range", "ConstantOfShape", "Expand", "Tile", "Resize", "Upsample", "Pad", "OneHot", "MaxUnpool",
               "CenterCropPad", "Col2Im", "DFT", "STFT", "MelWeightMatrix", "BlackmanWindow", "HannWindow",
               "HammingWindow", "AffineGrid"}
_ITEMSIZE = {o: d.itemsize for o, d, _ in ELEMENT_TYPES}
#: all 1-D tensors of a model together, in elements, below which onnx's data propagation may run
DATA_PROP_ELEMENTS = 1 << 20
#: node shape inferences the folding rounds may spend together (each round infers the whole graph): a chain
#: of shapes only onnxruntime can compute (Reshape to Abs(Shape(previous))) takes a round per link, so 400
#: links of a 1,600-node file took 20 s and 5,000 would take an hour; at about 30 us a node this is 30 s at
#: most, and the shapes still open are then refused by name
MAX_FOLD_WORK = 1 << 20


@dataclass
class StaticGraph:
    """A model whose every tensor has a static shape, plus the constants known at compile time."""

    model: "onnx.ModelProto"  # noqa: F821
    weights: WeightStore
    types: dict[str, tuple[int, tuple[int, ...]]]  # tensor name -> (onnx elem type, shape)
    constants: set[str] = field(default_factory=set)  # names whose value is in `weights`
    folded_nodes: int = 0
    #: constant weights a DequantizeLinear made from integer codes (folded into floats here): their
    #: scales, so that a tier holding integer codes takes the model's own (frontend/importer.py)
    quantized: dict[str, "QuantizedWeight"] = field(default_factory=dict)


@dataclass(frozen=True)
class QuantizedWeight:
    """A symmetric, per-tensor or per-axis quantized constant: value = codes * scale (along `axis`)."""

    scale: np.ndarray  # float32, a scalar or one step per index of `axis`
    axis: int
    max_code: int  # the largest |code|


def parse_input_shapes(specs: list[str]) -> dict[str, tuple[int, ...]]:
    """`name=1x128` (or `name=1,128`) -> {name: (1, 128)}."""
    out: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        if not sep or not name or not re.fullmatch(r"\d+([x,]\d+)*", dims):
            raise H3pcError(f"--input-shape '{spec}': expected NAME=D0xD1x... (for example input_ids=1x128)")
        out[name] = tuple(int(d) for d in re.split("[x,]", dims))
    return out


def parse_input_values(specs: list[str]) -> dict[str, np.ndarray]:
    """`name=16000` or `name=1,0.5,2` (`true`/`false` for booleans) -> {name: 1-D array}. The values are
    cast to the input's element type and shaped like it when the model is read (`_pin_values`)."""
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name or not text:
            raise H3pcError(f"--input-value '{spec}': expected NAME=V[,V...] (for example sr=16000)")
        if name in out:
            raise H3pcError(f"--input-value names '{name}' twice")
        words = [w.strip() for w in text.split(",")]
        if all(w.lower() in ("true", "false") for w in words):
            out[name] = np.asarray([w.lower() == "true" for w in words])
            continue
        values: list[int | float] = []
        for w in words:
            try:
                values.append(int(w))
            except ValueError:
                try:
                    values.append(float(w))
                except ValueError:
                    raise H3pcError(f"--input-value {name}: '{w}' is not a number (nor true/false)") from None
        out[name] = np.asarray(values, np.float64 if any(isinstance(v, float) for v in values) else np.int64)
    return out


def make_static(loaded: LoadedModel, input_shapes: dict[str, tuple[int, ...]] | None = None,
                input_values: dict[str, np.ndarray] | None = None,
                max_unroll: int = control.DEFAULT_MAX_UNROLL) -> StaticGraph:
    """Pin inputs (shapes, and values that become constants), then rounds of shape inference, constant
    folding and control-flow resolution (frontend/control.py) until nothing changes."""
    import onnx

    model = loaded.model
    unresolved = external_tensors(model)
    if unresolved:  # only load_onnx reads external data; onnx and onnxruntime would use the working directory
        raise H3pcError(f"{loaded.path}: {unresolved[0]}: external data not resolved inside the model folder")
    if model.functions:
        with quiet_stderr():
            model = onnx.inliner.inline_local_functions(model)
    graph = model.graph
    store = loaded.weights
    _check_graph(model, loaded.path)
    _explicit_defaults(graph)
    constants = {t.name for t in graph.initializer}
    _constant_nodes_to_initializers(graph, store, constants)
    _pin_values(graph, store, constants, input_values or {}, input_shapes or {}, loaded.path)
    quantized = _quantized_weights(graph, store, constants)
    shapes = {k: v for k, v in (input_shapes or {}).items() if k not in (input_values or {})}  # used by the values
    dynamic = _pin_inputs(graph, constants, shapes, loaded.path)
    if dynamic:
        pins = _suggest_pins(model, dynamic, constants, loaded.path)
        shown = ", ".join(f"'{n}' [{_shown(graph, n)}]" for n in dynamic)
        flags = " ".join(f"--input-shape {n}={'x'.join(map(str, pins[n]))}" for n in dynamic)
        raise H3pcError(f"input{'s' if len(dynamic) > 1 else ''} {shown} ha{'ve' if len(dynamic) > 1 else 's'} "
                        f"a dynamic shape; pin {'them' if len(dynamic) > 1 else 'it'} with {flags}")
    folded = 0
    # all folded constants together: a tiny file gets MAX_FOLD_BYTES, a large one room for a few copies of
    # its weights (exporters fold transposes and dequantisations of every weight)
    budget = [MAX_FOLD_BYTES + 4 * store.nbytes]
    # Rounds of shape inference and folding until nothing folds. A chain of data-dependent shapes (a Reshape
    # per layer of a dynamically exported transformer) takes a round per link; every productive round removes
    # at least one node, so the node count bounds the rounds.
    # Control flow resolves between folding rounds: an If once its condition folds, a Loop or Scan once its
    # trip count is known; the nodes it leaves fold in the next rounds. Each round removes a node or a
    # control-flow node, and the body copies are bounded by max_unroll, so the rounds end.
    work = 0
    unroll = [max_unroll]
    opset = _opset(model)
    while True:
        model, types, elem_types = _infer(model, loaded.path)
        work += len(model.graph.node)
        _check_sizes(model, types, constants, loaded.path)
        n = _fold_once(model, store, constants, types, elem_types, loaded.path, budget)
        folded += n
        if work > MAX_FOLD_WORK:
            break
        if n:
            continue
        resolver = control.Resolver(
            model.graph, opset, lambda name: _constant(store, constants, name),
            lambda name, arr: (_add_initializer(model.graph, store, name, arr), constants.add(name)),
            types, unroll, max_unroll, loaded.path)
        if not resolver.resolve():
            break
        _constant_nodes_to_initializers(model.graph, store, constants)
        del model.graph.value_info[:]  # inferred for the graph before; inferred afresh for the new nodes
    why = f" (folding stopped after {work} node shape inferences, the limit)" if work > MAX_FOLD_WORK else ""
    inputs = [i.name for i in model.graph.input if i.name not in constants]
    for node in model.graph.node:
        if control.is_control(node):
            raise control.refusal(node, model.graph, inputs, lambda name: name in constants, loaded.path)
    _check_static(model, types, constants, why)
    return StaticGraph(model, store, types, constants, folded, quantized)


def _opset(model) -> int:
    return {o.domain or "ai.onnx": o.version for o in model.opset_import}.get("ai.onnx", 0)


def _constant(store: WeightStore, constants: set[str], name: str) -> np.ndarray | None:
    return np.asarray(store.array(store.key_of(name))) if name in constants else None


def _explicit_defaults(graph) -> None:
    """Attributes whose spec default onnx's shape inference does not apply: STFT's `onesided` (default 1)
    read as 0 for a [batch, length] signal gives twice the bins onnxruntime computes (the log-mel
    front ends of onnx-asr, tests/test_shape_tolerance.py)."""
    from onnx import helper

    for node in graph.node:
        if node.op_type == "STFT" and node.domain in ("", "ai.onnx") and \
                not any(a.name == "onesided" for a in node.attribute):
            node.attribute.append(helper.make_attribute("onesided", 1))


def _quantized_weights(graph, store: WeightStore, constants: set[str]) -> dict[str, QuantizedWeight]:
    """The DequantizeLinear nodes of constant integer codes with a constant scale and no zero point (or
    a zero one), not blocked: what their float output (folded below) is made of."""
    out: dict[str, QuantizedWeight] = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.domain not in ("", "ai.onnx") or len(node.input) < 2:
            continue
        x, s = node.input[0], node.input[1]
        zp = node.input[2] if len(node.input) > 2 else ""
        attrs = {a.name: a for a in node.attribute}
        if x not in constants or s not in constants or (zp and zp not in constants) or \
                attrs.get("block_size") is not None and attrs["block_size"].i:
            continue
        codes = np.asarray(store.array(store.key_of(x)))
        scale = np.asarray(store.array(store.key_of(s)), np.float32)
        if codes.dtype.kind not in "iu" or codes.size == 0 or (zp and np.any(np.asarray(store.array(store.key_of(zp))))):
            continue
        axis = attrs["axis"].i if "axis" in attrs else 1
        if scale.ndim > 1 or (scale.ndim == 1 and not -codes.ndim <= axis < codes.ndim):
            continue
        out[node.output[0]] = QuantizedWeight(scale.reshape(-1) if scale.ndim else scale, axis % max(codes.ndim, 1),
                                              int(np.abs(codes.astype(np.int64)).max()))
    return out


def _check_graph(model: "onnx.ModelProto", path) -> None:  # noqa: F821
    """Structural checks the protobuf parser does not make: dangling edges and cycles."""
    graph = model.graph
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    producers: dict[str, int] = {}
    for idx, node in enumerate(graph.node):
        for out in node.output:
            if out and out in producers:
                raise H3pcError(f"{path}: tensor '{out}' is produced by two nodes")
            if out:
                producers[out] = idx
    for node in graph.node:
        for inp in node.input:
            if inp not in known and inp not in producers:
                raise H3pcError(
                    f"{path}: node '{node.name or node.op_type}' ({node.op_type}) reads tensor '{inp}', "
                    "which no node, input or initializer defines"
                )
    for out in graph.output:
        if out.name not in known and out.name not in producers:
            raise H3pcError(f"{path}: graph output '{out.name}' is never produced")
    order = _topological_order(graph, producers)
    if order is None:
        raise H3pcError(f"{path}: the graph has a cycle")
    if order != list(range(len(graph.node))):
        nodes = [graph.node[i] for i in order]
        del graph.node[:]
        graph.node.extend(nodes)


def _topological_order(graph, producers: dict[str, int]) -> list[int] | None:
    """Kahn's algorithm, stable in the file's node order; None on a cycle."""
    import heapq

    n = len(graph.node)
    deps = [set() for _ in range(n)]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, node in enumerate(graph.node):
        for inp in control.node_inputs(node):  # a subgraph's outer-scope reads order the node too
            p = producers.get(inp)
            if p is not None and p not in deps[i]:
                deps[i].add(p)
                users[p].append(i)
    indeg = [len(d) for d in deps]
    ready = [i for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, u)
    return order if len(order) == n else None


def _constant_nodes_to_initializers(graph, store: WeightStore, constants: set[str]) -> None:
    from onnx import helper, numpy_helper

    keep = []
    for node in graph.node:
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
            keep.append(node)
            continue
        attr = node.attribute[0] if node.attribute else None
        if attr is None:
            raise H3pcError(f"Constant node '{node.name}' has no value")
        kind = attr.name
        if kind == "value":
            arr = numpy_helper.to_array(attr.t)
        elif kind in ("value_float", "value_int"):
            arr = np.asarray(attr.f if kind == "value_float" else attr.i,
                             np.float32 if kind == "value_float" else np.int64)
        elif kind in ("value_floats", "value_ints"):
            arr = np.asarray(list(attr.floats) if kind == "value_floats" else list(attr.ints),
                             np.float32 if kind == "value_floats" else np.int64)
        else:
            raise UnsupportedError(f"Constant node '{node.name}': attribute '{kind}' is not supported")
        if arr.dtype.kind in "US" or arr.dtype == object:
            raise UnsupportedError(f"Constant node '{node.name}': string tensors are not supported")
        _add_initializer(graph, store, node.output[0], arr)
        constants.add(node.output[0])
    del graph.node[:]
    graph.node.extend(keep)


def _add_initializer(graph, store: WeightStore, name: str, arr: np.ndarray) -> None:
    """Record a constant: full data in the skeleton when small (shape inference reads it), else dims only."""
    from onnx import numpy_helper

    from h3pc.frontend.loader import INLINE_BYTES

    store.add(name, arr)
    if arr.nbytes <= INLINE_BYTES:
        graph.initializer.append(numpy_helper.from_array(np.array(arr, order="C", copy=True), name))  # 0-d stays 0-d
    else:
        t = numpy_helper.from_array(np.zeros((0,), arr.dtype), name)
        del t.dims[:]
        t.dims.extend(arr.shape)
        graph.initializer.append(t)


def _pin_values(graph, store: WeightStore, constants: set[str], values: dict[str, np.ndarray],
                shapes: dict[str, tuple[int, ...]], path) -> None:
    """Turn the inputs named in `values` into constants (so folding propagates them, and an If on them
    resolves): each value cast to the input's element type, shaped as --input-shape or the model says (or
    as given, when the model leaves dims open); the program then no longer has that input."""
    from onnx import helper

    inputs = {i.name: i for i in graph.input if i.name not in constants}
    for name in values:
        if name not in inputs:
            raise H3pcError(f"--input-value names '{name}', which is not a graph input "
                            f"(inputs: {', '.join(inputs) or 'none'})")
    for name, given in values.items():
        vi = inputs[name]
        if not vi.type.HasField("tensor_type"):
            raise UnsupportedError(f"graph input '{name}' is not a tensor")
        tt = vi.type.tensor_type
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tt.elem_type))
        except (KeyError, TypeError, ValueError):
            raise UnsupportedError(f"--input-value {name}: element type {tt.elem_type} is not supported") from None
        arr = np.asarray(given)
        if name in shapes:
            shape: tuple[int, ...] | None = tuple(shapes[name])
        elif tt.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            if None not in dims:
                shape = tuple(dims)
            elif arr.ndim == len(dims) and all(d is None or d == a for d, a in zip(dims, arr.shape)):
                shape = arr.shape
            elif arr.ndim == 1 and dims.count(None) == 1:
                known = int(np.prod([d for d in dims if d is not None], dtype=np.int64))
                if known == 0 or arr.size % known:
                    raise H3pcError(f"--input-value {name}: {arr.size} values do not fill its shape "
                                    f"{_shown(graph, name)}")
                shape = tuple(arr.size // known if d is None else d for d in dims)
            else:
                raise H3pcError(f"--input-value {name}: its shape {_shown(graph, name)} has several open dims; "
                                f"give them with --input-shape {name}=...")
        else:
            shape = arr.shape if arr.ndim != 1 or arr.size != 1 else ()
        want = _count(shape)
        if arr.size != want:
            raise H3pcError(f"--input-value {name}: {arr.size} value{'s' if arr.size != 1 else ''} given, its shape "
                            f"{list(shape)} holds {want}")
        arr = arr.reshape(shape)
        if dtype.kind in "iu" or dtype == np.bool_:
            whole = np.isfinite(arr) & (arr == np.round(arr)) if arr.dtype.kind == "f" else np.ones(arr.shape, bool)
            if not whole.all():
                bad = arr[~whole].reshape(-1)[0].item()
                raise H3pcError(f"--input-value {name}: the input holds {'booleans' if dtype == np.bool_ else 'integers'}"
                                f" ({dtype.name}), not {bad!r}")
            if dtype == np.bool_ and arr.dtype != np.bool_ and not np.isin(arr, (0, 1)).all():
                raise H3pcError(f"--input-value {name}: the input holds booleans; give true/false or 0/1")
            if dtype.kind in "iu":
                info = np.iinfo(dtype)
                if arr.size and (arr.min() < info.min or arr.max() > info.max):
                    raise H3pcError(f"--input-value {name}: a value is out of the range of {dtype.name}")
        elif dtype.kind != "f" and dtype.kind != "c":
            raise UnsupportedError(f"--input-value {name}: inputs of type {dtype.name} cannot be pinned")
        value = arr.astype(dtype)
        _add_initializer(graph, store, name, value)
        constants.add(name)
        keep = [i for i in graph.input if i.name != name]
        del graph.input[:]
        graph.input.extend(keep)


def _pin_inputs(graph, constants: set[str], shapes: dict[str, tuple[int, ...]], path) -> dict[str, list[int | None]]:
    """Pin the inputs named in `shapes`; the inputs still dynamic, each with its dims (None where open)."""
    dynamic: dict[str, list[int | None]] = {}
    inputs = {i.name: i for i in graph.input if i.name not in constants}
    for name in shapes:
        if name not in inputs:
            raise H3pcError(f"--input-shape names '{name}', which is not a graph input (inputs: {', '.join(inputs)})")
    for name, vi in inputs.items():
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            raise UnsupportedError(f"graph input '{name}' is not a tensor")
        dims = tt.shape.dim
        if name in shapes:
            want = shapes[name]
            if tt.HasField("shape") and len(dims) != len(want):
                raise H3pcError(f"--input-shape {name}: rank {len(want)} does not match the model's rank {len(dims)}")
            for i, d in enumerate(dims):
                if d.HasField("dim_value") and d.dim_value != want[i]:
                    raise H3pcError(
                        f"--input-shape {name}: dim {i} is {want[i]} but the model fixes it to {d.dim_value}"
                    )
            tt.shape.ClearField("dim")
            for d in want:
                tt.shape.dim.add().dim_value = d
            continue
        if not tt.HasField("shape"):
            raise H3pcError(f"input '{name}' has a dynamic shape [unknown rank]; pin it with --input-shape "
                            f"{name}=D0xD1x... (the model does not say how many dims)")
        if any(not d.HasField("dim_value") for d in dims):
            dynamic[name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    return dynamic


def _shown(graph, name: str) -> str:
    """An input's dims as the model declares them: 1x3xHxW."""
    (vi,) = [i for i in graph.input if i.name == name]
    return "x".join(d.dim_param or "?" if not d.HasField("dim_value") else str(d.dim_value)
                    for d in vi.type.tensor_type.shape.dim)


#: the sizes tried for every open dim after the first (the batch axis is pinned to 1), smallest first
SUGGESTED_SIZES = (1, 8, 32, 64, 128, 224)


def _suggest_pins(model, dynamic: dict[str, list[int | None]], constants: set[str], path
                  ) -> dict[str, tuple[int, ...]]:
    """Pins of the dynamic inputs that import: batch 1 and every other open dim the first of
    SUGGESTED_SIZES with which shape inference gives no negative or oversized tensor (a 3x3 convolution
    without padding needs 3 pixels). So a suggestion followed gets past the shapes; if none passes, the
    smallest pin is suggested and the error it then gives names the node."""
    import copy

    def pins(size: int) -> dict[str, tuple[int, ...]]:
        return {n: tuple(d if d is not None else 1 if i == 0 else size for i, d in enumerate(dims))
                for n, dims in dynamic.items()}

    for size in SUGGESTED_SIZES:
        trial = copy.deepcopy(model)
        _pin_inputs(trial.graph, constants, pins(size), path)
        try:
            _TRIALS[0] += 1  # trials say nothing of the annotations they drop
            try:
                inferred, types, _ = _infer(trial, path)
            finally:
                _TRIALS[0] -= 1
            _check_sizes(inferred, types, constants, path)
        except H3pcError:
            continue
        return pins(size)
    return pins(1)


def _infer(model, path):
    """Shapes and element types of every tensor ONNX shape inference can tell. First without data
    propagation; then, if some shapes are still open, with it, but only when every 1-D tensor is small
    enough (DATA_PROP_ELEMENTS together) that onnx's element-by-element copies of them stay cheap."""
    inferred = _run_inference(model, path, False)
    types, elem_types, ranks = _collect(inferred)
    used = used_names(inferred.graph)
    open_ = [o for n in inferred.graph.node for o in n.output if o and o in used and o not in types]
    if open_ and _data_prop_is_bounded(inferred.graph, types, ranks):
        inferred = _run_inference(model, path, True)
        types, elem_types, _ = _collect(inferred)
    return inferred, types, elem_types


def _strict(model, data_prop: bool):
    import onnx

    with quiet_stderr():
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=data_prop)


#: open pin trials (_suggest_pins): while one runs, dropped annotations are not reported
_TRIALS = [0]


def _run_inference(model, path, data_prop: bool):
    """Strict ONNX shape inference, tolerant of the file's own annotations: exporters (paddle2onnx,
    tf2onnx, older PyTorch) leave value_info and output shapes that contradict what the ops compute, which
    onnxruntime ignores. On a failure the annotations are dropped from `model` (value_info everywhere, then
    the output shapes too) and inference runs again; -v says what was dropped. A failure without them is
    the model's own, reported naming the node, its op, its tensors and their shapes."""
    try:
        return _strict(model, data_prop)
    except Exception as exc:  # noqa: BLE001 - onnx raises several types
        first = str(exc)
    last = first
    for level in ("value_info", "outputs"):
        dropped = _drop_annotations(model, level)
        if not dropped:
            continue
        try:
            inferred = _strict(model, data_prop)
        except Exception as exc:  # noqa: BLE001
            last = str(exc)
            continue
        if not _TRIALS[0]:
            _note_dropped(path, dropped, inferred)
        return inferred
    raise _inference_error(model, path, last) from None


def _annotated(graph, out: list, where: str = "") -> None:
    """Every value_info of a graph and its subgraphs, with the subgraph's path."""
    for vi in graph.value_info:
        out.append((where, vi))
    for n in graph.node:
        for g in control.subgraphs(n):
            _annotated(g, out, f"{where}{n.name or n.op_type}/")


def _drop_annotations(model, level: str) -> list[tuple[str, list]]:
    """Remove the shape annotations of `level` (value_info, or also the output shapes of the graph and of
    every subgraph); the (tensor, declared dims) removed."""
    dropped: list[tuple[str, list]] = []

    def dims(vi) -> list:
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            return []
        return [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in tt.shape.dim]

    def walk(graph, top: bool) -> None:
        if level == "value_info":
            dropped.extend((vi.name, dims(vi)) for vi in graph.value_info)
            del graph.value_info[:]
        else:
            for vi in graph.output:
                if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
                    dropped.append((vi.name, dims(vi)))
                    vi.type.tensor_type.ClearField("shape")
        for n in graph.node:
            for g in control.subgraphs(n):
                walk(g, False)

    walk(model.graph, True)
    return dropped


def _note_dropped(path, dropped: list[tuple[str, list]], inferred) -> None:
    """-v: which annotations contradicted inference (declared vs inferred), the others dropped with them."""
    if not progress.verbose() or progress.quiet():
        return
    import sys

    got: dict[str, list] = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            got[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in tt.shape.dim]
    bad = [f"'{n}' {d} (inferred {got[n]})" for n, d in dropped if n in got and got[n] != d]
    shown = "; ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    print(f"h3pc: {path}: ONNX shape inference rejected the file's shape annotations; dropped {len(dropped)} and "
          f"inferred again{': contradicting ' + shown if bad else ''}", file=sys.stderr)


_NODE_ERROR = re.compile(r"\(op_type:([\w.]+), node name: ([^)]*)\):\s*(?:\[\w+\]\s*)?(.*)")


def _inference_error(model, path, message: str) -> H3pcError:
    """One line for a real shape inference failure: the node, its op type, its tensors and their shapes
    (from a lenient inference), and both shapes when the failure is a conflict with a declared one."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    hit = next((m for m in map(_NODE_ERROR.search, lines) if m), None)
    if hit is None:
        return H3pcError(f"{path}: ONNX shape inference failed: {lines[-1] if lines else 'no reason given'}")
    op, name, reason = hit.group(1), hit.group(2), hit.group(3).strip()
    node = next((n for n in _all_nodes(model.graph) if (n.name or "") == name), None)
    shapes = _lenient_shapes(model)
    detail = ""
    if node is not None:
        def shown(t: str) -> str:
            return f"'{t}' {shapes[t]}" if t in shapes else f"'{t}' [unknown]"

        ins = [shown(i) for i in node.input if i]
        detail = f"; inputs {', '.join(ins)}" if ins else ""
        if "existing" in reason:
            outs = [o for o in node.output if o]
            detail += f"; output{'s' if len(outs) > 1 else ''} {', '.join(repr(o) for o in outs)}"
    return H3pcError(f"{path}: shape inference failed at node '{name or op}' ({op}): {reason}{detail}")


def _all_nodes(graph):
    for n in graph.node:
        yield n
        for g in control.subgraphs(n):
            yield from _all_nodes(g)


def _lenient_shapes(model) -> dict[str, list]:
    """Shapes as far as non-strict inference gets (for error messages only)."""
    import onnx

    try:
        with quiet_stderr():
            inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False)
    except Exception:  # noqa: BLE001 - best effort
        inferred = model
    out: dict[str, list] = {}
    g = inferred.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if vi.type.HasField("tensor_type") and tt.HasField("shape"):
            out[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in tt.shape.dim]
    for t in g.initializer:
        out[t.name] = list(t.dims)
    return out


def _collect(inferred):
    """(name -> (elem type, static shape), name -> elem type, name -> rank) from an inferred model."""
    types: dict[str, tuple[int, tuple[int, ...]]] = {}
    elem_types: dict[str, int] = {}
    ranks: dict[str, int] = {}
    g = inferred.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            continue
        if tt.elem_type:
            elem_types[vi.name] = tt.elem_type
        if tt.HasField("shape"):
            ranks[vi.name] = len(tt.shape.dim)
            if all(d.HasField("dim_value") for d in tt.shape.dim):
                types[vi.name] = (tt.elem_type, tuple(d.dim_value for d in tt.shape.dim))
    for t in g.initializer:
        types[t.name] = (t.data_type, tuple(t.dims))
        ranks[t.name] = len(t.dims)
    return types, elem_types, ranks


def _data_prop_is_bounded(graph, types, ranks) -> bool:
    """onnx's data propagation copies 1-D tensors (and scalars) element by element, ~150 bytes each (a Range
    to 10^7 before a Cast: 1.4 GB). Allowed only when every tensor that is or may be 1-D has a known size and
    all of them together stay within DATA_PROP_ELEMENTS."""
    if any(a.g.node or a.graphs for n in graph.node for a in n.attribute):
        return False  # a subgraph's tensors are not listed here: no telling how long its vectors are
    total = 0
    names = ({vi.name for vi in graph.input} | {t.name for t in graph.initializer}
             | {o for n in graph.node for o in n.output if o})
    for name in names:
        rank = ranks.get(name)
        if rank is None:
            return False  # unknown rank: may be a long vector
        if rank > 1:
            continue
        if name not in types:
            return False  # a vector of unknown length
        total += _count(types[name][1])
        if total > DATA_PROP_ELEMENTS:
            return False
    return True


def _check_sizes(model, types, constants: set[str], path) -> None:
    """Every graph input and every node output that inference sized: within MAX_TENSOR_ELEMENTS and with no
    negative dimension (which no program can hold), else refused naming the node."""
    graph = model.graph
    for vi in graph.input:
        if vi.name not in constants and vi.name in types:
            n = _count(types[vi.name][1])
            if n > MAX_TENSOR_ELEMENTS:
                raise UnsupportedError(f"{path}: graph input '{vi.name}' has {n} elements (shape "
                                       f"{list(types[vi.name][1])}); at most {MAX_TENSOR_ELEMENTS} per tensor are "
                                       "supported")
    for node in graph.node:
        for o in node.output:
            if not o or o not in types:
                continue
            shape = types[o][1]
            if any(d < 0 for d in shape):  # e.g. Pad with negative pads larger than the axis
                raise UnsupportedError(f"{path}: node '{node.name or node.op_type}' ({node.op_type}): output "
                                       f"'{o}' would have a negative dimension (shape {list(shape)})")
            if _count(shape) > MAX_TENSOR_ELEMENTS:
                raise _too_big(node, o, _count(shape), path, f" (shape {list(shape)})")


def _too_big(node, out: str, n: int, path, shape: str = "") -> UnsupportedError:
    return UnsupportedError(f"{path}: node '{node.name or node.op_type}' ({node.op_type}): output '{out}' would "
                            f"have {n} elements{shape}; at most {MAX_TENSOR_ELEMENTS} per tensor are supported")


def _count(shape) -> int:
    return int(np.prod(shape, dtype=object)) if len(shape) else 1


def _fold_once(model, store: WeightStore, constants: set[str], types, elem_types: dict[str, int], path,
               budget: list[int]) -> int:
    """Fold every node computable now (constant inputs, or Shape/Size of a static tensor) whose output size is
    known to fit; the others wait for the next round, or stay ops when too large to fold. One onnxruntime
    session holds at most MAX_FOLD_BYTES of results (beyond its first node); `budget[0]`, the bytes all
    folds together may still produce, shrinks by what this one made."""
    import onnx
    from onnx import helper

    graph = model.graph
    foldable: list = []
    direct: dict[str, np.ndarray] = {}
    produced: dict[str, int] = {}  # folded this round -> element count (an upper bound when not inferred)
    spent = 0
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type in NEVER_FOLD:
            continue
        if node.op_type in ("Shape", "Size") and node.input[0] in types:
            shape = types[node.input[0]][1]
            if node.op_type == "Size":
                direct[node.output[0]] = np.asarray(_count(shape), np.int64)
            else:
                attrs = {a.name: a.i for a in node.attribute}
                r = len(shape)
                start, end = attrs.get("start", 0), attrs.get("end", r)
                start, end = max(0, min(r, start + r if start < 0 else start)), max(0, min(r, end + r if end < 0 else end))
                direct[node.output[0]] = np.asarray(shape[start:end], np.int64)
            produced[node.output[0]] = direct[node.output[0]].size
            foldable.append(node)
            continue
        if node.op_type in ("If", "Loop", "Scan"):
            continue
        ins = [i for i in node.input if i]
        if not all(i in constants or i in produced for i in ins):
            continue
        size = _fold_size(node, types, store, constants, produced, path)
        if size is None or size > MAX_FOLD_ELEMENTS:
            continue
        nbytes = size * max((_ITEMSIZE.get(elem_types.get(o, 0), 8) for o in node.output if o), default=8)
        if nbytes > budget[0] - spent or (spent and spent + nbytes > MAX_FOLD_BYTES):
            continue
        spent += nbytes
        foldable.append(node)
        per_output = size  # each output is at most the node's total
        produced.update((o, per_output) for o in node.output if o)
    if not foldable:
        return 0
    budget[0] -= spent
    graph_nodes = [n for n in foldable if n.output[0] not in direct]
    values = dict(direct)
    if graph_nodes:
        needed = sorted({i for n in graph_nodes for i in n.input if i and i not in produced})
        feeds = {name: np.asarray(store.array(store.key_of(name))) for name in needed}
        outs = sorted({o for n in graph_nodes for o in n.output if o})
        # Shape/Size results needed inside the subgraph are fed as inputs too.
        feeds.update({k: v for k, v in direct.items() if any(k in n.input for n in graph_nodes)})
        sub = helper.make_graph(
            graph_nodes, "fold",
            [helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
             for k, v in feeds.items()],
            [helper.make_tensor_value_info(o, elem_types.get(o, 0), None) for o in outs],
        )
        submodel = helper.make_model(sub, opset_imports=list(model.opset_import), ir_version=10)
        results = _run_subgraph(submodel, feeds, graph_nodes[0])
        values.update(zip(outs, (np.asarray(r) for r in results)))
    fold_ids = {id(n) for n in foldable}
    keep = [n for n in graph.node if id(n) not in fold_ids]
    used = used_names(graph, keep)
    for name, arr in values.items():
        if name in used and name not in constants:
            _add_initializer(graph, store, name, arr)
            constants.add(name)
    del graph.node[:]
    graph.node.extend(keep)
    # value_info of folded tensors is now redundant with the initializer
    vis = [v for v in graph.value_info if v.name not in constants]
    del graph.value_info[:]
    graph.value_info.extend(vis)
    return len(foldable)


def _fold_size(node, types, store: WeightStore, constants: set[str], produced: dict[str, int], path) -> int | None:
    """Elements a node would produce if folded now (all outputs together), or None when not yet known.
    Inferred shapes are exact; an op sized by its input values is sized from them (refused, named, when
    larger than any tensor may be); any other op produces no more than the product of its inputs' sizes."""
    outs = [o for o in node.output if o]
    if outs and all(o in types for o in outs):
        return sum(_count(types[o][1]) for o in outs)
    if node.op_type in VALUE_SIZED:
        n = _value_sized_count(node, types, store, constants, path)
        if n is not None and n > MAX_TENSOR_ELEMENTS:
            raise _too_big(node, outs[0], n, path)
        return n
    sizes = []
    for i in node.input:
        if not i:
            continue
        if i in produced:
            sizes.append(produced[i])
        else:
            sizes.append(_count(store.entry(store.key_of(i)).shape))
    return max(sum(sizes), math.prod(max(1, n) for n in sizes)) * max(1, len(outs))


def _value_sized_count(node, types, store: WeightStore, constants: set[str], path) -> int | None:
    """Output elements of Range, ConstantOfShape, Expand and Tile from their constant inputs (None for the
    other value-sized ops, and when an input is not a constant yet)."""
    def value(i: int) -> np.ndarray | None:
        if i >= len(node.input) or node.input[i] not in constants:
            return None
        return np.asarray(store.array(store.key_of(node.input[i])))

    def shape(i: int) -> tuple[int, ...] | None:
        name = node.input[i]
        if name in constants:
            return store.entry(store.key_of(name)).shape
        return types[name][1] if name in types else None

    where = f"{path}: node '{node.name or node.op_type}' ({node.op_type})"
    op = node.op_type
    if op == "Range":
        vals = [value(i) for i in range(3)]
        if any(v is None or v.size != 1 for v in vals):
            return None
        start, limit, delta = (v.reshape(()).item() for v in vals)
        if not all(math.isfinite(x) for x in (start, limit, delta)):
            raise H3pcError(f"{where}: start, limit and delta must be finite")
        if delta == 0:
            raise H3pcError(f"{where}: delta is 0")
        return max(0, math.ceil((limit - start) / delta))
    if op == "ConstantOfShape":
        dims = value(0)
        if dims is None:
            return None
        if (dims < 0).any():
            raise H3pcError(f"{where}: negative dimension in shape {dims.tolist()}")
        return _count([int(d) for d in dims.reshape(-1)])
    if op in ("Expand", "Tile"):
        base, arg = shape(0), value(1)
        if base is None or arg is None:
            return None
        arg_dims = [int(d) for d in arg.reshape(-1)]
        if any(d < 0 for d in arg_dims):
            raise H3pcError(f"{where}: negative value in {'shape' if op == 'Expand' else 'repeats'} {arg_dims}")
        if op == "Tile":
            return _count([a * b for a, b in zip(base, arg_dims)]) if len(arg_dims) == len(base) else None
        rank = max(len(base), len(arg_dims))
        a = [1] * (rank - len(base)) + list(base)
        b = [1] * (rank - len(arg_dims)) + arg_dims
        return _count([max(x, y) for x, y in zip(a, b)])
    return None


def _run_subgraph(submodel, feeds: dict[str, np.ndarray], first) -> list[np.ndarray]:
    """Evaluate a constant subgraph with onnxruntime, the reference every test compares against."""
    with quiet_stderr():  # its first import may warn (providers, CPU features) on its own
        import onnxruntime as ort

    ort.set_default_logger_severity(4)  # fatal only: a failure is reported once, as our own line
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.intra_op_num_threads = 1
    try:
        with quiet_stderr():
            sess = ort.InferenceSession(submodel.SerializeToString(), opts, providers=["CPUExecutionProvider"])
            return sess.run(None, feeds)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        msg = str(exc).strip().splitlines()
        raise H3pcError(
            f"constant folding failed near node '{first.name or first.op_type}' ({first.op_type}): "
            f"{msg[-1] if msg else type(exc).__name__}"
        ) from None


def used_names(graph, nodes=None) -> set[str]:
    """Tensors that some node reads (inside its subgraphs too) or the graph returns."""
    return ({i for n in (graph.node if nodes is None else nodes) for i in control.node_inputs(n)}
            | {o.name for o in graph.output})


def _check_static(model, types, constants: set[str], why: str = "") -> None:
    graph = model.graph
    used = used_names(graph)
    for node in graph.node:
        for o in node.output:
            if o and o in used and o not in types:
                raise H3pcError(
                    f"cannot determine a static shape for tensor '{o}', output of node "
                    f"'{node.name or node.op_type}' ({node.op_type}){why}"
                )
