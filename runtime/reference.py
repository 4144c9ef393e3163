"""numpy reference semantics of every `nn` op.

`KERNELS` maps an op name to a factory: given the op, it decodes the properties once and returns a
kernel `f(*arrays) -> tuple[arrays]`. The evaluator, constant folding and the emulator's digital tier
all call these, so an op means the same thing everywhere. Each kernel is checked against onnxruntime
by tests/test_reference_ops.py.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Operation

from h3pc.dialects.types import numpy_dtype

Kernel = Callable[..., tuple[np.ndarray, ...]]
KernelFactory = Callable[[Operation], Kernel]


def prop(op: Operation, name: str, default: Any = None) -> Any:
    """A property as a plain Python value (ints, floats, bools, strings, tuples)."""
    attr = op.properties.get(name)
    return default if attr is None else attr_value(attr)


def attr_value(attr: Attribute) -> Any:
    if isinstance(attr, IntegerAttr) and attr.type.width.data == 1:
        return bool(attr.value.data)
    if isinstance(attr, IntegerAttr):
        return int(attr.value.data)
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, DenseArrayBase):
        return tuple(int(v) for v in attr.get_values())
    if isinstance(attr, ArrayAttr):
        return tuple(attr_value(a) for a in attr.data)
    raise TypeError(f"no python value for {attr}")


def result_dtype(op: Operation, i: int = 0) -> np.dtype:
    typ = op.results[i].type
    assert isinstance(typ, TensorType)
    return numpy_dtype(typ.element_type)


def result_shape(op: Operation, i: int = 0) -> tuple[int, ...]:
    typ = op.results[i].type
    assert isinstance(typ, TensorType)
    return tuple(typ.get_shape())


KERNELS: dict[str, KernelFactory] = {}


def kernel(*names: str) -> Callable[[KernelFactory], KernelFactory]:
    def register(factory: KernelFactory) -> KernelFactory:
        for n in names:
            KERNELS[n] = factory
        return factory

    return register


def compile_op(op: Operation) -> Kernel:
    """The kernel of one op; KeyError when the op has no reference semantics."""
    return KERNELS[op.name](op)


# ---------------------------------------------------------------------------------------------
# elementwise


def erf(x: np.ndarray) -> np.ndarray:
    """Gauss error function (Numerical Recipes erfc, Chebyshev fit): |error| < 1.2e-7 in float64,
    < 4e-7 when evaluated in float32 for float32 inputs (4x faster; well inside the 1e-4 budget)."""
    ft = np.float32 if x.dtype == np.float32 else np.float64
    z = np.abs(x.astype(ft, copy=False))
    t = 1 / (1 + ft(0.5) * z)
    c = [ft(v) for v in (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
                         -1.13520398, 1.48851587, -0.82215223, 0.17087277)]
    poly = c[9]
    for coef in reversed(c[1:9]):
        poly = coef + t * poly
    r = 1 - t * np.exp(c[0] + t * poly - z * z)
    return np.where(x >= 0, r, -r).astype(x.dtype, copy=False)


def _same(fn: Callable[[np.ndarray], np.ndarray]) -> KernelFactory:
    def factory(op: Operation) -> Kernel:
        dt = result_dtype(op)
        return lambda x: (np.asarray(fn(x), dtype=dt),)

    return factory


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) written as (1 + tanh(x/2)) / 2: one transcendental, no overflow."""
    half = np.asarray(0.5, dtype=x.dtype) if x.dtype.kind == "f" else 0.5
    return half * (1 + np.tanh(half * x))


_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "nn.neg": np.negative,
    "nn.abs": np.abs,
    "nn.reciprocal": np.reciprocal,
    "nn.sqrt": np.sqrt,
    "nn.exp": np.exp,
    "nn.log": np.log,
    "nn.erf": erf,
    "nn.tanh": np.tanh,
    "nn.sigmoid": _sigmoid,
    "nn.relu": lambda x: np.maximum(x, 0),
    "nn.not": np.logical_not,
    "nn.floor": np.floor,
    "nn.ceil": np.ceil,
    "nn.round": np.round,
    "nn.sign": np.sign,
    "nn.sin": np.sin,
    "nn.cos": np.cos,
    "nn.softplus": lambda x: np.logaddexp(0, x),
    "nn.hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
}
for _name, _fn in _UNARY.items():
    KERNELS[_name] = _same(_fn)


@kernel("nn.cast")
def _cast(op: Operation) -> Kernel:
    dt = result_dtype(op)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        if dt.kind in "iu" and x.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                return (np.trunc(x).astype(dt),)
        return (x.astype(dt),)

    return run


@kernel("nn.leaky_relu")
def _leaky(op: Operation) -> Kernel:
    a = prop(op, "alpha")
    return lambda x: (np.where(x >= 0, x, x * np.asarray(a, x.dtype)),)


@kernel("nn.elu")
def _elu(op: Operation) -> Kernel:
    a = prop(op, "alpha")
    return lambda x: (np.where(x > 0, x, (np.exp(np.minimum(x, 0)) - 1) * np.asarray(a, x.dtype)).astype(x.dtype),)


@kernel("nn.hard_sigmoid")
def _hard_sigmoid(op: Operation) -> Kernel:
    a, b = prop(op, "alpha"), prop(op, "beta")
    return lambda x: (np.clip(x * np.asarray(a, x.dtype) + np.asarray(b, x.dtype), 0, 1).astype(x.dtype),)


@kernel("nn.clip")
def _clip(op: Operation) -> Kernel:
    lo, hi = prop(op, "min"), prop(op, "max")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        lo_, hi_ = (None if v is None else np.asarray(v).astype(x.dtype) for v in (lo, hi))
        if lo_ is not None and hi_ is not None:  # one pass; lo > hi gives hi everywhere, as ONNX says
            return (np.clip(x, lo_, hi_),)
        y = x
        if lo_ is not None:
            y = np.maximum(y, lo_)
        if hi_ is not None:
            y = np.minimum(y, hi_)
        return (np.asarray(y, x.dtype),)

    return run


@kernel("nn.gelu")
def _gelu(op: Operation) -> Kernel:
    if prop(op, "approximate") == "tanh":
        c = np.sqrt(2 / np.pi)
        return lambda x: ((0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))).astype(x.dtype),)
    return lambda x: ((0.5 * x * (1 + erf(x / np.sqrt(2).astype(x.dtype)))).astype(x.dtype),)


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu":
        q = np.abs(a) // np.abs(b)
        return (np.sign(a) * np.sign(b) * q).astype(a.dtype)
    return a / b


def _pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Small integer powers of floats (GELU's x**3, RMSNorm's x**2) by multiplication: powf is ~10x slower."""
    if a.dtype.kind == "f" and b.size == 1 and b.ndim <= a.ndim and float(b.reshape(())) in (2.0, 3.0):
        sq = a * a
        return sq if float(b.reshape(())) == 2.0 else sq * a
    return np.power(a, b)


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "nn.add": np.add,
    "nn.sub": np.subtract,
    "nn.mul": np.multiply,
    "nn.div": _int_div,
    "nn.pow": _pow,
    "nn.prelu": lambda x, s: np.where(x >= 0, x, x * s),
    "nn.and": np.logical_and,
    "nn.or": np.logical_or,
    "nn.xor": np.logical_xor,
    "nn.equal": np.equal,
    "nn.less": np.less,
    "nn.less_equal": np.less_equal,
    "nn.greater": np.greater,
    "nn.greater_equal": np.greater_equal,
}


def _binary_factory(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> KernelFactory:
    def factory(op: Operation) -> Kernel:
        dt = result_dtype(op)
        return lambda a, b: (np.asarray(fn(a, b), dtype=dt),)

    return factory


for _name, _fn2 in _BINARY.items():
    KERNELS[_name] = _binary_factory(_fn2)


@kernel("nn.where")
def _where(op: Operation) -> Kernel:
    return lambda c, x, y: (np.where(c, x, y),)


_VARIADIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "nn.max": np.maximum,
    "nn.min": np.minimum,
    "nn.sum": np.add,
    "nn.mean": np.add,
}


def _variadic_factory(name: str) -> KernelFactory:
    fn = _VARIADIC[name]

    def factory(op: Operation) -> Kernel:
        dt = result_dtype(op)

        def run(*xs: np.ndarray) -> tuple[np.ndarray, ...]:
            acc = xs[0]
            for x in xs[1:]:
                acc = fn(acc, x)
            if name == "nn.mean":
                acc = acc / np.asarray(len(xs), dt)
            return (np.broadcast_to(acc, result_shape(op)).astype(dt),)

        return run

    return factory


for _name in _VARIADIC:
    KERNELS[_name] = _variadic_factory(_name)


# ---------------------------------------------------------------------------------------------
# GEMM-like


@kernel("nn.matmul")
def _matmul(op: Operation) -> Kernel:
    return lambda a, b: (np.matmul(a, b),)


@kernel("nn.gemm")
def _gemm(op: Operation) -> Kernel:
    alpha, beta = prop(op, "alpha"), prop(op, "beta")
    ta, tb = prop(op, "trans_a"), prop(op, "trans_b")

    def run(a: np.ndarray, b: np.ndarray, c: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        y = np.matmul(a.T if ta else a, b.T if tb else b)
        if alpha != 1.0:
            y = y * np.asarray(alpha, y.dtype)
        if c is not None:
            y = y + (c if beta == 1.0 else c * np.asarray(beta, c.dtype))
        return (y.astype(a.dtype),)

    return run


def _pad_spatial(x: np.ndarray, pads: Sequence[int], value: Any = 0) -> np.ndarray:
    """Pad the spatial dims of [N, C, *spatial] (begin pads, then end pads); np.pad is ~15x slower."""
    nsp = x.ndim - 2
    if not any(pads):
        return x
    shape = x.shape[:2] + tuple(x.shape[2 + i] + pads[i] + pads[nsp + i] for i in range(nsp))
    out = np.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(pads[i], pads[i] + x.shape[2 + i]) for i in range(nsp))] = x
    return out


def _window_slices(kernel_shape: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
                   out_sp: Sequence[int]) -> tuple[tuple[tuple[int, ...], tuple[slice, ...]], ...]:
    """(kernel position, spatial slices of the padded input that this position reads), per position."""
    return _slices(tuple(kernel_shape), tuple(strides), tuple(dilations), tuple(out_sp))


@functools.lru_cache(maxsize=512)
def _slices(kernel_shape: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...],
            out_sp: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], tuple[slice, ...]], ...]:
    """Cached: a model reuses a few window geometries, and building them costs more than a small window's copy."""
    return tuple((idx, tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                             for i, d, o, s in zip(idx, dilations, out_sp, strides)))
                 for idx in itertools.product(*(range(k) for k in kernel_shape)))


def _out_spatial(xp: np.ndarray, kernel_shape: Sequence[int], strides: Sequence[int],
                 dilations: Sequence[int]) -> tuple[int, ...]:
    return tuple((xp.shape[2 + i] - d * (k - 1) - 1) // s + 1
                 for i, (k, s, d) in enumerate(zip(kernel_shape, strides, dilations)))


def window_reduce(xp: np.ndarray, kernel_shape: Sequence[int], strides: Sequence[int],
                  dilations: Sequence[int], ufunc: np.ufunc) -> np.ndarray:
    """Reduce every sliding window of a padded [N, C, *spatial] array with a binary ufunc, one
    whole-array step per kernel position (a reduction over a window view is ~10x slower)."""
    out_sp = _out_spatial(xp, kernel_shape, strides, dilations)
    acc = None
    for _, sl in _window_slices(kernel_shape, strides, dilations, out_sp):
        v = xp[(slice(None), slice(None)) + sl]
        acc = v.copy() if acc is None else ufunc(acc, v, out=acc)
    assert acc is not None
    return acc


#: im2col matrices up to this many elements are one gather through a cached index (a strided copy
#: per kernel position costs more in numpy calls than it moves, below this)
GATHER_MAX = 1 << 16


def im2col(x: np.ndarray, kernel_shape: Sequence[int], strides: Sequence[int], pads: Sequence[int],
           dilations: Sequence[int], group: int) -> np.ndarray:
    """Convolution windows as GEMM rows: [group, N * prod(out), C/group * prod(kernel)] (digital.im2col).

    Small matrices are one gather (`_im2col_index`); larger ones are built by one strided copy per
    kernel position (a 1x1, stride-1 window of one image is a view, no copy, in either memory
    layout), which is several times faster than reshaping a sliding-window view.
    """
    n, c = x.shape[:2]
    if n == 1 and group == 1 and all(k == 1 for k in kernel_shape) and all(s == 1 for s in strides) \
            and not any(pads):
        if x.strides[1] == x.itemsize:  # laid out channels-last: rows are already pixels
            return np.moveaxis(x[0], 0, -1).reshape(-1, c)[None]
        return x.reshape(c, -1).T[None]
    geometry = (tuple(x.shape), tuple(kernel_shape), tuple(strides), tuple(pads), tuple(dilations), group)
    if x.size * math.prod(kernel_shape) <= GATHER_MAX:
        flat = np.empty(x.size + 1, dtype=x.dtype)  # the last element is the padding value
        flat[:-1] = x.reshape(-1)
        flat[-1] = 0
        return flat[_im2col_index(*geometry)]
    return _im2col_copies(x, *geometry[1:])


@functools.lru_cache(maxsize=64)
def _im2col_index(shape: tuple[int, ...], kernel_shape: tuple[int, ...], strides: tuple[int, ...],
                  pads: tuple[int, ...], dilations: tuple[int, ...], group: int) -> np.ndarray:
    """Where each element of im2col's matrix comes from in the flattened input, padding reading the
    element after it: the strided construction run once on the positions themselves."""
    size = math.prod(shape)
    positions = np.arange(size, dtype=np.intp).reshape(shape)
    index = _im2col_copies(positions, kernel_shape, strides, pads, dilations, group, pad_value=size)
    index.flags.writeable = False  # shared by every call with this geometry
    return index


def _im2col_copies(x: np.ndarray, kernel_shape: Sequence[int], strides: Sequence[int], pads: Sequence[int],
                   dilations: Sequence[int], group: int, pad_value: Any = 0) -> np.ndarray:
    nsp = x.ndim - 2
    n, c = x.shape[:2]
    cg = c // group
    xp = _pad_spatial(x, pads, pad_value)
    out_sp = _out_spatial(xp, kernel_shape, strides, dilations)
    out = np.empty((group, n) + out_sp + (cg,) + tuple(kernel_shape), dtype=x.dtype)
    # the same memory seen as N, G, Cg, *out, *k: each kernel position is one strided copy
    dest = out.transpose((1, 0, 2 + nsp) + tuple(range(2, 2 + nsp)) + tuple(range(3 + nsp, 3 + 2 * nsp)))
    src = xp.reshape((n, group, cg) + xp.shape[2:])
    for idx, sl in _window_slices(kernel_shape, strides, dilations, out_sp):
        dest[(Ellipsis,) + idx] = src[(slice(None),) * 3 + sl]
    return out.reshape(group, n * math.prod(out_sp), cg * math.prod(kernel_shape))


@dataclass(frozen=True)
class Windows:
    """digital.im2col's result kept as its source: the emulator's lazy form for convs with few input
    channels per group (depthwise), where the window matrix is prod(kernel)x the input and its
    grouped product is a handful of multiply-adds per kernel position. Anything else that reads
    it gets the materialised matrix (np.asarray)."""

    x: np.ndarray
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    pads: tuple[int, ...]
    dilations: tuple[int, ...]
    group: int

    #: channels-per-group x outputs-per-group up to which matmul() runs directly
    DIRECT_MAX = 4

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = im2col(self.x, self.kernel, self.strides, self.pads, self.dilations, self.group)
        return a if dtype is None else a.astype(dtype, copy=False)

    def matmul(self, w: np.ndarray) -> np.ndarray:
        """self @ w for w [group, Cg * prod(kernel), Og], as [group, N * prod(out), Og]."""
        n, c = self.x.shape[:2]
        g, cg, og = self.group, c // self.group, w.shape[-1]
        nsp = self.x.ndim - 2
        if cg * og > self.DIRECT_MAX or nsp not in (1, 2) or w.shape[0] != g:
            return np.matmul(np.asarray(self), w)
        # 1-d windows are 2-d windows of height 1
        two = (lambda t, one: tuple(t) if nsp == 2 else (one,) + tuple(t))
        kh, kw = two(self.kernel, 1)
        sh, sw = two(self.strides, 1)
        dh, dw = two(self.dilations, 1)
        x = self.x if nsp == 2 else self.x[:, :, None]
        (pt, pl), (pb, pr) = two(self.pads[:nsp], 0), two(self.pads[nsp:], 0)
        oh = (x.shape[2] + pt + pb - dh * (kh - 1) - 1) // sh + 1
        ow = (x.shape[3] + pl + pr - dw * (kw - 1) - 1) // sw + 1
        # Polyphase: tap (i, j) reads phase ((i*dh) % sh, (j*dw) % sw) of the padded input at a fixed
        # offset, so every tap is one multiply-add over a contiguous run of oh * wq pixels (the wq - ow
        # extra columns are cropped at the end). The input's memory layout is kept: an input laid out
        # channels-last (a 1x1 conv's output is) runs with channels innermost.
        hq = oh + (dh * (kh - 1)) // sh + 1
        wq = ow + (dw * (kw - 1)) // sw
        last = cg * og == 1 and c > 1 and x.strides[1] == x.itemsize
        src = x.transpose(0, 2, 3, 1) if last else x  # N, H, W, C or N, C, H, W
        sp = (1, 2) if last else (2, 3)
        full = np.zeros((n, hq * sh, wq * sw, c) if last else (n, c, hq * sh, wq * sw), dtype=x.dtype)
        dst = [slice(None)] * 4
        cut = [slice(None)] * 4
        for ax, lo, size in zip(sp, (pt, pl), (hq * sh, wq * sw)):
            hi = min(size, lo + src.shape[ax])
            dst[ax], cut[ax] = slice(lo, hi), slice(0, hi - lo)
        full[tuple(dst)] = src[tuple(cut)]
        # channels-last taps run on whole pixel rows (wq * C values, the weights tiled along the row):
        # with channels innermost alone, numpy's inner loop would be only C long
        y = np.zeros((n, oh, wq * c) if last else (n, g, og, oh * wq), dtype=np.result_type(x, w))
        tmp = np.empty((n, oh, wq * c) if last else (n, g, oh * wq), dtype=y.dtype)
        wk = w.reshape(g, cg, kh, kw, og)
        wl = np.tile(wk[:, 0, :, :, 0].transpose(1, 2, 0), (1, 1, wq)) if last else None  # kh, kw, wq*C
        phases: dict[tuple[int, int], np.ndarray] = {}
        for i in range(kh):
            for j in range(kw):
                a, b = (i * dh) % sh, (j * dw) % sw
                if (a, b) not in phases:
                    ph = full[:, a::sh, b::sw] if last else full[:, :, a::sh, b::sw]
                    phases[(a, b)] = np.ascontiguousarray(ph).reshape(
                        (n, hq * wq, c) if last else (n, g, cg, hq * wq))
                off = ((i * dh) // sh) * wq + (j * dw) // sw
                if last:
                    np.multiply(phases[(a, b)][:, off : off + oh * wq].reshape(n, oh, wq * c), wl[i, j], out=tmp)
                    y += tmp
                    continue
                seg = phases[(a, b)][..., off : off + oh * wq]
                for ci in range(cg):
                    for o in range(og):
                        np.multiply(seg[:, :, ci], wk[None, :, ci, i, j, o, None], out=tmp)
                        y[:, :, o] += tmp
        if last:  # N, oh, ow, C -> C, N*oh*ow, 1, keeping channels innermost in memory
            y = np.ascontiguousarray(y.reshape(n, oh, wq, c)[:, :, :ow])
            return y.transpose(3, 0, 1, 2).reshape(c, n * oh * ow, 1)
        y = y.reshape(n, g, og, oh, wq)[..., :ow]  # N, G, Og, oh, ow -> G, N*oh*ow, Og
        return np.moveaxis(y, 2, -1).transpose(1, 0, 2, 3, 4).reshape(g, n * oh * ow, og)


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, strides: Sequence[int], pads: Sequence[int],
         dilations: Sequence[int], group: int, out_spatial: Sequence[int]) -> np.ndarray:
    """Grouped N-d convolution as one batched matmul over im2col rows."""
    n, nsp = x.shape[0], x.ndim - 2
    cols = im2col(x, w.shape[2:], strides, pads, dilations, group)  # G, N*P, Cg*k
    og = w.shape[0] // group
    wm = w.reshape(group, og, -1).transpose(0, 2, 1)  # G, Cg*k, Og
    y = np.matmul(cols, wm)  # G, N*P, Og
    y = y.reshape((group, n, -1, og)).transpose(1, 0, 3, 2).reshape((n, group * og) + tuple(out_spatial))
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nsp)
    return y.astype(x.dtype)


@kernel("nn.conv")
def _conv(op: Operation) -> Kernel:
    s, p, d, g = prop(op, "strides"), prop(op, "pads"), prop(op, "dilations"), prop(op, "group")
    out = result_shape(op)[2:]
    return lambda x, w, b=None: (conv(x, w, b, s, p, d, g, out),)


@kernel("nn.conv_transpose")
def _conv_transpose(op: Operation) -> Kernel:
    s, p, d, g = prop(op, "strides"), prop(op, "pads"), prop(op, "dilations"), prop(op, "group")
    out_shape = result_shape(op)

    def run(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        nsp = x.ndim - 2
        n, cin = x.shape[:2]
        cg, og = cin // g, w.shape[1]
        ks = w.shape[2:]
        full = [s[i] * (x.shape[2 + i] - 1) + (ks[i] - 1) * d[i] + 1 for i in range(nsp)]
        # the window kept is [pad_begin, pad_begin + out) of the full result; an output_shape past the
        # full size comes as a negative end pad (zeros there), a negative begin pad shifts it left
        lo = [max(0, -p[i]) for i in range(nsp)]
        size = [lo[i] + max(full[i], p[i] + out_shape[2 + i]) for i in range(nsp)]
        y = np.zeros((n, g * og) + tuple(size), dtype=np.float64 if x.dtype == np.float64 else np.float32)
        xs = x.reshape((n, g, cg) + x.shape[2:])
        ws = w.reshape((g, cg, og) + ks)
        for kidx in np.ndindex(*ks):
            # contrib[n, g, og, *in] = sum_c x[n, g, c, *in] * w[g, c, og, kidx]
            contrib = np.einsum("ngc...,gco->ngo...", xs, ws[(slice(None), slice(None), slice(None)) + kidx])
            contrib = contrib.reshape((n, g * og) + x.shape[2:])
            sl = tuple(slice(lo[i] + kidx[i] * d[i], lo[i] + kidx[i] * d[i] + s[i] * (x.shape[2 + i] - 1) + 1, s[i])
                       for i in range(nsp))
            y[(slice(None), slice(None)) + sl] += contrib
        crop = tuple(slice(lo[i] + p[i], lo[i] + p[i] + out_shape[2 + i]) for i in range(nsp))
        y = y[(slice(None), slice(None)) + crop]
        if b is not None:
            y = y + b.reshape((1, -1) + (1,) * nsp)
        return (y.astype(x.dtype),)

    return run


# ---------------------------------------------------------------------------------------------
# normalisation, softmax


@kernel("nn.batch_norm")
def _batch_norm(op: Operation) -> Kernel:
    eps = prop(op, "epsilon")

    def run(x, scale, bias, mean, var):  # type: ignore[no-untyped-def]
        shp = (1, -1) + (1,) * (x.ndim - 2)
        inv = scale / np.sqrt(var + np.asarray(eps, var.dtype))
        return ((x - mean.reshape(shp)) * inv.reshape(shp) + bias.reshape(shp)).astype(x.dtype),

    return run


@kernel("nn.layer_norm")
def _layer_norm(op: Operation) -> Kernel:
    axis, eps = prop(op, "axis"), prop(op, "epsilon")

    def run(x: np.ndarray, scale: np.ndarray, bias: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        axes = tuple(range(axis % x.ndim, x.ndim))
        w = x.astype(np.float32) if x.dtype == np.float16 else x  # float16 statistics in float32 (stash_type)
        mu = w.mean(axis=axes, keepdims=True)
        xc = w - mu
        var = (xc * xc).mean(axis=axes, keepdims=True)
        y = xc / np.sqrt(var + np.asarray(eps, w.dtype)) * scale
        if bias is not None:
            y = y + bias
        return (y.astype(x.dtype),)

    return run


@kernel("nn.rms_norm")
def _rms_norm(op: Operation) -> Kernel:
    axis, eps = prop(op, "axis"), prop(op, "epsilon")

    def run(x: np.ndarray, scale: np.ndarray, bias: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        axes = tuple(range(axis % x.ndim, x.ndim))
        ms = (x * x).mean(axis=axes, keepdims=True)
        y = x / np.sqrt(ms + np.asarray(eps, x.dtype)) * scale
        if bias is not None:
            y = y + bias
        return (y.astype(x.dtype),)

    return run


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@kernel("nn.softmax")
def _softmax(op: Operation) -> Kernel:
    axis = prop(op, "axis")
    return lambda x: (softmax(x, axis).astype(x.dtype),)


@kernel("nn.log_softmax")
def _log_softmax(op: Operation) -> Kernel:
    axis = prop(op, "axis")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        z = x - x.max(axis=axis, keepdims=True)
        return ((z - np.log(np.exp(z).sum(axis=axis, keepdims=True))).astype(x.dtype),)

    return run


@kernel("nn.lrn")
def _lrn(op: Operation) -> Kernel:
    size, alpha, beta, bias = prop(op, "size"), prop(op, "alpha"), prop(op, "beta"), prop(op, "bias")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        c = x.shape[1]
        sq = (x.astype(np.float64)) ** 2
        lo = (size - 1) // 2  # ONNX: window [c - floor((size-1)/2), c + ceil((size-1)/2)]
        hi = size - 1 - lo
        pad = np.pad(sq, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
        csum = np.cumsum(pad, axis=1)
        csum = np.concatenate([np.zeros_like(csum[:, :1]), csum], axis=1)
        s = csum[:, size : size + c] - csum[:, :c]
        return ((x / (bias + alpha / size * s) ** beta).astype(x.dtype),)

    return run


# ---------------------------------------------------------------------------------------------
# pooling, resize


def _pool_pads(op: Operation) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[int]]:
    """(declared pads, extra end pads that ceil_mode needs) per spatial dim, from the op's types, and
    both together as _pad_spatial's begin pads then end pads."""
    k, s, d, p = prop(op, "kernel"), prop(op, "strides"), prop(op, "dilations"), prop(op, "pads")
    in_sp = op.operands[0].type.get_shape()[2:]  # type: ignore[attr-defined]
    nsp = len(in_sp)
    out = result_shape(op)[2:]
    declared = [(p[i], p[nsp + i]) for i in range(nsp)]
    extra = []
    for i in range(nsp):
        need = (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1
        have = in_sp[i] + p[i] + p[nsp + i]
        extra.append((0, max(0, need - have)))
    return declared, extra, [a for a, _ in declared] + [b + e for (_, b), (_, e) in zip(declared, extra)]


@kernel("nn.max_pool")
def _max_pool(op: Operation) -> Kernel:
    k, s, d = prop(op, "kernel"), prop(op, "strides"), prop(op, "dilations")
    *_, flat = _pool_pads(op)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = _pad_spatial(x, flat, low)
        return (window_reduce(xp, k, s, d, np.maximum).astype(x.dtype, copy=False),)

    return run


@kernel("nn.avg_pool")
def _avg_pool(op: Operation) -> Kernel:
    k, s, d = prop(op, "kernel"), prop(op, "strides"), prop(op, "dilations")
    include = prop(op, "count_include_pad")
    declared, extra, flat = _pool_pads(op)
    # how many cells each window averages depends only on the shapes: counted once, here
    ones = np.ones((1, 1) + tuple(op.operands[0].type.get_shape()[2:]), dtype=result_dtype(op))  # type: ignore[attr-defined]
    if include:
        mask = np.pad(np.pad(ones, [(0, 0), (0, 0)] + declared, constant_values=1), [(0, 0), (0, 0)] + extra)
    else:
        mask = _pad_spatial(ones, flat)
    count = window_reduce(mask, k, s, d, np.add)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        xp = _pad_spatial(x, flat)
        ksum = window_reduce(xp, k, s, d, np.add)
        return ((ksum / count).astype(x.dtype),)

    return run


def _source_coords(out_len: int, in_len: int, scale: float, mode: str) -> np.ndarray:
    """Input coordinate of each output index, computed in float32 as onnxruntime does.

    Nearest mode rounds these, so float64 would pick a different pixel wherever the float32 value
    lands exactly on a tie (for example scale 0.6: 1.5 / 0.6f - 0.5 is 1.9999999 in float64, 2 in float32).
    """
    f = np.float32
    i = np.arange(out_len, dtype=f)
    s, half = f(scale), f(0.5)
    if mode == "asymmetric":
        c = i / s
    elif mode == "align_corners":
        c = i * f(in_len - 1) / f(out_len - 1) if out_len > 1 else np.zeros_like(i)
    elif mode == "pytorch_half_pixel":
        c = (i + half) / s - half if out_len > 1 else np.zeros_like(i)
    elif mode == "half_pixel_symmetric":
        adj = f(out_len) / (s * f(in_len))
        center = f(in_len) / f(2) * (f(1) - adj)
        c = center + (i + half) / s - half
    elif mode == "half_pixel":
        c = (i + half) / s - half
    else:
        raise ValueError(f"unsupported coordinate_transformation_mode '{mode}'")
    return c.astype(np.float64)


_NEAREST: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "round_prefer_floor": lambda c: np.where(c - np.floor(c) == 0.5, np.floor(c), np.round(c)),
    "round_prefer_ceil": lambda c: np.where(c - np.floor(c) == 0.5, np.ceil(c), np.round(c)),
    "floor": np.floor,
    "ceil": np.ceil,
}


def _cubic_weights(t: np.ndarray, a: float) -> np.ndarray:
    """Keys cubic weights for offsets -1, 0, 1, 2 around floor(c)."""
    def w(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        return np.where(
            x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
            np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0),
        )

    return np.stack([w(t + 1), w(t), w(1 - t), w(2 - t)], axis=-1)


@kernel("nn.resize", "nn.resize_scaled")
def _resize(op: Operation) -> Kernel:
    """nn.resize has its scales as a property, nn.resize_scaled reads them from its second operand."""
    fixed, mode = prop(op, "scales"), prop(op, "mode")
    ctm, nearest = prop(op, "coordinate_transformation_mode"), prop(op, "nearest_mode")
    a, exclude = prop(op, "cubic_coeff_a"), prop(op, "exclude_outside")
    out_shape = result_shape(op)

    def run(x: np.ndarray, given: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        scales = fixed if given is None else tuple(float(v) for v in np.asarray(given, np.float32).reshape(-1))
        y = x.astype(np.float64)
        for ax in range(x.ndim):
            n_in, n_out = x.shape[ax], out_shape[ax]
            if n_in == n_out and scales[ax] == 1.0:
                continue
            c = _source_coords(n_out, n_in, scales[ax], ctm)
            if mode == "nearest":
                idx = np.clip(_NEAREST[nearest](c).astype(np.int64), 0, n_in - 1)
                y = np.take(y, idx, axis=ax)
                continue
            base = np.floor(c).astype(np.int64)
            t = c - base
            if mode == "linear":
                offs, wts = np.array([0, 1]), np.stack([1 - t, t], axis=-1)
                c_cl = np.clip(c, 0, n_in - 1)
                base = np.floor(c_cl).astype(np.int64)
                wts = np.stack([1 - (c_cl - base), c_cl - base], axis=-1)
            else:
                offs, wts = np.array([-1, 0, 1, 2]), _cubic_weights(t, a)
            idx = base[:, None] + offs[None, :]
            if exclude:
                wts = np.where((idx >= 0) & (idx < n_in), wts, 0.0)
                wts = wts / wts.sum(axis=1, keepdims=True)
            idx = np.clip(idx, 0, n_in - 1)
            g = np.take(y, idx.reshape(-1), axis=ax)
            g = g.reshape(y.shape[:ax] + idx.shape + y.shape[ax + 1 :])
            wshape = (1,) * ax + wts.shape + (1,) * (y.ndim - ax - 1)
            y = (g * wts.reshape(wshape)).sum(axis=ax + 1)
        if x.dtype.kind in "iu":
            # onnxruntime interpolates in float32 and casts (toward zero); rounding to float32 first keeps
            # an exact integer that float64 sees as 82.99999999 from truncating to 82
            y = np.trunc(y.astype(np.float32))
        return (y.astype(x.dtype),)

    return run


# ---------------------------------------------------------------------------------------------
# reductions


def _reduce_factory(fn: Callable[[np.ndarray, tuple[int, ...], bool], np.ndarray]) -> KernelFactory:
    def factory(op: Operation) -> Kernel:
        axes, keep, dt = prop(op, "axes"), prop(op, "keepdims"), result_dtype(op)

        def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
            ax = tuple(a % x.ndim for a in axes) if axes else tuple(range(x.ndim))
            return (np.asarray(fn(x, ax, keep), dtype=dt),)

        return run

    return factory


_REDUCE: dict[str, Callable[[np.ndarray, tuple[int, ...], bool], np.ndarray]] = {
    "nn.reduce_sum": lambda x, a, k: x.sum(axis=a, keepdims=k),
    "nn.reduce_mean": lambda x, a, k: x.mean(axis=a, keepdims=k),
    "nn.reduce_max": lambda x, a, k: x.max(axis=a, keepdims=k),
    "nn.reduce_min": lambda x, a, k: x.min(axis=a, keepdims=k),
    "nn.reduce_prod": lambda x, a, k: x.prod(axis=a, keepdims=k),
    "nn.reduce_l1": lambda x, a, k: np.abs(x).sum(axis=a, keepdims=k),
    "nn.reduce_l2": lambda x, a, k: np.sqrt((x * x).sum(axis=a, keepdims=k)),
    "nn.reduce_sum_square": lambda x, a, k: (x * x).sum(axis=a, keepdims=k),
    "nn.reduce_log_sum": lambda x, a, k: np.log(x.sum(axis=a, keepdims=k)),
    "nn.reduce_log_sum_exp": lambda x, a, k: _logsumexp(x, a, k),
}


def _logsumexp(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    m = x.max(axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
    return r if keep else np.squeeze(r, axis=axes)


for _name, _fr in _REDUCE.items():
    KERNELS[_name] = _reduce_factory(_fr)


def _arg_factory(fn: Callable[..., np.ndarray]) -> KernelFactory:
    def factory(op: Operation) -> Kernel:
        axis, keep, last = prop(op, "axis"), prop(op, "keepdims"), prop(op, "select_last_index")

        def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
            ax = axis % x.ndim
            if last:
                idx = x.shape[ax] - 1 - fn(np.flip(x, axis=ax), axis=ax)
            else:
                idx = fn(x, axis=ax)
            if keep:
                idx = np.expand_dims(idx, ax)
            return (np.asarray(idx, dtype=np.int64),)

        return run

    return factory


KERNELS["nn.arg_max"] = _arg_factory(np.argmax)
KERNELS["nn.arg_min"] = _arg_factory(np.argmin)


# ---------------------------------------------------------------------------------------------
# data layout


@kernel("nn.reshape", "nn.broadcast")
def _reshape(op: Operation) -> Kernel:
    shape = result_shape(op)
    if op.name == "nn.broadcast":
        return lambda x: (np.broadcast_to(x, shape),)
    return lambda x: (x.reshape(shape),)  # the method: np.reshape's dispatch costs more than the view


@kernel("nn.transpose")
def _transpose(op: Operation) -> Kernel:
    perm = prop(op, "perm")
    return lambda x: (x.transpose(perm),)


@kernel("nn.slice")
def _slice(op: Operation) -> Kernel:
    sl = tuple(
        slice(s, None if e < 0 else e, p) for s, e, p in zip(prop(op, "starts"), prop(op, "ends"), prop(op, "steps"))
    )
    return lambda x: (x[sl],)


@kernel("nn.concat", "digital.join")
def _concat(op: Operation) -> Kernel:
    axis = prop(op, "axis")
    return lambda *xs: (np.concatenate(xs, axis=axis),)


@kernel("nn.split")
def _split(op: Operation) -> Kernel:
    axis = prop(op, "axis")
    sizes = [result_shape(op, i)[axis] for i in range(len(op.results))]
    cuts = np.cumsum(sizes)[:-1].tolist()
    return lambda x: tuple(np.split(x, cuts, axis=axis))


@kernel("nn.gather")
def _gather(op: Operation) -> Kernel:
    axis = prop(op, "axis")

    def run(data: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % data.ndim
        idx = np.where(idx < 0, idx + data.shape[ax], idx)
        return (np.take(data, idx, axis=ax),)

    return run


@kernel("nn.gather_elements")
def _gather_elements(op: Operation) -> Kernel:
    axis = prop(op, "axis")

    def run(data: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % data.ndim
        idx = np.where(idx < 0, idx + data.shape[ax], idx)
        return (np.take_along_axis(data, idx, axis=ax),)

    return run


@kernel("nn.gather_nd")
def _gather_nd(op: Operation) -> Kernel:
    b = prop(op, "batch_dims")

    def run(data: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        bshape = data.shape[:b]
        nb = int(np.prod(bshape)) if b else 1
        d = data.reshape((nb,) + data.shape[b:])
        ix = idx.reshape((nb, -1, idx.shape[-1]))
        depth = idx.shape[-1]
        ix = np.where(ix < 0, ix + np.array(data.shape[b : b + depth]), ix)
        out = np.stack([d[i][tuple(ix[i].T)] for i in range(nb)])
        return (out.reshape(idx.shape[:-1] + data.shape[b + depth :]),)

    return run


@kernel("nn.pad")
def _pad(op: Operation) -> Kernel:
    pads, mode, value = prop(op, "pads"), prop(op, "mode"), prop(op, "value")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        r = x.ndim
        crop = tuple(slice(max(0, -pads[i]), x.shape[i] - max(0, -pads[r + i])) for i in range(r))
        x = x[crop]
        width = [(max(0, pads[i]), max(0, pads[r + i])) for i in range(r)]
        if mode == "constant":
            return (np.pad(x, width, constant_values=np.asarray(value).astype(x.dtype)),)
        return (np.pad(x, width, mode={"reflect": "reflect", "edge": "edge", "wrap": "wrap"}[mode]),)

    return run


@kernel("nn.tile")
def _tile(op: Operation) -> Kernel:
    reps = prop(op, "repeats")
    return lambda x: (np.tile(x, reps),)


# ---------------------------------------------------------------------------------------------
# tier dialects (exact semantics; the emulator adds each tier's quantisation on top)


@kernel("digital.im2col")
def _im2col(op: Operation) -> Kernel:
    k, s, p, d, g = (prop(op, n) for n in ("kernel", "strides", "pads", "dilations", "group"))
    return lambda x: (im2col(x, k, s, p, d, g),)


def product(a: Any, b: np.ndarray, dtype: Any = None) -> np.ndarray:
    """An exact grouped product a[g, m, k] @ b[g, k, n] (a may be lazy im2col `Windows`), in `dtype` when
    given: the exact run every tier's instructions share."""
    y = a.matmul(b) if isinstance(a, Windows) else np.matmul(a, b)
    return y if dtype is None else y.astype(dtype, copy=False)


def delivered_dtype(dt: np.dtype) -> np.dtype:
    """What an analog tier's product hands on: the model's float type (its ADC codes scaled back, then
    converted), float32 for anything else."""
    return dt if dt.kind == "f" else np.dtype(np.float32)


@kernel("digital.matmul", "photonic.matmul", "pim.mvm")
def _tier_matmul(op: Operation) -> Kernel:
    dt = result_dtype(op)
    return lambda a, b: (np.matmul(a, b).astype(dt, copy=False),)


@kernel("pim.program")
def _program(op: Operation) -> Kernel:
    return lambda w: (w,)


# ---------------------------------------------------------------------------------------------
# the long tail of the standard domain


def _mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.logaddexp(0, x))


for _name, _fn in {
    "nn.tan": np.tan, "nn.asin": np.arcsin, "nn.acos": np.arccos, "nn.atan": np.arctan, "nn.sinh": np.sinh,
    "nn.cosh": np.cosh, "nn.asinh": np.arcsinh, "nn.acosh": np.arccosh, "nn.atanh": np.arctanh,
    "nn.softsign": lambda x: x / (1 + np.abs(x)), "nn.mish": _mish, "nn.is_nan": np.isnan,
    "nn.bitwise_not": np.invert,
}.items():
    KERNELS[_name] = _same(_fn)

for _name, _fn2 in {"nn.bitwise_and": np.bitwise_and, "nn.bitwise_or": np.bitwise_or,
                    "nn.bitwise_xor": np.bitwise_xor}.items():
    KERNELS[_name] = _binary_factory(_fn2)


@kernel("nn.mod")
def _mod(op: Operation) -> Kernel:
    fn = np.fmod if prop(op, "fmod") else np.mod
    dt = result_dtype(op)

    def run(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
        with np.errstate(divide="ignore", invalid="ignore"):  # x mod 0: NaN for floats, 0 for integers
            return (np.asarray(fn(a, b), dtype=dt),)

    return run


@kernel("nn.bit_shift")
def _bit_shift(op: Operation) -> Kernel:
    """Amounts outside [0, bit width) give 0 (or -1 for a right shift of a negative signed value), as the
    ONNX spec says; numpy (and C) leave them undefined."""
    left = prop(op, "direction") == "left"
    dt = result_dtype(op)

    def run(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
        a, b = np.broadcast_arrays(a.astype(dt, copy=False), b.astype(dt, copy=False))
        bits = np.iinfo(dt).bits
        ok = (b >= 0) & (b < bits)
        safe = np.where(ok, b, 0)
        if left:
            u = np.dtype(f"u{dt.itemsize}")
            y = np.left_shift(a.view(u), safe.astype(u)).view(dt)
            return (np.where(ok, y, 0).astype(dt),)
        y = np.right_shift(a, safe)
        fill = np.where(a < 0, -1, 0).astype(dt) if dt.kind == "i" else np.zeros_like(a)
        return (np.where(ok, y, fill).astype(dt),)

    return run


@kernel("nn.is_inf")
def _is_inf(op: Operation) -> Kernel:
    pos_, neg_ = prop(op, "detect_positive"), prop(op, "detect_negative")
    return lambda x: (np.isinf(x) & ((pos_ & (x > 0)) | (neg_ & (x < 0))),)


@kernel("nn.selu")
def _selu(op: Operation) -> Kernel:
    a, g = prop(op, "alpha"), prop(op, "gamma")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        neg = (np.exp(np.minimum(x, 0)) - 1) * np.asarray(a, x.dtype)
        return ((np.where(x > 0, x, neg) * np.asarray(g, x.dtype)).astype(x.dtype),)

    return run


@kernel("nn.celu")
def _celu(op: Operation) -> Kernel:
    a = prop(op, "alpha")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        al = np.asarray(a, x.dtype)
        return ((np.maximum(x, 0) + np.minimum(0, al * (np.exp(np.minimum(x, 0) / al) - 1))).astype(x.dtype),)

    return run


@kernel("nn.thresholded_relu")
def _thresholded_relu(op: Operation) -> Kernel:
    a = prop(op, "alpha")
    return lambda x: (np.where(x > np.asarray(a, x.dtype), x, 0).astype(x.dtype),)


@kernel("nn.shrink")
def _shrink(op: Operation) -> Kernel:
    bias, lambd = prop(op, "bias"), prop(op, "lambd")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        b = np.asarray(bias).astype(x.dtype)
        y = np.where(x < -lambd, x + b, np.where(x > lambd, x - b, np.zeros((), x.dtype)))
        return (y.astype(x.dtype),)

    return run


@kernel("nn.swish")
def _swish(op: Operation) -> Kernel:
    a = prop(op, "alpha")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        w = x.astype(np.float32) if x.dtype == np.float16 else x  # float16 via float32, as onnxruntime
        return ((w * _sigmoid(w * np.asarray(a, w.dtype))).astype(x.dtype),)

    return run


@kernel("nn.hardmax")
def _hardmax(op: Operation) -> Kernel:
    axis = prop(op, "axis")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % x.ndim
        first = np.expand_dims(np.argmax(x, axis=ax), ax)
        pos_ = np.arange(x.shape[ax]).reshape([-1 if i == ax else 1 for i in range(x.ndim)])
        return ((pos_ == first).astype(x.dtype),)

    return run


@kernel("nn.lp_norm")
def _lp_norm(op: Operation) -> Kernel:
    axis, p = prop(op, "axis"), prop(op, "p")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        n = np.abs(x).sum(axis=axis, keepdims=True) if p == 1 else np.sqrt((x * x).sum(axis=axis, keepdims=True))
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero vector normalises to zeros (ONNX)
            return (np.where(n == 0, 0, x / n).astype(x.dtype),)

    return run


def _scan_factory(ufunc: np.ufunc, identity: int) -> KernelFactory:
    def factory(op: Operation) -> Kernel:
        axis, exclusive, reverse = prop(op, "axis"), prop(op, "exclusive"), prop(op, "reverse")
        dt = result_dtype(op)

        def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
            ax = axis % x.ndim
            if x.shape[ax] == 0:  # nothing to accumulate
                return (x.astype(dt),)
            y = np.flip(x, ax) if reverse else x
            y = ufunc.accumulate(y, axis=ax, dtype=dt)
            if exclusive:
                head = np.full_like(np.take(y, [0], axis=ax), identity)
                y = np.concatenate([head, np.delete(y, -1, axis=ax)], axis=ax)
            return (np.ascontiguousarray(np.flip(y, ax) if reverse else y).astype(dt, copy=False),)

        return run

    return factory


KERNELS["nn.cumsum"] = _scan_factory(np.add, 0)
KERNELS["nn.cumprod"] = _scan_factory(np.multiply, 1)


@kernel("nn.trilu")
def _trilu(op: Operation) -> Kernel:
    upper, k = prop(op, "upper"), prop(op, "k")
    return lambda x: ((np.triu(x, k) if upper else np.tril(x, k)).astype(x.dtype, copy=False),)


@kernel("nn.top_k")
def _top_k(op: Operation) -> Kernel:
    """A stable sort: equal values keep the lower index first (onnxruntime's order)."""
    axis, k, largest = prop(op, "axis"), prop(op, "k"), prop(op, "largest")

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % x.ndim
        n = x.shape[ax]
        if largest:  # descending with ties in index order: ascending over the flipped axis, reversed
            idx = n - 1 - np.flip(np.argsort(np.flip(x, ax), axis=ax, kind="stable"), ax)
        else:
            idx = np.argsort(x, axis=ax, kind="stable")
        idx = np.take(idx, np.arange(k), axis=ax).astype(np.int64)
        return (np.take_along_axis(x, idx, axis=ax), idx)

    return run


@kernel("nn.one_hot")
def _one_hot(op: Operation) -> Kernel:
    axis, depth = prop(op, "axis"), prop(op, "depth")
    dt = result_dtype(op)

    def run(indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % (indices.ndim + 1)
        # float indices are compared as they are (onnxruntime and onnx's reference): 2.5 is never hot
        idx = indices if indices.dtype.kind == "f" else indices.astype(np.int64)
        idx = np.where(idx < 0, idx + depth, idx)
        shape = [1] * (indices.ndim + 1)
        shape[ax] = depth
        hot = np.expand_dims(idx, ax) == np.arange(depth).reshape(shape)
        return (np.where(hot, values[1], values[0]).astype(dt),)

    return run


_AT = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _scatter(out: np.ndarray, where: tuple[np.ndarray, ...], updates: np.ndarray, reduction: str) -> None:
    if reduction == "none":
        out[where] = updates
    else:
        _AT[reduction].at(out, where, updates)


@kernel("nn.scatter_elements")
def _scatter_elements(op: Operation) -> Kernel:
    axis, reduction = prop(op, "axis"), prop(op, "reduction")

    def run(data: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> tuple[np.ndarray, ...]:
        ax = axis % data.ndim
        out = data.copy()
        idx = np.where(indices < 0, indices + data.shape[ax], indices)
        where = list(np.indices(indices.shape, sparse=True))
        where[ax] = idx
        where = [np.broadcast_to(w, indices.shape) for w in where]
        _scatter(out, tuple(where), updates, reduction)
        return (out,)

    return run


@kernel("nn.scatter_nd")
def _scatter_nd(op: Operation) -> Kernel:
    reduction = prop(op, "reduction")

    def run(data: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> tuple[np.ndarray, ...]:
        out = data.copy()
        depth = indices.shape[-1]
        idx = indices.reshape(-1, depth)
        idx = np.where(idx < 0, idx + np.asarray(data.shape[:depth]), idx)
        upd = updates.reshape((idx.shape[0],) + data.shape[depth:])
        _scatter(out, tuple(idx.T), upd, reduction)
        return (out,)

    return run


@kernel("nn.einsum")
def _einsum(op: Operation) -> Kernel:
    eq, dt = prop(op, "equation").replace(" ", ""), result_dtype(op)
    return lambda *xs: (np.asarray(np.einsum(eq, *xs), dtype=dt),)


@kernel("nn.lp_pool")
def _lp_pool(op: Operation) -> Kernel:
    k, s, d, p = prop(op, "kernel"), prop(op, "strides"), prop(op, "dilations"), prop(op, "p")
    *_, flat = _pool_pads(op)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        xp = _pad_spatial(np.abs(x) ** p if p != 1 else np.abs(x), flat)
        total = window_reduce(xp, k, s, d, np.add)
        return ((total ** (1.0 / p) if p != 1 else total).astype(x.dtype),)

    return run


@kernel("nn.instance_norm")
def _instance_norm(op: Operation) -> Kernel:
    eps = prop(op, "epsilon")

    def run(x: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, ...]:
        axes = tuple(range(2, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=axes, keepdims=True)
        shp = (1, -1) + (1,) * (x.ndim - 2)
        y = xc / np.sqrt(var + np.asarray(eps, x.dtype)) * scale.reshape(shp) + bias.reshape(shp)
        return (y.astype(x.dtype),)

    return run


def _gs_reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect coordinates at the borders until they fall inside [lo, hi] (ONNX GridSample)."""
    rng = hi - lo
    below, above = x < lo, x > hi
    dx = np.where(below, lo - x, x - hi)
    k = np.trunc(dx / rng) if rng > 0 else np.zeros_like(dx)
    r = dx - k * rng
    even = (k % 2) == 0
    y = np.where(below, np.where(even, lo + r, hi - r), x)
    return np.where(above, np.where(even, hi - r, lo + r), y)


def _gs_cubic(t: np.ndarray) -> list[np.ndarray]:
    """Keys cubic weights (a = -0.75) of the four taps at offsets -1, 0, 1, 2 for fraction t."""
    a = -0.75
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    w3 = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a
    return [w0, w1, w2, w3]


@kernel("nn.grid_sample")
def _grid_sample(op: Operation) -> Kernel:
    """Vectorised over every output position; the coordinate steps follow onnx's reference (float32
    denormalisation, round-half-even for nearest, clamping or reflecting out-of-range coordinates)."""
    mode, padding, align = prop(op, "mode"), prop(op, "padding_mode"), prop(op, "align_corners")

    def run(x: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
        dims = x.shape[2:]
        r = len(dims)
        lo = [0.0 if align else -0.5] * r
        hi = [d - 1.0 if align else d - 0.5 for d in dims]
        coords = []
        for i, d in enumerate(dims):
            g = grid[..., r - 1 - i].astype(np.float32)
            one, two = np.float32(1), np.float32(2)
            c = (g + one) / two * np.float32(d - 1) if align else ((g + one) * np.float32(d) - one) / two
            if mode == "nearest":
                c = np.rint(c)
            c = c.astype(np.float64)
            out = (c < lo[i]) | (c > hi[i])
            if padding == "border":
                c = np.where(out, np.clip(c, 0, d - 1), c)
            elif padding == "reflection":
                c = np.where(out, _gs_reflect(c, lo[i], hi[i]), c)
            coords.append(c)
        xt = np.moveaxis(x, 1, -1)  # [N, *dims, C]
        batch = np.arange(x.shape[0]).reshape((-1,) + (1,) * (grid.ndim - 2))

        def fetch(idx: list[np.ndarray]) -> np.ndarray:
            """Pixels at integer positions, with the padding mode's rule for positions outside."""
            inside = np.ones(idx[0].shape, dtype=bool)
            safe = []
            for i, (k, d) in enumerate(zip(idx, dims)):
                if padding == "zeros":
                    inside &= (k >= 0) & (k < d)
                elif padding == "reflection":
                    k = np.trunc(_gs_reflect(k.astype(np.float64), lo[i], hi[i])).astype(np.int64)
                safe.append(np.clip(k, 0, d - 1))
            v = xt[(batch,) + tuple(safe)]
            return np.where(inside[..., None], v, 0) if padding == "zeros" else v

        if mode == "nearest":
            y = fetch([np.trunc(c).astype(np.int64) for c in coords])
        else:
            base = [np.floor(c) for c in coords]
            frac = [c - b for c, b in zip(coords, base)]
            taps = (0, 1) if mode == "linear" else (-1, 0, 1, 2)
            weights = [[1 - t, t] if mode == "linear" else _gs_cubic(t) for t in frac]
            y = np.zeros(grid.shape[:-1] + (x.shape[1],), dtype=np.float64)
            for combo in itertools.product(range(len(taps)), repeat=r):
                w = np.ones(grid.shape[:-1])
                for i, j in enumerate(combo):
                    w = w * weights[i][j]
                y += w[..., None] * fetch([(b + taps[j]).astype(np.int64) for b, j in zip(base, combo)])
        return (np.moveaxis(y, -1, 1).astype(x.dtype),)

    return run


@kernel("nn.bitcast")
def _bitcast(op: Operation) -> Kernel:
    dt = result_dtype(op)
    return lambda x: ((x if x.flags.c_contiguous else x.copy()).view(dt),)  # ascontiguousarray makes 0-d 1-d


@kernel("nn.det")
def _det(op: Operation) -> Kernel:
    dt = result_dtype(op)
    return lambda x: (np.asarray(np.linalg.det(x), dtype=dt),)


@kernel("nn.reverse_sequence")
def _reverse_sequence(op: Operation) -> Kernel:
    b_ax, t_ax = prop(op, "batch_axis"), prop(op, "time_axis")

    def run(x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, ...]:
        xs = np.moveaxis(x, (b_ax, t_ax), (0, 1))  # [B, T, ...]
        t = np.arange(xs.shape[1])[None, :]
        n = np.clip(lens.astype(np.int64), 0, xs.shape[1])[:, None]
        src = np.where(t < n, n - 1 - t, t)  # [B, T]
        y = np.take_along_axis(xs, src.reshape(src.shape + (1,) * (xs.ndim - 2)), axis=1)
        return (np.ascontiguousarray(np.moveaxis(y, (0, 1), (b_ax, t_ax))),)

    return run


@kernel("nn.rotary_embedding")
def _rotary_embedding(op: Operation) -> Kernel:
    """onnx's reference formula: rotate the first rotary_dim features of each head by the cached angles."""
    interleaved, heads, rd = prop(op, "interleaved"), prop(op, "num_heads"), prop(op, "rotary_dim")

    def run(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> tuple[np.ndarray, ...]:
        shape = x.shape
        xs = np.transpose(x, (0, 2, 1, 3)) if x.ndim == 4 else x.reshape(shape[0], shape[1], heads, -1)
        rot, rest = xs[..., :rd], xs[..., rd:]
        c, s_ = cos[:, :, None, :], sin[:, :, None, :]
        x1, x2 = (rot[..., 0::2], rot[..., 1::2]) if interleaved else np.split(rot, 2, axis=-1)
        real, imag = c * x1 - s_ * x2, s_ * x1 + c * x2
        rot = np.stack([real, imag], -1).reshape(rot.shape) if interleaved else np.concatenate([real, imag], -1)
        y = np.concatenate([rot, rest], -1)
        y = np.transpose(y, (0, 2, 1, 3)) if x.ndim == 4 else y.reshape(shape)
        return (np.ascontiguousarray(y).astype(x.dtype, copy=False),)

    return run


@kernel("nn.dft")
def _dft(op: Operation) -> Kernel:
    axis, n, inverse, onesided = prop(op, "axis"), prop(op, "length"), prop(op, "inverse"), prop(op, "onesided")
    dt = result_dtype(op)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        sig = x[..., 0] + 1j * x[..., 1] if x.shape[-1] == 2 else x[..., 0].astype(np.complex128)
        if inverse and onesided:  # the half spectrum of a real signal back to that signal
            return (np.fft.irfft(sig.astype(np.complex128), n=n, axis=axis)[..., None].astype(dt),)
        y = (np.fft.ifft if inverse else np.fft.fft)(sig.astype(np.complex128), n=n, axis=axis)
        if onesided:
            y = np.take(y, np.arange(n // 2 + 1), axis=axis)
        return (np.stack([y.real, y.imag], -1).astype(dt),)

    return run


@kernel("nn.linear_attention")
def _linear_attention(op: Operation) -> Kernel:
    """onnx's reference recurrence, in float32: optional decay (gated rules) and delta correction."""
    hq, hk, scale, rule = (prop(op, n) for n in ("q_num_heads", "kv_num_heads", "scale", "update_rule"))
    gating, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    out_dt, state_dt = result_dtype(op, 0), result_dtype(op, 1)

    def heads(x: np.ndarray, h: int) -> np.ndarray:
        b, t, hd = x.shape
        return x.reshape(b, t, h, hd // h).transpose(0, 2, 1, 3).astype(np.float32)

    def run(q, k, v, past, decay, beta):  # type: ignore[no-untyped-def]
        b, t, _ = q.shape
        q4, k4, v4 = heads(q, hq), heads(k, hk), heads(v, hk)
        d4 = (decay.reshape(b, t, hk, 1).transpose(0, 2, 1, 3) if decay.shape[-1] == hk
              else heads(decay, hk)).astype(np.float32)
        b4 = beta.reshape(b, t, beta.shape[-1], 1).transpose(0, 2, 1, 3).astype(np.float32)
        state = past.astype(np.float32).copy()
        out = np.zeros((b, hq, t, v4.shape[-1]), np.float32)
        for i in range(t):
            v_t = v4[:, :, i, :]
            if gating:
                state = state * np.exp(d4[:, :, i, :])[..., None]
            if delta:
                v_t = b4[:, :, i, :] * (v_t - np.einsum("bhdm,bhd->bhm", state, k4[:, :, i, :]))
            state = state + k4[:, :, i, :, None] * v_t[..., None, :]
            read = state if hq == hk else np.repeat(state, hq // hk, axis=1)
            out[:, :, i, :] = np.float32(scale) * np.einsum("bhd,bhdm->bhm", q4[:, :, i, :], read)
        y = out.transpose(0, 2, 1, 3).reshape(b, t, -1).astype(out_dt)
        return (y, state.astype(state_dt))

    return run


@kernel("nn.tensor_scatter")
def _tensor_scatter(op: Operation) -> Kernel:
    axis, circular = prop(op, "axis"), prop(op, "circular")

    def run(cache: np.ndarray, update: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, ...]:
        out = cache.copy()
        n_max, n = cache.shape[axis], update.shape[axis]
        pos = start.astype(np.int64)[:, None] + np.arange(n)[None, :]  # [B, n]
        pos = pos % n_max if circular else pos
        shape = [1] * cache.ndim
        shape[0], shape[axis] = cache.shape[0], n
        where = list(np.indices(update.shape, sparse=True))
        where[axis] = pos.reshape(shape)
        out[tuple(np.broadcast_to(w, update.shape) for w in where)] = update
        return (out,)

    return run


@kernel("nn.max_pool_indices")
def _max_pool_indices(op: Operation) -> Kernel:
    """Values as nn.max_pool; the index of the first maximum of each window rides along (padding: -1)."""
    k, s, d = prop(op, "kernel"), prop(op, "strides"), prop(op, "dilations")
    column = prop(op, "storage_order") == 1
    *_, flat = _pool_pads(op)
    out_sp = result_shape(op)[2:]

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        sp = x.shape[2:]
        if column and len(sp) == 2:  # spatial dims column-major: w * H + h
            inner = (np.arange(sp[1])[None, :] * sp[0] + np.arange(sp[0])[:, None])
        else:
            inner = np.arange(int(np.prod(sp))).reshape(sp)
        base = (np.arange(x.shape[0] * x.shape[1]) * int(np.prod(sp))).reshape(x.shape[:2] + (1,) * len(sp))
        idx = (base + inner).astype(np.int64)
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp, ip = _pad_spatial(x, flat, low), _pad_spatial(idx, flat, -1)
        best, arg = None, None
        for _, sl in _window_slices(k, s, d, out_sp):
            v, i = xp[(slice(None), slice(None)) + sl], ip[(slice(None), slice(None)) + sl]
            if best is None:
                best, arg = v.copy(), i.copy()
            else:
                take = v > best
                best, arg = np.where(take, v, best), np.where(take, i, arg)
        assert best is not None and arg is not None
        return (best.astype(x.dtype, copy=False), arg)

    return run


@kernel("nn.max_unpool")
def _max_unpool(op: Operation) -> Kernel:
    shape, dt, inner = result_shape(op), result_dtype(op), prop(op, "unpooled")

    def run(x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        flat = np.zeros(int(np.prod(inner)), dt)
        flat[idx.reshape(-1)] = x.reshape(-1)
        out = np.zeros(shape, dt)
        out[tuple(slice(0, n) for n in inner)] = flat.reshape(inner)
        return (out,)

    return run


@kernel("nn.roi_align")
def _roi_align(op: Operation) -> Kernel:
    """onnx's reference algorithm, vectorised over each region's bins and samples (its `max` mode takes the
    largest of the four weighted corners, as onnxruntime does)."""
    mode, ratio, scale, half = (prop(op, n) for n in ("mode", "sampling_ratio", "spatial_scale", "half_pixel"))
    oh, ow = result_shape(op)[2:]
    dt = result_dtype(op)

    def run(x: np.ndarray, rois: np.ndarray, bidx: np.ndarray) -> tuple[np.ndarray, ...]:
        c, h, w = x.shape[1:]
        out = np.zeros((rois.shape[0], c, oh, ow), np.float64)
        for n in range(rois.shape[0]):
            sw, sh, ew, eh = (rois[n].astype(np.float64) * scale - (0.5 if half else 0.0)).tolist()
            rw, rh = ew - sw, eh - sh
            if not half:
                rw, rh = max(rw, 1.0), max(rh, 1.0)
            bh, bw = rh / oh, rw / ow
            gh = ratio if ratio > 0 else int(np.ceil(rh / oh))
            gw = ratio if ratio > 0 else int(np.ceil(rw / ow))
            if gh <= 0 or gw <= 0:
                continue  # no samples: the bin stays 0
            yy = sh + np.arange(oh)[:, None] * bh + (np.arange(gh)[None, :] + 0.5) * bh / gh  # [oh, gh]
            xx = sw + np.arange(ow)[:, None] * bw + (np.arange(gw)[None, :] + 0.5) * bw / gw  # [ow, gw]
            ys, xs = np.broadcast_arrays(yy[:, :, None, None], xx[None, None, :, :])  # [oh, gh, ow, gw]
            outside = (ys < -1.0) | (ys > h) | (xs < -1.0) | (xs > w)
            ys, xs = np.maximum(ys, 0.0), np.maximum(xs, 0.0)
            y0, x0 = ys.astype(np.int64), xs.astype(np.int64)
            ytop, xtop = y0 >= h - 1, x0 >= w - 1
            y0, x0 = np.where(ytop, h - 1, y0), np.where(xtop, w - 1, x0)
            ys, xs = np.where(ytop, y0, ys), np.where(xtop, x0, xs)
            y1, x1 = np.where(ytop, y0, y0 + 1), np.where(xtop, x0, x0 + 1)
            ly, lx = ys - y0, xs - x0
            ws = [(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx]
            ws = [np.where(outside, 0.0, wt) for wt in ws]
            img = x[int(bidx[n])].astype(np.float64)  # [C, H, W]
            corners = [img[:, np.where(outside, 0, a), np.where(outside, 0, b)]
                       for a, b in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))]  # each [C, oh, gh, ow, gw]
            terms = [wt[None] * v for wt, v in zip(ws, corners)]
            if mode == "avg":
                out[n] = sum(terms).sum(axis=(2, 4)) / max(gh * gw, 1)
            else:
                out[n] = np.maximum.reduce(terms).max(axis=(2, 4))
        return (out.astype(dt),)

    return run


@kernel("nn.deform_conv")
def _deform_conv(op: Operation) -> Kernel:
    """Bilinear samples at the offset taps (zeros outside the image, as onnx's GridSample with
    align_corners), times the mask, then the grouped convolution as one einsum per group."""
    (sh, sw), (dh, dw) = prop(op, "strides"), prop(op, "dilations")
    pads, g, og = prop(op, "pads"), prop(op, "group"), prop(op, "offset_group")
    dt = result_dtype(op)

    def run(x, w, offset, b, mask):  # type: ignore[no-untyped-def]
        n, c, h, wd = x.shape
        oc, icg, kh, kw = w.shape
        oh, ow = offset.shape[2:]
        off = offset.astype(np.float64).reshape(n, og, kh, kw, 2, oh, ow)
        base_h = (-pads[0] + sh * np.arange(oh))[None, :, None] + (dh * np.arange(kh))[:, None, None]  # [kh, oh, 1]
        base_w = (-pads[1] + sw * np.arange(ow))[None, None, :] + (dw * np.arange(kw))[:, None, None]  # [kw, 1, ow]
        ys = base_h[None, None, :, None, :, :] + off[:, :, :, :, 0]  # [n, og, kh, kw, oh, ow]
        xs = base_w[None, None, None, :, :, :] + off[:, :, :, :, 1]
        y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
        ly, lx = ys - y0, xs - x0
        per = c // og
        img = x.astype(np.float64).reshape(n, og, per, h, wd)
        nb = np.arange(n)[:, None, None, None, None, None]
        gb = np.arange(og)[None, :, None, None, None, None]
        cols = np.zeros((n, og, per, kh, kw, oh, ow))
        for yy, xx, wt in ((y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx),
                           (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)):
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < wd)
            v = img[nb, gb, :, np.clip(yy, 0, h - 1), np.clip(xx, 0, wd - 1)]  # [n, og, kh, kw, oh, ow, per]
            cols += np.moveaxis(v, -1, 2) * np.where(inside, wt, 0.0)[:, :, None]
        cols *= mask.astype(np.float64).reshape(n, og, 1, kh, kw, oh, ow)
        cols = cols.reshape(n, c, kh, kw, oh, ow)
        ocg = oc // g
        out = np.concatenate([
            np.einsum("oikl,nikluv->nouv", w[k * ocg:(k + 1) * ocg].astype(np.float64), cols[:, k * icg:(k + 1) * icg])
            for k in range(g)], axis=1)
        return ((out + b.astype(np.float64).reshape(1, -1, 1, 1)).astype(dt),)

    return run


@kernel("nn.col2im")
def _col2im(op: Operation) -> Kernel:
    block, st, pd, dl = (prop(op, n) for n in ("block", "strides", "pads", "dilations"))
    shape, dt = result_shape(op), result_dtype(op)

    def run(x: np.ndarray) -> tuple[np.ndarray, ...]:
        n, c, image = shape[0], shape[1], shape[2:]
        r = len(image)
        grid = [(image[i] + pd[i] + pd[r + i] - dl[i] * (block[i] - 1) - 1) // st[i] + 1 for i in range(r)]
        cols = x.reshape((n, c) + tuple(block) + tuple(grid))
        out = np.zeros((n, c) + tuple(image), dtype=np.float64 if dt.kind == "f" else dt)
        for k in itertools.product(*(range(b) for b in block)):
            pos = [np.arange(grid[i]) * st[i] - pd[i] + k[i] * dl[i] for i in range(r)]
            keep = [(p >= 0) & (p < image[i]) for i, p in enumerate(pos)]
            src = cols[(slice(None), slice(None)) + k]  # [n, c, *grid]
            src = src[(slice(None), slice(None)) + np.ix_(*[np.nonzero(m)[0] for m in keep])]
            dst = (slice(None), slice(None)) + np.ix_(*[p[m] for p, m in zip(pos, keep)])
            out[dst] += src
        return (out.astype(dt),)

    return run
