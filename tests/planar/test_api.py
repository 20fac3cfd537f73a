"""Public API: input checks, shipped weights meeting stated accuracies on small fixed held-out subsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.errors import InputError, ShapeError
from viewshift.planar import align, classify, estimate_angle, estimate_roll, straighten
from viewshift.planar.photo import crop_size, rotate_photo


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy()


def test_digit_input_checks():
    with pytest.raises(ShapeError):
        estimate_angle(np.zeros((2, 20, 20), np.uint8))
    with pytest.raises(InputError):
        estimate_angle(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(InputError):
        classify(np.zeros((1, 28, 28), np.uint8), model="nope")
    with pytest.raises(ShapeError):
        estimate_roll(np.zeros((40, 40), np.uint8))


def test_outputs_have_documented_shapes_and_types():
    digits = np.zeros((3, 28, 28), np.uint8)
    digits[:, 8:20, 12:16] = 255
    angles = estimate_angle(digits)
    assert angles.shape == (3,) and angles.dtype == np.float32 and np.all(np.abs(angles) <= 180)
    assert align(digits).shape == (3, 28, 28) and align(digits).dtype == np.uint8
    labels = classify(digits)
    assert labels.shape == (3,) and labels.dtype == np.int64
    assert estimate_angle(digits[0]).shape == (1,)


def test_shipped_digit_angle_models_on_held_out_subset():
    require_shared_data("digits", "digits_train.png")
    from viewshift.planar.evaluate import rotation_test_set

    images, angles, labels = rotation_test_set(None, per_image=1)  # 800 held-out digits, one angle each
    keep = torch.arange(len(labels)) % 4 == 0  # 200 of them, all classes
    pred = estimate_angle(_to_uint8(images[keep]))
    err = np.abs((pred - angles[keep].numpy() + 180) % 360 - 180)
    # Stated accuracy of the shipped model (rot-bins-all-val) on this subset: measured median 2.15° (mean 4.0°);
    # stated bound 3°.
    assert np.median(err) <= 3.0

    threes = labels == 3
    pred3 = estimate_angle(_to_uint8(images[threes]), model="digits-3")
    err3 = np.abs((pred3 - angles[threes].numpy() + 180) % 360 - 180)
    # Measured 1.9° on these 80 held-out 3s (one angle each, 4 quarter-turn views); stated bound 2.5°.
    assert err3.mean() <= 2.5


def test_shipped_icstn_on_held_out_subset():
    require_shared_data("digits", "digits_train.png")
    from viewshift.planar.evaluate import align_test_set

    _, _, perturbed, labels = align_test_set(per_image=1)  # 800 held-out digits, one perturbation each
    pred = classify(_to_uint8(perturbed[:400]))
    # The shipped two-seed ensemble of 20 000-step members: measured 1.0 % on these 400 (4 errors); stated bound
    # 2 % (the target; the 6000-step ensemble shipped before made 6 errors here).
    assert (pred != labels[:400].numpy()).mean() <= 0.02


def test_shipped_roll_on_held_out_photos():
    require_shared_data("photos")
    from viewshift.planar.roll_data import reference_roll, roll_photo_paths
    from viewshift.planar.shared_data import load_rgb, shared_data_root

    errors = []
    for path in roll_photo_paths("test")[:4]:
        photo = load_rgb(path)
        own = reference_roll(str(path.relative_to(shared_data_root())))  # the photo's own measured roll
        for roll in (-12.0, 7.0):
            errors.append(abs(estimate_roll(rotate_photo(photo, roll)) - roll - own))
    # Measured 1.21° with the shipped model (roll-tilt + vanishing-point gate), the worst case aero1.jpg rolled by
    # 7° (6.6°, no verticals); stated bound 2.5°.
    assert np.mean(errors) <= 2.5


def test_straighten_crops_to_the_valid_rectangle():
    photo = np.full((120, 200, 3), 200, np.uint8)
    out, roll = straighten(photo, roll=10.0)
    assert roll == 10.0 and out.shape[:2][::-1] == crop_size(200, 120, 10.0)
    assert out.min() > 150  # no fill colour inside the crop
    same, _ = straighten(photo, roll=-10.0, keep_size=True, fill="white")
    assert same.shape == photo.shape
    with pytest.raises(InputError):
        straighten(photo, roll=90.0)
    rgba = np.dstack([photo, np.full((120, 200), 255, np.uint8)])
    assert straighten(rgba, roll=5.0)[0].shape[2] == 4
    sixteen = rotate_photo(photo.astype(np.uint16) * 257, 3.0)
    assert sixteen.dtype == np.uint16


def test_roll_crop_views_on_a_synthetic_facade():
    import cv2

    from viewshift.planar.api import load_model, roll_with_network

    img = np.full((240, 320, 3), 90, np.uint8)
    for y in range(20, 240, 40):
        cv2.rectangle(img, (20, y), (300, y + 20), (230, 220, 200), -1)
    for x in range(30, 320, 60):
        cv2.line(img, (x, 0), (x, 239), (30, 30, 30), 3)
    tilted = rotate_photo(img, -9.0)
    net = load_model("photo-roll")
    assert abs(roll_with_network(net, tilted, crops=5) + 9.0) < 2.0
    with pytest.raises(InputError):
        roll_with_network(net, tilted, crops=3)
