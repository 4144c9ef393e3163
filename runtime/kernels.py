"""The digital tier's vector-op kernels: the `kernels` section of program.bin, parsed once.

Each kernel is a one-op function; its reference kernel (runtime/reference.py) is what the tier
computes and its workload (h3pc/workload.py) is what the cost model charges.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from h3pc.cost import Cost, digital_vector
from h3pc.diagnostics import H3pcError
from h3pc.dialects import load_dialects
from h3pc.dialects.types import numpy_dtype
from h3pc.hardware.schema import HardwareConfig
from h3pc.runtime.reference import Kernel, compile_op
from h3pc.workload import vector_work

if TYPE_CHECKING:
    from h3pc.backends.program import Program


#: (shape, numpy dtype) of each operand, then of each result, of one kernel
Signature = tuple[list[tuple[tuple[int, ...], np.dtype]], list[tuple[tuple[int, ...], np.dtype]]]


def _known(t: object) -> bool:
    """A ranked tensor of an element type the emulator computes in."""
    if not isinstance(t, TensorType):
        return False
    try:
        numpy_dtype(t.element_type)
    except KeyError:
        return False
    return all(d >= 0 for d in t.get_shape())


class Kernels:
    def __init__(self, ops: list[Operation]) -> None:
        self.ops = ops

    @classmethod
    def of(cls, prog: "Program", where: str) -> "Kernels":
        """The program's kernels: its in-memory ops if it was just compiled, else parsed from the section."""
        return cls(prog.kernel_ops) if prog.kernel_ops is not None else cls.parse(prog.kernels, where)

    @classmethod
    def parse(cls, text: str, where: str) -> "Kernels":
        from xdsl.parser import Parser
        from xdsl.utils.exceptions import ParseError, VerifyException

        try:
            module = Parser(load_dialects(Context()), text, where).parse_module()
            module.verify()
        except (ParseError, VerifyException) as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise H3pcError(f"{where}: kernels section does not parse: {first}") from None
        except Exception as exc:  # noqa: BLE001 - xDSL's own builders fail on some well-formed but wrong IR
            raise H3pcError(f"{where}: kernels section is not valid IR ({type(exc).__name__}: {exc})") from None
        ops: list[Operation] = []
        for i, f in enumerate(module.ops):
            if (not isinstance(f, func.FuncOp) or f.sym_name.data != f"k{i}" or len(f.body.blocks) != 1
                    or f.body.block.first_op is None or isinstance(f.body.block.first_op, func.ReturnOp)):
                raise H3pcError(f"{where}: kernels section: entry {i} is not function @k{i} holding one op")
            op = f.body.block.first_op
            bad = next((v.type for v in (*op.operands, *op.results) if not _known(v.type)), None)
            if bad is not None:
                raise H3pcError(f"{where}: kernels section: @k{i} uses type {str(bad):.60}, not a tensor of a "
                                "supported element type")
            ops.append(op)
        return cls(ops)

    @cached_property
    def compiled(self) -> list[Kernel]:
        out = []
        for op in self.ops:
            try:
                out.append(compile_op(op))
            except KeyError:
                raise H3pcError(f"kernel op {op.name} has no semantics in this emulator") from None
        return out

    @cached_property
    def gathers(self) -> frozenset[int]:
        """Kernels that read only rows of their first operand: a constant table is not loaded whole."""
        return frozenset(i for i, op in enumerate(self.ops) if op.name == "nn.gather")

    def signatures(self) -> list[Signature]:
        """Per kernel, the (shape, dtype) of each operand and each result: what its VOPs must pass."""
        def of(values: Sequence[SSAValue]) -> list[tuple[tuple[int, ...], np.dtype]]:
            return [(tuple(v.type.get_shape()), numpy_dtype(v.type.element_type)) for v in values]  # type: ignore
        return [(of(op.operands), of(op.results)) for op in self.ops]

    def costs(self, hw: HardwareConfig) -> list[Cost]:
        out = []
        for op in self.ops:
            w = vector_work(op)
            out.append(digital_vector(hw, w.adds, w.muls, w.specials))
        return out
