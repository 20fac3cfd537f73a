"""Warps: conventions against Pillow, corner fitting, and composition equal to sequential warping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from viewshift.errors import ShapeError
from viewshift.planar import warps as W


def _smooth_image(size: int = 64) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    img = 0.5 + 0.25 * torch.sin(3 * x + 1) * torch.cos(2 * y) + 0.2 * torch.exp(-((x - 0.2) ** 2 + y**2) * 4)
    return img[None, None]


def test_rotation_is_counter_clockwise_as_displayed_like_pillow():
    img = np.zeros((28, 28), np.uint8)
    img[13:15, 20:24] = 255  # a bar right of the centre
    ours = W.rotate_images(torch.from_numpy(img).float()[None, None] / 255, torch.tensor([90.0]))[0, 0]
    ys, xs = np.nonzero(ours.numpy() > 0.5)
    assert ys.mean() < 10 and abs(xs.mean() - 13.5) < 1.0  # the bar moved above the centre
    pil = np.asarray(Image.fromarray(img).rotate(90.0, resample=Image.BILINEAR)) / 255.0
    assert np.abs(ours.numpy() - pil).max() < 1e-4
    # A non-right angle on a smooth image agrees with Pillow up to interpolation.
    smooth = (_smooth_image(28)[0, 0].numpy() * 255).round().astype(np.uint8)
    ours = W.rotate_images(torch.from_numpy(smooth).float()[None, None] / 255, torch.tensor([30.0]))[0, 0].numpy()
    pil = np.asarray(Image.fromarray(smooth).rotate(30.0, resample=Image.BILINEAR)) / 255.0
    assert np.abs(ours - pil)[6:-6, 6:-6].max() < 0.03


def test_homography_from_corners_maps_the_corners():
    src = torch.tensor(W.CANVAS_CORNERS).expand(2, 4, 2)
    dst = src + torch.tensor([[0.1, -0.2], [0.05, 0.1], [-0.1, 0.2], [0.0, -0.1]])
    h = W.homography_from_corners(src, dst)
    mapped = torch.cat([src, torch.ones(2, 4, 1)], -1) @ h.transpose(1, 2)
    assert torch.allclose(mapped[..., :2] / mapped[..., 2:], dst, atol=1e-5)
    with pytest.raises(ShapeError):
        W.homography_from_corners(src[:, :3], dst[:, :3])


def test_params_layout_and_identity():
    assert torch.equal(W.params_to_homography(torch.zeros(1, 8)), torch.eye(3)[None])
    p = torch.tensor([[0.1, -0.05, 0.2, 0.03, -0.1, 0.05, 0.02, -0.01]])
    expected = torch.tensor([[[1.1, -0.05, 0.2], [0.03, 0.9, 0.05], [0.02, -0.01, 1.0]]])
    assert torch.allclose(W.params_to_homography(p), expected, atol=1e-7)
    affine = W.params_to_homography(torch.tensor([[0.1, 0.0, 0.2, 0.0, 0.1, 0.0]]))
    assert affine[0, 2].tolist() == [0.0, 0.0, 1.0]


def test_integer_shift_is_exact():
    img = torch.arange(64.0).view(1, 1, 8, 8)
    h = torch.eye(3)[None].clone()
    h[0, 0, 2] = 2.0 / 8  # sample one pixel to the right
    out, valid = W.warp_images(img, h)
    assert torch.equal(out[0, 0, :, :7], img[0, 0, :, 1:])
    assert valid[0, 0, :, 7].sum() == 0 and valid[0, 0, :, :7].all()


def test_composition_equals_sequential_warping():
    img = _smooth_image(64)
    g = torch.Generator().manual_seed(0)
    h1 = W.sample_perturbations(1, "homography", 0.05, 0.05, generator=g)
    h2 = W.sample_perturbations(1, "homography", 0.05, 0.05, generator=g)
    twice = W.warp_images(W.warp_images(img, h1)[0], h2)[0]
    once, valid = W.warp_images(img, W.compose_homographies(h1, h2))
    # Pixels whose intermediate sample was valid too; the rest differ only by the zero border.
    inner = valid * W.warp_images(W.warp_images(torch.ones_like(img), h1)[0], h2)[0].eq(1).float()
    assert inner.sum() > 0.5 * inner.numel()
    assert ((twice - once).abs() * inner).max() < 0.02
    # Composition is associative and the identity is neutral.
    eye = torch.eye(3)[None]
    assert torch.allclose(W.compose_homographies(h1, eye), h1 / h1[:, 2:, 2:], atol=1e-6)


def test_perturbations_statistics():
    g = torch.Generator().manual_seed(1)
    h = W.sample_perturbations(4000, "homography", generator=g)
    corners = torch.tensor(W.CANVAS_CORNERS).expand(4000, 4, 2)
    moved = torch.cat([corners, torch.ones(4000, 4, 1)], -1) @ h.transpose(1, 2)
    disp = moved[..., :2] / moved[..., 2:] - corners
    # Each corner: independent σ 0.25 plus the shared σ 0.25 → std sqrt(0.125) ≈ 0.354, correlation 0.5.
    assert disp.std().item() == pytest.approx(0.354, abs=0.02)
    corr = np.corrcoef(disp[:, 0, 0].numpy(), disp[:, 1, 0].numpy())[0, 1]
    assert corr == pytest.approx(0.5, abs=0.05)
    aff = W.sample_perturbations(3, "affine", generator=g)
    assert torch.allclose(aff[:, 2], torch.tensor([0.0, 0.0, 1.0]).expand(3, 3))


def test_largest_rotated_rect():
    assert W.largest_rotated_rect(100, 100, 0.0) == (100, 100)
    assert W.largest_rotated_rect(100, 100, 45.0) == (70, 70)
    assert W.largest_rotated_rect(100, 100, 90.0) == (100, 100)
    assert W.largest_rotated_rect(640, 480, -10.0) == W.largest_rotated_rect(640, 480, 10.0)


def test_elastic_warp_without_distortion_is_the_identity():
    img = _smooth_image(28)
    assert torch.allclose(W.elastic_warp(img, alpha=0.0, scale=0.0), img, atol=1e-6)


def test_elastic_displacements_peak_at_alpha_and_are_smooth():
    g = torch.Generator().manual_seed(0)
    d = W.elastic_displacements(3, 28, alpha=2.0, sigma=3.0, generator=g)
    assert d.shape == (3, 28, 28, 2)
    # Largest displacement per field is alpha pixels (2 px = 4/28 in normalised units).
    assert torch.allclose(d.abs().amax(dim=(1, 2, 3)), torch.full((3,), 4.0 / 28), atol=1e-6)
    # Smooth: neighbouring pixels move by much less than the peak.
    assert (d[:, 1:] - d[:, :-1]).abs().max() < 0.5 * 4.0 / 28


def test_elastic_warp_keeps_a_centred_bar_roughly_in_place():
    img = torch.zeros(1, 1, 28, 28)
    img[..., 12:16, 6:22] = 1.0
    out = W.elastic_warp(img, alpha=1.5, sigma=3.0, scale=0.1, generator=torch.Generator().manual_seed(1))
    ys, xs = torch.nonzero(out[0, 0] > 0.5, as_tuple=True)
    assert abs(ys.float().mean() - 13.5) < 1.5 and abs(xs.float().mean() - 13.5) < 1.5
    with pytest.raises(ShapeError):
        W.elastic_warp(torch.zeros(1, 1, 28, 20))
