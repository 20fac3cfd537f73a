"""Frames with confidence-weighted pseudo-depth (geometric multi-view depth) as single-image training samples.

The labels are written by ``bench/make_pseudo_labels.py``: a folder with ``manifest.json`` (``"labels"``: a list
of entries whose ``"file"`` is an ``.npz`` relative to the folder) and, per label, an ``.npz`` holding

* ``image`` ``H×W×3 uint8`` — the reference frame,
* ``depth`` ``H×W float32`` — its geometric depth in a relative unit (0 or non-finite where unknown),
* ``confidence`` ``H×W float32`` in [0, 1],
* ``K`` ``(3, 3)`` — intrinsics in pixels at that size.

Each sample follows the schema of :mod:`viewshift.learn.data` (see :func:`~viewshift.learn.data.finish_sample`)
with ``depth`` = inverse depth up to scale (``has_metric_depth`` True: no shift), ``depth_valid`` = known depth
with confidence at least ``min_confidence``, and one extra key:

* ``depth_weight`` ``(1, H, W)`` float in [0, 1] — the label's confidence (0 where not valid), by which the
  supervised losses weight every pixel.

There is no second view and no pose (``sources`` holds the target once, ``has_pose`` False), so no photometric
term applies. Augmentation moves image, label and ``K`` together (random scale + crop, mirror, colour jitter).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from viewshift.errors import InputError
from viewshift.learn.data.augment import finish_sample, flip_sample, scale_crop, to_tensor


def read_pseudo_manifest(path: str | Path) -> list[Path]:
    """The label files listed by a ``manifest.json`` (or by ``FOLDER/manifest.json``), in manifest order.

    Raises:
        InputError: no manifest, an unreadable one, a listed file that is missing, or no labels at all.
    """
    p = Path(path)
    manifest = p / "manifest.json" if p.is_dir() else p
    try:
        entries = json.loads(manifest.read_text())["labels"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"cannot read pseudo-label manifest {manifest}: {exc}; run bench/make_pseudo_labels.py"
        ) from exc
    files = [manifest.parent / e["file"] for e in entries]
    missing = [f for f in files if not f.exists()]
    if missing:
        raise InputError(f"pseudo-label manifest {manifest} lists missing files, e.g. {missing[0]}")
    if not files:
        raise InputError(f"pseudo-label manifest {manifest} lists no labels")
    return files


class PseudoDepthDataset(Dataset):
    """Pseudo-labelled frames as samples of the training schema (module docstring).

    Args:
        files: label ``.npz`` files (see :func:`read_pseudo_manifest`).
        size: output ``(h, w)``.
        augment: random scale + crop, mirror, colour jitter (False: centred crop at the smallest covering scale).
        min_confidence: pixels below this confidence are not supervised at all.
        scale_range: random zoom on top of the smallest scale that covers ``size``.
        jitter: colour jitter strength.
        seed: with ``epoch`` and the index, seeds each sample's augmentation.
    """

    def __init__(
        self,
        files: list[str | Path],
        size: tuple[int, int],
        *,
        augment: bool = True,
        min_confidence: float = 0.1,
        scale_range: tuple[float, float] = (1.0, 1.5),
        jitter: float = 0.2,
        seed: int = 0,
    ):
        if not files:
            raise InputError("PseudoDepthDataset needs at least one label file")
        if not 0.0 <= min_confidence < 1.0:
            raise InputError(f"min_confidence must be in [0, 1), got {min_confidence}")
        self.files = [Path(f) for f in files]
        self.size, self.augment, self.min_confidence = size, augment, min_confidence
        self.scale_range, self.jitter, self.seed = scale_range, jitter, seed
        self.epoch = 0
        self._cache: dict[int, tuple] = {}

    def __len__(self) -> int:
        return len(self.files)

    def load(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Image ``(3, H, W)``, inverse depth ``(1, H, W)`` (0 where not valid), weight ``(1, H, W)``, ``K``."""
        if i not in self._cache:
            with np.load(self.files[i]) as z:
                image, depth, conf, K = z["image"], z["depth"], z["confidence"], z["K"]
            if depth.shape != image.shape[:2] or conf.shape != depth.shape:
                raise InputError(f"{self.files[i]}: image, depth and confidence differ in size")
            conf = np.nan_to_num(conf.astype(np.float32), nan=0.0).clip(0, 1)
            valid = np.isfinite(depth) & (depth > 0) & (conf >= self.min_confidence) & (conf > 0)
            inv = np.where(valid, 1.0 / np.where(valid, depth, 1.0), 0.0).astype(np.float32)
            weight = np.where(valid, conf, 0.0).astype(np.float32)
            self._cache[i] = (
                to_tensor(image),
                torch.from_numpy(inv)[None],
                torch.from_numpy(weight)[None],
                torch.from_numpy(np.asarray(K, dtype=np.float64)),
            )
        return self._cache[i]

    def __getitem__(self, idx: int) -> dict[str, torch.Tensor]:
        i = idx % len(self.files)
        rng = np.random.default_rng([self.seed, self.epoch, idx]) if self.augment else None
        image, inv, weight, K = self.load(i)
        (image,), K, (inv, weight) = scale_crop([image], K, self.size, rng, self.scale_range, extra=[inv, weight])
        valid = weight > 0
        sample = {
            "target": image,
            "sources": image[None],
            "K": K,
            "depth": torch.where(valid, inv, torch.zeros_like(inv)),
            "depth_valid": valid,
            "has_depth": torch.tensor(bool(valid.any())),
            "has_metric_depth": torch.tensor(bool(valid.any())),
        }
        if rng is not None and rng.random() < 0.5:
            sample = flip_sample(sample)
            weight = weight.flip(-1)
        sample["depth_weight"] = weight
        return finish_sample(sample, rng, flip=False, jitter=self.jitter if self.augment else 0)
