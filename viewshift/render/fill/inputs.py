"""The fillers' shared input checks and the parallax hint ``direction`` (see :mod:`viewshift.render.fill`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from viewshift.errors import DepthError, InputError, ShapeError

Direction = tuple[float, float] | Sequence[float] | torch.Tensor
"""A parallax hint ``(dx, dy)``, or a tensor ``(2,)`` or ``(B, 2)`` with one hint per batch item."""


def check_fill_inputs(image: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor) -> None:
    """Raise a typed error unless ``image (B, C, H, W)``, ``depth (B, 1, H, W)``, ``holes (B, 1, H, W)`` agree."""
    for name, value in (("image", image), ("depth", depth), ("holes", holes)):
        if not isinstance(value, torch.Tensor):
            raise InputError(
                f"{name} must be a torch.Tensor, got {type(value).__name__}; convert it with torch.from_numpy"
            )
    if image.ndim != 4 or image.shape[1] < 1:
        raise ShapeError(
            f"image must have shape (B, C, H, W), got {tuple(image.shape)}; add a batch axis with image[None]"
        )
    b, _, h, w = image.shape
    if depth.shape != (b, 1, h, w):
        raise ShapeError(f"depth must have shape {(b, 1, h, w)} to match image, got {tuple(depth.shape)}")
    if holes.shape != (b, 1, h, w):
        raise ShapeError(f"holes must have shape {(b, 1, h, w)} to match image, got {tuple(holes.shape)}")
    if not image.is_floating_point():
        raise InputError(f"image must be a floating tensor in [0, 1], got {image.dtype}; divide uint8 images by 255")
    if not depth.is_floating_point():
        raise InputError(f"depth must be a floating tensor, got {depth.dtype}")
    if holes.dtype != torch.bool:
        raise InputError(f"holes must be a bool tensor (True = no source pixel), got {holes.dtype}; use holes > 0.5")
    if b == 0 or h == 0 or w == 0:
        raise ShapeError(f"image is empty: shape {tuple(image.shape)}")
    if not (image.device == depth.device == holes.device):
        raise InputError("image, depth and holes must be on the same device")
    # Depth must be positive and finite where it is defined (a NaN fails both comparisons).
    low, high = torch.aminmax(depth.masked_fill(holes, 1.0))  # NaN propagates and fails the test
    if not bool((low > 0) & (high < float("inf"))):
        raise DepthError("depth must be finite and > 0 at every non-hole pixel (larger = farther)")


def direction_priors(direction: Direction | None, batch: int, device: torch.device) -> torch.Tensor:
    """Prior weight of each candidate side (left, right, up, down) from the parallax hint.

    Args:
        direction: ``None``, a pair ``(dx, dy)``, or a tensor ``(2,)`` / ``(B, 2)``.
        batch: batch size ``B``.
        device: device of the result.

    Returns:
        ``(B, 4)`` float64 priors ``max(-u_x, 0), max(u_x, 0), max(-u_y, 0), max(u_y, 0)`` with ``u`` the unit
        hint, so only the sides the hint points to are preferred; all ones without a hint (or for a zero hint).
    """
    if direction is None:
        return torch.ones(batch, 4, dtype=torch.float64, device=device)
    try:
        hint = torch.as_tensor(direction, dtype=torch.float64, device=device)
    except (TypeError, ValueError, RuntimeError) as error:
        raise InputError(f"direction must be (dx, dy) or a tensor (B, 2), got {direction!r}") from error
    if hint.shape == (2,):
        hint = hint.expand(batch, 2)
    if hint.shape != (batch, 2):
        raise ShapeError(f"direction must be (dx, dy) or a tensor of shape ({batch}, 2), got shape {tuple(hint.shape)}")
    if not bool(torch.isfinite(hint).all()):
        raise InputError("direction must be finite")
    norm = hint.norm(dim=1, keepdim=True)
    unit = torch.where(norm > 0, hint / norm.clamp_min(1e-300), torch.zeros_like(hint))
    priors = torch.stack([-unit[:, 0], unit[:, 0], -unit[:, 1], unit[:, 1]], dim=1).clamp_min(0)
    return torch.where(norm > 0, priors, torch.ones_like(priors))


def check_tolerance(depth_tolerance: float) -> None:
    if not (isinstance(depth_tolerance, (int, float)) and 0 <= depth_tolerance < float("inf")):
        raise InputError(f"depth_tolerance must be a finite number >= 0, got {depth_tolerance!r}")
