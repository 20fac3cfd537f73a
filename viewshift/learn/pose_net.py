"""The pose/explainability network of SfMLearner (Zhou et al., CVPR 2017).

Input: the target frame and its ``n`` source frames stacked along channels, ``(B, 3 (1 + n), H, W)``. A shared
encoder of stride-2 convolutions feeds two heads:

* **pose**: a 1×1 convolution to ``6 n`` channels, averaged over all positions, then scaled by ``0.01`` (as in
  the paper's code, so the initial motion is small); per source ``(tx, ty, tz, rx, ry, rz)``, Euler angles in
  radians with ``R = Rx @ Ry @ Rz`` (see :func:`viewshift.geometry.pose_vector_to_matrix`). The vector is the
  pose ``src_T_tgt``: it maps target-frame points into source frame ``s``.
* **explainability**: an up-convolution decoder predicting, at four scales, ``2 n`` logits; a softmax over each
  source's pair of logits gives the probability ``E_s`` (second channel) that a target pixel is explained by the
  rigid-scene model for source ``s``.

Presets (MACs for a 3-frame snippet at 128×416, see :func:`viewshift.depth.network.count_macs`):

* ``"tiny"``: channels (8, 16, 24, 32, 32): 0.045 M parameters, 0.10 G MACs.
* ``"small"``: channels (16, 32, 64, 96, 128, 128, 128): 0.68 M parameters, 0.35 G MACs.
* ``"paper"``: channels (16, 32, 64, 128, 256, 256, 256) with 7/5 first kernels as in SfMLearner:
  2.0 M parameters, 0.53 G MACs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from viewshift.depth.network import NUM_SCALES, conv_block
from viewshift.errors import InputError, ShapeError

POSE_SCALE = 0.01


@dataclass(frozen=True)
class PoseNetConfig:
    """Shape of a :class:`PoseExpNet`.

    Attributes:
        num_sources: source frames per snippet (2 for a 3-frame snippet).
        channels: encoder stage widths (each stage halves the resolution).
        kernels: kernel size per stage (default 3).
        explainability: build the explainability decoder (False gives the pose-only network).
    """

    num_sources: int = 2
    channels: tuple[int, ...] = (16, 32, 64, 96, 128, 128, 128)
    kernels: tuple[int, ...] = field(default_factory=tuple)
    explainability: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels) or (3,) * len(self.channels))
        if self.num_sources < 1:
            raise InputError("PoseNetConfig.num_sources must be at least 1")
        if len(self.channels) < NUM_SCALES + 1 or len(self.kernels) != len(self.channels):
            raise InputError(f"PoseNetConfig needs at least {NUM_SCALES + 1} stages and one kernel per stage")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"], d["kernels"] = list(self.channels), list(self.kernels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PoseNetConfig:
        return cls(**{**d, "channels": tuple(d["channels"]), "kernels": tuple(d.get("kernels", ()))})


POSE_PRESETS: dict[str, dict] = {
    "tiny": dict(channels=(8, 16, 24, 32, 32)),
    "small": dict(channels=(16, 32, 64, 96, 128, 128, 128)),
    "paper": dict(channels=(16, 32, 64, 128, 256, 256, 256), kernels=(7, 5, 3, 3, 3, 3, 3)),
}


def pose_preset(name: str, num_sources: int = 2, explainability: bool = True) -> PoseNetConfig:
    """The :class:`PoseNetConfig` of a named preset for ``num_sources`` source frames."""
    if name not in POSE_PRESETS:
        raise InputError(f"unknown pose network preset {name!r}; choose one of {sorted(POSE_PRESETS)}")
    return PoseNetConfig(num_sources=num_sources, explainability=explainability, **POSE_PRESETS[name])


class PoseExpNet(nn.Module):
    """Pose and explainability network; see the module docstring."""

    def __init__(self, config: PoseNetConfig = PoseNetConfig()):
        super().__init__()
        self.config = config
        n = config.num_sources
        ch, ks = config.channels, config.kernels
        layers, c_prev = [], 3 * (1 + n)
        for c, k in zip(ch, ks, strict=True):
            layers.append(conv_block(c_prev, c, k, stride=2))
            c_prev = c
        self.encoder = nn.ModuleList(layers)
        self.pose_head = nn.Conv2d(ch[-1], 6 * n, 1)
        if config.explainability:
            # Decoder from the 5th stage upwards: up-convolutions to the input resolution, masks at 4 scales.
            start = NUM_SCALES  # index of encoder stage the decoder starts from
            self.exp_start = start
            self.upconvs = nn.ModuleList()
            self.mask_heads = nn.ModuleList()
            c_prev = ch[start]
            for i in reversed(range(start + 1)):
                c_out = max(ch[i - 1] if i > 0 else ch[0] // 2, 8)
                self.upconvs.append(conv_block(c_prev, c_out, 3))
                if i < NUM_SCALES:
                    self.mask_heads.append(nn.Conv2d(c_out, 2 * n, 3, padding=1))
                c_prev = c_out
        self.register_buffer("mean", torch.tensor(0.45), persistent=False)
        self.register_buffer("std", torch.tensor(0.225), persistent=False)

    def forward(self, target: torch.Tensor, sources: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """Pose of each source and explainability masks.

        Args:
            target: ``(B, 3, H, W)`` target frame in [0, 1].
            sources: ``(B, N, 3, H, W)`` source frames in [0, 1].

        Returns:
            ``poses`` ``(B, N, 6)`` vectors of ``src_T_tgt`` and, when the explainability head exists, a list of
            four ``(B, N, 2, H_s, W_s)`` logit maps, full resolution first (``softmax(dim=2)[:, :, 1]`` is
            the mask), else None.
        """
        n = self.config.num_sources
        if target.dim() != 4 or sources.dim() != 5 or sources.shape[1] != n or sources.shape[2] != 3:
            raise ShapeError(
                f"expected target (B,3,H,W) and sources (B,{n},3,H,W), got {tuple(target.shape)} and "
                f"{tuple(sources.shape)}"
            )
        b, _, h, w = target.shape
        x = torch.cat([target, sources.reshape(b, 3 * n, h, w)], 1)
        x = (x - self.mean) / self.std
        feats = []
        y = x
        for layer in self.encoder:
            y = layer(y)
            feats.append(y)
        poses = POSE_SCALE * self.pose_head(feats[-1]).mean(dim=(2, 3)).reshape(b, n, 6)
        if not self.config.explainability:
            return poses, None
        y = feats[self.exp_start]
        masks = []
        for j, i in enumerate(reversed(range(self.exp_start + 1))):
            size = feats[i - 1].shape[-2:] if i > 0 else (h, w)
            y = self.upconvs[j](F.interpolate(y, size=size, mode="nearest"))
            if i < NUM_SCALES:
                logits = self.mask_heads[len(masks)](y)
                masks.append(logits.reshape(b, n, 2, *logits.shape[-2:]))
        return poses, masks[::-1]


def explainability_probability(logits: torch.Tensor) -> torch.Tensor:
    """``(B, N, 1, H, W)`` mask ``E`` from ``(B, N, 2, H, W)`` logits: softmax over the pair, second entry."""
    return torch.softmax(logits, dim=2)[:, :, 1:2]
