"""`h3pc-opt`: the pass-by-pass workbench (xdsl-opt with the h3pc dialects and passes)."""

from __future__ import annotations

import sys

from xdsl.xdsl_opt_main import xDSLOptMain

from h3pc.context import DIALECTS, PASSES


class H3pcOptMain(xDSLOptMain):
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


def main(argv: list[str] | None = None) -> int:
    H3pcOptMain(args=sys.argv[1:] if argv is None else argv).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
