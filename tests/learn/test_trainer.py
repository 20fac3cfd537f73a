"""Trainer: two-step smoke run of every preset, config beside checkpoints, kill-and-resume, DDP on 2 processes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.learn.test_data import make_clip
from viewshift.learn.trainer import PRESETS, TrainConfig, load_checkpoint, make_config, train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "c", n=6, h=32, w=64)


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    import cv2

    d = tmp_path_factory.mktemp("tex")
    cv2.imwrite(str(d / "t.png"), (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    return d


def small(preset: str, clip, textures, **kw) -> TrainConfig:
    """Every preset at tiny image size: the networks and losses of the preset, two steps."""
    values = dict(
        height=32,
        width=64,
        batch_size=2,
        steps=2,
        log_every=1,
        clips=[str(clip)],
        synthetic=PRESETS[preset].get("synthetic", False),
        texture_dirs=[str(textures)],
        synthetic_scenes=4,
    )
    return make_config(preset, **{**values, **kw})


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_two_step_smoke_run_of_every_preset(preset, clip, textures, tmp_path):
    config = small(preset, clip, textures)
    result = train(config, tmp_path / "run", progress=False)
    assert result["step"] == 2 and np.isfinite(result["loss"])
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert TrainConfig.from_dict(saved) == config
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["step"] == 2 and TrainConfig.from_dict(json.loads(state["config"])) == config


def test_channels_last_gives_the_same_losses(clip, textures):
    """``channels_last`` is a speed switch: same initial weights, same losses and gradients to rounding."""
    from viewshift.learn.trainer import DataMix, SfmModel

    config = small("small", clip, textures)
    batch = DataMix(config).batch(0)
    out = {}
    for cl in (False, True):
        torch.manual_seed(0)
        model = SfmModel(dataclasses.replace(config, channels_last=cl))
        losses = model(batch)
        losses["loss"].backward()
        out[cl] = (losses, model.depth_net.encoder.stages[0][0][0].weight.grad)
    for k, v in out[False][0].items():
        assert torch.allclose(out[True][0][k], v, rtol=1e-4, atol=1e-6), k
    assert torch.allclose(out[True][1], out[False][1], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("augment", [True, False])
def test_augment_switch_reaches_every_kind_of_data(augment, clip, textures):
    from viewshift.learn.trainer import DataMix

    data = DataMix(small("builtin", clip, textures, augment=augment))
    assert set(data.datasets) == {"clips", "synthetic"}
    for ds in data.datasets.values():
        ds[0]  # fill the synthetic scene cache (a first visit is not yet quantised to bytes)
        visits = []
        for epoch in (0, 1):
            for d in getattr(ds, "datasets", [ds]):
                d.epoch = epoch
            visits.append(ds[0]["target"])
        assert torch.equal(*visits) != augment  # jitter changes every augmented visit


def _weights(run: Path) -> dict:
    return load_checkpoint(run / "checkpoint.pt")["model"]


def _train_command(run: Path, config: Path) -> list[str]:
    """``-m viewshift.cli train RUN`` with the tiny preset and a config file, without progress bars."""
    return ["-m", "viewshift.cli", "train", str(run), "--preset", "tiny", "--config", str(config), "--no-progress"]


def test_killed_run_resumes_to_the_same_weights(clip, textures, tmp_path):
    config = small("tiny", clip, textures, steps=6, checkpoint_every=1)
    run = tmp_path / "killed"
    long = json.loads(config.to_json()) | {"steps": 10_000}
    (tmp_path / "cfg.json").write_text(json.dumps(long))
    cmd = [sys.executable, *_train_command(run, tmp_path / "cfg.json")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ckpt = run / "checkpoint.pt"
            if ckpt.exists() and load_checkpoint(ckpt)["step"] >= 3:
                break
            if proc.poll() is not None:
                pytest.fail(f"training died: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = load_checkpoint(run / "checkpoint.pt")["step"]
    assert 3 <= killed_at < 10_000
    # Compare with an uninterrupted run three steps past the kill.
    config = dataclasses.replace(config, steps=killed_at + 3)
    reference = tmp_path / "ref"
    train(config, reference, progress=False)
    result = train(config, run, progress=False)  # same config, other step count: resumes
    assert result["step"] == killed_at + 3
    ref, got = _weights(reference), _weights(run)
    assert all(torch.allclose(ref[k], got[k], atol=1e-6) for k in ref)


def test_ddp_two_processes(clip, textures, tmp_path):
    config = small("tiny", clip, textures)
    (tmp_path / "cfg.json").write_text(config.to_json())
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += _train_command(run, tmp_path / "cfg.json")
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 2
