"""The ``"telea"`` and ``"ns"`` fillers: OpenCV's ``cv2.inpaint`` for colour, the background rule for depth."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from viewshift.errors import InputError
from viewshift.render.fill.background import fill_background
from viewshift.render.fill.inputs import Direction


def fill_opencv(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    *,
    algorithm: Literal["telea", "ns"] = "telea",
    radius: float = 3.0,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill colour with OpenCV's ``cv2.inpaint`` and depth with the background rule of :func:`fill_background`.

    The image is inpainted in 8 bits (three channels together, other channel counts one by one), so filled
    values are multiples of 1/255; known pixels keep their exact values. These methods are not depth-aware:
    foreground colours diffuse into disocclusion holes.

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1].
        depth: ``(B, 1, H, W)`` float depth (larger = farther), finite and > 0 at non-holes.
        holes: ``(B, 1, H, W)`` bool, True at holes.
        algorithm: ``"telea"`` (``cv2.INPAINT_TELEA``) or ``"ns"`` (``cv2.INPAINT_NS``).
        radius: inpainting neighbourhood radius in pixels (``inpaintRadius``), > 0.
        direction: parallax hint for the depth fill; see :func:`fill_background`.
        depth_tolerance: relative depth tolerance for the depth fill.

    Returns:
        ``(image, depth)``: ``(B, C, H, W)`` and ``(B, 1, H, W)``, equal to the inputs at non-holes.

    Raises:
        ShapeError, InputError, DepthError: as :func:`fill_background`; InputError for a bad radius or algorithm.
    """
    import cv2  # local import: only this method needs OpenCV

    flags = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    if algorithm not in flags:
        raise InputError(f"algorithm must be 'telea' or 'ns', got {algorithm!r}")
    if not (isinstance(radius, (int, float)) and 0 < radius < float("inf")):
        raise InputError(f"radius must be a finite number > 0 (pixels), got {radius!r}")
    _, out_depth = fill_background(image, depth, holes, direction=direction, depth_tolerance=depth_tolerance)
    pixels = torch.where(holes, torch.zeros((), dtype=image.dtype, device=image.device), image)
    # 8-bit, channels last: the input OpenCV's inpainting is made for (its float32 path gives wrong values).
    pixels_np = (pixels.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    masks = holes[:, 0].cpu().numpy().astype(np.uint8)
    result = np.empty_like(pixels_np)
    groups = [slice(0, 3)] if pixels_np.shape[-1] == 3 else [slice(c, c + 1) for c in range(pixels_np.shape[-1])]
    for b in range(pixels_np.shape[0]):
        for group in groups:
            painted = cv2.inpaint(
                np.ascontiguousarray(pixels_np[b, ..., group]), masks[b], float(radius), flags[algorithm]
            )
            result[b, ..., group] = painted.reshape(result[b, ..., group].shape)
    painted = torch.from_numpy(result).permute(0, 3, 1, 2).to(device=image.device, dtype=image.dtype) / 255
    return torch.where(holes, painted, image), out_depth
