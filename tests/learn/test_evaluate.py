"""Evaluation data readers: RGB-D stills in metres, unknown depth as NaN."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from viewshift.errors import InputError
from viewshift.learn.evaluate import ConstantDepth, evaluate_frames_depth, rgbd_frames


def test_rgbd_frames_give_metres_and_nan_for_unknown(tmp_path):
    colour = np.zeros((4, 6, 3), np.uint8)
    colour[..., 2] = 200  # red in BGR on disk
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    depth = np.full((4, 6), 10000, np.uint16)  # 2 m at TUM's 5000 units per metre
    depth[0, 0] = 0
    cv2.imwrite(str(tmp_path / "d.png"), depth)
    (rgb, d, pose), *rest = list(rgbd_frames([(tmp_path / "c.png", tmp_path / "d.png")], 1 / 5000))
    assert not rest and pose is None
    assert rgb.shape == (4, 6, 3) and rgb[0, 0, 0] == 200  # RGB order
    assert np.isnan(d[0, 0]) and np.allclose(d[np.isfinite(d)], 2.0)
    # a constant depth is exact up to scale on a flat wall
    scores = evaluate_frames_depth(ConstantDepth(), rgbd_frames([(tmp_path / "c.png", tmp_path / "d.png")], 1 / 5000))
    assert scores["frames"] == 1 and scores["mean"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)


def test_rgbd_frames_refuse_a_missing_depth_file(tmp_path):
    cv2.imwrite(str(tmp_path / "c.png"), np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(InputError):
        list(rgbd_frames([(tmp_path / "c.png", tmp_path / "missing.png")], 1e-3))
