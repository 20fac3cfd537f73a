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
    PRESETS,
    StereoCrops,
    load_generator,
    make_config,
    occlusion_holes,
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
