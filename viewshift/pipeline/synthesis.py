"""The one-call API: a photo and a camera move in, the moved camera's view out (:func:`synthesize`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from viewshift.depth.base import DepthMap, DepthSource
from viewshift.errors import InputError, MoveError
from viewshift.pipeline.config import Border, DepthUnitArg, Move, ViewOptions, ViewResult
from viewshift.pipeline.inputs import prepare_scene
from viewshift.pipeline.scene import move_for_divergence

__all__ = ["synthesize"]


def synthesize(
    image: np.ndarray | str | os.PathLike[str],
    *,
    depth: np.ndarray | str | os.PathLike[str] | DepthSource | DepthMap | None = None,
    focal: float | None = None,
    fov: float | None = None,
    right: float = 0.0,
    up: float = 0.0,
    forward: float = 0.0,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    pose: np.ndarray | Sequence[Sequence[float]] | None = None,
    fill: str = "background",
    realism: bool = True,
    border: Border = "fill",
    dilate: int = 0,
    depth_unit: DepthUnitArg | None = None,
    depth_baseline: float | None = None,
    scene_distance: float | None = None,
    divergence: float | None = None,
    seed: int = 0,
    max_pixels: int = 100_000_000,
) -> ViewResult:
    """The view of a moved camera from one photo.

    Args:
        image: ``H×W×3`` uint8 (or uint16, ``H×W``, ``H×W×4``) array, or an image path.
        depth: ``H×W`` depth (larger = farther, in the unit of the translation), a depth file, a depth source, or
            ``None`` for the built-in depth network.
        focal: focal length in pixels; or ``fov``: horizontal field of view in degrees; neither: EXIF, else 60°.
        right, up, forward: camera translation (depth units).
        yaw, pitch, roll: camera rotation in degrees (see :func:`viewshift.geometry.move_to_pose`).
        pose: instead of the six move arguments, a ``4×4`` matrix giving the new camera in the source camera's
            frame (OpenCV axes; maps points of the new camera's frame into the source camera's frame).
        fill: ``background`` | ``telea`` | ``ns`` | ``none``.
        realism: match the noise and blur of filled pixels to their surroundings.
        border: ``fill`` | ``crop`` | ``leave``.
        dilate: pixels to grow near surfaces by before rendering (against halos).
        depth_unit: unit of an array or file: ``metric`` | ``relative`` | ``disparity``.
        depth_baseline: baseline of a disparity map.
        scene_distance: median distance relative depth is scaled to.
        divergence: scale the translation so the largest parallax is this percent of the image width.
        seed: seed for the realism noise.
        max_pixels: refuse larger images.

    Returns:
        :class:`ViewResult`.
    """
    scene = prepare_scene(
        image,
        depth=depth,
        focal=focal,
        fov=fov,
        depth_unit=depth_unit,
        depth_baseline=depth_baseline,
        scene_distance=scene_distance,
        max_pixels=max_pixels,
    )
    options = ViewOptions(fill=fill, realism=realism, border=border, dilate_px=dilate, seed=seed)
    if pose is not None:
        if any((right, up, forward, yaw, pitch, roll)):
            raise InputError("give either pose or the move arguments (right, up, forward, yaw, pitch, roll), not both")
        pose_np = np.asarray(pose, dtype=np.float64)
        if pose_np.shape != (4, 4):
            raise MoveError(f"pose must be a 4×4 matrix, got shape {pose_np.shape}")
        if divergence is not None:
            raise InputError("divergence scales a move; it cannot be combined with pose")
        return scene.render(pose_np, options=options)
    move = Move(right, up, forward, yaw, pitch, roll)
    if divergence is not None:
        move = move_for_divergence(scene, move, divergence)
    return scene.render(move.pose(), options=options)
