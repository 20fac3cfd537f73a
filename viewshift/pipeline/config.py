"""What a view is asked for and what comes back: the camera :class:`Move`, :class:`ViewOptions`, :class:`ViewResult`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from viewshift.errors import InputError
from viewshift.geometry import move_to_pose
from viewshift.render.fill import FILL_METHODS

__all__ = ["Border", "DepthUnitArg", "Move", "ViewOptions", "ViewResult"]


Border = Literal["fill", "crop", "leave"]
DepthUnitArg = Literal["metric", "relative", "disparity"]


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
