"""Compiled per-pixel kernels of the renderer (numba, cached on disk after the first call).

The renderer's inner loops — the z-buffer and the trace of each target pixel back into the source with
surface-consistent bilinear sampling — touch every pixel a handful of times with data-dependent branches. As
vectorised torch they cost about forty full-size temporaries per view; fused here they run in one pass per pixel,
in parallel over bands of rows (:func:`run_rows`). The camera geometry stays in :mod:`viewshift.geometry`:
callers hand these kernels the ``3×3`` matrix ``M = K_to R K_from⁻¹`` and vector ``t = K_to t`` of each
camera-to-camera transfer (:func:`viewshift.geometry.transfer_matrices`), under which a pixel ``p = (u, v, 1)`` at
depth ``z`` goes to ``q = M p z + t``: pixel ``(q_0, q_1) / max(q_2, MIN_DEPTH)``, depth ``q_2`` — the definition
of :func:`viewshift.geometry.project_depth`, with its ``MIN_DEPTH``; ``tests/render/test_kernels.py`` checks
:func:`_transfer` against it point for point.

Arrays are numpy views of torch tensors (no copies): images ``(C, H, W)``, depth and inverse depth ``(H, W)``.
Nothing here is differentiable; training samples through :func:`viewshift.render.warp.inverse_warp`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numba
import numpy as np

# Frozen into the kernels when they compile. numba's on-disk cache is keyed on this file's text only: after
# changing MIN_DEPTH, edit this file (or delete __pycache__/kernels.*.nb[ic]); tests/render/test_kernels.py fails
# on a stale constant.
from viewshift.geometry.projection import MIN_DEPTH

if TYPE_CHECKING:
    import torch

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"nsz", "arcp", "contract", "afn", "reassoc"}}


# The trace's per-pixel arithmetic is float32 (the images' and depths' type): ~10 % faster than double in an
# A/B of the trace kernel here, and pixel coordinates of a 12 MP image keep ~5e-4 px of precision. Literals are
# typed float32 so that nothing is promoted to double.
_ZERO, _ONE, _TWO, _HALF = np.float32(0.0), np.float32(1.0), np.float32(2.0), np.float32(0.5)
_TINY_W = np.float32(MIN_DEPTH)  # smallest depth a point may have in the other camera (behind it: clamped)
_TINY_SUM = np.float32(1e-6)  # smallest total bilinear weight before renormalising
_TINY_INV = np.float32(1e-12)  # smallest inverse depth
_EDGE = np.float32(1e-3)  # sample points are kept this far inside the last pixel


@numba.njit(inline="always", **_JIT)
def _as_transfer(M, t):
    """A transfer ``M`` ``(3, 3)``, ``t`` ``(3,)`` (any float type) as a float32 12-tuple of scalars, held in
    registers by the loops instead of being read from memory per pixel."""
    f = np.float32
    return (
        f(M[0, 0]), f(M[0, 1]), f(M[0, 2]), f(M[1, 0]), f(M[1, 1]), f(M[1, 2]),
        f(M[2, 0]), f(M[2, 1]), f(M[2, 2]), f(t[0]), f(t[1]), f(t[2]),
    )  # fmt: skip


@numba.njit(inline="always", **_JIT)
def _transfer(T, u, v, z):
    """Pixel ``(u, v)`` at depth ``z`` moved by the transfer ``T`` (:func:`_as_transfer`) to the other camera: its
    pixel ``(u', v')`` and depth there (:func:`viewshift.geometry.project_depth`'s definition)."""
    m00, m01, m02, m10, m11, m12, m20, m21, m22, t0, t1, t2 = T
    x = (m00 * u + m01 * v + m02) * z + t0
    y = (m10 * u + m11 * v + m12) * z + t1
    w = (m20 * u + m21 * v + m22) * z + t2
    r = _ONE / max(w, _TINY_W)
    return x * r, y * r, w


@numba.njit(inline="always", **_JIT)
def _sample(values, inv, su, sv, expected, tol, out):
    """Surface-consistent bilinear sample at source point ``(su, sv)``.

    Each of the four neighbours keeps its bilinear weight only if its inverse depth is within ``tol`` of
    ``1 / expected``; weights are renormalised. Writes the ``C`` mixed values into ``out`` (when ``values`` has
    channels) and returns ``(depth, valid)``: the mixed depth (taken in inverse depth) and whether the
    neighbour whose area contains the point agrees. Where it does not, the depth returned is ``expected``.
    """
    h, w = inv.shape
    u = min(max(su, -_ONE), np.float32(w) - _EDGE)
    v = min(max(sv, -_ONE), np.float32(h) - _EDGE)
    # Corner columns/rows (floor by truncation: u, v >= -1), clamped into the image; the bilinear factor of a
    # corner outside the image is zero, so it gets no weight.
    iu = np.int32(u + _ONE) - np.int32(1)
    iv = np.int32(v + _ONE) - np.int32(1)
    fu = u - np.float32(iu)
    fv = v - np.float32(iv)
    xa, xb = max(iu, np.int32(0)), min(iu + np.int32(1), np.int32(w - 1))
    ya, yb = max(iv, np.int32(0)), min(iv + np.int32(1), np.int32(h - 1))
    ref = _ONE / expected
    i00, i10, i01, i11 = inv[ya, xa], inv[ya, xb], inv[yb, xa], inv[yb, xb]
    gu0 = _ONE - fu if iu >= 0 else _ZERO
    gu1 = fu if iu + 1 < w else _ZERO
    gv0 = _ONE - fv if iv >= 0 else _ZERO
    gv1 = fv if iv + 1 < h else _ZERO
    a00 = abs(i00 - ref) <= tol
    a10 = abs(i10 - ref) <= tol
    a01 = abs(i01 - ref) <= tol
    a11 = abs(i11 - ref) <= tol
    w00 = gu0 * gv0 if a00 else _ZERO
    w10 = gu1 * gv0 if a10 else _ZERO
    w01 = gu0 * gv1 if a01 else _ZERO
    w11 = gu1 * gv1 if a11 else _ZERO
    norm = _ONE / max(w00 + w10 + w01 + w11, _TINY_SUM)
    for k in range(values.shape[0]):
        mix = w00 * values[k, ya, xa] + w10 * values[k, ya, xb] + w01 * values[k, yb, xa] + w11 * values[k, yb, xb]
        out[k] = mix * norm
    # Valid when the neighbour whose area contains the point (the nearest, whose bilinear factor is >= 1/4 when it
    # lies in the image) agrees.
    right = fu >= _HALF
    down = fv >= _HALF
    nearest = w11 if (right and down) else w01 if down else w10 if right else w00
    valid = nearest > _ZERO
    imix = w00 * i00 + w10 * i10 + w01 * i01 + w11 * i11
    return (_ONE / max(imix * norm, _TINY_INV) if valid else expected), valid


@numba.njit(inline="always", **_JIT)
def _trace(values, inv, x, y, z_guess, T_ts, T_st, inv_tol, steps, out, scratch):
    """Trace target pixel ``(x, y)`` with depth guess ``z_guess`` into the source and sample it.

    ``T_ts`` transfers target → source, ``T_st`` source → target (:func:`_as_transfer`). The source coordinate is
    refined by ``steps`` fixed-point steps ``s <- s + (p - proj(s))`` through the source surface; then colours
    are sampled consistently into ``out``. Returns ``(z_target, valid, su, sv)``.
    """
    su, sv, z_src = _transfer(T_ts, x, y, z_guess)
    z_cur = z_guess
    for step in range(steps):
        # The z-buffer's depth can be off by one pixel's worth of slope: allow more on the first pass.
        tol = inv_tol * (_TWO if step == 0 else _ONE)
        d_s, _ = _sample(values[:0], inv, su, sv, z_src, tol, scratch)
        bu, bv, z_back = _transfer(T_st, su, sv, d_s)
        su += x - bu
        sv += y - bv
        z_cur = z_back
        z_src = d_s
    _, ok = _sample(values, inv, su, sv, z_src, inv_tol, out)
    return z_cur, ok and z_cur > 0, su, sv


@numba.njit(**_JIT)
def trace_rows(
    values, depth, inv, z_near, M_ts, t_ts, M_st, t_st, inv_tol, steps, image_out, depth_out, holes_out, y0, y1
):
    """Render target rows ``y0 .. y1 - 1`` from the source through the z-buffer ``z_near`` ``(H_t, W_t)``.

    Args:
        values: ``(C, H, W)`` float32 source values; ``depth``, ``inv``: ``(H, W)`` float32 source depth and its
            inverse.
        z_near: ``(H_t, W_t)`` target depth from :func:`splat_depth` (``inf`` where empty).
        M_ts, t_ts, M_st, t_st: ``(3, 3)`` and ``(3,)`` transfers target → source and source → target.
        inv_tol: inverse-depth tolerance of "same surface"; steps: refinement steps.
        image_out ``(C, H_t, W_t)``, depth_out ``(H_t, W_t)``, holes_out ``(H_t, W_t)`` bool: written.

    A pixel whose trace fails although the z-buffer covers it (the near surface's footprint overhangs an
    occlusion edge, so the trace lands on a farther surface) is traced again with that farther surface's depth.
    """
    c = values.shape[0]
    h, w = depth.shape
    wt = z_near.shape[1]
    T_ts = _as_transfer(M_ts, t_ts)
    T_st = _as_transfer(M_st, t_st)
    tol = np.float32(inv_tol)
    out = np.empty(c, values.dtype)
    scratch = np.empty(0, values.dtype)
    for y in range(y0, y1):
        fy = np.float32(y)
        for x in range(wt):
            fx = np.float32(x)
            zg = z_near[y, x]
            ok = False
            z = zg
            if np.isfinite(zg):
                z, ok, su, sv = _trace(values, inv, fx, fy, zg, T_ts, T_st, tol, steps, out, scratch)
                if not ok:
                    lu = min(max(round(su), 0), w - 1)
                    lv = min(max(round(sv), 0), h - 1)
                    _, _, z_landed = _transfer(T_st, np.float32(lu), np.float32(lv), depth[int(lv), int(lu)])
                    if z_landed > zg:
                        z, ok, _, _ = _trace(values, inv, fx, fy, z_landed, T_ts, T_st, tol, steps, out, scratch)
            holes_out[y, x] = not ok
            if ok:
                depth_out[y, x] = z
                for k in range(c):
                    image_out[k, y, x] = out[k]
            else:
                depth_out[y, x] = np.inf
                for k in range(c):
                    image_out[k, y, x] = 0.0


@numba.njit(inline="always", **_JIT)
def _splat(buffer, u, v, z, footprint):
    """Write depth ``z`` of a point at ``(u, v)`` into the ``footprint × footprint`` pixels around it where it is
    nearer than what ``buffer`` holds (footprint 1: the nearest pixel). Points with ``z <= 0`` are dropped."""
    h, w = buffer.shape
    reach = np.float32(footprint + 1)
    if not (z > 0 and u >= -reach and u <= w + reach and v >= -reach and v <= h + reach):
        return
    if footprint == 1:
        x0 = int(round(u))
        y0 = int(round(v))
    else:
        start = footprint // 2 - 1
        x0 = int(math.floor(u)) - start
        y0 = int(math.floor(v)) - start
    for y in range(max(y0, 0), min(y0 + footprint, h)):
        for x in range(max(x0, 0), min(x0 + footprint, w)):
            if z < buffer[y, x]:
                buffer[y, x] = z


@numba.njit(**_JIT)
def transfer_pixels(M, t, u, v, z, out):
    """:func:`_transfer` of ``N`` pixels ``(u[i], v[i])`` at depth ``z[i]`` (all ``(N,)``) by ``M`` ``(3, 3)``,
    ``t`` ``(3,)``, in the arrays' own precision (no float32 cast): writes ``out`` ``(3, N)``, the pixels
    ``u', v'`` and depths in the other camera. The renderer's per-pixel transfer, exposed for its tests."""
    T = (M[0, 0], M[0, 1], M[0, 2], M[1, 0], M[1, 1], M[1, 2], M[2, 0], M[2, 1], M[2, 2], t[0], t[1], t[2])
    for i in range(u.shape[0]):
        out[0, i], out[1, i], out[2, i] = _transfer(T, u[i], v[i], z[i])


@numba.njit(**_JIT)
def splat_depth_rows(depth, M, t, footprint, buffer, y0, y1):
    """Z-buffer source rows ``y0 .. y1 - 1`` of ``depth`` ``(H, W)``, moved by the transfer ``M, t``, into
    ``buffer`` ``(H_t, W_t)``."""
    w = depth.shape[1]
    T = _as_transfer(M, t)
    for y in range(y0, y1):
        for x in range(w):
            # In double (coordinates promote the float32 transfer): measured faster here than single.
            u, v, z = _transfer(T, float(x), float(y), depth[y, x])
            _splat(buffer, u, v, z, footprint)


def splat_depth(depth: np.ndarray, M: np.ndarray, t: np.ndarray, size: tuple[int, int], footprint: int) -> np.ndarray:
    """The target depth buffer ``size`` ``(H_t, W_t)`` of source ``depth`` ``(H, W)`` moved by ``M, t``; ``inf``
    where no point lands. Bands of source rows go to separate threads, each with its own buffer (a z-buffer
    written by two threads at once could lose the nearer depth), merged by a minimum."""
    buffers = [np.full(size, np.inf, np.float32) for _ in _bands(depth.shape[0])[1:]]
    run_rows(splat_depth_rows, depth.shape[0], depth, M, t, footprint, buffers)
    for other in buffers[1:]:
        np.minimum(buffers[0], other, out=buffers[0])
    return buffers[0]


@numba.njit(**_JIT)
def average_boundary(image, depth, holes, hole_index, along_rows, length, tol, out):
    """The colours a hole filler takes from the pixels bordering holes.

    At each valid pixel next to a hole (in its 4-neighbourhood) ``out`` ``(C, H, W)`` gets the mean of the pixel
    and its neighbours up to ``length // 2`` pixels away along rows (``along_rows``) or columns that are valid and
    on its surface (depth within ``tol`` relative of its own); other pixels of ``out`` are not touched.
    ``image`` ``(C, H, W)``, ``depth`` ``(H, W)``, ``holes`` ``(H, W)`` bool, ``hole_index`` ``(n,)`` the flat
    row-major indices of all hole pixels: the work is proportional to the number of holes, not of pixels (a pixel
    bordering several holes is averaged again, to the same value).
    """
    c = image.shape[0]
    h, w = holes.shape
    reach = length // 2
    for i in range(hole_index.shape[0]):
        hy, hx = hole_index[i] // w, hole_index[i] % w
        for dy, dx in ((0, -1), (0, 1), (-1, 0), (1, 0)):
            y, x = hy + dy, hx + dx
            if x < 0 or x >= w or y < 0 or y >= h or holes[y, x]:
                continue
            z = depth[y, x]
            for k in range(c):
                out[k, y, x] = image[k, y, x]
            count = 1.0
            for step in range(-reach, reach + 1):
                yy, xx = (y, x + step) if along_rows else (y + step, x)
                if step == 0 or xx < 0 or xx >= w or yy < 0 or yy >= h or holes[yy, xx]:
                    continue
                if abs(depth[yy, xx] - z) <= tol * z:
                    count += 1.0
                    for k in range(c):
                        out[k, y, x] += image[k, yy, xx]
            for k in range(c):
                out[k, y, x] /= count


@numba.njit(**_JIT)
def outside(hole_index, width, M, t, z, height_other, width_other, out):
    """``out`` ``(H, W)`` bool (zeroed by the caller) is set True at the hole pixels (flat row-major indices
    ``hole_index`` ``(n,)`` into an image ``width`` wide) whose ray, taken at depth ``z`` and moved by the transfer
    ``M, t``, lands behind the other camera or outside its ``height_other × width_other`` image (the test of
    :func:`viewshift.render.warp.in_view`). Work proportional to the number of holes."""
    T = _as_transfer(M, t)
    zf = np.float32(z)
    for i in range(hole_index.shape[0]):
        y, x = hole_index[i] // width, hole_index[i] % width
        u, v, d = _transfer(T, np.float32(x), np.float32(y), zf)
        out[y, x] = not (
            d > MIN_DEPTH and u >= -0.5 and u <= width_other - 0.5 and v >= -0.5 and v <= height_other - 0.5
        )


@numba.njit(**_JIT)
def quantise_rows(planes, top, out, y0, y1):
    """Float planes ``(C, H, W)`` in [0, 1] to interleaved integer samples ``out`` ``(H, W, C)`` (its dtype),
    rounded to nearest (ties to even) and clipped to ``[0, top]``, NaN to 0, for rows ``y0 .. y1 - 1``: the
    rounding of :func:`viewshift.io.from_float`, fused with the transpose."""
    c, _, w = planes.shape
    for y in range(y0, y1):
        for x in range(w):
            for k in range(c):
                v = planes[k, y, x] * top
                out[y, x, k] = np.rint(min(max(v, 0.0), top)) if v == v else 0.0


@numba.njit(**_JIT)
def tile_detail_rows(image, holes, need, stride, cell, fill_sum, fill_count, surround_sum, surround_count, t0, t1):
    """Per-tile sums of the squared detail responses of :mod:`viewshift.render.realism`, for tile rows
    ``t0 .. t1 - 1`` and only at the tiles where ``need`` ``(T_h, T_w)`` is True (the others are not touched).

    The response grid is that of ``realism._highpass``: response ``(i, j)`` is Immerkær's
    ``N = [1, -2, 1]^T [1, -2, 1]`` applied to ``image`` ``(C, H, W)`` at pixel ``(1 + stride i, 1 + stride j)``;
    tile ``(a, b)`` holds responses ``i`` in ``[a cell, (a + 1) cell)``, ``j`` likewise (clipped at the grid's
    end). A response counts for the *fill* where its centre pixel is a hole (``holes`` ``(H, W)`` bool), for the
    *surroundings* where its whole 3×3 window is not. Writes ``fill_sum``, ``surround_sum`` ``(C, T_h, T_w)`` (sums
    of ``r**2``) and ``fill_count``, ``surround_count`` ``(T_h, T_w)`` (numbers of responses).
    """
    c = image.shape[0]
    h, w = holes.shape
    rh = (h - 2 + stride - 1) // stride
    rw = (w - 2 + stride - 1) // stride
    acc_f = np.zeros(c)
    acc_s = np.zeros(c)
    for a in range(t0, t1):
        for b in range(need.shape[1]):
            if not need[a, b]:
                continue
            acc_f[:] = 0.0
            acc_s[:] = 0.0
            n_f = 0
            n_s = 0
            for i in range(a * cell, min((a + 1) * cell, rh)):
                y = 1 + stride * i
                for j in range(b * cell, min((b + 1) * cell, rw)):
                    x = 1 + stride * j
                    is_fill = holes[y, x]
                    is_surround = not (
                        holes[y - 1, x - 1]
                        or holes[y - 1, x]
                        or holes[y - 1, x + 1]
                        or holes[y, x - 1]
                        or is_fill
                        or holes[y, x + 1]
                        or holes[y + 1, x - 1]
                        or holes[y + 1, x]
                        or holes[y + 1, x + 1]
                    )
                    if not (is_fill or is_surround):
                        continue
                    n_f += is_fill
                    n_s += is_surround
                    for k in range(c):
                        r0 = image[k, y - 1, x - 1] - 2.0 * image[k, y - 1, x] + image[k, y - 1, x + 1]
                        r1 = image[k, y, x - 1] - 2.0 * image[k, y, x] + image[k, y, x + 1]
                        r2 = image[k, y + 1, x - 1] - 2.0 * image[k, y + 1, x] + image[k, y + 1, x + 1]
                        r = r0 - 2.0 * r1 + r2
                        if is_fill:
                            acc_f[k] += r * r
                        else:
                            acc_s[k] += r * r
            fill_count[a, b] = n_f
            surround_count[a, b] = n_s
            for k in range(c):
                fill_sum[k, a, b] = acc_f[k]
                surround_sum[k, a, b] = acc_s[k]


@numba.njit(**_JIT)
def pack_masked(image, mask, y0, x0, out):
    """The numerator and denominator planes of a normalised convolution over a box: ``out`` ``(h, w, C + 1)``
    gets ``image[k, y0 + y, x0 + x] * m`` in channel ``k`` and ``m`` in channel ``C``, with ``m`` the box's mask
    ``mask`` ``(h, w)`` bool; ``image`` ``(C, H, W)``."""
    c = image.shape[0]
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            if mask[y, x]:
                for k in range(c):
                    out[y, x, k] = image[k, y0 + y, x0 + x]
                out[y, x, c] = 1.0
            else:
                for k in range(c + 1):
                    out[y, x, k] = 0.0


@numba.njit(**_JIT)
def unpack_normalised(blurred, own, y0, x0, image):
    """Write the normalised convolution ``blurred[..., k] / blurred[..., C]`` (``blurred`` ``(h, w, C + 1)``, the
    blurred planes of :func:`pack_masked`) into ``image`` ``(C, H, W)`` at the box's pixels where ``own``
    ``(h, w)`` is True; the other pixels are not touched."""
    c = image.shape[0]
    for y in range(own.shape[0]):
        for x in range(own.shape[1]):
            if own[y, x]:
                norm = 1.0 / max(blurred[y, x, c], 1e-6)
                for k in range(c):
                    image[k, y0 + y, x0 + x] = blurred[y, x, k] * norm


def true_indices(mask: torch.Tensor) -> torch.Tensor:
    """``(n,)`` int64 flat indices of the True elements of a CPU bool tensor, in row-major order (numpy's
    ``flatnonzero``: several times faster than ``torch.nonzero`` on large masks)."""
    import torch

    return torch.from_numpy(np.flatnonzero(as_array(mask)))


def any_true(mask: torch.Tensor) -> bool:
    """Whether a CPU bool tensor holds any True (numpy's ``any``; ``torch.any`` costs ~1 ms per megapixel)."""
    return bool(as_array(mask).any())


@contextlib.contextmanager
def torch_threads(count: int):
    """Run the enclosed torch operations with ``count`` intra-op threads, then restore the previous number.

    For code made of many small operations (the hole filler and the realism step work on the hole pixels only,
    thousands of elements per operation): with two threads each operation hands work to the other core, and on a
    2-core machine whose other core is busy each hand-off can wait milliseconds. Measured here with other jobs
    running: one 0.4 MP view with diagonal parallax took 0.72 s with 2 threads and 0.16 s with 1.
    """
    import torch

    previous = torch.get_num_threads()
    if previous == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def cached_on_disk() -> bool:
    """Whether the renderer's kernels are in numba's on-disk cache; if not, the first render compiles them (some
    seconds, once per installation)."""
    # numba keeps no public handle on its cache index; its absence only means "will compile", never an error.
    kernels = (
        trace_rows,
        splat_depth_rows,
        average_boundary,
        outside,
        quantise_rows,
        tile_detail_rows,
        pack_masked,
        unpack_normalised,
    )
    files = (getattr(getattr(k, "_cache", None), "_cache_file", None) for k in kernels)
    return all(os.path.exists(getattr(f, "_index_path", "")) for f in files)


def as_array(tensor) -> np.ndarray:
    """A contiguous numpy view of a CPU torch tensor (a copy only if it is not contiguous)."""
    return np.ascontiguousarray(tensor.detach().cpu().numpy())


def _bands(rows: int) -> list[int]:
    """Bounds of the bands of rows handed to threads: as many bands as torch uses threads (at least 16 rows
    each)."""
    import torch

    threads = max(1, min(torch.get_num_threads(), rows // 16))
    return [rows * i // threads for i in range(threads + 1)]


def run_rows(kernel, rows: int, *args) -> None:
    """Run ``kernel(*args, y0, y1)`` over ``rows`` rows, split into bands across threads.

    The kernels release the GIL, so plain Python threads run them in parallel — no OpenMP runtime of numba's
    beside torch's (two runtimes spin-waiting against each other slowed torch several-fold here). A list as the
    last argument gives each band its own item.
    """
    bounds = _bands(rows)
    bands = len(bounds) - 1

    def job(i: int) -> None:
        own = args if not isinstance(args[-1], list) else (*args[:-1], args[-1][i])
        kernel(*own, bounds[i], bounds[i + 1])

    if bands == 1:
        job(0)
        return
    others = [_pool().submit(job, i) for i in range(1, bands)]
    job(0)  # the calling thread takes the first band
    for done in others:
        done.result()


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """One pool for the process: starting threads for every call cost milliseconds each on a busy machine."""
    return ThreadPoolExecutor(max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="viewshift-kernels")
