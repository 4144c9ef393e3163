"""The host tier's execution: GEMM in fp32 and every vector op as its kernel (runtime/kernels.py),
and the lazy windows of a conv that exact runs read in place. Its compile-time side:
backends/digital.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from h3pc.backends.isa import TENSOR_FIELDS, tensors_of
from h3pc.backends.program import Program
from h3pc.runtime.kernels import Kernels
from h3pc.runtime.reference import Windows, product, prop

#: the host's op that makes a conv's windows (lowered convs only read them as a product's left operand)
WINDOWS_OP = "digital.im2col"
#: the products that read a lazy window view as their left operand (`a`, or `x` of a crossbar read)
_WINDOW_READERS = frozenset({"PMM", "GEMM", "MVM", "MVMS"})
_BESIDES_LEFT = TENSOR_FIELDS - {"a", "x"}


def lazy_windows(prog: Program, kernels: Kernels) -> set[int]:
    """im2col results whose only use is as the left operand of a product: in exact runs these stay as
    their source (reference.Windows) and the product runs on it directly."""
    im2col = {k for k, op in enumerate(kernels.ops) if op.name == WINDOWS_OP}
    produced, other_use = set(), {o["tensor"] for o in prog.outputs}
    for stream in prog.streams.values():
        for ins in stream:
            if ins.op == "VOP" and ins.kernel in im2col:
                produced.update(ins.outs)
                other_use.update(ins.ins)
            elif ins.op in _WINDOW_READERS:
                other_use.update(tensors_of(ins, _BESIDES_LEFT))
            elif ins.op not in ("LD", "ST", "SIGNAL", "WAIT"):
                other_use.update(tensors_of(ins))
    return produced - other_use


def bind_gemm(em: Any, tier: str, ins: Any, exact: bool) -> Callable[[], None]:
    a, b, out = ins.a, ins.b, ins.out
    env = em.env

    def run() -> None:
        env[out] = product(env[a], env[b])
    return run


def bind_vop(em: Any, tier: str, vop: Any, exact: bool) -> Callable[[], None]:
    k, ins, outs = vop.kernel, vop.ins, vop.outs
    env = em.env
    if len(outs) == 1 and outs[0] in em.lazy:
        op = em.kernels.ops[k]
        params = tuple(prop(op, n) for n in ("kernel", "strides", "pads", "dilations", "group"))
        (i,), (o,) = ins, outs

        def lazy() -> None:
            env[o] = Windows(env[i], *params)
        return lazy
    fn = em.kernels.compiled[k]
    if len(ins) == 1 and len(outs) == 1:
        (i,), (o,) = ins, outs

        def unary() -> None:
            env[o] = fn(env[i])[0]
        return unary

    def run() -> None:
        for o, v in zip(outs, fn(*[env[i] for i in ins])):
            env[o] = v
    return run


BINDERS = {"GEMM": bind_gemm, "VOP": bind_vop}
