"""StereoDepth (SGBM + left-right check + background fill) on synthetic shifts and a real Middlebury pair."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import require_shared_data
from viewshift import io as vio
from viewshift.depth import DepthSource, StereoDepth, check_rectified, left_right_consistent
from viewshift.errors import DepthError, ShapeError


def texture(h: int, w: int, seed: int) -> np.ndarray:
    """Random colour texture, lightly blurred (SGBM and ORB both need texture)."""
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (3, 3), 0.7)


def layered_pair(h: int = 80, w: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A far textured plane (disparity 4) behind a near square (disparity 12); ``x_right = x_left - d``.

    Returns:
        ``(left, right, disparity)``, disparity being the left view's ground truth.
    """
    far, near = texture(h, w + 40, 1), texture(h, w + 40, 2)
    left = far[:, :w].copy()
    disp = np.full((h, w), 4.0)
    ys, xs = slice(20, 60), slice(70, 110)
    left[ys, xs] = near[ys, xs]
    disp[ys, xs] = 12.0
    right = np.empty_like(left)
    right[:] = far[:, 4 : w + 4]  # background shifted by 4
    right[ys, 58:98] = near[ys, 70:110]  # square shifted by 12
    return left, right, disp


def test_uniform_shift_recovers_disparity_and_depth() -> None:
    big = texture(60, 200, 3)
    left, right = big[:, :160], big[:, 7:167]  # right[x] = left[x + 7]: disparity 7 everywhere
    source = StereoDepth(right, focal=350.0, baseline=0.2)
    assert isinstance(source, DepthSource)
    disp, valid = source.disparity(left)
    assert valid.mean() > 0.9
    assert np.mean(np.abs(disp[valid] - 7.0) < 0.25) > 0.98
    depth = source.estimate(left)
    assert depth.unit == "metric" and depth.depth.shape == (60, 160)
    np.testing.assert_allclose(np.median(depth.depth), 350.0 * 0.2 / 7.0, rtol=0.01)  # Z = f·B/d = 10


def test_occlusion_filled_from_background() -> None:
    left, right, gt = layered_pair()
    source = StereoDepth(right, focal=100.0, baseline=1.0, num_disparities=32)
    disp, valid = source.disparity(left)
    occluded = (slice(25, 55), slice(62, 68))  # background left of the square, hidden behind it in the right view
    assert valid[occluded].mean() < 0.2  # the left-right check rejects it
    depth = source.estimate(left).depth
    np.testing.assert_allclose(np.median(depth[occluded]), 100.0 / 4.0, rtol=0.05)  # far, not near (100/12)
    good = np.abs(100.0 / depth - gt) <= 1.0
    assert good[5:-5, 5:-5].mean() > 0.9
    no_fill = StereoDepth(right, focal=100.0, baseline=1.0, num_disparities=32, fill_invalid=False)
    with pytest.raises(DepthError, match="pass fill_invalid=True"):
        no_fill.estimate(left)


def test_left_right_consistent() -> None:
    dl = np.array([[0.0, 1.0, 1.0, 5.0]])
    dr = np.array([[3.0, 1.0, 9.0, 1.0]])
    # x=0 -> xr=0: |0-3| > 1; x=1 -> xr=0: |1-3| > 1; x=2 -> xr=1: |1-1| = 0 ok; x=3 -> xr=-2: outside.
    np.testing.assert_array_equal(left_right_consistent(dl, dr), [[False, False, True, False]])
    np.testing.assert_array_equal(left_right_consistent(dl, dr, tolerance=2.0), [[False, True, True, False]])


def test_refusals() -> None:
    left, right, _ = layered_pair()
    with pytest.raises(DepthError, match="160×80 but the right one is 150×80"):
        StereoDepth(right[:, :150].copy(), focal=1.0, baseline=1.0).estimate(left)
    with pytest.raises(DepthError, match="does not look rectified"):
        StereoDepth(np.roll(right, 5, axis=0), focal=1.0, baseline=1.0).estimate(left)
    with pytest.raises(DepthError, match="swapped"):
        check_rectified(right, left)
    with pytest.raises(ShapeError, match="uint8"):
        StereoDepth(right, focal=1.0, baseline=1.0).estimate(left.astype(np.float32))
    with pytest.raises(DepthError, match="must be positive"):
        StereoDepth(right, focal=0.0, baseline=1.0)
    with pytest.raises(DepthError, match="multiple of 16"):
        StereoDepth(right, focal=1.0, baseline=1.0, num_disparities=20)
    with pytest.raises(DepthError, match="block_size must be odd"):
        StereoDepth(right, focal=1.0, baseline=1.0, block_size=4)


def read_calib(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_middlebury_teddy_bad_pixel_rate() -> None:
    """Teddy (MiddEval3 quarter size, 450×375), bad pixel = |d - gt| > 2 px over pixels with known gt.

    Measured (opencv 5.0, MODE_SGBM_3WAY, block 5, auto 128 disparities): 85% of pixels pass the left-right
    check with 4.4% bad among them (without the check: 91% kept, 6.5% bad); after the background fill 9.8% bad
    over all known pixels; the trivial baseline (every pixel at the median true disparity) is 81% bad.
    Thresholds leave some margin.
    """
    scene = require_shared_data("stereo", "middlebury", "MiddEval3", "trainingQ", "Teddy")
    left = vio.read_image(scene / "im0.png").rgb
    gt = vio.read_depth(scene / "disp0GT.pfm")
    calib = read_calib(scene / "calib.txt")
    focal = float(calib["cam0"].strip("[]").split()[0])
    baseline_mm, doffs = float(calib["baseline"]), float(calib["doffs"])
    source = StereoDepth(scene / "im1.png", focal=focal, baseline=baseline_mm / 1000.0, doffs=doffs)
    known = np.isfinite(gt)
    disp, valid = source.disparity(left)
    assert valid.mean() > 0.78
    bad_checked = np.mean(np.abs(disp - gt)[valid & known] > 2)
    assert bad_checked < 0.07
    unchecked = StereoDepth(scene / "im1.png", focal=focal, baseline=1.0, lr_check=False)
    disp_u, valid_u = unchecked.disparity(left)
    assert bad_checked < 0.8 * np.mean(np.abs(disp_u - gt)[valid_u & known] > 2)
    trivial = np.mean(np.abs(np.median(gt[known]) - gt[known]) > 2)
    assert trivial > 0.75
    depth = source.estimate(left).depth  # metres: Z = f·B/(d + doffs)
    disp_back = focal * baseline_mm / 1000.0 / depth - doffs
    assert np.mean(np.abs(disp_back - gt)[known] > 2) < 0.13
    gt_depth = focal * baseline_mm / 1000.0 / (gt[known] + doffs)
    assert np.median(np.abs(depth[known] / gt_depth - 1)) < 0.01
