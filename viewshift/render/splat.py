"""Forward splatting: rasterise every source pixel into the target camera with a z-buffer (nearer wins).

Split as PyTorch3D splits its point renderer: :func:`rasterize_depth` turns the source depth, moved into the
target camera, into a target depth buffer (the "fragments"); compositing colours is left to the caller — the
renderer (:func:`viewshift.render.view.render_view`) inverse-warps colours through that depth, and
:func:`splat_nearest` composites colours directly (the integer forward-shift baseline).
"""

from __future__ import annotations

import torch

from viewshift.geometry import check_same_batch, check_shape, transfer_matrices
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
    depth: torch.Tensor,
    K_src: torch.Tensor,
    tgt_T_src: torch.Tensor,
    K_tgt: torch.Tensor | None = None,
    *,
    size: tuple[int, int] | None = None,
    footprint: int = 2,
) -> torch.Tensor:
    """Z-buffer of a source depth map seen from a target camera: the nearest depth reaching each target pixel.

    Every source pixel is moved into the target camera by :func:`viewshift.geometry.transfer_matrices` (the
    projection of :func:`viewshift.geometry.project_depth`) and covers the ``footprint × footprint`` pixels around
    its sub-pixel position (``footprint = 2``: the four pixels whose centres surround it; 1: the nearest pixel),
    so a continuous surface stretched by up to ``footprint`` pixels per source pixel leaves no cracks, while a
    disocclusion wider than that stays empty. Points at target depth ``<= 0`` or NaN (a source depth of NaN) are
    dropped. Compiled, bands of source rows on threads (:func:`viewshift.render.kernels.splat_depth`).

    Args:
        depth: ``(B, 1, H, W)`` float32 source z-depth.
        K_src: ``(B, 3, 3)`` source intrinsics.
        tgt_T_src: ``(B, 4, 4)`` maps source-frame points into the target frame.
        K_tgt: ``(B, 3, 3)`` target intrinsics (default ``K_src``).
        size: target ``(H_t, W_t)`` (default the source size).
        footprint: 1 or more pixels.

    Returns:
        ``(B, 1, H_t, W_t)`` float32 target depth, ``inf`` where no point landed.

    A plane at depth 2 seen with ``f = 4`` by a camera moved 0.375 to the right shifts by 0.75 px to the left: with
    ``footprint=1`` each point lands on its nearest pixel and the last column stays empty; a 2×2 footprint covers it.

    >>> from viewshift.geometry import intrinsics, invert_pose, move_to_pose
    >>> K, tgt_T_src = intrinsics(4.0, 1, 4), invert_pose(move_to_pose(right=0.375))
    >>> rasterize_depth(torch.full((1, 1, 1, 4), 2.0), K, tgt_T_src, footprint=1)[0, 0, 0].tolist()
    [2.0, 2.0, 2.0, inf]
    >>> rasterize_depth(torch.full((1, 1, 1, 4), 2.0), K, tgt_T_src)[0, 0, 0].tolist()
    [2.0, 2.0, 2.0, 2.0]
    """
    check_shape(depth, "B,1,H,W", "depth")
    check_same_batch(depth, K_src, tgt_T_src)
    K_tgt = K_src if K_tgt is None else K_tgt
    ht, wt = size if size is not None else tuple(depth.shape[-2:])
    M, t = (x.cpu().numpy() for x in transfer_matrices(K_src, tgt_T_src, K_tgt))
    buffers = [
        torch.from_numpy(kernels.splat_depth(kernels.as_array(depth[i, 0]), M[i], t[i], (ht, wt), footprint))
        for i in range(depth.shape[0])
    ]
    return torch.stack(buffers)[:, None]


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
    # A point wins its pixel when its depth equals the buffer's minimum there (ties: the last write wins); dropped
    # points (behind the camera, depth set to inf) win nothing, so empty pixels stay zero.
    winner = (flat < height * width) & (zz <= buffer.gather(1, flat)) & (zz < float("inf"))
    out = torch.zeros(b, c, height * width + 1, dtype=image.dtype, device=image.device)
    target = torch.where(winner, flat, torch.full_like(flat, height * width)).unsqueeze(1).expand(b, c, -1)
    out.scatter_(2, target, image.reshape(b, c, -1))
    holes = torch.isinf(buffer[:, :-1]).reshape(b, 1, height, width)
    return out[:, :, :-1].reshape(b, c, height, width), holes
