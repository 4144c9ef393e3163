"""digital.im2col and the emulator's lazy windows product, against a direct loop over windows.

im2col copies one kernel position at a time and keeps 1x1 windows as views; `Windows.matmul`
runs depthwise-like products polyphase in the input's own memory layout. Both must equal the
textbook definition for every stride, dilation, padding, group and layout.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from h3pc.runtime.reference import Windows, im2col, window_reduce

RNG = np.random.default_rng(7)


def naive_im2col(x, kernel, strides, pads, dilations, group):
    nsp = x.ndim - 2
    n, c = x.shape[:2]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[nsp + i]) for i in range(nsp)])
    out = [(xp.shape[2 + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1 for i in range(nsp)]
    cg = c // group
    rows = np.zeros((group, n, *out, cg, *kernel), dtype=x.dtype)
    for g, b, ch in itertools.product(range(group), range(n), range(cg)):
        for o in itertools.product(*(range(v) for v in out)):
            for k in itertools.product(*(range(v) for v in kernel)):
                src = tuple(o[i] * strides[i] + k[i] * dilations[i] for i in range(nsp))
                rows[(g, b, *o, ch, *k)] = xp[(b, g * cg + ch, *src)]
    return rows.reshape(group, n * int(np.prod(out)), cg * int(np.prod(kernel)))


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same values, laid out [N, *spatial, C] in memory."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)).transpose((0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))


CASES = [
    # shape, kernel, strides, pads, dilations, group, outputs per group
    ((1, 6, 9, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 6, 1),  # depthwise
    ((2, 4, 9, 7), (3, 3), (2, 2), (1, 0, 2, 1), (1, 1), 4, 1),  # strided, uneven pads, batch
    ((1, 6, 11, 10), (3, 2), (2, 3), (2, 1, 0, 2), (2, 1), 6, 1),  # dilation and mixed strides
    ((1, 6, 10, 9), (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 3, 2),  # 2 channels and 2 outputs per group
    ((1, 4, 8, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, 5),  # dense: materialised
    ((1, 8, 6, 5), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, 3),  # 1x1: a view
    ((2, 6, 15), (3,), (2,), (2, 1), (2,), 6, 1),  # 1-d depthwise
    ((1, 2, 5, 4, 4), (2, 2, 2), (1, 1, 1), (0, 1, 0, 1, 0, 1), (1, 1, 1), 2, 1),  # 3-d: materialised
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}k{c[1]}s{c[2]}g{c[5]}o{c[6]}" for c in CASES])
def test_im2col_and_windows_product(case, layout) -> None:
    shape, kernel, strides, pads, dilations, group, og = case
    x = RNG.standard_normal(shape).astype(np.float32)
    if layout == "last":
        x = channels_last(x)
    want = naive_im2col(x, kernel, strides, pads, dilations, group)
    got = im2col(x, kernel, strides, pads, dilations, group)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    w = RNG.standard_normal((group, want.shape[2], og)).astype(np.float32)
    win = Windows(x, kernel, strides, pads, dilations, group)
    np.testing.assert_array_equal(np.asarray(win), want)
    np.testing.assert_allclose(win.matmul(w), np.matmul(want, w), rtol=1e-5, atol=1e-5)


def test_window_reduce_is_a_max_over_windows() -> None:
    x = RNG.standard_normal((2, 3, 9, 8)).astype(np.float32)
    rows = naive_im2col(x, (3, 2), (2, 3), (0, 0, 0, 0), (1, 2), 3)  # G=C: each row is one window
    want = rows.max(axis=2).reshape(3, 2, -1).transpose(1, 0, 2)
    got = window_reduce(x, (3, 2), (2, 3), (1, 2), np.maximum)
    np.testing.assert_array_equal(got.reshape(2, 3, -1), want)
