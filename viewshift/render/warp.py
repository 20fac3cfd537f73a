"""Inverse warping: sample a source image at the places a target view's pixels come from.

Two samplers share one geometry:

* :func:`inverse_warp` — differentiable bilinear sampling through ``grid_sample`` with a validity mask; the
  photometric loss of training uses it.
* :func:`sample_consistent` — bilinear sampling that only mixes neighbours whose depth agrees with the expected
  depth, so nothing is smeared across an occlusion edge; the renderer uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SampleTable:
    """Source values and inverse depth laid out once for :func:`sample_table`.

    Attributes:
        data: ``(B, C + 1, (H + 2) * (W + 2))``: the values, then inverse depth, with a one-pixel border whose
            values are zero and whose inverse depth is NaN (it never agrees with anything).
        height: source H.
        width: source W.
    """

    data: torch.Tensor
    height: int
    width: int

    @property
    def channels(self) -> int:
        return self.data.shape[1] - 1


def make_sample_table(values: torch.Tensor, src_depth: torch.Tensor) -> SampleTable:
    """Build the :class:`SampleTable` of ``values`` ``(B, C, H, W)`` with depth ``(B, 1, H, W)``."""
    check_shape(values, "B,C,H,W", "values")
    check_shape(src_depth, "B,1,H,W", "src_depth")
    b, c, h, w = values.shape
    vals = F.pad(values, (1, 1, 1, 1), value=0.0)
    inv = F.pad(1.0 / src_depth.to(values.dtype), (1, 1, 1, 1), value=float("nan"))
    return SampleTable(torch.cat([vals, inv], dim=1).reshape(b, c + 1, -1), h, w)


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
    check_shape(pixels, "B,2,N", "pixels")
    return sample_table(make_sample_table(values, src_depth), pixels, expected_depth, inv_tol)


def sample_table(
    table: SampleTable,
    pixels: torch.Tensor,
    expected_depth: torch.Tensor,
    inv_tol: float | torch.Tensor,
    *,
    chunk: int = 1 << 21,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`sample_consistent` on a prebuilt :class:`SampleTable`, in chunks of ``chunk`` samples."""
    b, n = pixels.shape[0], pixels.shape[2]
    if n > chunk:
        parts = [
            sample_table(table, pixels[..., i : i + chunk], expected_depth[..., i : i + chunk], inv_tol, chunk=chunk)
            for i in range(0, n, chunk)
        ]
        return tuple(torch.cat(p, dim=2) for p in zip(*parts, strict=True))  # type: ignore[return-value]
    c, h, w = table.channels, table.height, table.width
    # Clamped into the padded frame: far-away samples land on the border and come out invalid.
    u = pixels[:, 0].clamp(-1.0, w - 1e-3)
    v = pixels[:, 1].clamp(-1.0, h - 1e-3)
    u0, v0 = u.floor(), v.floor()
    fu, fv = u - u0, v - v0
    stride = w + 2
    # Flat index of the top-left neighbour in the padded frame; float64 keeps it exact for any image size.
    base = ((v0.double() + 1.0) * stride + (u0 + 1.0)).long()
    offsets = torch.tensor([0, 1, stride, stride + 1], device=base.device).view(1, 4, 1)
    index = (base[:, None, :] + offsets).reshape(b, 1, 4 * n)
    neighbours = table.data.gather(2, index.expand(b, c + 1, 4 * n)).view(b, c + 1, 4, n)
    wu = torch.stack([1.0 - fu, fu], dim=1)  # (B, 2, N)
    wv = torch.stack([1.0 - fv, fv], dim=1)
    weight = (wv[:, :, None] * wu[:, None]).reshape(b, 4, n)  # corners (0,0), (1,0), (0,1), (1,1)
    inv = neighbours[:, c]  # (B, 4, N), NaN on the border
    ref = 1.0 / expected_depth  # (B, 1, N)
    agree = (inv - ref).abs() <= (inv_tol if isinstance(inv_tol, float) else inv_tol.reshape(b, 1, 1))
    weight = weight * agree
    wsum = weight.sum(dim=1, keepdim=True).clamp_min(1e-6)
    sampled = (neighbours[:, :c] * weight[:, None]).sum(dim=2) / wsum
    inv_mix = (inv.nan_to_num(0.0) * weight).sum(dim=1, keepdim=True) / wsum
    # The sample is covered when the pixel whose area contains it (the nearest) lies on the surface.
    nearest = (fu >= 0.5).long() + 2 * (fv >= 0.5).long()
    valid = agree.gather(1, nearest[:, None])
    depth = torch.where(valid, 1.0 / inv_mix.clamp_min(1e-12), expected_depth)
    return sampled, depth, valid
