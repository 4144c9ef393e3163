"""The emulator's table of instruction executors: mnemonic -> binder, from each tier's runtime module.

A binder `(emulator, tier, instruction, exact) -> call` turns one instruction into a no-argument
call on the emulator's values (`exact`: run without the tier's number formats and noise). The
built-in tiers' modules are listed here; a new tier adds its instructions with `register`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from h3pc.runtime import digital, photonic, pim

#: the host's lazy conv windows, which the emulator sets up before binding any tier's instructions
lazy_windows = digital.lazy_windows

Binder = Callable[[Any, str, Any, bool], Callable[[], None]]

BINDERS: dict[str, Binder] = {**photonic.BINDERS, **pim.BINDERS, **digital.BINDERS}


def register(mnemonic: str, binder: Binder) -> None:
    BINDERS[mnemonic] = binder


def unregister(mnemonic: str) -> None:
    BINDERS.pop(mnemonic)
