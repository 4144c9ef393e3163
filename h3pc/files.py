"""Every file a tool reads or writes goes through here, so that one set of rules holds for all of them.

Reading (`check_input`, `read_bytes`, `read_text`, `parse_yaml`, `parse_json`):
  * a file argument must be an existing, readable regular file; a directory, a FIFO, a device or a
    socket is refused from `os.stat` alone, before anything opens it (opening a FIFO would block);
  * text formats are parsed with limits: file size, nesting depth, node count (YAML aliases are
    counted as expanded), string length; a duplicate mapping key is an error.

Writing (`Outputs`):
  * every output is declared, with its flag, before any work starts, and checked then: it must not be
    an input of the same command (same resolved path, or same (st_dev, st_ino): hard links and
    symbolic links count), not a directory, FIFO, device or socket, not a dangling symbolic link, and
    its folder must exist; two outputs may not name one file;
  * an output that is a symbolic link to a regular file: the link is kept and its target is replaced
    (atomically, by a file staged in the target's folder), as an editor saving through a link does;
  * outputs are staged as hidden temporary files beside their destination and renamed into place
    together by `commit()`, with SIGINT/SIGTERM/SIGHUP held off between the first and the last rename: a
    command writes all its outputs or none;
  * a replaced file keeps its permission bits; a new file gets 0666 minus the umask (as `open` would);
    a file the user may not write (read-only) is refused, not replaced;
  * an output found at commit to be a file the command read without a flag naming it (a model's
    external data: `note_input`) is refused, and nothing is written;
  * staged files are removed when the command fails, is interrupted (SIGINT, SIGTERM, SIGHUP) or exits; a
    SIGKILL cannot be caught, and leaves its `.NAME.XXXXXXXX.part` file (a sweep's store removes its own
    at the next run).
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import signal
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from h3pc.diagnostics import H3pcError, printable

#: largest JSON file read (placements, a sweep's stored points)
MAX_TEXT_BYTES = 16 << 20
#: largest YAML file read (hardware descriptions, sweep files: a few KB; a sweep axis of 10,000 values
#: is about 60 KB). YAML is parsed in Python at about 10 us a value, so this bounds time and memory
#: (a 256 KB list of numbers: about 3 s and 60 MB); the C parser is not used: it recurses without a
#: limit and crashes the process on deep nesting
MAX_YAML_BYTES = 256 << 10
#: deepest nesting of mappings and lists in a YAML or JSON file
MAX_DEPTH = 64
#: most nodes in a YAML or JSON document, YAML aliases counted as expanded (no billion laughs)
MAX_NODES = 1_000_000
#: longest string (key or value) in a YAML or JSON document
MAX_STRING = 1 << 20
#: longest integer written in a YAML file (Python converts at most 4300 digits; no quantity needs 100)
MAX_NUMBER_CHARS = 100

_KIND = ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO (named pipe)"),
         (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
         (stat.S_ISSOCK, "is a socket"))


def _label(path: str | Path, flag: str | None) -> str:
    shown = printable(str(path))
    return f"{flag} {shown}" if flag else shown


def _not_regular(mode: int) -> str | None:
    for test, what in _KIND:
        if test(mode):
            return what
    return None if stat.S_ISREG(mode) else "is not a regular file"


def check_input(path: str | Path, flag: str | None = None) -> os.stat_result:
    """Refuse, with one line naming the flag and the file, anything but an existing readable regular
    file, without opening it. Returns its stat (what `Outputs` compares outputs with)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise H3pcError(f"{_label(path, flag)}: no such file") from None
    except OSError as exc:
        raise H3pcError(f"{_label(path, flag)}: {exc.strerror or exc}") from None
    what = _not_regular(st.st_mode)
    if what is not None:
        raise H3pcError(f"{_label(path, flag)}: {what}, not a regular file")
    if not os.access(path, os.R_OK):
        raise H3pcError(f"{_label(path, flag)}: permission denied")
    _READ.setdefault((st.st_dev, st.st_ino), flag or printable(str(path)))
    return st


#: every file this process has read through this module, (st_dev, st_ino) -> how it was named: an
#: output found among them at commit time (an input discovered while working, such as a model's
#: external data) is refused like a declared input
_READ: dict[tuple[int, int], str] = {}


def begin_command() -> None:
    """Forget the files read by an earlier command run in this process (tests run many in one)."""
    _READ.clear()


def note_input(path: str | Path, what: str) -> None:
    """Record a file the command reads that no flag names (a model's external data file), so that no
    output of the same command may replace it. Readers that go through `check_input` need not call it."""
    try:
        st = os.stat(path)
    except OSError:
        return
    _READ.setdefault((st.st_dev, st.st_ino), what)


def open_input(path: str | Path, flag: str | None = None):
    """A regular file opened for reading (binary). Opened non-blocking and checked again on the open
    descriptor, so a file swapped for a FIFO after `check_input` neither blocks nor is read."""
    check_input(path, flag)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise H3pcError(f"{_label(path, flag)}: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise H3pcError(f"{_label(path, flag)}: {_not_regular(st.st_mode)}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str | Path, flag: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of a regular file, refused (not read) when larger than `limit`."""
    with open_input(path, flag) as f:
        size = os.fstat(f.fileno()).st_size
        if limit is not None and size > limit:
            raise H3pcError(f"{_label(path, flag)}: {size} bytes, more than the {limit} bytes supported")
        try:
            data = f.read(limit + 1 if limit is not None else -1)
        except OSError as exc:
            raise H3pcError(f"{_label(path, flag)}: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:  # grew while we read it
        raise H3pcError(f"{_label(path, flag)}: more than the {limit} bytes supported")
    return data


def read_text(path: str | Path, flag: str | None = None, what: str = "text", limit: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes."""
    data = read_bytes(path, flag, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise H3pcError(f"{_label(path, flag)}: not a {what} file (not UTF-8 at byte {exc.start})") from None


# -- YAML and JSON with limits ---------------------------------------------------------------------
def parse_yaml(text: str, where: str, what: str) -> Any:
    """YAML text as data, within the limits above: the document is composed into nodes first and
    checked (depth, expanded node count, string length, duplicate keys) before any Python object is
    built, so an alias bomb costs its compact size, not its expansion."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise H3pcError(f"{where}: not a {what} (more than the {MAX_YAML_BYTES} characters supported)")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml(node, where, what)
        return loader.construct_document(node)
    except ValueError as exc:  # a value the constructors refuse (not a YAMLError)
        raise H3pcError(f"{where}: not a {what} ({printable(str(exc).splitlines()[0])})") from None
    except RecursionError:
        raise H3pcError(f"{where}: not a {what} (nested too deeply)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise H3pcError(f"{where}: not valid YAML{at}: {printable(problem)}") from None
    finally:
        loader.dispose()


def _check_yaml(root: Any, where: str, what: str) -> None:
    """Depth, expanded size, string length and duplicate keys of a composed YAML node graph. Aliases
    share node objects, so each node's expanded size is computed once (memoised by identity)."""
    import yaml

    sizes: dict[int, int] = {}
    active: set[int] = set()

    def line(node: Any) -> str:
        return f" at line {node.start_mark.line + 1}" if node.start_mark else ""

    def walk(node: Any, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise H3pcError(f"{where}: not a {what} (nested too deeply: more than {MAX_DEPTH} levels{line(node)})")
        if key in active:
            raise H3pcError(f"{where}: not a {what} (an alias refers to itself{line(node)})")
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_STRING:
                raise H3pcError(f"{where}: not a {what} (a value of more than {MAX_STRING} characters{line(node)})")
            if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_NUMBER_CHARS:
                raise H3pcError(f"{where}: not a {what} (a number of more than {MAX_NUMBER_CHARS} "
                                f"characters{line(node)})")
            sizes[key] = 1
            return 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], Any] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    ident = (k.tag, k.value)
                    if ident in seen:
                        raise H3pcError(f"{where}: duplicate key '{printable(k.value)}'{line(k)} "
                                        f"(first{line(seen[ident])})")
                    seen[ident] = k
                total += walk(k, depth + 1) + walk(v, depth + 1)
                if total > MAX_NODES:
                    break
        else:
            for v in node.value:
                total += walk(v, depth + 1)
                if total > MAX_NODES:
                    break
        active.discard(key)
        if total > MAX_NODES:
            raise H3pcError(f"{where}: not a {what} (more than {MAX_NODES} values once aliases are expanded)")
        sizes[key] = total
        return total

    walk(root, 0)


#: a JSON string (possessive: constant memory on a long one; a plain `(?:...)*` keeps a backtracking
#: state per character, 300 MB for a 2 MB string) or a structural character
_JSON_TOKENS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{},]')


def parse_json(text: str | bytes, where: str, what: str) -> Any:
    """JSON text as data, within the limits above; a duplicate key in an object is an error."""
    import json

    if len(text) > MAX_TEXT_BYTES:
        raise H3pcError(f"{where}: not a {what} (more than {MAX_TEXT_BYTES} bytes)")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise H3pcError(f"{where}: not a {what} (not UTF-8 at byte {exc.start})") from None
    depth = nodes = 0  # nodes: containers and separators, about one per value
    for m in _JSON_TOKENS.finditer(text):  # linear pre-scan: json would recurse before it counted
        tok = m.group()
        if tok[0] == '"':
            if len(tok) > MAX_STRING:
                raise H3pcError(f"{where}: not a {what} (a string of more than {MAX_STRING} characters)")
            continue
        if tok in "]}":
            depth -= 1
            continue
        if tok in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise H3pcError(f"{where}: not a {what} (nested too deeply: more than {MAX_DEPTH} levels)")
        nodes += 1
        if nodes > MAX_NODES:
            raise H3pcError(f"{where}: not a {what} (more than {MAX_NODES} values)")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise H3pcError(f"{where}: not a {what} (duplicate key '{printable(k)}')")
            out[k] = v
        return out

    try:
        return json.loads(text, object_pairs_hook=unique)
    except RecursionError:
        raise H3pcError(f"{where}: not a {what} (nested too deeply)") from None
    except ValueError as exc:
        raise H3pcError(f"{where}: not a {what} ({printable(str(exc))})") from None


# -- interrupts and staged files -------------------------------------------------------------------
class Interrupted(KeyboardInterrupt):
    """SIGTERM, SIGINT or SIGHUP: unwinds like KeyboardInterrupt, so every `finally` and context manager
    (staged outputs, temporary folders) cleans up before the process exits."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_STAGED: set[str] = set()


def _remove_staged() -> None:
    for tmp in list(_STAGED):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _STAGED.discard(tmp)


atexit.register(_remove_staged)


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


#: the signals that unwind a command: kill's default, Ctrl-C, and a closed terminal (SIGHUP: a careless
#: user closes the window; ignored under nohup, and then left ignored)
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


def install_signal_handlers() -> None:
    """SIGTERM, SIGINT and SIGHUP raise `Interrupted` in the main thread (a no-op elsewhere)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler, _raise_interrupted):
            signal.signal(sig, _raise_interrupted)


_PART = ".part"


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _staged_path(dest: Path) -> str:
    """`.NAME.XXXXXXXX.part` beside `dest`, NAME cut so that the staged name is as legal as `dest`'s own
    (a 250-character output name was refused after the whole compile: its staged name was too long)."""
    room = _name_max(dest.parent) - len(f"..{'0' * 8}{_PART}")
    name = dest.name
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return str(dest.parent / f".{name}.{secrets.token_hex(4)}{_PART}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@dataclass
class _Out:
    flag: str
    path: Path  # as given (for messages)
    dest: Path  # where the bytes go: the resolved path (a symbolic link's target)
    mode: int  # permission bits of the file written
    tmp: str | None = None
    size: int = 0


@dataclass
class Outputs:
    """The outputs of one command: declared and checked up front, staged, committed together.

        outs = Outputs({"model": args.model, "--calib": args.calib})
        outs.declare("-o", args.output)           # before any work
        ...
        outs.write("-o", data)                     # staged beside its destination
        outs.commit()                              # all renamed into place, or none

    Used as a context manager, staged files are removed if the block raises (or is interrupted).
    """

    inputs: dict[str, str | Path | None] = field(default_factory=dict)
    #: refuse at commit an output that is any file read through this module (see `commit`)
    guard_reads: bool = True
    _outs: dict[str, _Out] = field(default_factory=dict)
    _ids: dict[tuple[int, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._in_paths: dict[Path, str] = {}
        for flag, path in self.inputs.items():
            if path is not None:
                self.add_input(flag, path)

    def add_input(self, flag: str, path: str | Path) -> None:
        """Another file the command reads (checked against every output declared before or after)."""
        self._in_paths[Path(os.path.realpath(path))] = flag
        try:
            st = os.stat(path)
        except OSError:
            return  # a missing input is its reader's error to report
        self._ids[(st.st_dev, st.st_ino)] = flag
        for out in self._outs.values():
            self._check_not_input(out.flag, out.path, out.dest)

    def _check_not_input(self, flag: str, path: Path, dest: Path) -> None:
        clash = self._in_paths.get(dest)
        if clash is None:
            try:
                st = os.stat(dest)
                clash = self._ids.get((st.st_dev, st.st_ino))
            except OSError:
                pass
        if clash is not None:
            what = f"the {clash} file" if clash.startswith("-") else clash
            raise H3pcError(f"{flag} {printable(str(path))}: is also {what}, an input of this command; writing "
                            f"it would destroy that input (choose another output file)")

    def declare(self, flag: str, path: str | Path | None) -> None:
        """Check one output before any work: refused when it is an input, not a regular file, a
        dangling link, in a missing folder, or named by another output."""
        if path is None:
            return
        path = Path(path)
        shown = f"{flag} {printable(str(path))}"
        if str(path) == "" or path.name in ("", ".", ".."):
            raise H3pcError(f"{shown}: not a file name")
        try:
            lst = os.lstat(path)
        except FileNotFoundError:
            lst = None
        except OSError as exc:
            raise H3pcError(f"{shown}: {exc.strerror or exc}") from None
        dest = Path(os.path.realpath(path))
        mode = 0o666 & ~_umask()
        if lst is not None:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                raise H3pcError(f"{shown}: a symbolic link to a missing file (refusing to create its target)") \
                    from None
            except OSError as exc:
                raise H3pcError(f"{shown}: {exc.strerror or exc}") from None
            what = _not_regular(st.st_mode)
            if what is not None:
                raise H3pcError(f"{shown}: {what}; outputs are written only to regular files")
            if not os.access(path, os.W_OK):
                raise H3pcError(f"{shown}: is read-only; refusing to replace it")
            mode = stat.S_IMODE(st.st_mode)
        folder = dest.parent
        if not folder.is_dir():
            raise H3pcError(f"{shown}: no such folder {printable(str(path.parent))}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise H3pcError(f"{shown}: cannot write in folder {printable(str(path.parent))} (permission denied)")
        self._check_not_input(flag, path, dest)
        for other in self._outs.values():
            if other.dest == dest:
                raise H3pcError(f"{shown}: also given as {other.flag}; each output needs its own file")
        self._outs[flag] = _Out(flag, path, dest, mode)

    def __contains__(self, flag: str) -> bool:
        return flag in self._outs

    def path(self, flag: str) -> Path:
        return self._outs[flag].path

    def write(self, flag: str, data: bytes | str | Iterable[bytes | memoryview]) -> int:
        """Stage the content of a declared output (chunks are written in order, never joined);
        nothing is visible at the destination before `commit()`. Returns the bytes staged."""
        out = self._outs[flag]
        if out.tmp is not None:
            self._discard(out)
        chunks = [data.encode()] if isinstance(data, str) else \
            [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
        # the name is registered before the file exists, so an interrupt at any point leaves no file
        # behind that the exit handler does not know of (mkstemp would hand the name over only after)
        tmp = _staged_path(out.dest)
        _STAGED.add(tmp)
        out.tmp = tmp
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:  # not ours to remove (O_EXCL: it may be someone else's file)
            _STAGED.discard(tmp)
            out.tmp = None
            raise H3pcError(f"{flag} {printable(str(out.path))}: {exc.strerror or exc}") from None
        size = 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += f.write(chunk)
                os.fchmod(f.fileno(), out.mode)  # created 0600: nobody reads it half-written
        except OSError as exc:
            self._discard(out)
            raise H3pcError(f"{flag} {printable(str(out.path))}: {exc.strerror or exc}") from None
        out.size = size
        return size

    def _discard(self, out: _Out) -> None:
        if out.tmp is not None:
            Path(out.tmp).unlink(missing_ok=True)
            _STAGED.discard(out.tmp)
            out.tmp = None

    def discard(self) -> None:
        """Remove every staged file (the command failed)."""
        for out in self._outs.values():
            self._discard(out)

    def commit(self) -> None:
        """Rename every staged output into place. SIGINT, SIGTERM and SIGHUP are held until the last rename,
        so an interrupt cannot leave some outputs new and others old. An output that turned out to
        be a file the command read (`note_input`, `check_input`) is refused, and nothing is renamed."""
        staged = [o for o in self._outs.values() if o.tmp is not None]
        if self.guard_reads:
            for out in staged:
                try:
                    st = os.stat(out.dest)
                except OSError:
                    continue
                what = _READ.get((st.st_dev, st.st_ino))
                if what is not None:
                    self.discard()
                    label = f"the {what} file" if what.startswith("-") else what
                    raise H3pcError(f"{out.flag} {printable(str(out.path))}: is also {label}, read by this "
                                    f"command; writing it would destroy that input (choose another output file)")
        held = set(SIGNALS)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            for out in staged:
                os.replace(out.tmp, out.dest)  # type: ignore[arg-type]
                _STAGED.discard(out.tmp)  # type: ignore[arg-type]
                out.tmp = None
        except OSError as exc:
            self.discard()
            raise H3pcError(f"{out.flag} {printable(str(out.path))}: {exc.strerror or exc}") from None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self.discard()  # after commit() nothing is staged: a no-op


def write_file(path: str | Path, data: bytes | str | Iterable[bytes | memoryview], flag: str = "output") -> int:
    """One output written atomically under the rules of `Outputs` (regular file or new, permissions
    kept). For files a command writes as it goes (a sweep's store); returns the bytes written."""
    outs = Outputs(guard_reads=False)  # a store rewrites files it read itself
    outs.declare(flag, path)
    with outs:
        size = outs.write(flag, data)
        outs.commit()
    return size
