"""Tiny ONNX models the tests export themselves with ``torch.onnx.export`` (nothing is downloaded).

torch 2.13 defaults to the dynamo exporter, which needs ``onnxscript`` (not installed); the TorchScript exporter
(``dynamo=False``) works offline and is used here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn


class ChannelMean(nn.Module):
    """``1×3×H×W -> 1×1×H×W``: ``scale · mean over channels + bias`` (an "inverse depth" equal to brightness)."""

    def __init__(self, scale: float = 1.0, bias: float = 0.0) -> None:
        super().__init__()
        self.scale, self.bias = scale, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1, keepdim=True) * self.scale + self.bias


class FirstChannel(nn.Module):
    """``1×3×H×W -> 1×H×W``: the first (red) input channel, as given to the model."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


class NanOutput(nn.Module):
    """Outputs NaN everywhere (``log`` of a negative number)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x.mean(dim=1, keepdim=True) * 0.0 - 1.0)


def export_onnx(
    module: nn.Module,
    path: Path,
    *,
    input_shape: tuple[int, ...] = (1, 3, 32, 48),
    dynamic_hw: bool = False,
) -> Path:
    """Export ``module`` to ``path`` with the TorchScript exporter.

    Args:
        module: the model; takes one tensor.
        path: the ``.onnx`` file to write.
        input_shape: shape of the example input (``N×3×H×W`` for depth models).
        dynamic_hw: make the input's (and first output's) last two axes dynamic.

    Returns:
        ``path``.
    """
    dynamic_axes = None
    if dynamic_hw:
        out_rank = module(torch.zeros(input_shape)).ndim
        dynamic_axes = {"image": {2: "height", 3: "width"}, "depth": {out_rank - 2: "oh", out_rank - 1: "ow"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (torch.zeros(input_shape),),
            str(path),
            input_names=["image"],
            output_names=["depth"],
            dynamic_axes=dynamic_axes,
            opset_version=17,
            dynamo=False,
        )
    return path
