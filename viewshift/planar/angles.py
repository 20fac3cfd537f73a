"""Angles on the circle: wrapping, (cos, sin) and bin encodings, losses and error metrics.

Conventions used by every function here: angles are in **degrees**, counter-clockwise as displayed (the
convention of Pillow's ``Image.rotate``), and wrapped into ``[-180, 180)``. The signed difference of two angles
is ``wrap(a - b)``, so the error between 179° and -179° is 2°, not 358°.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from viewshift.errors import InputError


def wrap_degrees(angles: torch.Tensor) -> torch.Tensor:
    """Wrap angles into ``[-180, 180)``.

    Args:
        angles: ``(*)`` angles in degrees, any range.

    Returns:
        ``(*)`` the same angles in ``[-180, 180)``.

    >>> wrap_degrees(torch.tensor([180.0, -181.0, 540.0, 10.0])).tolist()
    [-180.0, 179.0, -180.0, 10.0]
    """
    return torch.remainder(angles + 180.0, 360.0) - 180.0


def angle_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Signed circular difference ``wrap(a - b)`` in degrees, in ``[-180, 180)``.

    Args:
        a: ``(*)`` angles in degrees.
        b: ``(*)`` angles in degrees, broadcastable to ``a``.

    Returns:
        ``(*)`` signed differences in degrees.

    >>> angle_difference(torch.tensor([179.0]), torch.tensor([-179.0])).tolist()
    [-2.0]
    """
    return wrap_degrees(a - b)


def angle_to_vector(angles: torch.Tensor) -> torch.Tensor:
    """Encode angles as unit vectors ``(cos θ, sin θ)``.

    Args:
        angles: ``(*)`` angles in degrees.

    Returns:
        ``(*, 2)`` unit vectors.
    """
    rad = torch.deg2rad(angles)
    return torch.stack([torch.cos(rad), torch.sin(rad)], dim=-1)


def vector_to_angle(vectors: torch.Tensor) -> torch.Tensor:
    """Decode ``(cos, sin)`` vectors (any length) to angles in degrees, ``atan2(sin, cos)``, in ``[-180, 180)``.

    Args:
        vectors: ``(*, 2)`` vectors; only their direction matters.

    Returns:
        ``(*)`` angles in degrees.
    """
    if vectors.shape[-1] != 2:
        raise InputError(f"expected (..., 2) vectors, got shape {tuple(vectors.shape)}")
    return wrap_degrees(torch.rad2deg(torch.atan2(vectors[..., 1], vectors[..., 0])))


def cosine_proximity_loss(pred: torch.Tensor, target_angles: torch.Tensor) -> torch.Tensor:
    """The naive recipe's loss: negative cosine similarity between the prediction and ``(cos θ, sin θ)``.

    ``L = -mean(pred · t / (|pred| |t|))`` (Keras' ``cosine_proximity``). With a ``tanh`` output layer this is
    the loss that collapses; the loss itself is fine on an unconstrained output.

    Args:
        pred: ``(B, 2)`` predicted vectors.
        target_angles: ``(B,)`` target angles in degrees.

    Returns:
        ``()`` scalar loss in ``[-1, 1]``.
    """
    target = angle_to_vector(target_angles)
    pred_unit = pred / pred.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return -(pred_unit * target).sum(dim=-1).mean()


def angular_loss(pred: torch.Tensor, target_angles: torch.Tensor) -> torch.Tensor:
    """Loss that respects the circle: ``L = mean(1 - cos(θ̂ - θ))`` with ``θ̂ = atan2(pred)``.

    Equivalently ``1 - û · t`` for the unit-normalised prediction ``û``; it is 0 for a perfect angle, 2 for
    the opposite one, and ``≈ Δ²/2`` (Δ in radians) near the optimum.

    Args:
        pred: ``(B, 2)`` unconstrained predicted vectors (normalised here).
        target_angles: ``(B,)`` target angles in degrees.

    Returns:
        ``()`` scalar loss in ``[0, 2]``.

    >>> float(angular_loss(torch.tensor([[0.0, 3.0]]), torch.tensor([90.0])))
    0.0
    """
    target = angle_to_vector(target_angles)
    pred_unit = pred / pred.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return (1.0 - (pred_unit * target).sum(dim=-1)).mean()


def von_mises_nll(pred: torch.Tensor, target_angles: torch.Tensor) -> torch.Tensor:
    """Von Mises negative log-likelihood with the concentration read from the prediction's length.

    ``pred = κ (cos μ, sin μ)``; ``L = mean(-κ cos(θ - μ) + log(2π I0(κ)))``. The network learns to be
    confident (long vector) where the angle is clear and unsure where it is not (a 180°-symmetric "0").

    Args:
        pred: ``(B, 2)`` predicted vectors ``κ (cos μ, sin μ)``.
        target_angles: ``(B,)`` target angles in degrees.

    Returns:
        ``()`` scalar loss.
    """
    kappa = pred.norm(dim=-1).clamp_min(1e-6)
    target = angle_to_vector(target_angles)
    cos_term = (pred * target).sum(dim=-1)
    # log I0(κ) = log(i0e(κ)) + κ, numerically stable for large κ.
    log_i0 = torch.log(torch.special.i0e(kappa)) + kappa
    return (-cos_term + log_i0 + math.log(2.0 * math.pi)).mean()


def bin_centres(num_bins: int, device: torch.device | None = None) -> torch.Tensor:
    """Centres of ``num_bins`` equal bins over the circle, in degrees, shape ``(num_bins,)``."""
    width = 360.0 / num_bins
    return -180.0 + (torch.arange(num_bins, device=device, dtype=torch.float32) + 0.5) * width


def soft_bin_targets(angles: torch.Tensor, num_bins: int, sigma_deg: float) -> torch.Tensor:
    """Wrapped-Gaussian soft labels over bins, for cross-entropy on binned angles.

    Args:
        angles: ``(B,)`` target angles in degrees.
        num_bins: number of bins.
        sigma_deg: standard deviation of the Gaussian in degrees.

    Returns:
        ``(B, num_bins)`` probabilities summing to 1 along the last axis.
    """
    diff = angle_difference(bin_centres(num_bins, angles.device)[None, :], angles[:, None])
    weights = torch.exp(-0.5 * (diff / sigma_deg) ** 2)
    return weights / weights.sum(dim=-1, keepdim=True)


def bins_to_angle(logits: torch.Tensor, window: int = 2) -> torch.Tensor:
    """Decode bin logits with a local circular soft-argmax around the most likely bin.

    The angle is the circular mean of the bin centres within ``±window`` bins of the arg-max, weighted by their
    softmax probabilities, so it is not quantised to bin centres and not pulled by far-away modes.

    Args:
        logits: ``(B, K)`` bin logits.
        window: half-width of the neighbourhood, in bins.

    Returns:
        ``(B,)`` angles in degrees.
    """
    num_bins = logits.shape[-1]
    probs = torch.softmax(logits, dim=-1)
    top = probs.argmax(dim=-1)
    offsets = torch.arange(-window, window + 1, device=logits.device)
    idx = torch.remainder(top[:, None] + offsets[None, :], num_bins)
    weights = torch.gather(probs, 1, idx)
    centres = bin_centres(num_bins, logits.device)[idx]
    vec = (weights[..., None] * angle_to_vector(centres)).sum(dim=1)
    return vector_to_angle(vec)


@dataclass(frozen=True)
class AngleErrorStats:
    """Summary of absolute circular errors in degrees."""

    count: int
    mean: float
    median: float
    within_5: float  # share of errors ≤ 5°, in [0, 1]
    p90: float

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "mean": self.mean,
            "median": self.median,
            "within_5": self.within_5,
            "p90": self.p90,
        }


def angle_error_stats(pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> AngleErrorStats:
    """Mean, median, 90th percentile of absolute circular error and the share within 5°.

    Args:
        pred: ``(N,)`` predicted angles in degrees.
        target: ``(N,)`` true angles in degrees.

    Returns:
        The statistics (errors in degrees). Nothing is excluded: symmetric digits count with their raw error.

    >>> s = angle_error_stats(np.array([179.0, 10.0]), np.array([-179.0, 0.0]))
    >>> (s.mean, s.median, s.within_5)
    (6.0, 6.0, 0.5)
    """
    p = torch.as_tensor(np.asarray(pred, dtype=np.float64))
    t = torch.as_tensor(np.asarray(target, dtype=np.float64))
    if p.shape != t.shape or p.ndim != 1 or p.numel() == 0:
        raise InputError(f"expected two equal non-empty (N,) arrays, got {tuple(p.shape)} and {tuple(t.shape)}")
    err = angle_difference(p, t).abs()
    return AngleErrorStats(
        count=int(err.numel()),
        mean=float(err.mean()),
        median=float(err.median()) if err.numel() % 2 else float(err.quantile(0.5)),
        within_5=float((err <= 5.0).double().mean()),
        p90=float(err.quantile(0.9)),
    )
