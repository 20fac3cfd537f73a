"""Pieces of viewshift fit: windows of the fit size, the windowed objective's intrinsics, the teacher's frames."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from viewshift.learn import fit as fit_module
from viewshift.learn.fit import ClipFit, FitConfig, fit_objective, fit_size, geometric_teacher, random_window


def test_fit_size_keeps_the_frames_size_up_to_the_width_cap():
    assert fit_size((378, 504), 640) == (384, 512)
    assert fit_size((640, 360), 640) == (640, 352)
    assert fit_size((720, 1280), 640) == (352, 640)
    assert fit_size((20, 30), 640) == (32, 32)


def test_random_windows_lie_inside_the_frame_and_repeat_with_the_seed():
    a = [random_window(np.random.default_rng([0, s]), (384, 512), (192, 256)) for s in range(50)]
    b = [random_window(np.random.default_rng([0, s]), (384, 512), (192, 256)) for s in range(50)]
    assert a == b
    for y0, x0, h, w in a:
        assert (h, w) == (192, 256) and 0 <= y0 <= 192 and 0 <= x0 <= 256
    assert len({(y0, x0) for y0, x0, _, _ in a}) > 40  # spread over the frame
    assert random_window(np.random.default_rng(0), (64, 96), (192, 256)) is None  # larger than the frame: whole


class _TrueDepth(nn.Module):
    """Returns the exact depth of whichever frames (and window) the test says are being asked for."""

    def __init__(self, depth: torch.Tensor):
        super().__init__()
        self.depth, self.frames, self.window = depth, [], None
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, images):
        d = self.depth[self.frames]
        if self.window is not None:
            y0, x0, h, w = self.window
            d = d[..., y0 : y0 + h, x0 : x0 + w]
        return [d + 0 * self.dummy]


def test_a_window_shifts_the_intrinsics_so_exact_depth_still_matches():
    # frame 1 is frame 0 (a smooth random texture) seen from a camera turned 4° and moved 0.1 forward, so where
    # a pixel lands depends on the principal point
    from viewshift.geometry import make_pose
    from viewshift.geometry.poses import axis_angle_to_matrix
    from viewshift.render.warp import inverse_warp

    torch.manual_seed(0)
    h, w = 64, 96
    src = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 12), size=(h, w), mode="bicubic").clamp(0, 1)
    K = torch.tensor([[80.0, 0, 47.5], [0, 80.0, 31.5], [0, 0, 1]], dtype=torch.float64)
    cam1 = make_pose(axis_angle_to_matrix(torch.tensor([[0.0, 0.07, 0.0]])), torch.tensor([[0.0, 0.0, 0.1]]))[0]
    depth = torch.full((2, 1, h, w), 3.0)
    tgt, _ = inverse_warp(src, depth[:1], K[None].float(), cam1[None].float())
    images = torch.cat([src, tgt])
    poses = torch.stack([torch.eye(4, dtype=torch.float64), cam1.double()])
    net = _TrueDepth(depth)
    model = ClipFit(net, poses, 0.0)
    config = FitConfig(scales=1, smooth_weight=0.0, ssim_weight=0.0, teacher_weight=0.0)
    net.frames = [1]
    whole = float(fit_objective(model, images, K, [1], [[0, 0]], config)["photometric"])
    window = (16, 24, 32, 48)
    net.window = window
    cropped = float(fit_objective(model, images, K, [1], [[0, 0]], config, window=window)["photometric"])
    # the same crop without shifting K: the rotation moves every pixel to the wrong place
    wrong = float(fit_objective(model, images[..., 16:48, 24:72], K, [1], [[0, 0]], config)["photometric"])
    assert whole < 1e-4 and cropped < 0.005, (whole, cropped)  # (bilinear samples at the window's border)
    assert wrong > 10 * cropped, (wrong, cropped)


def test_per_frame_scales_put_a_network_at_the_wrong_distance_right():
    # frame 1 is frame 0 seen from a camera moved 0.1 sideways with the scene at depth 3; the network says 1.5
    # (half the distance). Only a per-frame scale of 2 on frame 1 makes the view synthesis exact; the global scale
    # stays what the photo alone gets.
    from viewshift.geometry import make_pose
    from viewshift.render.warp import inverse_warp

    torch.manual_seed(0)
    h, w = 64, 96
    src = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 12), size=(h, w), mode="bicubic").clamp(0, 1)
    K = torch.tensor([[80.0, 0, 47.5], [0, 80.0, 31.5], [0, 0, 1]], dtype=torch.float64)
    cam1 = make_pose(torch.eye(3)[None], torch.tensor([[0.1, 0.0, 0.0]]))[0]
    tgt, _ = inverse_warp(src, torch.full((1, 1, h, w), 3.0), K[None].float(), cam1[None].float())
    images = torch.cat([src, tgt])
    poses = torch.stack([torch.eye(4, dtype=torch.float64), cam1.double()])
    net = _TrueDepth(torch.full((2, 1, h, w), 1.5))
    net.frames = [1]
    config = FitConfig(scales=1, smooth_weight=0.0, ssim_weight=0.0, teacher_weight=0.0)
    right = ClipFit(net, poses, 0.0, frame_log_scales=torch.tensor([0.0, np.log(2.0)]))
    wrong = ClipFit(net, poses, 0.0, frame_log_scales=torch.zeros(2))
    e_right = float(fit_objective(right, images, K, [1], [[0, 0]], config)["photometric"])
    e_wrong = float(fit_objective(wrong, images, K, [1], [[0, 0]], config)["photometric"])
    assert e_right < 0.005 and e_wrong > 10 * e_right, (e_right, e_wrong)
    with torch.no_grad():
        assert float(right.depths(images[1:], [1])[0].mean()) == 3.0
        assert float(right.depths(images[1:])[0].mean()) == 1.5
    assert abs(right.single_photo_scale([0, 1, 1]) - 2.0) < 1e-6  # the median frame's
    assert abs(right.single_photo_scale([0]) - 1.0) < 1e-6
    assert ClipFit(net, poses, 0.5).frame_log_scale is None  # off: the state dict of earlier runs


def test_per_frame_log_scales_are_interpolated_between_teacher_frames():
    r = {1: torch.tensor([2.0, 2.0, 2.0]), 5: torch.tensor([1.0, 8.0, 8.0])}
    got = fit_module.interpolate_log_scales(r, 7).numpy()
    want = np.log([2, 2, 2 * 2**0.5, 4, 4 * 2**0.5, 8, 8])  # constant beyond, x √2 per frame between
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_teacher_sweeps_only_the_fitted_frames(monkeypatch):
    seen = {}

    def fake_depths(images, refs, *, cameras, fill, config):
        seen["n"], seen["refs"], seen["poses"] = len(images), refs, cameras.world_T_cam.copy()
        from viewshift.multiview import MultiViewDepth

        return [
            MultiViewDepth(
                depth=np.full((8, 12), 2.0, np.float32), confidence=np.ones((8, 12), np.float32), ref=r, cameras=cameras
            )
            for r in refs
        ]

    import viewshift.multiview as mv

    monkeypatch.setattr(mv, "multiview_depths", fake_depths)
    W = np.stack([np.eye(4)] * 8)
    W[:, 0, 3] = np.arange(8)
    imgs = [np.full((8, 12, 3), i, np.uint8) for i in range(8)]
    pool = [0, 1, 2, 4, 5, 6]  # 3 and 7 held out
    out = geometric_teacher(imgs, [0, 2, 3, 6], W, np.eye(3), (4, 6), np.zeros((0, 3)), pool=pool)
    assert sorted(out) == [0, 2, 6]  # a held-out frame gets no teacher
    assert seen["n"] == 6 and seen["refs"] == [0, 2, 5]
    assert np.allclose(seen["poses"][:, 0, 3], pool)  # the sweep never sees frames 3 or 7
    assert out[0][0].shape == (4, 6) and np.allclose(out[0][0], 2.0)
    assert fit_module.FitConfig().teacher_frames == 12  # spread over the fitted frames by default
