"""viewshift fit: it learns depth on a clip with exact depth, picks neighbours with parallax, and resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from viewshift.depth.builtin import FIT_INIT_WEIGHTS, load_depth_network, save_depth_model
from viewshift.depth.network import DepthNet, depth_preset
from viewshift.errors import InputError, OutputError
from viewshift.learn.data import write_clip
from viewshift.learn.fit import choose_neighbours, fit_clip, resize_intrinsics, training_size
from viewshift.learn.synthetic import sideways_clip


def median_scaled_absrel(model_path, images: torch.Tensor, depth: torch.Tensor) -> float:
    """Mean over frames of AbsRel = mean(|s·d - d*| / d*), each frame's ``s`` = median(d*) / median(d)."""
    net, _, _ = load_depth_network(model_path)
    with torch.no_grad():
        pred = torch.cat([net(images[i : i + 1])[0] for i in range(len(images))])
    errs = [((p * (g.median() / p.median()) - g).abs() / g).mean() for p, g in zip(pred, depth, strict=True)]
    return float(torch.stack(errs).mean())


@pytest.fixture(scope="module")
def plane_and_box(tmp_path_factory):
    images, depth, poses, K = sideways_clip((64, 96), frames=8, step=0.08)
    root = tmp_path_factory.mktemp("plane_and_box")
    frames = [(im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for im in images]
    clip = write_clip(root / "clip", frames, K.numpy(), poses.numpy())
    return clip, images, depth


# Issue 17's test: the fit must bring the depth error of a small synthetic clip with exact depth (a textured plane
# and a box, the camera moving sideways) down by a stated factor. With the old behaviour (the depth anchored to
# the built-in model's with weight 10, learning rate 1e-4) the same run leaves the error where it was
# (measured: AbsRel 0.54 -> 0.54, docs/depth/fit.md), so this test fails with it.
FACTOR = 2.0


def test_fit_brings_the_depth_error_of_a_plane_and_a_box_down(tmp_path, plane_and_box):
    clip, images, depth = plane_and_box
    before = median_scaled_absrel(FIT_INIT_WEIGHTS, images, depth)  # the network the fit starts from
    fit_clip(
        clip,
        tmp_path / "m.pt",
        steps=40,
        seconds=None,
        threads=1,
        progress=False,
        lr=1e-3,
        scales=4,  # the 64×96 frames are enlarged to 192×256: the coarse scales carry the texture (2 scales: 0.30)
    )
    after = median_scaled_absrel(tmp_path / "m.pt", images, depth)
    assert before > 0.3  # the starting depth of this scene is poor: there is something to learn
    assert after < before / FACTOR, (before, after)


def test_neighbours_are_the_nearest_frames_with_enough_parallax():
    n = 9
    W = np.stack([np.eye(4)] * n)
    W[:, 0, 3] = np.arange(n) * 0.1  # 0.1 per frame; at depth 2 and f = 40: 2 px per frame
    nb = choose_neighbours(W, np.full(n, 2.0), 40.0, list(range(n)), min_parallax_px=5.0)
    assert nb[4] == [1, 7]  # 3 frames = 6 px is the nearest with >= 5 px on each side
    assert nb[0] == [3, 4]  # no frame on the left: the second one on the right
    nb = choose_neighbours(W, np.full(n, 2.0), 40.0, [0, 1, 2, 4, 5, 6, 8], min_parallax_px=5.0)
    assert nb[5] == [2, 8]  # held-out frames (3, 7) are never sources
    assert choose_neighbours(W, np.full(n, 2.0), 40.0, list(range(n)), min_parallax_px=0, stride=2)[4] == [2, 6]


def test_intrinsics_follow_the_resize_and_the_training_size_keeps_the_aspect():
    K = np.array([[500.0, 0, 179.5], [0, 500.0, 319.5], [0, 0, 1]])
    out = resize_intrinsics(K, (640, 360), (320, 180))
    assert np.allclose(out, [[250, 0, 89.5], [0, 250, 159.5], [0, 0, 1]])
    assert training_size((640, 360), (192, 256)) == (288, 160)
    assert training_size((378, 504), (192, 256)) == (192, 256)


@pytest.fixture
def tiny_init(tmp_path):
    torch.manual_seed(0)
    return save_depth_model(tmp_path / "init.pt", DepthNet(depth_preset("tiny")), (32, 64))


def test_fit_refuses_and_resumes(tmp_path, plane_and_box, tiny_init):
    clip = plane_and_box[0]
    out = tmp_path / "m.pt"
    kw = dict(seconds=None, threads=1, progress=False, init=str(tiny_init), teacher_frames=0)
    first = fit_clip(clip, out, steps=2, **kw)
    assert first["step"] == 2 and out.exists()
    assert fit_clip(clip, out, steps=3, **kw)["step"] == 3  # the same command with a larger budget continues
    with pytest.raises(InputError, match="other settings"):
        fit_clip(clip, out, steps=4, lr=1e-2, **kw)
    with pytest.raises(OutputError):
        fit_clip(clip, out, steps=2, resume=False, **kw)
    assert fit_clip(clip, out, steps=1, resume=False, overwrite=True, **kw)["step"] == 1


def test_a_run_saved_before_the_round9_loss_resumes_with_its_own_loss(tmp_path, plane_and_box, tiny_init):
    # A checkpoint written before FitConfig had min_reprojection / automask trained without them: resuming it
    # with today's defaults (both on) is refused with one line naming them; with them off it continues.
    import json

    clip = plane_and_box[0]
    out = tmp_path / "m.pt"
    kw = dict(seconds=None, threads=1, progress=False, init=str(tiny_init), teacher_frames=0)
    fit_clip(clip, out, steps=2, min_reprojection=False, automask=False, **kw)
    ckpt = out.with_name("m.pt.run") / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=True)
    config = json.loads(state["config"])
    del config["min_reprojection"], config["automask"]
    torch.save({**state, "config": json.dumps(config)}, ckpt)
    with pytest.raises(InputError, match="automask"):
        fit_clip(clip, out, steps=3, **kw)
    assert fit_clip(clip, out, steps=3, min_reprojection=False, automask=False, **kw)["step"] == 3


RUN = """
import sys
from viewshift.learn.fit import fit_clip
fit_clip(sys.argv[1], sys.argv[2], steps=int(sys.argv[3]), seconds=None, threads=1, progress=False,
         init=sys.argv[4], teacher_frames=0, checkpoint_seconds=0.2)
"""


def test_a_killed_fit_continues_from_its_last_checkpoint(tmp_path, plane_and_box, tiny_init):
    clip = plane_and_box[0]
    out = tmp_path / "m.pt"
    ckpt = tmp_path / "m.pt.run" / "checkpoint.pt"
    args = [sys.executable, "-c", RUN, str(clip), str(out), "100000", str(tiny_init)]
    proc = subprocess.Popen(args, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert ckpt.exists() and not out.exists()
    killed_at = int(torch.load(ckpt, weights_only=True)["step"])
    assert killed_at > 0
    done = fit_clip(
        clip,
        out,
        steps=killed_at + 2,
        seconds=None,
        threads=1,
        progress=False,
        init=str(tiny_init),
        teacher_frames=0,
        checkpoint_seconds=0.2,
    )
    assert done["step"] == killed_at + 2 and out.exists()
