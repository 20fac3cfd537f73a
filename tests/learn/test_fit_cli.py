"""fit (test-time training) writes a model load_builtin can run; the CLI commands of the training side."""

from __future__ import annotations

import argparse
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
    result = fit_clip(clip, out, steps=2, seconds=60, init=tiny_init, threads=1, teacher_frames=0, progress=False)
    assert result["step"] == 2 and result["cameras"] == "clip poses.txt"
    depth = load_builtin(out).estimate(np.full((40, 50, 3), 100, np.uint8))
    assert depth.depth.shape == (40, 50) and depth.unit == "relative"
    poses = predict_snippets(result["run"], clip)
    assert poses["snippets"] == 4 and np.isfinite(poses["ate_mean"]) and poses["ate_zero_motion"] > 0
    with pytest.raises(OutputError):
        fit_clip(clip, out, steps=2, init=tiny_init, resume=False, progress=False)


def test_fit_command_prints_one_line_and_takes_the_old_minutes(tmp_path, tiny_init, capsys):
    clip = make_clip(tmp_path / "clip", n=6, h=32, w=64)
    out = tmp_path / "m.pt"
    args = ["fit", str(clip), "-o", str(out), "--steps", "2", "--threads", "1", "--init", str(tiny_init)]
    assert main([*args, "--minutes", "1", "--teacher", "0"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wrote {out} (depth fitted in 2 steps")
    assert "--minutes is deprecated" in captured.err and "--max-minutes" in captured.err
    assert main([*args, "--max-minutes", "1", "--teacher", "0", "-q"]) == 0  # same settings: continues
    assert capsys.readouterr().out == ""
    assert main([*args, "--teacher", "0.1", "-q"]) == 2  # other settings: refused with one line
    assert "--no-resume" in capsys.readouterr().err


def test_fit_help_shows_every_default():
    from viewshift.cli import build_parser

    parser = build_parser(["fit"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["fit"].format_help().split("options:", 1)[1]
    options = ("--max-minutes", "--threads", "--lr", "--teacher ", "--anchor", "--min-parallax", "--seed")
    options += ("--teacher-frames", "--teacher-width", "--explainability", "--frame-scales", "--stride")
    options += ("--holdout-every", "--poses")
    for option in options:
        block = text.split(option, 1)[1].split("\n  -", 1)[0]
        assert "default" in block, option


def test_fit_command_defaults_are_the_fit_config_defaults():
    from viewshift.cli import build_parser
    from viewshift.learn.fit import FitConfig

    args = build_parser(["fit"]).parse_args(["fit", "clip", "-o", "m.pt"])
    d = FitConfig()
    names = ("lr", "teacher_weight", "teacher_frames", "teacher_width", "anchor_weight", "explainability")
    for name in (*names, "frame_scales"):
        assert getattr(args, name) == getattr(d, name), name
    assert (args.min_parallax_px, args.stride, args.holdout_every, args.poses) == (
        d.min_parallax_px,
        d.stride,
        d.holdout_every,
        d.poses,
    )


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


def test_make_clip_takes_the_focal_from_exif_unless_told(tmp_path, capsys):
    """A 40×30 frame whose 35 mm-equivalent focal is the full-frame diagonal has a 50 px focal (hypot(40, 30));
    at 20 px wide it is 25 px. --fov overrides EXIF."""
    from tests.io.test_exif import jpeg_with_exif
    from viewshift.geometry import focal_from_fov
    from viewshift.geometry.camera import FULL_FRAME_DIAGONAL_MM

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        jpeg_with_exif(folder / f"{i}.jpg", np.full((30, 40, 3), 60 * i, np.uint8), f35=FULL_FRAME_DIAGONAL_MM)
    assert main(["make-clip", str(folder), "-o", str(tmp_path / "a"), "--max-width", "20"]) == 0
    assert np.loadtxt(tmp_path / "a" / "K.txt")[0, 0] == pytest.approx(25.0, abs=1e-3)
    assert "focal 25.0 px: EXIF" in capsys.readouterr().out
    assert main(["make-clip", str(folder), "-o", str(tmp_path / "b"), "--fov", "90"]) == 0
    assert np.loadtxt(tmp_path / "b" / "K.txt")[0, 0] == pytest.approx(focal_from_fov(90.0, 40), abs=1e-3)


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


def test_frames_without_a_pose_are_left_out_of_the_fit(tmp_path, tiny_init, monkeypatch, capsys):
    """Structure from motion gives a frame it cannot register its neighbour's pose (``Cameras.registered`` False):
    the fit never trains on it, as a target or a source, and says how many it left out."""
    import viewshift.learn.fit as fit_module

    clip = make_clip(tmp_path / "clip", n=6, h=32, w=64)
    real = fit_module.clip_cameras

    def one_unregistered(c, how="auto", *, images=None):
        cams = real(c, how, images=images)
        cams.registered[2] = False
        return cams

    monkeypatch.setattr(fit_module, "clip_cameras", one_unregistered)
    out = tmp_path / "m.pt"
    args = ["fit", str(clip), "-o", str(out), "--steps", "2", "--threads", "1", "--init", str(tiny_init)]
    assert main([*args, "--teacher", "0"]) == 0
    assert "; 1 frame without a pose left out)" in capsys.readouterr().out
    neighbours = json.loads(torch.load(f"{out}.run/checkpoint.pt", weights_only=True)["neighbours"])
    assert sorted(map(int, neighbours)) == [0, 1, 3, 4, 5]
    assert all(2 not in sources for sources in neighbours.values())
    assert np.load(f"{out}.run/cameras.npz")["registered"].tolist() == [True, True, False, True, True, True]
