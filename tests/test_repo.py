"""The repository stands on its own: no file points outside it, and every link in its docs resolves.

A clone with nothing beside it must build, test and read correctly, so a tracked file that names a folder
next to the checkout or a path on some machine is a bug, as is a README/docs link to a file or section
that is not there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()

#: the first folders of absolute paths on the machines people use (written without their leading slash, so
#: that this file holds no machine path itself)
ROOTS = ("work/", r"home/\w", r"Users/\w", "root/", r"tmp/\w", r"opt/\w", r"mnt/\w", "var/folders/", "private/var/")
#: what a path outside the repository looks like, with why it is wrong
OUTSIDE = {
    "a folder beside the checkout": re.compile(r"\.\./shared\b|\bshared/(?:models|research|tools|DESIGN)"),
    "an absolute path on some machine": re.compile(
        r"(?<![\w.~])(?:/(?:" + "|".join(ROOTS) + r")|[A-Za-z]:\\\\?(?:Users|home)\b)"),
    "a machine path as the large-model default": re.compile(r"H3PC_MODELS_EXTRA[\"']\s*,\s*[\"'](?:/|[A-Za-z]:)"),
    # (a hostile case's `file:///../outside/x` is a traversal the loader must refuse, not a place on a machine)
    "a URL to a local file": re.compile(r"file://(?!/\.\./)"),
}
#: markdown links: [text](target) and bare relative targets; external schemes are not ours to check
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:")
#: a citation of a project doc in a comment: docs/NAME.md or docs/NAME.md#anchor
CITATION = re.compile(r"\bdocs/[\w./-]+\.md(?:#[\w-]+)?")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def text_of(path: Path) -> str | None:
    """The file as text, or None for a binary file (a NUL byte or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def outside_references(text: str) -> list[str]:
    return [f"{why}: {m.group(0)!r}" for why, rx in OUTSIDE.items() for m in rx.finditer(text)]


def test_no_tracked_file_points_outside_the_repository() -> None:
    found = []
    for path in tracked_files():
        if path == THIS or not path.is_file():
            continue
        text = text_of(path)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{n}: {hit}" for hit in outside_references(line)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("line", [
    "See `../shared/DESIGN.md` for the architecture.",
    # "\x2f" is "/": the samples are machine paths only once the test runs
    'EXTRA = Path(os.environ.get("H3PC_MODELS_EXTRA", "\x2fwork/models-extra"))',
    "results in \x2fhome/alice/h3pc/out.json",
    "a temporary \x2ftmp/tmpab12/gpt2_small.bin",
    r"C:\Users\bob\models",
    "# cites shared/research/hardware-model.md",
    "models = 'file:///srv/models/gpt2.onnx'",
])
def test_the_patterns_catch_paths_outside(line: str) -> None:
    assert outside_references(line)


@pytest.mark.parametrize("line", [
    "written to ${XDG_CACHE_HOME:-~/.cache}/h3pc/models",
    "#!/usr/bin/env bash",
    "with open('/proc/self/status') as f:",
    "see [the design](docs/design.md#passes) and tests/models/",
    "weights shared by every call (shared verify_matmul)",
    'constant_at(lambda d: "file:///../outside/secret.bin")',
])
def test_the_patterns_spare_ordinary_text(line: str) -> None:
    assert not outside_references(line)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\*|_(?=\W)|(?<=\W)_", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(md: Path) -> set[str]:
    """Every heading anchor of a markdown file, with GitHub's -1, -2 ... for repeats."""
    seen: dict[str, int] = {}
    found = set()
    in_code = False
    for line in md.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def unresolved(target: str, base: Path) -> str | None:
    """Why a relative link or citation does not resolve inside the repository (None when it does)."""
    path_part, _, anchor = target.partition("#")
    dest = (base / path_part).resolve() if path_part else None
    if dest is not None:
        if not dest.is_relative_to(ROOT):
            return "points outside the repository"
        if not dest.exists():
            return "no such file"
    md = dest if dest is not None else None
    if anchor and md is not None and md.suffix == ".md" and anchor not in anchors(md):
        return f"no section #{anchor} in {md.relative_to(ROOT)}"
    return None


def docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_in_the_docs_resolves() -> None:
    bad = []
    for md in docs():
        own = anchors(md)
        for n, line in enumerate(md.read_text().splitlines(), 1):
            for target in LINK.findall(line):
                if target.startswith(EXTERNAL):
                    continue
                if target.startswith("#"):
                    why = None if target[1:] in own else f"no section {target}"
                else:
                    why = unresolved(target, md.parent)
                if why:
                    bad.append(f"{md.relative_to(ROOT)}:{n}: {target}: {why}")
    assert not bad, "\n".join(bad)


HARDWARE_FILES = [*sorted((ROOT / "h3pc" / "hardware" / "presets").glob("*.yaml")),
                  ROOT / "tests" / "filecheck" / "transforms" / "Inputs" / "tiny-sram.yaml"]
#: a section citation in a hardware file's comment: §a.2, §b.6, §c
SECTION = re.compile(r"§([a-z](?:\.\d+)?)")


def section_labels(md: Path) -> set[str]:
    """The labels of a file's numbered headings: "### a.2 Architecture" -> a.2, "## c. Noise" -> c."""
    return {m.group(1).split()[0].rstrip(".") for m in re.finditer(r"^#{1,6}\s+(\S.*)$", md.read_text(), re.M)}


def test_hardware_citations_resolve() -> None:
    """The hardware files cite docs/hardware-model.md, by link and by section label: each exists."""
    labels = section_labels(ROOT / "docs" / "hardware-model.md")
    links, sections, bad = 0, 0, []
    for f in HARDWARE_FILES:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            comment = line.partition("#")[2]
            for target in CITATION.findall(comment):
                links += 1
                why = unresolved(target, ROOT)
                if why:
                    bad.append(f"{f.relative_to(ROOT)}:{n}: {target}: {why}")
            for label in SECTION.findall(comment):
                sections += 1
                if label not in labels:
                    bad.append(f"{f.relative_to(ROOT)}:{n}: §{label}: no such section in docs/hardware-model.md")
    assert links and sections and not bad, "\n".join(bad) or "no citation of docs/hardware-model.md"


def test_preset_table_lists_every_constant() -> None:
    """docs/hardware-model.md's table of the h3pimap preset has every key with the preset's value."""
    import yaml

    preset = yaml.safe_load((ROOT / "h3pc" / "hardware" / "presets" / "h3pimap.yaml").read_text())
    want = {f"{sec}.{key}": value for sec, body in preset.items() if isinstance(body, dict)
            for key, value in body.items()}
    rows = re.findall(r"^\| `([\w.]+)` \| ([^|]+) \|", (ROOT / "docs" / "hardware-model.md").read_text(), re.M)
    have = {key: yaml.safe_load(value) for key, value in rows}
    assert have == want


def test_a_broken_link_is_reported(tmp_path: Path) -> None:
    assert unresolved("docs/no-such-file.md", ROOT) == "no such file"
    assert unresolved("README.md#no-such-section", ROOT) is not None
    assert unresolved("../outside.md", ROOT) == "points outside the repository"
    assert unresolved("README.md#quick-start", ROOT) is None


def cli_rows() -> dict[tuple[str, str], str]:
    """docs/cli.md's default column: (tool, first flag) -> the cell."""
    rows, tool = {}, ""
    for line in (ROOT / "docs" / "cli.md").read_text().splitlines():
        if line.startswith("## "):
            tool = line[3:].strip()
        m = re.match(r"\| `([^`]+)`(?:[^|\\]|\\\|)* \| ([^|]*) \|", line)  # choices are a\|b
        if m:
            rows[(tool, m.group(1))] = m.group(2).strip()
    return rows


def test_generated_cli_docs_show_true_defaults() -> None:
    """A switch's default is whether it is given (`--no-precision` is off by default, not `True`), a value's is
    the value the tool uses; no Python literal stands in for either."""
    rows = cli_rows()
    assert rows[("h3pc", "--no-precision")] == "off" and rows[("h3pc", "--check-quality")] == "on"
    assert rows[("h3pc", "-q")] == "off" and rows[("h3pc", "--workers")] == "`2`"
    assert rows[("h3pc-run", "--metric")] == "`snr`" and rows[("h3pc", "--metric")] == "`top1`"
    literal = {k: v for k, v in rows.items() if v.strip("`") in ("True", "False", "None", "[]")}
    assert not literal, literal


def test_generated_docs_do_not_depend_on_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated docs are the same on any machine: a fresh clone on another CPU count passes
    test_docs' "generated docs are current"."""
    import os

    from h3pc.docgen import GENERATED

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(7)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    stale = [p.name for p, make in GENERATED.items() if make() != p.read_text()]
    assert not stale, stale
