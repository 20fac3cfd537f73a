"""Pose/explainability network: shapes, scaling, masks, presets."""

from __future__ import annotations

import pytest
import torch

from viewshift.errors import InputError, ShapeError
from viewshift.learn.pose_net import POSE_SCALE, PoseExpNet, explainability_probability, pose_preset


def test_pose_and_masks_shapes():
    net = PoseExpNet(pose_preset("tiny", num_sources=2))
    with torch.no_grad():
        poses, masks = net(torch.rand(3, 3, 64, 96), torch.rand(3, 2, 3, 64, 96))
    assert tuple(poses.shape) == (3, 2, 6)
    assert [tuple(m.shape) for m in masks] == [(3, 2, 2, 64 // 2**s, 96 // 2**s) for s in range(4)]
    e = explainability_probability(masks[0])
    assert tuple(e.shape) == (3, 2, 1, 64, 96) and float(e.min()) > 0 and float(e.max()) < 1


def test_pose_is_scaled_small_at_initialisation():
    net = PoseExpNet(pose_preset("tiny", num_sources=1, explainability=False))
    poses, masks = net(torch.rand(1, 3, 64, 64), torch.rand(1, 1, 3, 64, 64))
    assert masks is None
    assert poses.abs().max().item() < 10 * POSE_SCALE


def test_errors():
    net = PoseExpNet(pose_preset("tiny", num_sources=2))
    with pytest.raises(ShapeError):
        net(torch.rand(1, 3, 32, 32), torch.rand(1, 1, 3, 32, 32))
    with pytest.raises(InputError):
        pose_preset("nope")
