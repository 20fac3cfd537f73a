"""A fast stereo renderer for video: each eye is the source shifted along its rows by a disparity map.

For a stereo pair the two eyes differ from the source camera by a sideways translation and a shift of the
principal point (convergence without toe-in), so every point stays on its row and moves by

    x_eye = x + s · δ(x, y),    δ = f b (1/Z − 1/Z_c),

with ``s = -1/2`` for the right eye, ``+1/2`` for the left (balance 0), ``f`` the focal length, ``b`` the eye
separation and ``Z_c`` the depth shown on the screen plane. Any map that is affine in inverse depth is such a
``δ`` for some ``b`` and ``Z_c``, so this is the same geometry as :func:`viewshift.pipeline.stereo_pair`, solved
row by row instead of by the general 2-D renderer (the row problem is 1-D: no z-buffer footprints and no
fixed-point trace are needed).

Per row, each pair of neighbouring source pixels on one surface spans the interval ``[x_eye(x), x_eye(x+1)]``;
every target pixel inside it samples the source linearly between the two (the exact inverse of the piecewise
linear warp), the nearer surface (larger δ) winning where intervals overlap. Neighbours whose warped distance
stretches by more than ``edge_tolerance_px`` are an occlusion edge and leave a hole between them.

Holes are filled from the background side (the neighbour with smaller δ) by mirroring the background's pixels
across the hole's edge, stopping where the background surface ends. The fill is a fixed function of the frame's
pixels and disparities, with no randomness, so a still scene is filled identically in every frame.
"""

from __future__ import annotations

import numba
import numpy as np

from viewshift.errors import InputError, ShapeError
from viewshift.render import kernels

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _row(src, disp, y, scale, tol, out, holes, zbuf, srcu):
    w = src.shape[1]
    c = src.shape[2]
    f32 = np.float32
    for t in range(w):
        zbuf[t] = -np.inf
        srcu[t] = -1.0
    lo = f32(1.0) - tol
    hi = f32(1.0) + tol
    for x in range(w):
        a = f32(x) + scale * disp[y, x]
        joined_left = False
        if x > 0:
            pa = f32(x - 1) + scale * disp[y, x - 1]
            joined_left = lo <= a - pa <= hi
        joined_right = False
        if x + 1 < w:
            b = f32(x + 1) + scale * disp[y, x + 1]
            span = b - a
            if lo <= span <= hi and span > 0:
                joined_right = True
                t0 = max(int(np.ceil(a)), 0)
                t1 = min(int(np.floor(b)), w - 1)
                for t in range(t0, t1 + 1):
                    frac = (f32(t) - a) / span
                    z = disp[y, x] + frac * (disp[y, x + 1] - disp[y, x])
                    if z > zbuf[t]:
                        zbuf[t] = z
                        srcu[t] = f32(x) + frac
        if not joined_left and not joined_right:  # a lone pixel: splat it to its nearest target
            t = int(np.floor(a + f32(0.5)))
            if 0 <= t < w and disp[y, x] > zbuf[t]:
                zbuf[t] = disp[y, x]
                srcu[t] = f32(x)
    for t in range(w):
        u = srcu[t]
        if u < 0:
            holes[y, t] = True
            continue
        holes[y, t] = False
        x0 = min(int(u), w - 1)
        x1 = min(x0 + 1, w - 1)
        fr = u - f32(x0)
        for k in range(c):
            v = (f32(1.0) - fr) * f32(src[y, x0, k]) + fr * f32(src[y, x1, k])
            out[y, t, k] = v + f32(0.5)
    # Fill each run of holes from its background side, mirroring the background across the edge.
    t = 0
    while t < w:
        if not holes[y, t]:
            t += 1
            continue
        a = t
        while t < w and holes[y, t]:
            t += 1
        b = t - 1  # holes a..b
        left_ok = a > 0
        right_ok = b + 1 < w
        if not left_ok and not right_ok:
            for q in range(a, b + 1):
                for k in range(c):
                    out[y, q, k] = 0
            continue
        use_right = right_ok and (not left_ok or zbuf[b + 1] <= zbuf[a - 1])
        e = b + 1 if use_right else a - 1
        step = 1 if use_right else -1
        z_edge = zbuf[e]
        m_last = e
        mirroring = True
        for i in range(b - a + 1):
            q = b - i if use_right else a + i  # hole pixels outward from the edge
            if mirroring:
                m = e + step * i
                if 0 <= m < w and not holes[y, m] and zbuf[m] <= z_edge + tol:
                    m_last = m
                else:  # the background surface ends: repeat its last pixel
                    mirroring = False
            for k in range(c):
                out[y, q, k] = out[y, m_last, k]
            zbuf[q] = z_edge


@numba.njit(**_JIT)
def shift_rows(src, disp, scale, tol, out, holes, y0, y1):
    """Rows ``y0..y1`` of one eye (see the module docstring); ``src``/``out`` ``(H, W, C)``, ``disp`` ``(H, W)``
    float32, ``holes`` ``(H, W)`` bool (where no source pixel landed, before filling)."""
    w = src.shape[1]
    zbuf = np.empty(w, np.float32)
    srcu = np.empty(w, np.float32)
    for y in range(y0, y1):
        _row(src, disp, y, scale, tol, out, holes, zbuf, srcu)


def shift_view(
    image: np.ndarray,
    disparity: np.ndarray,
    scale: float,
    *,
    edge_tolerance_px: float = 1.0,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One eye: ``image`` with every pixel moved by ``scale · disparity`` along its row, holes filled.

    Args:
        image: ``H×W×C`` ``uint8`` or ``uint16`` source frame.
        disparity: ``H×W`` float32 disparity δ in pixels (larger = nearer; see the module docstring).
        scale: the eye's share of δ: ``+0.5`` for the left eye, ``-0.5`` for the right (balance 0).
        edge_tolerance_px: stretch (px) beyond which neighbours are an occlusion edge.
        out: where to write the view (``H×W×C``, same dtype; may be a view into a larger frame, such as one half
            of a side-by-side frame); a new array if None.

    Returns:
        ``(view, holes)``: ``H×W×C`` same dtype; ``H×W`` bool, pixels no source pixel reached (filled in ``view``).

    A constant disparity shifts the image by whole pixels; the two pixels revealed at the right border mirror
    the pixels beside them:

    >>> img = np.arange(12, dtype=np.uint8).reshape(1, 12, 1).repeat(3, 2)
    >>> view, holes = shift_view(img, np.full((1, 12), 4.0, np.float32), -0.5)
    >>> view[0, :, 0].tolist(), holes[0].tolist()[-3:]
    ([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 10], [False, True, True])
    """
    if image.ndim != 3 or image.dtype not in (np.uint8, np.uint16):
        raise ShapeError(f"image must be H×W×C uint8 or uint16, got {image.shape} {image.dtype}")
    if disparity.shape != image.shape[:2]:
        raise ShapeError(f"disparity is {disparity.shape}, the image {image.shape[:2]}")
    if not edge_tolerance_px > 0:
        raise InputError(f"edge tolerance must be positive, got {edge_tolerance_px}")
    src = np.ascontiguousarray(image)
    disp = np.ascontiguousarray(disparity, dtype=np.float32)
    if out is None:
        out = np.empty_like(src)
    elif out.shape != src.shape or out.dtype != src.dtype:
        raise ShapeError(f"out is {out.shape} {out.dtype}, the view is {src.shape} {src.dtype}")
    holes = np.empty(src.shape[:2], bool)
    kernels.run_rows(shift_rows, src.shape[0], src, disp, np.float32(scale), np.float32(edge_tolerance_px), out, holes)
    return out, holes
