"""Image-to-image training: disocclusion masks from the renderer's z-buffer, eye-swapping flips, the presets."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.errors import InputError
from viewshift.learn.image2image import (
    HELD_OUT,
    PRESETS,
    VALIDATION,
    PatchDiscriminator,
    RenderedViews,
    StereoCrops,
    fill_batch,
    generator_losses,
    load_generator,
    lsgan_loss,
    make_config,
    occlusion_holes,
    patch_weights,
    shift_batch,
    train_image2image,
)


def test_occlusion_holes_of_two_planes_are_the_background_beside_the_foreground():
    # Background disparity 2, a foreground square (disparity 6) at columns 10..15; camera moves right by 1:
    # the square moves 4 px more than the background, hiding the 4 background columns left of it (6..9);
    # the first 2 background columns leave the frame.
    d = torch.full((1, 1, 12, 30), 2.0)
    d[..., 3:9, 10:16] = 6.0
    holes = occlusion_holes(d, torch.tensor([[1.0, 0.0]]))[0, 0]
    expected = torch.zeros(12, 30, dtype=torch.bool)
    expected[:, :2] = True
    expected[3:9, 6:10] = True
    assert torch.equal(holes, expected)
    # Moving left hides the background right of the square (and the last 2 columns leave the frame).
    holes = occlusion_holes(d, torch.tensor([[-1.0, 0.0]]))[0, 0]
    expected = torch.zeros(12, 30, dtype=torch.bool)
    expected[:, -2:] = True
    expected[3:9, 16:20] = True
    assert torch.equal(holes, expected)


def _best_shift(left: np.ndarray, right: np.ndarray, max_shift: int = 24) -> int:
    """The global horizontal shift s minimising mean |left(x) - right(x - s)|."""
    errs = [
        np.abs(left[:, :, max_shift:-max_shift] - np.roll(right, s, axis=2)[:, :, max_shift:-max_shift]).mean()
        for s in range(-max_shift, max_shift + 1)
    ]
    return int(np.argmin(errs)) - max_shift


def test_flipped_pairs_swap_the_eyes():
    # In a right view every point sits at x - d (d >= 0): the left view matches the right one shifted right.
    # A flip without swapping the eyes would turn that into a shift to the left.
    root = require_shared_data("stereo", "middlebury")
    config = make_config("shift-autoencoder", stereo=str(root), crop=96, scale=(0.5, 0.5), noise=0.0, drop=0.0)
    data = StereoCrops(config)
    flipped = []
    for step in range(3):
        batch = shift_batch(data, step, 0, 4)
        flipped += batch["flipped"].tolist()
        for left, right in zip(batch["left"].numpy(), batch["target"].numpy(), strict=True):
            assert _best_shift(left, right) > 0
    assert any(flipped) and not all(flipped)  # both branches were checked


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_trains_two_steps_checkpoints_and_resumes(preset, tmp_path):
    root = require_shared_data("stereo", "middlebury")
    config = make_config(preset, stereo=str(root), max_scenes=2, crop=48, batch_size=2, steps=2, threads=1)
    out = tmp_path / "run"
    result = train_image2image(config, out, progress=False)
    assert result["step"] == 2 and np.isfinite(result["loss"])
    assert json.loads((out / "config.json").read_text())["preset"] == preset
    # The presets with a discriminator train it (fill-learned: the adversarial path of the issue, and its
    # validation scores with the best step kept).
    assert ("adv" in result and "disc" in result) == (config.adversarial > 0)
    assert config.adversarial > 0 or preset == "shift-autoencoder"
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ("disc" in state) == (config.adversarial > 0)
    if preset == "fill-learned":
        val = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if '"val"' in line]
        assert [v["step"] for v in val] == [0, 2] and all(np.isfinite(v["val"]) for v in val)
        best = torch.load(out / "best.pt", weights_only=True)
        assert best["score"] == max(v["val"] for v in val) or abs(best["score"] - max(v["val"] for v in val)) < 1e-3
    gen, saved, step = load_generator(out)
    assert step == 2 and saved == config
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    result = train_image2image(dataclasses.replace(config, steps=3), out, progress=False)
    assert result["step"] == 3  # one more step, not three
    gen3, _, _ = load_generator(out)
    assert any(not torch.equal(before[k], v) for k, v in gen3.state_dict().items())
    with pytest.raises(InputError, match="different config"):
        train_image2image(dataclasses.replace(config, lr=1.0, steps=4), out, progress=False)


def test_unknown_preset_is_refused():
    with pytest.raises(InputError, match="fill-learned"):
        make_config("nope")


def test_train_command_runs_a_preset_and_resumes(tmp_path, capsys):
    from viewshift.cli import main

    root = require_shared_data("stereo", "middlebury")
    (tmp_path / "c.json").write_text(json.dumps({"max_scenes": 2, "batch_size": 2}))
    argv = ["train", "--preset", "shift-autoencoder", "-o", tmp_path / "run", "--stereo", root, "--steps", 2]
    argv += ["--height", 48, "--width", 48, "--threads", 1, "--config", tmp_path / "c.json", "--no-progress"]
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'run'}/checkpoint.pt at step 2 of 2")
    argv[argv.index("--steps") + 1] = 3
    assert main([str(a) for a in argv]) == 0
    assert "at step 3 of 3" in capsys.readouterr().out
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["crop"] == 48 and config["max_scenes"] == 2 and "MiddEval3/Teddy" in config["holdout"]


def _small_pair():
    from viewshift.learn.data import middlebury_pairs

    root = require_shared_data("stereo", "middlebury")
    return next(p for p in middlebury_pairs(root) if p.name == "MiddEval2/Baby1")  # a training scene, 0.16 MP


def test_rendered_views_hold_the_holes_and_inputs_of_the_benchmark_render():
    # The rendered right views must be exactly what `--fill learned` meets in bench/learned_compare.py: the holes
    # of Scene.render with the ground-truth disparity, the background pre-fill, and the true right view as answer.
    from viewshift.depth.units import fill_from_farther
    from viewshift.io import read_image, to_float
    from viewshift.pipeline import Move, ViewOptions, prepare_scene

    pair = _small_pair()
    ((x, target, holes),) = RenderedViews([pair], depths=("gt",)).views
    left = read_image(pair.left).rgb
    disp = pair.read_disparity()
    known = np.isfinite(disp) & (disp > 0)
    disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller").astype(np.float32)
    scene = prepare_scene(left, depth=disp, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
    view = scene.render(Move(right=1.0).pose(), options=ViewOptions(fill="none"))
    assert np.array_equal(holes[0].numpy(), view.holes) and 0.02 < view.holes.mean() < 0.3
    right = to_float(read_image(pair.right).rgb)
    assert np.abs(target.float().permute(1, 2, 0).numpy() - right).max() <= 1e-3  # float16
    assert torch.equal(x[5], torch.ones_like(x[5])) and torch.equal(x[6], torch.zeros_like(x[6]))  # hint (1, 0)
    assert torch.equal(x[3].bool(), holes[0])
    image = torch.from_numpy(np.ascontiguousarray(view.image[..., :3])).permute(2, 0, 1).float() / 255
    visible = ~holes.expand(3, -1, -1)
    assert float((x[:3].float() - image)[visible].abs().max()) <= 1 / 255  # the render, quantised by the view
    # Inside the holes: the background fill of the render.
    filled = scene.render(Move(right=1.0).pose(), options=ViewOptions(fill="background", realism=False))
    fill_image = torch.from_numpy(np.ascontiguousarray(filled.image[..., :3])).permute(2, 0, 1).float() / 255
    assert float((x[:3].float() - fill_image)[~visible].abs().mean()) <= 1 / 255


def test_view_crops_hold_holes_and_mirroring_flips_the_hint():
    views = RenderedViews([_small_pair()], depths=("gt",))
    x, target, holes = views.views[0]
    flips = []
    for seed in range(8):
        cx, ct, ch = views.crop(np.random.default_rng(seed), 64)
        assert cx.shape == (7, 64, 64) and ct.shape == (3, 64, 64) and ch.shape == (1, 64, 64)
        assert bool(ch.any())  # every crop is cut around a hole pixel
        assert torch.equal(cx[3].bool(), ch[0])
        flips.append(float(cx[5, 0, 0]) < 0)
        # The crop is a window of the view, mirrored (with the hint's dx negated) or not.
        view = (x.float(), target.float(), holes)
        if flips[-1]:
            view = (x.float().flip(-1), target.float().flip(-1), holes.flip(-1))
            view[0][5] *= -1
        first = (view[1] == ct[:, :1, :1]).all(0).nonzero().tolist()  # where the crop's top-left colour sits
        found = [
            (i, j)
            for i, j in first
            if torch.equal(view[2][:, i : i + 64, j : j + 64], ch)
            and torch.equal(view[1][:, i : i + 64, j : j + 64], ct)
        ][:1]
        assert found, "the crop is not a window of the view"
        i, j = found[0]
        assert torch.equal(view[0][:, i : i + 64, j : j + 64], cx)
    assert any(flips) and not all(flips)


def test_fill_batches_mix_rendered_views_and_the_learning_rate_decays_by_cosine(tmp_path):
    root = require_shared_data("stereo", "middlebury")
    config = make_config("fill-learned", stereo=str(root), max_scenes=1, crop=48, batch_size=4, steps=4, threads=1)
    config = dataclasses.replace(config, log_every=1, views=0.5)
    data = StereoCrops(config)
    views = RenderedViews(data.pairs, depths=("gt",))
    batch = fill_batch(data, 0, 0, 4, views)
    assert batch["x"].shape == (4, 7, 48, 48) and batch["holes"].shape == (4, 1, 48, 48)
    assert bool((batch["x"][:2, 5].abs() == 1).all())  # the two view crops: horizontal move, hint (±1, 0)
    train_image2image(config, tmp_path / "run", progress=False)
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    lrs = [line["lr"] for line in lines if "lr" in line]  # (validation lines carry "val" instead)
    expected = [config.lr * (1 + np.cos(np.pi * k / 4)) / 2 for k in range(4)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-3)


def test_export_filler_writes_small_float16_weights_the_filler_loads_and_a_record(tmp_path):
    from viewshift.learn.image2image import export_filler
    from viewshift.render.fill.learned import load_filler

    root = require_shared_data("stereo", "middlebury")
    config = make_config("fill-learned", stereo=str(root), max_scenes=1, crop=48, batch_size=2, steps=2, threads=1)
    train_image2image(config, tmp_path / "run", progress=False)
    path = export_filler(tmp_path / "run", tmp_path / "w.pt", command="the command", notes={"data": "the split"})
    saved = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in saved["state_dict"].values())
    assert path.stat().st_size < 300_000  # small enough to ship
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["command"] == "the command" and record["data"] == "the split" and record["step"] == 2
    assert record["config"]["holdout"] == config.holdout
    gen, _, _ = load_generator(tmp_path / "run")
    net = load_filler(str(path))
    assert net.settings == gen.settings and net.settings["in_stride"] == 2
    for name, value in net.state_dict().items():  # float32 in memory, the trained values rounded to float16
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, gen.state_dict()[name].half().float(), atol=0, rtol=0)
    shift = make_config("shift-autoencoder", stereo=str(root), max_scenes=1, crop=48, batch_size=2, steps=1, threads=1)
    train_image2image(shift, tmp_path / "ae", progress=False)
    with pytest.raises(InputError, match="not a hole filler"):
        export_filler(tmp_path / "ae", tmp_path / "ae.pt")


def test_validation_scenes_are_disjoint_from_held_out_and_training():
    root = require_shared_data("stereo", "middlebury")
    assert not set(VALIDATION) & set(HELD_OUT)
    data = StereoCrops(make_config("fill-learned", stereo=str(root)))
    names = {p.name for p in data.pairs}
    assert not names & (set(VALIDATION) | set(HELD_OUT))
    assert {p.name for p in data.validation_pairs} == set(VALIDATION)  # every validation scene is in the data
    assert len(names) == 29


def test_patch_weights_score_only_the_patches_near_holes():
    # One hole pixel at (20, 20) of a 64-px crop; the discriminator grid is 8x8 (cells of 8 px). Dilated by 4 px
    # the hole covers rows/columns 16..24: cells 2 and 3 in each direction; undilated only cell 2. Without holes
    # nothing is scored.
    holes = torch.zeros(2, 1, 64, 64, dtype=torch.bool)
    holes[0, 0, 20, 20] = True
    expected = torch.zeros(8, 8)
    expected[2:4, 2:4] = 1
    w = patch_weights(holes, (8, 8), margin=4)
    assert torch.equal(w[0, 0], expected) and not bool(w[1].any())
    expected[2:4, 2:4] = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert torch.equal(patch_weights(holes, (8, 8), margin=0)[0, 0], expected)


def test_lsgan_loss_averages_over_the_weighted_patches():
    scores = torch.tensor([[[[0.0, 1.0], [3.0, 0.5]]]])
    weights = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    assert float(lsgan_loss(scores, 1.0)) == pytest.approx((1 + 0 + 4 + 0.25) / 4)
    assert float(lsgan_loss(scores, 1.0, weights)) == pytest.approx((1 + 4) / 2)
    assert float(lsgan_loss(scores, 0.0, torch.zeros_like(weights))) == 0.0  # no hole near: nothing to score


def test_the_fill_adversarial_loss_scores_only_the_hole_neighbourhood():
    # A hole in the top-left corner of a 64-px crop: the generator's adversarial loss is the LSGAN loss of the
    # discriminator's patches near it (margin 4 px), not of the whole crop; the discriminator trains on the same
    # patches of the real crop.
    from viewshift.learn.image2image import build_generator, discriminator_loss

    config = make_config("fill-learned", adversarial=1.0, adv_margin=4)
    torch.manual_seed(0)
    gen, disc = build_generator(config), PatchDiscriminator(4, 8)
    target = torch.rand(1, 3, 64, 64)
    holes = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    holes[..., 4:10, 4:10] = True
    batch = {"x": torch.cat([target, holes.float(), torch.zeros(1, 3, 64, 64)], 1), "target": target, "holes": holes}
    losses, fake, real, weights = generator_losses(config, gen, disc, batch)
    scores = disc(fake)
    assert scores.shape[-2:] == (14, 14) and weights.shape == (1, 1, 14, 14)
    near = torch.zeros(1, 1, 14, 14)
    # Adaptive pooling's cell i spans pixels floor(64 i / 14) .. ceil(64 (i + 1) / 14) - 1: cells 0..3 touch the
    # dilated hole (rows/columns 0..13; cell 3 starts at 13), cell 4 starts at 18.
    near[..., :4, :4] = 1
    assert torch.equal(weights, near)
    expected = ((scores - 1) ** 2)[..., :4, :4].mean()
    assert losses["adv"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses["adv"].item() != pytest.approx(((scores - 1) ** 2).mean().item(), rel=1e-3)
    d_expected = ((disc(real) - 1) ** 2)[..., :4, :4].mean() + (scores**2)[..., :4, :4].mean()
    assert discriminator_loss(disc, fake, real, weights).item() == pytest.approx(d_expected.item(), rel=1e-5)


def test_validation_scores_are_hole_psnr_of_the_network_on_whole_views():
    # An untrained filler hands back its pre-fill: inside the holes 0.5 against a true 0.6 (PSNR 20 dB exactly),
    # outside them anything (not scored). A view without holes scores NaN.
    from viewshift.learn.image2image import build_generator, validation_scores

    gen = build_generator(make_config("fill-learned")).eval()
    holes = torch.zeros(1, 40, 64, dtype=torch.bool)
    holes[:, 10:20, 30:40] = True
    x = torch.zeros(7, 40, 64)
    x[:3] = torch.where(holes, 0.5, torch.rand(3, 40, 64))
    x[3] = holes.float()
    target = torch.full((3, 40, 64), 0.6)
    scores = validation_scores(gen, [(x.half(), target.half(), holes), (x, target, torch.zeros_like(holes))])
    assert scores[0] == pytest.approx(20.0, abs=0.02) and np.isnan(scores[1])  # (0.6 in float16: 0.5996)


def test_export_of_the_best_validation_step(tmp_path):
    from viewshift.learn.image2image import export_filler

    root = require_shared_data("stereo", "middlebury")
    config = make_config("fill-learned", stereo=str(root), max_scenes=1, crop=48, batch_size=2, steps=2, threads=1)
    config = dataclasses.replace(config, validate_every=1, lr=0.05)
    train_image2image(config, tmp_path / "run", progress=False)
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    val = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines() if '"val"' in x]
    assert best["step"] == max(val, key=lambda v: v["val"])["step"]
    path = export_filler(tmp_path / "run", tmp_path / "w.pt", best=True)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["step"] == best["step"] and record["chosen_by"] == "best validation hole PSNR"
    assert record["config"]["validation"] == list(VALIDATION)
    saved = torch.load(path, weights_only=True)["state_dict"]
    for name, value in best["model"].items():
        torch.testing.assert_close(saved[name], value.half(), atol=0, rtol=0)
    config = dataclasses.replace(config, validate_every=0)
    train_image2image(config, tmp_path / "plain", progress=False)
    with pytest.raises(InputError, match="best.pt"):
        export_filler(tmp_path / "plain", tmp_path / "p.pt", best=True)


def test_the_shipped_weights_record_their_validation_split_and_score():
    from viewshift.render.fill.learned import WEIGHTS

    record = json.loads(WEIGHTS.with_suffix(".json").read_text())
    assert record["validation"]["scenes"] == list(VALIDATION)
    assert not set(VALIDATION) & set(record["config"]["holdout"])
    assert record["validation"]["hole_psnr"] > record["validation"]["background_fill"]
