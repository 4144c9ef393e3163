"""Importers, one module per ONNX op family; importing a module registers its entries."""

from h3pc.frontend.ops import attention, elementwise, gemm, layout, norm, pool, quant, recurrent, reduce

ALL_FAMILIES = (elementwise, gemm, norm, pool, reduce, layout, attention, recurrent, quant)
