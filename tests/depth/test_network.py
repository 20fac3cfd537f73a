"""The DispNet-style depth network: shapes, bounded output, presets, errors."""

from __future__ import annotations

import pytest
import torch

from viewshift.depth.network import (
    DEPTH_PRESETS,
    DepthNet,
    DepthNetConfig,
    count_macs,
    count_parameters,
    depth_preset,
    group_count,
)
from viewshift.errors import InputError, ShapeError


def test_four_scales_full_resolution_first():
    net = DepthNet(depth_preset("tiny"))
    outs = net(torch.rand(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(2, 1, 64, 96), (2, 1, 32, 48), (2, 1, 16, 24), (2, 1, 8, 12)]


def test_depth_bounded_by_config_range():
    cfg = DepthNetConfig(channels=(8, 8, 8, 8), min_depth=0.5, max_depth=20.0)
    net = DepthNet(cfg)
    for p in net.parameters():  # push the sigmoid to saturation both ways
        p.data.normal_(0, 3)
    with torch.no_grad():
        outs = net(torch.rand(1, 3, 32, 32))
    for d in outs:
        assert float(d.min()) >= 0.5 - 1e-5 and float(d.max()) <= 20.0 + 1e-3


def test_sigmoid_mapping_endpoints():
    net = DepthNet(DepthNetConfig(channels=(8, 8, 8, 8), min_depth=0.1, max_depth=100.0))
    d = net.sigmoid_to_depth(torch.tensor([0.0, 1.0]))
    assert torch.allclose(d, torch.tensor([100.0, 0.1]))


def test_odd_sizes_are_padded_and_cropped_back():
    outs = DepthNet(depth_preset("tiny"))(torch.rand(1, 3, 50, 70))
    assert tuple(outs[0].shape) == (1, 1, 50, 70) and tuple(outs[3].shape) == (1, 1, 7, 9)


@pytest.mark.parametrize("norm", ["none", "group"])
def test_gradients_reach_the_first_layer(norm):
    net = DepthNet(DepthNetConfig(channels=(8, 12, 16, 24, 32), norm=norm))
    net(torch.rand(1, 3, 32, 32))[0].mean().backward()
    assert net.encoder.stages[0][0][0].weight.grad.abs().sum() > 0


def test_bad_input_and_config():
    with pytest.raises(ShapeError):
        DepthNet(depth_preset("tiny"))(torch.rand(1, 1, 32, 32))
    with pytest.raises(InputError):
        depth_preset("huge")
    with pytest.raises(InputError):
        DepthNetConfig(channels=(8, 8))
    with pytest.raises(InputError):
        DepthNetConfig(min_depth=2.0, max_depth=1.0)


@pytest.mark.parametrize("name", ["paper", "small-gn"])
def test_config_round_trip(name):
    cfg = DEPTH_PRESETS[name]
    assert DepthNetConfig.from_dict(cfg.to_dict()) == cfg


def test_config_of_older_files_has_no_normalisation():
    old = {k: v for k, v in DEPTH_PRESETS["small"].to_dict().items() if k != "norm"}
    assert DepthNetConfig.from_dict(old).norm == "none"
    with pytest.raises(InputError):
        DepthNetConfig(norm="batch")


def test_without_normalisation_the_layout_of_older_files_is_kept():
    keys = set(DepthNet(depth_preset("small")).state_dict())
    assert "encoder.stages.0.0.0.weight" in keys and "encoder.stages.0.0.1.weight" not in keys


@pytest.mark.parametrize("channels, groups", [(8, 2), (16, 4), (24, 6), (48, 8), (128, 8), (3, 1)])
def test_group_count(channels, groups):
    assert group_count(channels) == groups


def test_group_normalisation_keeps_the_signal_of_a_fresh_network():
    # The round-3 diagnosis (docs/depth/builtin.md): without normalisation the deepest encoder feature of a fresh
    # network is many times weaker than the first; with it, every convolution's output has unit scale.
    torch.manual_seed(0)
    images = torch.rand(2, 3, 64, 64)
    for norm, lowest in (("none", 0.0), ("group", 0.5)):
        net = DepthNet(DepthNetConfig(channels=(16, 32, 48, 64, 96, 128), norm=norm))
        with torch.no_grad():
            feats = net.encoder((images - net.mean) / net.std)
        ratio = float(feats[-1].std() / feats[0].std())
        assert (ratio < 0.2) if norm == "none" else (ratio > lowest)


def test_group_normalised_output_does_not_depend_on_the_batch():
    torch.manual_seed(0)
    net = DepthNet(DepthNetConfig(channels=(8, 12, 16, 24, 32), norm="group")).eval()
    images = torch.rand(3, 3, 32, 64)
    alone = net.predict(images[:1])
    assert torch.allclose(net.predict(images)[:1], alone, atol=1e-5)


@pytest.mark.parametrize(
    "name, params", [("tiny", 52_888), ("small", 821_812), ("small-gn", 824_116), ("paper", 22_158_692)]
)
def test_documented_sizes(name, params):
    assert count_parameters(DepthNet(depth_preset(name))) == params


def test_count_macs_of_one_convolution():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    assert count_macs(conv, torch.rand(1, 3, 5, 6)) == 4 * 5 * 6 * 27
