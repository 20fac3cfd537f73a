"""The ``"smooth"`` background texture: boundary colours averaged along the parallax direction before they are
carried into holes (:func:`average_surface`), and the fill smoothed inside the holes afterwards
(:func:`smooth_holes`, a normalised convolution over boxes around groups of holes)."""

from __future__ import annotations

import numpy as np
import torch

from viewshift.render import kernels

SMOOTH_SIGMA = (9.5, 9.5)
"""Default ``(along, across)`` sigmas (px) of the ``"smooth"`` background texture.

Chosen on the right views of the 45 Middlebury pairs, mean PSNR over all pixels, MiddEval3 / MiddEval2 (measured
while choosing, without realism and with an earlier retry rule of the renderer): boundary pixel carried in and
smoothed with (6.5, 2.6) 24.16 / 27.32 dB, (9.5, 5) 24.25 / 27.41, (9.5, 9.5) 24.28 / 27.46, (13, 13)
24.23 / 27.45; a 5-pixel average carried in, (9.5, 9.5) 24.32 / 27.54 (9 pixels: 24.25 / 27.42). The final
figures are in ``docs/bench/quality_middlebury.md``. Smoothing across the parallax direction gains most, at the
cost of blurring contours that run along it; ``fill="texture"`` keeps them sharp."""

SMOOTH_AVERAGE = 5
"""Length (px, along the parallax direction) of the background average carried into holes by ``"smooth"``."""


def average_surface(
    image: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor, axis: int | None, length: int, tolerance: float
) -> torch.Tensor:
    """The colours the filler takes from the pixels bordering holes: each valid pixel next to a hole averaged
    with its ``length`` neighbours along ``axis`` (3: rows, 2: columns; ``None``: no averaging) that lie on its
    surface (not holes, depth within ``tolerance`` relative of the pixel's); other pixels are left as they are
    (the filler reads only the border).

    Args:
        image: ``(B, C, H, W)``; depth: ``(B, 1, H, W)``; holes: ``(B, 1, H, W)`` bool.

    Returns:
        ``(B, C, H, W)`` (contiguous); holes keep the values of ``image``.
    """
    out = image.clone(memory_format=torch.contiguous_format)
    if axis is None or length <= 1:
        return out
    for b in range(image.shape[0]):
        kernels.average_boundary(
            kernels.as_array(image[b]),
            kernels.as_array(depth[b, 0].to(image.dtype)),
            kernels.as_array(holes[b, 0]),
            kernels.true_indices(holes[b, 0]).numpy(),
            axis == 3,
            length,
            float(tolerance),
            out[b].numpy(),
        )
    return out


def smooth_holes(
    image: torch.Tensor, holes: torch.Tensor, sigma: tuple[float, float], *, inplace: bool = False
) -> torch.Tensor:
    """Smooth the values inside holes with a Gaussian that only averages hole pixels (normalised convolution).

    ``out = G * (I · m) / G * m`` at hole pixels (``m`` the hole mask), the input elsewhere, so nothing outside a
    hole (in particular no foreground beside it) is mixed in: only what the filler already put there.

    Args:
        image: ``(B, C, H, W)`` filled image.
        holes: ``(B, 1, H, W)`` bool.
        sigma: ``(sigma_x, sigma_y)`` in pixels.
        inplace: write into ``image`` instead of a copy.

    Returns:
        ``(B, C, H, W)``.
    """
    import cv2

    sx, sy = (float(s) for s in sigma)
    if not kernels.any_true(holes) or (sx <= 0 and sy <= 0):
        return image
    kx, ky = (2 * int(np.ceil(3 * s)) + 1 if s > 0 else 1 for s in (sx, sy))
    out = image if inplace else image.clone()
    for b in range(image.shape[0]):
        mask = kernels.as_array(holes[b, 0])
        source = kernels.as_array(image[b].float())
        target = out[b].numpy()
        # In place, a group's box may hold another group's already smoothed holes, but only beyond the kernel's
        # reach of this group's pixels (see _hole_groups), so the result is the same as from a copy.
        for y0, y1, x0, x1, own in _hole_groups(mask, kx, ky):
            # Numerator channels and the mask (denominator) blurred in one call.
            both = np.empty((y1 - y0, x1 - x0, image.shape[1] + 1), np.float32)
            kernels.pack_masked(source, mask[y0:y1, x0:x1], y0, x0, both)
            blurred = cv2.GaussianBlur(both, (kx, ky), sx or 0.01, sigmaY=sy or 0.01).reshape(both.shape)
            kernels.unpack_normalised(blurred, own, y0, x0, target)
    return out


def _hole_groups(mask: np.ndarray, kx: int, ky: int) -> list[tuple[int, int, int, int, np.ndarray]]:
    """Boxes that cover the reach of a ``kx × ky`` kernel around groups of holes, for convolutions that need only
    the holes' neighbourhood: ``(y0, y1, x0, x1, own)`` with ``own`` the box's ``(H', W')`` bool mask of the
    group's hole pixels. Holes closer than a kernel's size share a group; when the groups' boxes would cover more
    than the one box around all holes, that one box is returned.
    """
    if not mask.any():
        return []
    h, w = mask.shape

    def box(rows: np.ndarray, cols: np.ndarray) -> tuple[int, int, int, int]:
        # The kernel's half-size: the reach of a hole pixel's output.
        ry, rx = ky // 2, kx // 2
        return max(0, rows[0] - ry), min(h, rows[-1] + ry + 1), max(0, cols[0] - rx), min(w, cols[-1] + rx + 1)

    import cv2

    # Group on a grid of cells (an 8× smaller image): cells with holes, grown by more than a kernel's size, that
    # touch form one group, so holes of different groups are farther apart than the kernel reaches.
    cell = 8
    hc, wc = -(-h // cell), -(-w // cell)
    padded = np.zeros((hc * cell, wc * cell), bool)
    padded[:h, :w] = mask
    coarse = padded.view(np.uint8).reshape(hc, cell, wc * cell).max(axis=1).reshape(hc, wc, cell).max(axis=2)
    grow = -(-max(kx, ky) // cell) + 1
    near = cv2.dilate(coarse, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    groups = []
    for g in range(1, count):
        cx, cy, cw, ch = (int(v) for v in stats[g, :4])
        gy, gx = cy * cell, cx * cell
        ours = np.repeat(np.repeat(labels[cy : cy + ch, cx : cx + cw] == g, cell, axis=0), cell, axis=1)
        sub = padded[gy : gy + ch * cell, gx : gx + cw * cell] & ours
        rows, cols = np.nonzero(sub.any(axis=1))[0] + gy, np.nonzero(sub.any(axis=0))[0] + gx
        y0, y1, x0, x1 = box(rows, cols)
        own = np.zeros((y1 - y0, x1 - x0), bool)
        oy0, oy1 = max(y0, gy), min(y1, gy + ch * cell)
        ox0, ox1 = max(x0, gx), min(x1, gx + cw * cell)
        own[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] = sub[oy0 - gy : oy1 - gy, ox0 - gx : ox1 - gx]
        groups.append((y0, y1, x0, x1, own))
    y0, y1, x0, x1 = box(np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0])
    if sum((g[1] - g[0]) * (g[3] - g[2]) for g in groups) > (y1 - y0) * (x1 - x0):
        return [(y0, y1, x0, x1, mask[y0:y1, x0:x1])]
    return groups
