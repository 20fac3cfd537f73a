"""Tests of viewshift.render.realism on synthetic images with known noise."""

from __future__ import annotations

import pytest
import torch

from viewshift.errors import InputError, ShapeError
from viewshift.render.realism import estimate_noise_sigma, local_detail, match_realism


def smooth_scene(batch: int = 1, height: int = 96, width: int = 128) -> torch.Tensor:
    """``(B, 3, H, W)`` noise-free smooth colours well inside [0, 1] (gradients and a slow wave)."""
    y = torch.linspace(0, 1, height)[:, None]
    x = torch.linspace(0, 1, width)[None, :]
    channels = [0.3 + 0.3 * x + 0.1 * y, 0.5 + 0.1 * torch.sin(3 * x + 2 * y), 0.4 + 0.2 * y * x]
    return torch.stack(channels).expand(batch, 3, height, width).clone()


def add_noise(image: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    return image + sigma * torch.randn(image.shape, generator=torch.Generator().manual_seed(seed))


def band_holes(batch: int = 1, height: int = 96, width: int = 128) -> torch.Tensor:
    holes = torch.zeros(batch, 1, height, width, dtype=torch.bool)
    holes[..., 16:80, 40:72] = True  # a 32-pixel band, like a wide disocclusion
    return holes


@pytest.mark.parametrize("sigma", [0.01, 0.03, 0.08])
def test_noise_sigma_of_gaussian_noise(sigma):
    image = add_noise(smooth_scene(batch=2), sigma, seed=int(sigma * 1000))
    estimate = estimate_noise_sigma(image)
    assert estimate.shape == (2,)
    assert torch.allclose(estimate, torch.tensor(sigma), rtol=0.10), estimate
    per_channel = estimate_noise_sigma(image, per_channel=True)
    assert per_channel.shape == (2, 3) and torch.allclose(per_channel, torch.tensor(sigma), rtol=0.10)


def test_noise_sigma_ignores_masked_pixels_and_is_zero_when_clean():
    image = add_noise(smooth_scene(), 0.02, seed=3)
    holes = band_holes()
    image[holes.expand_as(image)] = torch.rand(int(holes.sum()) * 3)  # wild values inside the mask
    assert abs(float(estimate_noise_sigma(image, ~holes)) - 0.02) < 0.002
    assert float(estimate_noise_sigma(image)) > 0.022  # unmasked, the wild pixels count (the median resists)
    assert float(estimate_noise_sigma(smooth_scene())) < 1e-3
    assert float(estimate_noise_sigma(image, torch.zeros_like(holes))) == 0.0  # nothing to measure


def test_match_realism_restores_noise_of_a_smooth_fill():
    sigma = 0.04
    clean = smooth_scene()
    holes = band_holes()
    image = torch.where(holes, clean, add_noise(clean, sigma, seed=5))  # a perfectly smooth fill
    out = match_realism(image, holes, seed=0)
    inner = torch.zeros_like(holes)
    inner[..., 18:78, 42:70] = True  # well inside the fill
    surround = float(estimate_noise_sigma(image, ~holes))
    filled = float(estimate_noise_sigma(out, inner))
    assert float(estimate_noise_sigma(image, inner)) < 1e-3
    assert abs(filled / surround - 1) < 0.20, (filled, surround)
    assert torch.equal(out[~holes.expand_as(out)], image[~holes.expand_as(image)])  # known pixels untouched
    # Deterministic with a seed, different with another, and the same given the source photo's noise.
    assert torch.equal(out, match_realism(image, holes, seed=0))
    assert not torch.equal(out, match_realism(image, holes, seed=1))
    source = add_noise(clean, sigma, seed=9)
    from_source = match_realism(image, holes, source=source, seed=0)
    assert abs(float(estimate_noise_sigma(from_source, inner)) / surround - 1) < 0.20
    assert out.min() >= 0 and out.max() <= 1


def test_match_realism_leaves_a_noisy_fill_alone_and_can_be_disabled():
    sigma = 0.03
    clean = smooth_scene()
    holes = band_holes()
    image = add_noise(clean, sigma, seed=6)  # the fill already carries the right noise (as a texture copy does)
    out = match_realism(image, holes, seed=0)
    inner = torch.zeros_like(holes)
    inner[..., 18:78, 42:70] = True
    before, after = (float(estimate_noise_sigma(x, inner)) for x in (image, out))
    assert abs(after / before - 1) < 0.10, (before, after)
    assert torch.equal(match_realism(image, holes, noise=False, blur=False), image)


def test_match_realism_blurs_a_fill_sharper_than_its_surroundings():
    clean = smooth_scene()
    holes = band_holes()
    image = torch.where(holes, add_noise(clean, 0.10, seed=7), add_noise(clean, 0.01, seed=8))
    inner = torch.zeros_like(holes)
    inner[..., 18:78, 42:70] = True
    before = float(estimate_noise_sigma(image, inner))
    out = match_realism(image, holes, seed=0)
    after = float(estimate_noise_sigma(out, inner))
    assert after < 0.5 * before, (before, after)
    unblurred = match_realism(image, holes, seed=0, blur=False)
    assert torch.equal(unblurred, image)  # sharper and noisy: nothing to add, and blurring was switched off
    energy, count = local_detail(out, inner)
    assert energy.shape == (1, 3, 6, 8) and count.shape == (1, 1, 6, 8)


def test_match_realism_batch_and_errors():
    clean = smooth_scene(batch=2)
    holes = band_holes(batch=2)
    image = torch.where(holes, clean, add_noise(clean, 0.03, seed=10))
    out = match_realism(image, holes, seed=4)
    assert out.shape == image.shape
    with pytest.raises(ShapeError):
        match_realism(image[0], holes)
    with pytest.raises(ShapeError):
        match_realism(image, holes[:1])
    with pytest.raises(InputError):
        match_realism(image, holes.float())
    with pytest.raises(InputError):
        match_realism((image * 255).to(torch.uint8), holes)
    with pytest.raises(ShapeError):
        match_realism(image, holes, source=image[:, :1])
    with pytest.raises(InputError):
        match_realism(image, holes, block=0)
    with pytest.raises(ShapeError):
        estimate_noise_sigma(torch.rand(1, 3, 2, 2))
    with pytest.raises(InputError):
        estimate_noise_sigma(image.numpy())


def test_match_realism_with_a_known_noise_level_equals_estimating_it_from_the_source():
    gen = torch.Generator().manual_seed(3)
    source = (0.5 + 0.04 * torch.randn(1, 3, 64, 64, generator=gen)).clamp(0, 1)
    holes = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    holes[..., 20:44, 10:30] = True
    image = torch.where(holes, torch.tensor(0.5), source)
    sigma = estimate_noise_sigma(source, per_channel=True)
    assert torch.equal(
        match_realism(image, holes, noise_sigma=sigma, seed=2), match_realism(image, holes, source=source, seed=2)
    )
    with pytest.raises(ShapeError):
        match_realism(image, holes, noise_sigma=sigma[:, :2])


@pytest.mark.parametrize(("height", "width", "stride", "cell"), [(96, 128, 2, 8), (61, 77, 2, 8), (40, 53, 1, 3)])
def test_tile_statistics_near_holes_equal_the_whole_image_pooling(height, width, stride, cell):
    # The compiled per-tile sums (computed only next to holes) against the torch pooling over the whole image,
    # on tiles clipped at the grid's end too (odd sizes), at every tile a hole pixel reads.
    from viewshift.render.realism import (
        _highpass,
        _local_detail,
        _pixel_tiles,
        _tile_detail,
        _tile_grid,
        _window_all,
    )

    image = add_noise(smooth_scene(2, height, width), 0.03, seed=5).clamp(0, 1)
    holes = torch.zeros(2, 1, height, width, dtype=torch.bool)
    holes[0, :, 10:30, 20:31] = True
    holes[1, :, height - 12 :, width - 9 :] = True  # in the clipped corner tiles
    squared = _highpass(image, stride).square()
    expected_surround = _local_detail(squared, _window_all(~holes, stride), cell)
    expected_fill = _local_detail(squared, holes[..., 1 : height - 1 : stride, 1 : width - 1 : stride], cell)
    _, _, th, tw = _tile_grid(height, width, stride, cell)
    b, y, x = torch.nonzero(holes[:, 0], as_tuple=True)
    tile = _pixel_tiles(y, x, height, width, stride, cell)
    surround, fill = _tile_detail(image, holes, b * (th * tw) + tile, stride, cell)
    read = torch.zeros(2 * th * tw, dtype=torch.bool)
    read[b * (th * tw) + tile] = True
    read = read.view(2, 1, th, tw)
    assert read.sum() >= 3
    for got, want in ((surround, expected_surround), (fill, expected_fill)):
        for g, e in zip(got, want, strict=True):
            mask = read.expand_as(g)
            torch.testing.assert_close(g[mask], e[mask], rtol=1e-5, atol=1e-9)
    assert bool((fill[1][read] > 0).all())  # hole responses counted


def test_match_realism_in_place_equals_the_copy():
    image = add_noise(smooth_scene(), 0.03, seed=1).clamp(0, 1)
    holes = band_holes()
    image = torch.where(holes, torch.tensor(0.5), image)
    expected = match_realism(image, holes, seed=3)
    target = image.clone()
    assert match_realism(target, holes, seed=3, inplace=True) is target
    assert torch.equal(target, expected)
