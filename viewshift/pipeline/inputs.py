"""From what a caller gives (a path or an array, a depth file, array or source, a focal length or field of view) to a
:class:`~viewshift.pipeline.scene.Scene`.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from viewshift import io as vio
from viewshift.depth.base import DepthMap, DepthSource
from viewshift.depth.checks import validate_depth
from viewshift.depth.files import FileDepth
from viewshift.depth.units import disparity_to_depth, scale_relative
from viewshift.errors import DepthError, InputError
from viewshift.geometry import DEFAULT_FOV_DEG, focal_from_35mm, focal_from_fov, intrinsics
from viewshift.pipeline.config import DepthUnitArg
from viewshift.pipeline.scene import Scene

__all__ = [
    "DEFAULT_SCENE_DISTANCE",
    "as_uint8",
    "default_depth_source",
    "get_depth",
    "load_image",
    "prepare_scene",
    "resolve_focal",
    "scene_from",
]


DEFAULT_SCENE_DISTANCE = 3.0
"""Median distance (metres) that relative depth is scaled to when nothing else gives the scale."""


def resolve_focal(
    width: int, height: int, *, focal: float | None = None, fov: float | None = None, focal_35mm: float | None = None
) -> float:
    """Focal length in pixels: ``focal`` if given, else from ``fov`` (horizontal degrees), else from the EXIF
    35 mm-equivalent focal length, else from :data:`~viewshift.geometry.DEFAULT_FOV_DEG`."""
    if focal is not None and fov is not None:
        raise InputError("give either focal or fov, not both")
    if focal is not None:
        if not (math.isfinite(focal) and focal > 0):
            raise InputError(f"focal must be a positive number of pixels, got {focal}")
        return float(focal)
    if fov is not None:
        if not (math.isfinite(fov) and 1.0 <= fov <= 170.0):
            raise InputError(f"fov must be between 1 and 170 degrees, got {fov}")
        return focal_from_fov(fov, width)
    if focal_35mm is not None and focal_35mm > 0:
        return focal_from_35mm(focal_35mm, width, height)
    return focal_from_fov(DEFAULT_FOV_DEG, width)


def default_depth_source() -> DepthSource:
    """The built-in depth network, or a :class:`DepthError` saying how to give depth when it is unavailable."""
    try:
        from viewshift.depth.builtin import load_builtin
    except ImportError:
        raise DepthError(
            "no depth given and the built-in depth model is not installed; give --depth FILE, "
            "--depth-model MODEL.onnx or --stereo-right IMAGE"
        ) from None
    return load_builtin()


def load_image(image: np.ndarray | str | os.PathLike[str], *, max_pixels: int = 100_000_000) -> vio.LoadedImage:
    """A path or an array as a :class:`~viewshift.io.LoadedImage` (arrays: ``H×W×3``/``H×W×4``/``H×W``, 8 or 16 bit)."""
    if isinstance(image, (str, os.PathLike)):
        return vio.read_image(image, max_pixels=max_pixels)
    a = np.asarray(image)
    if a.dtype not in (np.uint8, np.uint16):
        raise InputError(f"image must be a uint8 or uint16 array, got {a.dtype}; scale floats to 0..255 first")
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 2:
        raise InputError(f"image must be H×W×3 (or ×4 with alpha), got shape {a.shape}")
    if a.shape[0] * a.shape[1] > max_pixels:
        raise InputError(f"image has {a.shape[0] * a.shape[1]} pixels, more than the limit {max_pixels}")
    alpha = a[..., 3] if a.shape[2] == 4 else None
    return vio.LoadedImage(
        rgb=np.ascontiguousarray(a[..., :3]),
        alpha=alpha,
        bit_depth=16 if a.dtype == np.uint16 else 8,
        path=None,
        focal_35mm=None,
    )


def as_uint8(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as ``uint8`` (16-bit samples rounded to 8 bits)."""
    return rgb if rgb.dtype == np.uint8 else vio.from_float(vio.to_float(rgb), 8)


def get_depth(
    loaded: vio.LoadedImage,
    depth: np.ndarray | str | os.PathLike[str] | DepthSource | DepthMap | None,
    *,
    focal: float,
    depth_unit: DepthUnitArg | None = None,
    depth_baseline: float | None = None,
    scene_distance: float | None = None,
) -> np.ndarray:
    """Depth for an image, in the unit of translations (``H×W float32``).

    Args:
        loaded: the image.
        depth: an ``H×W`` array, a depth file, a :class:`DepthSource`, a :class:`DepthMap`, or ``None`` for the
            built-in network.
        focal: focal length (px), needed for disparity.
        depth_unit: unit of an array or file: ``metric`` (default for arrays and files), ``relative`` or
            ``disparity`` (needs ``depth_baseline``).
        depth_baseline: stereo baseline for disparity.
        scene_distance: median distance that relative depth is scaled to (default
            :data:`DEFAULT_SCENE_DISTANCE`); given with metric depth it rescales that too.
    """
    h, w = loaded.rgb.shape[:2]
    unit = depth_unit or "metric"
    if isinstance(depth, (str, os.PathLike)):
        source: DepthSource | None = FileDepth(depth, unit=unit, focal=focal, baseline=depth_baseline)
    elif isinstance(depth, np.ndarray):
        source = None
        arr = validate_depth(np.asarray(depth, dtype=np.float32), (h, w))
        if unit == "disparity":
            if depth_baseline is None:
                raise DepthError("disparity needs a baseline (--depth-baseline) to become depth")
            arr = disparity_to_depth(arr, focal, depth_baseline)
            unit = "metric"
        dmap = DepthMap(arr, "relative" if unit == "relative" else "metric")
    elif isinstance(depth, DepthMap):
        source, dmap = None, depth
    elif depth is None:
        source = default_depth_source()
    elif hasattr(depth, "estimate"):
        source = depth
    else:
        raise DepthError(f"depth must be an array, a file path or a depth source, got {type(depth).__name__}")
    if source is not None:
        dmap = source.estimate(as_uint8(loaded.rgb))
    arr = validate_depth(dmap.depth, (h, w))
    if dmap.unit == "relative":
        arr = scale_relative(arr, DEFAULT_SCENE_DISTANCE if scene_distance is None else scene_distance)
    elif scene_distance is not None:
        arr = scale_relative(arr, scene_distance)
    return arr


def prepare_scene(
    image: np.ndarray | str | os.PathLike[str],
    *,
    depth: np.ndarray | str | os.PathLike[str] | DepthSource | DepthMap | None = None,
    focal: float | None = None,
    fov: float | None = None,
    depth_unit: DepthUnitArg | None = None,
    depth_baseline: float | None = None,
    scene_distance: float | None = None,
    max_pixels: int = 100_000_000,
) -> Scene:
    """Load an image, get its depth and intrinsics, and return a :class:`Scene` to render."""
    loaded = load_image(image, max_pixels=max_pixels)
    h, w = loaded.rgb.shape[:2]
    f = resolve_focal(w, h, focal=focal, fov=fov, focal_35mm=loaded.focal_35mm)
    depth_np = get_depth(
        loaded, depth, focal=f, depth_unit=depth_unit, depth_baseline=depth_baseline, scene_distance=scene_distance
    )
    return scene_from(loaded, depth_np, f)


def scene_from(loaded: vio.LoadedImage, depth: np.ndarray, focal: float) -> Scene:
    """A :class:`Scene` from a loaded image, its ``H×W`` depth (translation units) and focal length (px)."""
    h, w = loaded.rgb.shape[:2]
    rgb = vio.to_float(loaded.rgb)
    if loaded.alpha is not None:
        rgb = np.concatenate([rgb, vio.to_float(loaded.alpha[..., None])], axis=2)
    return Scene(
        image=torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float(),
        depth=torch.from_numpy(validate_depth(depth, (h, w)))[None, None].float(),
        K=intrinsics(focal, h, w),
        bit_depth=loaded.bit_depth,
    )
