"""The package's modules form layers without cycles.

The import graph is built from the source with `ast` (nothing is imported), over every module of the
`h3pc` distribution as pyproject.toml maps it (`h3pc.backends` is `backends/`, ...). Every import of
another h3pc module is an edge, wherever it stands:

- at module level;
- inside a function (a "lazy" import). It is still a dependency: the lower module cannot run, be
  tested or be understood without the higher one, and moving an import into a function is the usual
  way a cycle is hidden instead of broken. Lazy imports keep their place for start-up time, but that
  is a reason to defer a *third-party* import (onnxruntime, pymoo, ortools), which is not in this
  graph, never a reason for a lower layer to reach up;
- under `if TYPE_CHECKING:`: a type named in a signature is part of the interface, so the module
  that owns it must sit below.

`test_no_import_cycles` fails on any cycle and names it. `test_layers` fails when a module imports one
of a higher layer (the table is `LAYERS` below; a new module must be placed in it, or the test fails).
An edge that breaks the rules would go into `EXEMPT` (none does today), with its reason and the change that
removes it; an exemption that no longer matches an edge fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent

#: lowest first; a module belongs to the layer of its longest matching prefix (a name or a package)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation: diagnostics, files, progress, the hardware description", (
        "h3pc",  # the package itself: only __version__
        "h3pc.diagnostics", "h3pc.files", "h3pc.progress", "h3pc.hardware",
    )),
    ("IR and program format: dialects, instruction set, program.bin, data files", (
        "h3pc.dialects", "h3pc.context", "h3pc.backends", "h3pc.backends.isa", "h3pc.backends.program",
        "h3pc.backends.container", "h3pc.npz",
        # the weight store the IR's dense_resource handles point into: the frontend fills it, codegen and
        # the evaluator read it
        "h3pc.frontend.weights",
    )),
    ("cost model, tiers, schedule, kernels: what the compiler's estimate shares with the emulator", (
        "h3pc.cost", "h3pc.workload", "h3pc.charges", "h3pc.runtime.schedule", "h3pc.runtime.kernels",
        # the Tier interface, one module per tier and the registry (backends/tier.py, backends/tiers.py)
        "h3pc.backends.tier", "h3pc.backends.tiers", "h3pc.backends.photonic", "h3pc.backends.pim",
        "h3pc.backends.sram_pim", "h3pc.backends.reram_pim", "h3pc.backends.digital",
        # the numpy meaning of every op (a kernel's equivalent computation), read by kernels and codegen
        "h3pc.runtime.reference",
    )),
    ("runtime: emulator, verifier, noise, reports, the quality oracle", (
        "h3pc.runtime", "h3pc.quality",
    )),
    ("transforms, stage one and two, frontend, codegen", (
        "h3pc.transforms", "h3pc.passes", "h3pc.frontend",
        "h3pc.backends.codegen", "h3pc.backends.plan_buffer",
    )),
    ("drivers", (
        "h3pc.compiler", "h3pc.cli", "h3pc.run", "h3pc.opt", "h3pc.objdump", "h3pc.sweep", "h3pc.universe",
        "h3pc.tool",
        "h3pc.docgen",
    )),
]

#: (importer, imported) -> why the edge is allowed for now, and what removes it
EXEMPT: dict[tuple[str, str], str] = {
}


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    line: int
    kind: str  # "module", "function" or "type-checking"

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} ({self.kind}-level import, line {self.line})"


@cache
def modules() -> dict[str, Path]:
    """Every module of the distribution -> its file, from pyproject's packages and package-dir."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = tool.get("package-dir", {})
    out: dict[str, Path] = {}
    for pkg in tool["packages"]:
        parent = pkg.rpartition(".")[0]
        if pkg in dirs:
            folder = ROOT / dirs[pkg]
        elif parent in dirs:
            folder = ROOT / dirs[parent] / pkg.rpartition(".")[2]
        else:
            folder = ROOT / pkg.replace(".", "/")
        assert (folder / "__init__.py").is_file(), f"{pkg}: no {folder}/__init__.py"
        for f in sorted(folder.glob("*.py")):
            out[pkg if f.name == "__init__.py" else f"{pkg}.{f.stem}"] = f
    return out


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> Iterator[tuple[str, int, str]]:
    """(imported module, line, kind) of every import statement in one module."""
    mods = modules()
    is_pkg = path.name == "__init__.py"

    def walk(node: ast.AST, kind: str) -> Iterator[tuple[str, int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child.test):
                for stmt in child.body:
                    yield from visit(stmt, "type-checking")
                for stmt in child.orelse:
                    yield from visit(stmt, kind)
            else:
                yield from visit(child, kind)

    def visit(node: ast.AST, kind: str) -> Iterator[tuple[str, int, str]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, kind
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                yield (sub if sub in mods else mod), node.lineno, kind
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from walk(node, "type-checking" if kind == "type-checking" else "function")
        else:
            yield from walk(node, kind)

    yield from walk(ast.parse(path.read_text(), str(path)), "module")


@cache
def edges() -> tuple[Edge, ...]:
    """Every import of one h3pc module by another (the first statement of each pair, by line)."""
    mods = modules()
    seen: dict[tuple[str, str], Edge] = {}
    for name, path in mods.items():
        for dst, line, kind in _imports(name, path):
            if dst in mods and dst != name and (name, dst) not in seen:
                seen[(name, dst)] = Edge(name, dst, line, kind)
    return tuple(seen.values())


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[0]):
                best = (len(p), i)
    return None if best is None else best[1]


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(modules())
    g.add_edges_from((e.src, e.dst, {"edge": e}) for e in edges() if (e.src, e.dst) not in EXEMPT)
    return g


def test_graph_sees_the_package() -> None:
    """The scan finds every subpackage and the imports that are known to be there (a scan that found
    nothing would pass every other test)."""
    mods = modules()
    for m in ("h3pc.cli", "h3pc.frontend.importer", "h3pc.frontend.ops.gemm", "h3pc.dialects.nn",
              "h3pc.transforms.place", "h3pc.backends.isa", "h3pc.runtime.emulator", "h3pc.transforms.stage1.cpsat"):
        assert m in mods, m
    pairs = {(e.src, e.dst): e.kind for e in edges()}
    assert pairs[("h3pc.transforms.place", "h3pc.dialects.nn")] == "module"
    assert pairs[("h3pc.cli", "h3pc.compiler")] == "function"
    assert pairs[("h3pc.runtime.kernels", "h3pc.backends.program")] == "type-checking"
    assert ("h3pc.frontend.ops", "h3pc.frontend.ops.gemm") in pairs  # `from pkg import submodule`
    assert any(kind == "function" for kind in pairs.values())


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) is None]
    assert not missing, f"place these modules in LAYERS (tests/test_layers.py): {missing}"


def test_no_import_cycles() -> None:
    g = _graph()
    cycles = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            cycle = nx.find_cycle(g.subgraph(comp))
            cycles.append("\n    ".join(str(g.edges[a, b]["edge"]) for a, b in cycle))
    assert not cycles, "import cycles:\n  " + "\n  ".join(f"cycle:\n    {c}" for c in cycles)


def test_layers() -> None:
    bad = []
    for e in edges():
        if (e.src, e.dst) in EXEMPT:
            continue
        a, b = layer_of(e.src), layer_of(e.dst)
        if a is not None and b is not None and b > a:
            bad.append(f"{e}: layer {a} ({LAYERS[a][0].split(':')[0]}) imports layer {b} "
                       f"({LAYERS[b][0].split(':')[0]})")
    assert not bad, "lower layer imports a higher one:\n  " + "\n  ".join(bad)


def test_exemptions_are_current() -> None:
    """An exemption names an edge that exists and that would break a rule without it (there are none
    left today; the check stays for the next one)."""
    for pair in sorted(EXEMPT):
        _check_exemption(pair)


def _check_exemption(pair: tuple[str, str]) -> None:
    edge = next((e for e in edges() if (e.src, e.dst) == pair), None)
    assert edge is not None, f"{pair}: no such import any more; remove it from EXEMPT"
    g = _graph()
    g.add_edge(*pair)
    a, b = layer_of(pair[0]), layer_of(pair[1])
    in_cycle = nx.has_path(g, pair[1], pair[0])
    assert in_cycle or (a is not None and b is not None and b > a), \
        f"{pair} breaks no rule; remove it from EXEMPT"
