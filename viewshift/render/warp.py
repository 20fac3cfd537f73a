"""Inverse warping: sample a source image at the places a target view's pixels come from.

Two samplers share one geometry:

* :func:`inverse_warp` — differentiable bilinear sampling through ``grid_sample`` with a validity mask; the
  photometric loss of training uses it.
* :func:`sample_consistent` — bilinear sampling that only mixes neighbours whose depth agrees with the expected
  depth, so nothing is smeared across an occlusion edge; the renderer's compiled trace
  (:mod:`viewshift.render.kernels`) samples the same way. Not differentiable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from viewshift.geometry import check_same_batch, check_shape, pixels_to_grid, project_depth
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


def in_view(pixels: torch.Tensor, z: torch.Tensor, height: int, width: int, eps: float = 1e-6) -> torch.Tensor:
    """``(B, 1, H', W')`` bool: in front of the camera and inside ``[0, W-1] × [0, H-1]``.

    Args:
        pixels: ``(B, 2, H', W')``.
        z: ``(B, 1, H', W')``.
    """
    u, v = pixels[:, :1], pixels[:, 1:]
    return (z > eps) & (u >= -0.5) & (u <= width - 0.5) & (v >= -0.5) & (v <= height - 0.5)


def sample_consistent(
    values: torch.Tensor,
    src_depth: torch.Tensor,
    pixels: torch.Tensor,
    expected_depth: torch.Tensor,
    inv_tol: float | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bilinear sampling that only mixes the neighbours lying on the expected surface.

    Each of the four neighbours of a sample point keeps its bilinear weight only if its inverse depth agrees:
    ``|1/d_n - 1/d_expected| <= inv_tol``; weights are renormalised. A sample is valid when the pixel whose area
    contains it (its nearest neighbour) agrees: the surface covers the sample point.
    Inverse depth is the natural scale: a camera translated by ``t`` sees two points apart by
    ``f |t| |1/d_1 - 1/d_2|`` pixels of parallax, so ``inv_tol = tau / (f |t|)`` means "within ``tau`` pixels".

    Args:
        values: ``(B, C, H, W)`` source values (colour and anything else to carry along).
        src_depth: ``(B, 1, H, W)`` source depth.
        pixels: ``(B, 2, N)`` sample points in source pixel coordinates.
        expected_depth: ``(B, 1, N)`` depth the sample should have in the source frame.
        inv_tol: tolerance on inverse depth, a number or ``(B, 1, 1)``.

    Returns:
        ``sampled`` ``(B, C, N)`` (zero where invalid), ``depth`` ``(B, 1, N)`` the sampled source depth (the
        same consistent mix, taken in inverse depth), and ``valid`` ``(B, 1, N)`` bool.

    Example:
        >>> values = torch.tensor([[[[0.0, 1.0, 5.0]]]]); depth = torch.tensor([[[[1.0, 1.0, 9.0]]]])
        >>> px = torch.tensor([[[0.5, 1.4], [0.0, 0.0]]])
        >>> out, d, ok = sample_consistent(values, depth, px, torch.ones(1, 1, 2), 0.1)
        >>> out.tolist(), ok.tolist()  # the far pixel 2 is never mixed into the near surface
        ([[[0.5, 1.0]]], [[[True, True]]])
    """
    check_shape(values, "B,C,H,W", "values")
    check_shape(src_depth, "B,1,H,W", "src_depth")
    check_shape(pixels, "B,2,N", "pixels")
    b, c = values.shape[:2]
    n = pixels.shape[2]
    tol = torch.as_tensor(inv_tol, dtype=torch.float64).reshape(-1).expand(b)
    sampled = torch.empty(b, n, c, dtype=values.dtype)
    depth = torch.empty(b, 1, n, dtype=values.dtype)
    valid = torch.empty(b, 1, n, dtype=torch.bool)
    for i in range(b):
        d = kernels.as_array(src_depth[i, 0].to(values.dtype))
        kernels.sample_points(
            kernels.as_array(values[i]),
            1.0 / d,
            *(kernels.as_array(pixels[i, k].to(values.dtype)) for k in range(2)),
            kernels.as_array(expected_depth[i, 0].to(values.dtype)),
            float(tol[i]),
            sampled[i].numpy(),
            depth[i, 0].numpy(),
            valid[i, 0].numpy(),
        )
    return sampled.transpose(1, 2), depth, valid
