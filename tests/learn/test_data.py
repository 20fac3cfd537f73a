"""Clip format, loaders and K-aware augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.errors import InputError, OutputError
from viewshift.geometry import intrinsics
from viewshift.learn import data as D
from viewshift.learn.losses import photometric_loss


def make_clip(root, n=6, h=24, w=32, shift=1):
    """A clip of a fronto-parallel textured plane at depth 2 seen by a camera moving right one pixel per frame."""
    rng = np.random.default_rng(0)
    wide = (rng.random((h, w + n * shift, 3)) * 255).astype(np.uint8)
    frames = [wide[:, i * shift : i * shift + w] for i in range(n)]
    f = 20.0
    poses = np.stack([np.eye(4)] * n)
    poses[:, 0, 3] = np.arange(n) * shift * 2.0 / f  # world_T_cam: camera i sits at x = i * b
    K = intrinsics(f, h, w)[0].numpy()
    return D.write_clip(root, frames, K, poses, {"made_by": "test"})


def test_clip_round_trip_and_refusals(tmp_path):
    clip = D.read_clip(make_clip(tmp_path / "c"))
    assert len(clip) == 6 and clip.K.shape == (3, 3) and clip.world_T_cam.shape == (6, 4, 4)
    with pytest.raises(OutputError):
        make_clip(tmp_path / "c")
    with pytest.raises(InputError):
        D.read_clip(tmp_path / "nothing")


def test_sequence_snippets_have_exact_poses(tmp_path):
    clip = D.read_clip(make_clip(tmp_path / "c"))
    ds = D.SequenceDataset(clip, (24, 32), num_sources=2, augment=False, use_poses=True)
    assert len(ds) == 4
    s = ds[0]
    assert tuple(s["sources"].shape) == (2, 3, 24, 32) and bool(s["has_pose"])
    batch = {k: v[None] for k, v in s.items()}
    loss = photometric_loss(
        batch["target"], batch["sources"], [torch.full((1, 1, 24, 32), 2.0)], batch["src_T_tgt"], batch["K"]
    )
    assert float(loss) < 1e-5


def test_scale_crop_moves_K_with_the_pixels():
    # A point's pixel must stay on the same scene point after resize + crop.
    img = torch.zeros(1, 40, 60)
    img[0, 20, 30] = 1.0
    K = intrinsics(50.0, 40, 60)[0].double()
    rng = np.random.default_rng(3)
    (out,), K2, _ = D.scale_crop([img], K, (30, 40), rng, (1.2, 1.5))
    ray = torch.linalg.inv(K) @ torch.tensor([30.0, 20.0, 1.0], dtype=torch.float64)
    u, v, _ = (K2 @ ray).tolist()
    peak = divmod(int(out[0].argmax()), 40)
    assert abs(peak[0] - v) <= 1.0 and abs(peak[1] - u) <= 1.0


def test_flip_keeps_the_photometric_loss_exact(tmp_path):
    clip = D.read_clip(make_clip(tmp_path / "c"))
    ds = D.SequenceDataset(clip, (24, 32), num_sources=2, augment=False, use_poses=True)
    s = D.flip_sample(ds[1])
    batch = {k: v[None] for k, v in s.items()}
    d = torch.full((1, 1, 24, 32), 2.0)
    assert (
        float(photometric_loss(batch["target"], batch["sources"], [d], batch["src_T_tgt"].float(), batch["K"].float()))
        < 1e-5
    )


def test_middlebury_pairs_give_consistent_stereo_samples():
    root = require_shared_data("stereo", "middlebury")
    pairs = D.middlebury_pairs(root)
    names = {p.name for p in pairs}
    assert "MiddEval3/Adirondack" in names and "MiddEval2/Tsukuba" in names
    calibrated = [p for p in pairs if p.K_left is not None]
    ds = D.StereoDataset(calibrated[:1], (64, 96), augment=True)
    s = ds[0]
    assert bool(s["has_pose"]) and bool(s["has_depth"]) and s["src_T_tgt"].shape == (1, 4, 4)
    assert abs(abs(float(s["src_T_tgt"][0, 0, 3])) - calibrated[0].baseline) < 1e-6
