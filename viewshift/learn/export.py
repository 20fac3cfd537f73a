"""Turn training checkpoints into depth model files, and depth model files into ONNX.

* :func:`checkpoint_to_model` — the depth network of a training checkpoint as a model file
  (:func:`viewshift.depth.builtin.save_depth_model`'s format, loadable by ``load_builtin(path)``).
* :func:`export_onnx` — a model file as ONNX: input ``image`` ``1×3×H×W`` float RGB in [0, 1] at the model's
  input size, output ``depth`` ``1×1×H×W`` relative depth. Run it with
  ``OnnxDepth(path, input_size=(H, W), mean=(0, 0, 0), std=(1, 1, 1), output="depth")``.
* :func:`compare_onnx` — the largest relative difference between onnxruntime's and torch's outputs.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from viewshift.depth.builtin import load_depth_network, save_depth_model
from viewshift.depth.network import DepthNet, DepthNetConfig
from viewshift.errors import ModelError
from viewshift.io import atomic_path


def checkpoint_to_model(checkpoint: str | Path, out: str | Path, meta: dict | None = None) -> Path:
    """Write the depth network of a training checkpoint as a model file; the input size is the training size."""
    from viewshift.learn.trainer import TrainConfig, load_checkpoint

    state = load_checkpoint(checkpoint)
    config = TrainConfig.from_dict(json.loads(state["config"]))
    from viewshift.depth.network import depth_preset

    net = DepthNet(depth_preset(config.depth_net))
    prefix = "depth_net."
    net.load_state_dict({k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)})
    info = {"train_config": json.loads(state["config"]), "step": int(state["step"]), **(meta or {})}
    return save_depth_model(out, net, (config.height, config.width), {"json": json.dumps(info)})


class _FullResolution(torch.nn.Module):
    def __init__(self, net: DepthNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)[0]


def export_onnx(model: str | Path, out: str | Path, *, opset: int = 17) -> Path:
    """Export a depth model file to ONNX (fixed input size; see the module docstring). Written atomically."""
    net, (h, w), _ = load_depth_network(model)
    out = Path(out)
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _FullResolution(net).eval(),
            (torch.rand(1, 3, h, w),),
            str(tmp),
            input_names=["image"],
            output_names=["depth"],
            opset_version=opset,
            dynamo=False,
        )
    return out


def compare_onnx(model: str | Path, onnx_path: str | Path, seed: int = 0) -> float:
    """Largest ``|onnx - torch| / torch`` over one random and one smooth input at the model's size."""
    import onnxruntime as ort

    net, (h, w), _ = load_depth_network(model)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, w).expand(1, 3, h, w).contiguous()
    worst = 0.0
    for x in (torch.rand(1, 3, h, w, generator=g), ramp):
        with torch.no_grad():
            ref = net(x)[0].numpy()
        got = sess.run(["depth"], {"image": x.numpy()})[0]
        if got.shape != ref.shape:
            raise ModelError(f"ONNX output shape {got.shape} differs from torch's {ref.shape}")
        worst = max(worst, float(np.max(np.abs(got - ref) / np.abs(ref))))
    return worst


__all__ = ["DepthNetConfig", "checkpoint_to_model", "compare_onnx", "export_onnx"]
