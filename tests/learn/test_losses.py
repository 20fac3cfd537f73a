"""Losses on tiny scenes with exact expected answers."""

from __future__ import annotations

import math

import torch

from viewshift.geometry import intrinsics
from viewshift.learn import losses as L


def shifted_pair(shift_px: int = 1, depth: float = 2.0, focal: float = 20.0, h: int = 12, w: int = 16):
    """A fronto-parallel plane at ``depth``; the source camera moved right so content shifts left by ``shift_px``."""
    torch.manual_seed(0)
    wide = torch.rand(1, 3, h, w + shift_px)
    target = wide[..., :w]
    source = wide[..., shift_px : shift_px + w]  # source(u) = target(u + shift)
    K = intrinsics(focal, h, w)
    T = torch.eye(4)[None, None].clone()
    T[0, 0, 0, 3] = -shift_px * depth / focal  # src_T_tgt: x_src = x_tgt - b, parallax f b / d = shift
    return target, source[:, None], torch.full((1, 1, h, w), depth), T, K


def test_ssim_zero_for_identical_and_positive_otherwise():
    x = torch.rand(1, 3, 8, 8)
    assert float(L.ssim_dissimilarity(x, x).max()) < 1e-6
    assert float(L.ssim_dissimilarity(x, 1 - x).mean()) > 0.1


def test_photometric_loss_zero_for_the_true_depth_and_pose():
    target, sources, depth, T, K = shifted_pair()
    assert float(L.photometric_loss(target, sources, [depth], T, K)) < 1e-6
    assert float(L.photometric_loss(target, sources, [depth * 2], T, K)) > 0.05


def test_photometric_loss_masks_out_of_view_pixels():
    # The true motion moves one column out of view: it must not count, so the loss stays exactly zero.
    target, sources, depth, T, K = shifted_pair(shift_px=3)
    assert float(L.photometric_loss(target, sources, [depth], T, K)) < 1e-6


def test_photometric_loss_weighted_by_explainability():
    target, sources, depth, T, K = shifted_pair()
    full = L.photometric_loss(target, sources, [depth * 2], T, K)
    half = L.photometric_loss(target, sources, [depth * 2], T, K, [torch.full((1, 1, 1, 12, 16), 0.5)])
    assert torch.allclose(half, full / 2)


def test_min_reprojection_judges_each_pixel_by_the_source_that_sees_it():
    # The second source shows something else (occluded there): the mean over sources charges its error at the
    # true depth, the per-pixel minimum (Monodepth2) does not; at a wrong depth both sources err.
    target, source, depth, T, K = shifted_pair()
    torch.manual_seed(3)
    sources = torch.cat([source, torch.rand_like(source)], 1)
    T2 = T.expand(1, 2, 4, 4)
    assert float(L.photometric_loss(target, sources, [depth], T2, K)) > 0.1
    assert float(L.photometric_loss(target, sources, [depth], T2, K, min_reprojection=True)) < 1e-6
    assert float(L.photometric_loss(target, sources, [depth * 2], T2, K, min_reprojection=True)) > 0.05
    # one source: the minimum is the mean
    one = L.photometric_loss(target, source, [depth * 2], T, K, ssim_weight=0.85)
    assert torch.allclose(one, L.photometric_loss(target, source, [depth * 2], T, K, ssim_weight=0.85,
                                                  min_reprojection=True))  # fmt: skip


def test_automask_drops_pixels_that_look_the_same_without_motion():
    # A source identical to the target although the camera moved (the scene moved with it, or is uniform): the
    # warp at any depth errs more than no warp at all, so every pixel is dropped and the loss is 0; without the
    # mask the wrong depth is charged. With real motion the true depth's pixels are kept (loss 0 either way), and
    # a wrong depth is still charged (where warping beats the unwarped source).
    target, source, depth, T, K = shifted_pair()
    static = target[:, None].clone()
    assert float(L.photometric_loss(target, static, [depth], T, K)) > 0.05
    assert float(L.photometric_loss(target, static, [depth], T, K, automask=True)) == 0.0
    assert float(L.photometric_loss(target, source, [depth], T, K, automask=True)) < 1e-6
    wrong = float(L.photometric_loss(target, source, [depth * 0.8], T, K, automask=True))
    assert wrong > 0.05


def test_photometric_gradient_reaches_depth():
    target, sources, depth, T, K = shifted_pair()
    d = (depth * 1.3).requires_grad_()
    L.photometric_loss(target, sources, [d, d[..., ::2, ::2]], T, K, ssim_weight=0.85).backward()
    assert d.grad is not None and float(d.grad.abs().sum()) > 0


def test_area_pyramid_equals_resizing_the_full_image():
    x = torch.rand(2, 3, 24, 40)
    sizes = [(24, 40), (12, 20), (6, 10), (3, 5), (2, 3)]  # the last does not divide: resized from x
    for level, size in zip(L.area_pyramid(x, sizes), sizes, strict=True):
        assert torch.allclose(level, L.resize_area(x, size), atol=1e-6)


def test_ssim_of_many_sources_equals_one_pair_at_a_time():
    x, ys = torch.rand(2, 3, 9, 11), torch.rand(2, 3, 3, 9, 11)
    many = L._ssim_dissimilarity_many(x, ys)
    for k in range(3):
        assert torch.allclose(many[:, k], L.ssim_dissimilarity(x, ys[:, k]), atol=1e-6)


def test_photometric_loss_equals_the_per_scale_repeated_form():
    """The pyramid + broadcast implementation gives the loss of resizing and repeating at every scale."""
    from viewshift.geometry import pose_vector_to_matrix, scale_intrinsics
    from viewshift.render.warp import inverse_warp

    torch.manual_seed(1)
    b, n, h, w = 2, 2, 16, 24
    target, sources, K = torch.rand(b, 3, h, w), torch.rand(b, n, 3, h, w), intrinsics(20.0, h, w, batch=b)
    depths = [1 + torch.rand(b, 1, h >> s, w >> s) for s in range(3)]
    masks = [torch.rand(b, n, 1, h >> s, w >> s) for s in range(3)]
    T = pose_vector_to_matrix(0.05 * torch.randn(b * n, 6)).reshape(b, n, 4, 4)
    for alpha in (0.0, 0.85):
        expected = 0.0
        for s, d in enumerate(depths):
            hs, ws = d.shape[-2:]
            src = L.resize_area(sources.reshape(b * n, 3, h, w), (hs, ws))
            K_s = scale_intrinsics(K, ws / w, hs / h).repeat_interleave(n, 0)
            warped, valid = inverse_warp(src, d.repeat_interleave(n, 0), K_s, T.reshape(b * n, 4, 4))
            tgt = L.resize_area(target, (hs, ws)).repeat_interleave(n, 0)
            err = L.photometric_error(tgt, warped, alpha) * valid * masks[s].reshape(b * n, 1, hs, ws)
            expected = expected + err.sum() / valid.sum()
        got = L.photometric_loss(target, sources, depths, T, K, masks, ssim_weight=alpha)
        assert torch.allclose(got, expected, rtol=1e-5)


def test_explainability_loss_is_cross_entropy_towards_one():
    ones = [torch.ones(1, 2, 1, 4, 4)]
    assert float(L.explainability_loss(ones)) < 1e-5
    halves = [torch.full((1, 2, 1, 4, 4), 0.5), torch.full((1, 2, 1, 2, 2), 0.5)]
    assert math.isclose(float(L.explainability_loss(halves)), 2 * math.log(2), rel_tol=1e-5)


def test_second_order_smoothness_zero_on_planes_positive_on_bumps():
    v, u = torch.meshgrid(torch.arange(8.0), torch.arange(10.0), indexing="ij")
    plane = (0.3 * u - 0.2 * v + 1)[None, None]
    assert float(L.second_order_smoothness(plane)) < 1e-6
    bump = plane.clone()
    bump[..., 4, 5] += 1
    assert float(L.second_order_smoothness(bump)) > 0
    assert math.isclose(float(L.smoothness_loss([bump, bump])), 1.5 * float(L.second_order_smoothness(bump)))


def test_edge_aware_smoothness_forgives_steps_at_image_edges():
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0
    disp = step + 1
    flat_image = torch.zeros(1, 3, 8, 8)
    edge_image = step.expand(1, 3, 8, 8)
    for order in (1, 2):
        assert float(L.edge_aware_smoothness(disp, edge_image, order)) < float(
            L.edge_aware_smoothness(disp, flat_image, order)
        )


def test_scale_shift_invariant_loss():
    gt = torch.rand(2, 1, 6, 7) + 0.5
    mask = torch.ones_like(gt, dtype=torch.bool)
    assert float(L.scale_shift_invariant_loss(3 * gt + 0.2, gt, mask)) < 1e-5
    assert float(L.scale_shift_invariant_loss(gt.flip(-1), gt, mask)) > 0.1
    assert float(L.gradient_matching_loss(2 * gt + 1, gt, mask)) < 1e-5


def test_sfm_objective_combines_terms_with_weights():
    target, sources, depth, T, K = shifted_pair()
    masks = [torch.full((1, 1, 1, 12, 16), 0.5)]
    parts = L.sfm_objective(target, sources, [depth * 2], T, K, masks, smooth_weight=0.5, explain_weight=0.2)
    expected = parts["photometric"] + 0.5 * parts["smooth"] + 0.2 * parts["explain"]
    assert torch.allclose(parts["loss"].detach(), expected)


def test_scale_invariant_log_loss_ignores_scale_but_not_ratios():
    gt_inv = torch.rand(2, 1, 5, 6) + 0.2
    mask = torch.ones_like(gt_inv, dtype=torch.bool)
    assert float(L.scale_invariant_log_loss(7.0 / gt_inv, gt_inv, mask)) < 1e-6
    assert float(L.scale_invariant_log_loss(1.0 / (gt_inv + 1.0), gt_inv, mask)) > 1e-3
