"""Pseudo-labelled frames (viewshift.learn.data.pseudo): schema, confidence weighting, K moved with the crop."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from viewshift.errors import InputError
from viewshift.learn import losses as L
from viewshift.learn.data import PseudoDepthDataset, read_pseudo_manifest
from viewshift.learn.trainer import make_config, train

H, W = 40, 60
K0 = np.array([[50.0, 0.0, 30.0], [0.0, 50.0, 20.0], [0.0, 0.0, 1.0]])
MARK = (41, 13)  # (u, v): centre of a 3×3 white blob; the depth there is 2 (elsewhere 4)


def write_label(folder, name="a.npz", conf=None) -> None:
    image = np.zeros((H, W, 3), np.uint8)
    u, v = MARK
    image[v - 1 : v + 2, u - 1 : u + 2] = 255
    depth = np.full((H, W), 4.0, np.float32)
    depth[v - 1 : v + 2, u - 1 : u + 2] = 2.0
    depth[:, :2] = 0.0  # unknown
    if conf is None:
        conf = np.tile(np.linspace(0.0, 1.0, W, dtype=np.float32), (H, 1))
    np.savez(folder / name, image=image, depth=depth, confidence=conf, K=K0)


@pytest.fixture
def labels(tmp_path):
    write_label(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"labels": [{"file": "a.npz"}]}))
    return tmp_path


def test_schema_and_confidence_weights_of_a_centred_sample(labels):
    files = read_pseudo_manifest(labels)
    ds = PseudoDepthDataset(files, (H, W), augment=False, min_confidence=0.25)
    s = ds[0]
    assert s["target"].shape == (3, H, W) and s["sources"].shape == (1, 3, H, W)
    assert s["depth"].shape == s["depth_valid"].shape == s["depth_weight"].shape == (1, H, W)
    assert s["K"].dtype == torch.float32 and torch.allclose(s["K"].double(), torch.from_numpy(K0))
    assert bool(s["has_depth"]) and bool(s["has_metric_depth"]) and not bool(s["has_pose"])
    conf = torch.linspace(0, 1, W).expand(H, W)
    valid = (conf >= 0.25) & (torch.arange(W) >= 2)
    assert torch.equal(s["depth_valid"][0], valid)
    # inverse depth where valid (0.25 background, 0.5 on the blob), 0 elsewhere; weight = confidence there
    u, v = MARK
    assert s["depth"][0, v, u] == pytest.approx(0.5) and s["depth"][0, 5, 50] == pytest.approx(0.25)
    assert (s["depth"][0][~valid] == 0).all() and (s["depth_weight"][0][~valid] == 0).all()
    assert torch.allclose(s["depth_weight"][0][valid], conf[valid])


def test_k_moves_with_random_scale_crop_and_mirror(labels):
    """The blob's 3-D point, projected with the sample's K, lands on the blob in the augmented image.

    A mirrored sample is the view of the mirrored world, so there the point is ``(-x, y, z)``.
    """
    ds = PseudoDepthDataset(read_pseudo_manifest(labels), (24, 32), augment=True, jitter=0.0, seed=3)
    u, v = MARK
    X = np.linalg.inv(K0) @ np.array([u, v, 1.0]) * 2.0
    mirrored, scales = [], set()
    for idx in range(8):
        ds.epoch = idx
        s = ds[idx]
        img = s["target"][0].numpy()
        ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
        w = np.clip(img - 0.05, 0, None)
        found = np.array([(w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()])
        errors = []
        for point in (X, X * np.array([-1.0, 1.0, 1.0])):
            p = s["K"].double().numpy() @ point
            errors.append(np.abs(found - p[:2] / p[2]).max())
        assert min(errors) < 0.6, (idx, errors)
        mirrored.append(errors[1] < errors[0])
        scales.add(round(float(s["K"][0, 0]), 3))
        # the label moved with the image: the near blob's inverse depth sits at the same place
        assert s["depth"][0, int(round(found[1])), int(round(found[0]))] > 0.3
    assert any(mirrored) and not all(mirrored) and len(scales) > 4


def test_confidence_weights_the_supervised_losses():
    """Uniform weights change nothing; a prediction wrong only where the weight is 0 costs less than one wrong
    where the weight is 1."""
    gt = 1.0 + torch.linspace(0, 1, 16).expand(1, 1, 16, 16)  # a smooth ramp
    pred = gt.clone()
    pred[..., :, :4] = 3.0 + torch.rand(1, 1, 16, 4)  # wrong (and noisy) on the left columns
    mask = torch.ones_like(gt, dtype=torch.bool)
    zero_left = torch.ones_like(gt)
    zero_left[..., :, :4] = 0.0
    zero_right = zero_left.flip(-1)
    for loss in (L.scale_shift_invariant_loss, L.gradient_matching_loss, L.edge_ranking_loss):
        plain = float(loss(pred, gt, mask))
        assert float(loss(pred, gt, mask, weight=torch.full_like(gt, 0.3))) == pytest.approx(plain, rel=1e-5)
        assert float(loss(pred, gt, mask, weight=zero_left)) < 0.8 * float(loss(pred, gt, mask, weight=zero_right))


def test_edge_ranking_loss_orders_pixels_across_depth_edges():
    gt = torch.ones(1, 1, 12, 12)
    gt[..., :, 6:] = 2.0  # right half nearer (larger disparity)
    mask = torch.ones_like(gt, dtype=torch.bool)
    right = L.edge_ranking_loss(gt * 5.0, gt, mask)  # any scale of the prediction
    wrong = L.edge_ranking_loss(3.0 - gt, gt, mask)  # reversed order
    flat = L.edge_ranking_loss(torch.ones_like(gt), gt, mask)
    assert float(right) < float(flat) < float(wrong)
    assert float(L.edge_ranking_loss(gt * 5.0, gt, mask)) == pytest.approx(float(L.edge_ranking_loss(gt, gt, mask)))
    zero = torch.zeros_like(gt)
    assert float(L.edge_ranking_loss(3.0 - gt, gt, mask, weight=zero)) == 0.0


def test_manifest_errors(tmp_path):
    with pytest.raises(InputError, match="manifest"):
        read_pseudo_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"labels": [{"file": "missing.npz"}]}))
    with pytest.raises(InputError, match="missing"):
        read_pseudo_manifest(tmp_path / "manifest.json")


def test_two_step_training_on_pseudo_labels_with_the_ranking_term(labels, tmp_path):
    config = make_config(
        "builtin",
        depth_net="tiny",
        height=32,
        width=48,
        batch_size=2,
        steps=2,
        log_every=1,
        synthetic=False,
        pseudo=[str(labels)],
        ranking_weight=0.5,
    )
    result = train(config, tmp_path / "run", progress=False)
    assert result["step"] == 2 and np.isfinite(result["loss"])
    assert result["rank"] > 0 and result["ssi"] > 0
    assert (tmp_path / "run" / "checkpoint.pt").exists()
