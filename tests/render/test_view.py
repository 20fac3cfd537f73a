"""The renderer on analytic scenes with exact expected answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from viewshift.geometry import intrinsics, invert_pose, move_to_pose, pixel_grid, pixels_to_grid, project_depth
from viewshift.render.splat import rasterize_depth, splat_nearest
from viewshift.render.view import RenderSettings, dilate_near, render_view
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


def test_other_target_intrinsics_and_batches():
    # Item 0: the two-plane scene seen by a camera moved right with twice the focal length: target pixel x shows
    # source u = c + (x - c + F t / Z) f / F of the plane at depth Z. Item 1: a move up without zoom. Each item of
    # the batch renders as it does alone.
    f, F, t, Z1, Z2, h, w, x0 = 100.0, 200.0, 0.2, 2.0, 10.0, 6, 80, 40
    depth = torch.full((2, 1, h, w), Z2)
    depth[..., :x0] = Z1
    image = torch.rand(2, 3, h, w)
    K_src = intrinsics(f, h, w, batch=2)
    K_tgt = torch.cat([intrinsics(F, h, w), intrinsics(f, h, w)])
    tgt_T_src = torch.cat([_move(right=t), _move(up=0.1)])
    out = render_view(image, depth, K_src, tgt_T_src, K_tgt)
    c = (w - 1) / 2
    x = torch.arange(w, dtype=torch.float64)
    u1, u2 = (c + (x - c + F * t / Z) * f / F for Z in (Z1, Z2))
    fg = u1 < x0 - 0.5
    bg = (u2 >= x0 - 0.5) & (u2 <= w - 0.5)
    assert fg.any() and bg.any() and not (fg | bg).all()  # both planes and a disocclusion band in view
    assert torch.equal(out.holes[0, 0], (~(fg | bg)).expand(h, w))
    assert torch.allclose(out.depth[0, 0][:, fg], torch.full((h, int(fg.sum())), Z1))
    assert torch.allclose(out.depth[0, 0][:, bg], torch.full((h, int(bg.sum())), Z2))
    for i in range(2):
        alone = render_view(
            image[i : i + 1], depth[i : i + 1], K_src[i : i + 1], tgt_T_src[i : i + 1], K_tgt[i : i + 1]
        )
        assert torch.equal(out.image[i], alone.image[0]) and torch.equal(out.holes[i], alone.holes[0])
        assert torch.equal(out.depth[i], alone.depth[0])
    assert not torch.equal(out.holes[0], out.holes[1])


def test_each_batch_item_has_its_own_edge_tolerance():
    # A plane slanted so that neighbouring pixels differ by 0.5 px of parallax under a small move (t = 0.02), batched
    # with the same scene under a move ten times larger. Each item's tolerance is a pixel of its own move's parallax,
    # so the small move renders the whole visible plane, exactly as alone.
    h, w, f = 6, 40, 100.0
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    depth = (1.0 / (2.0 + 0.25 * grid[0])).float()[None, None].expand(2, 1, h, w).contiguous()
    img = torch.rand(1, 3, h, w).expand(2, 3, h, w).contiguous()
    K = intrinsics(f, h, w, batch=2)
    moves = torch.cat([_move(right=0.02), _move(right=0.2)])
    out = render_view(img, depth, K, moves)
    alone = render_view(img[:1], depth[:1], K[:1], moves[:1])
    assert torch.equal(out.image[0], alone.image[0]) and torch.equal(out.holes[0], alone.holes[0])
    # With f t = 2, target x shows the source point u solving u = x + 2 (2 + u / 4): u = 2 (x + 4).
    u = 2 * (grid[0] + 4)
    inside = (u > 0.5) & (u < w - 1.5)
    assert inside.sum() > 0.3 * h * w and not out.holes[0, 0][inside].any()


def test_the_edge_tolerance_is_a_pixel_of_parallax_also_for_moves_under_a_pixel():
    # A move with f t = 0.5 (half a pixel of parallax at unit inverse depth) past a plane whose neighbouring pixels
    # differ by 0.75 px of parallax (1/Z = 25 - 1.5 u): one surface under the 1 px edge tolerance, so every target
    # pixel whose source point u = (x + 12.5) / 1.75 lies inside the image is rendered.
    h, w, f, t = 4, 16, 100.0, 0.005
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    depth = (1.0 / (25.0 - 1.5 * grid[0])).float()[None, None]
    out = render_view(torch.rand(1, 3, h, w), depth, intrinsics(f, h, w), _move(right=t))
    u = (grid[0] + 12.5) / 1.75
    inside = (u > 0.5) & (u < w - 1.5)
    assert inside.sum() >= 8 * h and not out.holes[0, 0][inside].any()


def test_target_of_another_size():
    # No move, a 10×12 target whose principal point sits 2 px right and down of the 6×8 source's: the source
    # appears unchanged at rows 2..7, columns 2..9, and everything around it is a hole.
    img, f = torch.rand(1, 3, 6, 8), 30.0
    out = render_view(
        img,
        torch.full((1, 1, 6, 8), 2.0),
        intrinsics(f, 6, 8),
        torch.eye(4)[None],
        intrinsics(f, 10, 12),
        size=(10, 12),
    )
    assert out.image.shape == (1, 3, 10, 12) and out.holes.shape == (1, 1, 10, 12)
    assert torch.allclose(out.image[..., 2:8, 2:10], img, atol=1e-5)
    expected_holes = torch.ones(10, 12, dtype=torch.bool)
    expected_holes[2:8, 2:10] = False
    assert torch.equal(out.holes[0, 0], expected_holes)


def test_forward_move_stretches_without_cracks():
    # Moving 30 % of the way towards a plane magnifies it by 1/0.7: the 2x2 footprint leaves no cracks.
    h, w, f, Z = 40, 50, 40.0, 1.0
    img = torch.rand(1, 3, h, w)
    out = render_view(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), _move(forward=0.3))
    assert not out.holes.any()
    assert torch.allclose(out.depth, torch.full_like(out.depth, 0.7), atol=1e-5)


def test_footprint_one_leaves_the_cracks_of_a_stretch():
    # The forward move of the test above with a 1-pixel footprint: each source pixel u lands at c + (u - c) / 0.7
    # and marks only the nearest target pixel, so the target pixels no landing rounds to (a column or row in every
    # 2–3) stay holes. Odd sizes put the principal point on a pixel: no landing is half-way between two pixels.
    h, w, f = 41, 51, 40.0
    img = torch.rand(1, 3, h, w)
    out = render_view(
        img, torch.ones(1, 1, h, w), intrinsics(f, h, w), _move(forward=0.3), settings=RenderSettings(footprint=1)
    )

    def hit(n: int) -> torch.Tensor:
        c = (n - 1) / 2
        landed = torch.round(c + (torch.arange(n, dtype=torch.float64) - c) / 0.7).long()
        mask = torch.zeros(n, dtype=torch.bool)
        mask[landed[(landed >= 0) & (landed < n)]] = True
        return mask

    covered = hit(h)[:, None] & hit(w)[None, :]
    assert 0.4 < covered.float().mean() < 0.6
    assert torch.equal(out.holes[0, 0], ~covered)
    assert torch.allclose(out.depth[0, 0][covered], torch.tensor(0.7), atol=1e-5)


def test_dilation_grows_near_surfaces():
    depth = torch.full((1, 1, 5, 9), 10.0)
    depth[..., 4] = 1.0
    out = render_view(
        torch.rand(1, 3, 5, 9), depth, intrinsics(10.0, 5, 9), torch.eye(4)[None], settings=RenderSettings(dilate_px=1)
    )
    assert torch.allclose(out.depth[0, 0, 2, 3:6], torch.ones(3))


def test_dilate_near_is_a_min_filter_of_the_given_radius():
    depth = torch.full((1, 1, 7, 9), 5.0)
    depth[0, 0, 3, 4] = 1.0
    for radius in (0, 1, 2):
        grown = dilate_near(depth, radius)
        expected = torch.full_like(depth, 5.0)
        expected[0, 0, 3 - radius : 4 + radius, 4 - radius : 5 + radius] = 1.0
        assert torch.equal(grown, expected)


def test_rasterize_keeps_the_nearest():
    # f t = 0.8: source pixel u at depth Z lands at u - 0.8 / Z: depths (2, 2, 0.5, 2) -> -0.4, 0.6, 0.4, 2.6.
    depth = torch.tensor([2.0, 2.0, 0.5, 2.0]).view(1, 1, 1, 4)
    K, tgt_T_src = intrinsics(10.0, 1, 4), _move(right=0.08)
    near = rasterize_depth(depth, K, tgt_T_src, footprint=1)  # the nearest pixel: 0, 1, 0, 3
    assert near[0, 0, 0].tolist() == [0.5, 2.0, math.inf, 2.0]
    # A 2×2 footprint covers the pixels whose centres surround each point: {-1, 0}, {0, 1}, {0, 1}, {2, 3}.
    quad = rasterize_depth(depth, K, tgt_T_src, size=(2, 4))
    assert quad[0, 0].tolist() == [[0.5, 0.5, 2.0, 2.0]] * 2
    # Points behind the target camera are dropped, and so are NaN depths (how a caller leaves pixels out).
    assert torch.isinf(rasterize_depth(depth, K, _move(forward=3.0))).all()
    holed = depth.clone()
    holed[0, 0, 0, 2] = math.nan  # the near point that won pixel 0: the far one at -0.4 is left there
    assert rasterize_depth(holed, K, tgt_T_src, footprint=1)[0, 0, 0].tolist() == [2.0, 2.0, math.inf, 2.0]


@pytest.mark.parametrize("axis", ["x", "y"])
def test_refinement_contracts_by_the_planes_slope(axis):
    # A plane slanted about the vertical axis, 1/Z = a + b u, seen by a camera moved right by t: target pixel x
    # shows source u = (x + f t a) / (1 - f t b). Inverse depth is linear in u, so the surface-consistent sample
    # is exact and each fixed-point step s <- s + (x - proj(s)) shrinks the z-buffer's error by exactly f t b.
    # axis "y": the same scene transposed, seen by a camera moved down (the refinement of the row coordinate).
    h, w, f, t, a, b = 6, 64, 50.0, 0.2, 0.5, 0.01
    rate = f * t * b
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    depth = (1.0 / (a + b * grid[0]))[None, None].float()
    ramp = torch.stack([grid[0] / w, grid[1] / h])[None].float()  # bilinear sampling reproduces it exactly
    exact = (grid[0] + f * t * a) / (1 - rate)
    move = _move(right=t)
    if axis == "y":
        depth, ramp, move = depth.transpose(2, 3).contiguous(), ramp.transpose(2, 3).flip(1).contiguous(), _move(up=-t)
    errors = []
    for steps in (0, 1, 2):
        out = render_view(
            ramp, depth, intrinsics(f, *depth.shape[-2:]), move, settings=RenderSettings(refine_steps=steps)
        )
        image, holes = out.image, out.holes
        if axis == "y":
            image, holes = image.transpose(2, 3).flip(1), holes.transpose(2, 3)
        inside = ~holes[0, 0] & (exact > 0.5) & (exact < w - 1.5)
        assert inside.sum() > 0.8 * h * w
        errors.append((image[0, 0].double() * w - exact)[inside])
        assert torch.allclose(image[0, 1][inside].double() * h, grid[1][inside], atol=1e-4)  # rows stay
    assert errors[0].abs().max() > 0.05  # the z-buffer's depth is off by up to a pixel's worth of slope
    for steps in (1, 2):
        assert torch.allclose(errors[steps], rate**steps * errors[0], atol=1e-4)


@pytest.mark.parametrize(
    ("move", "du", "dv"), [("up", 0.0, -0.75), ("down", 0.0, 0.75), ("right", 0.75, 0.0), ("left", -0.75, 0.0)]
)
def test_sub_pixel_shift_leaves_holes_exactly_beyond_half_a_pixel_outside(move, du, dv):
    # A plane at Z = 4 seen after a move of 0.015 (f = 200): every target pixel shows source point (x + du, y + dv),
    # 0.75 px away. The image is a ramp (value = w v + u), so bilinear sampling is exact; a target pixel whose
    # source point lies more than half a pixel outside the source (row/column -0.75 or last + 0.75) is a hole.
    f, z, h, w = 200.0, 4.0, 6, 8
    img = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)
    sign = -1.0 if move in ("down", "left") else 1.0
    pose = _move(**{"up" if move in ("up", "down") else "right": sign * 0.015})
    out = render_view(img, torch.full((1, 1, h, w), z), intrinsics(f, h, w), pose)
    v, u = torch.meshgrid(torch.arange(h) + dv, torch.arange(w) + du, indexing="ij")
    holes = (u < -0.5) | (u > w - 0.5) | (v < -0.5) | (v > h - 0.5)
    assert holes.sum() == (w if dv else h)
    assert torch.equal(out.holes[0, 0], holes)
    assert torch.allclose(out.image[0, 0], torch.where(holes, 0.0, w * v + u), atol=1e-4)


def test_refinement_on_a_steep_plane_needs_the_wider_first_tolerance():
    # The plane of the test above, slanted so steeply that neighbouring source pixels differ by 0.6 px of parallax
    # (f t b = 0.6; the edge tolerance is 1 px). The z-buffer's depth is then off by up to 1.5 px, and the first
    # refinement step only samples the plane exactly (all four neighbours agree with the guess) because its
    # tolerance is twice the edge tolerance; with half of it the step drops neighbours and misses by up to 0.6 px.
    h, w, f, t, a = 4, 48, 50.0, 0.2, 0.5
    rate = 0.6
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    depth = (1.0 / (a + rate / (f * t) * grid[0]))[None, None].float()
    ramp = torch.stack([grid[0] / w, grid[1] / h])[None].float()
    exact = (grid[0] + f * t * a) / (1 - rate)
    errors = []
    for steps in (0, 1, 2):
        out = render_view(ramp, depth, intrinsics(f, h, w), _move(right=t), settings=RenderSettings(refine_steps=steps))
        inside = ~out.holes[0, 0] & (exact > 0.5) & (exact < w - 1.5)
        assert torch.equal(inside, (exact > 0.5) & (exact < w - 1.5))  # the whole visible plane is rendered
        errors.append((out.image[0, 0].double() * w - exact)[inside])
    assert errors[0].abs().max() > 1.0
    for steps in (1, 2):
        assert torch.allclose(errors[steps], rate**steps * errors[0], atol=1e-4)


def test_refinement_of_a_wider_target_view_needs_the_wider_first_tolerance():
    # A plane 1/Z = a + b u seen by a camera moved right by t whose focal length F is half the source's f: each
    # target pixel spans J = f / F = 2 source pixels. Target pixel x shows the source point u* solving
    # x = c + (u - c) / J - F t (a + b u). The trace starts from the z-buffer's depth z at u0 = c + (x - c + F t / z) J,
    # up to J pixels from the source pixel that wrote z, so the first step's neighbours lie up to 3 px from it:
    # 1.5 px of parallax (f t b = -0.5). The doubled first-pass tolerance keeps them and the step is exact (its
    # error is multiplied by 1 - (1 - f t b) / J); the single tolerance drops one and misses by up to 0.4 px.
    h, w, f, t, J, ftb, fta = 5, 60, 50.0, 0.2, 2.0, -0.5, 40.0
    c = (w - 1) / 2
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    depth = (f * t / (fta + ftb * grid[0]))[None, None].float()
    ramp = torch.stack([grid[0] / w, grid[1] / h])[None].float()  # bilinear sampling reproduces it exactly
    K_src, K_tgt, move = intrinsics(f, h, w), intrinsics(f / J, h, w), _move(right=t)
    exact = (grid[0] - c + (c + fta) / J) / ((1 - ftb) / J)
    rate = 1 - (1 - ftb) / J
    z = rasterize_depth(depth, K_src, move, K_tgt)[0, 0].double()
    start = c + (grid[0] - c + f / J * t / z) * J
    rows = torch.tensor([1, 2, 3])  # target rows 1..3 show source rows 0, 2, 4; rows 0 and 4 lie outside
    visible = torch.zeros(h, w, dtype=torch.bool)
    visible[rows] = (exact[rows] > 0.5) & (exact[rows] < w - 1.5)
    assert (start - exact)[visible].abs().max() > 0.5  # the z-buffer's start is off by more than half a pixel
    for steps in (1, 2):
        out = render_view(ramp, depth, K_src, move, K_tgt, settings=RenderSettings(refine_steps=steps))
        assert torch.equal(~out.holes[0, 0] & visible, visible)  # the whole visible plane is rendered
        got = out.image[0, 0].double() * w
        assert torch.allclose(got[visible], (exact + rate**steps * (start - exact))[visible], atol=1e-4)
        assert torch.allclose(out.image[0, 1][visible].double() * h, (2 * grid[1] - 2)[visible], atol=1e-4)


@pytest.mark.parametrize("axis", ["x", "y"])
@pytest.mark.parametrize("t", [0.205, 0.202, 0.186, -0.2, -0.205, -0.188])  # each overhangs the far plane
def test_near_surface_overhanging_a_far_one_is_traced_again_through_the_far_one(axis, t):
    # The two planes of the disocclusion test on the other side of the move: the near plane (Z1) moves over the far
    # one (Z2). The z-buffer's 2×2 footprint of the near plane's first column overhangs by up to a pixel onto target
    # pixels whose near source point lies on the far plane; their trace through the near depth fails, lands on a
    # far pixel and is traced again through its depth. Target pixel x shows the near plane where x + s1 lies on a
    # near pixel, else the far plane where x + s2 lies inside the image (s = f t / Z). Axis "y": transposed, moving
    # down or up (the retry's row coordinate).
    f, Z1, Z2, h, w, x0 = 100.0, 2.0, 10.0, 6, 80, 40
    x = torch.arange(w, dtype=torch.float32)
    depth = torch.where(x >= x0 if t > 0 else x < x0, Z1, Z2).expand(1, 1, h, w).contiguous()
    img, move = torch.rand(1, 3, h, w), _move(right=t)
    if axis == "y":
        depth, img, move = depth.transpose(2, 3).contiguous(), img.transpose(2, 3).contiguous(), _move(up=-t)
    K = intrinsics(f, *depth.shape[-2:])
    out = render_view(img, depth, K, move)
    holes, z, zbuf = out.holes[0, 0], out.depth[0, 0], rasterize_depth(depth, K, move)[0, 0]
    if axis == "y":
        holes, z, zbuf = holes.T, z.T, zbuf.T
    s1, s2 = f * t / Z1, f * t / Z2
    if t > 0:
        near = (x + s1 >= x0 - 0.5) & (x + s1 <= w - 0.5)
        far = (x + s1 < x0 - 0.5) & (x + s2 >= -0.5)
    else:
        near = (x + s1 < x0 - 0.5) & (x + s1 >= -0.5)
        far = (x + s1 >= x0 - 0.5) & (x + s2 <= w - 0.5)
    assert (((zbuf - Z1).abs() < 1e-4) & far).any()  # the near plane's footprint does overhang visible far pixels
    assert torch.equal(holes, (~(near | far)).expand(h, w))
    assert torch.allclose(z[:, near], torch.full((h, int(near.sum())), Z1))
    assert torch.allclose(z[:, far], torch.full((h, int(far.sum())), Z2))


def test_splat_nearest_integer_shift():
    img = torch.rand(1, 3, 4, 10)
    px = pixel_grid(4, 10)[:, :2].clone()
    px[:, 0] -= 3
    out, holes = splat_nearest(img, px, torch.ones(1, 1, 4, 10), 4, 10)
    assert torch.equal(out[..., :7], img[..., 3:]) and holes[..., 7:].all() and not holes[..., :7].any()


def test_splat_nearest_drops_points_off_the_image_and_keeps_batches_apart():
    # Points rounding to column W or row H (one past the last pixel), lying absurdly far away, or at depth <= 0 are
    # dropped; the nearer of two points on one pixel wins; each batch item splats into its own image; float64 in,
    # float64 out.
    h, w = 3, 4
    img = torch.arange(2 * 7, dtype=torch.float64).view(2, 1, 1, 7) + 1
    u = torch.tensor([[w, 1.0, -1e12, 1e12, 2.2, 1.8, 0.0], [0.0, 1.0, 2.0, 3.0, 0.4, 2.0, 1.0]])
    v = torch.tensor([[1.0, h, 1.0, 1.0, 2.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 2.4, 2.0, 2.0]])
    z = torch.tensor([[1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.5]])
    pixels = torch.stack([u, v], dim=1).view(2, 2, 1, 7).double()
    out, holes = splat_nearest(img, pixels, z.view(2, 1, 1, 7).double(), h, w)
    expected = torch.zeros(2, 1, h, w, dtype=torch.float64)
    expected[0, 0, 2, 2] = 6.0  # points 4 and 5 share pixel (2, 2): the nearer (z = 1) wins
    expected[1, 0, 0, :] = torch.tensor([8.0, 9.0, 10.0, 11.0])
    expected[1, 0, 2, 0] = 12.0
    expected[1, 0, 2, 1] = 14.0  # the point behind the camera at (2, 2) is dropped
    assert torch.equal(out, expected)
    assert torch.equal(holes, expected == 0)


def test_inverse_warp_gradients_flow_to_depth_and_pose():
    h, w = 6, 8
    img = torch.rand(1, 3, h, w)
    depth = (torch.rand(1, 1, h, w) + 1).requires_grad_()
    pose = _move(right=0.05, yaw=1.0).requires_grad_()
    out, valid = inverse_warp(img, depth, intrinsics(10.0, h, w), pose)
    (out * valid).sum().backward()
    assert depth.grad.abs().sum() > 0 and pose.grad.abs().sum() > 0


def test_inverse_warp_gradcheck_float64():
    # Gradients of the warped image against the source image, the target depth, the pose and both intrinsics.
    # Sample points stay off pixel-centre lines, where bilinear sampling has kinks.
    g = torch.Generator().manual_seed(0)
    h, w = 4, 5
    img = torch.rand(1, 2, h, w, generator=g, dtype=torch.float64).requires_grad_()
    depth = (torch.rand(1, 1, h, w, generator=g, dtype=torch.float64) + 2).requires_grad_()
    K_tgt = intrinsics(6.0, h, w, cx=2.1, cy=1.4, dtype=torch.float64).requires_grad_()
    K_src = intrinsics(6.5, h, w, cx=1.9, cy=1.6, dtype=torch.float64).requires_grad_()
    pose = move_to_pose(right=0.13, up=-0.07, yaw=2.0, roll=3.0).requires_grad_()

    def warped(*args):
        return inverse_warp(*args, padding_mode="border")[0]

    pixels, _ = project_depth(depth.detach(), K_tgt.detach(), pose.detach(), K_src.detach())
    assert ((pixels - pixels.round()).abs() > 1e-3).all()  # finite differences stay between kinks
    assert torch.autograd.gradcheck(warped, (img, depth, K_tgt, pose, K_src))


def test_inverse_warp_plane_shift_is_exact():
    f, t, Z, h, w = 100.0, 0.06, 2.0, 5, 20  # 3 px
    img = torch.rand(1, 3, h, w)
    # Target = camera moved right; sample the source through the target's depth: src_T_tgt = move pose.
    out, valid = inverse_warp(img, torch.full((1, 1, h, w), Z), intrinsics(f, h, w), move_to_pose(right=t).float())
    assert torch.allclose(out[..., :17], img[..., 3:], atol=1e-5)
    assert valid[..., :17].all() and not valid[..., 18:].any()


@pytest.mark.parametrize("h, w", [(70, 90), (96, 20)])  # tall and narrow: as many bands as rows allow, not columns
def test_bands_of_rows_on_several_threads_give_the_same_view(h, w):
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
