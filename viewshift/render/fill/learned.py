"""The ``"learned"`` hole filler: a small U-Net that decides how much to smooth the ``"background"`` fill.

The network (:class:`UNet`) sees the image pre-filled by :func:`~viewshift.render.fill.background.fill_background`
(the best classical fill on measured right views), the hole mask, the filled depth (``log(depth / median)``, which
tells the background side) and the parallax hint, average-pooled by 2. It predicts, per pixel, weights of five
blurred copies of the pre-fill (block means of 4 to 64 pixels); the output mixes the pre-fill with them
(:func:`_mix_blurred`). The weights are shared by the colour channels, so the filler can only choose how much to
smooth each hole pixel at each scale, never invent colours: a free colour correction learned scene-specific
colours that did not carry over to new scenes (docs/learned.md). Its last layer starts at zero, so an untrained
network *is* the background fill (a test checks this bit for bit). Pixels outside the holes are returned
unchanged, bit for bit; depth is filled by the background rule.

Speed: the network runs on the tiles of :data:`TILE` pixels (plus a :data:`MARGIN` of context) that contain holes,
batched, or once on the whole image when those tiles would cover more pixels than it has; on the caller's threads
(``fill_holes`` uses one). Measured on the held-out Middlebury right views: see docs/learned.md (about 0.1
CPU-seconds per megapixel for the network, on top of the background pre-fill).

Weights ship in ``viewshift/render/fill/weights/fill_learned.pt`` (float16) with ``fill_learned.json`` beside them
(the training command, data split and step count). They are trained by ``viewshift train --preset fill-learned``
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
"""Context around each tile, in pixels (the network sees ``TILE + 2 * MARGIN`` squares). With ``TILE`` and
``MARGIN`` multiples of the network's padding multiple (32 for the shipped one), a tile's pooling and stride grid
is the whole image's, so tiles differ from the whole-image pass only through what lies beyond the margin."""
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
        in_stride: the network sees the input average-pooled by this factor (its output, upsampled bilinearly,
            is still added to the full-resolution input): ``in_stride ** 2`` times less work. Needs
            ``full_head=False``. The learned filler uses 2: its correction of the background fill is smooth.
        mix: 0: the output is ``base + delta`` (a free correction of the colours). ``K > 0``: the network predicts
            ``K`` per-pixel weights instead (at 1/``2 in_stride`` resolution) and the output mixes ``base`` with
            ``K`` blurred copies of itself (block means of ``2 in_stride``, twice that, ... pixels, see
            :func:`_mix_blurred`): it can only choose how much to smooth each pixel at each scale. Needs
            ``full_head=False``. The learned filler uses 5 (blocks of 4 to 64 pixels).

    Shapes:
        ``(B, C_in, H, W) -> (B, C_out, H, W)`` for any ``H, W`` (padded internally to a multiple of
        ``2 ** (levels + 1) * in_stride``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        width: int = 16,
        levels: int = 2,
        residual: bool = True,
        full_head: bool = True,
        in_stride: int = 1,
        mix: int = 0,
    ) -> None:
        super().__init__()
        if in_stride < 1 or (full_head and in_stride != 1):
            raise InputError(f"UNet in_stride must be >= 1 (and 1 with full_head), got {in_stride}")
        if mix < 0 or (mix and (not residual or full_head)):
            raise InputError(f"UNet mix must be >= 0 (and needs residual=True, full_head=False), got {mix}")
        self.settings = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "width": width,
            "levels": levels,
            "residual": residual,
            "full_head": full_head,
            "in_stride": in_stride,
            "mix": mix,
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
        self.out = nn.Conv2d(chans[0], mix or out_channels, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.residual = residual
        self.in_stride = in_stride
        self.mix = mix
        self.multiple = 2 * in_stride * max(2**levels, 2 ** (mix - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        xs = F.avg_pool2d(xp, self.in_stride) if self.in_stride > 1 else xp
        skips = [self.stem(xs)]
        for stage in self.down:
            skips.append(stage(skips[-1]))
        y = self.middle(skips[-1])
        for stage, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = stage(torch.cat([y, skip], 1))
        if self.full_head:  # (in_stride is 1 here)
            y = F.interpolate(y, size=xp.shape[-2:], mode="bilinear", align_corners=False)
            y = self.out(self.head(torch.cat([y, xp], 1)))
        elif self.mix:
            base = xp[:, : self.settings["out_channels"]]
            return _mix_blurred(base, F.avg_pool2d(base, 2 * self.in_stride), self.out(y))[..., :h, :w]
        else:
            y = F.interpolate(self.out(y), size=xp.shape[-2:], mode="bilinear", align_corners=False)
        y = y[..., :h, :w]
        if self.residual:
            y = y + x[:, : y.shape[1]]
        return y


def _mix_blurred(base: torch.Tensor, coarse: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mix ``base`` with blurred copies of itself: ``base · (1 - up(Σ_k w_k)) + up(Σ_k w_k · blur_k)``.

    Everything but the last line is computed at the coarse resolution (cheap): ``blur_0`` is ``coarse`` (block
    means of ``base``), ``blur_k`` the means of ``2^k × 2^k`` blocks of ``coarse`` upsampled bilinearly back to it;
    ``up`` upsamples bilinearly to ``base``'s size. With all weights zero the result is ``base``, exactly; with
    weights summing to 1 at a pixel it is a blend of blurred copies there. The weights are shared by the colour
    channels, so the mix can only choose how much to smooth each pixel at each scale, never invent colours.

    Args:
        base: ``(B, C, H, W)``.
        coarse: ``(B, C, h, w)``: ``base`` average-pooled (``h`` and ``w`` multiples of ``2 ** (K - 1)``).
        weights: ``(B, K, h, w)`` per-pixel weights (any sign).

    Returns:
        ``(B, C, H, W)``.
    """
    mixed = weights[:, :1] * coarse
    pooled = coarse
    for k in range(1, weights.shape[1]):
        pooled = F.avg_pool2d(pooled, 2)
        blurred = F.interpolate(pooled, size=coarse.shape[-2:], mode="bilinear", align_corners=False)
        mixed = mixed + weights[:, k : k + 1] * blurred
    up = F.interpolate(
        torch.cat([mixed, weights.sum(1, keepdim=True)], 1), size=base.shape[-2:], mode="bilinear", align_corners=False
    )
    return base * (1 - up[:, -1:]) + up[:, :-1]


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
    with torch.inference_mode():  # on the caller's threads (fill_holes: one, see kernels.torch_threads)
        pred = torch.stack([_predict(net, x[i : i + 1], holes[i : i + 1]) for i in range(image.shape[0])])
        rgb = torch.where(holes, pred.to(image.dtype), base[:, :3])
    # Channels after the third (alpha) keep the background fill.
    return (torch.cat([rgb, base[:, 3:]], 1) if image.shape[1] > 3 else rgb), base_depth


def _predict(net: UNet, x: torch.Tensor, holes: torch.Tensor, tiles: bool | None = None) -> torch.Tensor:
    """The network's ``(3, H, W)`` colours for one image ``x (1, 7, H, W)``, valid at least at its ``holes``.

    Runs on the :data:`TILE`-pixel tiles that hold holes (each with a :data:`MARGIN` of context, the image's
    borders replicated), or on the whole image when those tiles would cover more pixels than it has; ``tiles``
    forces one way (tests). Pixels of tiles without holes are left at zero.
    """
    _, _, h, w = x.shape
    cells = F.max_pool2d(holes.float(), TILE, TILE, ceil_mode=True)[0, 0] > 0
    side = TILE + 2 * MARGIN
    if not (tiles if tiles is not None else int(cells.sum()) * side * side < h * w):
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
