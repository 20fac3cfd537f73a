"""The handwritten-digit set (OpenCV's ``digits.png``) and its fixed train/test split.

The mosaic is 1000 rows × 1600 columns of pixels, 50 rows × 80 columns of 20×20 digits; mosaic
row ``r`` holds class ``r // 5``, so each class has 400 digits. Every digit is centred on a 28×28 black canvas
(4-pixel margin), as in MNIST.

The split is computed deterministically, not stored: for each class, the 400 digits (in mosaic order, row-major)
are permuted with ``numpy.random.default_rng(SPLIT_SEED + class)``; the first 320 are training digits and the
last 80 test digits. :func:`split_indices` returns the indices, so the split is data, identical on every machine.
With ``val_per_class = V > 0`` the last ``V`` of the 320 training digits of each class become validation digits
(held out from training, used to pick checkpoints and settings); the test digits never change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewshift.errors import InputError

DIGIT_SIZE = 20
CANVAS_SIZE = 28
MOSAIC_ROWS, MOSAIC_COLS = 50, 80
PER_CLASS = 400
TRAIN_PER_CLASS = 320
SPLIT_SEED = 2017


def default_digits_path() -> Path:
    """``digits/digits_train.png`` under :func:`viewshift.planar.shared_data.shared_data_root`."""
    from viewshift.planar.shared_data import shared_data_root

    return shared_data_root() / "digits" / "digits_train.png"


@dataclass(frozen=True)
class DigitSet:
    """Digits on 28×28 canvases.

    Attributes:
        images: ``(N, 28, 28)`` uint8, white digit on black.
        labels: ``(N,)`` int64 classes 0–9.
        indices: ``(N,)`` int64 positions in the mosaic (row-major over the 50×80 grid).
    """

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def subset(self, mask: np.ndarray) -> DigitSet:
        return DigitSet(self.images[mask], self.labels[mask], self.indices[mask])


def load_mosaic(path: str | os.PathLike[str] | None = None) -> DigitSet:
    """Read the mosaic and cut it into 4000 digits on 28×28 canvases.

    Args:
        path: the mosaic PNG; defaults to :func:`default_digits_path`.

    Returns:
        All 4000 digits in mosaic order.
    """
    import cv2

    path = Path(path) if path is not None else default_digits_path()
    if not path.is_file():
        raise InputError(f"digit mosaic not found at {path}; set VIEWSHIFT_SHARED_DATA or pass --data")
    mosaic = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    expected = (MOSAIC_ROWS * DIGIT_SIZE, MOSAIC_COLS * DIGIT_SIZE)
    if mosaic is None or mosaic.shape != expected:
        shape = None if mosaic is None else mosaic.shape
        raise InputError(f"{path} is not the 1000x1600 digit mosaic (got shape {shape})")
    tiles = mosaic.reshape(MOSAIC_ROWS, DIGIT_SIZE, MOSAIC_COLS, DIGIT_SIZE).transpose(0, 2, 1, 3)
    tiles = tiles.reshape(-1, DIGIT_SIZE, DIGIT_SIZE)
    margin = (CANVAS_SIZE - DIGIT_SIZE) // 2
    images = np.zeros((tiles.shape[0], CANVAS_SIZE, CANVAS_SIZE), dtype=np.uint8)
    images[:, margin : margin + DIGIT_SIZE, margin : margin + DIGIT_SIZE] = tiles
    indices = np.arange(tiles.shape[0], dtype=np.int64)
    labels = (indices // MOSAIC_COLS) // 5
    return DigitSet(images, labels.astype(np.int64), indices)


def split_indices(val_per_class: int = 0) -> dict[str, np.ndarray]:
    """The fixed split as sorted mosaic indices: ``{"train", "val", "test"}``.

    Args:
        val_per_class: training digits per class moved to the validation split (0: no validation digits).

    Returns:
        ``train`` ``(10 * (320 - val_per_class),)``, ``val`` ``(10 * val_per_class,)``, ``test`` ``(800,)``.
    """
    if not 0 <= val_per_class < TRAIN_PER_CLASS:
        raise InputError(f"val_per_class must be in [0, {TRAIN_PER_CLASS}), got {val_per_class}")
    train, val, test = [], [], []
    all_idx = np.arange(MOSAIC_ROWS * MOSAIC_COLS)
    labels = (all_idx // MOSAIC_COLS) // 5
    for cls in range(10):
        members = all_idx[labels == cls]
        perm = np.random.default_rng(SPLIT_SEED + cls).permutation(members)
        train.append(perm[: TRAIN_PER_CLASS - val_per_class])
        val.append(perm[TRAIN_PER_CLASS - val_per_class : TRAIN_PER_CLASS])
        test.append(perm[TRAIN_PER_CLASS:])
    return {name: np.sort(np.concatenate(parts)) for name, parts in (("train", train), ("val", val), ("test", test))}


def load_split(
    split: str,
    classes: tuple[int, ...] | None = None,
    path: str | os.PathLike[str] | None = None,
    val_per_class: int = 0,
) -> DigitSet:
    """Digits of one split, optionally only some classes.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.
        classes: keep only these classes (e.g. ``(3,)``); all when None.
        path: the mosaic PNG; defaults to :func:`default_digits_path`.
        val_per_class: size of the validation split per class (see :func:`split_indices`).

    Returns:
        The digits, in mosaic order.
    """
    if split not in ("train", "val", "test"):
        raise InputError(f"unknown split {split!r}; use 'train', 'val' or 'test'")
    everything = load_mosaic(path)
    keep = np.zeros(len(everything.labels), dtype=bool)
    keep[split_indices(val_per_class)[split]] = True
    if classes is not None:
        keep &= np.isin(everything.labels, np.asarray(classes))
    return everything.subset(keep)
