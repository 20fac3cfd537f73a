"""Stereo pairs: exact eye shifts on a plane, balance, convergence, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from tests.pipeline.scenes import random_image as _image
from viewshift.errors import InputError
from viewshift.pipeline import compose_stereo, prepare_scene, stereo_pair


def test_stereo_pair_eyes_layouts_and_convergence():
    img = _image(w=60)
    depth = np.full(img.shape[:2], 2.0, np.float32)
    scene = prepare_scene(img, depth=depth, focal=100.0)
    left, right = stereo_pair(scene, baseline=0.08, balance=1.0)
    assert np.array_equal(left.image, img)  # balance 1: the left eye is the photo
    assert np.array_equal(right.image[:, :-4], img[:, 4:])
    left, right = stereo_pair(scene, baseline=0.08)  # balanced: each eye moves 2 px
    assert np.array_equal(left.image[:, 2:], img[:, :-2]) and np.array_equal(right.image[:, :-2], img[:, 2:])
    # Converging at the plane's depth puts it on the screen: zero parallax in both eyes.
    left, right = stereo_pair(scene, baseline=0.08, convergence=2.0)
    assert np.array_equal(left.image, img) and np.array_equal(right.image, img)
    h, w = img.shape[:2]
    shapes = {k: compose_stereo(left.image, right.image, k).shape for k in ("sbs", "half-sbs", "tb", "anaglyph")}
    assert shapes == {"sbs": (h, 2 * w, 3), "half-sbs": (h, w, 3), "tb": (2 * h, w, 3), "anaglyph": (h, w, 3)}
    l2, r2 = stereo_pair(scene, baseline=0.08)
    sbs = compose_stereo(l2.image, r2.image, "sbs")
    assert np.array_equal(sbs[:, :w], l2.image) and np.array_equal(sbs[:, w:], r2.image)
    ana = compose_stereo(l2.image, r2.image, "anaglyph")
    assert np.array_equal(ana[..., 0], l2.image[..., 0]) and np.array_equal(ana[..., 1:], r2.image[..., 1:])
    with pytest.raises(InputError):
        stereo_pair(scene, baseline=0.08, balance=2.0)
