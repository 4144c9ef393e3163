"""LSTM, GRU and RNN (frontend/ops/recurrent.py) against onnxruntime, attribute variant by attribute variant.

Each case is one recurrent node built with `onnx.helper` (ir_version 10): W, R, B, P (and sequence_lens
where the case says so) are initializers, X and the initial states graph inputs. Every case runs through
the nn-level interpreter and through a compiled `sram-pim` program (program.bin round trip, emulated
--ideal); a few representative cases also compile for `hybrid` (stage one). Tolerance as in
tests/test_reference_ops.py: max|diff| <= 1e-4 * max(1, max|ref|).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from h3pc.backends import container
from h3pc.backends.program import from_container, to_container
from h3pc.compiler import compile_model
from h3pc.diagnostics import UnsupportedError
from h3pc.dialects import nn, pim
from h3pc.frontend.importer import import_model
from h3pc.runtime.emulator import Emulator
from h3pc.runtime.evaluate import NNProgram
from h3pc.workload import gemm_work
from test_reference_ops import run_ort

RNG = np.random.default_rng(20261203)
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P")


@dataclass
class Rec:
    """One recurrent node: sizes, attributes, which optional inputs it has and how they are given."""

    name: str
    op: str
    seq: int = 4
    batch: int = 2
    inp: int = 3
    hidden: int = 5
    attrs: dict = field(default_factory=dict)
    bias: bool = True
    lens: list[int] | None = None  # sequence_lens values
    lens_input: bool = False  # sequence_lens as a graph input (run time) instead of an initializer
    init_h: bool = False
    init_c: bool = False
    peep: bool = False
    runtime: tuple[str, ...] = ()  # weights given as graph inputs (as ONNX's node tests do), not initializers
    outputs: tuple[str, ...] = ("Y", "Y_h", "Y_c")
    hybrid: bool = False  # also compile for the hybrid target (stage one)
    opset: int = 17

    @property
    def dirs(self) -> int:
        return 2 if self.attrs.get("direction") == "bidirectional" else 1

    @property
    def layout(self) -> int:
        return int(self.attrs.get("layout", 0))


def u(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.uniform(-1, 1, size=shape) * scale).astype(np.float32)


def build(c: Rec) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    g, h, d = GATES[c.op], c.hidden, c.dirs
    outs = [o if o in c.outputs else "" for o in ("Y", "Y_h", "Y_c")[: 3 if c.op == "LSTM" else 2]]
    while outs and not outs[-1]:
        outs.pop()
    x_shape = [c.batch, c.seq, c.inp] if c.layout else [c.seq, c.batch, c.inp]
    state = [c.batch, d, h] if c.layout else [d, c.batch, h]
    inits = {"W": u(d, g * h, c.inp), "R": u(d, g * h, h)}
    feeds = {"X": u(*x_shape, scale=2.0)}
    given = {"X", "W", "R"}
    if c.bias:
        inits["B"] = u(d, 2 * g * h)
        given.add("B")
    if c.lens is not None:
        lens = np.asarray(c.lens, np.int32)
        (feeds if c.lens_input else inits)["sequence_lens"] = lens
        given.add("sequence_lens")
    if c.init_h:
        feeds["initial_h"] = u(*state)
        given.add("initial_h")
    if c.init_c:
        feeds["initial_c"] = u(*state)
        given.add("initial_c")
    if c.peep:
        inits["P"] = u(d, 3 * h)
        given.add("P")
    for name in c.runtime:
        feeds[name] = inits.pop(name)
    names = [n if n in given else "" for n in INPUTS[: 8 if c.op == "LSTM" else 6]]
    while not names[-1]:
        names.pop()
    node = helper.make_node(c.op, names, outs, name=f"{c.op.lower()}_node", hidden_size=h, **c.attrs)
    graph = helper.make_graph(
        [node], c.name,
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for k, v in feeds.items()],
        [helper.make_value_info(o, onnx.TypeProto()) for o in outs if o],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", c.opset)], ir_version=10)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    del model.graph.output[:]
    model.graph.output.extend(inferred.graph.output)
    return model, feeds


def reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's outputs. Its CPU kernels refuse layout=1, which ONNX defines as the layout-0 op on
    batch-major tensors: for those, the layout-0 twin runs on transposed inputs and its outputs are
    transposed back."""
    node = model.graph.node[0]
    if not any(a.name == "layout" and a.i == 1 for a in node.attribute):
        return run_ort(model, feeds)
    twin = onnx.ModelProto()
    twin.CopyFrom(model)
    tnode = twin.graph.node[0]
    for a in list(tnode.attribute):
        if a.name == "layout":
            tnode.attribute.remove(a)
    swapped = {"X", "initial_h", "initial_c"}
    for vi in twin.graph.input:
        if vi.name in swapped:
            dims = vi.type.tensor_type.shape.dim
            d0, d1 = dims[0].dim_value, dims[1].dim_value
            dims[0].dim_value, dims[1].dim_value = d1, d0
    outs = [o.name for o in twin.graph.output]
    del twin.graph.output[:]
    twin.graph.output.extend(helper.make_value_info(o, onnx.TypeProto()) for o in outs)
    twin = onnx.shape_inference.infer_shapes(twin, strict_mode=True)
    got = run_ort(twin, {k: v.transpose(1, 0, 2) if k in swapped else v for k, v in feeds.items()})
    return {k: v.transpose(2, 0, 1, 3) if v.ndim == 4 else v.transpose(1, 0, 2) for k, v in got.items()}


def assert_close(name: str, got: np.ndarray, ref: np.ndarray) -> None:
    assert got.shape == ref.shape, f"{name}: shape {got.shape}, onnxruntime {ref.shape}"
    assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype}, onnxruntime {ref.dtype}"
    diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
    tol = 1e-4 * max(1.0, float(np.max(np.abs(ref))))
    assert diff <= tol, f"{name}: max|diff| {diff:.3g} > {tol:.3g}"


BI = {"direction": "bidirectional"}
REV = {"direction": "reverse"}
CASES = [
    # LSTM
    Rec("lstm-forward", "LSTM", hybrid=True),
    Rec("lstm-reverse", "LSTM", attrs=REV, init_h=True, init_c=True),
    Rec("lstm-bidirectional", "LSTM", attrs=BI),
    Rec("lstm-bidirectional-sequence-lens", "LSTM", batch=3, attrs=BI, lens=[4, 1, 3], init_h=True, init_c=True,
        hybrid=True),
    Rec("lstm-sequence-lens-with-zero", "LSTM", batch=3, attrs=BI, lens=[2, 0, 4]),
    Rec("lstm-runtime-sequence-lens", "LSTM", batch=3, attrs=BI, lens=[3, 4, 2], lens_input=True, init_h=True),
    Rec("lstm-full-sequence-lens", "LSTM", attrs=REV, lens=[4, 4]),
    Rec("lstm-layout1", "LSTM", attrs={**BI, "layout": 1}, init_h=True, init_c=True, lens=[2, 4]),
    Rec("lstm-clip", "LSTM", attrs={"clip": 0.4}, init_h=True),
    Rec("lstm-peepholes", "LSTM", attrs=BI, peep=True, init_c=True),
    Rec("lstm-peepholes-clip-sequence-lens", "LSTM", attrs={**REV, "clip": 0.7}, peep=True, lens=[3, 2],
        init_h=True, init_c=True),
    Rec("lstm-input-forget", "LSTM", attrs={"input_forget": 1}, init_c=True),
    Rec("lstm-input-forget-peepholes", "LSTM", attrs={**BI, "input_forget": 1}, peep=True, init_h=True, init_c=True),
    Rec("lstm-activations-alpha-beta", "LSTM",
        attrs={"activations": ["HardSigmoid", "LeakyRelu", "ScaledTanh"], "activation_alpha": [0.3, 0.2, 0.9],
               "activation_beta": [0.45, 1.3]}),
    Rec("lstm-activations-bidirectional", "LSTM",
        attrs={**BI, "activations": ["Sigmoid", "Softsign", "Elu", "HardSigmoid", "Affine", "Softplus"],
               "activation_alpha": [0.7, 0.25, 0.5], "activation_beta": [0.55, 0.1]}),
    Rec("lstm-activations-defaults", "LSTM", attrs={"activations": ["HardSigmoid", "LeakyRelu", "Elu"]}),
    Rec("lstm-only-y-h", "LSTM", outputs=("Y_h",), batch=3, attrs=BI, lens=[4, 2, 3]),
    Rec("lstm-only-y-c", "LSTM", outputs=("Y_c",), init_h=True),
    Rec("lstm-no-bias", "LSTM", bias=False, batch=1, seq=3),
    Rec("lstm-one-step", "LSTM", seq=1, attrs=BI, init_h=True),
    Rec("lstm-opset7", "LSTM", opset=9, attrs=BI, init_h=True, init_c=True),
    Rec("lstm-runtime-weights", "LSTM", batch=3, attrs=BI, runtime=("W", "R", "B", "P"), peep=True, lens=[4, 2, 3],
        init_h=True, init_c=True, hybrid=True),
    Rec("lstm-one-step-runtime-weights", "LSTM", seq=1, attrs=BI, runtime=("W", "R", "B", "P"), peep=True),
    Rec("lstm-opset22", "LSTM", opset=22, attrs={**BI, "layout": 1}, lens=[3, 4], init_h=True, peep=True),
    # GRU
    Rec("gru-forward", "GRU", hybrid=True),
    Rec("gru-linear-before-reset", "GRU", attrs={"linear_before_reset": 1}, init_h=True),
    Rec("gru-reverse", "GRU", attrs=REV, init_h=True),
    Rec("gru-bidirectional-sequence-lens", "GRU", batch=3, attrs=BI, lens=[4, 1, 3], init_h=True),
    Rec("gru-bidirectional-lbr-sequence-lens", "GRU", batch=3, attrs={**BI, "linear_before_reset": 1}, lens=[2, 4, 3],
        hybrid=True),
    Rec("gru-runtime-sequence-lens", "GRU", batch=3, attrs={**REV, "linear_before_reset": 1}, lens=[3, 1, 4],
        lens_input=True),
    Rec("gru-layout1", "GRU", attrs={**BI, "layout": 1}, init_h=True),
    Rec("gru-clip", "GRU", attrs={"clip": 0.5}, init_h=True),
    Rec("gru-clip-lbr", "GRU", attrs={"clip": 0.5, "linear_before_reset": 1}, init_h=True),
    Rec("gru-activations", "GRU",
        attrs={**BI, "activations": ["HardSigmoid", "Relu", "Sigmoid", "ThresholdedRelu"],
               "activation_alpha": [0.25, 0.1], "activation_beta": [0.6]}),
    Rec("gru-runtime-weights", "GRU", batch=3, attrs=BI, runtime=("W", "R", "B"), lens=[1, 4, 3], init_h=True),
    Rec("gru-runtime-weights-lbr", "GRU", attrs={**REV, "linear_before_reset": 1}, runtime=("W", "R", "B"),
        init_h=True),
    Rec("gru-no-bias-only-y-h", "GRU", bias=False, outputs=("Y_h",), init_h=True),
    Rec("gru-only-y", "GRU", outputs=("Y",), attrs={"linear_before_reset": 1}),
    # RNN
    Rec("rnn-forward", "RNN", hybrid=True),
    Rec("rnn-reverse", "RNN", attrs=REV, init_h=True),
    Rec("rnn-bidirectional-sequence-lens", "RNN", batch=3, attrs=BI, lens=[1, 4, 2], init_h=True),
    Rec("rnn-runtime-sequence-lens", "RNN", batch=3, attrs=BI, lens=[4, 2, 3], lens_input=True),
    Rec("rnn-layout1", "RNN", attrs={**REV, "layout": 1}, init_h=True, lens=[3, 4]),
    Rec("rnn-clip", "RNN", attrs={"clip": 0.3}),
    Rec("rnn-activations", "RNN",
        attrs={**BI, "activations": ["LeakyRelu", "Softplus"], "activation_alpha": [0.2]}),
    Rec("rnn-relu", "RNN", batch=3, attrs={"activations": ["Relu"]}, init_h=True, lens=[2, 4, 3]),
    Rec("rnn-runtime-weights", "RNN", attrs=BI, runtime=("W", "R"), init_h=True),
    Rec("rnn-only-y-h", "RNN", outputs=("Y_h",), attrs=BI),
]


def _compile_and_emulate(path: Path, target: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    compiled = compile_model(str(path), target)
    assert compiled.program is not None
    prog = from_container(container.decode(container.encode(to_container(compiled.program))), path.stem)
    got, _, _ = Emulator(prog, ideal=True).run(feeds)
    return got


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_onnxruntime(case: Rec, tmp_path: Path) -> None:
    model, feeds = build(case)
    path = tmp_path / f"{case.name}.onnx"
    onnx.save(model, str(path))
    ref = reference(model, feeds)
    imported = import_model(path)
    # every op the unrolling emits is read: nothing is computed for an unused output, a zero initial
    # state, or a step that needs no recurrent weight
    ops = list(imported.func.body.block.ops)
    dead = [str(op)[:120] for op in ops[:-1] if not any(r.uses for r in op.results)]
    assert not dead, dead
    got = NNProgram(imported.module, imported.weights).run(feeds)
    assert set(got) == set(ref)
    for name, r in ref.items():
        assert_close(f"nn {name}", got[name], r)
    for target in ("sram-pim", "hybrid") if case.hybrid else ("sram-pim",):
        emulated = _compile_and_emulate(path, target, feeds)
        assert set(emulated) == set(ref)
        for name, r in ref.items():
            assert_close(f"{target} {name}", emulated[name], r)


@pytest.mark.parametrize("target", ["photonic", "reram-pim", "electronic"])
def test_other_homogeneous_targets(target: str, tmp_path: Path) -> None:
    """The bidirectional LSTM with sequence_lens on every other single-tier target (--ideal)."""
    case = next(c for c in CASES if c.name == "lstm-bidirectional-sequence-lens")
    model, feeds = build(case)
    path = tmp_path / "lstm.onnx"
    onnx.save(model, str(path))
    ref = reference(model, feeds)
    got = _compile_and_emulate(path, target, feeds)
    assert set(got) == set(ref)
    for name, r in ref.items():
        assert_close(f"{target} {name}", got[name], r)


def test_case_names_are_unique() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


def test_input_projection_is_one_static_gemm_on_pim(tmp_path: Path) -> None:
    """Per direction, X x W^T of every step is one constant-weight GEMM ([T*B, I] x [I, 4H]); each step's
    H x R^T is one more ([B, H] x [H, 4H]); on sram-pim the projection becomes one crossbar MVM."""
    case = Rec("lstm-projection", "LSTM", seq=6, batch=2, inp=7, hidden=4, attrs=BI, init_h=True)
    model, _ = build(case)
    path = tmp_path / "lstm.onnx"
    onnx.save(model, str(path))
    imported = import_model(path)
    works = [w for op in imported.func.body.block.ops if (w := gemm_work(op)) is not None]
    assert all(w.static_weights for w in works)
    proj = [w for w in works if w.k == case.inp]
    assert [(w.m, w.n) for w in proj] == [(case.seq * case.batch, 4 * case.hidden)] * 2
    rec = [w for w in works if w.k == case.hidden]
    assert len(rec) == 2 * case.seq and all((w.m, w.n) == (case.batch, 4 * case.hidden) for w in rec)
    assert len(works) == len(proj) + len(rec)

    compiled = compile_model(str(path), "sram-pim", codegen=False)
    ops = list(compiled.imported.module.walk())
    assert not any(isinstance(op, (nn.GemmOp, nn.MatMulOp)) for op in ops), "a GEMM stayed off the PIM tier"
    mvms = [op for op in ops if isinstance(op, pim.MVMOp)]
    proj_mvms = [op for op in mvms if nn.shape_of(op.operands[0])[-2:] == (case.seq * case.batch, case.inp)]
    assert len(proj_mvms) == 2
    assert len(mvms) == 2 + 2 * case.seq


def test_zero_initial_state_skips_the_first_recurrent_gemm(tmp_path: Path) -> None:
    """Without initial_h the state before the first step is zero: that step has no H x R^T at all."""
    case = Rec("rnn-steps", "RNN", seq=5)
    model, _ = build(case)
    path = tmp_path / "rnn.onnx"
    onnx.save(model, str(path))
    imported = import_model(path)
    works = [w for op in imported.func.body.block.ops if (w := gemm_work(op)) is not None]
    assert len(works) == 1 + (case.seq - 1)


def _refused(tmp_path: Path, model: onnx.ModelProto) -> str:
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    with pytest.raises(UnsupportedError) as exc:
        import_model(path)
    msg = str(exc.value)
    assert "\n" not in msg.strip()
    return msg


def test_runtime_weights_make_dynamic_gemms(tmp_path: Path) -> None:
    """W and R fed at run time: the same GEMMs, with a dynamic weight operand (nothing PIM-resident)."""
    case = Rec("gru-dynamic", "GRU", seq=3, attrs=BI, runtime=("W", "R"), init_h=True)
    model, _ = build(case)
    path = tmp_path / "gru.onnx"
    onnx.save(model, str(path))
    imported = import_model(path)
    works = [w for op in imported.func.body.block.ops if (w := gemm_work(op)) is not None]
    assert works and not any(w.static_weights for w in works)
    assert [w.m for w in works if w.k == case.inp] == [case.seq * case.batch] * 2


def test_activation_count_is_checked(tmp_path: Path) -> None:
    """One activation set for two directions: onnxruntime refuses it too."""
    case = Rec("lstm-one-set-bidirectional", "LSTM", attrs={**BI, "activations": ["Sigmoid", "Tanh", "Relu"]})
    model, _ = build(case)
    msg = _refused(tmp_path, model)
    assert "lstm_node" in msg and "6 names" in msg


def test_unknown_activation_is_refused_in_one_line(tmp_path: Path) -> None:
    model, _ = build(Rec("rnn-bad-activation", "RNN"))
    node = model.graph.node[0]
    node.attribute.append(helper.make_attribute("activations", ["Gelu"]))
    msg = _refused(tmp_path, model)
    assert "rnn_node" in msg and "RNN" in msg and "'Gelu'" in msg


def test_sequence_lens_out_of_range_is_refused(tmp_path: Path) -> None:
    model, _ = build(Rec("gru-bad-lens", "GRU", lens=[5, 2]))
    msg = _refused(tmp_path, model)
    assert "gru_node" in msg and "sequence_lens" in msg



def test_pinned_sequence_lens_become_constant_masks(tmp_path: Path) -> None:
    """sequence_lens as a graph input pinned at compile time (--input-value): the masks fold into
    constants (no run-time comparison), and the program matches onnxruntime on the pinned value."""
    case = Rec("lstm-pinned-lens", "LSTM", batch=3, attrs=BI, lens=[2, 4, 1], lens_input=True, init_h=True)
    model, feeds = build(case)
    path = tmp_path / "lstm.onnx"
    onnx.save(model, str(path))
    ref = reference(model, feeds)
    pins = {"sequence_lens": feeds.pop("sequence_lens")}
    imported = import_model(path, input_values=pins)
    ops = list(imported.func.body.block.ops)
    assert not any(isinstance(op, nn.LessOp) for op in ops)
    assert sum(isinstance(op, nn.WhereOp) for op in ops) > 0
    compiled = compile_model(str(path), "sram-pim", input_values=pins)
    assert compiled.program is not None
    got, _, _ = Emulator(compiled.program, ideal=True).run(feeds)
    assert set(got) == set(ref)
    for name, r in ref.items():
        assert_close(name, got[name], r)
