"""Training data: the clip format, loaders for snippets and stereo pairs, K-aware augmentation, synthetic scenes.

Clip format (a folder; made by ``viewshift make-clip``)::

    CLIP/
      frames/000000.jpg, 000001.jpg, ...   frames in time order, all the same size (JPEG or PNG)
      K.txt                                3×3 intrinsics in pixels of those frames (three lines of three numbers)
      poses.txt        (optional)          one line per frame: 16 numbers, row-major 4×4 ``world_T_cam``
                                           (camera-to-world; OpenCV camera axes x right, y down, z forward)
      clip.json        (optional)          free metadata: where the frames came from, the frame step

Every training sample is a dict of tensors with a fixed schema (the batch adds a leading ``B``):

* ``target`` ``(3, H, W)`` in [0, 1]; ``sources`` ``(N, 3, H, W)``; ``K`` ``(3, 3)`` of that (augmented) size;
* ``src_T_tgt`` ``(N, 4, 4)`` and ``has_pose`` ``()`` bool — known relative poses (stereo baseline, synthetic
  camera); when False the pose network predicts them;
* ``depth`` ``(1, H, W)`` and ``has_depth`` ``()`` bool — ground-truth *disparity-like* supervision: the
  inverse depth up to an unknown scale and shift (zero where unknown, see ``depth_valid`` ``(1, H, W)``);
  ``has_metric_depth`` ``()`` bool says the shift is zero (``depth`` is inverse depth up to scale only).

Augmentations move images and intrinsics together: :func:`scale_crop` (resize by a random factor, crop at a
random place, ``K`` rescaled and shifted) and :func:`flip_sample` (mirror left-right; ``K``'s principal point
and the known poses are mirrored too).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from viewshift.errors import InputError

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


def load_frames(
    source: str | Path,
    *,
    pattern: str = "*",
    step: int = 1,
    max_frames: int | None = None,
    max_width: int | None = None,
) -> list[np.ndarray]:
    """Frames of a video file or an image folder (sorted by name, matching ``pattern``), as ``H×W×3 uint8``.

    Every ``step``-th frame is kept, at most ``max_frames``, downscaled to at most ``max_width`` pixels wide.
    """
    source = Path(source)
    frames: list[np.ndarray] = []
    if source.is_dir():
        from viewshift.io import read_image

        paths = sorted(p for p in source.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)
        paths = paths[::step][:max_frames]
        frames = [read_image(p).rgb for p in paths]
    elif source.is_file():
        cap = cv2.VideoCapture(str(source))
        i = 0
        while cap.isOpened():
            ok, bgr = cap.read()
            if not ok:
                break
            if i % step == 0:
                frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                if max_frames and len(frames) >= max_frames:
                    break
            i += 1
        cap.release()
    else:
        raise InputError(f"{source} is neither a video file nor a folder of images")
    if len(frames) < 2:
        raise InputError(f"{source}: found {len(frames)} frames (pattern {pattern!r}); need at least 2")
    if max_width and frames[0].shape[1] > max_width:
        s = max_width / frames[0].shape[1]
        size = (max_width, round(frames[0].shape[0] * s))
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise InputError(f"{source}: frames differ in size {sorted(shapes)}")
    return frames


# ---------------------------------------------------------------------------------------------- augmentation


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``H×W×3 uint8`` (or float in [0, 1]) to ``(3, H, W)`` float32 in [0, 1]."""
    a = torch.from_numpy(np.array(rgb, copy=True))
    if a.dtype == torch.uint8:
        a = a.float() / 255.0
    return a.permute(2, 0, 1).float().contiguous()


def scale_crop(
    images: list[torch.Tensor],
    K: torch.Tensor,
    size: tuple[int, int],
    rng: np.random.Generator | None,
    scale_range: tuple[float, float] = (1.0, 1.0),
    extra: list[torch.Tensor] | None = None,
) -> tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
    """Resize all images by one factor, then crop the same ``size`` window from each; move ``K`` with them.

    The smallest factor that still covers ``size`` is multiplied by a random factor in ``scale_range`` (with
    ``rng`` None: factor 1 and a centred crop). ``extra`` maps (depth, masks) are resized with nearest
    neighbour so unknown values do not bleed.

    Args:
        images: ``(C, H, W)`` tensors of one size.
        K: ``(3, 3)`` intrinsics of that size (one K, or ``(M, 3, 3)`` for several cameras).
        size: output ``(h, w)``.

    Returns:
        The cropped images, the new ``K`` (same shape as given) and the cropped extras.
    """
    from viewshift.geometry import crop_intrinsics, scale_intrinsics

    h0, w0 = images[0].shape[-2:]
    h, w = size
    base = max(h / h0, w / w0)
    factor = base * (rng.uniform(*scale_range) if rng is not None else 1.0)
    hs, ws = max(h, math.ceil(h0 * factor)), max(w, math.ceil(w0 * factor))
    if rng is not None:
        y0, x0 = int(rng.integers(0, hs - h + 1)), int(rng.integers(0, ws - w + 1))
    else:
        y0, x0 = (hs - h) // 2, (ws - w) // 2

    def resize(x: torch.Tensor, mode: str) -> torch.Tensor:
        if (hs, ws) == (h0, w0):
            return x
        kw = {"antialias": True, "align_corners": False} if mode == "bilinear" else {}
        return torch.nn.functional.interpolate(x[None], size=(hs, ws), mode=mode, **kw)[0]

    out = [resize(im, "bilinear")[:, y0 : y0 + h, x0 : x0 + w] for im in images]
    ex = [resize(e, "nearest")[:, y0 : y0 + h, x0 : x0 + w] for e in (extra or [])]
    Kb = K.reshape(-1, 3, 3).double()
    Kb = crop_intrinsics(scale_intrinsics(Kb, ws / w0, hs / h0), x0, y0)
    return [o.clamp(0, 1) for o in out], Kb.reshape(K.shape).to(K.dtype), ex


MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=torch.float64))


def flip_sample(sample: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mirror a sample left-right: images, depth, ``K`` (principal point) and known poses (``M T M``).

    Mirroring the images is the view of the mirrored world ``x -> -x``, so a pose ``T`` becomes ``M T M`` with
    ``M = diag(-1, 1, 1, 1)``.
    """
    from viewshift.geometry import flip_intrinsics

    out = dict(sample)
    w = sample["target"].shape[-1]
    for key in ("target", "sources", "depth", "depth_valid", "true_depth"):
        if key in out:
            out[key] = out[key].flip(-1)
    out["K"] = flip_intrinsics(sample["K"].reshape(1, 3, 3), w).reshape(3, 3)
    if "src_T_tgt" in out:
        m = MIRROR.to(out["src_T_tgt"].dtype)
        out["src_T_tgt"] = m @ out["src_T_tgt"] @ m
    return out


def colour_jitter(images: torch.Tensor, rng: np.random.Generator, strength: float = 0.2) -> torch.Tensor:
    """Same random brightness, contrast, saturation and channel gains for all ``(..., 3, H, W)`` images."""
    b = 1 + rng.uniform(-strength, strength)
    c = 1 + rng.uniform(-strength, strength)
    s = 1 + rng.uniform(-strength, strength)
    gains = torch.tensor(1 + rng.uniform(-strength / 2, strength / 2, 3), dtype=images.dtype).reshape(3, 1, 1)
    x = images * b
    mean = x.mean(dim=(-3, -2, -1), keepdim=True)
    x = (x - mean) * c + mean
    grey = x.mean(dim=-3, keepdim=True)
    x = (x - grey) * s + grey
    return (x * gains).clamp(0, 1)


def finish_sample(sample: dict, rng: np.random.Generator | None, flip: bool, jitter: float) -> dict:
    """Fill the optional keys of the sample schema, then flip and colour-jitter at random."""
    n, _, h, w = sample["sources"].shape
    sample.setdefault("src_T_tgt", torch.eye(4, dtype=torch.float64).repeat(n, 1, 1))
    sample.setdefault("has_pose", torch.tensor(False))
    sample.setdefault("depth", torch.zeros(1, h, w))
    sample.setdefault("depth_valid", torch.zeros(1, h, w, dtype=torch.bool))
    sample.setdefault("has_depth", torch.tensor(False))
    sample.setdefault("has_metric_depth", torch.tensor(False))
    if rng is not None and flip and rng.random() < 0.5:
        sample = flip_sample(sample)
    if rng is not None and jitter > 0:
        both = colour_jitter(torch.cat([sample["target"][None], sample["sources"]]), rng, jitter)
        sample["target"], sample["sources"] = both[0], both[1:]
    sample["src_T_tgt"] = sample["src_T_tgt"].float()
    sample["K"] = sample["K"].float()
    return sample


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
