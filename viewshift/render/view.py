"""The renderer: a source image with depth, seen from a moved camera.

Three steps: the geometry in torch (:mod:`viewshift.geometry`), the per-pixel loops compiled
(:mod:`viewshift.render.kernels`). As in PyTorch3D's point renderer, a rasteriser makes the fragments (step 1,
:func:`viewshift.render.splat.rasterize_depth`) and a compositor turns them into an image (steps 2-3, here):

1. **Rasterise** (forward splatting): every source pixel is projected into the target camera and written into a
   z-buffer with a 2×2 footprint (nearer wins) — the target view's depth, crack-free on continuous surfaces.
2. **Refine**: each covered target pixel is traced back into the source (inverse warp through its depth) and the
   source coordinate is corrected by fixed-point iteration ``s <- s + (p - proj(s))`` until the point it samples
   projects exactly onto the target pixel — sub-pixel accuracy without the z-buffer's quantisation. A pixel
   whose trace lands on a farther surface (the near surface's footprint overhangs an occlusion edge) is traced
   again through that surface.
3. **Sample**: colours are read bilinearly, mixing only neighbours on the same surface: each of the four
   neighbours of the sample point keeps its bilinear weight only if ``|1/d_n - 1/d_expected| <= inv_tol``, weights
   renormalised, and the sample is valid when the neighbour whose area contains it agrees. Inverse depth is the
   natural scale: a camera translated by ``t`` sees two points apart by ``f |t| |1/d_1 - 1/d_2|`` pixels of
   parallax, so ``inv_tol = edge_tolerance_px / (f |t|)``. Nothing is smeared across an occlusion edge. Pixels
   no source surface reaches are holes: disocclusions and borders.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from viewshift.geometry import check_same_batch, check_shape, invert_pose, transfer_matrices
from viewshift.render import kernels
from viewshift.render.splat import rasterize_depth


@dataclass(frozen=True)
class RenderSettings:
    """How the renderer treats surfaces.

    Attributes:
        edge_tolerance_px: two neighbouring source pixels belong to one surface when the move gives them
            parallaxes that differ by at most this many pixels; larger jumps are occlusion edges.
        refine_steps: fixed-point refinement steps of the source coordinate (0 keeps the z-buffer's estimate;
            a second step changed the visible-pixel PSNR of Middlebury right views by under 0.05 dB).
        dilate_px: grow near surfaces over far ones in the source depth by this many pixels before rendering,
            so the mixed colours along an object's outline travel with the object instead of leaving a halo.
        footprint: z-buffer footprint in pixels (2 covers stretches up to 2×).
    """

    edge_tolerance_px: float = 1.0
    refine_steps: int = 1
    dilate_px: int = 0
    footprint: int = 2


@dataclass
class Rendered:
    """Output of :func:`render_view`.

    Attributes:
        image: ``(B, C, H, W)`` target view; zero in holes.
        depth: ``(B, 1, H, W)`` target depth; ``inf`` in holes.
        holes: ``(B, 1, H, W)`` bool, True where no source surface reached the pixel.
    """

    image: torch.Tensor
    depth: torch.Tensor
    holes: torch.Tensor


def dilate_near(depth: torch.Tensor, radius: int) -> torch.Tensor:
    """Grow near surfaces by ``radius`` pixels: a min-filter of the ``(B, 1, H, W)`` depth."""
    if radius <= 0:
        return depth
    return -F.max_pool2d(-depth, 2 * radius + 1, stride=1, padding=radius)


def render_view(
    image: torch.Tensor,
    depth: torch.Tensor,
    K_src: torch.Tensor,
    tgt_T_src: torch.Tensor,
    K_tgt: torch.Tensor | None = None,
    *,
    size: tuple[int, int] | None = None,
    settings: RenderSettings = RenderSettings(),
) -> Rendered:
    """Render the view of a moved camera from one image and its depth.

    Args:
        image: ``(B, C, H, W)`` source image (any channels: colour, alpha, features).
        depth: ``(B, 1, H, W)`` source z-depth, positive and finite.
        K_src: ``(B, 3, 3)`` source intrinsics in pixels.
        tgt_T_src: ``(B, 4, 4)`` maps source-frame points into the target camera's frame.
        K_tgt: ``(B, 3, 3)`` target intrinsics (default ``K_src``).
        size: target ``(H_t, W_t)`` (default the source size).
        settings: see :class:`RenderSettings`.

    Returns:
        :class:`Rendered` with the target image, depth and holes.

    A zero move returns the input exactly:

    >>> from viewshift.geometry import intrinsics
    >>> img = torch.rand(1, 3, 6, 8)
    >>> out = render_view(img, torch.full((1, 1, 6, 8), 2.0), intrinsics(50.0, 6, 8), torch.eye(4)[None])
    >>> bool((out.image - img).abs().max() < 1e-5), bool(out.holes.any())
    (True, False)
    """
    check_shape(image, "B,C,H,W", "image")
    check_shape(depth, "B,1,H,W", "depth")
    check_same_batch(image, depth, K_src, tgt_T_src)
    dtype = image.dtype
    depth = dilate_near(depth.to(dtype), settings.dilate_px)
    K_src = K_src.to(dtype)
    K_tgt = K_src if K_tgt is None else K_tgt.to(dtype)
    tgt_T_src = tgt_T_src.to(dtype)
    b, c, h, w = image.shape
    ht, wt = size if size is not None else (h, w)

    # 1. Rasterise the target depth.
    z_near = rasterize_depth(depth, K_src, tgt_T_src, K_tgt, size=(ht, wt), footprint=settings.footprint)

    # The transfers source -> target and back, through which the trace moves pixels.
    M_st, t_st = (x.cpu().numpy() for x in transfer_matrices(K_src, tgt_T_src, K_tgt))
    M_ts, t_ts = (x.cpu().numpy() for x in transfer_matrices(K_tgt, invert_pose(tgt_T_src), K_src))

    # Inverse-depth tolerance: tau pixels of parallax for this move's translation.
    focal = K_src[:, 0, 0].abs().double()
    baseline = tgt_T_src[:, :3, 3].double().norm(dim=1)
    inv_tol = (settings.edge_tolerance_px / (focal * baseline).clamp_min(1e-12)).tolist()

    out = torch.empty(b, c, ht, wt, dtype=dtype)
    z_out = torch.empty(b, 1, ht, wt, dtype=dtype)
    holes = torch.empty(b, 1, ht, wt, dtype=torch.bool)
    for i in range(b):
        src_depth = kernels.as_array(depth[i, 0])
        # 2.-3. Trace the target pixels back into the source through the nearest surface of the z-buffer.
        kernels.run_rows(
            kernels.trace_rows,
            ht,
            kernels.as_array(image[i]),
            src_depth,
            1.0 / src_depth,
            kernels.as_array(z_near[i, 0]),
            M_ts[i],
            t_ts[i],
            M_st[i],
            t_st[i],
            inv_tol[i],
            settings.refine_steps,
            out[i].numpy(),
            z_out[i, 0].numpy(),
            holes[i, 0].numpy(),
        )
    return Rendered(image=out, depth=z_out, holes=holes)
