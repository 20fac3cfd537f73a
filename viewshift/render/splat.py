"""Forward splatting: rasterise every source pixel into the target camera with a z-buffer (nearer wins).

Split as PyTorch3D splits its point renderer: :func:`rasterize_depth` turns projected points into a target depth
buffer (the "fragments"), and compositing colours is left to the caller — the renderer in :mod:`viewshift.render.view`
inverse-warps colours through that depth, and :func:`splat_nearest` composites colours directly (the integer
forward-shift baseline).
"""

from __future__ import annotations

import torch

from viewshift.geometry import check_shape
from viewshift.render import kernels


def _scatter_min(
    buffer: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    z: torch.Tensor,
    height: int,
    width: int,
) -> torch.Tensor:
    """Write ``min(buffer, z)`` at integer pixels ``(u, v)`` ``(B, N)`` (int32) into ``buffer``
    ``(B, H*W + 1)``, whose last slot absorbs points outside the image. Returns the ``(B, N)`` flat index used."""
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    flat = (v * width + u).masked_fill_(~inside, height * width).long()
    buffer.scatter_reduce_(1, flat, z, reduce="amin")
    return flat


def rasterize_depth(
    pixels: torch.Tensor, z: torch.Tensor, height: int, width: int, *, footprint: int = 2
) -> torch.Tensor:
    """Z-buffer of projected points: the nearest depth reaching each target pixel.

    Each point covers the ``footprint × footprint`` pixels around its sub-pixel position (``footprint = 2``: the
    four pixels whose centres surround it), so a continuous surface stretched by up to ``footprint`` pixels per
    source pixel leaves no cracks, while a disocclusion wider than that stays empty.

    Args:
        pixels: ``(B, 2, H_s, W_s)`` target coordinates of the source pixels.
        z: ``(B, 1, H_s, W_s)`` their depth in the target camera; points with ``z <= 0`` are dropped.
        height: target H.
        width: target W.
        footprint: 1 (nearest pixel) or more.

    Returns:
        ``(B, 1, H, W)`` depth, ``inf`` where no point landed.
    """
    check_shape(pixels, "B,2,H,W", "pixels")
    check_shape(z, "B,1,H,W", "z")
    b = z.shape[0]
    buffer = torch.full((b, 1, height, width), float("inf"), dtype=z.dtype)
    for i in range(b):
        u, v = kernels.as_array(pixels[i, 0]).ravel(), kernels.as_array(pixels[i, 1]).ravel()
        kernels.zbuffer(u, v, kernels.as_array(z[i, 0]).ravel(), buffer[i, 0].numpy(), footprint)
    return buffer


def splat_nearest(
    image: torch.Tensor, pixels: torch.Tensor, z: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward-splat colours to the nearest target pixel with a z-buffer; no sub-pixel accuracy, no crack filling.

    Args:
        image: ``(B, C, H_s, W_s)`` source colours.
        pixels: ``(B, 2, H_s, W_s)`` target coordinates of the source pixels.
        z: ``(B, 1, H_s, W_s)`` their target depth.

    Returns:
        ``(B, C, H, W)`` image (zero where empty) and ``(B, 1, H, W)`` bool holes.
    """
    check_shape(image, "B,C,H,W", "image")
    b, c = image.shape[:2]
    limit = float(4 * max(height, width))
    u = pixels[:, 0].reshape(b, -1).clamp(-limit, limit).round().int()
    v = pixels[:, 1].reshape(b, -1).clamp(-limit, limit).round().int()
    zz = z.reshape(b, -1)
    zz = zz.masked_fill(~(zz > 0), float("inf"))
    buffer = torch.full((b, height * width + 1), float("inf"), dtype=z.dtype, device=z.device)
    flat = _scatter_min(buffer, u, v, zz, height, width)
    # A point wins its pixel when its depth equals the buffer's minimum there (ties: the last write wins).
    winner = (flat < height * width) & (zz <= buffer.gather(1, flat))
    out = torch.zeros(b, c, height * width + 1, dtype=image.dtype, device=image.device)
    target = torch.where(winner, flat, torch.full_like(flat, height * width)).unsqueeze(1).expand(b, c, -1)
    out.scatter_(2, target, image.reshape(b, c, -1))
    holes = torch.isinf(buffer[:, :-1]).reshape(b, 1, height, width)
    return out[:, :, :-1].reshape(b, c, height, width), holes
