"""Recurrent layers (ONNX LSTM, GRU, RNN) unrolled over their static sequence length into nn ops.

Per direction, the input projection of all time steps is one GEMM with the constant W as its weight
(X[T*B, I] x W^T[I, G*H] + bias): a single weight-stationary layer that stage one can put on any tier,
PIM included. The recurrent projection H(t-1) x R^T is one GEMM per step, again with a constant weight;
gates, activations, clip, peepholes and the sequence_lens masks are elementwise nn ops (digital tier).
W, R, B and P given at run time (ONNX's node tests feed them as inputs) make the same GEMMs dynamic:
the graph still runs, but no weight is stationary.
Semantics follow onnxruntime's CPU kernels where the ONNX text leaves room: LSTM's input_forget couples
the gates as f = 1 - i; an activation's missing alpha/beta take onnxruntime's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import BoolAttr, IntegerType, TensorType
from xdsl.ir import Attribute, SSAValue

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr, shape_of
from h3pc.dialects.shapes import broadcast_shapes
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer

#: activation name (lower case) -> (takes alpha, takes beta, default alpha, default beta), as onnxruntime
#: consumes activation_alpha/activation_beta: in order, only by the functions that take them, defaults
#: once the lists run out (0 where the ONNX op has no default; onnxruntime's ThresholdedRelu too)
ACTIVATIONS: dict[str, tuple[bool, bool, float, float]] = {
    "sigmoid": (False, False, 0.0, 0.0),
    "tanh": (False, False, 0.0, 0.0),
    "relu": (False, False, 0.0, 0.0),
    "softsign": (False, False, 0.0, 0.0),
    "softplus": (False, False, 0.0, 0.0),
    "affine": (True, True, 0.0, 0.0),
    "leakyrelu": (True, False, 0.01, 0.0),
    "thresholdedrelu": (True, False, 0.0, 0.0),
    "scaledtanh": (True, True, 0.0, 0.0),
    "hardsigmoid": (True, True, 0.2, 0.5),
    "elu": (True, False, 1.0, 0.0),
}


@dataclass(frozen=True)
class Cell:
    """What distinguishes the three ops: gate count (the G of W's G*H rows) and default activations."""

    gates: int
    activations: tuple[str, ...]


CELLS = {"LSTM": Cell(4, ("Sigmoid", "Tanh", "Tanh")), "GRU": Cell(3, ("Sigmoid", "Tanh")), "RNN": Cell(1, ("Tanh",))}


#: a weight or bias: its value when the model gives it as a constant, else the run-time tensor
Operand = np.ndarray | SSAValue


def dims(v: Operand) -> tuple[int, ...]:
    return tuple(v.shape) if isinstance(v, np.ndarray) else shape_of(v)


@dataclass(frozen=True)
class Act:
    name: str  # lower case, a key of ACTIVATIONS
    alpha: float
    beta: float


class Unroller:
    """Emits one recurrent node's nn ops; every intermediate has the data's element type."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.elem: Attribute = ctx.imp.tensor_type(ctx.node.input[0]).element_type
        self.dtype = numpy_dtype(self.elem)
        self._scalars: dict[tuple[float, str], SSAValue] = {}

    # --- small emitters -----------------------------------------------------------------------

    def typ(self, shape: Sequence[int], elem: Attribute | None = None) -> TensorType:
        return TensorType(elem or self.elem, list(shape))

    def const(self, arr: np.ndarray, hint: str) -> SSAValue:
        return self.ctx.constant(np.ascontiguousarray(arr), hint)

    def scalar(self, v: float, hint: str) -> SSAValue:
        """A 0-d constant, one per value for the whole node (every step reuses it)."""
        key = (float(v), hint)
        if key not in self._scalars:
            self._scalars[key] = self.const(np.asarray(v, self.dtype), hint)
        return self._scalars[key]

    def binary(self, cls: type, a: SSAValue, b: SSAValue) -> SSAValue:
        shape = broadcast_shapes(shape_of(a), shape_of(b))
        return self.ctx.emit(cls, [a, b], result_types=[self.typ(shape)]).results[0]

    def unary(self, cls: type, x: SSAValue, props: dict | None = None) -> SSAValue:
        return self.ctx.emit(cls, [x], props, [x.type]).results[0]

    def reshape(self, x: SSAValue, shape: Sequence[int]) -> SSAValue:
        if tuple(shape_of(x)) == tuple(shape):
            return x
        return self.ctx.emit(nn.ReshapeOp, [x], result_types=[TensorType(x.type.element_type, list(shape))]).results[0]

    def transpose(self, x: SSAValue, perm: Sequence[int]) -> SSAValue:
        s = shape_of(x)
        return self.ctx.emit(nn.TransposeOp, [x], {"perm": ints_attr(perm)},
                             [TensorType(x.type.element_type, [s[p] for p in perm])]).results[0]

    def split(self, x: SSAValue, axis: int, sizes: Sequence[int]) -> list[SSAValue]:
        if len(sizes) == 1:
            return [x]
        s = list(shape_of(x))
        types = [TensorType(x.type.element_type, s[:axis] + [n] + s[axis + 1:]) for n in sizes]
        return list(self.ctx.emit(nn.SplitOp, [x], {"axis": int_attr(axis)}, types).results)

    def concat(self, xs: Sequence[SSAValue], axis: int) -> SSAValue:
        if len(xs) == 1:
            return xs[0]
        s = list(shape_of(xs[0]))
        s[axis] = sum(shape_of(x)[axis] for x in xs)
        return self.ctx.emit(nn.ConcatOp, list(xs), {"axis": int_attr(axis)},
                             [TensorType(xs[0].type.element_type, s)]).results[0]

    def value(self, v: Operand, hint: str) -> SSAValue:
        return self.const(v.astype(self.dtype), hint) if isinstance(v, np.ndarray) else v

    def gemm(self, a: SSAValue, w_t: Operand, bias: Operand | None, hint: str) -> SSAValue:
        """a[m, k] x w_t[k, n] (+ bias[n]); a constant w_t makes it a weight-stationary layer."""
        m, n = shape_of(a)[0], dims(w_t)[1]
        props = {"alpha": float_attr(1.0), "beta": float_attr(1.0), "trans_a": BoolAttr.from_bool(False),
                 "trans_b": BoolAttr.from_bool(False)}
        b = self.value(w_t, hint)
        zero = bias is None or (isinstance(bias, np.ndarray) and not bias.any())
        c = None if zero else self.value(bias, f"{hint}_bias")
        return self.ctx.emit(nn.GemmOp, [a, b, c], props, [self.typ((m, n))]).results[0]

    def direction(self, v: Operand, d: int) -> Operand:
        """Direction d of a [D, ...] weight: a numpy view, or slice + reshape of a run-time tensor."""
        return v[d] if isinstance(v, np.ndarray) else self.slice_dir(v, 0, d)

    def transposed(self, v: Operand) -> Operand:
        return np.ascontiguousarray(v.T) if isinstance(v, np.ndarray) else self.transpose(v, [1, 0])

    def pieces(self, v: Operand, axis: int, sizes: Sequence[int]) -> list[Operand]:
        if isinstance(v, np.ndarray):
            cuts = np.cumsum(sizes)[:-1]
            return list(np.split(v, cuts, axis=axis))
        return list(self.split(v, axis, sizes))

    def slice_dir(self, v: SSAValue, axis: int, d: int) -> SSAValue:
        """One direction's [B, H] state from a [D, B, H] (layout 0) or [B, D, H] (layout 1) tensor."""
        s = list(shape_of(v))
        if s[axis] > 1:
            starts, ends = [0] * len(s), list(s)
            starts[axis], ends[axis] = d, d + 1
            s[axis] = 1
            v = self.ctx.emit(nn.SliceOp, [v], {"starts": ints_attr(starts), "ends": ints_attr(ends),
                                                "steps": ints_attr([1] * len(s))},
                              [TensorType(v.type.element_type, s)]).results[0]
        return self.reshape(v, [n for i, n in enumerate(s) if i != axis])

    # --- cell pieces ----------------------------------------------------------------------------

    def activate(self, act: Act, x: SSAValue) -> SSAValue:
        """One activation of the ONNX list, composed from nn ops."""
        n, a, b = act.name, act.alpha, act.beta
        if n == "sigmoid":
            return self.unary(nn.SigmoidOp, x)
        if n == "tanh":
            return self.unary(nn.TanhOp, x)
        if n == "relu":
            return self.unary(nn.ReluOp, x)
        if n == "softplus":
            return self.unary(nn.SoftplusOp, x)
        if n == "leakyrelu":
            return self.unary(nn.LeakyReluOp, x, {"alpha": float_attr(a)})
        if n == "elu":
            return self.unary(nn.EluOp, x, {"alpha": float_attr(a)})
        if n == "hardsigmoid":
            return self.unary(nn.HardSigmoidOp, x, {"alpha": float_attr(a), "beta": float_attr(b)})
        if n == "affine":
            return self.binary(nn.AddOp, self.binary(nn.MulOp, x, self.scalar(a, "alpha")), self.scalar(b, "beta"))
        if n == "scaledtanh":
            t = self.unary(nn.TanhOp, self.binary(nn.MulOp, x, self.scalar(b, "beta")))
            return self.binary(nn.MulOp, t, self.scalar(a, "alpha"))
        if n == "softsign":
            return self.unary(nn.SoftsignOp, x)
        if n == "thresholdedrelu":
            return self.unary(nn.ThresholdedReluOp, x, {"alpha": float_attr(a)})
        raise AssertionError(n)  # parse_activations admits only the names above

    def clip(self, x: SSAValue, threshold: float | None) -> SSAValue:
        if threshold is None:
            return x
        return self.unary(nn.ClipOp, x, {"min": float_attr(-threshold), "max": float_attr(threshold)})

    def gate(self, act: Act, x: SSAValue, threshold: float | None) -> SSAValue:
        return self.activate(act, self.clip(x, threshold))

    def add_opt(self, a: SSAValue, b: SSAValue | None) -> SSAValue:
        return a if b is None else self.binary(nn.AddOp, a, b)

    def mul_opt(self, a: SSAValue, b: SSAValue | None) -> SSAValue | None:
        """a * b where b None stands for a zero state."""
        return None if b is None else self.binary(nn.MulOp, a, b)

    def keep(self, valid: SSAValue | None, new: SSAValue, old: SSAValue | None) -> SSAValue:
        """The state after a step: the new one where the sequence is still running, else the old one."""
        if valid is None:
            return new
        other = old if old is not None else self.scalar(0.0, "zero")
        return self.ctx.emit(nn.WhereOp, [valid, new, other], result_types=[new.type]).results[0]


def parse_activations(ctx: NodeContext, cell: Cell, dirs: int) -> list[list[Act]]:
    """The activation list per direction, with each function's alpha/beta resolved."""
    per = len(cell.activations)
    names = ctx.attr("activations")
    if names is None:
        names = list(cell.activations) * dirs
    elif len(names) != per * dirs:
        raise ctx.fail(f"activations {list(names)}: expected {per * dirs} names ({per} per direction)")
    alphas = list(ctx.attr("activation_alpha", []) or [])
    betas = list(ctx.attr("activation_beta", []) or [])
    acts = []
    for name in names:
        key = name.lower()
        if key not in ACTIVATIONS:
            raise ctx.fail(f"activation '{name}' is not supported (expected one of "
                           "Sigmoid, Tanh, Relu, HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu, "
                           "Softsign, Softplus)")
        takes_a, takes_b, da, db = ACTIVATIONS[key]
        a = (alphas.pop(0) if alphas else da) if takes_a else 0.0
        b = (betas.pop(0) if betas else db) if takes_b else 0.0
        acts.append(Act(key, float(a), float(b)))
    return [acts[d * per:(d + 1) * per] for d in range(dirs)]


def operand(ctx: NodeContext, i: int) -> Operand:
    """A weight input: its value when constant, else the run-time tensor (the GEMMs become dynamic)."""
    v = ctx.maybe_const(i)
    return ctx.input(i) if v is None else v


def wanted(ctx: NodeContext, i: int) -> bool:
    """Output i is named (an optional output left out is '') and read by a node or the graph."""
    return i < len(ctx.node.output) and ctx.node.output[i] != "" and ctx.output_used(i)


def step_masks(u: Unroller, ctx: NodeContext, seq_len: int, batch: int) -> list[SSAValue | None]:
    """Per step t, a [B, 1] boolean 'sequence b is still running' (t < sequence_lens[b]), or None per step
    when every sequence has the full length. The same mask serves both directions: a reverse pass that
    starts at step T-1 keeps its initial state until it reaches the sequence's own last step."""
    if not ctx.has_input(4):
        return [None] * seq_len
    lens = ctx.maybe_const(4)
    if lens is not None:
        lens = lens.reshape(-1).astype(np.int64)
        if lens.shape != (batch,):
            raise ctx.fail(f"sequence_lens has {lens.size} values for a batch of {batch}")
        if ((lens < 0) | (lens > seq_len)).any():
            raise ctx.fail(f"sequence_lens {lens.tolist()} must lie in [0, {seq_len}] (the sequence length)")
        if (lens == seq_len).all():
            return [None] * seq_len
        return [u.const((t < lens).reshape(batch, 1), f"running_t{t}") for t in range(seq_len)]
    # given at run time: one comparison against the step indices, split per step
    lens_v = u.reshape(ctx.input(4), [1, batch, 1])
    idx_dtype = numpy_dtype(lens_v.type.element_type)
    steps = u.const(np.arange(seq_len, dtype=idx_dtype).reshape(seq_len, 1, 1), "steps")
    b1 = IntegerType(1)
    running = ctx.emit(nn.LessOp, [steps, lens_v], result_types=[TensorType(b1, [seq_len, batch, 1])]).results[0]
    return [u.reshape(m, [batch, 1]) for m in u.split(running, 0, [1] * seq_len)]


@importer("LSTM", "GRU", "RNN",
          to=["nn.gemm", "nn.add", "nn.mul", "nn.sub", "nn.sigmoid", "nn.tanh", "nn.relu", "nn.leaky_relu", "nn.elu",
              "nn.hard_sigmoid", "nn.softplus", "nn.softsign", "nn.thresholded_relu", "nn.clip", "nn.split", "nn.concat",
              "nn.reshape", "nn.transpose", "nn.slice", "nn.where", "nn.less"],
          note="unrolled over the sequence: per direction the input projection of all steps is one "
               "GEMM, the recurrent projection one per step; every direction, activation (with alpha/beta), clip, "
               "layout, sequence_lens (constant or run-time), initial states, peepholes, input_forget, "
               "linear_before_reset; W, R, B, P constant (weight-stationary) or run-time (dynamic GEMMs)")
def recurrent(ctx: NodeContext) -> list:
    kind = ctx.node.op_type
    cell = CELLS[kind]
    direction = ctx.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ctx.fail(f"direction '{direction}' is not one of forward, reverse, bidirectional")
    dirs = 2 if direction == "bidirectional" else 1
    layout = int(ctx.attr("layout", 0))
    if layout not in (0, 1):
        raise ctx.fail(f"layout {layout} is not 0 or 1")
    xs = ctx.shape(0)
    if len(xs) != 3:
        raise ctx.fail(f"X of shape {list(xs)} is not 3-D")
    seq_len, batch, in_size = (xs[1], xs[0], xs[2]) if layout else xs
    if 0 in (seq_len, batch, in_size):
        raise ctx.fail(f"X of shape {list(xs)} is empty; zero-size operands are not supported")
    u = Unroller(ctx)
    if u.dtype.kind != "f":
        raise ctx.fail(f"X has element type {u.dtype}; a recurrent layer needs floating point")
    w, r = operand(ctx, 1), operand(ctx, 2)
    g = cell.gates
    hidden = int(ctx.attr("hidden_size", dims(r)[-1]))
    if dims(w) != (dirs, g * hidden, in_size) or dims(r) != (dirs, g * hidden, hidden):
        raise ctx.fail(f"W {list(dims(w))} / R {list(dims(r))} do not match {dirs} direction(s), {g} gate(s), "
                       f"hidden_size {hidden} and input size {in_size}")
    bias = operand(ctx, 3) if ctx.has_input(3) else np.zeros((dirs, 2 * g * hidden), u.dtype)
    if dims(bias) != (dirs, 2 * g * hidden):
        raise ctx.fail(f"B {list(dims(bias))} is not [{dirs}, {2 * g * hidden}]")
    peep = operand(ctx, 7) if kind == "LSTM" and ctx.has_input(7) else None
    if peep is not None and dims(peep) != (dirs, 3 * hidden):
        raise ctx.fail(f"P {list(dims(peep))} is not [{dirs}, {3 * hidden}]")
    acts = parse_activations(ctx, cell, dirs)
    clip = ctx.attr("clip")
    clip = None if clip is None else float(clip)
    input_forget = kind == "LSTM" and bool(ctx.attr("input_forget", 0))
    lbr = kind == "GRU" and bool(ctx.attr("linear_before_reset", 0))

    x = ctx.input(0)
    if layout:
        x = u.transpose(x, [1, 0, 2])
    x2 = u.reshape(x, [seq_len * batch, in_size])
    masks = step_masks(u, ctx, seq_len, batch)
    state_axis = 1 if layout else 0
    h0_in = ctx.opt_input(5)
    c0_in = ctx.opt_input(6) if kind == "LSTM" else None
    need_y, need_h, need_c = wanted(ctx, 0), wanted(ctx, 1), kind == "LSTM" and wanted(ctx, 2)

    ys, hs, cs = [], [], []
    for d in range(dirs):
        reverse = direction == "reverse" or d == 1
        gh = g * hidden
        wb, rb = u.pieces(u.direction(bias, d), 0, [gh, gh])
        rbh = None
        if isinstance(wb, np.ndarray):
            in_bias: Operand = wb.astype(np.float64) + rb.astype(np.float64)
            if lbr:  # the h gate's Rbh is added to H x Rh^T, inside the reset product
                in_bias[2 * hidden:] = wb[2 * hidden:]
                rbh = rb[2 * hidden:] if rb[2 * hidden:].any() else None
        elif lbr:
            rb_zr, rbh = u.pieces(rb, 0, [2 * hidden, hidden])
            in_bias = u.binary(nn.AddOp, wb, u.concat([rb_zr, u.const(np.zeros(hidden, u.dtype), "zeros")], 0))
        else:
            in_bias = u.binary(nn.AddOp, wb, rb)
        xw = u.gemm(x2, u.transposed(u.direction(w, d)), in_bias, f"W{d}_t")
        per_step = u.split(xw, 0, [batch] * seq_len)
        h = u.slice_dir(h0_in, state_axis, d) if h0_in is not None else None
        c = u.slice_dir(c0_in, state_axis, d) if c0_in is not None else None
        step = DirectionStep(u, kind, acts[d], r, rbh, peep, hidden, clip, input_forget, lbr, d)
        out: list[SSAValue | None] = [None] * seq_len
        order = range(seq_len - 1, -1, -1) if reverse else range(seq_len)
        for n, t in enumerate(order):
            more = n < seq_len - 1  # the last step computes only the states an output reads
            h_new, c_new = step.run(per_step[t], h, c, need_h=more or need_y or need_h)
            if need_y:
                out[t] = u.keep(masks[t], h_new, None)
            if more or need_h:
                h = u.keep(masks[t], h_new, h)
            if kind == "LSTM" and (more or need_c):
                c = u.keep(masks[t], c_new, c)
        ys.append(out)
        hs.append(h)
        cs.append(c)

    results: list[SSAValue | None] = [None, None, None][: len(ctx.node.output)]
    if need_y:
        per_dir = [u.reshape(u.concat(o, 0), [seq_len, 1, batch, hidden]) for o in ys]
        y = u.concat(per_dir, 1)
        if layout:
            y = u.transpose(y, [2, 0, 1, 3])
        results[0] = u.reshape(y, ctx.out_shape(0))
    for i, states, need in ((1, hs, need_h), (2, cs, need_c)):
        if need:
            shaped = [u.reshape(s, [batch, 1, hidden] if layout else [1, batch, hidden]) for s in states]
            results[i] = u.concat(shaped, state_axis)
    return results


class DirectionStep:
    """One time step of one direction: the recurrent GEMM(s) and the gate arithmetic of the cell."""

    def __init__(self, u: Unroller, kind: str, acts: list[Act], r: Operand, rbh: Operand | None,
                 peep: Operand | None, hidden: int, clip: float | None, input_forget: bool, lbr: bool,
                 d: int) -> None:
        self.u, self.kind, self.acts, self.hidden, self.clip = u, kind, acts, hidden, clip
        self.input_forget, self.lbr = input_forget, lbr
        self.d, self.hint = d, f"R{d}_t"
        self._r, self._peep = r, peep  # [D, G*H, H] and [D, 3H]: sliced on first use, so no step computes
        self._values: dict[str, SSAValue] = {}  # what no step reads (a one-step layer from a zero state)
        self._peeps: list[Operand] | None = None
        self.rbh = None if rbh is None else u.value(rbh, f"Rbh{d}")

    def rec(self, h: SSAValue | None, key: str) -> SSAValue | None:
        """h x the weight `key`, None for a zero state (no GEMM at all). Each weight becomes one value on
        first use, shared by every step's GEMM."""
        if h is None:
            return None
        u = self.u
        if not self._values:  # first use: R^T [H, G*H]; GRU's h gate reads r * H, so it gets its own GEMM
            r_t = u.transposed(u.direction(self._r, self.d))
            pieces = {self.hint: r_t}
            if self.kind == "GRU" and not self.lbr:
                pieces = dict(zip((f"{self.hint}_zr", f"{self.hint}_h"),
                                  u.pieces(r_t, 1, [2 * self.hidden, self.hidden])))
            self._values = {k: u.value(v, k) for k, v in pieces.items()}
        return u.gemm(h, self._values[key], None, key)

    @property
    def has_peepholes(self) -> bool:
        return self._peep is not None

    def peephole(self, k: int, cell: SSAValue | None) -> SSAValue | None:
        """P[k] * cell (k indexes i, o, f), None without peepholes or for a zero cell state."""
        if self._peep is None or cell is None:
            return None
        u = self.u
        if self._peeps is None:
            self._peeps = u.pieces(u.direction(self._peep, self.d), 0, [self.hidden] * 3)
        p = self._peeps[k]
        if isinstance(p, np.ndarray):
            p = self._peeps[k] = u.value(p, f"P{self.d}_{'iof'[k]}")
        return u.binary(nn.MulOp, p, cell)

    def run(self, xw: SSAValue, h: SSAValue | None, c: SSAValue | None,
            need_h: bool = True) -> tuple[SSAValue | None, SSAValue | None]:
        """The new hidden (and LSTM cell) state; an LSTM skips the hidden state when nothing reads it."""
        if self.kind == "RNN":
            pre = self.u.add_opt(xw, self.rec(h, self.hint))
            return self.u.gate(self.acts[0], pre, self.clip), None
        if self.kind == "GRU":
            return self.gru(xw, h), None
        return self.lstm(xw, h, c, need_h)

    def lstm(self, xw: SSAValue, h: SSAValue | None, c: SSAValue | None,
             need_h: bool) -> tuple[SSAValue | None, SSAValue]:
        u, hs, (f_act, g_act, h_act) = self.u, self.hidden, self.acts
        pre = u.add_opt(xw, self.rec(h, self.hint))
        o: SSAValue | None = None
        if not self.has_peepholes and not self.input_forget:  # i, o, f share f(): one op for the three
            iof, cg = u.split(pre, 1, [3 * hs, hs])
            i, o, f = u.split(u.gate(f_act, iof, self.clip), 1, [hs, hs, hs])
        else:
            pi, po, pf, cg = u.split(pre, 1, [hs] * 4)
            i = u.gate(f_act, u.add_opt(pi, self.peephole(0, c)), self.clip)
            if c is None:  # a zero cell state: nothing to forget
                f = None
            elif self.input_forget:  # onnxruntime couples the gates as f = 1 - i
                f = u.binary(nn.SubOp, u.scalar(1.0, "one"), i)
            else:
                f = u.gate(f_act, u.add_opt(pf, self.peephole(2, c)), self.clip)
        g = u.gate(g_act, cg, self.clip)
        c_new = u.add_opt(u.binary(nn.MulOp, i, g), None if f is None else u.mul_opt(f, c))
        if not need_h:
            return None, c_new
        if o is None:  # the output gate peeks at the new cell state
            o = u.gate(f_act, u.add_opt(po, self.peephole(1, c_new)), self.clip)
        h_new = u.binary(nn.MulOp, o, u.activate(h_act, c_new))
        return h_new, c_new

    def gru(self, xw: SSAValue, h: SSAValue | None) -> SSAValue:
        u, hs, (f_act, g_act) = self.u, self.hidden, self.acts
        xzr, xh = u.split(xw, 1, [2 * hs, hs])
        if self.lbr:
            rec = self.rec(h, self.hint)
            rzr, rh = u.split(rec, 1, [2 * hs, hs]) if rec is not None else (None, None)
            z, r = u.split(u.gate(f_act, u.add_opt(xzr, rzr), self.clip), 1, [hs, hs])
            rh = u.add_opt(rh, self.rbh) if rh is not None else self.rbh
            hh = u.gate(g_act, u.add_opt(xh, u.mul_opt(r, rh)), self.clip)
        else:
            rzr = self.rec(h, f"{self.hint}_zr")
            z, r = u.split(u.gate(f_act, u.add_opt(xzr, rzr), self.clip), 1, [hs, hs])
            rh = self.rec(u.mul_opt(r, h), f"{self.hint}_h")
            hh = u.gate(g_act, u.add_opt(xh, rh), self.clip)
        out = u.binary(nn.MulOp, u.binary(nn.SubOp, u.scalar(1.0, "one"), z), hh)  # (1 - z) * hh + z * H
        return u.add_opt(out, u.mul_opt(z, h))
