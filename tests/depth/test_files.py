"""FileDepth: depth, relative depth and disparity files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import require_shared_data
from viewshift import io as vio
from viewshift.depth import FileDepth
from viewshift.errors import DepthError, InputError

RGB = np.zeros((2, 3, 3), np.uint8)


def test_metric_and_relative_with_scale(tmp_path: Path) -> None:
    np.save(tmp_path / "d.npy", np.array([[1000, 2000, 3000], [500, 250, 125]], np.uint16))
    metric = FileDepth(tmp_path / "d.npy", scale=0.001).estimate(RGB)
    assert metric.unit == "metric" and metric.depth.dtype == np.float32
    np.testing.assert_allclose(metric.depth, [[1.0, 2.0, 3.0], [0.5, 0.25, 0.125]])
    relative = FileDepth(tmp_path / "d.npy", unit="relative").estimate(RGB)
    assert relative.unit == "relative"
    np.testing.assert_array_equal(relative.depth[0], [1000, 2000, 3000])


def test_disparity_file_needs_camera_and_converts(tmp_path: Path) -> None:
    with pytest.raises(DepthError, match="needs focal .* and baseline"):
        FileDepth(tmp_path / "d.pfm", unit="disparity", focal=100.0)
    vio.write_depth(tmp_path / "d.pfm", np.array([[10.0, 20.0, 40.0], [5.0, 50.0, 100.0]]), preview=False)
    depth = FileDepth(tmp_path / "d.pfm", unit="disparity", focal=100.0, baseline=0.5).estimate(RGB)
    assert depth.unit == "metric"
    np.testing.assert_allclose(depth.depth, [[5.0, 2.5, 1.25], [10.0, 1.0, 0.5]])
    half = FileDepth(tmp_path / "d.pfm", unit="disparity", focal=100.0, baseline=0.5, scale=0.5).estimate(RGB)
    np.testing.assert_allclose(half.depth, 2 * depth.depth)  # scale applies to the raw disparity


def test_size_mismatch_names_both_sizes(tmp_path: Path) -> None:
    np.save(tmp_path / "d.npy", np.ones((4, 5), np.float32))
    with pytest.raises(DepthError, match="d.npy is 5×4 but the image is 3×2; give a depth map"):
        FileDepth(tmp_path / "d.npy").estimate(RGB)


def test_holes_refused_or_filled(tmp_path: Path) -> None:
    np.save(tmp_path / "d.npy", np.array([[2.0, 0.0, 3.0], [1.0, 1.0, np.nan]]))
    with pytest.raises(DepthError, match="1 NaN/inf values of 6"):
        FileDepth(tmp_path / "d.npy").estimate(RGB)
    filled = FileDepth(tmp_path / "d.npy", fill_invalid=True).estimate(RGB)
    np.testing.assert_array_equal(filled.depth, [[2.0, 3.0, 3.0], [1.0, 1.0, 1.0]])


def test_bad_settings_and_files(tmp_path: Path) -> None:
    with pytest.raises(DepthError, match="unit must be"):
        FileDepth(tmp_path / "d.npy", unit="mm")  # type: ignore[arg-type]
    with pytest.raises(DepthError, match="scale"):
        FileDepth(tmp_path / "d.npy", scale=0.0)
    with pytest.raises(InputError, match="not found"):
        FileDepth(tmp_path / "missing.npy").estimate(RGB)


def test_middlebury_disparity_file_gives_metric_depth() -> None:
    scene = require_shared_data("stereo", "middlebury", "MiddEval3", "trainingQ", "Teddy")
    rgb = vio.read_image(scene / "im0.png").rgb
    gt = vio.read_depth(scene / "disp0GT.pfm")
    source = FileDepth(scene / "disp0GT.pfm", unit="disparity", focal=2.0, baseline=3.0, fill_invalid=True)
    depth = source.estimate(rgb).depth
    known = np.isfinite(gt) & (gt > 0)
    np.testing.assert_allclose(depth[known], 6.0 / gt[known], rtol=1e-6)
    assert np.isfinite(depth).all() and depth.min() > 0
