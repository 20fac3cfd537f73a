"""Data splits: train / validation / test are disjoint, and the test split does not depend on validation."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import require_shared_data
from viewshift.errors import InputError
from viewshift.planar import roll_data as R
from viewshift.planar.digits import load_split, split_indices
from viewshift.planar.shared_data import shared_data_root


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
    root = shared_data_root()
    train = {str(p.relative_to(root)) for p in R.roll_photo_paths("train", validation=True)}
    val = {str(p.relative_to(root)) for p in R.roll_photo_paths("val")}
    test = {str(p.relative_to(root)) for p in R.roll_photo_paths("test")}
    assert len(val) == len(R.roll_splits()["val"]) and not val & train and not val & test and not train & test
    assert "stereo/middlebury/MiddEval3/trainingQ/Shelves/im1.png" not in train
    assert val <= {str(p.relative_to(root)) for p in R.roll_photo_paths("train")}


def test_roll_training_photos_leave_out_validation_and_holdout():
    import dataclasses

    from viewshift.planar.configs import PRESETS

    require_shared_data("photos")
    root = shared_data_root()
    shipped = PRESETS["roll-tilt"]
    clean = {str(p.relative_to(root)) for p in R.training_photo_paths(shipped)}
    wide = {str(p.relative_to(root)) for p in R.training_photo_paths(dataclasses.replace(shipped, holdout=[]))}
    assert clean == wide - set(shipped.holdout)
    assert len(wide) - len(clean) == len(shipped.holdout)
    assert not wide & set(R.roll_splits()["val"]) and not wide & set(R.roll_splits()["test"])


def test_roll_splits_are_data_the_inference_api_does_not_load():
    import ast
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, viewshift.planar as p; p.estimate_roll(np.zeros((32, 32, 3), np.uint8)); "
        "print(sorted(m for m in sys.modules if m.startswith('viewshift.planar.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    assert "viewshift.planar.api" in loaded
    training = {"roll_data", "shared_data", "digits", "train", "tasks", "evaluate", "cli"}
    assert not loaded & {f"viewshift.planar.{m}" for m in training}
