"""The fit's depth of the clip's own frames (``fused_depth``, ``fit --frame-depths``): the plane sweep with the
run's cameras where it is confident, the fitted network where it is not, in the cameras' unit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viewshift.cli import main
from viewshift.depth.builtin import save_depth_model
from viewshift.depth.network import DepthNet, depth_preset
from viewshift.errors import InputError
from viewshift.io import read_depth
from viewshift.learn.data import write_clip
from viewshift.learn.fit import fit_clip, fused_depth
from viewshift.learn.synthetic import sideways_clip

HELD = (3, 7)  # every 4th frame held out, as the bench does


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A plane at depth 4 and a box at depth 2 seen by a camera moving 0.08 sideways per frame (exact poses), and
    a two-step fit on it (tiny network; the poses it refines are not the ones fused_depth uses)."""
    images, depth, poses, K = sideways_clip((96, 128), frames=8, step=0.08)
    root = tmp_path_factory.mktemp("fused")
    frames = [(im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for im in images]
    clip = write_clip(root / "clip", frames, K.numpy(), poses.numpy())
    torch.manual_seed(0)
    init = save_depth_model(root / "init.pt", DepthNet(depth_preset("tiny")), (32, 64))
    model = root / "m.pt"
    kw = dict(steps=2, seconds=None, threads=1, progress=False, init=str(init), teacher_frames=0, pose_lr=0.01)
    fit_clip(clip, model, holdout_every=4, **kw)
    return clip, model, frames, depth[:, 0].numpy(), poses[:, 0, 3].numpy()


def test_fused_depth_is_the_true_depth_in_the_cameras_unit_where_the_sweep_is_confident(fitted):
    _, model, frames, depth, _ = fitted
    r = fused_depth(model, 2, images=frames, exclude=HELD)
    confident = r.confidence >= 0.1
    assert confident.mean() > 0.35, confident.mean()  # 0.47 (smooth textures leave the rest unmatched)
    rel = np.abs(r.depth - depth[2])[confident] / depth[2][confident]
    # no scale alignment: the run's cameras are metric, so the depth is too (median 0.002, 99.8 % within 5 %)
    assert np.median(rel) < 0.01 and np.mean(rel < 0.05) > 0.95, (np.median(rel), np.mean(rel < 0.05))
    assert np.isfinite(r.depth).all() and (r.depth > 0).all()  # low-confidence pixels are filled


def test_fused_depth_sweeps_the_allowed_frames_and_fills_with_the_fitted_network(fitted, monkeypatch):
    _, model, frames, _, x = fitted
    seen = []

    def record(images, ref, *, cameras, prior, config):
        seen.append((cameras.world_T_cam[:, 0, 3].copy(), ref, prior))
        return "result"

    import viewshift.multiview as mv

    monkeypatch.setattr(mv, "multiview_depth", record)
    assert fused_depth(model, 2, images=frames, exclude=HELD, reach=3, prior="fitted") == "result"
    assert fused_depth(model, 6, images=frames, exclude=HELD, prior="builtin") == "result"
    assert fused_depth(model, 6, images=frames, exclude=HELD, prior="both") == "result"
    (xs, ref, prior), (xs2, ref2, prior2), (_, _, both) = seen
    assert both[0].model_path == model and both[1] == "builtin"  # the mean of the two fills
    # frames 0..5 but 3 (held out); the reference is frame 2 among them; the poses are the ones the fit started
    # from (the true ones), not its refinements
    np.testing.assert_allclose(xs, x[[0, 1, 2, 4, 5]], atol=1e-9)
    refined = np.load(str(model) + ".run/cameras.npz")["world_T_cam"][:, 0, 3]
    assert np.abs(refined[[0, 1, 2, 4, 5]] - xs).max() > 1e-5  # (the fit did move them)
    assert ref == 2 and prior.model_path == model
    # the default fill is both networks' (round 8, held-out rule 2)
    assert fused_depth(model, 6, images=frames, exclude=HELD) == "result" and seen[-1][2][1] == "builtin"
    np.testing.assert_allclose(xs2, x[[0, 1, 2, 4, 5, 6]], atol=1e-9)  # never 3 or 7
    assert ref2 == 5 and prior2 is None  # the built-in network fills: the geometric depth alone
    with pytest.raises(InputError, match="frame 3 is not one of"):
        fused_depth(model, 3, images=frames, exclude=HELD)
    with pytest.raises(InputError, match="prior must be"):
        fused_depth(model, 2, images=frames, prior="median")


def test_fused_depth_never_sweeps_a_frame_without_a_pose(fitted, tmp_path, monkeypatch):
    import shutil

    _, model, frames, _, x = fitted
    copy = tmp_path / "m.pt"
    shutil.copy(model, copy)
    shutil.copytree(str(model) + ".run", str(copy) + ".run")
    z = dict(np.load(str(copy) + ".run/cameras.npz"))
    z["registered"] = np.array([i != 1 for i in range(8)])
    np.savez(str(copy) + ".run/cameras.npz", **z)
    seen = []

    def record(images, ref, *, cameras, prior, config):
        seen.append(cameras.world_T_cam[:, 0, 3].copy())
        return "result"

    import viewshift.multiview as mv

    monkeypatch.setattr(mv, "multiview_depth", record)
    assert fused_depth(copy, 2, images=frames, exclude=HELD) == "result"
    np.testing.assert_allclose(seen[0], x[[0, 2, 4, 5, 6]], atol=1e-9)  # neither 1 (no pose) nor 3 (held out)
    with pytest.raises(InputError, match="frame 1 has no camera pose"):
        fused_depth(copy, 1, images=frames, exclude=HELD)


def test_fused_depth_needs_a_fit_run(tmp_path):
    with pytest.raises(InputError, match="cameras.npz not found"):
        fused_depth(tmp_path / "none.pt", 0)


def test_fit_frame_depths_writes_every_frame_and_one_line(fitted, tmp_path, capsys):
    clip, model, _, depth, _ = fitted
    out = tmp_path / "again.pt"
    init = model.parent / "init.pt"
    args = ["fit", str(clip), "-o", str(out), "--steps", "1", "--threads", "1", "--init", str(init)]
    assert main([*args, "--teacher-frames", "0", "--frame-depths", str(tmp_path / "d"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    files = sorted((tmp_path / "d").glob("*.npy"))
    assert len(files) == 8 and len(list((tmp_path / "d").glob("*_preview.png"))) == 8
    d = read_depth(files[4])
    assert d.shape == depth[4].shape and abs(np.median(d) / np.median(depth[4]) - 1) < 0.05  # the cameras' unit
    assert main([*args, "--teacher-frames", "0", "--frame-depths", str(tmp_path / "d")]) == 0  # again: replaced
    line = capsys.readouterr().out.strip().splitlines()
    assert len(line) == 1 and line[0].endswith(f"8 frame depths in {tmp_path / 'd'}/"), line
