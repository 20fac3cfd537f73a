"""The learned hole filler: exactness outside holes, the tiling, the shipped weights on held-out photos, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.errors import InputError
from viewshift.render.fill import fill_background, fill_holes
from viewshift.render.fill.learned import TILE, WEIGHTS, UNet, fill_learned


def _scene(b: int = 2, h: int = 70, w: int = 250, seed: int = 0, border: bool = True):
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(b, 3, h, w, generator=gen)
    depth = torch.full((b, 1, h, w), 3.0)
    depth[..., 20:50, 40:90] = 1.0  # a near box; holes open on its right (camera moved right)
    holes = torch.zeros(b, 1, h, w, dtype=torch.bool)
    holes[..., 20:50, 90:97] = True
    holes[..., :, w - 3 :] = border  # border band
    holes[..., 5, 5] = True  # a one-pixel crack
    image = image.masked_fill(holes, float("nan"))
    return image, depth, holes


@pytest.mark.parametrize(("h", "w", "border"), [(70, 2 * TILE + 17, True), (3 * TILE + 5, 4 * TILE, False)])
def test_an_untrained_network_gives_exactly_the_background_fill(tmp_path, h, w, border):
    # The last layer starts at zero: every tile, wherever it sits, must hand back the pre-fill unchanged.
    torch.manual_seed(0)
    net = UNet(7, 3, 8, 2, full_head=False)
    path = tmp_path / "zero.pt"
    torch.save({"settings": net.settings, "state_dict": net.state_dict()}, path)
    image, depth, holes = _scene(h=h, w=w, border=border)  # whole-image pass, then tiles (one tile has holes)
    out, out_depth = fill_learned(image, depth, holes, direction=(1, 0), weights=path)
    ref, ref_depth = fill_background(image, depth, holes, direction=(1, 0))
    assert torch.equal(out, ref) and torch.equal(out_depth, ref_depth)


def test_shipped_filler_changes_only_holes_and_is_deterministic():
    image, depth, holes = _scene()
    out, out_depth = fill_holes(image, depth, holes, "learned", direction=(1, 0))
    assert out.shape == image.shape and out_depth.shape == depth.shape
    keep = ~holes.expand_as(image)
    assert torch.equal(out[keep], image[keep])
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    again, _ = fill_holes(image, depth, holes, "learned", direction=(1, 0))
    assert torch.equal(out, again)
    _, background_depth = fill_background(image, depth, holes, direction=(1, 0))
    assert torch.equal(out_depth, background_depth)


def test_missing_weights_and_grey_images_are_refused(tmp_path):
    image, depth, holes = _scene(b=1)
    with pytest.raises(InputError, match="not found"):
        fill_learned(image, depth, holes, weights=tmp_path / "none.pt")
    with pytest.raises(InputError, match="3 colour channels"):
        fill_learned(image[:, :2], depth, holes)


def test_shipped_filler_is_no_worse_than_the_background_fill_on_held_out_disocclusions():
    # Real photos of scenes never trained on, holes made by the renderer's z-buffer from ground-truth disparity
    # (the training recipe); the original pixels are the answer. The shipped weights (750 steps) reach 0.996 of
    # the background fill's hole L1 here: a small gain, so this guards against a regression, not for the target.
    root = require_shared_data("stereo", "middlebury")
    from viewshift.learn.image2image import HELD_OUT, StereoCrops, fill_batch, make_config

    config = make_config("fill-learned", stereo=str(root), holdout=[], crop=96)
    data = StereoCrops(config)
    data.pairs = [p for p in data.pairs if p.name in HELD_OUT and p.name.startswith("MiddEval2")]  # small images
    errors = {"background": [], "learned": []}
    for step in range(2):
        batch = fill_batch(data, step, 123, 8)
        holes, target = batch["holes"], batch["target"]
        n = 3 * holes.sum()
        errors["background"].append(float((batch["x"][:, :3] - target).abs().mul(holes).sum() / n))
        depth = torch.exp(batch["x"][:, 4:5])  # relative depth is all the filler uses
        hint = batch["x"][:, 5:7, 0, 0]
        out, _ = fill_learned(target.masked_fill(holes, 0.0), depth, holes, direction=hint)
        errors["learned"].append(float((out - target).abs().mul(holes).sum() / n))
    background, learned = np.mean(errors["background"]), np.mean(errors["learned"])
    assert learned < background, errors


def test_fill_learned_from_the_command_line(tmp_path, capsys):
    from viewshift.cli import main
    from viewshift.io import read_image, write_image

    assert WEIGHTS.exists()
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 64, 3)).astype(np.uint8)
    write_image(tmp_path / "photo.png", img)
    depth = np.full((48, 64), 2.0, np.float32)
    depth[:, 20:30] = 1.0
    np.save(tmp_path / "depth.npy", depth)
    outputs = {}
    for fill in ("learned", "background"):
        argv = ["render", tmp_path / "photo.png", "-o", tmp_path / f"{fill}.png", "--depth", tmp_path / "depth.npy"]
        argv += ["--focal", 100, "--right", 0.04, "--no-realism", "--fill", fill, "--save-mask", tmp_path / "m.png"]
        argv += ["--overwrite"]
        assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.startswith("wrote ")
        outputs[fill] = read_image(tmp_path / f"{fill}.png").rgb
    mask = read_image(tmp_path / "m.png").rgb[..., 0] > 0
    assert mask.sum() == 48 * 4  # the right border (2 px) and the disocclusion band (2 px)
    assert np.array_equal(outputs["learned"][~mask], outputs["background"][~mask])
