"""The DispNet-style single-image depth network (inference code; training lives in ``viewshift.learn``).

Architecture (Zhou et al., CVPR 2017, after Mayer et al.'s DispNet): an encoder of stride-2 stages, each two
convolutions; a decoder that upsamples, concatenates the encoder feature of the same resolution (skip
connection) and, at the four finest scales, also the upsampled disparity of the coarser scale; a 3×3
convolution with a sigmoid predicts disparity at each of those four scales. The sigmoid is mapped to a bounded
depth range::

    disp  = 1 / max_depth + (1 / min_depth - 1 / max_depth) * sigmoid(x)
    depth = 1 / disp                     in [min_depth, max_depth]

The depth unit is *relative*: a monocular network learns depth up to an unknown scale.

Presets (FLOPs counted as multiply-adds of convolutions for one 3×192×256 input; see :func:`count_macs`):

* ``"tiny"`` — channels (8, 12, 16, 24, 32): 0.053 M parameters, 0.12 G MACs (tests and smoke runs).
* ``"small"`` — channels (16, 32, 48, 64, 96, 128): 0.82 M parameters, 0.43 G MACs; the round-1/2 built-in model.
* ``"small-gn"`` — ``small`` with a group normalisation after every convolution of encoder and decoder
  (``norm="group"``; +0.2 % parameters). Without it the signal of a freshly initialised network shrinks about 38×
  through the encoder and a trained one drifts to activations of ±100 with a dead coarse head; with it one
  batch is fitted about twice as fast (experiments/depth/builtin_round3).
* ``"paper"`` — channels (32, 64, 128, 256, 512, 512, 512) with 7/5/3 kernels as in SfMLearner: 22.2 M
  parameters, 5.3 G MACs at 192×256 (SfMLearner's encoder size; too slow to train on two CPU cores).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from viewshift.errors import InputError, ShapeError

NUM_SCALES = 4
NORMS = ("none", "group")


@dataclass(frozen=True)
class DepthNetConfig:
    """Shape of a :class:`DepthNet`.

    Attributes:
        channels: output channels of each encoder stage (each stage halves the resolution); at least 4 stages.
        kernels: kernel size of each encoder stage (default 3 everywhere).
        min_depth: smallest depth the sigmoid can express (relative unit).
        max_depth: largest depth the sigmoid can express.
        norm: ``"none"`` (convolution + ELU, the layout of older model files) or ``"group"`` (convolution +
            group normalisation + ELU; independent of the batch size, so training and inference agree).
    """

    channels: tuple[int, ...] = (16, 32, 48, 64, 96, 128)
    kernels: tuple[int, ...] = field(default_factory=tuple)
    min_depth: float = 0.1
    max_depth: float = 100.0
    norm: str = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels) or (3,) * len(self.channels))
        if len(self.channels) < NUM_SCALES:
            raise InputError(f"DepthNetConfig needs at least {NUM_SCALES} encoder stages, got {len(self.channels)}")
        if len(self.kernels) != len(self.channels):
            raise InputError("DepthNetConfig.kernels must have one entry per encoder stage")
        if not 0 < self.min_depth < self.max_depth:
            raise InputError("DepthNetConfig needs 0 < min_depth < max_depth")
        if self.norm not in NORMS:
            raise InputError(f"DepthNetConfig.norm must be one of {NORMS}, got {self.norm!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"], d["kernels"] = list(self.channels), list(self.kernels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DepthNetConfig:
        return cls(
            channels=tuple(d["channels"]),
            kernels=tuple(d.get("kernels", ())),
            min_depth=float(d.get("min_depth", 0.1)),
            max_depth=float(d.get("max_depth", 100.0)),
            norm=str(d.get("norm", "none")),
        )


DEPTH_PRESETS: dict[str, DepthNetConfig] = {
    "tiny": DepthNetConfig(channels=(8, 12, 16, 24, 32)),
    "small": DepthNetConfig(channels=(16, 32, 48, 64, 96, 128)),
    "small-gn": DepthNetConfig(channels=(16, 32, 48, 64, 96, 128), norm="group"),
    "paper": DepthNetConfig(channels=(32, 64, 128, 256, 512, 512, 512), kernels=(7, 5, 3, 3, 3, 3, 3)),
}


def depth_preset(name: str) -> DepthNetConfig:
    """The :class:`DepthNetConfig` of a named preset (``tiny``, ``small``, ``paper``)."""
    if name not in DEPTH_PRESETS:
        raise InputError(f"unknown depth network preset {name!r}; choose one of {sorted(DEPTH_PRESETS)}")
    return DEPTH_PRESETS[name]


def group_count(channels: int) -> int:
    """Groups of the group normalisation of ``channels``: the most, up to 8, with at least 4 channels each."""
    return max(g for g in range(1, 9) if channels % g == 0 and channels // g >= 4) if channels >= 4 else 1


def conv_block(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, norm: str = "none") -> nn.Sequential:
    """Convolution + ELU, with ``norm="group"`` a group normalisation between them."""
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2)
    if norm == "group":
        return nn.Sequential(conv, nn.GroupNorm(group_count(c_out), c_out), nn.ELU(inplace=True))
    return nn.Sequential(conv, nn.ELU(inplace=True))


class Encoder(nn.Module):
    """Stride-2 stages of two convolutions; returns the feature of every stage, finest first."""

    def __init__(self, in_channels: int, channels: tuple[int, ...], kernels: tuple[int, ...], norm: str = "none"):
        super().__init__()
        stages, c_prev = [], in_channels
        for c, k in zip(channels, kernels, strict=True):
            stages.append(nn.Sequential(conv_block(c_prev, c, k, 2, norm), conv_block(c, c, k, 1, norm)))
            c_prev = c
        self.stages = nn.ModuleList(stages)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def upsample_to(x: torch.Tensor, like: torch.Tensor, mode: str = "nearest") -> torch.Tensor:
    """Resize ``x`` ``(B, C, h, w)`` to the spatial size of ``like``."""
    if mode == "nearest":
        return F.interpolate(x, size=like.shape[-2:], mode="nearest")
    return F.interpolate(x, size=like.shape[-2:], mode=mode, align_corners=False)


class DepthNet(nn.Module):
    """DispNet-style encoder-decoder predicting depth at four scales.

    ``forward(image)`` takes ``(B, 3, H, W)`` images in [0, 1] (H and W multiples of ``2**len(channels)`` work
    best; others are padded internally) and returns a list of four ``(B, 1, H_s, W_s)`` depth maps, full
    resolution first, then 1/2, 1/4, 1/8. In eval mode use :meth:`predict` for the full-resolution map only.
    """

    def __init__(self, config: DepthNetConfig = DepthNetConfig()):
        super().__init__()
        self.config = config
        ch, ks = config.channels, config.kernels
        self.encoder = Encoder(3, ch, ks, config.norm)
        n = len(ch)
        # Decoder level i produces a feature at the resolution of encoder stage i-1 (level 0: the input size).
        dec_ch = [max(c // 2, 8) for c in ch]  # decoder width at each level
        self.upconvs = nn.ModuleList()
        self.iconvs = nn.ModuleList()
        self.disp_heads = nn.ModuleList()
        c_prev = ch[-1]
        for i in reversed(range(n)):
            c_out = dec_ch[i]
            self.upconvs.append(conv_block(c_prev, c_out, 3, 1, config.norm))
            skip = ch[i - 1] if i > 0 else 0
            extra = 1 if i < NUM_SCALES - 1 else 0  # upsampled coarser disparity
            self.iconvs.append(conv_block(c_out + skip + extra, c_out, 3, 1, config.norm))
            if i < NUM_SCALES:
                self.disp_heads.append(nn.Conv2d(c_out, 1, 3, padding=1))
            c_prev = c_out
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.45]).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.225, 0.225, 0.225]).reshape(1, 3, 1, 1), persistent=False)

    def sigmoid_to_depth(self, s: torch.Tensor) -> torch.Tensor:
        """Map sigmoid outputs in (0, 1) to depth in [min_depth, max_depth] through bounded disparity."""
        lo, hi = 1.0 / self.config.max_depth, 1.0 / self.config.min_depth
        return 1.0 / (lo + (hi - lo) * s)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        if image.dim() != 4 or image.shape[1] != 3:
            raise ShapeError(f"image must have shape (B,3,H,W), got {tuple(image.shape)}")
        h, w = image.shape[-2:]
        m = 2 ** len(self.config.channels)
        ph, pw = (-h) % m, (-w) % m
        x = (image - self.mean) / self.std
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        feats = self.encoder(x)
        n = len(feats)
        y = feats[-1]
        disp_prev = None
        outs = []
        head = 0
        for j, i in enumerate(reversed(range(n))):
            target = feats[i - 1] if i > 0 else x
            y = self.upconvs[j](upsample_to(y, target))
            parts = [y]
            if i > 0:
                parts.append(feats[i - 1])
            if disp_prev is not None:
                parts.append(upsample_to(disp_prev, target, "bilinear"))
            y = self.iconvs[j](torch.cat(parts, 1))
            if i < NUM_SCALES:
                disp_prev = torch.sigmoid(self.disp_heads[head](y))
                head += 1
                outs.append(disp_prev)
        outs = outs[::-1]  # finest first
        depths = []
        for k, s in enumerate(outs):
            if ph or pw:
                s = s[..., : -(-h // 2**k), : -(-w // 2**k)]
            depths.append(self.sigmoid_to_depth(s))
        return depths

    @torch.no_grad()
    def predict(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` full-resolution depth of ``(B, 3, H, W)`` images, without gradients."""
        return self.forward(image)[0]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def count_macs(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of all ``Conv2d`` layers for one forward pass on ``inputs``."""
    total = 0

    def hook(m: nn.Conv2d, _inp, out: torch.Tensor) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += int(out.numel() // out.shape[0]) * k

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total
