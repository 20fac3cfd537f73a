"""Unit conversions and background filling, with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.depth import disparity_to_depth, fill_from_farther, inverse_to_depth, scale_relative
from viewshift.errors import DepthError


def test_disparity_to_depth_exact() -> None:
    disp = np.array([[10.0, 20.0], [40.0, 1.0]])
    depth = disparity_to_depth(disp, focal_px=500.0, baseline=0.1)  # Z = 500 · 0.1 / d
    assert depth.dtype == np.float32
    np.testing.assert_allclose(depth, [[5.0, 2.5], [1.25, 50.0]], rtol=1e-7)
    # Middlebury: Z = f · B / (d + doffs); Teddy-like numbers, baseline in mm.
    np.testing.assert_allclose(disparity_to_depth(np.array([[50.0]]), 935.0, 160.0, doffs=50.0), [[1496.0]])


def test_disparity_unknown_refused_with_count() -> None:
    disp = np.array([[10.0, 0.0, np.inf, -3.0, 5.0]])
    with pytest.raises(DepthError, match="3 unknown .* of 5; pass fill_invalid=True"):
        disparity_to_depth(disp, 100.0, 1.0)


def test_disparity_unknown_filled_from_background() -> None:
    # Unknown pixels between a near (d=10) and a far (d=5) surface take the far one: the occluded background.
    disp = np.array([[10.0, 0.0, np.nan, 5.0, 5.0]])
    depth = disparity_to_depth(disp, 100.0, 1.0, fill_invalid=True)
    np.testing.assert_allclose(depth, [[10.0, 20.0, 20.0, 20.0, 20.0]])


@pytest.mark.parametrize("focal, baseline", [(0.0, 1.0), (100.0, -1.0), (np.nan, 1.0)])
def test_disparity_bad_camera(focal: float, baseline: float) -> None:
    with pytest.raises(DepthError, match="must be positive"):
        disparity_to_depth(np.ones((2, 2)), focal, baseline)


def test_fill_from_farther_rows_edges_and_columns() -> None:
    values = np.array(
        [
            [0.0, 3.0, 0.0, 0.0, 7.0, 0.0],  # left edge: only a right neighbour; middle: farther of 3 and 7
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # no known pixel in the row: filled along columns
            [1.0, 0.0, 2.0, 9.0, 0.0, 4.0],
        ]
    )
    valid = values > 0
    depth = fill_from_farther(values, valid, farther="larger")
    np.testing.assert_array_equal(depth[0], [3, 3, 7, 7, 7, 7])
    np.testing.assert_array_equal(depth[2], [1, 2, 2, 9, 9, 4])
    np.testing.assert_array_equal(depth[1], np.maximum(depth[0], depth[2]))
    disp = fill_from_farther(values, valid, farther="smaller")
    np.testing.assert_array_equal(disp[0], [3, 3, 3, 3, 7, 7])
    np.testing.assert_array_equal(values[valid], disp[valid])  # known pixels untouched


def test_fill_from_farther_refusals() -> None:
    with pytest.raises(DepthError, match="no known pixel"):
        fill_from_farther(np.zeros((2, 2)), np.zeros((2, 2), bool), farther="larger")
    with pytest.raises(DepthError, match="same H×W"):
        fill_from_farther(np.zeros((2, 2)), np.zeros((2, 3), bool), farther="larger")


def test_inverse_to_depth_exact_and_robust() -> None:
    inv = np.array([[0.0, 1.0, 2.0]])  # span 2, offset 2 / (3 - 1) = 1 -> 1, 1/2, 1/3; median 1/2
    np.testing.assert_allclose(inverse_to_depth(inv, max_ratio=3.0), [[2.0, 1.0, 2.0 / 3.0]], rtol=1e-6)
    shifted = inverse_to_depth(inv - 7.0, max_ratio=3.0)  # a shift (e.g. all-negative output) changes nothing
    np.testing.assert_allclose(shifted, [[2.0, 1.0, 2.0 / 3.0]], rtol=1e-6)
    np.testing.assert_array_equal(inverse_to_depth(np.full((2, 2), -4.0)), 1.0)
    d = inverse_to_depth(np.random.default_rng(0).normal(size=(8, 8)))
    assert d.min() > 0 and d.max() / d.min() == pytest.approx(100.0, rel=1e-5)
    assert np.median(d) == pytest.approx(1.0)
    with pytest.raises(DepthError, match="1 NaN/inf"):
        inverse_to_depth(np.array([[1.0, np.nan]]))
    with pytest.raises(DepthError, match="max_ratio"):
        inverse_to_depth(inv, max_ratio=1.0)


def test_scale_relative_sets_the_median() -> None:
    out = scale_relative(np.array([[1.0, 2.0, 4.0]]), 3.0)
    np.testing.assert_allclose(out, [[1.5, 3.0, 6.0]])
    assert out.dtype == np.float32
    with pytest.raises(DepthError, match="scene_distance"):
        scale_relative(np.ones((2, 2)), 0.0)
    with pytest.raises(DepthError, match="no positive finite"):
        scale_relative(np.zeros((2, 2)), 2.0)
