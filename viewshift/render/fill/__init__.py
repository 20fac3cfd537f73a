"""Hole filling for forward-rendered views, behind one interface.

A forward renderer leaves *holes* where no source pixel landed: disocclusions revealed by the move (bands beside
the edges of foreground objects) and image borders that moved into view. :func:`fill_holes` fills them with one
of the :data:`FILL_METHODS`:

- ``"background"`` (:func:`fill_background`): continue the background surface from the far side of each hole,
  depth-aware, so the foreground never bleeds in: the background's boundary pixels are carried into the hole
  along the parallax direction and smoothed inside it (:func:`smooth_holes`). Vectorised, batch-friendly,
  ~linear in the number of pixels.
- ``"texture"``: the same, but continuing the background *texture* by reflecting it across the hole boundary
  (sharper; scores lower on measured right views, where a wrong texture guess costs more than a smooth one).
- ``"telea"`` / ``"ns"`` (:func:`fill_opencv`): OpenCV's ``cv2.inpaint`` (Telea's fast marching method, or
  Navier-Stokes), colour only; depth is filled by the background rule.
- ``"none"`` (:func:`fill_none`): leave the holes (callers make them transparent).

Geometry of the ``direction`` hint. With the camera centre moving by ``c`` (camera axes: x right, y down), a
point at depth ``Z`` moves in the image by ``-f c / Z``: near things move against the move more than far
things. So the background behind a foreground edge is revealed on the side the camera moved to: for a camera
moving right (the right view of a stereo pair) the hole opens on the *right* of each foreground object, with the
background on its right. ``direction = (dx, dy)`` is the image-plane direction, from a hole, in which the
background lies; it is the direction of the camera centre's move, ``(c_x, c_y)``: the x, y translation of
``src_T_tgt`` (the new camera's centre in the source frame; for a pure translation, minus that of
``tgt_T_src``). ``(1, 0)`` for a camera moving right, ``(-1, 0)`` for moving left, ``(0, 1)`` for moving down.
Rotation adds no parallax, so only the translation matters. ``tests/render/test_fill.py`` checks this on a
two-plane scene splatted in code.

Modules: :mod:`~viewshift.render.fill.inputs` (input checks, the ``direction`` hint),
:mod:`~viewshift.render.fill.background` (``"background"``, ``"texture"``), :mod:`~viewshift.render.fill.smooth`
(the ``"smooth"`` texture's boundary average and in-hole smoothing), :mod:`~viewshift.render.fill.opencv`
(``"telea"``, ``"ns"``); this one holds the registry and :func:`fill_holes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import torch

from viewshift.errors import InputError
from viewshift.render import kernels
from viewshift.render.fill.background import fill_background
from viewshift.render.fill.inputs import Direction, check_fill_inputs
from viewshift.render.fill.learned import fill_learned
from viewshift.render.fill.opencv import fill_opencv
from viewshift.render.fill.smooth import SMOOTH_AVERAGE, SMOOTH_SIGMA, smooth_holes

FillMethod = Literal["background", "texture", "telea", "ns", "none", "learned"]
"""Name of a hole-filling method; see :data:`FILL_METHODS`."""


def fill_none(image: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leave the holes: return copies of ``image (B, C, H, W)`` and ``depth (B, 1, H, W)``.

    The caller keeps ``holes`` to make those pixels transparent (e.g. alpha 0 in a PNG).
    """
    check_fill_inputs(image, depth, holes)
    return image.clone(), depth.clone()


_Filler = Callable[..., tuple[torch.Tensor, torch.Tensor]]

FILL_METHODS: dict[str, _Filler] = {
    "background": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_background(
        image, depth, holes, direction=direction, depth_tolerance=depth_tolerance
    ),
    "texture": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_background(
        image, depth, holes, direction=direction, depth_tolerance=depth_tolerance, texture="reflect"
    ),
    "telea": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_opencv(
        image, depth, holes, algorithm="telea", radius=radius, direction=direction, depth_tolerance=depth_tolerance
    ),
    "ns": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_opencv(
        image, depth, holes, algorithm="ns", radius=radius, direction=direction, depth_tolerance=depth_tolerance
    ),
    "none": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_none(image, depth, holes),
    "learned": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_learned(
        image, depth, holes, direction=direction, depth_tolerance=depth_tolerance
    ),  # the background fill refined by a small shipped network (learned.py, docs/learned.md)
}
"""The hole fillers by name, each called as ``fn(image, depth, holes, *, direction, depth_tolerance, radius)``."""

if set(FILL_METHODS) != set(get_args(FillMethod)):  # pragma: no cover - keeps the literal and registry in step
    raise RuntimeError("FillMethod and FILL_METHODS disagree")


def fill_holes(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    method: FillMethod = "background",
    *,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
    radius: float = 3.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill the holes of a forward-rendered view with one of :data:`FILL_METHODS`.

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1]; undefined at holes.
        depth: ``(B, 1, H, W)`` float depth (larger = farther), finite and > 0 at non-holes; undefined at holes.
        holes: ``(B, 1, H, W)`` bool, True where no source pixel landed (disocclusions and borders).
        method: ``"background"`` (depth-aware background continuation, the default), ``"telea"`` / ``"ns"``
            (OpenCV inpainting; depth by the background rule) or ``"none"`` (holes left as they are).
        direction: optional parallax hint ``(dx, dy)``, or a ``(2,)`` / ``(B, 2)`` tensor: the image-plane
            direction in which the background lies from a hole = the direction the camera centre moved
            (``(1, 0)`` for a camera moving right, e.g. the right view of a stereo pair). See
            :func:`fill_background`. Every method works without it.
        depth_tolerance: relative depth difference under which two pixels count as one surface.
        radius: neighbourhood radius in pixels for ``"telea"`` and ``"ns"``.

    Returns:
        ``(image, depth)``: new ``(B, C, H, W)`` and ``(B, 1, H, W)`` tensors, equal to the inputs at non-holes.

    Raises:
        InputError: an unknown method (the message lists the methods), wrong dtypes or options.
        ShapeError: shapes that do not match.
        DepthError: non-positive or non-finite depth at a non-hole pixel.

    Example:
        >>> image = torch.rand(1, 3, 4, 5); depth = torch.ones(1, 1, 4, 5)
        >>> holes = torch.zeros(1, 1, 4, 5, dtype=torch.bool); holes[..., 1:3, 2] = True
        >>> out, out_depth = fill_holes(image, depth, holes, "texture", direction=(1, 0))
        >>> bool(torch.equal(out[..., 1:3, 2], image[..., 1:3, 3]))
        True
    """
    filler = FILL_METHODS.get(method) if isinstance(method, str) else None
    if filler is None:
        raise InputError(f"unknown fill method {method!r}; choose one of {', '.join(FILL_METHODS)}")
    with kernels.torch_threads(1):  # many small operations over the hole pixels: threads only add hand-offs
        return filler(image, depth, holes, direction=direction, depth_tolerance=depth_tolerance, radius=radius)


__all__ = [
    "FILL_METHODS",
    "SMOOTH_AVERAGE",
    "SMOOTH_SIGMA",
    "Direction",
    "FillMethod",
    "fill_background",
    "fill_holes",
    "fill_none",
    "fill_opencv",
    "smooth_holes",
]
