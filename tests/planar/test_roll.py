"""Roll features: the line-segment channel shifts with the roll like the gradient channels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from viewshift.errors import InputError
from viewshift.planar.roll import ROLL_FEATURES, line_histogram, photo_features, rotate_photo


def _grid(height: int = 240, width: int = 320) -> np.ndarray:
    """Long horizontal bands and thin vertical lines: segments at normals 90° and 0°."""
    img = np.full((height, width, 3), 90, np.uint8)
    for y in range(20, height, 40):
        cv2.rectangle(img, (10, y), (width - 10, y + 18), (230, 220, 200), -1)
    for x in range(30, width, 60):
        cv2.line(img, (x, 0), (x, height - 1), (30, 30, 30), 3)
    return img


def _circular_peak(hist: np.ndarray, around: float) -> float:
    """Strongest bin within ±20° of ``around`` (1° bins), as a signed offset from it."""
    offsets = np.arange(-20, 21)
    k = offsets[np.argmax(hist[(np.round(around).astype(int) + offsets) % hist.size])]
    return float(k)


@pytest.mark.parametrize("roll", [0.0, 8.0, -13.0])
def test_line_histogram_peaks_move_by_the_roll(roll):
    photo = rotate_photo(_grid(), roll)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    hist = line_histogram(gray)
    assert hist.shape == (180,) and hist.dtype == np.float32
    assert hist.mean() == pytest.approx(1.0, abs=1e-5)
    # Horizontal segments have their normal at 90°, vertical ones at 0°; a counter-clockwise roll adds to both.
    assert abs(_circular_peak(hist, 90.0 + roll)) <= 1
    assert abs(_circular_peak(hist, roll % 180.0)) <= 1


def test_line_histogram_of_a_flat_image_is_uniform():
    assert np.array_equal(line_histogram(np.full((64, 64), 128, np.uint8)), np.ones(180, np.float32))


def test_photo_features_channels_and_kinds():
    photo = rotate_photo(_grid(), 5.0)
    plain, lines = photo_features(photo), photo_features(photo, kind="gradient+lines")
    assert plain.shape == (ROLL_FEATURES["gradient"], 180) and lines.shape == (ROLL_FEATURES["gradient+lines"], 180)
    assert np.array_equal(plain.numpy(), lines[:2].numpy())
    # The gradient channel and the line channel agree on where the horizontal structure is.
    assert abs(_circular_peak(lines[0].numpy(), 95.0)) <= 1 and abs(_circular_peak(lines[2].numpy(), 95.0)) <= 1
    with pytest.raises(InputError):
        photo_features(photo, kind="pixels")
