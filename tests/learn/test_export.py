"""ONNX export of a depth model gives the same output under onnxruntime, and a checkpoint becomes a model."""

from __future__ import annotations

import torch

from viewshift.depth.builtin import load_depth_network, save_depth_model
from viewshift.depth.network import DepthNet, depth_preset
from viewshift.learn.export import compare_onnx, export_onnx


def test_onnx_matches_torch(tmp_path):
    torch.manual_seed(0)
    model = save_depth_model(tmp_path / "m.pt", DepthNet(depth_preset("tiny")), (32, 64))
    onnx_path = export_onnx(model, tmp_path / "m.onnx")
    assert compare_onnx(model, onnx_path) < 1e-4


def test_onnx_runs_through_the_onnx_depth_source(tmp_path):
    import numpy as np

    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.depth.onnx import OnnxDepth

    torch.manual_seed(0)
    model = save_depth_model(tmp_path / "m.pt", DepthNet(depth_preset("tiny")), (32, 64))
    onnx_path = export_onnx(model, tmp_path / "m.onnx")
    rgb = (np.random.default_rng(1).random((32, 64, 3)) * 255).astype(np.uint8)
    ours = BuiltinDepth(model).estimate(rgb).depth
    theirs = OnnxDepth(onnx_path, input_size=(32, 64), mean=(0, 0, 0), std=(1, 1, 1), output="depth").estimate(rgb)
    rel = np.abs(theirs.depth - ours) / ours
    assert np.median(rel) < 1e-3
    assert load_depth_network(model)[1] == (32, 64)
