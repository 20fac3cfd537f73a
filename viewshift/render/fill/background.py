"""The ``"background"`` and ``"texture"`` fillers: continue the background surface from the far side of each hole,
depth-aware, along rows and columns (vectorised over the hole pixels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from viewshift.errors import InputError
from viewshift.render import kernels
from viewshift.render.fill.inputs import Direction, check_fill_inputs, check_tolerance, direction_priors
from viewshift.render.fill.smooth import SMOOTH_AVERAGE, SMOOTH_SIGMA, average_surface, smooth_holes

_BAND_RATIO = 3  # without a hint, holes with this many times more row than column transitions are searched by row


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
        InputError: wrong dtypes, bad ``direction``/``depth_tolerance``, or a view (batch image) that is all holes.
        DepthError: non-positive or non-finite depth at a non-hole pixel.

    Example:
        >>> image = torch.zeros(1, 1, 1, 6); image[..., 4:] = torch.tensor([0.5, 0.7])
        >>> depth = torch.ones(1, 1, 1, 6); depth[..., 4:] = 4.0
        >>> holes = torch.zeros(1, 1, 1, 6, dtype=torch.bool); holes[..., 2:4] = True
        >>> filled, filled_depth = fill_background(image, depth, holes, texture="reflect")
        >>> filled[0, 0, 0].tolist(), filled_depth[0, 0, 0].tolist()
        ([0.0, 0.0, 0.699999988079071, 0.5, 0.5, 0.699999988079071], [1.0, 1.0, 4.0, 4.0, 4.0, 4.0])
    """
    check_fill_inputs(image, depth, holes)
    check_tolerance(depth_tolerance)
    if texture not in ("smooth", "reflect", "clamp"):
        raise InputError(f"texture must be 'smooth', 'reflect' or 'clamp', got {texture!r}")
    reflect = texture == "reflect"
    bsz, channels, height, width = image.shape
    priors = direction_priors(direction, bsz, image.device)
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
        source = average_surface(image, depth, holes, average_axis, SMOOTH_AVERAGE, depth_tolerance)
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
            empty = (per_item == height * width).nonzero()
            if empty.numel():
                which = f" (image {int(empty[0])} of the batch)" if bsz > 1 else ""
                raise InputError(
                    f"the view is all holes{which}: the move takes the whole scene out of view, there is nothing to "
                    "fill from; use a smaller move"
                )
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
