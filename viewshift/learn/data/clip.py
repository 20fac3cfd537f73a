"""The clip format and its snippets.

Clip format (a folder; made by ``viewshift make-clip``)::

    CLIP/
      frames/000000.jpg, 000001.jpg, ...   frames in time order, all the same size (JPEG or PNG)
      K.txt                                3×3 intrinsics in pixels of those frames (three lines of three numbers)
      poses.txt        (optional)          one line per frame: 16 numbers, row-major 4×4 ``world_T_cam``
                                           (camera-to-world; OpenCV camera axes x right, y down, z forward)
      clip.json        (optional)          free metadata: where the frames came from, the frame step

:class:`SequenceDataset` serves a clip's snippets in the sample schema of :mod:`viewshift.learn.data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from viewshift.errors import InputError
from viewshift.learn.data.augment import finish_sample, scale_crop, to_tensor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp")

# --------------------------------------------------------------------------------------------------- clip format


@dataclass
class Clip:
    """A clip on disk: frame paths, intrinsics and (optionally) camera-to-world poses.

    Attributes:
        root: the clip folder.
        frames: frame files in time order.
        K: ``3×3`` float64 intrinsics of the frames.
        world_T_cam: ``N×4×4`` float64 camera-to-world poses, or None.
    """

    root: Path
    frames: list[Path]
    K: np.ndarray
    world_T_cam: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)


def read_clip(root: str | Path) -> Clip:
    """Read a clip folder (see the module docstring).

    Raises:
        InputError: no such folder, no frames, a bad ``K.txt`` or ``poses.txt``.
    """
    root = Path(root)
    frames_dir = root / "frames"
    if not frames_dir.is_dir():
        raise InputError(f"{root} is not a clip folder (no frames/); make one with `viewshift make-clip`")
    frames = sorted(p for p in frames_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(frames) < 2:
        raise InputError(f"clip {root} has {len(frames)} frames; it needs at least 2")
    try:
        K = np.loadtxt(root / "K.txt", dtype=np.float64).reshape(3, 3)
    except (OSError, ValueError) as exc:
        raise InputError(f"clip {root}: K.txt must hold a 3×3 matrix ({exc})") from exc
    poses = None
    if (root / "poses.txt").exists():
        try:
            poses = np.loadtxt(root / "poses.txt", dtype=np.float64).reshape(-1, 4, 4)
        except ValueError as exc:
            raise InputError(f"clip {root}: poses.txt must hold 16 numbers per line ({exc})") from exc
        if len(poses) != len(frames):
            raise InputError(f"clip {root}: {len(poses)} poses for {len(frames)} frames")
    return Clip(root=root, frames=frames, K=K, world_T_cam=poses)


def write_clip(
    out: str | Path,
    frames: list[np.ndarray],
    K: np.ndarray,
    world_T_cam: np.ndarray | None = None,
    meta: dict | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``H×W×3 uint8`` frames, intrinsics and optional poses as a clip folder.

    The folder is assembled under a temporary name beside ``out`` and renamed into place, so a killed run
    never leaves a half-written clip.
    """
    from viewshift.errors import OutputError
    from viewshift.io import write_image

    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists; pass --overwrite to replace it")
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    (tmp / "frames").mkdir(parents=True)
    for i, f in enumerate(frames):
        write_image(tmp / "frames" / f"{i:06d}.png", f)
    np.savetxt(tmp / "K.txt", np.asarray(K, dtype=np.float64).reshape(3, 3), fmt="%.6f")
    if world_T_cam is not None:
        np.savetxt(tmp / "poses.txt", np.asarray(world_T_cam).reshape(-1, 16), fmt="%.9f")
    (tmp / "clip.json").write_text(json.dumps(meta or {}, indent=2))
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out


# ------------------------------------------------------------------------------------------------- datasets


class SequenceDataset(Dataset):
    """Snippets of a clip: a target frame and its ``num_sources`` neighbours ``stride`` frames apart.

    With ``num_sources = 2`` the snippet is ``(t - stride, t, t + stride)``, the target in the middle as in
    SfMLearner. Known poses (``poses.txt``) are returned as ``src_T_tgt`` with ``has_pose`` False by default
    (they are for evaluation; pass ``use_poses=True`` to supervise with them).
    """

    def __init__(
        self,
        clip: Clip,
        size: tuple[int, int],
        *,
        num_sources: int = 2,
        stride: int = 1,
        augment: bool = True,
        scale_range: tuple[float, float] = (1.0, 1.15),
        jitter: float = 0.2,
        use_poses: bool = False,
        indices: list[int] | None = None,
        seed: int = 0,
    ):
        if num_sources % 2:
            raise InputError("SequenceDataset needs an even number of source frames (neighbours on both sides)")
        self.clip, self.size, self.num_sources, self.stride = clip, size, num_sources, stride
        half = num_sources // 2 * stride
        valid = range(half, len(clip) - half)
        self.indices = [i for i in (indices if indices is not None else valid) if i in valid]
        if not self.indices:
            raise InputError(f"clip {clip.root} is too short for snippets of {num_sources + 1} frames, stride {stride}")
        self.augment, self.scale_range, self.jitter, self.use_poses, self.seed = (
            augment,
            scale_range,
            jitter,
            use_poses,
            seed,
        )
        self.epoch = 0
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.indices)

    def frame(self, i: int) -> torch.Tensor:
        if i not in self._cache:
            from viewshift.io import read_image

            self._cache[i] = to_tensor(read_image(self.clip.frames[i]).rgb)
        return self._cache[i]

    def neighbours(self, t: int) -> list[int]:
        half = self.num_sources // 2
        return [t + k * self.stride for k in range(-half, half + 1) if k != 0]

    def __getitem__(self, idx: int) -> dict[str, torch.Tensor]:
        t = self.indices[idx]
        rng = np.random.default_rng([self.seed, self.epoch, idx]) if self.augment else None
        srcs = self.neighbours(t)
        ims = [self.frame(t)] + [self.frame(s) for s in srcs]
        K = torch.from_numpy(self.clip.K)
        ims, K, _ = scale_crop(ims, K, self.size, rng, self.scale_range)
        sample = {"target": ims[0], "sources": torch.stack(ims[1:]), "K": K}
        if self.clip.world_T_cam is not None:
            P = torch.from_numpy(self.clip.world_T_cam)
            sample["src_T_tgt"] = torch.stack([torch.linalg.inv(P[s]) @ P[t] for s in srcs])
            sample["has_pose"] = torch.tensor(self.use_poses)
        return finish_sample(sample, rng, flip=self.augment, jitter=self.jitter if self.augment else 0)
