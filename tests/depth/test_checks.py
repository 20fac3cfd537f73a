"""validate_depth, check_rgb and the DepthMap/DepthSource interface."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.depth import DepthMap, DepthSource, FileDepth, check_rgb, validate_depth
from viewshift.errors import DepthError, InputError, ShapeError


def test_valid_depth_passes_as_float32() -> None:
    d = validate_depth(np.arange(1, 7, dtype=np.float64).reshape(2, 3), (2, 3))
    assert d.dtype == np.float32
    np.testing.assert_array_equal(d, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(validate_depth(np.full((4, 4), 3.0)), 3.0)  # constant is fine
    same = np.ones((2, 2), np.float32)
    assert validate_depth(same) is same


def test_wrong_size_names_both_sizes() -> None:
    with pytest.raises(DepthError, match=r"depth is 3×2 \(W×H\) but the image is 4×5"):
        validate_depth(np.ones((2, 3)), (5, 4))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), (1, 2, 3)])
def test_not_2d(shape: tuple[int, ...]) -> None:
    with pytest.raises(DepthError, match="2-D"):
        validate_depth(np.ones(shape))


def test_nan_inf_counted() -> None:
    d = np.ones((3, 3))
    d[0, 0], d[1, 1] = np.nan, np.inf
    with pytest.raises(DepthError, match="2 NaN/inf values of 9; fill them") as info:
        validate_depth(d)
    assert issubclass(info.type, InputError)


def test_zero_and_negative_counted() -> None:
    d = np.ones((2, 5))
    d[0, :2] = 0.0
    d[1, 4] = -0.5
    with pytest.raises(DepthError, match=r"3 zero or negative values of 10 \(min -0.5\).*fill holes"):
        validate_depth(d, name="depth")


def test_non_numeric_and_empty() -> None:
    with pytest.raises(DepthError, match="non-empty real"):
        validate_depth(np.zeros((0, 3)))
    with pytest.raises(DepthError, match="non-empty real"):
        validate_depth(np.array([["a", "b"]]))


def test_check_rgb() -> None:
    rgb = np.zeros((2, 3, 3), np.uint8)
    assert check_rgb(rgb) is rgb
    with pytest.raises(ShapeError, match="H×W×3"):
        check_rgb(np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(ShapeError, match="uint8"):
        check_rgb(np.zeros((2, 3, 3), np.uint16))


def test_depth_map_checks_its_fields() -> None:
    m = DepthMap(np.ones((2, 2), np.float64), "metric")
    assert m.depth.dtype == np.float32
    with pytest.raises(DepthError, match="unit must be"):
        DepthMap(np.ones((2, 2)), "metres")  # type: ignore[arg-type]
    with pytest.raises(DepthError, match="H×W"):
        DepthMap(np.ones((2, 2, 1)), "relative")


def test_sources_satisfy_the_protocol(tmp_path) -> None:
    assert isinstance(FileDepth(tmp_path / "d.npy"), DepthSource)
    assert not isinstance(object(), DepthSource)
