"""The row-wise stereo renderer: exact shifts, occlusion order, hole filling, agreement with the 2-D renderer."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.errors import ShapeError
from viewshift.video.scanline import shift_view


def test_integer_disparity_shifts_exactly_and_uint16():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 65535, (5, 40, 3), dtype=np.uint16)
    view, holes = shift_view(img, np.full((5, 40), 6.0, np.float32), 0.5)  # left eye: +3 px
    assert np.array_equal(view[:, 3:], img[:, :-3]) and holes[:, :3].all() and not holes[:, 3:].any()
    assert view.dtype == np.uint16


def test_half_pixel_disparity_interpolates_linearly():
    img = np.zeros((1, 8, 3), np.uint8)
    img[0, :, :] = np.arange(0, 80, 10, dtype=np.uint8)[:, None]
    view, _ = shift_view(img, np.full((1, 8), 1.0, np.float32), -0.5)  # right eye: -0.5 px
    assert view[0, :7, 0].tolist() == [5, 15, 25, 35, 45, 55, 65]


def test_near_surface_occludes_far_and_hole_is_filled_from_the_background():
    w = 30
    img = np.zeros((1, w, 3), np.uint8)
    img[0, :, 0] = np.arange(w) * 5  # background ramp
    img[0, 10:20, 0] = 250  # near object
    disp = np.zeros((1, w), np.float32)
    disp[0, 10:20] = 8.0  # near: the left eye moves it +4 px, the background stays
    view, holes = shift_view(img, disp, 0.5)
    assert (view[0, 14:24, 0] == 250).all()  # the object, moved right by 4, covers the background there
    assert holes[0, 10:14].all() and not holes[0, 14:].any() and not holes[0, :10].any()
    # The revealed strip 10..13 lies beside the background on its left (x = 9, 8, ...): mirrored from it.
    assert view[0, 10:14, 0].tolist() == [45, 40, 35, 30]


def test_agrees_with_the_general_renderer_on_a_stereo_pair():
    from viewshift.pipeline import ViewOptions, load_image, scene_from, stereo_pair

    rng = np.random.default_rng(3)
    h, w = 48, 64
    img = np.repeat(np.repeat(rng.integers(0, 255, (h // 4, w // 4, 3), dtype=np.uint8), 4, 0), 4, 1)
    yy, xx = np.mgrid[0:h, 0:w]
    depth = (3.0 + 0.02 * xx + 0.01 * yy).astype(np.float32)  # a slanted plane
    depth[12:30, 20:40] = 1.5  # a box in front
    focal, baseline = 60.0, 0.1
    left_ref, right_ref = stereo_pair(
        scene_from(load_image(img), depth, focal), baseline=baseline, options=ViewOptions(realism=False)
    )
    disp = (focal * baseline / depth).astype(np.float32)
    for ref, scale in ((left_ref, 0.5), (right_ref, -0.5)):
        view, holes = shift_view(img, disp, scale)
        both = ~holes & ~ref.holes
        assert both.mean() > 0.9
        err = np.abs(view.astype(float) - ref.image[..., :3].astype(float))[both]
        assert err.mean() < 1.5, err.mean()
        assert abs(int(holes.sum()) - int(ref.holes.sum())) <= 0.01 * h * w + h


def test_refuses_bad_shapes():
    with pytest.raises(ShapeError):
        shift_view(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.float32), 0.5)
    with pytest.raises(ShapeError):
        shift_view(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.float32), 0.5)
