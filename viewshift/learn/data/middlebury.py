"""Rectified stereo pairs (Middlebury layouts) as one-source samples with known pose and disparity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from viewshift.errors import InputError
from viewshift.learn.data.augment import finish_sample, scale_crop, to_tensor


@dataclass
class StereoPair:
    """A rectified stereo pair with optional ground-truth disparity.

    Attributes:
        name: scene name.
        left, right: image files.
        K_left, K_right: ``3×3`` intrinsics, or None when unknown (then no photometric supervision).
        baseline: distance between the cameras (the right camera sits at ``+baseline`` along x), or None.
        disparity: ground-truth left disparity file, or None.
        disparity_scale: stored value / scale = disparity in pixels.
    """

    name: str
    left: Path
    right: Path
    K_left: np.ndarray | None = None
    K_right: np.ndarray | None = None
    baseline: float | None = None
    disparity: Path | None = None
    disparity_scale: float = 1.0

    def read_disparity(self) -> np.ndarray | None:
        """``H×W float32`` disparity in pixels with NaN where unknown, or None."""
        if self.disparity is None:
            return None
        from viewshift.io import read_depth

        if self.disparity.suffix.lower() == ".pgm":
            raw = cv2.imread(str(self.disparity), cv2.IMREAD_UNCHANGED)
            if raw is None:
                raise InputError(f"cannot read disparity {self.disparity}")
        else:
            raw = read_depth(self.disparity, raw=True)
        d = raw.astype(np.float32) / self.disparity_scale
        d[~np.isfinite(d) | (d <= 0)] = np.nan
        return d


def _parse_calib(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _matrix(text: str) -> np.ndarray:
    return np.array([float(x) for x in re.split(r"[\s;\[\]]+", text) if x], dtype=np.float64).reshape(3, 3)


def middlebury_pairs(root: str | Path) -> list[StereoPair]:
    """All Middlebury pairs under ``root`` (``MiddEval3/trainingQ/*`` and ``MiddEval2/*``, see data NOTES).

    MiddEval3 pairs carry ``K`` of both cameras and the baseline in metres (``calib.txt``); MiddEval2 pairs only
    carry disparity (stored value / 3, 4, 8 or 16 by year).
    """
    root = Path(root)
    pairs: list[StereoPair] = []
    for scene in sorted((root / "MiddEval3" / "trainingQ").glob("*")):
        calib = scene / "calib.txt"
        if not calib.exists():
            continue
        c = _parse_calib(calib)
        pairs.append(
            StereoPair(
                name=f"MiddEval3/{scene.name}",
                left=scene / "im0.png",
                right=scene / "im1.png",
                K_left=_matrix(c["cam0"]),
                K_right=_matrix(c["cam1"]),
                baseline=float(c["baseline"]) / 1000.0,
                disparity=scene / "disp0GT.pfm",
            )
        )
    for scene in sorted((root / "MiddEval2").glob("*")):
        files = {p.name: p for p in scene.iterdir()}
        if "view1.png" in files:
            pair = ("view1.png", "view5.png", "disp1.png", 3.0)
        elif "truedisp.pgm" in files:
            pair = ("imL.png", "imR.png", "truedisp.pgm", 16.0)
        elif "disp2.png" in files:
            pair = ("imL.png", "imR.png", "disp2.png", 4.0)
        elif "disp2.pgm" in files:
            left = "imL.png" if "imL.png" in files else ("im2.ppm" if "im2.ppm" in files else "im2.jpg")
            right = "imR.png" if "imR.png" in files else "im6.ppm"
            pair = (left, right, "disp2.pgm", 8.0)
        else:
            continue
        pairs.append(
            StereoPair(
                name=f"MiddEval2/{scene.name}",
                left=files[pair[0]],
                right=files[pair[1]],
                disparity=files[pair[2]],
                disparity_scale=pair[3],
            )
        )
    return pairs


class StereoDataset(Dataset):
    """Rectified stereo pairs as one-source snippets: target = left, source = right.

    When the calibration is known the pose is known too (``right_T_left`` translates by ``-baseline`` along x)
    and ``has_pose`` is True: the pair supervises depth photometrically with no pose network. Ground-truth
    disparity, when present, is returned as ``depth`` (a disparity-like map, see the module docstring).
    Flipping mirrors the pair; the mirrored right camera then sits at ``-baseline``, which :func:`flip_sample`
    handles through the pose.
    """

    def __init__(
        self,
        pairs: list[StereoPair],
        size: tuple[int, int],
        *,
        augment: bool = True,
        scale_range: tuple[float, float] = (1.0, 1.6),
        jitter: float = 0.2,
        repeats: int = 1,
        seed: int = 0,
    ):
        if not pairs:
            raise InputError("StereoDataset needs at least one pair")
        self.pairs, self.size, self.augment = pairs, size, augment
        self.scale_range, self.jitter, self.repeats, self.seed = scale_range, jitter, repeats, seed
        self.epoch = 0
        self._cache: dict[int, tuple] = {}

    def __len__(self) -> int:
        return len(self.pairs) * self.repeats

    def load(self, i: int) -> tuple:
        if i not in self._cache:
            from viewshift.io import read_image

            p = self.pairs[i]
            left, right = to_tensor(read_image(p.left).rgb), to_tensor(read_image(p.right).rgb)
            disp = p.read_disparity()
            if disp is not None:
                valid = torch.from_numpy(np.isfinite(disp))[None]
                disp_t = torch.from_numpy(np.nan_to_num(disp, nan=0.0))[None]
            else:
                valid = torch.zeros(1, *left.shape[-2:], dtype=torch.bool)
                disp_t = torch.zeros(1, *left.shape[-2:])
            self._cache[i] = (left, right, disp_t, valid)
        return self._cache[i]

    def __getitem__(self, idx: int) -> dict[str, torch.Tensor]:
        i = idx % len(self.pairs)
        p = self.pairs[i]
        rng = np.random.default_rng([self.seed, self.epoch, idx]) if self.augment else None
        left, right, disp, valid = self.load(i)
        known = p.K_left is not None and p.baseline is not None
        Ks = torch.from_numpy(np.stack([p.K_left, p.K_right]) if known else np.eye(3)[None].repeat(2, 0))
        (left, right), Ks, (disp, valid) = scale_crop(
            [left, right], Ks, self.size, rng, self.scale_range, extra=[disp, valid.float()]
        )
        sample = {
            "target": left,
            "sources": right[None],
            "K": Ks[0],
            "depth": disp,
            "depth_valid": valid > 0.5,
            "has_depth": torch.tensor(bool((valid > 0.5).any())),
        }
        if known and sample["has_depth"]:
            # Calibrated: d + doffs = f B / z is exactly inverse depth (up to scale), not just disparity.
            doffs = float(p.K_right[0, 2] - p.K_left[0, 2])
            sample["depth"] = torch.where(sample["depth_valid"], disp + doffs, torch.zeros_like(disp))
            sample["has_metric_depth"] = torch.tensor(True)
        if known:
            # The two cameras differ in principal point (Middlebury's doffs). Fold the difference into the pose
            # is impossible, so resample the right image's principal point onto the left's: a pure x shift.
            shift = float(Ks[1][0, 2] - Ks[0][0, 2])
            sample["sources"] = shift_x(right, shift)[None]
            T = torch.eye(4, dtype=torch.float64)
            T[0, 3] = -p.baseline
            sample["src_T_tgt"] = T[None]
            sample["has_pose"] = torch.tensor(True)
        return finish_sample(sample, rng, flip=self.augment, jitter=self.jitter if self.augment else 0)


def shift_x(image: torch.Tensor, dx: float) -> torch.Tensor:
    """``(C, H, W)`` image sampled at ``u + dx`` (so content moves by ``-dx``); borders clamped."""
    c, h, w = image.shape
    u = torch.arange(w, dtype=torch.float32) + dx
    gx = (2 * u + 1) / w - 1
    gy = (2 * torch.arange(h, dtype=torch.float32) + 1) / h - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1)[None]
    return torch.nn.functional.grid_sample(image[None], grid, align_corners=False, padding_mode="border")[0]
