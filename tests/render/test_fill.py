"""Tests of viewshift.render.fill: tiny two-plane scenes rendered in code, with exact expected answers."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from viewshift.errors import DepthError, InputError, ShapeError
from viewshift.render.fill import FILL_METHODS, fill_holes

FG_DEPTH, BG_DEPTH = 1.0, 5.0
FOCAL_BASELINE = 10.0  # f * b in pixel-depth units: the foreground moves 10 px, the background 2 px
RED = (1.0, 0.0, 0.0)


def background_texture(height: int, width: int, kind: str = "stripes") -> torch.Tensor:
    """``(3, height, width)`` background colours with a red channel of exactly 0 (red marks the foreground).

    Column ``x`` of the result is the background plane at source column ``x`` (the texture is defined beyond
    the image so the true background behind any hole is known).
    """
    y = torch.arange(height, dtype=torch.float64)[:, None].expand(height, width)
    x = torch.arange(width, dtype=torch.float64)[None, :].expand(height, width)
    if kind == "stripes":  # horizontal stripes over a gentle gradient: smooth along rows
        green = 0.5 + 0.3 * torch.sin(y * 0.9) + 0.002 * x
        blue = 0.4 + 0.2 * torch.cos(y * 0.45 + 1.0)
    elif kind == "checker":  # texture that varies along rows too
        green = 0.5 + 0.25 * torch.sin(x * 0.7) * torch.cos(y * 0.5)
        blue = 0.45 + 0.2 * torch.sin(x * 0.3 + y * 0.2)
    else:
        raise ValueError(kind)
    return torch.stack([torch.zeros_like(green), green, blue]).float()


def render_right_view(height: int = 40, width: int = 64, kind: str = "stripes"):
    """Copies of :func:`_render_right_view` (cached: the splatting loop is slow in Python)."""
    return tuple(t.clone() for t in _render_right_view(height, width, kind))


@functools.cache
def _render_right_view(height: int, width: int, kind: str):
    """The view of a camera moved right, rendered by forward splatting with a z-buffer (x_t = x_s - f b / Z).

    The scene: a background plane at depth 5 (textured, red = 0) and a red square at depth 1 over source columns
    [20, 32) and rows [10, 30).

    Returns:
        ``image (1, 3, H, W)`` (NaN at holes), ``depth (1, 1, H, W)`` (NaN at holes), ``holes (1, 1, H, W)`` and the
        true background ``truth (1, 3, H, W)`` of the new view.
    """
    texture = background_texture(height, width + 2, kind)  # 2 more columns: the truth behind the right border
    src_colour = texture[:, :, :width].clone()
    src_depth = torch.full((height, width), BG_DEPTH)
    src_colour[:, 10:30, 20:32] = torch.tensor(RED)[:, None, None]
    src_depth[10:30, 20:32] = FG_DEPTH
    image = torch.full((3, height, width), float("nan"))
    depth = torch.full((height, width), float("inf"))
    for ys in range(height):  # far to near is not needed: the z-buffer test decides
        for xs in range(width):
            z = float(src_depth[ys, xs])
            xt = xs - round(FOCAL_BASELINE / z)
            if 0 <= xt < width and z < depth[ys, xt]:
                depth[ys, xt] = z
                image[:, ys, xt] = src_colour[:, ys, xs]
    holes = torch.isinf(depth)
    depth[holes] = float("nan")
    truth = texture[:, :, 2 : 2 + width]  # background shifted by f b / 5 = 2 px
    return image[None], depth[None, None], holes[None, None], truth[None]


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return -10 * math.log10(float((a - b).square().mean()))


def test_camera_moving_right_opens_holes_right_of_the_foreground():
    # The geometry behind the ``direction`` convention: near things move left more than far ones, so the hole
    # opens on the right of the foreground and the background lies to its right: direction = (+1, 0).
    _, depth, holes, _ = render_right_view()
    rows = holes[0, 0, 10:30]
    assert rows[:, 22:30].all() and not rows[:, :22].any()  # foreground now at columns [10, 22), band [22, 30)
    assert torch.equal(depth[0, 0, 10:30, 30], torch.full((20,), BG_DEPTH))  # background right of the band
    assert torch.equal(depth[0, 0, 10:30, 21], torch.full((20,), FG_DEPTH))  # foreground left of it
    assert holes[0, 0, :, 62:].all()  # the border the move brought into view
    assert int(holes.sum()) == 20 * 8 + 40 * 2


@pytest.mark.parametrize("direction", [None, (1.0, 0.0), (1.0, 0.3)])
@pytest.mark.parametrize("kind", ["stripes", "checker"])
def test_background_fill_takes_only_background(direction, kind):
    image, depth, holes, _ = render_right_view(kind=kind)
    out, out_depth = fill_holes(image, depth, holes, "background", direction=direction)
    hole = holes[0, 0]
    assert torch.isfinite(out).all() and torch.isfinite(out_depth).all()
    assert torch.equal(out[0, 0][hole], torch.zeros(int(hole.sum())))  # no red: the foreground never bleeds in
    assert torch.allclose(out_depth[0, 0][hole], torch.tensor(BG_DEPTH), rtol=1e-6)
    assert torch.equal(out[~holes.expand_as(out)], image[~holes.expand_as(image)])  # known pixels untouched
    assert torch.equal(out_depth[~holes], depth[~holes])


def test_texture_fill_reflects_texture_across_the_boundary():
    image, depth, holes, truth = render_right_view(kind="stripes")
    out, _ = fill_holes(image, depth, holes, "texture", direction=(1, 0))
    # Hole pixel at distance k left of the first background pixel (column 30) takes column 30 + k - 1.
    for k in range(1, 9):
        assert torch.equal(out[..., 10:30, 30 - k], image[..., 10:30, 30 + k - 1])
    # Rows are constant along x up to a 0.002/px gradient, so the reflection is nearly the true background.
    band = (..., slice(10, 30), slice(22, 30))
    assert float((out[band] - truth[band]).abs().max()) < 0.04


@pytest.mark.parametrize("kind, margin_db, smooth_margin_db", [("stripes", 25.0, 8.0), ("checker", 3.0, 7.0)])
def test_background_beats_telea_on_textured_background(kind, margin_db, smooth_margin_db):
    image, depth, holes, truth = render_right_view(kind=kind)
    band = (..., slice(10, 30), slice(22, 30))  # the disocclusion band (the borders are scored apart)
    scores = {}
    for method, radius in (("background", 3), ("texture", 3), ("telea", 3), ("telea", 8), ("ns", 3), ("ns", 8)):
        out, out_depth = fill_holes(image, depth, holes, method, direction=(1, 0), radius=radius)
        scores[f"{method} {radius}"] = psnr(out[band], truth[band])
        assert torch.allclose(out_depth[holes], torch.tensor(BG_DEPTH), rtol=1e-6)  # depth by the background rule
    # Measured (dB): stripes texture 39.5, background (smooth) 18.6, telea 7.5 / 8.8 (r = 3 / 8), ns 7.6 / 8.1;
    # checker texture 14.2, background 18.4, telea 8.0 / 9.5, ns 8.1 / 8.7. Telea and NS pull the red foreground
    # in; the smooth fill blurs the stripes across rows but never takes the foreground.
    best_other = max(v for k, v in scores.items() if k.split()[0] in ("telea", "ns"))
    assert scores["texture 3"] > best_other + margin_db, scores
    assert scores["background 3"] > best_other + smooth_margin_db, scores


def test_vertical_parallax_uses_columns():
    # The right-view scene transposed: a camera moving down, background below the holes: direction (0, 1).
    image, depth, holes, truth = (t.transpose(-1, -2) for t in render_right_view(kind="checker"))
    for direction in (None, (0.0, 1.0)):
        out, out_depth = fill_holes(image, depth, holes, "texture", direction=direction)
        hole = holes[0, 0]
        assert torch.equal(out[0, 0][hole], torch.zeros(int(hole.sum())))
        assert torch.allclose(out_depth[0, 0][hole], torch.tensor(BG_DEPTH), rtol=1e-6)
        for k in range(1, 9):  # reflection across the first background row (30)
            assert torch.equal(out[..., 30 - k, 10:30], image[..., 30 + k - 1, 10:30])


def test_wrong_hint_is_overruled_by_clear_depth():
    image, depth, holes, _ = render_right_view()
    out, out_depth = fill_holes(image, depth, holes, "background", direction=(-1, 0))
    assert torch.equal(out[0, 0][holes[0, 0]], torch.zeros(int(holes.sum())))
    assert torch.allclose(out_depth[holes], torch.tensor(BG_DEPTH), rtol=1e-6)


def test_border_holes_reflect_the_nearest_columns():
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 12, 16, generator=gen)
    depth = 1 + torch.rand(2, 1, 12, 16, generator=gen) * 0.01  # one surface
    holes = torch.zeros(2, 1, 12, 16, dtype=torch.bool)
    holes[..., :3] = True  # camera moved left: the left border came into view
    for direction in (None, (-1.0, 0.0), torch.tensor([[-1.0, 0.0], [-2.0, 0.0]])):
        out, out_depth = fill_holes(image, depth, holes, "texture", direction=direction)
        for k in (1, 2, 3):  # column 3 - k takes column 3 + k - 1
            assert torch.equal(out[..., 3 - k], image[..., 3 + k - 1])
        assert torch.equal(out_depth[..., :3], depth[..., 3:4].expand(2, 1, 12, 3))


def test_diagonal_border_corner_is_filled():
    gen = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 20, 24, generator=gen)
    depth = torch.full((1, 1, 20, 24), 2.0)
    holes = torch.zeros(1, 1, 20, 24, dtype=torch.bool)
    holes[..., :4, :] = True  # whole rows and whole columns: the corner has no candidate on its row or column
    holes[..., :, :5] = True
    image[holes.expand_as(image)] = float("nan")
    for direction in (None, (-1.0, -1.0), (-1.0, 0.0)):
        out, out_depth = fill_holes(image, depth, holes, direction=direction)
        assert torch.isfinite(out).all()
        assert torch.equal(out_depth, torch.full_like(depth, 2.0))
        known = image[0][:, 4:, 5:]
        assert out.min() >= known.min() and out.max() <= known.max()


def test_same_surface_sides_blend_by_distance():
    ramp = torch.linspace(0, 1, 11).expand(1, 3, 5, 11).clone()
    depth = torch.full((1, 1, 5, 11), 3.0)
    holes = torch.zeros(1, 1, 5, 11, dtype=torch.bool)
    holes[..., 2, 5] = True  # a one-pixel crack in a surface
    out, _ = fill_holes(ramp, depth, holes)
    assert torch.allclose(out, ramp, atol=1e-6)  # mean of left and right (and up and down) = the ramp value


def test_random_holes_all_filled_batch_consistent():
    gen = torch.Generator().manual_seed(2)
    image = torch.rand(2, 3, 64, 80, generator=gen)
    depth = 1 + 4 * torch.rand(2, 1, 64, 80, generator=gen)
    holes = torch.rand(2, 1, 64, 80, generator=gen) < 0.3
    out, out_depth = fill_holes(image, depth, holes)
    assert torch.isfinite(out).all() and torch.isfinite(out_depth).all()
    assert out_depth.min() >= 1 and out_depth.max() <= 5
    single, single_depth = fill_holes(image[1:], depth[1:], holes[1:])
    assert torch.equal(out[1:], single) and torch.equal(out_depth[1:], single_depth)


def test_none_leaves_holes_and_copies():
    image, depth, holes, _ = render_right_view()
    out, out_depth = fill_holes(image, depth, holes, "none")
    assert torch.equal(torch.isnan(out), holes.expand_as(out))
    assert torch.equal(out.nan_to_num(), image.nan_to_num()) and out is not image
    assert torch.equal(out_depth.nan_to_num(), depth.nan_to_num()) and out_depth is not depth


def test_methods_registry_and_errors():
    image, depth, holes, _ = render_right_view()
    assert set(FILL_METHODS) == {"background", "texture", "telea", "ns", "learned", "none"}
    with pytest.raises(InputError, match="background, texture, telea, ns, none"):
        fill_holes(image, depth, holes, "magic")
    with pytest.raises(ShapeError):
        fill_holes(image[0], depth, holes)
    with pytest.raises(ShapeError):
        fill_holes(image, depth[..., :-1], holes)
    with pytest.raises(ShapeError):
        fill_holes(image, depth, holes[..., :-1, :])
    with pytest.raises(InputError):
        fill_holes(image, depth, holes.float())
    with pytest.raises(InputError):
        fill_holes((image * 255).to(torch.uint8), depth, holes)
    with pytest.raises(InputError):
        fill_holes(image.numpy(), depth, holes)
    bad = depth.clone()
    bad[0, 0, 0, 0] = -1.0
    with pytest.raises(DepthError):
        fill_holes(image, bad, holes)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(DepthError):
        fill_holes(image, bad, holes)
    with pytest.raises(ShapeError):
        fill_holes(image, depth, holes, direction=(1.0, 0.0, 0.0))
    with pytest.raises(InputError):
        fill_holes(image, depth, holes, direction=(float("nan"), 0.0))
    with pytest.raises(InputError):
        fill_holes(image, depth, holes, depth_tolerance=-0.1)
    with pytest.raises(InputError):
        fill_holes(image, depth, holes, "telea", radius=0)
    with pytest.raises(InputError, match=r"^the view is all holes: .*use a smaller move$"):
        fill_holes(image, depth, torch.ones_like(holes))
    # In a batch the message names the image that is all holes.
    both = torch.stack([holes[0], torch.ones_like(holes[0])])
    with pytest.raises(InputError, match=r"all holes \(image 1 of the batch\)"):
        fill_holes(image.expand(2, -1, -1, -1), depth.expand(2, -1, -1, -1), both)


def test_reflection_folds_back_inside_the_background_surface():
    # One row: foreground | 4 holes | 2 background pixels | a nearer object. The reflected texture may not run
    # into the nearer object: it folds back and forth over the two background pixels.
    colours = torch.arange(11, dtype=torch.float32)[None, None, None, :] / 10
    depth = torch.tensor([1, 1, 9, 9, 9, 9, 5, 5, 2, 2, 2], dtype=torch.float32)[None, None, None, :]
    holes = torch.zeros(1, 1, 1, 11, dtype=torch.bool)
    holes[..., 2:6] = True
    for direction in (None, (1.0, 0.0)):
        out, out_depth = fill_holes(colours, depth, holes, "texture", direction=direction)
        assert out[0, 0, 0, 2:6].tolist() == colours[0, 0, 0, [6, 7, 7, 6]].tolist()
        assert out_depth[0, 0, 0, 2:6].tolist() == [5.0] * 4


def test_smoothing_in_boxes_around_groups_of_holes_equals_smoothing_the_whole_image():
    import cv2
    import numpy as np

    from viewshift.render.fill import smooth_holes

    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 120, 160, generator=gen)
    holes = torch.zeros(1, 1, 120, 160, dtype=torch.bool)
    holes[..., 10:30, 5:12] = True  # three groups far apart, and one speck
    holes[..., 60:100, 140:160] = True
    holes[..., 100:118, 40:44] = True
    holes[..., 50, 80] = True
    out = smooth_holes(image, holes, (4.0, 4.0))
    m = holes[0, 0].numpy().astype(np.float32)
    x = image[0].permute(1, 2, 0).numpy()
    num = cv2.GaussianBlur(x * m[..., None], (25, 25), 4.0, sigmaY=4.0)
    den = cv2.GaussianBlur(m, (25, 25), 4.0, sigmaY=4.0)
    full = torch.from_numpy(num / np.maximum(den, 1e-6)[..., None]).permute(2, 0, 1)[None]
    assert torch.allclose(out, torch.where(holes, full, image), atol=1e-5)
