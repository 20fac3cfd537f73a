"""Data splits: train / validation / test are disjoint, and the test split does not depend on validation."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import require_shared_data
from viewshift.errors import InputError
from viewshift.planar import roll as R
from viewshift.planar.digits import load_split, split_indices


def test_digit_validation_comes_out_of_training_and_leaves_test_alone():
    plain, with_val = split_indices(), split_indices(val_per_class=40)
    assert len(plain["val"]) == 0 and len(plain["train"]) == 3200
    assert (len(with_val["train"]), len(with_val["val"]), len(with_val["test"])) == (2800, 400, 800)
    np.testing.assert_array_equal(plain["test"], with_val["test"])
    assert set(with_val["train"]) | set(with_val["val"]) == set(plain["train"])
    assert not set(with_val["train"]) & set(with_val["val"])
    labels = (with_val["val"] // 80) // 5
    assert np.bincount(labels, minlength=10).tolist() == [40] * 10
    with pytest.raises(InputError):
        split_indices(val_per_class=320)


def test_digit_val_split_loads():
    mosaic = require_shared_data("digits", "digits_train.png")
    val = load_split("val", (3,), mosaic, val_per_class=40)
    assert val.images.shape == (40, 28, 28) and (val.labels == 3).all()


def test_roll_validation_photos_are_out_of_training_and_test():
    require_shared_data("photos")
    root = R.shared_data_root()
    train = {str(p.relative_to(root)) for p in R.roll_photo_paths("train", validation=True)}
    val = {str(p.relative_to(root)) for p in R.roll_photo_paths("val")}
    test = {str(p.relative_to(root)) for p in R.roll_photo_paths("test")}
    assert len(val) == len(R.ROLL_VAL_PHOTOS) and not val & train and not val & test and not train & test
    assert "stereo/middlebury/MiddEval3/trainingQ/Shelves/im1.png" not in train
    assert val <= {str(p.relative_to(root)) for p in R.roll_photo_paths("train")}


def test_roll_training_photos_leave_out_validation_and_holdout():
    from viewshift.planar.configs import PRESETS

    require_shared_data("photos")
    root = R.shared_data_root()
    clean = {str(p.relative_to(root)) for p in R.training_photo_paths(PRESETS["roll-val-clean"])}
    wide = {str(p.relative_to(root)) for p in R.training_photo_paths(PRESETS["roll-val-wide"])}
    assert clean == wide - set(PRESETS["roll-val-clean"].holdout)
    assert len(wide) - len(clean) == len(PRESETS["roll-val-clean"].holdout)
    assert not wide & set(R.ROLL_VAL_PHOTOS)
