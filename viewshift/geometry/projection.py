"""Pinhole projection: pixels ↔ rays, depth → 3-D points → pixels of another camera.

Pixel centres are at integer coordinates (``u`` right, ``v`` down). Depth is the z coordinate of a point in its
camera's frame (not the distance along the ray).
"""

from __future__ import annotations

import torch

from viewshift.geometry.checks import check_same_batch, check_shape

MIN_DEPTH = 2.0**-20
"""Smallest depth a point may have in a camera (≈ 9.5e-7). The perspective division divides by
``max(z, MIN_DEPTH)``, and points at ``z <= MIN_DEPTH`` count as behind the camera (out of view). The one value
used by the torch projection (:func:`points_to_pixels`), the validity masks of :mod:`viewshift.render.warp` and
the renderer's compiled kernels (:mod:`viewshift.render.kernels`); a power of two, so float32 and float64 hold it
exactly and both sides clamp at the same depth."""


def pixel_grid(height: int, width: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Homogeneous pixel coordinates ``(1, 3, H, W)``: channel 0 is ``u``, 1 is ``v``, 2 is one.

    >>> pixel_grid(2, 3)[0, :, 1, 2].tolist()
    [2.0, 1.0, 1.0]
    """
    v, u = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=device),
        torch.arange(width, dtype=dtype, device=device),
        indexing="ij",
    )
    return torch.stack([u, v, torch.ones_like(u)])[None]


def depth_to_points(depth: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Back-project a depth map into 3-D points of its camera: ``X = depth * K^-1 [u, v, 1]^T``.

    Args:
        depth: ``(B, 1, H, W)`` z-depth.
        K: ``(B, 3, 3)`` intrinsics.

    Returns:
        ``(B, 3, H, W)`` points in the camera frame, in the unit of ``depth``.

    >>> K = torch.eye(3)[None]
    >>> depth_to_points(torch.full((1, 1, 1, 2), 2.0), K)[0, :, 0, 1].tolist()
    [2.0, 0.0, 2.0]
    """
    check_shape(depth, "B,1,H,W", "depth")
    check_shape(K, "B,3,3", "K")
    check_same_batch(depth, K)
    b, _, h, w = depth.shape
    grid = pixel_grid(h, w, dtype=depth.dtype, device=depth.device).reshape(1, 3, -1)
    rays = torch.linalg.inv(K.to(depth.dtype)) @ grid
    return (rays * depth.reshape(b, 1, -1)).reshape(b, 3, h, w)


def transform_points(pose: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply ``tgt_T_src`` ``(B, 4, 4)`` to points ``(B, 3, H, W)`` of frame src; returns ``(B, 3, H, W)`` in tgt."""
    check_shape(pose, "B,4,4", "pose")
    check_shape(points, "B,3,H,W", "points")
    check_same_batch(pose, points)
    b, _, h, w = points.shape
    pose = pose.to(points.dtype)
    flat = pose[:, :3, :3] @ points.reshape(b, 3, -1) + pose[:, :3, 3:]
    return flat.reshape(b, 3, h, w)


def points_to_pixels(
    points: torch.Tensor, K: torch.Tensor, eps: float = MIN_DEPTH
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project 3-D points ``(B, 3, H, W)`` with intrinsics ``(B, 3, 3)``: ``q = K X``, pixel
    ``(q_0, q_1) / max(q_2, eps)``, depth ``q_2``.

    Returns:
        ``pixels`` ``(B, 2, H, W)``: ``(u, v)`` of each point (meaningless where ``z <= eps``), and
        ``z`` ``(B, 1, H, W)``: each point's depth in this camera.
    """
    check_shape(points, "B,3,H,W", "points")
    check_shape(K, "B,3,3", "K")
    b, _, h, w = points.shape
    proj = K.to(points.dtype) @ points.reshape(b, 3, -1)
    z = proj[:, 2:3]
    pixels = proj[:, :2] / z.clamp_min(eps)
    return pixels.reshape(b, 2, h, w), z.reshape(b, 1, h, w)


def project_depth(
    depth: torch.Tensor, K_src: torch.Tensor, tgt_T_src: torch.Tensor, K_tgt: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each pixel of a source depth map lands in a target camera.

    Args:
        depth: ``(B, 1, H, W)`` source depth.
        K_src: ``(B, 3, 3)`` source intrinsics.
        tgt_T_src: ``(B, 4, 4)`` maps source-frame points into the target frame.
        K_tgt: ``(B, 3, 3)`` target intrinsics (default ``K_src``).

    Returns:
        ``pixels`` ``(B, 2, H, W)`` target coordinates and ``z`` ``(B, 1, H, W)`` target depth of every source pixel.

    A fronto-parallel plane at depth Z seen by a camera moved right by t shifts by ``-f t / Z`` pixels:

    >>> from viewshift.geometry.poses import invert_pose, move_to_pose
    >>> from viewshift.geometry.camera import intrinsics
    >>> K = intrinsics(100.0, 1, 5)
    >>> px, z = project_depth(torch.full((1, 1, 1, 5), 4.0), K, invert_pose(move_to_pose(right=0.2)).float())
    >>> [round(x, 4) for x in px[0, 0, 0].tolist()]
    [-5.0, -4.0, -3.0, -2.0, -1.0]
    """
    K_tgt = K_src if K_tgt is None else K_tgt
    return points_to_pixels(transform_points(tgt_T_src, depth_to_points(depth, K_src)), K_tgt)


def transfer_matrices(
    K_from: torch.Tensor, to_T_from: torch.Tensor, K_to: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`project_depth` as one affine map of homogeneous pixels: ``M`` ``(B, 3, 3)`` and ``t`` ``(B, 3)``.

    A pixel ``p = (u, v, 1)`` of camera ``from`` at depth ``z`` lands at ``q = M p z + t`` in camera ``to``:
    pixel ``(q_0 / q_2, q_1 / q_2)``, depth ``q_2``. ``M = K_to R K_from⁻¹`` is the rotation's homography and
    ``t = K_to t``; the division is by ``max(q_2, MIN_DEPTH)`` as in :func:`points_to_pixels`. Computed in float64
    (the compiled renderer applies it per pixel: ``viewshift.render.kernels._transfer``, tested point for point
    against :func:`project_depth`).

    >>> from viewshift.geometry.poses import invert_pose, move_to_pose
    >>> from viewshift.geometry.camera import intrinsics
    >>> K = intrinsics(100.0, 1, 5)
    >>> M, t = transfer_matrices(K, invert_pose(move_to_pose(right=0.2)), K)
    >>> q = M[0] @ torch.tensor([4.0, 0.0, 1.0], dtype=torch.float64) * 4.0 + t[0]
    >>> round(float(q[0] / q[2]), 4), float(q[2])
    (-1.0, 4.0)
    """
    check_shape(K_from, "B,3,3", "K_from")
    check_shape(to_T_from, "B,4,4", "to_T_from")
    check_same_batch(K_from, to_T_from, K_to)
    K_from, to_T_from, K_to = K_from.double(), to_T_from.double(), K_to.double()
    M = K_to @ to_T_from[:, :3, :3] @ torch.linalg.inv(K_from)
    return M, (K_to @ to_T_from[:, :3, 3:])[..., 0]


def pixels_to_grid(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pixel coordinates ``(B, 2, H', W')`` to the normalised grid ``(B, H', W', 2)`` of ``grid_sample``.

    Uses ``align_corners=False``: ``x_n = (2u + 1) / W - 1``, so pixel centres stay at integers.
    """
    check_shape(pixels, "B,2,H,W", "pixels")
    scale = torch.tensor([2.0 / width, 2.0 / height], dtype=pixels.dtype, device=pixels.device).view(1, 2, 1, 1)
    return ((pixels + 0.5) * scale - 1.0).permute(0, 2, 3, 1)
