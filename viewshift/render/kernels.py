"""Compiled per-pixel kernels of the renderer (numba, cached on disk after the first call).

The renderer's inner loops — the z-buffer and the trace of each target pixel back into the source with
surface-consistent bilinear sampling — touch every pixel a handful of times with data-dependent branches. As
vectorised torch they cost about forty full-size temporaries per view; fused here they run in one pass per pixel,
in parallel over bands of rows (:func:`run_rows`). The camera geometry stays in :mod:`viewshift.geometry`:
callers hand these kernels the ``3×3`` matrix ``M = K_to R K_from⁻¹`` and vector ``t = K_to t`` of each
camera-to-camera transfer, under which a pixel ``p = (u, v, 1)`` at depth ``z`` goes to ``M p z + t``
(homogeneous).

Arrays are numpy views of torch tensors (no copies): images ``(C, H, W)``, depth and inverse depth ``(H, W)``.
Nothing here is differentiable; training samples through :func:`viewshift.render.warp.inverse_warp`.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"nsz", "arcp", "contract", "afn", "reassoc"}}


@numba.njit(inline="always", **_JIT)
def _transfer(M, t, u, v, z):
    """Pixel ``(u, v)`` at depth ``z`` moved to the other camera: its pixel ``(u', v')`` and depth there."""
    x = (M[0, 0] * u + M[0, 1] * v + M[0, 2]) * z + t[0]
    y = (M[1, 0] * u + M[1, 1] * v + M[1, 2]) * z + t[1]
    w = (M[2, 0] * u + M[2, 1] * v + M[2, 2]) * z + t[2]
    d = max(w, 1e-9)
    return x / d, y / d, w


@numba.njit(inline="always", **_JIT)
def _sample(values, inv, su, sv, expected, tol, out):
    """Surface-consistent bilinear sample at source point ``(su, sv)``.

    Each of the four neighbours keeps its bilinear weight only if its inverse depth is within ``tol`` of
    ``1 / expected``; weights are renormalised. Writes the ``C`` mixed values into ``out`` (when ``values`` has
    channels) and returns ``(depth, valid)``: the mixed depth (taken in inverse depth) and whether the
    neighbour whose area contains the point agrees. Where it does not, the depth returned is ``expected``.
    """
    h, w = inv.shape
    u = min(max(su, -1.0), w - 1e-3)
    v = min(max(sv, -1.0), h - 1e-3)
    u0 = math.floor(u)
    v0 = math.floor(v)
    fu = u - u0
    fv = v - v0
    # Corner columns/rows clamped into the image; corners outside get no weight.
    xa, xb, ya, yb = int(u0), int(u0) + 1, int(v0), int(v0) + 1
    in_xa, in_xb, in_ya, in_yb = xa >= 0, xb < w, ya >= 0, yb < h
    xa, xb, ya, yb = max(xa, 0), min(xb, w - 1), max(ya, 0), min(yb, h - 1)
    ref = 1.0 / expected
    i00, i10, i01, i11 = inv[ya, xa], inv[ya, xb], inv[yb, xa], inv[yb, xb]
    a00 = in_ya and in_xa and abs(i00 - ref) <= tol
    a10 = in_ya and in_xb and abs(i10 - ref) <= tol
    a01 = in_yb and in_xa and abs(i01 - ref) <= tol
    a11 = in_yb and in_xb and abs(i11 - ref) <= tol
    w00 = (1.0 - fu) * (1.0 - fv) if a00 else 0.0
    w10 = fu * (1.0 - fv) if a10 else 0.0
    w01 = (1.0 - fu) * fv if a01 else 0.0
    w11 = fu * fv if a11 else 0.0
    wsum = max(w00 + w10 + w01 + w11, 1e-6)
    for k in range(values.shape[0]):
        mix = w00 * values[k, ya, xa] + w10 * values[k, ya, xb] + w01 * values[k, yb, xa] + w11 * values[k, yb, xb]
        out[k] = mix / wsum
    # Valid when the neighbour whose area contains the point (the nearest) agrees.
    if fv >= 0.5:
        valid = a11 if fu >= 0.5 else a01
    else:
        valid = a10 if fu >= 0.5 else a00
    if not valid:
        return expected, False
    imix = w00 * i00 + w10 * i10 + w01 * i01 + w11 * i11
    return 1.0 / max(imix / wsum, 1e-12), True


@numba.njit(inline="always", **_JIT)
def _trace(values, inv, x, y, z_guess, M_ts, t_ts, M_st, t_st, inv_tol, steps, out, scratch):
    """Trace target pixel ``(x, y)`` with depth guess ``z_guess`` into the source and sample it.

    ``M_ts, t_ts`` transfer target → source, ``M_st, t_st`` source → target. The source coordinate is refined
    by ``steps`` fixed-point steps ``s <- s + (p - proj(s))`` through the source surface; then colours are
    sampled consistently into ``out``. Returns ``(z_target, valid, su, sv)``.
    """
    su, sv, z_src = _transfer(M_ts, t_ts, x, y, z_guess)
    z_cur = z_guess
    for step in range(steps):
        # The z-buffer's depth can be off by one pixel's worth of slope: allow more on the first pass.
        tol = inv_tol * (2.0 if step == 0 else 1.0)
        d_s, _ = _sample(values[:0], inv, su, sv, z_src, tol, scratch)
        bu, bv, z_back = _transfer(M_st, t_st, su, sv, d_s)
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
        values: ``(C, H, W)`` source values; ``depth``, ``inv``: ``(H, W)`` source depth and its inverse.
        z_near: ``(H_t, W_t)`` target depth from :func:`zbuffer` (``inf`` where empty).
        M_ts, t_ts, M_st, t_st: ``(3, 3)`` and ``(3,)`` transfers target → source and source → target.
        inv_tol: inverse-depth tolerance of "same surface"; steps: refinement steps.
        image_out ``(C, H_t, W_t)``, depth_out ``(H_t, W_t)``, holes_out ``(H_t, W_t)`` bool: written.

    A pixel whose trace fails although the z-buffer covers it (the near surface's footprint overhangs an
    occlusion edge, so the trace lands on a farther surface) is traced again with that farther surface's depth.
    """
    c = values.shape[0]
    h, w = depth.shape
    wt = z_near.shape[1]
    out = np.empty(c, values.dtype)
    scratch = np.empty(0, values.dtype)
    for y in range(y0, y1):
        for x in range(wt):
            zg = z_near[y, x]
            ok = False
            z = np.inf
            if np.isfinite(zg):
                z, ok, su, sv = _trace(values, inv, x, y, zg, M_ts, t_ts, M_st, t_st, inv_tol, steps, out, scratch)
                if not ok:
                    lu = min(max(round(su), 0), w - 1)
                    lv = min(max(round(sv), 0), h - 1)
                    _, _, z_landed = _transfer(M_st, t_st, lu, lv, depth[int(lv), int(lu)])
                    if z_landed > zg:
                        z, ok, _, _ = _trace(
                            values, inv, x, y, z_landed, M_ts, t_ts, M_st, t_st, inv_tol, steps, out, scratch
                        )
            holes_out[y, x] = not ok
            if ok:
                depth_out[y, x] = z
                for k in range(c):
                    image_out[k, y, x] = out[k]
            else:
                depth_out[y, x] = np.inf
                for k in range(c):
                    image_out[k, y, x] = 0.0


@numba.njit(**_JIT)
def sample_points(values, inv, su, sv, expected, inv_tol, out, depth_out, valid_out):
    """:func:`_sample` for ``N`` points: ``su, sv, expected`` ``(N,)``; writes ``out`` ``(N, C)``, ``depth_out``
    and ``valid_out`` ``(N,)``."""
    for i in range(su.shape[0]):
        d, ok = _sample(values, inv, su[i], sv[i], expected[i], inv_tol, out[i])
        depth_out[i] = d
        valid_out[i] = ok


@numba.njit(inline="always", **_JIT)
def _splat(buffer, u, v, z, footprint):
    """Write depth ``z`` of a point at ``(u, v)`` into the ``footprint × footprint`` pixels around it where it is
    nearer than what ``buffer`` holds (footprint 1: the nearest pixel). Points with ``z <= 0`` are dropped."""
    h, w = buffer.shape
    reach = footprint + 1.0
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
def zbuffer(u, v, z, buffer, footprint):
    """Z-buffer projected points ``(u[i], v[i])`` with depth ``z[i]`` (all ``(N,)``) into ``buffer`` ``(H, W)``."""
    for i in range(u.shape[0]):
        _splat(buffer, u[i], v[i], z[i], footprint)


@numba.njit(**_JIT)
def splat_depth_rows(depth, M, t, footprint, buffer, y0, y1):
    """Z-buffer source rows ``y0 .. y1 - 1`` of ``depth`` ``(H, W)``, moved by the transfer ``M, t``, into
    ``buffer`` ``(H_t, W_t)``."""
    w = depth.shape[1]
    for y in range(y0, y1):
        for x in range(w):
            u, v, z = _transfer(M, t, x, y, depth[y, x])
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
def average_boundary_rows(image, depth, holes, along_rows, length, tol, out, y0, y1):
    """The colours a hole filler takes from the pixels bordering holes, for rows ``y0 .. y1 - 1``.

    At each valid pixel next to a hole (its 4-neighbourhood) ``out`` ``(C, H, W)`` gets the mean of the pixel and
    its neighbours up to ``length // 2`` pixels away along rows (``along_rows``) or columns that are valid and on
    its surface (depth within ``tol`` relative of its own); other pixels of ``out`` are not touched.
    ``image`` ``(C, H, W)``, ``depth`` ``(H, W)``, ``holes`` ``(H, W)`` bool.
    """
    c = image.shape[0]
    h, w = holes.shape
    reach = length // 2
    for y in range(y0, y1):
        for x in range(w):
            if holes[y, x]:
                continue
            edge = (
                (x > 0 and holes[y, x - 1])
                or (x < w - 1 and holes[y, x + 1])
                or (y > 0 and holes[y - 1, x])
                or (y < h - 1 and holes[y + 1, x])
            )
            if not edge:
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
def outside_rows(holes, M, t, z, height, width, out, y0, y1):
    """For rows ``y0 .. y1 - 1``: ``out[y, x]`` ``(H, W)`` bool is True at hole pixels (``holes`` ``(H, W)``) whose
    ray, taken at depth ``z`` and moved by the transfer ``M, t``, lands behind the other camera or outside its
    ``height × width`` image (the test of :func:`viewshift.render.warp.in_view`)."""
    w = holes.shape[1]
    for y in range(y0, y1):
        for x in range(w):
            if not holes[y, x]:
                out[y, x] = False
                continue
            u, v, d = _transfer(M, t, x, y, z)
            out[y, x] = not (d > 1e-6 and u >= -0.5 and u <= width - 0.5 and v >= -0.5 and v <= height - 0.5)


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


def cached_on_disk() -> bool:
    """Whether the renderer's kernels are in numba's on-disk cache; if not, the first render compiles them (some
    seconds, once per installation)."""
    # numba keeps no public handle on its cache index; its absence only means "will compile", never an error.
    kernels = (trace_rows, splat_depth_rows, average_boundary_rows, outside_rows, quantise_rows)
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
