"""Tier names appear only in their own modules, the presets and the docs.

Code that handles tiers iterates the registry (backends/tiers.py) and never names one: a new tier is
then one module (tests/test_new_tier.py), and a change to one tier lands in its own files. The scan
reads every module of the package as Python tokens and flags identifiers and string literals that
hold a built-in tier's name (`photonic`, `sram_pim`, `reram_pim`, `digital`, and the target spellings
`sram-pim`, `reram-pim`); comments, docstrings and messages (strings with spaces) are prose and may name
anything. A module passes if
it is one of the tier's own (`OWN`) or a listed exception (`EXCEPTIONS`, each with its reason); an
exception that no longer names a tier fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from functools import cache

import pytest

from test_layers import modules

NAMES = re.compile(r"photonic|sram[_-]pim|reram[_-]pim|digital")

#: each tier's own modules: its compile-time module, its execution, its dialect
OWN = {
    "h3pc.backends.photonic", "h3pc.backends.pim", "h3pc.backends.sram_pim", "h3pc.backends.reram_pim",
    "h3pc.backends.digital", "h3pc.runtime.photonic", "h3pc.runtime.pim", "h3pc.runtime.digital",
    "h3pc.dialects.photonic", "h3pc.dialects.pim", "h3pc.dialects.digital",
}

#: module -> why it names tiers
EXCEPTIONS: dict[str, str] = {
    "h3pc.backends.tiers": "the registry's catalogue of the built-in tiers (their modules, by name)",
    "h3pc.runtime.tiers": "the emulator's catalogue of the built-in tiers' executors (their modules, by name)",
    "h3pc.hardware.schema": "the hardware description's format declares the built-in tiers' blocks, so a "
                            "description or a program.bin reads without loading any tier's code",
    "h3pc.dialects": "the dialect table: each tier's dialect is registered by its name",
    "h3pc.cost": "the technologies' formulas (SimPhony photonic cycles, ISAAC/PUMA crossbars, the SIMD "
                 "unit) that the tiers' modules call",
    "h3pc.runtime.kernels": "the host's vector kernels are charged with the SIMD formula of cost.py",
    "h3pc.runtime.reference": "the numpy meaning of every op, the tier dialects' ops included (constant "
                              "folding and the evaluator run them)",
    "h3pc.workload": "the host dialect's im2col is a view, free of work, like nn.reshape",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """Start lines of the docstrings of a module, its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                out.add(first.lineno)
    return out


@cache
def mentions() -> dict[str, list[str]]:
    """Module -> the tier names it holds in code ("line: token")."""
    out: dict[str, list[str]] = {}
    for name, path in modules().items():
        text = path.read_text()
        docs = _docstrings(ast.parse(text))
        hits = []
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.start[0] in docs:
                continue
            prose = tok.type == tokenize.STRING and re.search(r"\s", tok.string)  # a message, not a key
            if tok.type in (tokenize.NAME, tokenize.STRING) and not prose and NAMES.search(tok.string):
                hits.append(f"{tok.start[0]}: {tok.string[:60]}")
        if hits:
            out[name] = hits
    return out


def test_the_scan_sees_tier_names() -> None:
    """The tiers' own modules name themselves (a scan that found nothing would pass every check)."""
    found = mentions()
    assert "h3pc.backends.photonic" in found and "h3pc.backends.sram_pim" in found
    assert "h3pc.compiler" not in found


def test_tier_names_only_in_their_own_modules() -> None:
    bad = {m: hits[:3] for m, hits in mentions().items() if m not in OWN and m not in EXCEPTIONS}
    assert not bad, ("modules that name a tier (iterate backends/tiers.py instead, or add a reasoned "
                     f"exception): {bad}")


@pytest.mark.parametrize("module", sorted(EXCEPTIONS))
def test_exceptions_are_current(module: str) -> None:
    assert module in mentions(), f"{module} names no tier any more; remove it from EXCEPTIONS"

