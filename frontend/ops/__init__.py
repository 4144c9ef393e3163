"""Importers, one module per ONNX op family; importing a module registers its entries in the importer
table (frontend/registry.py), and `load_importers` returns the table with every family loaded."""

from h3pc.frontend.registry import IMPORTERS, OpImporter

from h3pc.frontend.ops import attention, elementwise, gemm, layout, norm, pool, quant, recurrent, reduce

ALL_FAMILIES = (elementwise, gemm, norm, pool, reduce, layout, attention, recurrent, quant)


def load_importers() -> dict[str, OpImporter]:
    """The importer table, every op family registered (they are, once this package is imported)."""
    return IMPORTERS
