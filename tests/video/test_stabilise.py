"""Temporal stabilisation of the disparity: exact smoothing, robustness, and less flicker than per-frame min/max."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewshift.errors import InputError
from viewshift.video.stabilise import Stabiliser, StabiliseSettings, disparity_pixels

FRAME = np.full((40, 60, 3), 128, np.uint8)


def test_moving_average_of_the_percentiles_is_exact():
    s = Stabiliser(StabiliseSettings(time_constant=0.5, pixel_smoothing=0, low_pct=0, high_pct=100), fps=10)
    alpha = 1 - math.exp(-1 / 5)
    near_far = np.full((40, 60), 4.0, np.float32)
    near_far[:, :30] = 2.0  # inverse depth 1/4 and 1/2
    s(FRAME, near_far)
    assert (s.lo, s.hi) == (pytest.approx(0.25), pytest.approx(0.5))
    closer = near_far.copy()
    closer[:, :30] = 1.0  # near end jumps to inverse depth 1
    for k in range(1, 6):
        s(FRAME, closer)
        assert s.hi == pytest.approx(1.0 - 0.5 * (1 - alpha) ** k, rel=1e-6)
        assert s.lo == pytest.approx(0.25)


def test_a_few_wild_pixels_do_not_move_the_range():
    d = np.full((40, 60), 4.0, np.float32)
    d[:, :30] = 2.0
    smooth = Stabiliser(StabiliseSettings(pixel_smoothing=0), fps=25)
    n0 = smooth(FRAME, d)
    wild = d.copy()
    wild[5, 50] = 0.01  # one background pixel "100× nearer"
    n1 = smooth(FRAME, wild)
    assert np.abs(n1 - n0)[d == 2.0].max() == 0.0
    per_frame = Stabiliser(StabiliseSettings(mode="per-frame"), fps=25)
    per_frame(FRAME, d)
    assert np.abs(per_frame(FRAME, wild) - n0)[d == 2.0].min() > 0.9  # min/max: the wild pixel rescales the frame


def test_less_flicker_than_per_frame_when_a_near_object_comes_and_goes():
    """A still scene: a far wall (depth 8), a middle wall (depth 4, where flicker is measured) and a near object
    (depth about 1.5) coming and going; the depth estimate has noise per frame (2 % over the frame, 10 % on the
    object), as a network's has. Flicker = mean |Δ disparity (px)| of the middle wall between frames."""
    rng = np.random.default_rng(0)
    h, w = 60, 100
    frames = []
    for t in range(75):
        d = np.full((h, w), 4.0, np.float32)
        d[:20] = 8.0
        if (t // 15) % 2 == 0:
            d[30:55, 5:35] = 1.5 * (1 + 0.1 * rng.standard_normal())
        frames.append(d * np.float32(1 + 0.02 * rng.standard_normal()))
    middle = np.zeros((h, w), bool)
    middle[25:, 50:] = True  # never covered by the object

    def flicker(mode: str) -> float:
        s = Stabiliser(StabiliseSettings(mode=mode), fps=25)
        disp = [disparity_pixels(s(FRAME, d), w, 2.0, 0.75) for d in frames]
        return float(np.mean([np.abs(b - a)[middle].mean() for a, b in zip(disp[:-1], disp[1:], strict=True)]))

    smooth, per_frame = flicker("smooth"), flicker("per-frame")
    assert smooth < 0.3 * per_frame, (smooth, per_frame)


def test_scene_cut_restarts_the_average():
    s = Stabiliser(StabiliseSettings(time_constant=5, pixel_smoothing=0, low_pct=0, high_pct=100), fps=25)
    d1 = np.full((40, 60), 4.0, np.float32)
    d1[:, :30] = 2.0
    s(FRAME, d1)
    d2 = np.full((40, 60), 10.0, np.float32)
    d2[:, :30] = 5.0
    s(np.zeros_like(FRAME), d2)  # a black frame: a cut
    assert (s.lo, s.hi) == (pytest.approx(0.1), pytest.approx(0.2))


def test_state_restores():
    s = Stabiliser(StabiliseSettings(), fps=25)
    s.restore({"lo": 0.1, "hi": 0.3})
    assert s.state() == {"lo": 0.1, "hi": 0.3}


def test_bad_settings():
    with pytest.raises(InputError):
        StabiliseSettings(mode="wobbly")
    with pytest.raises(InputError):
        StabiliseSettings(low_pct=60, high_pct=40)
