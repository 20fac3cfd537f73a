"""2-D warps of image batches in normalised coordinates: rotations, homographies, composition, perturbations.

Coordinates are normalised so the canvas spans ``[-1, 1]`` along x (right) and y (down), measured at the outer
pixel edges (``grid_sample(..., align_corners=False)``). A warp is stored as a **sampling** homography ``H``
``(B, 3, 3)``: the output pixel at ``x`` takes the input's value at ``H x`` (homogeneous, then divided). With
this convention warping first by ``H1`` and then the result by ``H2`` equals one warp by ``H1 @ H2``
(:func:`compose_homographies`), which is what the inverse compositional spatial transformer uses.

Eight warp parameters ``p`` stand for ``H = [[1+p0, p1, p2], [p3, 1+p4, p5], [p6, p7, 1]]`` (identity at
``p = 0``), as in Lin & Lucey's IC-STN code; the affine case uses ``p0..p5`` and keeps ``p6 = p7 = 0``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from viewshift.errors import ShapeError

# Corners of the canvas in normalised coordinates: top-left, top-right, bottom-right, bottom-left.
CANVAS_CORNERS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))


def _check_images(images: torch.Tensor) -> None:
    if images.ndim != 4:
        raise ShapeError(f"expected images of shape (B, C, H, W), got {tuple(images.shape)}")


def _check_homographies(homographies: torch.Tensor, batch: int | None = None) -> None:
    if homographies.ndim != 3 or homographies.shape[-2:] != (3, 3):
        raise ShapeError(f"expected homographies of shape (B, 3, 3), got {tuple(homographies.shape)}")
    if batch is not None and homographies.shape[0] != batch:
        raise ShapeError(f"expected {batch} homographies, got {homographies.shape[0]}")


def params_to_homography(params: torch.Tensor) -> torch.Tensor:
    """Turn warp parameters into sampling homographies.

    Args:
        params: ``(B, 8)`` homography parameters or ``(B, 6)`` affine parameters (see module docstring).

    Returns:
        ``(B, 3, 3)`` homographies, identity for zero parameters.
    """
    if params.ndim != 2 or params.shape[-1] not in (6, 8):
        raise ShapeError(f"expected warp parameters of shape (B, 6) or (B, 8), got {tuple(params.shape)}")
    batch = params.shape[0]
    if params.shape[-1] == 6:
        params = torch.cat([params, params.new_zeros(batch, 2)], dim=-1)
    full = torch.cat([params, params.new_zeros(batch, 1)], dim=-1).view(batch, 3, 3)
    return full + torch.eye(3, dtype=params.dtype, device=params.device)


def compose_homographies(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Sampling homography of "warp by ``first``, then warp the result by ``second``": ``first @ second``.

    Normalised so that ``H[2, 2] = 1``.

    Args:
        first: ``(B, 3, 3)`` homography applied first.
        second: ``(B, 3, 3)`` homography applied to the already warped image.

    Returns:
        ``(B, 3, 3)`` the composed homography.
    """
    _check_homographies(first)
    _check_homographies(second, first.shape[0])
    out = first @ second
    return out / out[:, 2:3, 2:3]


def rotation_homography(angles_deg: torch.Tensor) -> torch.Tensor:
    """Sampling homography that rotates image content counter-clockwise as displayed by ``angles_deg``.

    In y-down coordinates a displayed counter-clockwise turn by θ moves a point ``x`` to
    ``[[cos θ, sin θ], [-sin θ, cos θ]] x``; the sampling map is its inverse ``[[cos θ, -sin θ], [sin θ, cos θ]]``.
    The rotation is about the canvas centre and, for a square canvas, agrees with Pillow's ``Image.rotate``.

    Args:
        angles_deg: ``(B,)`` angles in degrees.

    Returns:
        ``(B, 3, 3)`` homographies.
    """
    rad = torch.deg2rad(angles_deg.to(torch.float32) if not angles_deg.is_floating_point() else angles_deg)
    c, s = torch.cos(rad), torch.sin(rad)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    rows = [c, -s, zero, s, c, zero, zero, zero, one]
    return torch.stack(rows, dim=-1).view(-1, 3, 3)


def homography_from_corners(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The homography ``H`` with ``H src_i ~ dst_i`` for four point pairs (direct linear solve, ``H[2,2] = 1``).

    Args:
        src: ``(B, 4, 2)`` source points (no three collinear).
        dst: ``(B, 4, 2)`` destination points.

    Returns:
        ``(B, 3, 3)`` homographies.
    """
    if src.shape != dst.shape or src.ndim != 3 or src.shape[1:] != (4, 2):
        raise ShapeError(f"expected two (B, 4, 2) point sets, got {tuple(src.shape)} and {tuple(dst.shape)}")
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], dim=-1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], dim=-1)
    a = torch.cat([rows_u, rows_v], dim=1)  # (B, 8, 8)
    b = torch.cat([u, v], dim=1)  # (B, 8)
    h = torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=-1).view(-1, 3, 3)


def sample_perturbations(
    batch: int,
    kind: str = "homography",
    corner_sigma: float = 0.25,
    translation_sigma: float = 0.25,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random warps as in the IC-STN paper's code.

    Each canvas corner (normalised coordinates) moves by independent Gaussian noise of ``corner_sigma`` plus a
    translation of ``translation_sigma`` shared by all four; the warp is the homography taking the canvas
    corners to the moved ones (``kind="homography"``), or the least-squares affine fit of the same corners
    (``kind="affine"``).

    Args:
        batch: number of warps B.
        kind: ``"homography"`` or ``"affine"``.
        corner_sigma: σ of the independent per-corner noise.
        translation_sigma: σ of the shared translation.
        generator: optional random generator for reproducible draws.

    Returns:
        ``(B, 3, 3)`` sampling homographies.
    """
    if kind not in ("homography", "affine"):
        raise ValueError(f"unknown perturbation kind {kind!r}; use 'homography' or 'affine'")
    corners = torch.tensor(CANVAS_CORNERS, dtype=torch.float32).expand(batch, 4, 2)
    noise = torch.randn(batch, 4, 2, generator=generator) * corner_sigma
    shift = torch.randn(batch, 1, 2, generator=generator) * translation_sigma
    moved = corners + noise + shift
    if kind == "homography":
        return homography_from_corners(corners, moved)
    ones = torch.ones(batch, 4, 1)
    a = torch.cat([corners, ones], dim=-1)  # (B, 4, 3)
    sol = torch.linalg.lstsq(a, moved).solution  # (B, 3, 2)
    affine = sol.transpose(1, 2)  # (B, 2, 3)
    bottom = torch.tensor([0.0, 0.0, 1.0]).expand(batch, 1, 3)
    return torch.cat([affine, bottom], dim=1)


def homography_grid(homographies: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Sampling grid ``(B, H, W, 2)`` for ``grid_sample`` from sampling homographies ``(B, 3, 3)``."""
    _check_homographies(homographies)
    dtype, device = homographies.dtype, homographies.device
    ys = (torch.arange(height, dtype=dtype, device=device) + 0.5) * (2.0 / height) - 1.0
    xs = (torch.arange(width, dtype=dtype, device=device) + 0.5) * (2.0 / width) - 1.0
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).view(1, -1, 3)  # (1, HW, 3)
    mapped = points @ homographies.transpose(1, 2)  # (B, HW, 3)
    denom = mapped[..., 2:3]
    denom = torch.where(denom.abs() < 1e-8, torch.full_like(denom, 1e-8), denom)
    return (mapped[..., :2] / denom).view(-1, height, width, 2)


def warp_images(
    images: torch.Tensor, homographies: torch.Tensor, mode: str = "bilinear"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp images by sampling homographies (zero outside the input).

    Args:
        images: ``(B, C, H, W)`` float images.
        homographies: ``(B, 3, 3)`` sampling homographies in normalised coordinates.
        mode: ``grid_sample`` interpolation, ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(warped, valid)``: ``(B, C, H, W)`` warped images and a ``(B, 1, H, W)`` mask, 1 where the sample fell
        inside the input canvas.
    """
    _check_images(images)
    _check_homographies(homographies, images.shape[0])
    grid = homography_grid(homographies.to(images.dtype), images.shape[-2], images.shape[-1])
    warped = F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=False)
    valid = ((grid.abs() <= 1.0).all(dim=-1)).unsqueeze(1).to(images.dtype)
    return warped, valid


def rotate_images(images: torch.Tensor, angles_deg: torch.Tensor) -> torch.Tensor:
    """Rotate square images counter-clockwise as displayed about their centre (zero fill).

    Args:
        images: ``(B, C, H, W)`` float images with ``H == W``.
        angles_deg: ``(B,)`` angles in degrees.

    Returns:
        ``(B, C, H, W)`` rotated images.
    """
    _check_images(images)
    if images.shape[-1] != images.shape[-2]:
        raise ShapeError(f"rotate_images needs square images, got {tuple(images.shape[-2:])}")
    return warp_images(images, rotation_homography(angles_deg).to(images))[0]


def largest_rotated_rect(width: int, height: int, angle_deg: float) -> tuple[int, int]:
    """Size of the largest axis-aligned rectangle inside a ``width × height`` image rotated by ``angle_deg``.

    The rectangle is centred; its size depends only on ``|angle|`` (mod 180°).

    Args:
        width: image width in pixels.
        height: image height in pixels.
        angle_deg: rotation in degrees.

    Returns:
        ``(crop_width, crop_height)`` in whole pixels.

    >>> largest_rotated_rect(100, 100, 0.0)
    (100, 100)
    >>> largest_rotated_rect(100, 100, 45.0)
    (70, 70)
    """
    angle = math.radians(angle_deg) % math.pi
    if angle > math.pi / 2:
        angle = math.pi - angle
    if width <= 0 or height <= 0:
        return 0, 0
    if angle < 1e-9:
        return width, height
    long_side, short_side = max(width, height), min(width, height)
    sin_a, cos_a = abs(math.sin(angle)), abs(math.cos(angle))
    if short_side <= 2.0 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * short_side
        wr, hr = (x / sin_a, x / cos_a) if width >= height else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr = (width * cos_a - height * sin_a) / cos_2a
        hr = (height * cos_a - width * sin_a) / cos_2a
    return int(math.floor(wr + 1e-6)), int(math.floor(hr + 1e-6))


def elastic_displacements(
    batch: int,
    size: int,
    alpha: float,
    sigma: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random smooth displacement fields for elastic distortion (Simard et al., 2003).

    Uniform noise in ``[-1, 1]`` per pixel and axis is blurred by a Gaussian of ``sigma`` pixels, rescaled so
    its largest magnitude per field is 1, and multiplied by ``alpha`` pixels.

    Args:
        batch: number of fields B.
        size: side of the square canvas in pixels.
        alpha: largest displacement in pixels.
        sigma: smoothness (Gaussian σ in pixels).
        generator: optional random generator.

    Returns:
        ``(B, size, size, 2)`` displacements in normalised coordinates (``x``, ``y``), ready to add to a
        ``grid_sample`` grid.
    """
    noise = torch.rand(batch, 2, size, size, generator=generator) * 2.0 - 1.0
    radius = max(1, int(math.ceil(3.0 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    field = noise.reshape(batch * 2, 1, size, size)
    field = F.conv2d(F.pad(field, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    field = F.conv2d(F.pad(field, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))
    field = field.view(batch, 2, size, size)
    peak = field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
    return (field / peak * (alpha * 2.0 / size)).permute(0, 2, 3, 1)


def elastic_warp(
    images: torch.Tensor,
    alpha: float = 1.5,
    sigma: float = 3.0,
    scale: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Distort square images by a random elastic field and an optional random isotropic scale (augmentation).

    Neither part rotates the content on average, so a rotation label stays valid.

    Args:
        images: ``(B, C, H, W)`` float images, ``H == W``.
        alpha: largest elastic displacement in pixels (0 switches it off).
        sigma: smoothness of the field in pixels.
        scale: isotropic scale factor drawn uniformly in ``[1 - scale, 1 + scale]`` per image.
        generator: optional random generator.

    Returns:
        ``(B, C, H, W)`` distorted images (zero outside the input).
    """
    _check_images(images)
    b, _, h, w = images.shape
    if h != w:
        raise ShapeError(f"elastic_warp needs square images, got {tuple(images.shape[-2:])}")
    eye = torch.eye(3, dtype=images.dtype).expand(b, 3, 3).clone()
    if scale > 0:
        s = 1.0 + (torch.rand(b, generator=generator) * 2.0 - 1.0) * scale
        eye[:, 0, 0] = 1.0 / s
        eye[:, 1, 1] = 1.0 / s
    grid = homography_grid(eye, h, w)
    if alpha > 0:
        grid = grid + elastic_displacements(b, h, alpha, sigma, generator).to(grid)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
