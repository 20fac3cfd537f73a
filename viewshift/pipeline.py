"""Image + depth + camera move → the moved camera's view; stereo pairs and camera paths built on it.

The public entry point is :func:`synthesize`. Underneath, :func:`prepare_scene` turns an image, a depth source and
camera intrinsics into a :class:`Scene` (tensors ready for the renderer), and :meth:`Scene.render` renders one
moved camera, fills what the move reveals and returns a :class:`ViewResult`. Stereo pairs and videos prepare the
scene once and render it many times.

Depth and units. Translations are in the unit of the depth map. Metric depth (a depth file, a stereo pair) is used
as it is; relative depth (the built-in network, an ONNX model, ``depth_unit="relative"``) is scaled so that its
median equals ``scene_distance`` (default :data:`DEFAULT_SCENE_DISTANCE`, metres), so ``right=0.05`` means "5 cm
sideways for a scene whose typical point is 3 m away". Instead of a translation length, ``divergence`` asks for
the largest parallax the move creates, in percent of the image width (the unit of stereo tools).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
import torch

from viewshift import io as vio
from viewshift.depth.base import DepthMap, DepthSource
from viewshift.depth.checks import validate_depth
from viewshift.depth.files import FileDepth
from viewshift.depth.units import disparity_to_depth, scale_relative
from viewshift.errors import DepthError, InputError, MoveError
from viewshift.geometry import (
    DEFAULT_FOV_DEG,
    depth_to_points,
    focal_from_35mm,
    focal_from_fov,
    intrinsics,
    invert_pose,
    move_to_pose,
    project_depth,
    transfer_matrices,
)
from viewshift.render import kernels
from viewshift.render import realism as _realism
from viewshift.render.fill import FILL_METHODS, fill_holes
from viewshift.render.view import RenderSettings, render_view

DEFAULT_SCENE_DISTANCE = 3.0
"""Median distance (metres) that relative depth is scaled to when nothing else gives the scale."""

Border = Literal["fill", "crop", "leave"]
DepthUnitArg = Literal["metric", "relative", "disparity"]


# --------------------------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Move:
    """A camera move. Translations in the depth unit, angles in degrees; see
    :func:`viewshift.geometry.move_to_pose` for the axes and signs."""

    right: float = 0.0
    up: float = 0.0
    forward: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0

    def pose(self) -> np.ndarray:
        """``4×4`` float64 ``src_T_new``: maps points of the new camera's frame into the source camera's frame."""
        return move_to_pose(self.right, self.up, self.forward, self.yaw, self.pitch, self.roll)[0].numpy()

    def scaled(self, factor: float) -> Move:
        """The same move with its translation multiplied by ``factor``."""
        return replace(self, right=self.right * factor, up=self.up * factor, forward=self.forward * factor)


@dataclass(frozen=True)
class ViewOptions:
    """How a view is rendered and finished.

    Attributes:
        fill: hole filling, one of ``background``, ``telea``, ``ns``, ``none`` (holes transparent in PNG).
        realism: give filled pixels the source's noise level and blur.
        border: what to do with the strips a move brings into view at the image border: ``fill`` them like any
            hole, ``crop`` the view to the largest rectangle without them, or ``leave`` them empty (transparent).
        dilate_px: grow near surfaces over far ones before rendering (against halos along outlines).
        edge_tolerance_px: parallax difference (px) above which neighbouring pixels are an occlusion edge.
        seed: seed of the realism noise.
    """

    fill: str = "background"
    realism: bool = True
    border: Border = "fill"
    dilate_px: int = 0
    edge_tolerance_px: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.fill not in FILL_METHODS:
            raise InputError(f"unknown fill method {self.fill!r}; choose one of {', '.join(FILL_METHODS)}")
        if self.border not in ("fill", "crop", "leave"):
            raise InputError(f"unknown border mode {self.border!r}; choose fill, crop or leave")
        if self.dilate_px < 0 or self.dilate_px > 50:
            raise InputError(f"dilate must be between 0 and 50 pixels, got {self.dilate_px}")
        if not self.edge_tolerance_px > 0:
            raise InputError(f"edge tolerance must be positive, got {self.edge_tolerance_px}")


@dataclass
class ViewResult:
    """A synthesized view.

    Attributes:
        image: ``H×W×3`` (``uint8``, or ``uint16`` for 16-bit input) — or ``H×W×4`` when the input had alpha or
            holes are left transparent (``fill="none"``, ``border="leave"``).
        depth: ``H×W float32`` depth of the new view (holes filled by the background rule unless left empty,
            where it is ``inf``).
        holes: ``H×W bool``: pixels no source pixel reached (before filling).
        focal: focal length in pixels used for the new view.
        crop: ``(x0, y0, x1, y1)`` of the new view within the full frame when ``border="crop"``, else the full frame.
        border: ``H×W bool`` over the full frame: the holes connected to the image border (strips the move
            brought into view), before filling.
    """

    image: np.ndarray
    depth: np.ndarray
    holes: np.ndarray
    focal: float
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)
    border: np.ndarray | None = None


# ------------------------------------------------------------------------------------------------- the scene


@dataclass
class Scene:
    """An image with metric depth and intrinsics, ready to render from moved cameras.

    Attributes:
        image: ``(1, C, H, W)`` float in [0, 1]; ``C`` is 3, or 4 with alpha.
        depth: ``(1, 1, H, W)`` positive depth in the unit of translations.
        K: ``(1, 3, 3)`` intrinsics in pixels.
        bit_depth: 8 or 16 (the output's bit depth).
    """

    image: torch.Tensor
    depth: torch.Tensor
    K: torch.Tensor
    bit_depth: int = 8

    @functools.cached_property
    def points(self) -> torch.Tensor:
        """``(1, 3, H, W)`` the 3-D points of the source pixels (computed once)."""
        return depth_to_points(self.depth, self.K)

    @functools.cached_property
    def noise_sigma(self) -> torch.Tensor:
        """``(1, 3)`` the photo's sensor noise per colour channel (computed once; the realism step's target)."""
        return _realism.estimate_noise_sigma(self.image[:, :3], per_channel=True)

    @property
    def focal(self) -> float:
        return float(self.K[0, 0, 0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[-2]), int(self.image.shape[-1])

    def max_parallax(self, move: Move) -> float:
        """Largest image motion (px) the translation of ``move`` gives any pixel, beyond what its rotation gives."""
        T_full = invert_pose(torch.from_numpy(move.pose())[None]).float()
        T_rot = invert_pose(torch.from_numpy(replace(move, right=0.0, up=0.0, forward=0.0).pose())[None]).float()
        p_full, _ = project_depth(self.depth, self.K, T_full)
        p_rot, _ = project_depth(self.depth, self.K, T_rot)
        return float((p_full - p_rot).norm(dim=1).max())

    def check_move(self, tgt_T_src: torch.Tensor) -> None:
        """Refuse moves that put the camera inside or behind the scene (one-line :class:`MoveError`)."""
        points = self.points[..., ::4, ::4].reshape(1, 3, -1)  # a share of the scene: every 16th point will do
        z = (tgt_T_src[:, 2:3, :3].float() @ points + tgt_T_src[:, 2:3, 3:].float())[0, 0]
        behind = (z <= 1e-6).float().mean().item()
        src_T_tgt = invert_pose(tgt_T_src.double())
        forward = float(src_T_tgt[0, 2, 3])
        nearest = float(self.depth.min())
        if forward >= nearest:
            raise MoveError(
                f"the move takes the camera {forward:.3g} forward, past the nearest surface at {nearest:.3g}: "
                "the camera would be inside the scene; use a smaller --forward"
            )
        if behind > 0.5:
            raise MoveError(
                f"after this move {behind:.0%} of the scene is behind the camera; use a smaller turn or move"
            )

    def _border_holes(self, holes: torch.Tensor, src_T_new: torch.Tensor, K_new: torch.Tensor | None) -> np.ndarray:
        """``H×W bool``: holes outside the source's field of view (strips the move brought into view), as opposed
        to disocclusions. A hole pixel is a border pixel when its ray, taken at the scene's farthest depth (the
        background that fills holes), lands outside the source image."""
        K_tgt = self.K if K_new is None else K_new
        M, t = (x[0].numpy() for x in transfer_matrices(K_tgt, src_T_new, self.K))
        border = np.zeros(tuple(holes.shape[-2:]), bool)
        h, w = self.size
        hole_index = kernels.true_indices(holes[0, 0]).numpy()
        kernels.outside(hole_index, border.shape[1], M, t, float(self.depth.max()), h, w, border)
        return border

    def render(
        self,
        pose: np.ndarray | torch.Tensor,
        *,
        options: ViewOptions = ViewOptions(),
        K_new: torch.Tensor | None = None,
    ) -> ViewResult:
        """Render the camera at ``pose`` (``4×4`` ``src_T_new``) and fill what it reveals.

        Args:
            pose: ``4×4`` new camera in the source camera's frame (maps new-frame points into the source frame).
            options: see :class:`ViewOptions`.
            K_new: ``(1, 3, 3)`` intrinsics of the new camera (default: the source's).
        """
        src_T_new = torch.as_tensor(np.asarray(pose, dtype=np.float64)).reshape(1, 4, 4)
        _check_pose(src_T_new)
        tgt_T_src = invert_pose(src_T_new)
        self.check_move(tgt_T_src)
        settings = RenderSettings(edge_tolerance_px=options.edge_tolerance_px, dilate_px=options.dilate_px)
        with torch.inference_mode():
            out = render_view(self.image, self.depth, self.K, tgt_T_src.float(), K_new, settings=settings)
            holes = out.holes
            image, depth = out.image, out.depth
            border = self._border_holes(holes, src_T_new, K_new)
            if options.fill != "none" and kernels.any_true(holes):
                # Background lies from a hole in the direction the camera centre moved (see fill.py).
                centre = src_T_new[0, :2, 3].float()
                direction = tuple(centre.tolist()) if float(centre.norm()) > 0 else None
                image, depth = fill_holes(image, depth, holes, options.fill, direction=direction)
                if options.realism:  # colour only: an alpha channel keeps its filled values
                    # In place: the filled image is the filler's own new tensor.
                    rgb = _realism.match_realism(
                        image[:, :3], holes, noise_sigma=self.noise_sigma, seed=options.seed, inplace=True
                    )
                    image = torch.cat([rgb, image[:, 3:]], dim=1) if image.shape[1] > 3 else rgb
            empty = holes.clone() if options.fill == "none" else torch.zeros_like(holes)
            if options.border == "leave":
                empty |= torch.from_numpy(border)[None, None]
        return _finish(self, image, depth, holes, empty, border, options, K_new)


def _check_pose(pose: torch.Tensor) -> None:
    if not torch.isfinite(pose).all():
        raise MoveError("the pose contains NaN or inf; give a finite 4×4 matrix")
    R = pose[0, :3, :3]
    if not torch.allclose(R @ R.T, torch.eye(3, dtype=R.dtype), atol=1e-4) or float(torch.det(R)) < 0:
        raise MoveError("the pose's 3×3 block is not a rotation; give a rigid 4×4 camera pose")
    if not torch.allclose(pose[0, 3], torch.tensor([0.0, 0, 0, 1], dtype=pose.dtype)):
        raise MoveError("the pose's last row must be 0 0 0 1")


def largest_valid_rectangle(invalid: np.ndarray) -> tuple[int, int, int, int]:
    """The largest axis-aligned rectangle ``(x0, y0, x1, y1)`` (exclusive ends) holding no invalid pixel.

    Exact maximal-rectangle search (histogram + stack per row), ``O(H·W)``.

    >>> m = np.zeros((4, 6), bool); m[:, 5] = True; m[0, :] = True
    >>> largest_valid_rectangle(m)
    (0, 1, 5, 4)
    """
    h, w = invalid.shape
    heights = np.zeros(w + 1, dtype=np.int64)
    best, best_rect = 0, (0, 0, w, h)
    for y in range(h):
        heights[:w] = np.where(invalid[y], 0, heights[:w] + 1)
        # Previous/next smaller bar for every column (monotonic stack, vectorised per row via numpy is awkward).
        stack: list[int] = []
        for x in range(w + 1):
            while stack and heights[stack[-1]] >= heights[x]:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                area = int(heights[top]) * (x - left)
                if area > best:
                    best, best_rect = area, (left, y - int(heights[top]) + 1, x, y + 1)
            stack.append(x)
    return best_rect


def _crop_box(border: np.ndarray) -> tuple[int, int, int, int]:
    """Crop box avoiding border holes; the search runs on a coarse grid for large images."""
    h, w = border.shape
    step = max(1, int(math.ceil(max(h, w) / 400)))
    if step > 1:
        hb, wb = -(-h // step), -(-w // step)
        padded = np.zeros((hb * step, wb * step), bool)
        padded[:h, :w] = border
        padded[h:, :] = True
        padded[:, w:] = True
        coarse = padded.reshape(hb, step, wb, step).any(axis=(1, 3))
        x0, y0, x1, y1 = largest_valid_rectangle(coarse)
        return x0 * step, y0 * step, min(w, x1 * step), min(h, y1 * step)
    return largest_valid_rectangle(border)


def _finish(
    scene: Scene,
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    empty: torch.Tensor,
    border: np.ndarray,
    options: ViewOptions,
    K_new: torch.Tensor | None,
) -> ViewResult:
    img = image[0]
    has_alpha = img.shape[0] == 4
    any_empty = kernels.any_true(empty)
    if any_empty or has_alpha:
        alpha = img[3:] if has_alpha else torch.ones_like(img[:1])
        img = torch.cat([img[:3], alpha]).masked_fill(empty[0], 0.0)
    if any_empty:
        depth = depth.masked_fill(empty, float("inf"))
    h, w = depth.shape[-2:]
    box = (0, 0, w, h)
    if options.border == "crop" and border.any():
        box = _crop_box(border)
    x0, y0, x1, y1 = box
    out = np.empty((y1 - y0, x1 - x0, img.shape[0]), np.uint16 if scene.bit_depth == 16 else np.uint8)
    top = 65535.0 if scene.bit_depth == 16 else 255.0
    kernels.run_rows(kernels.quantise_rows, y1 - y0, kernels.as_array(img[:, y0:y1, x0:x1]), top, out)
    depth_np = depth[0, 0, y0:y1, x0:x1].numpy().astype(np.float32)
    focal = float((K_new if K_new is not None else scene.K)[0, 0, 0])
    return ViewResult(
        image=out,
        depth=depth_np,
        holes=holes[0, 0, y0:y1, x0:x1].numpy(),
        focal=focal,
        crop=box,
        border=border,
    )


# -------------------------------------------------------------------------------------------- building scenes


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


def _as_uint8(rgb: np.ndarray) -> np.ndarray:
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
        dmap = source.estimate(_as_uint8(loaded.rgb))
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


def move_for_divergence(scene: Scene, move: Move, divergence: float) -> Move:
    """Scale ``move``'s translation so its largest parallax is ``divergence`` percent of the image width."""
    if not (math.isfinite(divergence) and 0 < divergence <= 50):
        raise InputError(f"divergence must be between 0 and 50 percent, got {divergence}")
    if move.right == move.up == move.forward == 0:
        raise InputError("divergence needs a direction to move in: give --right, --up or --forward (e.g. 1)")
    current = scene.max_parallax(move)
    if current <= 0:
        raise InputError("this move creates no parallax to scale")
    return move.scaled(divergence / 100.0 * scene.size[1] / current)


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


# ------------------------------------------------------------------------------------------------ stereo pairs

StereoLayout = Literal["sbs", "half-sbs", "tb", "anaglyph", "right"]
STEREO_LAYOUTS: tuple[str, ...] = ("sbs", "half-sbs", "tb", "anaglyph", "right")
DEFAULT_DIVERGENCE = 2.5
"""Stereo divergence (percent of the image width) used when neither a baseline nor a divergence is given."""


def stereo_pair(
    scene: Scene,
    *,
    baseline: float | None = None,
    divergence: float | None = None,
    convergence: float | None = None,
    balance: float = 0.0,
    options: ViewOptions = ViewOptions(),
) -> tuple[ViewResult, ViewResult]:
    """Left and right eyes of a stereo pair from one scene.

    The eyes sit ``baseline`` apart along the x axis: the left eye moves by ``-baseline (1 - balance) / 2`` and
    the right eye by ``+baseline (1 + balance) / 2``. ``balance = 0`` splits the distortion evenly;
    ``balance = 1`` keeps the left eye the original photo (all synthesis in the right eye), ``-1`` the right.
    ``convergence`` is the depth that appears on the screen plane (zero parallax), made by shifting each eye's
    principal point (no toe-in, so no keystone); ``None`` converges at infinity (parallel cameras).

    Returns:
        ``(left, right)`` :class:`ViewResult` s, both cropped to the same box when ``options.border == "crop"``.
    """
    if baseline is not None and divergence is not None:
        raise InputError("give either a baseline or a divergence, not both")
    if not (-1.0 <= balance <= 1.0):
        raise InputError(f"balance must be between -1 and 1, got {balance}")
    if baseline is None:
        full = move_for_divergence(scene, Move(right=1.0), DEFAULT_DIVERGENCE if divergence is None else divergence)
        baseline = full.right
    if not (math.isfinite(baseline) and baseline > 0):
        raise InputError(f"baseline must be a positive number, got {baseline}")
    if convergence is not None and not (math.isfinite(convergence) and convergence > 0):
        raise InputError(f"convergence must be a positive depth, got {convergence}")
    per_eye = replace(options, border="fill") if options.border == "crop" else options
    views = []
    for shift in (-baseline * (1 - balance) / 2, baseline * (1 + balance) / 2):
        K_new = scene.K.clone()
        if convergence is not None:
            K_new[:, 0, 2] += scene.focal * shift / convergence
        views.append(scene.render(Move(right=shift).pose(), options=per_eye, K_new=K_new))
    left, right = views
    if options.border == "crop":
        both = left.border | right.border
        if both.any():
            x0, y0, x1, y1 = _crop_box(both)
            left, right = (_crop_result(v, (x0, y0, x1, y1)) for v in (left, right))
    return left, right


def _crop_result(view: ViewResult, box: tuple[int, int, int, int]) -> ViewResult:
    x0, y0, x1, y1 = box
    return replace(
        view,
        image=np.ascontiguousarray(view.image[y0:y1, x0:x1]),
        depth=view.depth[y0:y1, x0:x1],
        holes=view.holes[y0:y1, x0:x1],
        crop=box,
    )


def compose_stereo(left: np.ndarray, right: np.ndarray, layout: str) -> np.ndarray:
    """Arrange two eyes ``H×W×C`` into one image.

    Layouts: ``sbs`` (left | right, ``H×2W``), ``half-sbs`` (each eye squeezed to half width, ``H×W``), ``tb``
    (left over right, ``2H×W``), ``anaglyph`` (red-cyan: red from the left eye, green and blue from the right,
    ``H×W×3``), ``right`` (the right eye alone).

    >>> l = np.zeros((2, 4, 3), np.uint8); r = np.full((2, 4, 3), 9, np.uint8)
    >>> [compose_stereo(l, r, k).shape for k in ("sbs", "half-sbs", "tb", "anaglyph", "right")]
    [(2, 8, 3), (2, 4, 3), (4, 4, 3), (2, 4, 3), (2, 4, 3)]
    """
    if left.shape != right.shape:
        raise InputError(f"the eyes differ in size: {left.shape} and {right.shape}")
    if layout == "sbs":
        return np.concatenate([left, right], axis=1)
    if layout == "tb":
        return np.concatenate([left, right], axis=0)
    if layout == "half-sbs":
        h, w = left.shape[:2]
        half_l = cv2.resize(left, (w // 2, h), interpolation=cv2.INTER_AREA)
        half_r = cv2.resize(right, (w - w // 2, h), interpolation=cv2.INTER_AREA)
        return np.concatenate([half_l.reshape(h, w // 2, -1), half_r.reshape(h, w - w // 2, -1)], axis=1)
    if layout == "anaglyph":
        out = right[..., :3].copy()
        out[..., 0] = left[..., 0]
        return out
    if layout == "right":
        return right.copy()
    raise InputError(f"unknown stereo layout {layout!r}; choose one of {', '.join(STEREO_LAYOUTS)}")


# ------------------------------------------------------------------------------------------------ camera paths

PATHS: tuple[str, ...] = ("swing", "circle", "dolly-zoom", "zoom-in")
PathKind = Literal["swing", "circle", "dolly-zoom", "zoom-in"]
DEFAULT_AMPLITUDE = {"swing": 0.02, "circle": 0.02, "zoom-in": 0.15, "dolly-zoom": 0.3}
"""Default path amplitude as a fraction of the scene's median depth."""


def camera_path(
    scene: Scene, kind: str, frames: int, amplitude: float | None = None
) -> list[tuple[Move, torch.Tensor]]:
    """Camera moves and intrinsics of a short parallax clip.

    ``swing``: sideways ``right = A sin(2πk/N)``; ``circle``: ``right = A cos θ - A``, ``up = A sin θ`` (a circle
    through the original viewpoint); ``zoom-in``: forward from 0 to ``A`` with ease-in-out; ``dolly-zoom``:
    forward from 0 to ``A`` while the focal length shrinks as ``f (Z_m - d) / Z_m`` so the subject at the median
    depth ``Z_m`` keeps its size and the background appears to stretch away.

    Args:
        scene: the scene.
        kind: one of :data:`PATHS`.
        frames: number of frames N (2..2000).
        amplitude: fraction of the median depth (default :data:`DEFAULT_AMPLITUDE`).

    Returns:
        ``N`` pairs ``(move, K_new (1, 3, 3))``.
    """
    if kind not in PATHS:
        raise InputError(f"unknown path {kind!r}; choose one of {', '.join(PATHS)}")
    if not 2 <= frames <= 2000:
        raise InputError(f"frames must be between 2 and 2000, got {frames}")
    frac = DEFAULT_AMPLITUDE[kind] if amplitude is None else amplitude
    if not (math.isfinite(frac) and 0 < frac <= 1):
        raise InputError(f"amplitude must be a fraction of the scene depth in (0, 1], got {frac}")
    median = float(scene.depth.median())
    A = frac * median
    if kind in ("zoom-in", "dolly-zoom"):
        A = min(A, 0.8 * float(scene.depth.min()))  # never reach the nearest surface
    out = []
    for k in range(frames):
        theta = 2 * math.pi * k / frames
        K_new = scene.K.clone()
        if kind == "swing":
            move = Move(right=A * math.sin(theta))
        elif kind == "circle":
            move = Move(right=A * (math.cos(theta) - 1), up=A * math.sin(theta))
        else:
            ease = 0.5 - 0.5 * math.cos(math.pi * k / (frames - 1))
            move = Move(forward=A * ease)
            if kind == "dolly-zoom":
                K_new[:, :2, :2] *= (median - A * ease) / median
        out.append((move, K_new))
    return out


def render_path(
    scene: Scene,
    kind: str,
    *,
    frames: int = 48,
    amplitude: float | None = None,
    options: ViewOptions = ViewOptions(),
    progress: bool = False,
) -> list[np.ndarray]:
    """Render every frame of :func:`camera_path`; returns ``H×W×3`` frames (8-bit for video)."""
    from tqdm import tqdm

    path = camera_path(scene, kind, frames, amplitude)
    out = []
    for move, K_new in tqdm(path, desc=f"{kind} frames", unit="frame", disable=not progress):
        view = scene.render(move.pose(), options=replace(options, border="fill"), K_new=K_new)
        out.append(_as_uint8(view.image[..., :3]))
    return out
