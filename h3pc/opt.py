"""`h3pc-opt`: the pass-by-pass workbench (xdsl-opt with the h3pc dialects and passes).

It goes through the error handling of the other tools: the input file is checked and read by
h3pc.files (a FIFO or folder refused unopened, the size bounded, UTF-8 required), its string
literals are checked in linear time before xDSL's lexer sees them (that lexer backtracks
exponentially on one that does not close), `-o` is an output under the rules of h3pc.files (never the
input, written only when everything succeeded), and every parse, verify or pass error is one line.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from typing import IO

from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from h3pc.dialects import DIALECTS
from h3pc.diagnostics import H3pcError, UsageError, printable
from h3pc.tool import run_main
from h3pc.files import Outputs, check_input, read_bytes
from h3pc.transforms import PASSES

#: largest IR file read (the IR of the largest model we compile is a few MB: its weights are elided)
MAX_IR_BYTES = 256 << 20

#: an MLIR string literal as xDSL's lexer accepts it, without the nested quantifier that backtracks
#: (and possessive, so a long literal costs no backtracking state per character)
_STRING = re.compile(r'"(?:[^"\\\n\v\f]++|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*+"')  # possessive: constant memory
_QUOTE_OR_COMMENT = re.compile(r'"|//')


def check_string_literals(text: str, where: str) -> None:
    """Every string literal closes on its line with valid escapes (comments skipped); linear time."""
    pos = 0
    while (m := _QUOTE_OR_COMMENT.search(text, pos)) is not None:
        if m.group() == "//":
            end = text.find("\n", m.end())
            if end < 0:
                return
            pos = end + 1
            continue
        lit = _STRING.match(text, m.start())
        if lit is None:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            raise H3pcError(f"{where}:{line}:{col}: malformed string literal (unterminated or a bad escape)")
        pos = lit.end()


class _Staged(io.StringIO):
    """The -o text, kept past xdsl-opt's close() so it can be staged and committed afterwards."""

    def close(self) -> None:
        pass


class H3pcOptMain(xDSLOptMain):
    """xdsl-opt with our dialects and passes; the input and output go through h3pc.files."""

    def __init__(self, args: list[str]) -> None:
        self._text: bytes | None = None
        self._out: _Staged | None = None
        super().__init__(args=args)

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in DIALECTS.items():
            if name not in self.ctx.registered_dialect_names:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in PASSES.items():
            if name not in self.available_passes:
                self.register_pass(name, factory)

    def load_input(self) -> None:
        """Read and check the input before any parsing: a file through h3pc.files, stdin up to the same
        limit (`yes | h3pc-opt` or `< /dev/zero` must not grow memory until the process is killed)."""
        path = self.args.input_file
        if path is None:
            where = "<stdin>"
            data = sys.stdin.buffer.read(MAX_IR_BYTES + 1)
            if len(data) > MAX_IR_BYTES:
                raise H3pcError(f"{where}: more than the {MAX_IR_BYTES} bytes supported")
        else:
            where = printable(path)
            data = read_bytes(path, None, MAX_IR_BYTES)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise H3pcError(f"{where}: not an IR text file (not UTF-8 at byte {exc.start})") from None
        check_string_literals(text, where)
        self._text = data

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        if self._text is None:
            return super().get_input_stream()
        if self.args.input_file is None:
            return io.BytesIO(self._text), "mlir"
        _, ext = os.path.splitext(self.args.input_file)
        return io.BytesIO(self._text), ext.replace(".", "")

    def prepare_output(self) -> IO[str]:
        if self.args.output_file is None:
            return sys.stdout
        self._out = _Staged()  # staged and committed by main_args once everything succeeded
        return self._out


def main_args(argv: list[str]) -> int:
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):  # argparse prints a usage block before its error
            opt = H3pcOptMain(args=argv)
    except SystemExit as exc:
        if exc.code in (0, None):  # --help, --version
            raise
        lines = usage.getvalue().strip().splitlines()
        message = lines[-1].split("error: ", 1)[-1] if lines else "cannot parse the command line"
        raise UsageError(f"{printable(message)} (see h3pc-opt --help)") from None
    except ArgSpecParseError as exc:
        raise H3pcError(f"-p: {printable(str(exc).splitlines()[-1])}") from None
    except ValueError as exc:  # xdsl-opt's own refusal of a pass name
        if not str(exc).startswith("Unrecognized passes"):
            raise
        raise UsageError(f"-p: {printable(str(exc))} (see h3pc-opt --help for the passes)") from None
    inputs = {}
    if opt.args.input_file is not None:
        check_input(opt.args.input_file)
        inputs["the input"] = opt.args.input_file
    outs = Outputs(inputs)
    outs.declare("-o", opt.args.output_file)
    with outs:
        opt.load_input()
        try:
            opt.run()
        except ParseError as exc:
            where = exc.span.get_location()
            raise H3pcError(f"{printable(str(where))}: {printable(exc.msg)}") from None
        except DiagnosticException as exc:
            first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
            raise H3pcError(f"{printable(opt.args.input_file or 'stdin')}: {printable(first)}") from None
        except RecursionError:
            raise H3pcError(f"{printable(opt.args.input_file or 'stdin')}: nested too deeply") from None
        except ValueError as exc:  # xdsl-opt's own refusals (an unknown file extension or target)
            if not str(exc).startswith(("Unrecognized file extension", "Unknown target")):
                raise
            raise H3pcError(printable(str(exc).splitlines()[0])) from None
        if opt._out is not None:
            outs.write("-o", opt._out.getvalue())
            outs.commit()
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main("h3pc-opt", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
