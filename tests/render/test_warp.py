"""Inverse warping and the view tests (in_view, outside_source): exact edges, batches, other intrinsics."""

from __future__ import annotations

import torch

from viewshift.geometry import MIN_DEPTH, intrinsics, pixel_grid
from viewshift.render.warp import in_view, inverse_warp, outside_source


def test_in_view_edges_are_inclusive_and_depth_exclusive():
    # The image covers [-0.5, W - 0.5] x [-0.5, H - 0.5] (pixel centres at integers), edges included; a point
    # must lie strictly farther than MIN_DEPTH.
    h, w = 3, 4
    u = torch.tensor([-0.5, w - 0.5, -0.5001, w - 0.4999, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    v = torch.tensor([1.0, 1.0, 1.0, 1.0, -0.5, h - 0.5, -0.5001, h - 0.4999, 1.0, 1.0], dtype=torch.float64)
    z = torch.tensor([1.0] * 8 + [MIN_DEPTH, 2 * MIN_DEPTH], dtype=torch.float64)
    inside = in_view(torch.stack([u, v]).view(1, 2, 1, -1), z.view(1, 1, 1, -1), h, w)
    assert inside.view(-1).tolist() == [True, True, False, False, True, True, False, False, False, True]


def test_outside_source_edges_depth_and_batch():
    # Identity pose, source principal point 0.5 px left / right of the target's: target column u lands at
    # u -/+ 0.5 exactly (f and depth powers of two keep the float32 kernel exact), so the first and last columns
    # land on the source's edges, which are inside.
    h, w, f = 4, 6, 64.0
    K = intrinsics(f, h, w)
    K_left = intrinsics(f, h, w, cx=(w - 1) / 2 - 0.5, cy=(h - 1) / 2 + 0.5)
    K_right = intrinsics(f, h, w, cx=(w - 1) / 2 + 0.5, cy=(h - 1) / 2 - 0.5)
    eye = torch.eye(4, dtype=torch.float64)[None]
    holes = torch.ones(2, 1, h, w, dtype=torch.bool)
    got = outside_source(holes, 2.0, torch.cat([K, K]), torch.cat([eye, eye]), torch.cat([K_left, K_right]), (h, w))
    # Item 0: u - 0.5 >= -0.5 always, v + 0.5 <= h - 0.5 always; item 1 likewise on the other edges: all inside.
    assert not got.any()
    # One more half pixel and the edge column / row falls outside.
    K_far = intrinsics(f, h, w, cx=(w - 1) / 2 + 1.0, cy=(h - 1) / 2 - 1.0)
    got = outside_source(holes[:1], 2.0, K, eye, K_far, (h, w))
    expected = torch.zeros(h, w, dtype=torch.bool)
    expected[:, -1] = expected[0, :] = True
    assert torch.equal(got[0, 0], expected)
    # A point at exactly MIN_DEPTH is behind the camera; at twice that it is in front.
    assert outside_source(holes[:1], MIN_DEPTH, K, eye, K, (h, w)).all()
    assert not outside_source(holes[:1], 2 * MIN_DEPTH, K, eye, K, (h, w)).any()
    # Each batch item uses its own camera.
    got = outside_source(holes, 2.0, torch.cat([K, K]), torch.cat([eye, eye]), torch.cat([K, K_far]), (h, w))
    assert not got[0].any() and torch.equal(got[1, 0], expected)


def test_inverse_warp_with_other_intrinsics_and_border_padding():
    # A source camera with twice the focal length at the same place: target pixel u samples the source at
    # c_s + 2 (u - c_t). A linear ramp is reproduced exactly by bilinear sampling inside the image; outside it the
    # border mode repeats the edge pixel and the zeros mode gives zero.
    h, w = 5, 8
    K_tgt = intrinsics(10.0, h, w)
    K_src = intrinsics(20.0, h, w, cx=3.0, cy=2.25)
    ramp = (pixel_grid(h, w)[:, :2] / torch.tensor([w, h]).view(1, 2, 1, 1)).float()
    depth = torch.full((1, 1, h, w), 3.0)
    eye = torch.eye(4)[None]
    grid = pixel_grid(h, w)[0]
    su = 3.0 + 2 * (grid[0] - (w - 1) / 2)
    sv = 2.25 + 2 * (grid[1] - (h - 1) / 2)
    inside = (su >= 0) & (su <= w - 1) & (sv >= 0) & (sv <= h - 1)
    for mode in ("border", "zeros"):
        out, valid = inverse_warp(ramp, depth, K_tgt, eye, K_src, padding_mode=mode)
        assert torch.allclose(out[0, 0][inside] * w, su[inside], atol=1e-5)
        assert torch.allclose(out[0, 1][inside] * h, sv[inside], atol=1e-5)
        assert torch.equal(valid[0, 0], (su >= -0.5) & (su <= w - 0.5) & (sv >= -0.5) & (sv <= h - 0.5))
        far = (su < -1) | (su > w) | (sv < -1) | (sv > h)  # more than half a pixel beyond the edge
        assert far.any()
        if mode == "border":
            assert torch.allclose(out[0, 0][far] * w, su[far].clamp(0, w - 1), atol=1e-5)
        else:
            assert (out[:, :, far] == 0).all()
