"""Hole filling for forward-rendered views, behind one interface.

A forward renderer leaves *holes* where no source pixel landed: disocclusions revealed by the move (bands beside
the edges of foreground objects) and image borders that moved into view. :func:`fill_holes` fills them with one
of the :data:`FILL_METHODS`:

- ``"background"`` (:func:`fill_background`): continue the background surface from the far side of each hole,
  depth-aware, so the foreground never bleeds in: the background's boundary pixels are carried into the hole
  along the parallax direction and smoothed inside it (:func:`smooth_holes`). Vectorised, batch-friendly,
  ~linear in the number of pixels.
- ``"texture"``: the same, but continuing the background *texture* by reflecting it across the hole boundary
  (sharper; scores lower on measured right views, where a wrong texture guess costs more than a smooth one).
- ``"telea"`` / ``"ns"`` (:func:`fill_opencv`): OpenCV's ``cv2.inpaint`` (Telea's fast marching method, or
  Navier-Stokes), colour only; depth is filled by the background rule.
- ``"none"`` (:func:`fill_none`): leave the holes (callers make them transparent).

Geometry of the ``direction`` hint. With the camera centre moving by ``c`` (camera axes: x right, y down), a
point at depth ``Z`` moves in the image by ``-f c / Z``: near things move against the move more than far
things. So the background behind a foreground edge is revealed on the side the camera moved to: for a camera
moving right (the right view of a stereo pair) the hole opens on the *right* of each foreground object, with the
background on its right. ``direction = (dx, dy)`` is the image-plane direction, from a hole, in which the
background lies; it is the direction of the camera centre's move, ``(c_x, c_y)``: the x, y translation of
``src_T_tgt`` (the new camera's centre in the source frame; for a pure translation, minus that of
``tgt_T_src``). ``(1, 0)`` for a camera moving right, ``(-1, 0)`` for moving left, ``(0, 1)`` for moving down.
Rotation adds no parallax, so only the translation matters. ``tests/render/test_fill.py`` checks this on a
two-plane scene splatted in code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import numpy as np
import torch

from viewshift.errors import DepthError, InputError, ShapeError
from viewshift.render import kernels

FillMethod = Literal["background", "texture", "telea", "ns", "none"]
"""Name of a hole-filling method; see :data:`FILL_METHODS`."""

Direction = tuple[float, float] | Sequence[float] | torch.Tensor
"""A parallax hint ``(dx, dy)``, or a tensor ``(2,)`` or ``(B, 2)`` with one hint per batch item."""

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

_BAND_RATIO = 3  # without a hint, holes with this many times more row than column transitions are searched by row

# ----------------------------------------------------------------------------------------------------- checks


def _check_fill_inputs(image: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor) -> None:
    """Raise a typed error unless ``image (B, C, H, W)``, ``depth (B, 1, H, W)``, ``holes (B, 1, H, W)`` agree."""
    for name, value in (("image", image), ("depth", depth), ("holes", holes)):
        if not isinstance(value, torch.Tensor):
            raise InputError(
                f"{name} must be a torch.Tensor, got {type(value).__name__}; convert it with torch.from_numpy"
            )
    if image.ndim != 4 or image.shape[1] < 1:
        raise ShapeError(
            f"image must have shape (B, C, H, W), got {tuple(image.shape)}; add a batch axis with image[None]"
        )
    b, _, h, w = image.shape
    if depth.shape != (b, 1, h, w):
        raise ShapeError(f"depth must have shape {(b, 1, h, w)} to match image, got {tuple(depth.shape)}")
    if holes.shape != (b, 1, h, w):
        raise ShapeError(f"holes must have shape {(b, 1, h, w)} to match image, got {tuple(holes.shape)}")
    if not image.is_floating_point():
        raise InputError(f"image must be a floating tensor in [0, 1], got {image.dtype}; divide uint8 images by 255")
    if not depth.is_floating_point():
        raise InputError(f"depth must be a floating tensor, got {depth.dtype}")
    if holes.dtype != torch.bool:
        raise InputError(f"holes must be a bool tensor (True = no source pixel), got {holes.dtype}; use holes > 0.5")
    if b == 0 or h == 0 or w == 0:
        raise ShapeError(f"image is empty: shape {tuple(image.shape)}")
    if not (image.device == depth.device == holes.device):
        raise InputError("image, depth and holes must be on the same device")
    # Depth must be positive and finite where it is defined (a NaN fails both comparisons).
    low, high = torch.aminmax(depth.masked_fill(holes, 1.0))  # NaN propagates and fails the test
    if not bool((low > 0) & (high < float("inf"))):
        raise DepthError("depth must be finite and > 0 at every non-hole pixel (larger = farther)")


def _direction_priors(direction: Direction | None, batch: int, device: torch.device) -> torch.Tensor:
    """Prior weight of each candidate side (left, right, up, down) from the parallax hint.

    Args:
        direction: ``None``, a pair ``(dx, dy)``, or a tensor ``(2,)`` / ``(B, 2)``.
        batch: batch size ``B``.
        device: device of the result.

    Returns:
        ``(B, 4)`` float64 priors ``max(-u_x, 0), max(u_x, 0), max(-u_y, 0), max(u_y, 0)`` with ``u`` the unit
        hint, so only the sides the hint points to are preferred; all ones without a hint (or for a zero hint).
    """
    if direction is None:
        return torch.ones(batch, 4, dtype=torch.float64, device=device)
    try:
        hint = torch.as_tensor(direction, dtype=torch.float64, device=device)
    except (TypeError, ValueError, RuntimeError) as error:
        raise InputError(f"direction must be (dx, dy) or a tensor (B, 2), got {direction!r}") from error
    if hint.shape == (2,):
        hint = hint.expand(batch, 2)
    if hint.shape != (batch, 2):
        raise ShapeError(f"direction must be (dx, dy) or a tensor of shape ({batch}, 2), got shape {tuple(hint.shape)}")
    if not bool(torch.isfinite(hint).all()):
        raise InputError("direction must be finite")
    norm = hint.norm(dim=1, keepdim=True)
    unit = torch.where(norm > 0, hint / norm.clamp_min(1e-300), torch.zeros_like(hint))
    priors = torch.stack([-unit[:, 0], unit[:, 0], -unit[:, 1], unit[:, 1]], dim=1).clamp_min(0)
    return torch.where(norm > 0, priors, torch.ones_like(priors))


# ------------------------------------------------------------------------------------------ background filler


def _reflect(offset: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Fold ``offset >= 0`` into ``[0, length)`` by reflection (0, 1, .., n-1, n-1, .., 0, 0, 1, ..)."""
    period = 2 * length
    folded = torch.remainder(offset, period)
    return torch.where(folded >= length, period - 1 - folded, folded)


def _line_candidates(
    hole_lines: torch.Tensor,
    depth_flat: torch.Tensor,
    tolerance: float,
    to_rowmajor: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Background candidates of every hole pixel along its line (row or column), in scan order.

    For a hole pixel at distance ``k`` from the first valid pixel ``r`` after its hole run, the candidate texture
    sample is ``r + (k - 1)`` (reflection across the run boundary), folded back and forth inside the surface
    segment that starts at ``r`` (valid pixels up to the next hole, depth jump or line end) so it never leaves
    that surface. The side before the run is handled symmetrically. Only the first ``m`` pixels of a segment
    matter for a run of ``m`` hole pixels, so each hole pixel checks one: the work is O(number of holes) after a
    single scan of the hole mask.

    Args:
        hole_lines: ``(N, L)`` bool, True at holes; N lines of length L laid out contiguously.
        depth_flat: ``(B * H * W,)`` depth, row-major (read at one or two pixels per hole pixel).
        tolerance: two neighbours lie on different surfaces when ``max(z0, z1) > (1 + tolerance) * min(z0, z1)``.
        to_rowmajor: maps flat scan positions to row-major ones (``None``: the lines are rows).

    Returns:
        ``(pos, k, boundary, sample, exists)``: ``pos (n,)`` flat scan positions of the n hole pixels
        (increasing); ``k (n, 2)`` distances to the boundary pixel before / after the run; ``boundary (n, 2)`` and
        ``sample (n, 2)`` flat scan positions of the boundary pixel (depth) and the texture sample (colour);
        ``exists (n, 2)`` bool, False where the run touches the line's start / end.
    """
    length = hole_lines.shape[1]
    flat_holes = hole_lines.reshape(-1)
    pos = kernels.true_indices(flat_holes)
    n = pos.numel()
    if n == 0:
        empty = torch.zeros(0, 2, dtype=torch.long, device=pos.device)
        return pos, empty, empty, empty, empty.bool()
    x = pos % length
    starts_run = torch.ones(n, dtype=torch.bool, device=pos.device)
    starts_run[1:] = (pos[1:] != pos[:-1] + 1) | (x[1:] == 0)
    first = starts_run.nonzero().squeeze(1)  # index into pos of each run's first pixel
    last = torch.cat([first[1:] - 1, first.new_tensor([n - 1])])
    run_of = torch.cumsum(starts_run, 0) - 1  # run index of each hole pixel
    a, e = pos[first], pos[last]  # flat positions of each run's first and last hole pixel
    line_start = a - a % length
    runs = torch.stack([a - 1, e + 1, e - a + 1, line_start], dim=1)
    before_px, after_px, run_len, start_px = runs[run_of].unbind(1)
    k = torch.stack([pos - before_px, after_px - pos], dim=1)
    exists = torch.stack([before_px >= start_px, after_px < start_px + length], dim=1)

    # Segment lengths (capped at the run length): the first k whose unfolded sample leaves the surface.
    def depth_at(flat: torch.Tensor) -> torch.Tensor:
        return depth_flat.index_select(0, flat if to_rowmajor is None else to_rowmajor(flat))

    scale = 1.0 + tolerance
    lengths = []
    for side, step in ((0, -1), (1, 1)):
        boundary_px = after_px if side else before_px
        raw = boundary_px + step * (k[:, side] - 1)  # the unfolded sample
        end_px = start_px + length - 1
        q = torch.minimum(torch.maximum(raw, start_px), end_px)
        inside = (raw == q) & ~flat_holes[q]  # on the line and not a hole
        prev = torch.minimum(torch.maximum(q - step, start_px), end_px)
        z1, z0 = depth_at(q), depth_at(prev)
        inside &= (k[:, side] == 1) | ~(torch.maximum(z0, z1) > scale * torch.minimum(z0, z1))
        first_bad = torch.where(inside, run_len, k[:, side] - 1)  # per pixel: its k - 1 if it fails, else m
        per_run = torch.full_like(a, length).scatter_reduce(0, run_of, first_bad, "amin")
        lengths.append(per_run[run_of].clamp_min(1))
    sample = torch.stack(
        [before_px - _reflect(k[:, 0] - 1, lengths[0]), after_px + _reflect(k[:, 1] - 1, lengths[1])], dim=1
    )
    boundary = torch.stack([before_px, after_px], dim=1)
    # Missing sides point at the hole pixel itself: a safe index (its weight is zero).
    boundary = torch.where(exists, boundary, pos[:, None])
    sample = torch.where(exists, sample, pos[:, None])
    return pos, k, boundary, sample, exists


def _columns_to_rowmajor(scan: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Flat positions in a ``(B, W, H)`` (column) layout to flat positions in the ``(B, H, W)`` layout."""
    plane = height * width
    b, rest = scan // plane, scan % plane
    return b * plane + (rest % height) * width + rest // height


def _background_pass(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    priors: torch.Tensor,
    tolerance: float,
    use_columns: bool,
    reflect: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One filling pass: every hole pixel with a background candidate on its row or column gets filled.

    Args:
        image: ``(B, C, H, W)`` colours.
        depth: ``(B, H, W)`` depth (larger = farther).
        holes: ``(B, H, W)`` bool.
        priors: ``(B, 4)`` prior weights of the sides (left, right, up, down).
        tolerance: relative depth tolerance.
        use_columns: also search along columns (vertical neighbours).
        reflect: continue the texture by reflection; False takes the boundary pixel's colour (streaks).

    Returns:
        ``(lin, filled, colour, fill_depth)``: ``lin (n,)`` row-major flat indices (into ``B*H*W``) of the hole
        pixels, ``filled (n,)`` bool, ``colour (C, n)``, ``fill_depth (n,)``.
    """
    bsz, channels, height, width = image.shape
    depth_flat = depth.reshape(-1)
    lin, k_row, bnd_row, smp_row, ex_row = _line_candidates(holes.reshape(-1, width), depth_flat, tolerance)
    n = lin.numel()
    ks, bnds, smps, exs = [k_row], [bnd_row], [smp_row], [ex_row]
    if use_columns:
        pos_c, k_col, bnd_col, smp_col, ex_col = _line_candidates(
            holes.transpose(1, 2).reshape(-1, height),
            depth_flat,
            tolerance,
            lambda scan: _columns_to_rowmajor(scan, height, width),
        )
        # Reorder the column-scan results into the row-major order of ``lin``.
        slot = torch.empty(bsz * height * width, dtype=torch.long, device=lin.device)
        slot[_columns_to_rowmajor(pos_c, height, width)] = torch.arange(n, device=lin.device)
        inverse = slot[lin]
        ks.append(k_col[inverse])
        bnds.append(_columns_to_rowmajor(bnd_col[inverse], height, width))
        smps.append(_columns_to_rowmajor(smp_col[inverse], height, width))
        exs.append(ex_col[inverse])
    k = torch.cat(ks, 1)
    boundary = torch.cat(bnds, 1)
    sample = torch.cat(smps, 1) if reflect else boundary
    exists = torch.cat(exs, 1)

    batch_of = lin // (height * width)
    z = depth.reshape(-1).index_select(0, boundary.T.reshape(-1)).view(boundary.shape[1], n).T
    z = torch.where(exists, z, torch.zeros((), dtype=depth.dtype, device=depth.device))
    sides = range(k.shape[1])
    z_max = z[:, 0]
    for side in sides[1:]:
        z_max = torch.maximum(z_max, z[:, side])
    background = exists & (z * (1.0 + tolerance) >= z_max[:, None])
    closeness = background / k.to(image.dtype).square()
    # Sides the hint prefers first; if none of them is background, every background side counts equally.
    weight = priors.to(image.dtype)[batch_of][:, : k.shape[1]] * closeness
    total = sum(weight[:, side] for side in sides)
    weight = torch.where(total[:, None] > 0, weight, closeness)
    total = sum(weight[:, side] for side in sides)
    filled = total > 0
    weight = weight / torch.where(filled, total, torch.ones_like(total))[:, None]

    pixels = image.reshape(-1)
    channel_offsets = torch.arange(channels, device=lin.device)[:, None] * (height * width)
    sample_base = sample + batch_of[:, None] * ((channels - 1) * height * width)  # flat index of channel 0
    colour = torch.zeros(channels, n, dtype=image.dtype, device=image.device)
    for side in sides:
        w = weight[:, side]
        # Channel-major (C, n) indices are nearly sorted: far fewer cache misses than (n, C).
        gathered = pixels.index_select(0, (sample_base[:, side] + channel_offsets).reshape(-1)).view(channels, n)
        # where(): a zero weight must not let an undefined (NaN) hole value through
        colour += torch.where(w > 0, w * gathered, 0.0)
    fill_depth = sum(weight[:, side] * z[:, side] for side in sides).to(depth.dtype)
    return lin, filled, colour, fill_depth


def fill_background(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    *,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
    texture: Literal["smooth", "reflect", "clamp"] = "smooth",
    smooth_sigma: tuple[float, float] = SMOOTH_SIGMA,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill holes by continuing the background surface from the far side of each hole.

    For every hole pixel the first valid pixels left, right, above and below it are the candidate *boundary*
    pixels (found from the runs of the hole mask, vectorised, no per-pixel Python). Their depths decide which side
    is background: only candidates with ``z * (1 + depth_tolerance) >= z_max`` (``z_max`` the farthest candidate)
    are kept, so the foreground never bleeds in. Kept candidates are blended with weights ``prior / k**2`` (``k``
    = distance to the boundary pixel, ``prior`` from ``direction``), so two sides of the same surface blend by
    distance (a one-pixel crack gets the mean of its neighbours). The colour taken from a side is the background
    *texture* reflected across the boundary: the hole pixel at distance ``k`` from boundary pixel ``r`` takes the
    pixel ``r + (k - 1)`` (away from the hole), folded back and forth within that surface segment, which ends at
    the next hole, the next depth jump (neighbours differing by more than ``depth_tolerance``) or the image edge.
    Depth is filled with the blended boundary depths (constant extrapolation of the background). Holes with no
    candidate on their row or column (image corners after a diagonal move) are filled by further passes from
    the pixels filled before.

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1]; values at holes are ignored (may be NaN).
        depth: ``(B, 1, H, W)`` float depth (larger = farther, any unit), finite and > 0 at non-holes; values at
            holes are ignored (may be NaN or inf).
        holes: ``(B, 1, H, W)`` bool, True where no source pixel landed.
        direction: optional parallax hint ``(dx, dy)`` (or ``(2,)`` / ``(B, 2)`` tensor): the image-plane direction
            from a hole in which the background lies, i.e. the direction the camera centre moved (``(1, 0)`` for a
            camera moving right). Each side gets the prior ``max(+-u, 0)`` of the unit hint ``u`` along its axis
            (right ``u_x``, left ``-u_x``, down ``u_y``, up ``-u_y``). When both sides are within the depth
            tolerance (depth cannot tell), only the hinted side is used; a side that depth says is clearly nearer
            is still rejected; and when no hinted side is background (image border, or depth disagrees) the other
            background sides are used, weighted by distance. When every hint is purely horizontal the first pass
            searches rows only (columns only when purely vertical). Without a hint (or with a zero hint) all four
            sides count equally, except that holes which are clearly vertical bands (>= 3x more hole/valid
            transitions along rows than along columns) are first searched along rows only, and clearly
            horizontal bands along columns only.
        depth_tolerance: relative depth difference under which two pixels count as one surface.
        texture: ``"smooth"`` (the default) carries a short average of the background boundary pixels (along the
            parallax direction, :data:`SMOOTH_AVERAGE` pixels) into the hole and then smooths the fill inside the
            hole (:func:`smooth_holes`): contours along the parallax direction continue, and
            the guess deepest in the hole is a local average, which is what the measured right views of
            ``bench/quality_middlebury.py`` reward most. ``"reflect"`` continues the background *texture* by
            reflection across the boundary (sharper, but a wrong guess costs more); ``"clamp"`` repeats the
            boundary pixel without smoothing (streaks).
        smooth_sigma: ``(along, across)`` Gaussian sigmas in pixels of the ``"smooth"`` texture, along and across
            the hint's axis (isotropic ``max`` of the two without a hint or with a diagonal one).

    Returns:
        ``(image, depth)``: new ``(B, C, H, W)`` and ``(B, 1, H, W)`` tensors, equal to the inputs at non-holes and
        filled at holes.

    Raises:
        ShapeError: shapes that do not match.
        InputError: wrong dtypes, bad ``direction``/``depth_tolerance``, or a batch item that is all holes.
        DepthError: non-positive or non-finite depth at a non-hole pixel.

    Example:
        >>> image = torch.zeros(1, 1, 1, 6); image[..., 4:] = torch.tensor([0.5, 0.7])
        >>> depth = torch.ones(1, 1, 1, 6); depth[..., 4:] = 4.0
        >>> holes = torch.zeros(1, 1, 1, 6, dtype=torch.bool); holes[..., 2:4] = True
        >>> filled, filled_depth = fill_background(image, depth, holes, texture="reflect")
        >>> filled[0, 0, 0].tolist(), filled_depth[0, 0, 0].tolist()
        ([0.0, 0.0, 0.699999988079071, 0.5, 0.5, 0.699999988079071], [1.0, 1.0, 4.0, 4.0, 4.0, 4.0])
    """
    _check_fill_inputs(image, depth, holes)
    _check_tolerance(depth_tolerance)
    if texture not in ("smooth", "reflect", "clamp"):
        raise InputError(f"texture must be 'smooth', 'reflect' or 'clamp', got {texture!r}")
    reflect = texture == "reflect"
    bsz, channels, height, width = image.shape
    priors = _direction_priors(direction, bsz, image.device)
    hole_map = holes[:, 0]
    out_depth = depth[:, 0].clone(memory_format=torch.contiguous_format)
    if direction is not None:
        # A purely horizontal (vertical) hint: the first pass searches rows (columns) only.
        rows_only = bool((priors[:, 2:] == 0).all() and (priors[:, :2] > 0).any(dim=1).all())
        cols_only = bool((priors[:, :2] == 0).all() and (priors[:, 2:] > 0).any(dim=1).all())
    else:
        # No hint: if the holes are clearly bands across rows (or columns), the first pass searches that axis only.
        across = int(torch.count_nonzero(hole_map[..., 1:] ^ hole_map[..., :-1]))
        down = int(torch.count_nonzero(hole_map[..., 1:, :] ^ hole_map[..., :-1, :]))
        rows_only = across >= _BAND_RATIO * down
        cols_only = down >= _BAND_RATIO * across and not rows_only
    # The axis along which the "smooth" texture averages the background (decided before any fallback pass).
    average_axis = 3 if rows_only else (2 if cols_only else None)
    out_image = image.clone(memory_format=torch.contiguous_format)
    # The colours the passes read: the image itself, or for "smooth" a copy whose pixels bordering holes hold a
    # short average of the background's boundary along the parallax direction (not one noisy pixel), carried into
    # the hole and smoothed inside it at the end. Filled pixels are written into both.
    source = out_image
    if texture == "smooth":
        source = _average_surface(image, depth, holes, average_axis, SMOOTH_AVERAGE, depth_tolerance)
    remaining = hole_map.clone(memory_format=torch.contiguous_format)
    flat_image = out_image.view(-1)
    flat_source = source.view(-1)
    channel_offsets = torch.arange(channels, device=image.device)[:, None] * (height * width)
    first = True
    while True:
        if first and cols_only:
            # Search the transposed problem's rows, i.e. our columns.
            lin_t, filled, colour, fill_depth = _background_pass(
                source.transpose(2, 3),
                out_depth.transpose(1, 2),
                remaining.transpose(1, 2),
                priors[:, [2, 3, 0, 1]],
                depth_tolerance,
                use_columns=False,
                reflect=reflect,
            )
            lin = _columns_to_rowmajor(lin_t, height, width)
        else:
            lin, filled, colour, fill_depth = _background_pass(
                source,
                out_depth,
                remaining,
                priors,
                depth_tolerance,
                use_columns=not (first and rows_only),
                reflect=reflect,
            )
        if first:
            per_item = torch.bincount(lin // (height * width), minlength=bsz)
            if bool((per_item == height * width).any()):
                raise InputError("a batch item is all holes: there is nothing to fill from; check the camera move")
        first = False
        n_filled = int(filled.sum())
        if n_filled == lin.numel():  # also when there were no holes left
            break_after = True
        elif n_filled == 0:
            if rows_only or cols_only:
                rows_only = cols_only = False
                continue
            raise InputError("holes could not be filled: no valid pixel reaches them")  # unreachable in practice
        else:
            break_after = False
            lin, colour, fill_depth = lin[filled], colour[:, filled], fill_depth[filled]
        target = (lin + (lin // (height * width)) * ((channels - 1) * height * width)) + channel_offsets
        flat_image.index_copy_(0, target.reshape(-1), colour.reshape(-1))
        if source is not out_image:
            flat_source.index_copy_(0, target.reshape(-1), colour.reshape(-1))
        out_depth.view(-1)[lin] = fill_depth
        if break_after:
            break
        remaining.view(-1)[lin] = False
    if texture == "smooth":
        along, across = smooth_sigma
        sigma = {3: (along, across), 2: (across, along)}.get(average_axis, (max(along, across),) * 2)
        out_image = smooth_holes(out_image, holes, sigma, inplace=True)
    return out_image, out_depth[:, None]


def _average_surface(
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


def _check_tolerance(depth_tolerance: float) -> None:
    if not (isinstance(depth_tolerance, (int, float)) and 0 <= depth_tolerance < float("inf")):
        raise InputError(f"depth_tolerance must be a finite number >= 0, got {depth_tolerance!r}")


# -------------------------------------------------------------------------------------------- other methods


def fill_opencv(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    *,
    algorithm: Literal["telea", "ns"] = "telea",
    radius: float = 3.0,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill colour with OpenCV's ``cv2.inpaint`` and depth with the background rule of :func:`fill_background`.

    The image is inpainted in 8 bits (three channels together, other channel counts one by one), so filled
    values are multiples of 1/255; known pixels keep their exact values. These methods are not depth-aware:
    foreground colours diffuse into disocclusion holes.

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1].
        depth: ``(B, 1, H, W)`` float depth (larger = farther), finite and > 0 at non-holes.
        holes: ``(B, 1, H, W)`` bool, True at holes.
        algorithm: ``"telea"`` (``cv2.INPAINT_TELEA``) or ``"ns"`` (``cv2.INPAINT_NS``).
        radius: inpainting neighbourhood radius in pixels (``inpaintRadius``), > 0.
        direction: parallax hint for the depth fill; see :func:`fill_background`.
        depth_tolerance: relative depth tolerance for the depth fill.

    Returns:
        ``(image, depth)``: ``(B, C, H, W)`` and ``(B, 1, H, W)``, equal to the inputs at non-holes.

    Raises:
        ShapeError, InputError, DepthError: as :func:`fill_background`; InputError for a bad radius or algorithm.
    """
    import cv2  # local import: only this method needs OpenCV

    flags = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    if algorithm not in flags:
        raise InputError(f"algorithm must be 'telea' or 'ns', got {algorithm!r}")
    if not (isinstance(radius, (int, float)) and 0 < radius < float("inf")):
        raise InputError(f"radius must be a finite number > 0 (pixels), got {radius!r}")
    _, out_depth = fill_background(image, depth, holes, direction=direction, depth_tolerance=depth_tolerance)
    pixels = torch.where(holes, torch.zeros((), dtype=image.dtype, device=image.device), image)
    # 8-bit, channels last: the input OpenCV's inpainting is made for (its float32 path gives wrong values).
    pixels_np = (pixels.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    masks = holes[:, 0].cpu().numpy().astype(np.uint8)
    result = np.empty_like(pixels_np)
    groups = [slice(0, 3)] if pixels_np.shape[-1] == 3 else [slice(c, c + 1) for c in range(pixels_np.shape[-1])]
    for b in range(pixels_np.shape[0]):
        for group in groups:
            painted = cv2.inpaint(
                np.ascontiguousarray(pixels_np[b, ..., group]), masks[b], float(radius), flags[algorithm]
            )
            result[b, ..., group] = painted.reshape(result[b, ..., group].shape)
    painted = torch.from_numpy(result).permute(0, 3, 1, 2).to(device=image.device, dtype=image.dtype) / 255
    return torch.where(holes, painted, image), out_depth


def fill_none(image: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leave the holes: return copies of ``image (B, C, H, W)`` and ``depth (B, 1, H, W)``.

    The caller keeps ``holes`` to make those pixels transparent (e.g. alpha 0 in a PNG).
    """
    _check_fill_inputs(image, depth, holes)
    return image.clone(), depth.clone()


_Filler = Callable[..., tuple[torch.Tensor, torch.Tensor]]

FILL_METHODS: dict[str, _Filler] = {
    "background": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_background(
        image, depth, holes, direction=direction, depth_tolerance=depth_tolerance
    ),
    "texture": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_background(
        image, depth, holes, direction=direction, depth_tolerance=depth_tolerance, texture="reflect"
    ),
    "telea": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_opencv(
        image, depth, holes, algorithm="telea", radius=radius, direction=direction, depth_tolerance=depth_tolerance
    ),
    "ns": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_opencv(
        image, depth, holes, algorithm="ns", radius=radius, direction=direction, depth_tolerance=depth_tolerance
    ),
    "none": lambda image, depth, holes, *, direction, depth_tolerance, radius: fill_none(image, depth, holes),
}
"""The hole fillers by name, each called as ``fn(image, depth, holes, *, direction, depth_tolerance, radius)``."""

if set(FILL_METHODS) != set(get_args(FillMethod)):  # pragma: no cover - keeps the literal and registry in step
    raise RuntimeError("FillMethod and FILL_METHODS disagree")


def fill_holes(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    method: FillMethod = "background",
    *,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
    radius: float = 3.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill the holes of a forward-rendered view with one of :data:`FILL_METHODS`.

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1]; undefined at holes.
        depth: ``(B, 1, H, W)`` float depth (larger = farther), finite and > 0 at non-holes; undefined at holes.
        holes: ``(B, 1, H, W)`` bool, True where no source pixel landed (disocclusions and borders).
        method: ``"background"`` (depth-aware background continuation, the default), ``"telea"`` / ``"ns"``
            (OpenCV inpainting; depth by the background rule) or ``"none"`` (holes left as they are).
        direction: optional parallax hint ``(dx, dy)``, or a ``(2,)`` / ``(B, 2)`` tensor: the image-plane
            direction in which the background lies from a hole = the direction the camera centre moved
            (``(1, 0)`` for a camera moving right, e.g. the right view of a stereo pair). See
            :func:`fill_background`. Every method works without it.
        depth_tolerance: relative depth difference under which two pixels count as one surface.
        radius: neighbourhood radius in pixels for ``"telea"`` and ``"ns"``.

    Returns:
        ``(image, depth)``: new ``(B, C, H, W)`` and ``(B, 1, H, W)`` tensors, equal to the inputs at non-holes.

    Raises:
        InputError: an unknown method (the message lists the methods), wrong dtypes or options.
        ShapeError: shapes that do not match.
        DepthError: non-positive or non-finite depth at a non-hole pixel.

    Example:
        >>> image = torch.rand(1, 3, 4, 5); depth = torch.ones(1, 1, 4, 5)
        >>> holes = torch.zeros(1, 1, 4, 5, dtype=torch.bool); holes[..., 1:3, 2] = True
        >>> out, out_depth = fill_holes(image, depth, holes, "texture", direction=(1, 0))
        >>> bool(torch.equal(out[..., 1:3, 2], image[..., 1:3, 3]))
        True
    """
    filler = FILL_METHODS.get(method) if isinstance(method, str) else None
    if filler is None:
        raise InputError(f"unknown fill method {method!r}; choose one of {', '.join(FILL_METHODS)}")
    with kernels.torch_threads(1):  # many small operations over the hole pixels: threads only add hand-offs
        return filler(image, depth, holes, direction=direction, depth_tolerance=depth_tolerance, radius=radius)


__all__ = [
    "FILL_METHODS",
    "Direction",
    "FillMethod",
    "fill_background",
    "fill_holes",
    "fill_none",
    "fill_opencv",
]
