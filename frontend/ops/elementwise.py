"""Elementwise ops: unary maps (trigonometric, tests, bitwise), binary/variadic arithmetic, comparisons, Mod,
BitShift, activations, Cast."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import BoolAttr, StringAttr

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer

UNARY = {
    "Neg": nn.NegOp, "Abs": nn.AbsOp, "Reciprocal": nn.ReciprocalOp, "Sqrt": nn.SqrtOp, "Exp": nn.ExpOp,
    "Log": nn.LogOp, "Erf": nn.ErfOp, "Tanh": nn.TanhOp, "Sigmoid": nn.SigmoidOp, "Relu": nn.ReluOp,
    "Not": nn.NotOp, "Floor": nn.FloorOp, "Ceil": nn.CeilOp, "Round": nn.RoundOp, "Sign": nn.SignOp,
    "Sin": nn.SinOp, "Cos": nn.CosOp, "Softplus": nn.SoftplusOp, "HardSwish": nn.HardSwishOp,
    "Tan": nn.TanOp, "Asin": nn.AsinOp, "Acos": nn.AcosOp, "Atan": nn.AtanOp, "Sinh": nn.SinhOp, "Cosh": nn.CoshOp,
    "Asinh": nn.AsinhOp, "Acosh": nn.AcoshOp, "Atanh": nn.AtanhOp, "Softsign": nn.SoftsignOp, "Mish": nn.MishOp,
    "IsNaN": nn.IsNanOp, "BitwiseNot": nn.BitwiseNotOp,
}
BINARY = {
    "Add": nn.AddOp, "Sub": nn.SubOp, "Mul": nn.MulOp, "Div": nn.DivOp, "Pow": nn.PowOp, "PRelu": nn.PReluOp,
    "And": nn.AndOp, "Or": nn.OrOp, "Xor": nn.XorOp, "Equal": nn.EqualOp, "Less": nn.LessOp,
    "LessOrEqual": nn.LessEqualOp, "Greater": nn.GreaterOp, "GreaterOrEqual": nn.GreaterEqualOp,
    "BitwiseAnd": nn.BitwiseAndOp, "BitwiseOr": nn.BitwiseOrOp, "BitwiseXor": nn.BitwiseXorOp,
}
VARIADIC = {"Sum": nn.SumOp, "Mean": nn.MeanOp, "Max": nn.MaxOp, "Min": nn.MinOp}


def _by_table(table: dict[str, type]):
    def imp(ctx: NodeContext) -> list:
        cls = table[ctx.node.op_type]
        return [ctx.emit(cls, [ctx.input(i) for i in range(ctx.num_inputs)]).results[0]]

    return imp


for _t, _c in UNARY.items():
    importer(_t, to=[_c.name])(_by_table(UNARY))
for _t, _c in BINARY.items():
    importer(_t, to=[_c.name], note="numpy broadcasting")(_by_table(BINARY))
for _t, _c in VARIADIC.items():
    importer(_t, to=[_c.name], note="variadic, broadcasting")(_by_table(VARIADIC))


@importer("Identity", "Dropout", to=[], note="inference: forwards its input")
def identity(ctx: NodeContext) -> list:
    if ctx.node.op_type == "Dropout" and ctx.has_input(2):
        _check_inference_dropout(ctx)
    if ctx.node.op_type == "Dropout" and ctx.output_used(1):
        mask = np.ones(ctx.shape(0), dtype=bool)
        return [ctx.input(0), ctx.constant(mask, "mask")]
    return [ctx.input(0)]


def _check_inference_dropout(ctx: NodeContext) -> None:
    """Dropout forwards its input only when it drops nothing: training_mode (input 2, opset 12+) a
    constant false, or the ratio a constant 0. A random mask could never match anyway."""
    training = ctx.maybe_const(2)
    if training is not None and not np.any(training):
        return
    ratio = ctx.maybe_const(1) if ctx.has_input(1) else np.asarray(0.5)
    if ratio is not None and not np.any(ratio):
        return
    what = "true" if training is not None else "not a compile-time constant"
    raise ctx.fail(f"training_mode (input 2, '{ctx.node.input[2]}') is {what}: training-mode (random) dropout "
                   "is not supported")


@importer("Cast", "CastLike", to=["nn.cast"])
def cast(ctx: NodeContext) -> list:
    if ctx.elem(0) == ctx.imp.graph.types[ctx.node.output[0]][0]:
        return [ctx.input(0)]
    return [ctx.emit(nn.CastOp, [ctx.input(0)]).results[0]]


@importer("Where", to=["nn.where"])
def where(ctx: NodeContext) -> list:
    return [ctx.emit(nn.WhereOp, [ctx.input(0), ctx.input(1), ctx.input(2)]).results[0]]


@importer("LeakyRelu", to=["nn.leaky_relu"])
def leaky_relu(ctx: NodeContext) -> list:
    return [ctx.emit(nn.LeakyReluOp, [ctx.input(0)], {"alpha": float_attr(ctx.attr("alpha", 0.01))}).results[0]]


@importer("Elu", to=["nn.elu"])
def elu(ctx: NodeContext) -> list:
    return [ctx.emit(nn.EluOp, [ctx.input(0)], {"alpha": float_attr(ctx.attr("alpha", 1.0))}).results[0]]


@importer("HardSigmoid", to=["nn.hard_sigmoid"])
def hard_sigmoid(ctx: NodeContext) -> list:
    props = {"alpha": float_attr(ctx.attr("alpha", 0.2)), "beta": float_attr(ctx.attr("beta", 0.5))}
    return [ctx.emit(nn.HardSigmoidOp, [ctx.input(0)], props).results[0]]


@importer("Clip", to=["nn.clip", "nn.max", "nn.min"],
          note="constant bounds: nn.clip; run-time bounds: max, then min")
def clip(ctx: NodeContext) -> list:
    props = {}
    if ctx.opset < 11:
        lo, hi = ctx.attr("min"), ctx.attr("max")
    else:
        runtime = [i for i in (1, 2) if ctx.has_input(i) and ctx.maybe_const(i) is None]
        if runtime:
            return [_clip_runtime(ctx)]
        lo = ctx.const(1, "min").item() if ctx.has_input(1) else None
        hi = ctx.const(2, "max").item() if ctx.has_input(2) else None
    if lo is not None:
        props["min"] = float_attr(lo)
    if hi is not None:
        props["max"] = float_attr(hi)
    return [ctx.emit(nn.ClipOp, [ctx.input(0)], props).results[0]]


@importer("Gelu", to=["nn.gelu"], note="opset 20; the Erf and Tanh decompositions import as their parts")
def gelu(ctx: NodeContext) -> list:
    return [ctx.emit(nn.GeluOp, [ctx.input(0)], {"approximate": StringAttr(ctx.attr("approximate", "none"))}).results[0]]


@importer("Mod", to=["nn.mod"], note="fmod=0: the divisor's sign (Python %), fmod=1: C fmod; numpy broadcasting")
def mod(ctx: NodeContext) -> list:
    fmod = BoolAttr.from_bool(bool(ctx.attr("fmod", 0)))
    return [ctx.emit(nn.ModOp, [ctx.input(0), ctx.input(1)], {"fmod": fmod}).results[0]]


@importer("BitShift", to=["nn.bit_shift"], note="numpy broadcasting")
def bit_shift(ctx: NodeContext) -> list:
    direction = str(ctx.attr("direction", "")).lower()
    if direction not in ("left", "right"):
        raise ctx.fail(f"direction '{direction}' must be LEFT or RIGHT")
    return [ctx.emit(nn.BitShiftOp, [ctx.input(0), ctx.input(1)], {"direction": StringAttr(direction)}).results[0]]


@importer("IsInf", to=["nn.is_inf"])
def is_inf(ctx: NodeContext) -> list:
    props = {"detect_positive": BoolAttr.from_bool(bool(ctx.attr("detect_positive", 1))),
             "detect_negative": BoolAttr.from_bool(bool(ctx.attr("detect_negative", 1)))}
    return [ctx.emit(nn.IsInfOp, [ctx.input(0)], props).results[0]]


#: activations with float attributes: ONNX op -> (nn op, {attribute: default})
ACTIVATIONS: dict[str, tuple[type, dict[str, float]]] = {
    "Selu": (nn.SeluOp, {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}),
    "Celu": (nn.CeluOp, {"alpha": 1.0}),
    "ThresholdedRelu": (nn.ThresholdedReluOp, {"alpha": 1.0}),
    "Shrink": (nn.ShrinkOp, {"bias": 0.0, "lambd": 0.5}),
    "Swish": (nn.SwishOp, {"alpha": 1.0}),
}


def activation(ctx: NodeContext) -> list:
    cls, defaults = ACTIVATIONS[ctx.node.op_type]
    props = {k: float_attr(ctx.attr(k, v)) for k, v in defaults.items()}
    if ctx.node.op_type == "Celu" and props["alpha"].value.data == 0:
        raise ctx.fail("alpha=0 divides by zero")
    return [ctx.emit(cls, [ctx.input(0)], props).results[0]]


for _t, (_c, _d) in ACTIVATIONS.items():
    importer(_t, to=[_c.name], note=", ".join(_d))(activation)


@importer("SwiGLU", to=["nn.swish", "nn.mul"], note="Swish(A) * B, exactly its definition")
def swiglu(ctx: NodeContext) -> list:
    if ctx.shape(0) != ctx.shape(1):
        raise ctx.fail(f"A {list(ctx.shape(0))} and B {list(ctx.shape(1))} must have one shape (no broadcasting)")
    gate = ctx.unary(nn.SwishOp, ctx.input(0), {"alpha": float_attr(ctx.attr("alpha", 1.0))},
                     out_shape=ctx.shape(0))
    return [ctx.emit(nn.MulOp, [gate, ctx.input(1)]).results[0]]


@importer("BitCast", to=["nn.bitcast"], note="same bit width; not bfloat16 (held as float32 here)")
def bitcast(ctx: NodeContext) -> list:
    src, dst = ctx.elem(0), ctx.imp.graph.types[ctx.node.output[0]][0]
    if 16 in (src, dst):
        raise ctx.fail("bfloat16 is computed as float32 here, so its bit pattern is not available")
    return [ctx.emit(nn.BitCastOp, [ctx.input(0)]).results[0]]


def _clip_runtime(ctx: NodeContext):
    """Clip with a bound computed at run time: min(max(x, lo), hi), which is ONNX's definition (lo > hi gives
    hi everywhere). Each bound is a one-element tensor broadcast over x."""
    y = ctx.input(0)
    for i, cls in ((1, nn.MaxOp), (2, nn.MinOp)):
        if not ctx.has_input(i):
            continue
        if ctx.shape(i) not in ((), (1,)):
            raise ctx.fail(f"bound (input {i}) of shape {list(ctx.shape(i))} must hold one value")
        bound = ctx.input(i) if ctx.maybe_const(i) is None else ctx.constant(ctx.maybe_const(i).reshape(()), "bound")
        y = ctx.emit(cls, [y, bound], result_types=[ctx.out_type()]).results[0]
    return y
