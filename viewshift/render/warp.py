"""Inverse warping: sample a source image at the places a target view's pixels come from.

* :func:`inverse_warp` — differentiable bilinear sampling through ``grid_sample`` with a validity mask
  (:func:`in_view`); the photometric loss of training uses it. The renderer's compiled trace
  (:mod:`viewshift.render.kernels`) samples through the same projection, surface-consistently and not
  differentiably (:mod:`viewshift.render.view`).
* :func:`outside_source` — which pixels of a target view see, at a given depth, nothing of the source image
  (the :func:`in_view` test, compiled, over the hole pixels only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from viewshift.geometry import (
    MIN_DEPTH,
    check_same_batch,
    check_shape,
    pixels_to_grid,
    project_depth,
    transfer_matrices,
)
from viewshift.render import kernels


def inverse_warp(
    src_image: torch.Tensor,
    tgt_depth: torch.Tensor,
    K_tgt: torch.Tensor,
    src_T_tgt: torch.Tensor,
    K_src: torch.Tensor | None = None,
    *,
    padding_mode: str = "zeros",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Render the target view by sampling the source image where each target pixel's 3-D point projects.

    Args:
        src_image: ``(B, C, H_s, W_s)`` source image.
        tgt_depth: ``(B, 1, H, W)`` depth of the target view.
        K_tgt: ``(B, 3, 3)`` target intrinsics.
        src_T_tgt: ``(B, 4, 4)`` maps target-frame points into the source frame.
        K_src: ``(B, 3, 3)`` source intrinsics (default ``K_tgt``).
        padding_mode: ``grid_sample`` padding for out-of-view samples.

    Returns:
        ``warped`` ``(B, C, H, W)`` and ``valid`` ``(B, 1, H, W)`` bool: the point lies in front of the source
        camera and projects inside the source image.

    With identity motion the source comes back unchanged:

    >>> from viewshift.geometry import intrinsics
    >>> img = torch.rand(1, 3, 4, 5)
    >>> out, ok = inverse_warp(img, torch.ones(1, 1, 4, 5), intrinsics(10.0, 4, 5), torch.eye(4)[None])
    >>> bool(torch.allclose(out, img, atol=1e-5)), bool(ok.all())
    (True, True)
    """
    check_shape(src_image, "B,C,H,W", "src_image")
    check_same_batch(src_image, tgt_depth, K_tgt, src_T_tgt)
    pixels, z = project_depth(tgt_depth, K_tgt, src_T_tgt, K_src)
    h, w = src_image.shape[-2:]
    warped = F.grid_sample(
        src_image,
        pixels_to_grid(pixels, h, w),
        mode="bilinear",
        padding_mode=padding_mode,
        align_corners=False,
    )
    return warped, in_view(pixels, z, h, w)


def in_view(pixels: torch.Tensor, z: torch.Tensor, height: int, width: int, eps: float = MIN_DEPTH) -> torch.Tensor:
    """``(B, 1, H', W')`` bool: in front of the camera (``z > eps``) and inside the image's area
    ``[-0.5, W - 0.5] × [-0.5, H - 0.5]``.

    Args:
        pixels: ``(B, 2, H', W')``.
        z: ``(B, 1, H', W')``.
    """
    u, v = pixels[:, :1], pixels[:, 1:]
    return (z > eps) & (u >= -0.5) & (u <= width - 0.5) & (v >= -0.5) & (v <= height - 0.5)


def outside_source(
    holes: torch.Tensor,
    depth: float,
    K_tgt: torch.Tensor,
    src_T_tgt: torch.Tensor,
    K_src: torch.Tensor,
    size: tuple[int, int],
) -> torch.Tensor:
    """The hole pixels of a target view whose ray, taken at ``depth``, is not in view of the source camera.

    ``in_view(project_depth(depth, K_tgt, src_T_tgt, K_src), size)`` negated, at the hole pixels only, compiled:
    the work is proportional to the number of holes. With ``depth`` the scene's farthest depth it tells the strips
    a move brought into view (image borders) from disocclusions.

    Args:
        holes: ``(B, 1, H, W)`` bool target pixels to test.
        depth: the depth (in the target camera, unit of the poses) at which each ray is taken.
        K_tgt: ``(B, 3, 3)`` target intrinsics.
        src_T_tgt: ``(B, 4, 4)`` maps target-frame points into the source frame.
        K_src: ``(B, 3, 3)`` source intrinsics.
        size: source image ``(H_s, W_s)``.

    Returns:
        ``(B, 1, H, W)`` bool, True at the hole pixels whose ray lands behind the source camera or outside its
        image; False elsewhere.

    >>> from viewshift.geometry import intrinsics, move_to_pose
    >>> holes = torch.ones(1, 1, 1, 4, dtype=torch.bool)
    >>> outside_source(holes, 2.0, intrinsics(4.0, 1, 4), move_to_pose(right=1.0), intrinsics(4.0, 1, 4), (1, 4))
    tensor([[[[False, False,  True,  True]]]])
    """
    check_shape(holes, "B,1,H,W", "holes")
    check_same_batch(holes, K_tgt, src_T_tgt, K_src)
    M, t = (x.cpu().numpy() for x in transfer_matrices(K_tgt, src_T_tgt, K_src))
    out = torch.zeros(holes.shape, dtype=torch.bool)
    for i in range(holes.shape[0]):
        hole_index = kernels.true_indices(holes[i, 0]).numpy()
        kernels.outside(hole_index, holes.shape[-1], M[i], t[i], float(depth), size[0], size[1], out[i, 0].numpy())
    return out
