"""Make filled pixels look like their neighbours: matched sensor noise and sharpness.

A hole filler produces pixels that are often too clean (diffusion and blending average the noise away) and
sometimes too sharp (seams, copied texture next to a defocused background). :func:`match_realism` measures the
high-frequency *detail energy* of the fill and of its surroundings and

- blurs the fill where it is sharper than its surroundings, and
- adds Gaussian noise (seeded, per channel) where it is smoother, up to the sensor noise level estimated by
  :func:`estimate_noise_sigma`, so the fill is neither smoother nor sharper than the pixels around it.

The detail measure. Let ``N = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]`` (the difference of two Laplacians used by
Immerkær, 1996, "Fast noise variance estimation"). It cancels constant and linear (and separable quadratic)
intensity, and for i.i.d. Gaussian noise of standard deviation ``sigma`` the response ``r = N * I`` is Gaussian
with variance ``sum(N**2) * sigma**2 = 36 sigma**2``. So ``D = r**2 / 36`` is a *noise-equivalent variance*: its
mean is ``sigma**2`` on a noisy flat patch, 0 on a clean smooth one, and larger on texture and edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from viewshift.errors import InputError, ShapeError
from viewshift.render import kernels

_MAD_TO_SIGMA = 1.0 / (0.6744897501960817 * 6.0)  # median |r| of N(0, 36 s^2) is 0.6745 * 6 s
_MEDIAN_SAMPLES = 1 << 16  # the noise median is taken over at most this many responses per channel
_STRIDE = 2  # match_realism measures detail on every other row and column
_BLUR_MARGIN = 1.1  # blur a fill only where its detail energy exceeds the surroundings' by more than 10 %


def _check_image(image: torch.Tensor, name: str = "image") -> None:
    if not isinstance(image, torch.Tensor):
        raise InputError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if image.ndim != 4 or image.shape[1] < 1:
        raise ShapeError(f"{name} must have shape (B, C, H, W), got {tuple(image.shape)}; add a batch axis with [None]")
    if not image.is_floating_point():
        raise InputError(f"{name} must be a floating tensor in [0, 1], got {image.dtype}; divide uint8 images by 255")
    if image.shape[2] < 3 or image.shape[3] < 3:
        raise ShapeError(f"{name} must be at least 3x3 pixels, got {tuple(image.shape[2:])}")


def _check_mask(mask: torch.Tensor, image: torch.Tensor, name: str) -> None:
    b, _, h, w = image.shape
    if not isinstance(mask, torch.Tensor):
        raise InputError(f"{name} must be a torch.Tensor, got {type(mask).__name__}")
    if mask.shape != (b, 1, h, w):
        raise ShapeError(f"{name} must have shape {(b, 1, h, w)} to match the image, got {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        raise InputError(f"{name} must be a bool tensor, got {mask.dtype}")


def _highpass(image: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Immerkær's response ``r = N * I`` at interior pixels, on every ``stride``-th row and column.

    Args:
        image: ``(B, C, H, W)``.
        stride: 1 for every interior pixel, 2 for every other one (a quarter of the work).

    Returns:
        ``(B, C, ceil((H - 2) / stride), ceil((W - 2) / stride))``: ``r[..., i, j]`` belongs to pixel
        ``(1 + stride * i, 1 + stride * j)``; ``N`` is separable as ``[1, -2, 1]^T [1, -2, 1]``.
    """
    h, w = image.shape[-2:]
    rows = image[..., 0 : h - 2 : stride, :] - 2 * image[..., 1 : h - 1 : stride, :] + image[..., 2:h:stride, :]
    return rows[..., 0 : w - 2 : stride] - 2 * rows[..., 1 : w - 1 : stride] + rows[..., 2:w:stride]


def _window_all(mask: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """``(B, 1, H, W)`` bool -> True where the whole 3x3 window is True, on the grid of :func:`_highpass`."""
    h, w = mask.shape[-2:]
    rows = mask[..., 0 : h - 2 : stride, :] & mask[..., 1 : h - 1 : stride, :] & mask[..., 2:h:stride, :]
    return rows[..., 0 : w - 2 : stride] & rows[..., 1 : w - 1 : stride] & rows[..., 2:w:stride]


def estimate_noise_sigma(
    image: torch.Tensor, mask: torch.Tensor | None = None, *, per_channel: bool = False
) -> torch.Tensor:
    """Estimate the sensor-noise standard deviation of images, robustly.

    Formula: with Immerkær's operator ``N = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]`` and ``r = N * I`` at every
    pixel whose 3x3 window lies inside ``mask``, ``sigma = median(|r|) / (0.6745 * 6)``: for i.i.d. Gaussian
    noise ``r ~ N(0, 36 sigma^2)`` and the median of ``|r|`` is ``0.6745 * 6 * sigma``. The median (rather than
    Immerkær's mean) keeps edges and texture, when they cover less than half the image, from inflating the
    estimate. At most 65,536 evenly strided responses per channel enter the median (its relative standard error
    there is < 1 %). Smooth gradients cancel exactly; strong texture still biases the estimate upwards.

    Args:
        image: ``(B, C, H, W)`` float images in [0, 1], at least 3x3.
        mask: optional ``(B, 1, H, W)`` bool, True at pixels that may be used (e.g. ``~holes``).
        per_channel: return one sigma per channel instead of their mean.

    Returns:
        ``(B,)`` noise sigma in image units (the mean of the per-channel sigmas), or ``(B, C)`` with
        ``per_channel``; 0 where no 3x3 window lies inside the mask.

    Raises:
        ShapeError, InputError: malformed ``image`` or ``mask``.

    Example:
        >>> noisy = 0.5 + 0.05 * torch.randn(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))
        >>> round(float(estimate_noise_sigma(noisy)), 2)
        0.05
    """
    _check_image(image)
    if mask is not None:
        _check_mask(mask, image, "mask")
    inside = None if mask is None else _window_all(mask)
    sigma = _sigma_from_response(_highpass(image), inside)
    return sigma if per_channel else sigma.mean(dim=1)


def _sigma_from_response(response: torch.Tensor, inside: torch.Tensor | None) -> torch.Tensor:
    """Per-channel sigma ``(B, C)`` from responses ``(B, C, H-2, W-2)`` counted where ``inside (B, 1, H-2, W-2)``."""
    b, c = response.shape[:2]
    flat = response.reshape(b, c, -1)
    step = max(1, flat.shape[-1] // _MEDIAN_SAMPLES)
    flat = flat[..., ::step].abs()
    if inside is not None:
        keep = inside.reshape(b, 1, -1)[..., ::step]
        flat = torch.where(keep, flat, torch.full((), float("nan"), dtype=flat.dtype, device=flat.device))
    median = torch.nanmedian(flat, dim=-1).values
    return torch.nan_to_num(median * _MAD_TO_SIGMA, nan=0.0)


def _block_means(values: torch.Tensor, block: int) -> torch.Tensor:
    """Pool ``(B, C, H, W)`` over ``block x block`` tiles -> ``(B, C, ceil(H / block), ceil(W / block))``.

    Per-tile means up to a factor that depends only on the tile's size, so ratios of two pooled maps are ratios
    of sums.
    """
    return F.avg_pool2d(values, block, ceil_mode=True)


def _neighbourhood(tiles: torch.Tensor) -> torch.Tensor:
    """Sum tiles over each tile's 3x3 tile neighbourhood (zero outside): ``(B, C, h, w)`` -> same shape."""
    return F.avg_pool2d(F.pad(tiles, (1, 1, 1, 1)), 3, stride=1) * 9


def local_detail(image: torch.Tensor, mask: torch.Tensor, *, block: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Local detail energy (noise-equivalent variance) of the pixels in ``mask``, on a grid of tiles.

    ``D = (N * I)**2 / 36`` (see the module docstring) is averaged over the pixels whose 3x3 window lies inside
    ``mask``, within the 3x3 neighbourhood of ``block x block`` tiles around each tile (a window of ``3 * block``
    pixels). A sharp fill has a larger ``D`` than blurred surroundings; a clean fill a smaller ``D`` than noisy
    surroundings.

    Args:
        image: ``(B, C, H, W)`` float images.
        mask: ``(B, 1, H, W)`` bool, the pixels to measure.
        block: tile size in pixels, >= 1.

    Returns:
        ``(energy, count)``: ``energy (B, C, ceil(H / block), ceil(W / block))`` mean ``D`` per tile neighbourhood
        (0 where ``count`` is 0) and ``count (B, 1, ...)`` the number of pixels it averages.

    Raises:
        ShapeError, InputError: malformed inputs or block.
    """
    _check_image(image)
    _check_mask(mask, image, "mask")
    if not (isinstance(block, int) and block >= 1):
        raise InputError(f"block must be an int >= 1, got {block!r}")
    return _local_detail(_highpass(image).square(), _window_all(mask), block)


def _local_detail(squared: torch.Tensor, inside: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`local_detail` from squared responses ``(B, C, H-2, W-2)`` counted where ``inside (B, 1, H-2, W-2)``.

    Tiles are laid on the response grid (one pixel off the image grid, which does not matter here); ``count`` is
    in units of the pooled means (proportional to the pixel count; only ``count > 0`` is meaningful).
    """
    weight = inside.to(squared.dtype)
    return _energy(_block_means(squared * weight, block), _block_means(weight, block))


def _energy(squared_means: torch.Tensor, count_means: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Detail energy per tile neighbourhood from per-tile means of the counted squared responses ``(B, C, h, w)``
    and of the count ``(B, 1, h, w)``: ``(energy, count)`` as :func:`_local_detail` returns them."""
    total = _neighbourhood(squared_means) / 36.0
    count = _neighbourhood(count_means)
    energy = torch.where(count > 0, total / count.clamp_min(1e-30), torch.zeros((), dtype=total.dtype))
    return energy, count


def _tile_grid(height: int, width: int, stride: int, cell: int) -> tuple[int, int, int, int]:
    """``(rows, cols, tile_rows, tile_cols)``: the size of :func:`_highpass`'s response grid with ``stride`` and its
    number of tiles of ``cell x cell`` responses (the last ones clipped)."""
    rh, rw = -(-(height - 2) // stride), -(-(width - 2) // stride)
    return rh, rw, -(-rh // cell), -(-rw // cell)


def _pixel_tiles(y: torch.Tensor, x: torch.Tensor, height: int, width: int, stride: int, cell: int) -> torch.Tensor:
    """Flat index into the ``(T_h, T_w)`` tile grid of :func:`_tile_grid` of the tile whose statistics pixels
    ``(y, x)`` (``(n,)`` each) read: the tile of their response, border pixels taking the nearest response."""
    tw = _tile_grid(height, width, stride, cell)[3]
    return ((y.clamp(1, height - 2) - 1) // stride // cell) * tw + (x.clamp(1, width - 2) - 1) // stride // cell


def _tile_detail(
    image: torch.Tensor, holes: torch.Tensor, hole_tiles: torch.Tensor, stride: int, cell: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """:func:`_local_detail` of the surroundings (3x3 windows fully valid) and of the fill (responses centred on
    holes), both from the responses of :func:`_highpass` with ``stride`` over tiles of ``cell`` responses — computed
    only at the tiles a hole pixel's statistics read (within one tile of a tile with holes) and zero elsewhere.

    Args:
        image: ``(B, C, H, W)``; holes: ``(B, 1, H, W)`` bool.
        hole_tiles: ``(n,)`` flat indices into ``(B, T_h, T_w)`` of the tiles of the hole pixels.

    Returns:
        ``((surround, surround_count), (fill, fill_count))``, each as :func:`_local_detail` returns it:
        ``(B, C, T_h, T_w)`` energies and ``(B, 1, T_h, T_w)`` counts.
    """
    b, c, h, w = image.shape
    rh, rw, th, tw = _tile_grid(h, w, stride, cell)
    need = torch.zeros(b * th * tw, dtype=torch.float32)
    need[hole_tiles] = 1.0
    need = F.max_pool2d(need.view(b, 1, th, tw), 3, stride=1, padding=1) > 0
    sums = torch.zeros(2, b, c, th, tw, dtype=torch.float64)  # fill, surroundings
    counts = torch.zeros(2, b, 1, th, tw, dtype=torch.float64)
    for i in range(b):
        kernels.run_rows(
            kernels.tile_detail_rows,
            th,
            kernels.as_array(image[i]),
            kernels.as_array(holes[i, 0]),
            kernels.as_array(need[i, 0]),
            stride,
            cell,
            sums[0, i].numpy(),
            counts[0, i, 0].numpy(),
            sums[1, i].numpy(),
            counts[1, i, 0].numpy(),
        )
    # Per-tile means, as _block_means pools them (a tile clipped at the grid's end averages fewer responses).
    rows = (rh - torch.arange(th, dtype=torch.float64) * cell).clamp(max=cell)
    cols = (rw - torch.arange(tw, dtype=torch.float64) * cell).clamp(max=cell)
    size = rows[:, None] * cols[None, :]
    means, count_means = (sums / size).to(image.dtype), (counts / size).to(image.dtype)
    return _energy(means[1], count_means[1]), _energy(means[0], count_means[0])


def match_realism(
    image: torch.Tensor,
    holes: torch.Tensor,
    *,
    source: torch.Tensor | None = None,
    noise_sigma: torch.Tensor | None = None,
    seed: int = 0,
    noise: bool = True,
    blur: bool = True,
    block: int = 16,
    inplace: bool = False,
) -> torch.Tensor:
    """Blur and/or add noise to filled pixels so they match the detail of their surroundings.

    With ``D_f`` the local detail energy of the fill (responses centred on hole pixels) and ``D_s`` that of the
    surrounding valid pixels (3x3 windows fully valid), both per channel over ``3 * block`` pixel windows
    (:func:`local_detail`), and ``s`` the sensor noise sigma (:func:`estimate_noise_sigma` of ``source``, or of
    the valid pixels of ``image``):

    - blur (where ``D_f > 1.1 D_s``): ``fill <- a * fill + (1 - a) * blur(fill)``, ``a = sqrt(D_s / D_f)``, with
      a 3x3 binomial blur (sigma ~ 0.85). Blurring removes most of the high frequencies ``N`` responds to, so
      this scales the fill's detail energy by about ``a**2`` (an approximation: the blur keeps a little energy).
    - noise (where the fill is smoother): add ``N(0, t**2)`` per pixel and channel, with
      ``t**2 = max(min(s**2, D_s) - D_f', 0)`` and ``D_f'`` the fill's energy after the blur step. The target is
      capped at the sensor noise, so texture around the hole is never turned into noise, and a fill that already
      carries texture (e.g. reflected by :func:`viewshift.render.fill.fill_background`) gets little or none.

    The responses are taken on every other row and column (pixels ``(1 + 2i, 1 + 2j)``; every pixel when
    ``block < 4``), a quarter of the work; a tile of ``block`` pixels then holds ``(block / 2)**2`` responses,
    and fills too thin to contain such a centre (1-pixel cracks) are left as they are.
    Where a window holds no valid pixel, ``D_s`` is taken as ``s**2`` (noise only, no blur). Results are clipped
    to [0, 1]. Only hole pixels change. The statistics are per tile, so the blur weight and noise level step
    from one ``block x block`` tile to the next. Deterministic for a given ``seed`` (noise comes from a CPU
    ``torch.Generator``, drawn for the hole pixels in row-major order, channels innermost).

    Args:
        image: ``(B, C, H, W)`` float image in [0, 1] whose holes have been filled.
        holes: ``(B, 1, H, W)`` bool, True at the filled pixels.
        source: optional ``(B, C, H', W')`` photo the view was rendered from, for the noise level (any size;
            resampled renders can be smoother than the sensor).
        noise_sigma: ``(B, C)`` the sensor noise, if known (:func:`estimate_noise_sigma` with ``per_channel``);
            takes precedence over ``source``.
        seed: seed of the noise.
        noise: add noise where the fill is smoother than its surroundings.
        blur: blur the fill where it is sharper than its surroundings.
        block: tile size in pixels of the local statistics (rounded down to even when >= 4).
        inplace: write into ``image`` (when it is contiguous) instead of a copy.

    Returns:
        ``(B, C, H, W)`` new image (``image`` itself when written in place), equal to ``image`` outside ``holes``.

    Raises:
        ShapeError, InputError: malformed inputs.

    Example:
        >>> gen = torch.Generator().manual_seed(1)
        >>> image = (0.5 + 0.05 * torch.randn(1, 3, 64, 64, generator=gen)).clamp(0, 1)
        >>> holes = torch.zeros(1, 1, 64, 64, dtype=torch.bool); holes[..., 16:48, 24:40] = True
        >>> image = torch.where(holes, torch.tensor(0.5), image)  # a perfectly smooth fill
        >>> out = match_realism(image, holes, seed=0)
        >>> round(float(out[:, :, 18:46, 26:38].std()), 2)
        0.05
    """
    with kernels.torch_threads(1):  # many small operations over the hole pixels: threads only add hand-offs
        _check_image(image)
        _check_mask(holes, image, "holes")
        if source is not None:
            _check_image(source, "source")
            if source.shape[:2] != image.shape[:2]:
                raise ShapeError(
                    f"source must have {tuple(image.shape[:2])} as batch and channels, got {tuple(source.shape)}"
                )
        if not (isinstance(block, int) and block >= 1):
            raise InputError(f"block must be an int >= 1, got {block!r}")
        if noise_sigma is not None and tuple(noise_sigma.shape) != tuple(image.shape[:2]):
            raise ShapeError(f"noise_sigma must have shape {tuple(image.shape[:2])}, got {tuple(noise_sigma.shape)}")
        if not isinstance(seed, int):
            raise InputError(f"seed must be an int, got {seed!r}")
        b, c, h, w = image.shape
        out = image if inplace and image.is_contiguous() else image.clone(memory_format=torch.contiguous_format)
        lin = kernels.true_indices(holes)  # hole pixels, flat in (B, H, W)
        if not (noise or blur) or lin.numel() == 0:
            return out
        # Statistics from the responses centred on every other row and column: a quarter of the work, and still
        # (block / 2)**2 responses per tile.
        stride = _STRIDE if block >= 2 * _STRIDE else 1
        cell = block // stride  # a tile, in responses
        if noise_sigma is not None:
            sigma = noise_sigma
        elif source is not None:
            sigma = estimate_noise_sigma(source, per_channel=True)
        else:
            sigma = _sigma_from_response(_highpass(image, stride), _window_all(~holes, stride))
        sigma_sq = sigma.square()[:, :, None, None].to(image.dtype)  # (B, C, 1, 1)

        # Hole pixels as (n, C) flat indices into the image and into the tile maps.
        plane = h * w
        batch_of, pixel = lin // plane, lin % plane
        y, x = pixel // w, pixel % w
        channels = torch.arange(c, device=image.device)[:, None]
        # Channel-major (C, n) indices: nearly sorted, so the gathers stay cache-friendly.
        at = (batch_of * (c * plane) + pixel) + channels * plane
        th, tw = _tile_grid(h, w, stride, cell)[2:]
        tile = _pixel_tiles(y, x, h, w, stride, cell)
        tiles = ((batch_of * (c * th * tw) + tile) + channels * (th * tw)).reshape(-1)
        hole_tiles = batch_of * (th * tw) + tile
        (surround, surround_count), (fill, fill_count) = _tile_detail(image, holes, hole_tiles, stride, cell)
        surround = torch.where(surround_count > 0, surround, sigma_sq.expand_as(surround))
        flat = out.view(-1)
        values = flat.index_select(0, at.reshape(-1))
        if blur:
            sharper = (fill_count > 0) & (fill > _BLUR_MARGIN * surround)
            if bool(sharper.any()):
                keep = torch.where(sharper, (surround / fill.clamp_min(1e-30)).sqrt(), torch.ones_like(fill))
                keep_px = keep.reshape(-1).index_select(0, tiles).view(c, -1)
                some = (keep_px < 1).any(dim=0).nonzero().squeeze(1)  # blur only the pixels that need it
                keep_some = keep_px[:, some]
                blurred = _blur_at(flat, y[some], x[some], at[:, some], h, w).view(c, -1)
                values = values.view(c, -1)
                values[:, some] = keep_some * values[:, some] + (1 - keep_some) * blurred
                values = values.reshape(-1)
                fill = torch.where(sharper, surround, fill)
        if noise:
            add_sq = (torch.minimum(sigma_sq, surround) - fill).clamp_min(0)
            add_sq = torch.where(fill_count > 0, add_sq, torch.zeros_like(add_sq))
            gen = torch.Generator().manual_seed(seed)
            draws = torch.randn(tuple(at.shape), generator=gen, dtype=torch.float32).to(image.device, image.dtype)
            values = values + draws.reshape(-1) * add_sq.sqrt().reshape(-1).index_select(0, tiles)
        flat.index_copy_(0, at.reshape(-1), values.clamp(0, 1))
        return out


def _blur_at(
    flat: torch.Tensor, y: torch.Tensor, x: torch.Tensor, at: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """The 3x3 binomial blur ``[1, 2, 1]^T [1, 2, 1] / 16`` (sigma ~ 0.85) of an image at some pixels.

    Args:
        flat: the ``(B, C, H, W)`` image, flattened (contiguous).
        y: ``(n,)`` pixel rows.
        x: ``(n,)`` pixel columns.
        at: ``(C, n)`` flat indices of those pixels' channels.
        height: image height ``H``.
        width: image width ``W``; neighbours outside the image are replaced by the nearest pixel inside.

    Returns:
        ``(C * n,)`` blurred values, channel-major.
    """
    out = torch.zeros(at.numel(), dtype=flat.dtype, device=flat.device)
    for dy, wy in ((-1, 1.0), (0, 2.0), (1, 1.0)):
        oy = (y + dy).clamp(0, height - 1) - y
        for dx, wx in ((-1, 1.0), (0, 2.0), (1, 1.0)):
            ox = (x + dx).clamp(0, width - 1) - x
            out += (wy * wx / 16.0) * flat.index_select(0, (at + (oy * width + ox)).reshape(-1))
    return out


__all__ = ["estimate_noise_sigma", "local_detail", "match_realism"]
