"""The upright photos that photo-roll trains and is scored on: splits, the photos' own rolls, rolled samples.

The splits are data (``viewshift/planar/data/roll_splits.json``): held-out test photos, validation photos, the
globs that find the training photos and the photos left out of training. Some held-out and validation photos
carry hand-marked world-vertical segments (``roll_references.json``) that give their own roll
(:func:`reference_roll`). Training and evaluation only: the inference API never imports this module.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import torch

from viewshift.errors import InputError
from viewshift.planar.features import photo_features, resize_long_side
from viewshift.planar.photo import rotate_photo, tilt_photo, tilted_size
from viewshift.planar.shared_data import load_rgb, shared_data_root
from viewshift.planar.vanishing import VanishingGate, roll_from_segments, vertical_vanishing_roll

SPLITS_FILE = Path(__file__).with_name("data") / "roll_splits.json"
# Hand-marked world-vertical segments of some held-out and validation photos (their own roll; see
# reference_roll).
REFERENCES_FILE = Path(__file__).with_name("data") / "roll_references.json"
# Training photos without marked verticals take their own roll from vertical_vanishing_roll when a config asks
# for it (self_reference) and the vanishing point is at least this clear.
SELF_REFERENCE_GATE = VanishingGate(support=2.0, ambiguity=0.3)


@cache
def roll_splits() -> dict[str, tuple[str, ...]]:
    """The lists of :data:`SPLITS_FILE` (``test``, ``val``, ``val_duplicates``, ``train_globs``, ``excluded``),
    paths relative to :func:`viewshift.planar.shared_data.shared_data_root`."""
    data = json.loads(SPLITS_FILE.read_text())
    return {k: tuple(v) for k, v in data.items() if k != "about"}


def roll_photo_paths(split: str, root: Path | None = None, validation: bool = False) -> list[Path]:
    """The upright photos of a split.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"`` (:func:`roll_splits`).
        root: the shared data folder (:func:`viewshift.planar.shared_data.shared_data_root` by default).
        validation: for ``"train"``: leave the validation photos (and their near-duplicates) out.
    """
    base = root or shared_data_root()
    splits = roll_splits()
    if split in ("test", "val"):
        return [base / p for p in splits[split] if (base / p).is_file()]
    if split != "train":
        raise InputError(f"unknown split {split!r}; use 'train', 'val' or 'test'")
    held = set(splits["test"]) | set(splits["excluded"])
    if validation:
        held |= set(splits["val"]) | set(splits["val_duplicates"])
    found: set[Path] = set()
    for pattern in splits["train_globs"]:
        for p in base.glob(pattern):
            if str(p.relative_to(base)) not in held:
                found.add(p)
    return sorted(found)


@cache
def _references() -> dict:
    return json.loads(REFERENCES_FILE.read_text())["photos"]


def reference_roll(photo: str) -> float:
    """A photo's own roll (degrees), measured from its hand-marked world-vertical segments
    (:data:`REFERENCES_FILE`, fitted by :func:`roll_from_segments`), or 0 for photos without marked verticals
    (assumed level).

    Args:
        photo: path relative to the shared data folder, as in the ``test`` list of :func:`roll_splits`.
    """
    entry = _references().get(photo)
    return roll_from_segments(np.array(entry["segments"]), *entry["size"]) if entry else 0.0


def random_rolled_crop(
    photo: np.ndarray, roll: float, rng: np.random.Generator, centred: bool = False, tilt: float = 0.0
) -> np.ndarray:
    """A training sample: the photo rolled by ``roll``, cropped to its valid rectangle, then a random sub-crop.

    The sub-crop keeps the aspect ratio of the valid rectangle, covers 50–100 % of its side, and the photo is
    mirrored left-right half the time (a mirrored upright photo is still upright). ``centred`` keeps the
    sub-crop's centre at the photo's centre (the principal point :func:`vanishing_histogram` assumes).
    ``tilt`` > 0 first turns the camera by a random pitch and yaw, each uniform in ``±tilt`` degrees and halved
    while the valid crop would lose more than half of the short side (:func:`tilt_photo`; the roll label stays
    exact).
    """
    if tilt > 0:
        pitch, yaw = rng.uniform(-tilt, tilt, 2)
        # A wide, short photo (KITTI) has little vertical field of view: halve the turn until the valid crop keeps
        # at least half of the short side.
        h, w = photo.shape[:2]
        for _ in range(5):
            turn = float(pitch), float(yaw)
            if 2 * min(tilted_size(w, h, *turn)) >= min(h, w):
                break
            pitch, yaw = pitch / 2, yaw / 2
        photo = tilt_photo(photo, *turn)  # warped once, with the turn that keeps enough
    if rng.random() < 0.5:
        photo = photo[:, ::-1].copy()
    rotated = rotate_photo(photo, roll, crop=True)
    h, w = rotated.shape[:2]
    s = rng.uniform(0.5, 1.0)
    ch, cw = min(h, max(16, int(h * s))), min(w, max(16, int(w * s)))
    if centred:
        y0, x0 = (h - ch) // 2, (w - cw) // 2
    else:
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return rotated[y0 : y0 + ch, x0 : x0 + cw]


def training_photo_paths(config, split: str = "train") -> list[Path]:
    """The photos a roll config trains on: the split, minus the validation photos (``config.val_photos``) and
    ``config.holdout``, cut to the first ``config.max_photos``."""
    paths = roll_photo_paths(split, validation=getattr(config, "val_photos", False))
    left_out = set(getattr(config, "holdout", []))
    paths = [p for p in paths if str(p.relative_to(shared_data_root())) not in left_out]
    return paths[: getattr(config, "max_photos", None)]


def training_reference_roll(photo: np.ndarray, name: str, config) -> float:
    """A training photo's own roll: its hand-marked reference (:func:`reference_roll`) if it has one, else with
    ``config.self_reference`` the roll of its vertical vanishing point when that passes
    :data:`SELF_REFERENCE_GATE`, else 0 (assumed level)."""
    if name in _references() or not getattr(config, "self_reference", False):
        return reference_roll(name)
    found = vertical_vanishing_roll(photo)
    return found.roll if SELF_REFERENCE_GATE.clear(found) else 0.0


def build_roll_dataset(config, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Features and rolls of ``config.samples_per_photo`` random rolled crops per training photo.

    Args:
        config: a :class:`viewshift.planar.configs.RollConfig` (``max_roll``, ``num_bins``, ``samples_per_photo``,
            ``long_side``, ``seed``).
        split: which photos.

    Returns:
        ``(features (N, C, num_bins), rolls (N,))``: the applied rolls, uniform in ``[-max_roll, max_roll]``, plus
        the photo's own roll (:func:`training_reference_roll`; 0 for photos assumed level).
    """
    rng = np.random.default_rng(config.seed)
    paths = training_photo_paths(config, split)
    if not paths:
        raise InputError(f"no photos found under {shared_data_root()}; set VIEWSHIFT_SHARED_DATA")
    feats, rolls = [], []
    for path in paths:
        photo = resize_long_side(load_rgb(path), 2 * config.long_side)
        own = training_reference_roll(photo, str(path.relative_to(shared_data_root())), config)
        for _ in range(config.samples_per_photo):
            roll = float(rng.uniform(-config.max_roll, config.max_roll))
            crop = random_rolled_crop(
                photo, roll, rng, getattr(config, "centred_crops", False), getattr(config, "tilt", 0.0)
            )
            feats.append(photo_features(crop, config.num_bins, getattr(config, "features", "gradient")))
            rolls.append(roll + own)
    return torch.stack(feats), torch.tensor(rolls, dtype=torch.float32)


def roll_test_set(
    per_photo: int = 10, max_roll: float = 20.0, seed: int = 1234, split: str = "test", references: bool = True
) -> list[tuple[str, float, np.ndarray]]:
    """Held-out photos, each rolled by ``per_photo`` fixed seeded angles and cropped to the valid rectangle.

    ``split="val"`` uses the validation photos instead of the test photos. The label is
    the applied roll plus the photo's own roll (:func:`reference_roll`; rolls about the centre add), or the
    applied roll alone with ``references=False`` (every photo assumed level).

    Returns:
        ``(relative path, roll in degrees, H×W×3 uint8 rolled photo)`` triples.
    """
    rng = np.random.default_rng(seed)
    root = shared_data_root()
    out = []
    for path in roll_photo_paths(split):
        photo = load_rgb(path)
        name = str(path.relative_to(root))
        own = reference_roll(name) if references else 0.0
        for _ in range(per_photo):
            roll = float(rng.uniform(-max_roll, max_roll))
            out.append((name, roll + own, rotate_photo(photo, roll, crop=True)))
    return out
