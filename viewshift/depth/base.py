"""The one interface every depth source implements, and the depth map it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from viewshift.errors import DepthError

__all__ = ["DepthMap", "DepthSource", "DepthUnit"]

#: ``"metric"``: depth in a physical unit (the unit of the baseline or of the file, usually metres).
#: ``"relative"``: depth known only up to one unknown positive scale factor (shape right, size unknown);
#: multiply by a scene distance (:func:`viewshift.depth.scale_relative`) to use it metrically.
DepthUnit = Literal["metric", "relative"]


@dataclass
class DepthMap:
    """Depth along the camera's z axis for every pixel of an image.

    Attributes:
        depth: ``H×W float32``, positive and finite, larger = farther.
        unit: ``"metric"`` or ``"relative"`` (see :data:`DepthUnit`).
    """

    depth: np.ndarray
    unit: DepthUnit

    def __post_init__(self) -> None:
        self.depth = np.asarray(self.depth, dtype=np.float32)
        if self.depth.ndim != 2:
            raise DepthError(f"DepthMap.depth must be H×W, got shape {self.depth.shape}")
        if self.unit not in ("metric", "relative"):
            raise DepthError(f"DepthMap.unit must be 'metric' or 'relative', got {self.unit!r}")


@runtime_checkable
class DepthSource(Protocol):
    """Anything that turns an image into depth: a file, a stereo pair, an ONNX network, the built-in network."""

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Depth for one image.

        Args:
            rgb: ``H×W×3 uint8`` RGB image.

        Returns:
            A :class:`DepthMap` of the same ``H×W``.
        """
        ...
