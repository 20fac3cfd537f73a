"""The renderer's compiled projection against the torch projection of viewshift.geometry, point for point."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viewshift.geometry import (
    MIN_DEPTH,
    intrinsics,
    invert_pose,
    pixel_grid,
    pose_vector_to_matrix,
    project_depth,
    transfer_matrices,
)
from viewshift.render import kernels
from viewshift.render.warp import in_view, outside_source


def _random_camera_pair(generator: torch.Generator, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``K_from``, ``to_T_from``, ``K_to`` (float64, batch 1) with random focal lengths, principal points, skew,
    rotations up to ~0.3 rad and translations up to 0.5."""

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, dtype=torch.float64)

    def camera() -> torch.Tensor:
        K = intrinsics(
            float(20 + 200 * rand(1)), h, w, cx=float(w * rand(1)), cy=float(h * rand(1)), dtype=torch.float64
        )
        K[:, 0, 1] = float(rand(1) - 0.5)
        K[:, 1, 1] *= float(0.8 + 0.4 * rand(1))  # non-square pixels
        return K

    vector = torch.cat([rand(1, 3) - 0.5, 0.6 * (rand(1, 3) - 0.5)], dim=1)
    return camera(), pose_vector_to_matrix(vector), camera()


@pytest.mark.parametrize("seed", range(5))
def test_kernel_transfer_is_project_depth(seed):
    # The kernels' per-pixel transfer q = M p z + t, pixel q[:2] / max(q_2, MIN_DEPTH), evaluated in float64, is
    # torch's depth -> points -> pixels (project_depth) to rounding, in front of the camera and behind it.
    g = torch.Generator().manual_seed(seed)
    h, w = 9, 13
    K_from, to_T_from, K_to = _random_camera_pair(g, h, w)
    depth = 0.2 + 10 * torch.rand(1, 1, h, w, generator=g, dtype=torch.float64)
    pixels, z = project_depth(depth, K_from, to_T_from, K_to)
    M, t = (x[0].numpy() for x in transfer_matrices(K_from, to_T_from, K_to))
    grid = pixel_grid(h, w, dtype=torch.float64)[0]
    out = np.empty((3, h * w))
    kernels.transfer_pixels(
        M, t, grid[0].reshape(-1).numpy(), grid[1].reshape(-1).numpy(), depth.reshape(-1).numpy(), out
    )
    got = torch.from_numpy(out).reshape(3, h, w)
    assert torch.allclose(got[2], z[0, 0], rtol=1e-12, atol=1e-12)
    # Behind the camera the division by MIN_DEPTH magnifies the numerators' last-bit differences a millionfold.
    assert torch.allclose(got[:2], pixels[0], rtol=1e-8, atol=1e-9)
    assert (z < 0).any() or seed != 4  # seed 4 puts some points behind the target camera


def test_kernel_transfer_clamps_like_the_torch_projection():
    # A point exactly in the camera's plane (depth 0 there) and one behind it: both divide by MIN_DEPTH.
    K = intrinsics(10.0, 1, 2, dtype=torch.float64)
    to_T_from = torch.eye(4, dtype=torch.float64)[None].clone()
    to_T_from[0, 2, 3] = -1.5  # the target camera 1.5 in front of the source: depth 1.5 -> 0, depth 1 -> -0.5
    depth = torch.tensor([[[[1.5, 1.0]]]], dtype=torch.float64)
    pixels, z = project_depth(depth, K, to_T_from)
    M, t = (x[0].numpy() for x in transfer_matrices(K, to_T_from, K))
    out = np.empty((3, 2))
    kernels.transfer_pixels(M, t, np.array([0.0, 1.0]), np.array([0.0, 0.0]), depth.reshape(-1).numpy(), out)
    assert z.reshape(-1).tolist() == pytest.approx([0.0, -0.5]) and out[2].tolist() == pytest.approx([0.0, -0.5])
    # The first point: X = (-0.5 / 10 * 1.5, 0, 0) in the target, q_0 = f X + c_x Z = -0.75, u = q_0 / MIN_DEPTH.
    assert pixels[0, 0, 0, 0].item() == pytest.approx(-0.75 / MIN_DEPTH)
    assert np.allclose(out[:2], pixels[0, :, 0].numpy(), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 6])  # seeds whose moves leave part of the view inside the source
def test_outside_source_is_in_view_negated(seed):
    # The compiled border test (float32) against in_view of torch's projection, at every pixel (all holes),
    # except where a point lies within rounding of the image's edge.
    g = torch.Generator().manual_seed(seed)
    h, w = 30, 40
    K_tgt, src_T_tgt, K_src = _random_camera_pair(g, h, w)
    depth = float(0.5 + 3 * torch.rand(1, generator=g))
    holes = torch.ones(1, 1, h, w, dtype=torch.bool)
    got = outside_source(holes, depth, K_tgt, src_T_tgt, K_src, (h, w))
    pixels, z = project_depth(torch.full((1, 1, h, w), depth, dtype=torch.float64), K_tgt, src_T_tgt, K_src)
    expected = ~in_view(pixels, z, h, w)
    edge = torch.stack([pixels[:, 0] + 0.5, pixels[:, 0] - (w - 0.5), pixels[:, 1] + 0.5, pixels[:, 1] - (h - 0.5)])
    near_edge = (edge.abs() < 1e-3).any(dim=0, keepdim=True).transpose(0, 1)
    assert torch.equal(got[~near_edge], expected[~near_edge])
    assert 0 < expected.sum() < h * w  # the random move leaves some of the view inside, some outside
    # Only hole pixels are tested; the others are False.
    holes[..., ::2] = False
    assert torch.equal(outside_source(holes, depth, K_tgt, src_T_tgt, K_src, (h, w)), got & holes)
    # A camera turned around sees nothing of the source.
    turned = src_T_tgt @ invert_pose(
        pose_vector_to_matrix(torch.tensor([[0.0, 0, 0, 0, 3.14159, 0]], dtype=torch.float64))
    )
    assert outside_source(torch.ones_like(holes), depth, K_tgt, turned, K_src, (h, w)).all()


def test_a_failed_trace_is_traced_again_through_the_pixel_it_lands_on_up_to_the_edges():
    # No move, and a z-buffer that claims a nearer surface (depth 1) at every target pixel over a source whose
    # first and last rows and columns lie farther (depth 4). The trace through depth 1 fails on those (inverse
    # depths 0.75 apart, tolerance 0.1), lands on the same source pixel and is traced again through its depth, so
    # the source comes back exactly, edges included. A z-buffer farther than every source pixel is never traced
    # again through a nearer one: all holes.
    h, w = 5, 6
    rng = np.random.default_rng(0)
    values = rng.random((3, h, w), dtype=np.float32)
    depth = np.full((h, w), 4.0, np.float32)
    depth[1:-1, 1:-1] = 1.0
    M, t = np.eye(3, dtype=np.float32), np.zeros(3, np.float32)
    for z_buffer, expect_holes in ((1.0, False), (100.0, True)):
        image, z, holes = np.empty((3, h, w), np.float32), np.empty((h, w), np.float32), np.empty((h, w), bool)
        z_near = np.full((h, w), z_buffer, np.float32)
        kernels.trace_rows(values, depth, 1 / depth, z_near, M, t, M, t, 0.1, 1, image, z, holes, 0, h)
        assert (holes == expect_holes).all()
        if expect_holes:
            assert (image == 0).all() and np.isinf(z).all()
        else:
            assert np.allclose(image, values, atol=1e-6) and np.array_equal(z, depth)


@pytest.mark.parametrize(
    ("su", "expected", "want_valid", "want_depth"),
    [
        (3.3, 4.0, True, 1 / 0.252),  # the nearest corner agrees: the agreeing corners' mixed depth
        (2.3, 4.0, False, 4.0),  # only a farther corner agrees, not the nearest: the expected depth, exactly
        (1.3, 8.0, False, 8.0),  # no corner agrees: the expected depth, exactly
    ],
)
def test_sample_returns_the_expected_depth_exactly_when_the_nearest_corner_disagrees(
    su, expected, want_valid, want_depth
):
    # A source of depth 2 (inverse 0.5) in columns 0-2 beside a surface of inverse depth 0.252 (depth 3.97) in
    # columns 3-4; tolerance 0.01 around 1/expected. The refinement reads the depth of an invalid sample, so it
    # must be `expected` (the documented contract) and never the mix of farther agreeing corners or 1/0.
    inv = np.full((4, 5), 0.5, np.float32)
    inv[:, 3:] = 0.252
    values = np.arange(20, dtype=np.float32).reshape(1, 4, 5)
    out = np.empty(1, np.float32)
    depth, valid = kernels._sample(values, inv, np.float32(su), np.float32(1.2), np.float32(expected), 0.01, out)
    assert valid == want_valid
    assert depth == pytest.approx(want_depth, rel=1e-6)
    if valid:  # bilinear over the agreeing corners only (columns 3 and 4 at fu = 0.3, rows 1 and 2 at fv = 0.2)
        assert out[0] == pytest.approx(0.7 * 0.8 * 8 + 0.3 * 0.8 * 9 + 0.7 * 0.2 * 13 + 0.3 * 0.2 * 14, rel=1e-6)
