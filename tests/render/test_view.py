"""The renderer on analytic scenes with exact expected answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from viewshift.geometry import intrinsics, invert_pose, move_to_pose, pixel_grid, pixels_to_grid
from viewshift.render.splat import rasterize_depth, splat_nearest
from viewshift.render.view import RenderSettings, render_view
from viewshift.render.warp import inverse_warp


def _move(**kw) -> torch.Tensor:
    """tgt_T_src for a user move."""
    return invert_pose(move_to_pose(**kw)).float()


def test_textured_plane_moves_by_f_t_over_z_integer():
    f, t, Z, h, w = 200.0, 0.1, 4.0, 12, 40  # shift = 5 px exactly
    img = torch.rand(1, 3, h, w)
    out = render_view(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), _move(right=t))
    shift = int(f * t / Z)
    assert torch.allclose(out.image[..., : w - shift], img[..., shift:], atol=1e-5)
    assert out.holes[..., w - shift :].all() and not out.holes[..., : w - shift].any()
    assert torch.allclose(out.depth[..., : w - shift], torch.full((1, 1, h, w - shift), Z))


@pytest.mark.parametrize("t", [0.062, 0.1348, -0.091])
def test_textured_plane_moves_by_f_t_over_z_subpixel(t):
    # A linear ramp texture: bilinear interpolation reproduces it exactly, so the shift can be read off.
    f, Z, h, w = 200.0, 4.0, 8, 60
    grid = pixel_grid(h, w)
    img = torch.stack([grid[0, 0] / w, grid[0, 1] / h, 0.5 * grid[0, 0] / w + 0.2])[None]
    out = render_view(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), _move(right=t))
    shift = f * t / Z  # target pixel x shows source pixel x + shift
    ok = ~out.holes[0, 0]
    expected_u = grid[0, 0] + shift
    assert ok.sum() >= h * (w - math.ceil(abs(shift)) - 1)
    # Between the last pixel centre and the image edge the sample clamps to the edge pixel.
    assert torch.allclose(out.image[0, 0][ok] * w, expected_u[ok].clamp(0, w - 1), atol=1e-3)
    # Exactly the pixels whose source point lies inside the source image are covered.
    inside = (expected_u >= -0.5) & (expected_u <= w - 0.5)
    assert torch.equal(ok, inside)


@pytest.mark.parametrize("t", [0.2, 0.205, 0.1937])
def test_two_planes_disocclusion_band(t):
    # Foreground plane (Z1) on the left of column x0, background (Z2) right of it; the camera moves right.
    f, Z1, Z2, h, w, x0 = 100.0, 2.0, 10.0, 6, 80, 40
    depth = torch.full((1, 1, h, w), Z2)
    depth[..., :x0] = Z1
    img = torch.rand(1, 3, h, w)
    out = render_view(img, depth, intrinsics(f, h, w), _move(right=t))
    s1, s2 = f * t / Z1, f * t / Z2
    x = torch.arange(w, dtype=torch.float32)
    # Pixel centre x sees the foreground when its source point x + s1 lies on a foreground pixel (< x0 - 0.5),
    # the background when x + s2 lies on a background pixel (>= x0 - 0.5) inside the image.
    fg = x + s1 < x0 - 0.5
    bg = (x + s2 >= x0 - 0.5) & (x + s2 <= w - 0.5)
    expected_holes = ~(fg | bg)
    band = ((x >= x0 - s1 - 0.5) & (x < x0 - s2 - 0.5)).sum().item()
    assert band == pytest.approx(f * t * (1 / Z1 - 1 / Z2), abs=1)
    assert torch.equal(out.holes[0, 0], expected_holes.expand(h, w))
    # Visible pixels carry their own surface's depth: the foreground never bleeds into the band.
    assert torch.allclose(out.depth[0, 0][:, fg], torch.full((h, int(fg.sum())), Z1))
    assert torch.allclose(out.depth[0, 0][:, bg], torch.full((h, int(bg.sum())), Z2))


def test_pure_rotation_is_the_homography():
    h, w, f = 30, 40, 60.0
    K = intrinsics(f, h, w)
    img = torch.rand(1, 3, h, w)
    depth = torch.rand(1, 1, h, w) * 5 + 1  # any depth: a pure rotation ignores it
    tgt_T_src = _move(yaw=4.0, pitch=-3.0, roll=7.0)
    out = render_view(img, depth, K, tgt_T_src)
    # Target pixel p samples the source at K R^T K^-1 p (R = tgt_R_src).
    Hmat = K[0] @ tgt_T_src[0, :3, :3].T @ torch.linalg.inv(K[0])
    src = Hmat @ pixel_grid(h, w).reshape(3, -1)
    src = (src[:2] / src[2:]).reshape(1, 2, h, w)
    expected = F.grid_sample(img, pixels_to_grid(src, h, w), align_corners=False)
    inside = (src[:, 0] >= 0) & (src[:, 0] <= w - 1) & (src[:, 1] >= 0) & (src[:, 1] <= h - 1)
    ok = inside & ~out.holes[:, 0]
    assert ok.float().mean() > 0.6
    assert torch.allclose(out.image.permute(1, 0, 2, 3)[:, ok], expected.permute(1, 0, 2, 3)[:, ok], atol=1e-4)
    # A pure rotation reveals nothing: every pixel whose source lies inside the image is rendered.
    assert not (out.holes[:, 0] & inside).any()


def test_zero_move_returns_input():
    img = torch.rand(1, 3, 9, 11)
    depth = torch.rand(1, 1, 9, 11) + 0.5
    out = render_view(img, depth, intrinsics(30.0, 9, 11), torch.eye(4)[None])
    assert torch.allclose(out.image, img, atol=1e-5) and not out.holes.any()
    assert torch.allclose(out.depth, depth, atol=1e-5)


def test_forward_move_stretches_without_cracks():
    # Moving 30 % of the way towards a plane magnifies it by 1/0.7: the 2x2 footprint leaves no cracks.
    h, w, f, Z = 40, 50, 40.0, 1.0
    img = torch.rand(1, 3, h, w)
    out = render_view(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), _move(forward=0.3))
    assert not out.holes.any()
    assert torch.allclose(out.depth, torch.full_like(out.depth, 0.7), atol=1e-5)


def test_dilation_grows_near_surfaces():
    depth = torch.full((1, 1, 5, 9), 10.0)
    depth[..., 4] = 1.0
    out = render_view(
        torch.rand(1, 3, 5, 9), depth, intrinsics(10.0, 5, 9), torch.eye(4)[None], settings=RenderSettings(dilate_px=1)
    )
    assert torch.allclose(out.depth[0, 0, 2, 3:6], torch.ones(3))


def test_rasterize_keeps_the_nearest():
    pixels = torch.tensor([[[2.0, 2.0], [1.0, 1.0]]]).reshape(1, 2, 1, 2)
    z = torch.tensor([3.0, 1.0]).reshape(1, 1, 1, 2)
    near = rasterize_depth(pixels, z, 3, 4, footprint=1)
    assert near[0, 0, 1, 2] == 1.0 and torch.isinf(near).sum() == 11
    # A 2×2 footprint covers the four pixels around a sub-pixel position.
    quad = rasterize_depth(torch.tensor([1.5, 0.5]).view(1, 2, 1, 1), torch.ones(1, 1, 1, 1), 3, 4)
    assert torch.isfinite(quad[0, 0]).nonzero().tolist() == [[0, 1], [0, 2], [1, 1], [1, 2]]


def test_splat_nearest_integer_shift():
    img = torch.rand(1, 3, 4, 10)
    px = pixel_grid(4, 10)[:, :2].clone()
    px[:, 0] -= 3
    out, holes = splat_nearest(img, px, torch.ones(1, 1, 4, 10), 4, 10)
    assert torch.equal(out[..., :7], img[..., 3:]) and holes[..., 7:].all() and not holes[..., :7].any()


def test_inverse_warp_gradients_flow_to_depth_and_pose():
    h, w = 6, 8
    img = torch.rand(1, 3, h, w)
    depth = (torch.rand(1, 1, h, w) + 1).requires_grad_()
    pose = _move(right=0.05, yaw=1.0).requires_grad_()
    out, valid = inverse_warp(img, depth, intrinsics(10.0, h, w), pose)
    (out * valid).sum().backward()
    assert depth.grad.abs().sum() > 0 and pose.grad.abs().sum() > 0


def test_inverse_warp_plane_shift_is_exact():
    f, t, Z, h, w = 100.0, 0.06, 2.0, 5, 20  # 3 px
    img = torch.rand(1, 3, h, w)
    # Target = camera moved right; sample the source through the target's depth: src_T_tgt = move pose.
    out, valid = inverse_warp(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), move_to_pose(right=t).float())
    assert torch.allclose(out[..., :17], img[..., 3:], atol=1e-5)
    assert valid[..., :17].all() and not valid[..., 18:].any()


def test_bands_of_rows_on_several_threads_give_the_same_view():
    h, w = 70, 90
    img = torch.rand(1, 3, h, w)
    depth = torch.rand(1, 1, h, w) * 3 + 1
    threads = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 3):
            torch.set_num_threads(n)
            outs.append(render_view(img, depth, intrinsics(80.0, h, w), _move(right=0.1, up=0.05, yaw=2.0)))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(outs[0].image, outs[1].image) and torch.equal(outs[0].holes, outs[1].holes)
    assert outs[0].holes.float().mean() > 0.01  # the move opens holes: the bands meet at occlusion edges too
