"""The weight store: tensors that travel beside the IR, referenced by `dense_resource<key>` handles.

Weights read from an ONNX file are zero-copy views of the memory-mapped file, so importing a model
costs no more memory than its graph structure; weights made by folding are owned arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass
class WeightEntry:
    """One stored tensor: its ONNX name, dtype and shape, and how to get the data."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    load: Callable[[], np.ndarray]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


_KEY_CHARS = re.compile(r"[^A-Za-z0-9_]")


class WeightStore:
    """Key -> tensor. Keys are identifiers that are valid MLIR resource handles."""

    def __init__(self) -> None:
        self._entries: dict[str, WeightEntry] = {}
        self._by_name: dict[str, str] = {}

    def _fresh_key(self, name: str) -> str:
        base = _KEY_CHARS.sub("_", name).strip("_") or "w"
        if not base[0].isalpha():
            base = "w_" + base
        key, n = base, 1
        while key in self._entries:
            key, n = f"{base}_{n}", n + 1
        return key

    def add_lazy(self, name: str, dtype: np.dtype, shape: tuple[int, ...], load: Callable[[], np.ndarray]) -> str:
        key = self._fresh_key(name)
        self._entries[key] = WeightEntry(name, np.dtype(dtype), tuple(shape), load)
        self._by_name.setdefault(name, key)
        return key

    def add(self, name: str, array: np.ndarray) -> str:
        arr = np.asarray(array)
        return self.add_lazy(name, arr.dtype, arr.shape, lambda: arr)

    def key_of(self, onnx_name: str) -> str | None:
        return self._by_name.get(onnx_name)

    def entry(self, key: str) -> WeightEntry:
        return self._entries[key]

    def array(self, key: str) -> np.ndarray:
        e = self._entries[key]
        arr = e.load()
        if arr.shape != e.shape:
            arr = arr.reshape(e.shape)
        return arr

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())
