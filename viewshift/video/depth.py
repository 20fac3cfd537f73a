"""Depth for batches of video frames, from a network (batched), any depth source, or a folder of depth files.

Every provider is a callable ``provider(frames, start) -> list of H'×W' float32 depth`` (positive, larger =
farther, any unit; ``H'×W'`` may be smaller than the frame: the converter resizes the normalised disparity), with
a ``description`` string that names it in a conversion's saved settings (so a resumed conversion can tell
whether its depth changed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from viewshift.errors import DepthError

__all__ = ["FolderDepth", "NetworkDepth", "SourceDepth", "depth_provider"]

DEPTH_FILE_EXTENSIONS = (".npy", ".png", ".pfm")


def _valid_depth(depth: np.ndarray, where: str) -> np.ndarray:
    """Unknown pixels (0, negative, non-finite) filled from the background side; refuses an empty map."""
    from viewshift.depth.units import fill_from_farther

    d = np.asarray(depth, np.float32)
    if d.ndim != 2:
        raise DepthError(f"depth of {where} must be H×W, got shape {d.shape}")
    ok = np.isfinite(d) & (d > 0)
    if not ok.any():
        raise DepthError(f"depth of {where} has no valid pixel (all zero, negative or non-finite)")
    if not ok.all():
        d = fill_from_farther(d, ok, farther="larger")
    return d


class NetworkDepth:
    """A depth network run on batches of frames (one forward pass per batch).

    Args:
        source: a depth source with ``network_size(h, w)`` and ``predict_tensor((B, 3, h, w)) -> (B, 1, h, w)``
            relative depth, such as :class:`viewshift.depth.builtin.BuiltinDepth`.
    """

    def __init__(self, source):
        self.source = source
        self.description = f"network:{getattr(source, 'model_path', repr(source))}"

    def __call__(self, frames: Sequence[np.ndarray], start: int) -> list[np.ndarray]:
        import torch

        h, w = frames[0].shape[:2]
        ih, iw = self.source.network_size(h, w)
        interp = cv2.INTER_AREA if w > iw else cv2.INTER_LINEAR
        small = []
        for f in frames:
            f8 = f if f.dtype == np.uint8 else (f >> 8).astype(np.uint8)
            small.append(cv2.resize(f8, (iw, ih), interpolation=interp))
        x = torch.from_numpy(np.stack(small)).permute(0, 3, 1, 2).float() / 255.0
        depth = self.source.predict_tensor(x)[:, 0].numpy()
        return [np.ascontiguousarray(d, np.float32) for d in depth]


class SourceDepth:
    """Any :class:`viewshift.depth.DepthSource` (``estimate(rgb) -> DepthMap``), one frame at a time."""

    def __init__(self, source):
        self.source = source
        self.description = f"source:{source!r}"

    def __call__(self, frames: Sequence[np.ndarray], start: int) -> list[np.ndarray]:
        out = []
        for i, f in enumerate(frames):
            f8 = f if f.dtype == np.uint8 else (f >> 8).astype(np.uint8)
            out.append(_valid_depth(self.source.estimate(np.ascontiguousarray(f8)).depth, f"frame {start + i}"))
        return out


class FolderDepth:
    """Depth given as files, one per frame, taken in name order (``.npy``, 16-bit ``.png``, ``.pfm``).

    Args:
        folder: the folder; its first file belongs to frame 0.
        unit: ``depth`` (larger = farther, any unit, e.g. millimetres) or ``disparity`` (larger = nearer).
    """

    def __init__(self, folder: str | os.PathLike[str], *, unit: str = "depth"):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DepthError(f"depth folder {self.folder} does not exist")
        if unit not in ("depth", "disparity"):
            raise DepthError(f"depth files' unit must be 'depth' or 'disparity', got {unit!r}")
        self.unit = unit
        self.files = sorted(
            p for p in self.folder.iterdir() if p.suffix.lower() in DEPTH_FILE_EXTENSIONS and not p.name.startswith(".")
        )
        if not self.files:
            raise DepthError(f"depth folder {self.folder} holds no .npy/.png/.pfm files")
        self.description = f"folder:{self.folder.resolve()}:{unit}:{len(self.files)}"

    def check_frames(self, frames: int) -> None:
        """Refuse a folder with fewer files than the video has frames."""
        if len(self.files) < frames:
            raise DepthError(
                f"depth folder {self.folder} has {len(self.files)} files but the video has {frames} frames; "
                "give one depth file per frame"
            )

    def __call__(self, frames: Sequence[np.ndarray], start: int) -> list[np.ndarray]:
        from viewshift.io import read_depth

        out = []
        for i in range(len(frames)):
            k = start + i
            if k >= len(self.files):
                raise DepthError(f"no depth file for frame {k} in {self.folder} ({len(self.files)} files)")
            d = read_depth(self.files[k], raw=True)
            if self.unit == "disparity":
                d = np.where(d > 0, 1.0 / np.maximum(d, 1e-12), 0.0).astype(np.float32)
            out.append(_valid_depth(d, self.files[k].name))
        return out


def depth_provider(depth) -> Callable[[Sequence[np.ndarray], int], list[np.ndarray]]:
    """A provider for the ``depth`` argument of :func:`viewshift.video.convert.convert_video`.

    Args:
        depth: ``None`` (the built-in network, batched), a folder of depth files, a model spec string (a
            registry name, an ``.onnx`` or ``.pt`` file, opened by
            :func:`viewshift.depth.registry.open_depth_model` when it exists), a depth source object, or a
            provider callable (returned as it is).

    Raises:
        DepthError: a folder without depth files, an unusable spec.
    """
    if depth is None:
        from viewshift.pipeline import default_depth_source

        return NetworkDepth(default_depth_source())
    if isinstance(depth, (str, os.PathLike)):
        p = Path(depth)
        if p.is_dir():
            return FolderDepth(p)
        if p.suffix.lower() == ".pt" and p.is_file():
            from viewshift.depth.builtin import load_builtin

            return NetworkDepth(load_builtin(p))
        try:
            from viewshift.depth.registry import open_depth_model
        except ImportError:
            open_depth_model = None
        if open_depth_model is not None:
            source = open_depth_model(str(depth), download=False)
        elif p.suffix.lower() == ".onnx":
            from viewshift.depth import OnnxDepth

            source = OnnxDepth(p)
        else:
            raise DepthError(f"cannot use {depth!r} as depth: give a folder of depth files, a .pt or .onnx model")
        return _wrap(source)
    if callable(depth) and not hasattr(depth, "estimate") and not hasattr(depth, "predict_tensor"):
        if not hasattr(depth, "description"):
            depth.description = getattr(depth, "__name__", "callable")  # type: ignore[attr-defined]
        return depth
    return _wrap(depth)


def _wrap(source):
    if hasattr(source, "predict_tensor") and hasattr(source, "network_size"):
        return NetworkDepth(source)
    if hasattr(source, "estimate"):
        return SourceDepth(source)
    raise DepthError(f"cannot use a {type(source).__name__} as depth: it has no estimate(rgb) method")
