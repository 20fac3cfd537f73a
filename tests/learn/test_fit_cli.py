"""fit (test-time training) writes a model load_builtin can run; the CLI commands of the training side."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from tests.helpers import require_shared_data
from tests.learn.test_data import make_clip
from viewshift.cli import main
from viewshift.depth.builtin import load_builtin, save_depth_model
from viewshift.depth.network import DepthNet, depth_preset
from viewshift.errors import OutputError
from viewshift.learn.fit import fit_clip, predict_snippets


@pytest.fixture
def tiny_init(tmp_path):
    torch.manual_seed(0)
    return save_depth_model(tmp_path / "init.pt", DepthNet(depth_preset("tiny")), (32, 64))


def test_fit_writes_a_loadable_model_and_poses(tmp_path, tiny_init):
    clip = make_clip(tmp_path / "clip", n=6, h=32, w=64)
    out = tmp_path / "fitted.pt"
    result = fit_clip(clip, out, steps=2, seconds=60, init=tiny_init, anchor_weight=0.5, progress=False)
    assert result["step"] == 2
    depth = load_builtin(out).estimate(np.full((40, 50, 3), 100, np.uint8))
    assert depth.depth.shape == (40, 50) and depth.unit == "relative"
    poses = predict_snippets(result["run"], clip)
    assert poses["snippets"] == 4 and np.isfinite(poses["ate_mean"]) and poses["ate_zero_motion"] > 0
    with pytest.raises(OutputError):
        fit_clip(clip, out, steps=2, init=tiny_init, progress=False)


def test_make_clip_from_an_image_folder(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"{i:02d}.jpg"), np.full((30, 80, 3), 30 * i, np.uint8))
    out = tmp_path / "clip"
    assert main(["make-clip", str(folder), "-o", str(out), "--step", "2", "--focal", "100", "--max-width", "40"]) == 0
    K = np.loadtxt(out / "K.txt")
    assert len(list((out / "frames").iterdir())) == 3 and abs(K[0, 0] - 50.0) < 1e-6
    assert main(["make-clip", str(folder), "-o", str(out)]) == 3  # exists: refused


def test_export_onnx_command(tmp_path, tiny_init, capsys):
    assert main(["export-onnx", str(tiny_init), "-o", str(tmp_path / "m.onnx")]) == 0
    assert "max relative difference" in capsys.readouterr().out


def test_eval_depth_command_on_real_frames(tmp_path, tiny_init):
    scenes = require_shared_data("video", "7scenes-redkitchen")
    out = tmp_path / "r.json"
    code = main(
        [
            "eval",
            "depth",
            "--model",
            str(tiny_init),
            "--sevenscenes",
            str(scenes),
            "--frame-step",
            "150",
            "--baselines",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    res = json.loads(out.read_text())["sevenscenes"]
    assert set(res) == {"model", "constant", "lower_is_nearer"} and res["model"]["frames"] == 2


def test_a_training_checkpoint_loads_as_a_depth_model(tmp_path):
    from viewshift.learn.trainer import make_config, train

    clip = make_clip(tmp_path / "clip", n=4, h=32, w=64)
    config = make_config("tiny", clips=[str(clip)], steps=1)
    train(config, tmp_path / "run", progress=False)
    source = load_builtin(tmp_path / "run" / "checkpoint.pt")
    assert source.input_size == (32, 64)
    assert source.estimate(np.full((20, 30, 3), 90, np.uint8)).depth.shape == (20, 30)
