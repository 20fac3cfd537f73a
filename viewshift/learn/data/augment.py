"""Augmentations that move images and intrinsics together, and the sample schema's defaults.

:func:`scale_crop` (resize by a random factor, crop at a random place, ``K`` rescaled and shifted),
:func:`flip_sample` (mirror left-right; ``K``'s principal point and the known poses are mirrored too),
:func:`colour_jitter`, and :func:`finish_sample`, which fills the optional keys of the schema.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------- augmentation


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``H×W×3 uint8`` (or float in [0, 1]) to ``(3, H, W)`` float32 in [0, 1]."""
    a = torch.from_numpy(np.array(rgb, copy=True))
    if a.dtype == torch.uint8:
        a = a.float() / 255.0
    return a.permute(2, 0, 1).float().contiguous()


def scale_crop(
    images: list[torch.Tensor],
    K: torch.Tensor,
    size: tuple[int, int],
    rng: np.random.Generator | None,
    scale_range: tuple[float, float] = (1.0, 1.0),
    extra: list[torch.Tensor] | None = None,
) -> tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
    """Resize all images by one factor, then crop the same ``size`` window from each; move ``K`` with them.

    The smallest factor that still covers ``size`` is multiplied by a random factor in ``scale_range`` (with
    ``rng`` None: factor 1 and a centred crop). ``extra`` maps (depth, masks) are resized with nearest
    neighbour so unknown values do not bleed.

    Args:
        images: ``(C, H, W)`` tensors of one size.
        K: ``(3, 3)`` intrinsics of that size (one K, or ``(M, 3, 3)`` for several cameras).
        size: output ``(h, w)``.

    Returns:
        The cropped images, the new ``K`` (same shape as given) and the cropped extras.
    """
    from viewshift.geometry import crop_intrinsics, scale_intrinsics

    h0, w0 = images[0].shape[-2:]
    h, w = size
    base = max(h / h0, w / w0)
    factor = base * (rng.uniform(*scale_range) if rng is not None else 1.0)
    hs, ws = max(h, math.ceil(h0 * factor)), max(w, math.ceil(w0 * factor))
    if rng is not None:
        y0, x0 = int(rng.integers(0, hs - h + 1)), int(rng.integers(0, ws - w + 1))
    else:
        y0, x0 = (hs - h) // 2, (ws - w) // 2

    def resize(x: torch.Tensor, mode: str) -> torch.Tensor:
        if (hs, ws) == (h0, w0):
            return x
        kw = {"antialias": True, "align_corners": False} if mode == "bilinear" else {}
        return torch.nn.functional.interpolate(x[None], size=(hs, ws), mode=mode, **kw)[0]

    out = [resize(im, "bilinear")[:, y0 : y0 + h, x0 : x0 + w] for im in images]
    ex = [resize(e, "nearest")[:, y0 : y0 + h, x0 : x0 + w] for e in (extra or [])]
    Kb = K.reshape(-1, 3, 3).double()
    Kb = crop_intrinsics(scale_intrinsics(Kb, ws / w0, hs / h0), x0, y0)
    return [o.clamp(0, 1) for o in out], Kb.reshape(K.shape).to(K.dtype), ex


MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=torch.float64))


def flip_sample(sample: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mirror a sample left-right: images, depth, ``K`` (principal point) and known poses (``M T M``).

    Mirroring the images is the view of the mirrored world ``x -> -x``, so a pose ``T`` becomes ``M T M`` with
    ``M = diag(-1, 1, 1, 1)``.
    """
    from viewshift.geometry import flip_intrinsics

    out = dict(sample)
    w = sample["target"].shape[-1]
    for key in ("target", "sources", "depth", "depth_valid", "true_depth"):
        if key in out:
            out[key] = out[key].flip(-1)
    out["K"] = flip_intrinsics(sample["K"].reshape(1, 3, 3), w).reshape(3, 3)
    if "src_T_tgt" in out:
        m = MIRROR.to(out["src_T_tgt"].dtype)
        out["src_T_tgt"] = m @ out["src_T_tgt"] @ m
    return out


def colour_jitter(images: torch.Tensor, rng: np.random.Generator, strength: float = 0.2) -> torch.Tensor:
    """Same random brightness, contrast, saturation and channel gains for all ``(..., 3, H, W)`` images."""
    b = 1 + rng.uniform(-strength, strength)
    c = 1 + rng.uniform(-strength, strength)
    s = 1 + rng.uniform(-strength, strength)
    gains = torch.tensor(1 + rng.uniform(-strength / 2, strength / 2, 3), dtype=images.dtype).reshape(3, 1, 1)
    x = images * b
    mean = x.mean(dim=(-3, -2, -1), keepdim=True)
    x = (x - mean) * c + mean
    grey = x.mean(dim=-3, keepdim=True)
    x = (x - grey) * s + grey
    return (x * gains).clamp(0, 1)


def finish_sample(sample: dict, rng: np.random.Generator | None, flip: bool, jitter: float) -> dict:
    """Fill the optional keys of the sample schema, then flip and colour-jitter at random."""
    n, _, h, w = sample["sources"].shape
    sample.setdefault("src_T_tgt", torch.eye(4, dtype=torch.float64).repeat(n, 1, 1))
    sample.setdefault("has_pose", torch.tensor(False))
    sample.setdefault("depth", torch.zeros(1, h, w))
    sample.setdefault("depth_valid", torch.zeros(1, h, w, dtype=torch.bool))
    sample.setdefault("has_depth", torch.tensor(False))
    sample.setdefault("has_metric_depth", torch.tensor(False))
    if rng is not None and flip and rng.random() < 0.5:
        sample = flip_sample(sample)
    if rng is not None and jitter > 0:
        both = colour_jitter(torch.cat([sample["target"][None], sample["sources"]]), rng, jitter)
        sample["target"], sample["sources"] = both[0], both[1:]
    sample["src_T_tgt"] = sample["src_T_tgt"].float()
    sample["K"] = sample["K"].float()
    return sample
