"""ONNX Attention (opsets 23-25), decomposed into nn ops so the partitioner sees both dynamic GEMMs;
RotaryEmbedding and LinearAttention."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import BoolAttr, IntegerType, StringAttr, TensorType
from xdsl.ir import SSAValue

from h3pc.dialects import nn
from h3pc.dialects.nn import float_attr, int_attr, ints_attr, shape_of
from h3pc.dialects.types import numpy_dtype
from h3pc.frontend.node import NodeContext
from h3pc.frontend.registry import importer


def _to_heads(ctx: NodeContext, v: SSAValue, heads: int | None) -> SSAValue:
    """[B, S, H*D] -> [B, H, S, D]; 4-D inputs pass through."""
    s = shape_of(v)
    if len(s) == 4:
        return v
    if not heads:
        raise ctx.fail("3-D inputs need q_num_heads and kv_num_heads")
    b, n, hd = s
    r = ctx.unary(nn.ReshapeOp, v, out_shape=(b, n, heads, hd // heads))
    return ctx.unary(nn.TransposeOp, r, {"perm": ints_attr([0, 2, 1, 3])}, out_shape=(b, heads, n, hd // heads))


def _binary(ctx: NodeContext, cls: type, a: SSAValue, b: SSAValue, shape) -> SSAValue:
    return ctx.emit(cls, [a, b], result_types=[TensorType(a.type.element_type, list(shape))]).results[0]


@importer("Attention", to=["nn.matmul", "nn.softmax", "nn.transpose", "nn.reshape", "nn.add", "nn.mul", "nn.concat",
                           "nn.gather", "nn.pad", "nn.div", "nn.tanh", "nn.reduce_max", "nn.greater", "nn.where"],
          note="opsets 23-25: 3-D/4-D, GQA, causal, sliding window, bool/float mask, past KV, "
               "nonpad_kv_seqlen, softcap, qk_matmul_output")
def attention(ctx: NodeContext) -> list:
    qk_mode = int(ctx.attr("qk_matmul_output_mode", 0))
    want_qk = len(ctx.node.output) > 3 and bool(ctx.node.output[3])
    if want_qk and qk_mode not in (0, 1, 2, 3):
        raise ctx.fail(f"unknown qk_matmul_output_mode {qk_mode}")
    if ctx.num_inputs > 6 and ctx.has_input(6) and ctx.has_input(4):
        raise ctx.fail("nonpad_kv_seqlen cannot be combined with past_key (ONNX)")
    q3 = len(ctx.shape(0)) == 3
    qh, kvh = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    q = _to_heads(ctx, ctx.input(0), qh)
    k = _to_heads(ctx, ctx.input(1), kvh)
    v = _to_heads(ctx, ctx.input(2), kvh)
    elem = q.type.element_type
    dt = numpy_dtype(elem)
    present = []
    for cur, past_idx in ((k, 4), (v, 5)):
        if ctx.has_input(past_idx):
            p = ctx.input(past_idx)
            shp = list(shape_of(p))
            shp[2] += shape_of(cur)[2]
            cur = ctx.emit(nn.ConcatOp, [p, cur], {"axis": int_attr(2)}, [TensorType(elem, shp)]).results[0]
        present.append(cur)
    k, v = present
    b, hq, sq, d = shape_of(q)
    hk, skv = shape_of(k)[1], shape_of(k)[2]
    if hq != hk:
        reps = hq // hk
        idx = np.repeat(np.arange(hk), reps).astype(np.int64)
        ind = ctx.constant(idx, "kv_heads")
        k = ctx.emit(nn.GatherOp, [k, ind], {"axis": int_attr(1)}, [TensorType(elem, [b, hq, skv, d])]).results[0]
        dv = shape_of(v)[3]
        v = ctx.emit(nn.GatherOp, [v, ind], {"axis": int_attr(1)}, [TensorType(elem, [b, hq, skv, dv])]).results[0]
    kt = ctx.unary(nn.TransposeOp, k, {"perm": ints_attr([0, 1, 3, 2])}, out_shape=(b, hq, d, skv))
    scores_shape = (b, hq, sq, skv)
    s = _binary(ctx, nn.MatMulOp, q, kt, scores_shape)
    scale = ctx.attr("scale")
    scale = 1.0 / np.sqrt(d) if scale is None else scale
    s = _binary(ctx, nn.MulOp, s, ctx.constant(np.asarray(scale, dt), "scale"), scores_shape)
    softcap = ctx.attr("softcap", 0.0)
    if softcap and softcap > 0:
        cap = ctx.constant(np.asarray(softcap, dt), "softcap")
        s = ctx.unary(nn.TanhOp, _binary(ctx, nn.DivOp, s, cap, scores_shape), out_shape=scores_shape)
        s = _binary(ctx, nn.MulOp, s, cap, scores_shape)
    # qk_matmul_output (onnx's reference order, the cap before the mask): modes 0 and 1 the scaled product
    # (soft-capped when softcap is set), 2 with the mask added, 3 the softmax
    qk = s
    bias, folded = _bias(ctx, sq, skv, dt)
    if bias is not None:
        s = _binary(ctx, nn.AddOp, s, bias, scores_shape)
        if qk_mode == 2:
            qk = s
    p = ctx.unary(nn.SoftmaxOp, s, {"axis": int_attr(3)}, out_shape=scores_shape)
    if bias is not None:
        p = _zero_masked_rows(ctx, p, bias, folded, dt)
    if qk_mode == 3:
        qk = p
    dv = shape_of(v)[3]
    y = _binary(ctx, nn.MatMulOp, p, v, (b, hq, sq, dv))
    if q3:
        y = ctx.unary(nn.TransposeOp, y, {"perm": ints_attr([0, 2, 1, 3])}, out_shape=(b, sq, hq, dv))
        y = ctx.unary(nn.ReshapeOp, y, out_shape=(b, sq, hq * dv))
    outs = [y]
    if len(ctx.node.output) > 1:
        outs += present
    if want_qk:
        outs.append(qk)
    return outs


def _zero_masked_rows(ctx: NodeContext, p: SSAValue, bias: SSAValue, folded: np.ndarray | None,
                      dt: np.dtype) -> SSAValue:
    """A query row whose keys are all masked (bias all -inf) softmaxes to NaN (exp(-inf - -inf));
    ONNX Attention defines its probabilities, hence its output, as 0 there."""
    shape = shape_of(p)
    if folded is not None:
        dead = np.isneginf(folded).all(axis=-1, keepdims=True)
        if not dead.any():
            return p
        keep = ctx.constant(~dead, "attended_rows")
    else:
        elem = bias.type.element_type
        row_shape = list(shape_of(bias)[:-1]) + [1]
        props = {"axes": ints_attr([-1]), "keepdims": BoolAttr.from_bool(True)}
        row_max = ctx.emit(nn.ReduceMaxOp, [bias], props, [TensorType(elem, row_shape)]).results[0]
        ninf = ctx.constant(np.asarray(-np.inf, dt), "ninf")
        keep = ctx.emit(nn.GreaterOp, [row_max, ninf], result_types=[TensorType(IntegerType(1), row_shape)]).results[0]
    zero = ctx.constant(np.asarray(0.0, dt), "zero")
    return ctx.emit(nn.WhereOp, [keep, p, zero], result_types=[TensorType(p.type.element_type, list(shape))]).results[0]


def _bias(ctx: NodeContext, sq: int, skv: int, dt: np.dtype) -> tuple[SSAValue | None, np.ndarray | None]:
    """Additive attention bias from is_causal, the sliding window, attn_mask and nonpad_kv_seqlen, and its
    value when it is constant (the constant parts are folded here)."""
    if not (ctx.num_inputs > 6 and ctx.has_input(6)):
        return _static_bias(ctx, sq, skv, dt, positional=True)
    bias, _ = _static_bias(ctx, sq, skv, dt, positional=False)
    dyn = _nonpad_bias(ctx, sq, skv, dt)
    if bias is None:
        return dyn, None
    from h3pc.dialects.shapes import broadcast_shapes

    return _binary(ctx, nn.AddOp, bias, dyn, broadcast_shapes(shape_of(bias), shape_of(dyn))), None


def _nonpad_bias(ctx: NodeContext, sq: int, skv: int, dt: np.dtype) -> SSAValue:
    """The bias of an external (static) KV cache, [B, 1, sq, skv]: key j is valid when j < len[b], and the
    causal frontier and the sliding window are offset per batch by len[b] - sq. With g = j - i + sq every
    condition compares a constant grid with len[b]: causal g <= len, left window g + left >= len, right
    window g - right <= len."""
    from h3pc.dialects.types import element_type_from_numpy

    b = ctx.shape(6)[0] if ctx.shape(6) else 1
    lens = ctx.input(6)
    i64 = element_type_from_numpy(np.dtype(np.int64))
    if ctx.elem(6) != 7:
        lens = ctx.unary(nn.CastOp, lens, out_elem=i64, out_shape=ctx.shape(6))
    lens = ctx.unary(nn.ReshapeOp, lens, out_shape=(b, 1, 1, 1))
    boolean = IntegerType(1)

    def compare(cls: type, grid: np.ndarray, hint: str, lhs_grid: bool = True) -> SSAValue:
        g = ctx.constant(grid.reshape((1, 1) + grid.shape).astype(np.int64), hint)
        shape = (b, 1) + grid.shape
        ops = [g, lens] if lhs_grid else [lens, g]
        return ctx.emit(cls, ops, result_types=[TensorType(boolean, list(shape))]).results[0]

    allowed = compare(nn.LessOp, np.arange(skv)[None, :], "kv_positions")  # j < len
    g = np.arange(skv)[None, :] - np.arange(sq)[:, None] + sq
    left, right = int(ctx.attr("left_window_size", -1)), int(ctx.attr("right_window_size", -1))
    conds = []
    if ctx.attr("is_causal", 0):
        conds.append(compare(nn.LessEqualOp, g, "causal_frontier"))
    if left >= 0:
        conds.append(compare(nn.GreaterEqualOp, g + left, "window_left"))
    if right >= 0:
        conds.append(compare(nn.LessEqualOp, g - right, "window_right"))
    for c in conds:
        allowed = ctx.emit(nn.AndOp, [allowed, c], result_types=[TensorType(boolean, [b, 1, sq, skv])]).results[0]
    zero = ctx.constant(np.asarray(0.0, dt), "zero")
    ninf = ctx.constant(np.asarray(-np.inf, dt), "ninf")
    out = list(shape_of(allowed))
    return ctx.emit(nn.WhereOp, [allowed, zero, ninf],
                    result_types=[TensorType(element_type_from_numpy(dt), out)]).results[0]


def _static_bias(ctx: NodeContext, sq: int, skv: int, dt: np.dtype,
                 positional: bool) -> tuple[SSAValue | None, np.ndarray | None]:
    """attn_mask plus (when `positional`) the causal and sliding-window bias of an internal cache."""
    past = ctx.shape(4)[2] if ctx.has_input(4) else 0
    causal = None
    # opset 25's sliding window: query at absolute position p = past + i attends key j iff
    # p - left <= j <= p + right, each bound only when >= 0 (-1 leaves that side open)
    left, right = int(ctx.attr("left_window_size", -1)), int(ctx.attr("right_window_size", -1))
    if left < -1 or right < -1:
        raise ctx.fail(f"left_window_size {left} / right_window_size {right} must be -1 or >= 0")
    if positional and (ctx.attr("is_causal", 0) or left >= 0 or right >= 0):
        diff = (np.arange(sq)[:, None] + past) - np.arange(skv)[None, :]
        allowed = np.ones(diff.shape, dtype=bool)
        if ctx.attr("is_causal", 0):
            allowed &= diff >= 0
        if left >= 0:
            allowed &= diff <= left
        if right >= 0:
            allowed &= -diff <= right
        causal = np.where(allowed, 0.0, -np.inf).astype(dt)
    if not ctx.has_input(3):
        return (None, None) if causal is None else (ctx.constant(causal, "causal"), causal)
    mshape = ctx.shape(3)
    pad = skv - mshape[-1]
    mask = ctx.maybe_const(3)
    if mask is not None:
        if mask.dtype == np.bool_:
            mask = np.where(mask, 0.0, -np.inf).astype(dt)
        if pad > 0:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, pad)], constant_values=-np.inf)
        total = (mask if causal is None else mask + causal).astype(dt)
        return ctx.constant(total, "mask"), total
    m = ctx.input(3)
    elem = ctx.imp.tensor_type(ctx.node.input[3]).element_type
    if ctx.elem(3) == 9:  # bool: true attends
        zero = ctx.constant(np.asarray(0.0, dt), "zero")
        ninf = ctx.constant(np.asarray(-np.inf, dt), "ninf")
        from h3pc.dialects.types import element_type_from_numpy

        m = ctx.emit(nn.WhereOp, [m, zero, ninf], result_types=[TensorType(element_type_from_numpy(dt), list(mshape))]).results[0]
    if pad > 0:
        from xdsl.dialects.builtin import StringAttr

        from h3pc.dialects.nn import float_attr

        padded = list(mshape[:-1]) + [skv]
        props = {"pads": ints_attr([0] * len(mshape) + [0] * (len(mshape) - 1) + [pad]),
                 "mode": StringAttr("constant"), "value": float_attr(-np.inf)}
        m = ctx.unary(nn.PadOp, m, props, out_shape=padded)
    if causal is not None:
        c = ctx.constant(causal, "causal")
        from h3pc.dialects.shapes import broadcast_shapes

        m = _binary(ctx, nn.AddOp, m, c, broadcast_shapes(shape_of(m), causal.shape))
    return m, None


@importer("RotaryEmbedding", to=["nn.rotary_embedding", "nn.gather"],
          note="opset 23: 3-D or 4-D input, interleaved, partial rotation, position_ids")
def rotary_embedding(ctx: NodeContext) -> list:
    shape = ctx.shape(0)
    heads = int(ctx.attr("num_heads", 0) or 0)
    if len(shape) == 4:
        b, s, head = shape[0], shape[2], shape[3]
    elif len(shape) == 3 and heads > 0 and shape[2] % heads == 0:
        b, s, head = shape[0], shape[1], shape[2] // heads
    else:
        raise ctx.fail(f"input of shape {list(shape)} needs rank 4, or rank 3 with num_heads dividing its last dim")
    rd = int(ctx.attr("rotary_embedding_dim", 0) or 0) or head
    if rd % 2 or rd > head:
        raise ctx.fail(f"rotary_embedding_dim {rd} must be even and at most the head size {head}")
    caches = []
    for i in (1, 2):
        c = ctx.input(i)
        if ctx.has_input(3):  # [max_position, rd/2] gathered at position_ids [B, S]
            elem = c.type.element_type
            c = ctx.emit(nn.GatherOp, [c, ctx.input(3)], {"axis": int_attr(0)},
                         [TensorType(elem, [b, s, ctx.shape(i)[-1]])]).results[0]
        if shape_of(c) != (b, s, rd // 2):
            raise ctx.fail(f"cos/sin cache of shape {list(shape_of(c))} does not give [{b}, {s}, {rd // 2}]")
        caches.append(c)
    props = {"interleaved": BoolAttr.from_bool(bool(ctx.attr("interleaved", 0))), "num_heads": int_attr(heads),
             "rotary_dim": int_attr(rd)}
    return [ctx.emit(nn.RotaryEmbeddingOp, [ctx.input(0), *caches], props).results[0]]


@importer("LinearAttention", to=["nn.linear_attention"],
          note="opset 27: linear, gated, delta, gated_delta; GQA; past state (chunk_size is a hint, unused)")
def linear_attention(ctx: NodeContext) -> list:
    rule = ctx.attr("update_rule", "gated_delta")
    if rule not in ("linear", "gated", "delta", "gated_delta"):
        raise ctx.fail(f"unknown update_rule '{rule}'")
    hq, hk = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    if hq is None or hk is None or hq < 1 or hk < 1 or hq % hk:
        raise ctx.fail(f"q_num_heads {hq} must be a positive multiple of kv_num_heads {hk}")
    gating, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    if gating != ctx.has_input(4) or delta != ctx.has_input(5):
        raise ctx.fail(f"update_rule '{rule}' {'needs' if gating else 'forbids'} decay and "
                       f"{'needs' if delta else 'forbids'} beta")
    q, k, v = ctx.shape(0), ctx.shape(1), ctx.shape(2)
    if len(q) != 3 or len(k) != 3 or len(v) != 3 or q[2] % hq or k[2] % hk or v[2] % hk:
        raise ctx.fail(f"query {list(q)}, key {list(k)}, value {list(v)} must be [B, T, H*D] with whole heads")
    b, t, dk, dv = q[0], q[1], q[2] // hq, v[2] // hk
    dt = numpy_dtype(ctx.out_type(0).element_type)
    past = ctx.input(3) if ctx.has_input(3) else ctx.constant(np.zeros((b, hk, dk, dv), dt), "state0")
    decay = ctx.input(4) if gating else ctx.constant(np.zeros((b, t, hk), dt), "no_decay")
    beta = ctx.input(5) if delta else ctx.constant(np.ones((b, t, hk), dt), "no_beta")
    scale = ctx.attr("scale")
    props = {"q_num_heads": int_attr(hq), "kv_num_heads": int_attr(hk),
             "scale": float_attr(1.0 / np.sqrt(dk) if not scale else scale),
             "update_rule": StringAttr(rule)}
    state_type = ctx.out_type(1) if len(ctx.node.output) > 1 and ctx.node.output[1] else past.type
    op = ctx.emit(nn.LinearAttentionOp, [ctx.input(0), ctx.input(1), ctx.input(2), past, decay, beta], props,
                  [ctx.out_type(0), state_type])
    return list(op.results)
