"""What every command-line tool's entry point shares: `run_main`, the wrapper that turns every failure
into one `prog: error: ...` line (a traceback only with --debug) and stages outputs under the signal
rules of h3pc.files. It sits with the drivers because it reaches into the files layer's command state."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable

from h3pc.diagnostics import H3pcError, one_line
from h3pc.files import Interrupted, begin_command, install_signal_handlers


def run_main(prog: str, main: Callable[[list[str]], int], argv: list[str] | None = None) -> int:
    """Run a tool's main; turn every exception into one `prog: error: ...` line unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("H3PC_DEBUG") == "1"
    install_signal_handlers()
    begin_command()
    try:
        with warnings.catch_warnings():
            if not debug:
                # Python warnings (numpy's RuntimeWarning on an overflow in a model's own arithmetic, a
                # library's DeprecationWarning) are two lines each on stderr: noise beside a result and a
                # broken promise beside a refusal, which must be the only line; --debug shows them
                warnings.simplefilter("ignore")
            return main(args)
    except H3pcError as exc:
        if debug:
            raise
        print(f"{prog}: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:  # SIGTERM, SIGINT or SIGHUP: staged outputs and temporary folders are gone by now
        print(f"{prog}: interrupted ({exc})", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError as exc:
        if debug:
            raise
        # numpy says what it could not allocate ("Unable to allocate 8.00 GiB for an array with shape ...")
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{prog}: error: out of memory{f' ({one_line(why, 200)})' if why else ''}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{prog}: internal error: {type(exc).__name__}: {one_line(first)} (rerun with --debug for a traceback)",
              file=sys.stderr)
        return 70
