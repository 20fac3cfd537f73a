"""Camera geometry against hand-computed answers."""

from __future__ import annotations

import math

import pytest
import torch

from viewshift.errors import ShapeError
from viewshift.geometry import (
    axis_angle_to_matrix,
    crop_intrinsics,
    depth_to_points,
    euler_to_matrix,
    flip_intrinsics,
    focal_from_35mm,
    focal_from_fov,
    fov_from_focal,
    intrinsics,
    invert_pose,
    move_to_pose,
    pixel_grid,
    pixels_to_grid,
    points_to_pixels,
    pose_vector_to_matrix,
    project_depth,
    scale_intrinsics,
    transform_points,
)


def test_focal_fov_round_trip():
    assert focal_from_fov(90.0, 800) == pytest.approx(400.0)
    assert fov_from_focal(focal_from_fov(63.0, 1234), 1234) == pytest.approx(63.0)
    # A 24 mm lens (35 mm equivalent) on a 3:2 image: f_px = 24 * diag_px / 43.27.
    assert focal_from_35mm(24.0, 3000, 2000) == pytest.approx(24.0 * math.hypot(3000, 2000) / math.hypot(36, 24))
    with pytest.raises(ValueError):
        focal_from_fov(180.0, 100)
    with pytest.raises(ValueError):
        focal_from_fov(0.0, 100)
    assert focal_from_fov(0.5, 100) == pytest.approx(50.0 / math.tan(math.radians(0.25)))  # narrow is fine


def test_backproject_then_project_is_identity():
    K = intrinsics(321.0, 7, 9, cx=4.2, cy=2.9)
    depth = torch.rand(1, 1, 7, 9) * 5 + 0.5
    px, z = points_to_pixels(depth_to_points(depth, K), K)
    grid = pixel_grid(7, 9)[:, :2]
    assert torch.allclose(px, grid, atol=1e-4)
    assert torch.allclose(z, depth, atol=1e-5)


def test_plane_shifts_by_f_t_over_z():
    f, t, Z = 500.0, 0.12, 3.0
    K = intrinsics(f, 4, 10)
    px, z = project_depth(torch.full((1, 1, 4, 10), Z), K, invert_pose(move_to_pose(right=t)).float())
    shift = px[:, 0] - pixel_grid(4, 10)[:, 0]
    assert torch.allclose(shift, torch.full_like(shift, -f * t / Z), atol=1e-4)
    assert torch.allclose(z, torch.full_like(z, Z))
    # Moving up: things slide down in the picture; moving forward: depth shrinks by the move.
    px, _ = project_depth(torch.full((1, 1, 4, 10), Z), K, invert_pose(move_to_pose(up=t)).float())
    assert torch.allclose(px[:, 1] - pixel_grid(4, 10)[:, 1], torch.full((1, 4, 10), f * t / Z), atol=1e-4)
    _, z = project_depth(torch.full((1, 1, 4, 10), Z), K, invert_pose(move_to_pose(forward=t)).float())
    assert torch.allclose(z, torch.full_like(z, Z - t))


def test_move_conventions():
    # Yaw right: a point straight ahead ends up left of the new optical axis.
    T = invert_pose(move_to_pose(yaw=10.0))
    p = transform_points(T, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64).view(1, 3, 1, 1))
    assert p[0, 0, 0, 0] < 0
    # Pitch up: a point straight ahead ends up below (y down).
    T = invert_pose(move_to_pose(pitch=10.0))
    p = transform_points(T, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64).view(1, 3, 1, 1))
    assert p[0, 1, 0, 0] > 0
    # Roll clockwise (seen from behind): a point on the right of the axis moves up in the picture.
    T = invert_pose(move_to_pose(roll=10.0))
    p = transform_points(T, torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64).view(1, 3, 1, 1))
    assert p[0, 1, 0, 0] < 0


def test_pose_algebra():
    v = torch.tensor([[0.1, -0.2, 0.3, 0.05, -0.1, 0.2]], dtype=torch.float64)
    T = pose_vector_to_matrix(v)
    assert torch.allclose(T @ invert_pose(T), torch.eye(4, dtype=torch.float64)[None], atol=1e-12)
    R = T[0, :3, :3]
    assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-12)
    # Axis-angle about z equals the Euler rotation about z.
    aa = axis_angle_to_matrix(torch.tensor([[0.0, 0.0, 0.7]], dtype=torch.float64))
    eu = euler_to_matrix(torch.tensor([[0.0, 0.0, 0.7]], dtype=torch.float64))
    assert torch.allclose(aa, eu, atol=1e-12)
    assert torch.allclose(axis_angle_to_matrix(torch.zeros(1, 3)), torch.eye(3)[None])


def test_axis_angle_gradcheck():
    x = torch.tensor([[0.3, -0.2, 0.5]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (x,))
    z = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (z,))


def test_intrinsics_batches_and_precision():
    # A number and batch=B gives B copies; a (B,) tensor gives one K per focal length; float64 keeps the focal
    # length exact (1/3 is not a float32 number).
    K = intrinsics(1.0 / 3.0, 5, 8, batch=3, dtype=torch.float64)
    assert K.shape == (3, 3, 3) and K.dtype == torch.float64
    assert (K[:, 0, 0] == 1.0 / 3.0).all() and (K[:, 1, 1] == 1.0 / 3.0).all()
    assert (K[:, 0, 2] == 3.5).all() and (K[:, 1, 2] == 2.0).all() and (K[:, 2, 2] == 1.0).all()
    K = intrinsics(torch.tensor([10.0, 20.0]), 5, 8)
    assert K.shape == (2, 3, 3) and K[:, 0, 0].tolist() == [10.0, 20.0] and K[:, 1, 1].tolist() == [10.0, 20.0]


def test_intrinsics_under_resize_crop_flip():
    K = intrinsics(100.0, 40, 60)
    # Half size: the principal point (pixel centre convention) maps (c + 0.5) * s - 0.5.
    Ks = scale_intrinsics(K, 0.5, 0.5)
    assert Ks[0, 0, 0] == 50.0 and Ks[0, 0, 2] == pytest.approx((29.5 + 0.5) * 0.5 - 0.5)
    # A 3-D point's pixel after a crop is its pixel before minus the crop origin.
    X = torch.tensor([0.3, -0.1, 2.0]).view(1, 3, 1, 1)
    px, _ = points_to_pixels(X, K)
    pc, _ = points_to_pixels(X, crop_intrinsics(K, 5, 7))
    assert torch.allclose(pc, px - torch.tensor([5.0, 7.0]).view(1, 2, 1, 1))
    pf, _ = points_to_pixels(X * torch.tensor([-1.0, 1, 1]).view(1, 3, 1, 1), flip_intrinsics(K, 60))
    assert pf[0, 0, 0, 0] == pytest.approx(59 - px[0, 0, 0, 0].item(), abs=1e-4)
    # Off-centre principal point: the mirrored camera's c_x is W - 1 - c_x; nothing else changes.
    K_off = intrinsics(100.0, 40, 60, cx=20.0, cy=11.0)
    expected = K_off.clone()
    expected[0, 0, 2] = 39.0
    assert torch.equal(flip_intrinsics(K_off, 60), expected)


def test_scale_intrinsics_follows_pixel_centres_on_both_axes():
    # Resizing by (sx, sy) moves pixel centres u -> (u + 0.5) sx - 0.5, v -> (v + 0.5) sy - 0.5: a 3-D point's
    # pixel under the scaled K is its old pixel mapped that way, on each axis with its own factor.
    K = intrinsics(100.0, 40, 60, cx=31.3, cy=17.8, dtype=torch.float64)
    K[:, 0, 1] = 0.7  # skew scales with the x axis
    sx, sy = 0.5, 1.75
    X = torch.tensor([[0.3, 0.2, -0.4], [-0.1, 0.25, 0.05], [2.0, 1.5, 3.0]], dtype=torch.float64).view(1, 3, 3, 1)
    px, _ = points_to_pixels(X, K)
    ps, _ = points_to_pixels(X, scale_intrinsics(K, sx, sy))
    expected = (px + 0.5) * torch.tensor([sx, sy], dtype=torch.float64).view(1, 2, 1, 1) - 0.5
    assert torch.allclose(ps, expected, atol=1e-12)


def test_projection_gradcheck_float64():
    # depth -> points -> pixels of another camera, differentiated against depth, both intrinsics and the pose.
    torch.manual_seed(0)
    depth = (torch.rand(1, 1, 3, 4, dtype=torch.float64) * 3 + 1).requires_grad_()
    K_src = intrinsics(20.0, 3, 4, cx=1.7, cy=1.2, dtype=torch.float64).requires_grad_()
    K_tgt = intrinsics(18.0, 3, 4, cx=1.4, cy=0.9, dtype=torch.float64).requires_grad_()
    pose = pose_vector_to_matrix(torch.tensor([[0.1, -0.05, 0.2, 0.03, -0.02, 0.05]], dtype=torch.float64))
    pose.requires_grad_()
    assert torch.autograd.gradcheck(lambda *a: project_depth(*a), (depth, K_src, pose, K_tgt))
    # The pose as the network produces it: a 6-vector through the Euler parameterisation.
    vector = torch.tensor([[0.1, -0.05, 0.2, 0.03, -0.02, 0.05]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda v: project_depth(depth.detach(), K_src.detach(), pose_vector_to_matrix(v)), (vector,)
    )


def test_projection_batched_and_in_the_depths_precision():
    # Two batch items with their own cameras and moves give what each gives alone; float32 K and poses are used
    # in the depth's float64 (the answer matches the all-float64 computation to float64 rounding).
    K = torch.cat([intrinsics(80.0, 5, 7, cx=3.3, cy=1.7), intrinsics(60.0, 5, 7, cx=2.2, cy=2.6)])
    K[1, 0, 1] = 0.4
    poses = torch.cat([invert_pose(move_to_pose(right=0.1, yaw=3.0)), invert_pose(move_to_pose(up=-0.2, roll=9.0))])
    depth = torch.rand(2, 1, 5, 7, dtype=torch.float64) * 4 + 1
    pixels, z = project_depth(depth, K, poses.float())
    assert pixels.dtype == z.dtype == torch.float64
    for i in range(2):
        K64, T64 = K[i : i + 1].double(), poses[i : i + 1].float().double()
        alone, z_alone = project_depth(depth[i : i + 1], K64, T64)
        assert torch.allclose(pixels[i : i + 1], alone, rtol=1e-12, atol=1e-9)
        assert torch.allclose(z[i : i + 1], z_alone, rtol=1e-12)
        # And by hand: X = z K^-1 p, q = K (R X + t).
        grid = pixel_grid(5, 7, dtype=torch.float64).reshape(3, -1)
        X = torch.linalg.inv(K64[0]) @ grid * depth[i].reshape(1, -1)
        q = K64[0] @ (T64[0, :3, :3] @ X + T64[0, :3, 3:])
        assert torch.allclose(pixels[i].reshape(2, -1), q[:2] / q[2:], rtol=1e-12, atol=1e-9)


def test_pixels_to_grid_is_exact_in_float64():
    # x_n = (2u + 1) / W - 1: pixel centres 0 and W - 1 map to -1 + 1/W and 1 - 1/W, the image's edges to -1 and 1.
    u = torch.tensor([0.0, 2.0, -0.5, 2.5, 1.0 / 3.0], dtype=torch.float64)
    v = torch.tensor([0.0, 6.0, -0.5, 6.5, 1.0], dtype=torch.float64)
    grid = pixels_to_grid(torch.stack([u, v]).view(1, 2, 1, 5), 7, 3)
    assert grid.shape == (1, 1, 5, 2) and grid.dtype == torch.float64
    assert torch.allclose(grid[0, 0, :, 0], (2 * u + 1) / 3 - 1, rtol=0, atol=1e-15)
    assert torch.allclose(grid[0, 0, :, 1], (2 * v + 1) / 7 - 1, rtol=0, atol=1e-15)
    assert grid[0, 0, 2].tolist() == [-1.0, -1.0] and grid[0, 0, 3].tolist() == [1.0, 1.0]


def test_shape_errors_are_typed():
    with pytest.raises(ShapeError, match="depth must have shape"):
        depth_to_points(torch.ones(1, 2, 3, 3), intrinsics(1.0, 3, 3))
    with pytest.raises(ShapeError, match="batch sizes differ"):
        depth_to_points(torch.ones(2, 1, 3, 3), intrinsics(1.0, 3, 3))
