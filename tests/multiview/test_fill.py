"""Filling the plane sweep's low-confidence pixels: the single-photo prior aligned to the confident geometry
("mono") against analytic inverse-depth maps with exact answers, and both fills on the ray-cast scene."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.multiview.scene import render, sideways_poses
from viewshift.depth.base import DepthMap
from viewshift.errors import InputError
from viewshift.learn.metrics import depth_metrics
from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth
from viewshift.multiview.planesweep import (
    FILL_METHODS,
    block_mask,
    cheaper_fill,
    choose_fill,
    cost_at,
    fill_low_confidence,
    fill_with_prior,
    fit_power_law,
)

H, W = 48, 64


def grid() -> tuple[torch.Tensor, torch.Tensor]:
    yy, xx = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing="ij")
    return xx[None, None].double(), yy[None, None].double()


def scene_with_a_textureless_plane() -> tuple[torch.Tensor, torch.Tensor]:
    """True inverse depth and confidence: a textured left part (a slope with a step) known by the geometry, and a
    textureless right part, a slanted plane (inverse depth affine in the pixel coordinates), with no confidence."""
    xx, yy = grid()
    left = 0.5 + 0.6 * xx + 0.4 * (yy > 0.5).double()
    plane = 0.35 + 0.9 * xx + 0.5 * yy
    right = xx > 0.4
    inv_true = torch.where(right, plane, left)
    conf = torch.where(right, torch.zeros_like(xx), 0.4 + 0.6 * yy)  # varied confidence: weights must not matter
    return inv_true, conf


def test_a_prior_with_the_right_shape_fills_the_textureless_plane_exactly():
    inv_true, conf = scene_with_a_textureless_plane()
    # The prior knows the shape but not the scale: its depth is 2.5 · depth^0.7 (scale and shift of log depth).
    prior_inv = (1 / 2.5) * inv_true**0.7
    measured = torch.where(conf > 0, inv_true, torch.zeros_like(inv_true))
    got = fill_with_prior(measured, conf, prior_inv, 0.1, radius=6, support=0.05)
    right = conf == 0
    torch.testing.assert_close(got[right], inv_true[right], rtol=1e-6, atol=0)
    assert torch.equal(got[~right], measured[~right])  # confident pixels are never changed


def test_two_priors_with_the_right_shape_fill_exactly_and_a_contradicting_one_is_left_out():
    inv_true, conf = scene_with_a_textureless_plane()
    measured = torch.where(conf > 0, inv_true, torch.zeros_like(inv_true))
    right = conf == 0
    priors = torch.cat([(1 / 2.5) * inv_true**0.7, 3.0 * inv_true**1.3], 1)  # each a power law of the truth
    got = fill_with_prior(measured, conf, priors, 0.1, radius=6, support=0.05)
    torch.testing.assert_close(got[right], inv_true[right], rtol=1e-6, atol=0)
    # one prior right, one wrong in a different way: the fill is the mean of the two aligned log depths
    bumpy = inv_true * torch.exp(0.2 * torch.sin(20 * grid()[0]))
    got = fill_with_prior(measured, conf, torch.cat([inv_true, bumpy], 1), 0.1, radius=6, support=1e9)
    a, b = fit_power_law(torch.log(bumpy[~right]), torch.log(inv_true[~right]), conf[~right])
    expected = torch.exp((torch.log(inv_true) + a * torch.log(bumpy) + b) / 2)
    torch.testing.assert_close(got[right], expected[right], rtol=1e-3, atol=0)
    # a prior that contradicts the geometry (near and far swapped) is left out of the mean
    got = fill_with_prior(measured, conf, torch.cat([1 / inv_true, inv_true**0.7], 1), 0.1, radius=6, support=0.05)
    torch.testing.assert_close(got[right], inv_true[right], rtol=1e-6, atol=0)


def test_the_prior_is_corrected_locally_near_confident_geometry():
    """The prior is wrong by ×1.5 on the right half; a small hole there takes the local scale, a hole too large
    for the support window keeps the global fit."""
    xx, yy = grid()
    inv_true = 0.4 + 0.5 * xx + 0.3 * yy
    right = xx > 0.5
    prior_inv = torch.where(right, inv_true * 1.5, inv_true)
    conf = torch.ones_like(inv_true)
    small = ((xx - 0.75) * W) ** 2 + ((yy - 0.5) * H) ** 2 <= 3.5**2  # a hole of radius 3.5 px
    conf[small] = 0
    got = fill_with_prior(torch.where(small, 0.0, inv_true), conf, prior_inv, 0.1, radius=8, support=0.05)
    err = (got[small] / inv_true[small] - 1).abs()
    assert err.max() < 0.03  # locally corrected (the prior alone is 50 % off there)
    # A hole farther than the radius from any confident pixel: no local support, the global power law alone.
    conf2 = torch.ones_like(inv_true)
    big = right & (xx > 0.55)
    conf2[big] = 0
    got2 = fill_with_prior(torch.where(big, 0.0, inv_true), conf2, prior_inv, 0.1, radius=2, support=0.05)
    a, b = fit_power_law(torch.log(prior_inv[~big]), torch.log(inv_true[~big]), conf2[~big])
    centre = big & (xx > 0.75)  # more than 2 px from the hole's border
    torch.testing.assert_close(got2[centre], torch.exp(a * torch.log(prior_inv[centre]) + b), rtol=1e-6, atol=0)


def test_support_zero_takes_the_whole_local_correction_even_far_from_confident_pixels():
    """The same ×1.5 error on the right half and a hole larger than the support window: with ``support=0`` its
    centre takes the level of the confident pixels around the hole (the prior gives only the shape there)."""
    xx, yy = grid()
    inv_true = 0.4 + 0.5 * xx + 0.3 * yy
    prior_inv = torch.where(xx > 0.5, inv_true * 1.5, inv_true)
    hole = (xx > 0.62) & (xx < 0.88) & ((yy - 0.5).abs() < 0.3)
    conf = torch.where(hole, 0.0, 1.0).double()
    measured = torch.where(hole, 0.0, inv_true)
    err = {}
    for support in (0.05, 0.0):
        got = fill_with_prior(measured, conf, prior_inv, 0.1, radius=2, support=support)
        assert torch.isfinite(got).all() and torch.equal(got[~hole], measured[~hole])
        err[support] = float((got[hole] / inv_true[hole] - 1).abs().max())
    assert err[0.0] < 0.04 and err[0.0] < 0.4 * err[0.05], err  # measured: 0.032 and 0.103


def test_the_cheaper_fill_by_matching_cost():
    """A cost volume whose minimum lies at the true inverse depth on textured pixels and is flat on textureless
    ones: the other fill replaces the first only where it is right, textured and asked for."""
    xx, yy = grid()
    inv_true = 0.4 + 0.5 * xx
    planes = torch.linspace(0.3, 1.0, 32).double()
    textured = yy < 0.5
    cost = torch.where(textured, ((planes.view(-1, 1, 1, 1) - inv_true[0]).abs() * 2).clamp(max=1), 0.5 + 0 * xx[0])
    assert float(cost_at(cost, planes, inv_true)[textured].max()) < 0.023  # a V read between planes: half a step
    wrong = inv_true * 1.1  # inside the planes' range (outside it the cost is 1)
    where = xx > 0.25
    got = cheaper_fill(cost, planes, wrong, inv_true, where, margin=0.02)
    assert torch.equal(got[textured & where], inv_true[textured & where])  # cheaper by 0.08-0.18: taken
    assert torch.equal(got[~textured | ~where], wrong[~textured | ~where])  # flat cost, or not asked: kept
    # within the margin the first fill stays
    near = inv_true * 1.005  # costs 0.004-0.009 above the truth's
    assert torch.equal(cheaper_fill(cost, planes, near, inv_true, where, margin=0.02), near)
    # a match no better than `good` is not taken, nor is a fill replaced whose depth the planes do not reach
    assert torch.equal(cheaper_fill(cost, planes, wrong, inv_true, where, margin=0.02, good=0.0), wrong)
    beyond = inv_true * 1.5  # past the last plane (1.0) where x > 0.53, cost 1 there
    got = cheaper_fill(cost, planes, beyond, inv_true, where, margin=0.02)
    reached = beyond <= 1.0
    assert torch.equal(got[~reached], beyond[~reached])
    assert torch.equal(got[reached & textured & where], inv_true[reached & textured & where])


def test_a_prior_that_contradicts_the_geometry_is_not_used():
    inv_true, conf = scene_with_a_textureless_plane()
    measured = torch.where(conf > 0, inv_true, torch.zeros_like(inv_true))
    got = fill_with_prior(measured, conf, 1 / inv_true, 0.1, radius=6, support=0.05)  # near and far swapped
    assert torch.equal(got, fill_low_confidence(measured, conf, 0.1))


def test_the_chosen_fill_is_the_one_that_predicts_left_out_blocks():
    # A prior with the right shape predicts the step and the textureless plane exactly: it is kept.
    inv_true, conf = scene_with_a_textureless_plane()
    measured = torch.where(conf > 0, inv_true, torch.zeros_like(inv_true))
    prior = (1 / 2.5) * inv_true**0.7
    got, which = choose_fill(measured, conf, prior, 0.1, radius=4, support=0.05)
    assert which == "prior"
    assert torch.equal(got, fill_with_prior(measured, conf, prior, 0.1, radius=4, support=0.05))
    larger = block_mask(*conf.shape[-2:], 25)
    assert choose_fill(measured, conf, prior, 0.1, radius=4, support=0.05, left_out=larger)[1] == "prior"
    # A smooth wall whose prior copies the wallpaper's pattern into depth: propagating the wall predicts the
    # left-out blocks better, and fills the hole closer to the truth than the prior does.
    xx, yy = grid()
    wall = 0.4 + 0.5 * xx + 0.2 * yy
    roses = wall * torch.exp(0.3 * torch.sin(25 * xx) * torch.sin(19 * yy))
    hole = ((xx - 0.5).abs() < 0.2) & ((yy - 0.5).abs() < 0.2)
    conf = torch.where(hole, 0.0, 1.0).double()
    measured = torch.where(hole, 0.0, wall)
    got, which = choose_fill(measured, conf, roses, 0.1, radius=4, support=0.05)
    assert which == "propagate"
    assert torch.equal(got, fill_low_confidence(measured, conf, 0.1))
    assert choose_fill(measured, conf, roses, 0.1, radius=4, support=0.05, left_out=larger)[1] == "propagate"
    # nothing left out, nothing to test: the prior fill, as without fill_choose (so left_out is what is tested)
    assert choose_fill(measured, conf, roses, 0.1, radius=4, support=0.05, left_out=larger & False)[1] == "prior"
    by_prior = fill_with_prior(measured, conf, roses, 0.1, radius=4, support=0.05)
    err, err_prior = ((f[hole] / wall[hole] - 1).abs().mean() for f in (got, by_prior))
    assert err < 0.5 * err_prior, (err, err_prior)


def test_the_block_mask_leaves_out_every_other_block_in_both_directions():
    m = block_mask(6, 8, 2)[0, 0]
    assert m.shape == (6, 8) and int(m.sum()) == 4 * 4  # rows 0-1, 4-5 by columns 0-1, 4-5
    assert m[:2, :2].all() and not m[:2, 2:4].any() and not m[2:4, :2].any() and m[4:6, 4:6].all()


def test_fit_power_law_is_exact_and_ignores_outliers():
    x = torch.linspace(-1, 1, 200).double()
    y = 0.7 * x - 0.3
    y[::17] += 3.0
    a, b = fit_power_law(x, y, torch.ones_like(x))
    assert a == pytest.approx(0.7, abs=1e-4) and b == pytest.approx(-0.3, abs=1e-4)  # outliers down-weighted
    assert math.isfinite(fit_power_law(torch.zeros(5), torch.ones(5), torch.ones(5))[0])


class ExactDepth:
    """A single-photo depth source that knows the truth (a stand-in for a perfect network)."""

    def __init__(self, depth: np.ndarray):
        self.depth = depth

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        return DepthMap(self.depth.astype(np.float32), "relative")


def test_fills_of_the_sweep():
    """On the ray-cast scene: an exact prior makes the mono fill at least as good as propagation over all pixels;
    the confidence does not depend on the fill; an unknown fill is refused before any work."""
    poses = sideways_poses()
    frames, depths, _ = render(poses)
    cams = estimate_cameras(frames, focal=220.0)
    cfg = SweepConfig(threads=1, num_planes=32, consistency_views=1)
    mono = multiview_depth(frames, 2, cameras=cams, fill="mono", prior=ExactDepth(2.0 * depths[2] ** 0.8), config=cfg)
    prop = multiview_depth(frames, 2, cameras=cams, fill="propagate", config=cfg)
    assert (mono.fill, prop.fill) == ("mono", "propagate") and FILL_METHODS[0] == "mono"
    np.testing.assert_array_equal(mono.confidence, prop.confidence)
    low = mono.confidence < cfg.fill_below
    assert low.mean() > 0.02  # there is something to fill
    assert depth_metrics(mono.depth, depths[2]).abs_rel <= depth_metrics(prop.depth, depths[2]).abs_rel + 1e-3

    def low_error(depth: np.ndarray) -> float:  # AbsRel of the filled pixels, median-scaled over all pixels
        d = depth * np.median(depths[2]) / np.median(depth)
        return float(np.mean(np.abs(d - depths[2])[low] / depths[2][low]))

    assert low_error(mono.depth) < 0.045 and low_error(mono.depth) < 0.75 * low_error(prop.depth)  # 0.035, 0.055
    with pytest.raises(InputError, match="fill must be one of mono, propagate"):
        multiview_depth(frames, 2, cameras=cams, fill="median", config=cfg)


def test_the_matching_cost_picks_between_a_bumpy_prior_and_propagation_in_the_sweep():
    """On the ray-cast scene with a prior whose depth carries a false ripple (±40 %): with ``fill_cost_margin`` (the
    default) each low-confidence pixel keeps the prior fill or takes the propagated one by the sweep's matching
    cost, and the filled pixels err less than with either fill alone; the confidence does not change."""
    poses = sideways_poses()
    frames, depths, _ = render(poses)
    cams = estimate_cameras(frames, focal=220.0)
    yy, xx = np.mgrid[0 : depths[2].shape[0], 0 : depths[2].shape[1]]
    bumpy = ExactDepth(depths[2] * np.exp(0.4 * np.sin(xx / 3.0) * np.sin(yy / 4.0)))
    cfg = SweepConfig(threads=1, num_planes=32, consistency_views=1)
    assert (cfg.fill_cost_margin, cfg.fill_cost_good) == (0.02, 0.3)  # the check is on by default
    plain = multiview_depth(frames, 2, cameras=cams, prior=bumpy, config=replace(cfg, fill_cost_margin=None))
    checked = multiview_depth(frames, 2, cameras=cams, prior=bumpy, config=cfg)
    prop = multiview_depth(frames, 2, cameras=cams, fill="propagate", config=cfg)
    np.testing.assert_array_equal(checked.confidence, plain.confidence)
    low = plain.confidence < cfg.fill_below
    assert low.mean() > 0.05

    def low_error(depth: np.ndarray) -> float:
        d = depth * np.median(depths[2]) / np.median(depth)
        return float(np.mean(np.abs(d - depths[2])[low] / depths[2][low]))

    err = {k: low_error(r.depth) for k, r in (("checked", checked), ("prior", plain), ("propagate", prop))}
    assert err["checked"] < 0.95 * min(err["prior"], err["propagate"]), err  # measured 0.051, 0.079, 0.055


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_planes", 1), ("window", 6), ("fill_below", 1.5), ("fill_cost_margin", -0.02), ("fill_cost_good", 0.0),
     ("fill_support", -1.0), ("threads", 0), ("guided_eps", 0.0)],
)  # fmt: skip
def test_sweep_config_refuses_impossible_settings(field, value):
    with pytest.raises(InputError, match=f"SweepConfig.{field}"):
        SweepConfig(**{field: value})
    SweepConfig(fill_cost_margin=None, fill_support=0.0, window=1)  # the edges of the ranges are allowed
