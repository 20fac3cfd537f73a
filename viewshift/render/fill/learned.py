"""The ``"learned"`` hole filler: a small U-Net that refines the ``"background"`` fill inside the holes.

The network (:class:`UNet`) sees the image pre-filled by :func:`~viewshift.render.fill.background.fill_background`
(the best classical fill on measured right views), the hole mask, the filled depth (``log(depth / median)``, which
tells the background side) and the parallax hint, and predicts a correction of the colours inside the holes; its
last layer starts at zero, so an untrained network *is* the background fill. Pixels outside the holes are returned
unchanged, bit for bit.

Speed: the network runs on the tiles of :data:`TILE` pixels (plus a :data:`MARGIN` of context) that contain holes,
batched, or once on the whole image when those tiles would cover more pixels than it has; on the caller's threads.
Measured: 0.39 CPU-seconds per megapixel with one thread, of which 0.13 is the background pre-fill (docs/learned.md).
Depth is filled by the background rule. The filler's result on held-out right views ties the background fill
(docs/learned.md): it is offered, not the default.

Weights ship in ``viewshift/render/fill/weights/fill_learned.pt`` with ``fill_learned.json`` beside them (the
training command, data split and step count). They are trained by ``viewshift train --preset fill-learned``
(:mod:`viewshift.learn.image2image`); this module never imports the training code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from viewshift.errors import InputError
from viewshift.render.fill.background import fill_background
from viewshift.render.fill.inputs import Direction, check_fill_inputs

WEIGHTS = Path(__file__).with_name("weights") / "fill_learned.pt"
"""The shipped weights of the learned filler (a state dict and its :class:`UNet` settings)."""
TILE = 96
"""Side of the tiles the image is cut into; only tiles holding holes go through the network."""
MARGIN = 32
"""Context around each tile, in pixels (the network sees ``TILE + 2 * MARGIN`` squares)."""
BATCH = 16
"""Tiles per network call."""
FILL_CHANNELS = 7
"""Input channels of the filler: pre-filled RGB, hole mask, log relative depth, parallax hint (dx, dy)."""


class UNet(nn.Module):
    """A small U-Net: a stride-2 stem, ``levels`` further stride-2 stages, dilated bottleneck, bilinear decoder.

    Most work happens at 1/2 resolution and below; the only full-resolution layers are the last two, which see
    the decoder's features beside the input. The output is ``base + delta`` where ``base`` is the first
    ``out_channels`` input channels (``residual=True``) and ``delta`` starts at zero.

    Args:
        in_channels: input channels ``C_in``.
        out_channels: output channels ``C_out`` (<= ``C_in`` when ``residual``).
        width: channels of the first stage (doubled per stage, capped at ``4 * width``).
        levels: stride-2 stages after the stem.
        residual: add the first ``out_channels`` input channels to the output.
        full_head: end with two full-resolution layers that also see the input (sharper); otherwise the output
            is predicted at 1/2 resolution and upsampled bilinearly (about 3x faster; the learned filler's choice).

    Shapes:
        ``(B, C_in, H, W) -> (B, C_out, H, W)`` for any ``H, W`` (padded internally to a multiple of
        ``2 ** (levels + 1)``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        width: int = 16,
        levels: int = 2,
        residual: bool = True,
        full_head: bool = True,
    ) -> None:
        super().__init__()
        self.settings = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "width": width,
            "levels": levels,
            "residual": residual,
            "full_head": full_head,
        }
        act = nn.LeakyReLU(0.2, inplace=True)
        chans = [min(width * 2**i, 4 * width) for i in range(levels + 1)]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, chans[0], 4, 2, 1), act, nn.Conv2d(chans[0], chans[0], 3, 1, 1), act
        )
        self.down = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1), act, nn.Conv2d(chans[i + 1], chans[i + 1], 3, 1, 1), act
            )
            for i in range(levels)
        )
        c = chans[-1]
        self.middle = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 2, dilation=2), act, nn.Conv2d(c, c, 3, 1, 4, dilation=4), act
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(chans[i + 1] + chans[i], chans[i], 3, 1, 1), act) for i in reversed(range(levels))
        )
        self.head = (
            nn.Sequential(nn.Conv2d(chans[0] + in_channels, chans[0], 3, 1, 1), act) if full_head else nn.Identity()
        )
        self.full_head = full_head
        self.out = nn.Conv2d(chans[0], out_channels, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.residual = residual
        self.multiple = 2 ** (levels + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        skips = [self.stem(xp)]
        for stage in self.down:
            skips.append(stage(skips[-1]))
        y = self.middle(skips[-1])
        for stage, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = stage(torch.cat([y, skip], 1))
        if self.full_head:
            y = F.interpolate(y, size=xp.shape[-2:], mode="bilinear", align_corners=False)
            y = self.out(self.head(torch.cat([y, xp], 1)))
        else:
            y = F.interpolate(self.out(y), size=xp.shape[-2:], mode="bilinear", align_corners=False)
        y = y[..., :h, :w]
        if self.residual:
            y = y + x[:, : y.shape[1]]
        return y


def fill_inputs(
    prefilled: torch.Tensor, depth: torch.Tensor, holes: torch.Tensor, direction: Direction | None
) -> torch.Tensor:
    """The filler network's input: ``(B, 7, H, W)`` = pre-filled RGB, holes, log relative depth, hint (dx, dy).

    Args:
        prefilled: ``(B, 3, H, W)`` image with holes filled by the background rule.
        depth: ``(B, 1, H, W)`` depth filled the same way (finite, > 0 everywhere).
        holes: ``(B, 1, H, W)`` bool hole mask.
        direction: parallax hint as in :func:`fill_background`, or None (zeros).

    The depth channel is ``clamp(log(depth / median), -3, 3)`` with the median over each image's non-hole pixels.
    """
    b, _, h, w = prefilled.shape
    flat = depth.reshape(b, -1)
    known = (~holes).reshape(b, -1)
    med = torch.stack(
        [flat[i][known[i]].median() if bool(known[i].any()) else flat[i].median() for i in range(b)]
    ).reshape(b, 1, 1, 1)
    logd = torch.log(depth / med).clamp(-3, 3)
    hint = torch.zeros(b, 2, dtype=prefilled.dtype, device=prefilled.device)
    if direction is not None:
        d = torch.as_tensor(direction, dtype=prefilled.dtype, device=prefilled.device).reshape(-1, 2).expand(b, 2)
        hint = d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
    hint = hint[:, :, None, None].expand(b, 2, h, w)
    return torch.cat([prefilled, holes.to(prefilled.dtype), logd.to(prefilled.dtype), hint], 1)


@lru_cache(maxsize=4)
def load_filler(path: str | None = None) -> UNet:
    """The filler network with weights from ``path`` (default: the shipped :data:`WEIGHTS`), in eval mode.

    Raises:
        InputError: the weights file is missing or does not hold a filler network.
    """
    p = Path(path) if path is not None else WEIGHTS
    if not p.exists():
        raise InputError(f"learned filler weights not found at {p}; reinstall viewshift or choose another --fill")
    state = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or "settings" not in state or "state_dict" not in state:
        raise InputError(f"{p} is not a learned filler weights file (expected 'settings' and 'state_dict')")
    net = UNet(**state["settings"])
    net.load_state_dict(state["state_dict"])
    net.eval()
    for param in net.parameters():
        param.requires_grad_(False)
    return net


def fill_learned(
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    *,
    direction: Direction | None = None,
    depth_tolerance: float = 0.05,
    weights: str | Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill holes with the learned filler (background fill refined by :class:`UNet` inside the holes).

    Args:
        image: ``(B, C, H, W)`` float colours in [0, 1], ``C >= 3`` (RGB, then e.g. alpha, which gets the
            background fill); undefined at holes.
        depth: ``(B, 1, H, W)`` depth (larger = farther), finite and > 0 at non-holes.
        holes: ``(B, 1, H, W)`` bool, True where no source pixel landed.
        direction: optional parallax hint ``(dx, dy)`` (see :mod:`viewshift.render.fill`).
        depth_tolerance: passed to the background pre-fill.
        weights: a weights file (default: the shipped ones).

    Returns:
        ``(image, depth)``, equal to the inputs at non-holes (exactly); depth filled by the background rule.

    Raises:
        InputError: fewer than three colour channels, or bad weights (plus the checks of :func:`fill_background`).
    """
    check_fill_inputs(image, depth, holes)
    if image.shape[1] < 3:
        raise InputError(f"the learned filler needs 3 colour channels, got {image.shape[1]}; use --fill background")
    base, base_depth = fill_background(image, depth, holes, direction=direction, depth_tolerance=depth_tolerance)
    if not bool(holes.any()):
        return base, base_depth
    net = load_filler(None if weights is None else str(weights))
    x = fill_inputs(base[:, :3].float(), base_depth.float(), holes, direction)
    out = base.clone()  # channels after the third (alpha) keep the background fill
    with torch.inference_mode():  # on the caller's threads (fill_holes: one, see kernels.torch_threads)
        for i in range(image.shape[0]):
            pred = _predict(net, x[i : i + 1], holes[i : i + 1]).to(image.dtype)
            rgb = out[i, :3]
            mask = holes[i].expand_as(rgb)
            rgb[mask] = pred[mask]
    return out, base_depth


def _predict(net: UNet, x: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """The network's ``(3, H, W)`` colours for one image ``x (1, 7, H, W)``, valid at least at its ``holes``.

    Runs on the :data:`TILE`-pixel tiles that hold holes (each with a :data:`MARGIN` of context), or on the whole
    image when those tiles would cover more pixels than it has.
    """
    _, _, h, w = x.shape
    cells = F.max_pool2d(holes.float(), TILE, TILE, ceil_mode=True)[0, 0] > 0
    side = TILE + 2 * MARGIN
    if int(cells.sum()) * side * side >= h * w:
        return net(x)[0].clamp(0, 1)
    padded = F.pad(x, (MARGIN, MARGIN + (-w % TILE), MARGIN, MARGIN + (-h % TILE)), mode="replicate")[0]
    out = torch.zeros(3, h, w, dtype=x.dtype)
    places = [(ty * TILE, tx * TILE) for ty, tx in cells.nonzero().tolist()]
    for start in range(0, len(places), BATCH):
        chunk = places[start : start + BATCH]
        preds = net(torch.stack([padded[:, y0 : y0 + side, x0 : x0 + side] for y0, x0 in chunk])).clamp(0, 1)
        for pred, (y0, x0) in zip(preds, chunk, strict=True):
            y1, x1 = min(y0 + TILE, h), min(x0 + TILE, w)
            out[:, y0:y1, x0:x1] = pred[:, MARGIN : MARGIN + y1 - y0, MARGIN : MARGIN + x1 - x0]
    return out
