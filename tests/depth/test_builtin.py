"""The built-in depth source: model files round-trip, estimate() contract, refusals, the shipped weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from viewshift.depth.base import DepthMap, DepthSource
from viewshift.depth.builtin import (
    BUILTIN_WEIGHTS,
    BuiltinDepth,
    load_builtin,
    load_depth_network,
    save_depth_model,
)
from viewshift.depth.network import DepthNet, depth_preset
from viewshift.errors import DepthError, ModelError


@pytest.fixture
def tiny_model(tmp_path):
    torch.manual_seed(0)
    net = DepthNet(depth_preset("tiny"))
    return save_depth_model(tmp_path / "m.pt", net, (32, 48), {"note": "test"}), net


def test_model_file_round_trip(tiny_model):
    path, net = tiny_model
    loaded, size, meta = load_depth_network(path)
    assert size == (32, 48) and meta == {"note": "test"}
    x = torch.rand(1, 3, 32, 48)
    assert torch.equal(loaded(x)[0], net.eval()(x)[0])


def test_estimate_returns_relative_depth_of_the_image_size(tiny_model):
    source = BuiltinDepth(tiny_model[0])
    assert isinstance(source, DepthSource)
    rgb = (np.random.default_rng(0).random((37, 53, 3)) * 255).astype(np.uint8)
    out = source.estimate(rgb)
    assert isinstance(out, DepthMap) and out.unit == "relative"
    assert out.depth.shape == (37, 53) and out.depth.dtype == np.float32
    assert np.isfinite(out.depth).all() and (out.depth > 0).all()


def test_refusals(tmp_path, tiny_model):
    with pytest.raises(ModelError):
        load_builtin(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"format": "something-else"}, bad)
    with pytest.raises(ModelError):
        BuiltinDepth(bad)
    with pytest.raises(DepthError):
        BuiltinDepth(tiny_model[0]).estimate(np.zeros((8, 8), np.uint8))


def test_load_builtin_caches_by_path(tiny_model):
    assert load_builtin(tiny_model[0]) is load_builtin(tiny_model[0])


def test_shipped_weights_load_and_are_small():
    if not BUILTIN_WEIGHTS.exists():
        pytest.skip("built-in weights not trained yet")
    assert BUILTIN_WEIGHTS.stat().st_size <= 10 * 1024 * 1024
    info = json.loads(BUILTIN_WEIGHTS.with_suffix(".json").read_text())
    assert {"training_command", "held_out", "licence"} <= set(info)
    source = load_builtin()
    d = source.estimate(np.full((60, 80, 3), 128, np.uint8)).depth
    assert d.shape == (60, 80) and np.isfinite(d).all()


def test_shipped_weights_export_to_onnx_with_the_same_output(tmp_path):
    if not BUILTIN_WEIGHTS.exists():
        pytest.skip("built-in weights not trained yet")
    from viewshift.learn.export import compare_onnx, export_onnx

    onnx_path = export_onnx(BUILTIN_WEIGHTS, tmp_path / "builtin.onnx")
    assert compare_onnx(BUILTIN_WEIGHTS, onnx_path) < 1e-4
