"""Inverse warping: sample a source image at the places a target view's pixels come from.

Two samplers share one geometry:

* :func:`inverse_warp` — differentiable bilinear sampling through ``grid_sample`` with a validity mask; the
  photometric loss of training uses it.
* :func:`sample_consistent` — bilinear sampling that only mixes neighbours whose depth agrees with the expected
  depth, so nothing is smeared across an occlusion edge; the renderer uses it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from viewshift.geometry import check_same_batch, check_shape, pixels_to_grid, project_depth


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
        same consistent mix), and ``valid`` ``(B, 1, N)`` bool.
    """
    check_shape(values, "B,C,H,W", "values")
    check_shape(src_depth, "B,1,H,W", "src_depth")
    check_shape(pixels, "B,2,N", "pixels")
    b, c, h, w = values.shape
    u, v = pixels[:, 0], pixels[:, 1]
    u0f, v0f = u.floor(), v.floor()
    fu, fv = u - u0f, v - v0f
    u0, v0 = u0f.long(), v0f.long()
    stacked = torch.cat([values, src_depth.to(values.dtype)], dim=1).reshape(b, c + 1, h * w)
    acc = torch.zeros(b, c + 1, u.shape[1], dtype=values.dtype, device=values.device)
    wsum = torch.zeros(b, 1, u.shape[1], dtype=values.dtype, device=values.device)
    ref = 1.0 / expected_depth
    near_u, near_v = fu >= 0.5, fv >= 0.5
    valid = torch.zeros(b, 1, u.shape[1], dtype=torch.bool, device=values.device)
    corners = ((0, 0, (1 - fu) * (1 - fv)), (1, 0, fu * (1 - fv)), (0, 1, (1 - fu) * fv), (1, 1, fu * fv))
    for du, dv, weight in corners:
        un, vn = u0 + du, v0 + dv
        inside = (un >= 0) & (un < w) & (vn >= 0) & (vn < h)
        index = (vn.clamp(0, h - 1) * w + un.clamp(0, w - 1)).unsqueeze(1).expand(b, c + 1, -1)
        neighbour = stacked.gather(2, index)
        agree = inside.unsqueeze(1) & ((1.0 / neighbour[:, c:] - ref).abs() <= inv_tol)
        wn = weight.unsqueeze(1) * agree
        acc += wn * neighbour
        wsum += wn
        # The sample is covered when the pixel whose area contains it (the nearest) lies on the surface.
        nearest = (near_u == bool(du)) & (near_v == bool(dv))
        valid |= nearest.unsqueeze(1) & agree
    sampled = acc / wsum.clamp_min(1e-6)
    return sampled[:, :c], sampled[:, c:], valid
