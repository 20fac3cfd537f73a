"""Public functions of viewshift.planar, running the shipped weights in ``viewshift/planar/weights``.

Shipped models (weights stored as float16 ``.pt`` state dicts, each with its config ``.json`` beside it):

* ``"digits"``: rotation of a 28×28 digit, any class, full ±180° (preset ``rot-bins-all-val``).
* ``"digits-3"``: the same kind of network trained on "3"s only.
* ``"digits-icstn"``: two IC-STNs with 4 warps + classifier (two seeds, class probabilities averaged), for
  digits perturbed by homographies; ``align`` returns the first one's alignment.
* ``"photo-roll"``: roll of a photo within ±20°: the direction of its vertical vanishing point when that is clear,
  else a network reading gradient-orientation histograms.

Each weight file's JSON names the preset that made it; docs/planar.md gives the commands.

Digits are ``N×28×28 uint8`` arrays, white digit on black, the 20×20 digit centred as in MNIST.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from viewshift.errors import InputError, ModelError, ShapeError
from viewshift.planar.configs import build_model, config_from_dict
from viewshift.planar.features import photo_features
from viewshift.planar.models import (
    AlignEnsemble,
    AlignNet,
    AngleEnsemble,
    AngleNet,
    RollMatchNet,
    RollNet,
    predict_angles_rot90,
)
from viewshift.planar.photo import rotate_photo
from viewshift.planar.vanishing import VanishingGate, VerticalVanishing, vertical_vanishing_roll

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ANGLE_MODELS = ("digits", "digits-3")
ALIGN_MODELS = ("digits-icstn",)
ROLL_MODELS = ("photo-roll",)


@functools.lru_cache(maxsize=8)
def load_model(name: str, weights_dir: str | None = None) -> torch.nn.Module:
    """Load a shipped model by name (cached), in eval mode.

    Args:
        name: one of the names in the module docstring.
        weights_dir: folder holding ``<name>.pt`` and ``<name>.json``; the package's ``weights`` by default.

    Returns:
        The network with its weights, float32.
    """
    folder = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    pt, cfg = folder / f"{name}.pt", folder / f"{name}.json"
    if not pt.is_file() or not cfg.is_file():
        raise ModelError(f"model {name!r} not found in {folder}; reinstall viewshift or train it (viewshift planar)")
    try:
        config = config_from_dict(json.loads(cfg.read_text()))
        model = build_model(config)
        state = torch.load(pt, map_location="cpu", weights_only=True)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (RuntimeError, ValueError, OSError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot load model {name!r} from {pt}: {str(exc).splitlines()[0]}") from exc
    model.eval()
    return model


def _digits_to_tensor(images: np.ndarray) -> torch.Tensor:
    a = np.asarray(images)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise ShapeError(f"expected N×28×28 digit images, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise InputError(f"expected uint8 digit images, got {a.dtype}; scale to 0-255 and convert")
    if a.shape[0] == 0:
        raise ShapeError("got no images (N = 0)")
    return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)


def _check_name(model: str, allowed: tuple[str, ...]) -> None:
    if model not in allowed:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(allowed)}")


@torch.no_grad()
def estimate_angle(images: np.ndarray, model: str = "digits", tta: int = 4) -> np.ndarray:
    """Estimate the rotation that was applied to upright digits.

    Args:
        images: ``N×28×28`` (or one ``28×28``) uint8 digits.
        model: ``"digits"`` (any class) or ``"digits-3"`` (trained on 3s only).
        tta: quarter-turn test-time augmentation: 1 (off), 2 or 4 views averaged on the circle.

    Returns:
        ``(N,)`` float32 angles in degrees, counter-clockwise as displayed, in ``[-180, 180)``; rotating each
        image by minus its angle makes it upright. Digits with a 180° symmetry (0, 1, 8) and the 6/9 pair are
        ambiguous; see docs/planar.md.
    """
    _check_name(model, ANGLE_MODELS)
    if tta not in (1, 2, 4):
        raise InputError(f"tta must be 1, 2 or 4, got {tta}")
    x = _digits_to_tensor(images)
    net = load_model(model)
    if not isinstance(net, (AngleNet, AngleEnsemble)):
        raise ModelError(f"model {model!r} is not a rotation model")
    out = torch.cat([predict_angles_rot90(net, x[i : i + 1024], tta) for i in range(0, x.shape[0], 1024)])
    return out.numpy().astype(np.float32)


@torch.no_grad()
def align(images: np.ndarray, model: str = "digits-icstn") -> np.ndarray:
    """Undo perspective/affine perturbations of digits with the IC-STN's composed warps.

    Args:
        images: ``N×28×28`` uint8 digits.
        model: ``"digits-icstn"``.

    Returns:
        ``N×28×28`` uint8 aligned digits (resampled once from the input through the composed warp; for an
        ensemble such as the shipped ``digits-icstn``, the first member's warp).
    """
    _check_name(model, ALIGN_MODELS)
    x = _digits_to_tensor(images)
    net = load_model(model)
    if not isinstance(net, (AlignNet, AlignEnsemble)):
        raise ModelError(f"model {model!r} is not an alignment model")
    out = torch.cat([net.align(x[i : i + 1024])[0] for i in range(0, x.shape[0], 1024)])
    return (out[:, 0].clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()


@torch.no_grad()
def classify(images: np.ndarray, model: str = "digits-icstn") -> np.ndarray:
    """Classify (possibly perturbed) digits: align with the IC-STN, then the classifier (for an ensemble, each
    member aligns and classifies, and the class of highest mean probability wins).

    Args:
        images: ``N×28×28`` uint8 digits.
        model: ``"digits-icstn"``.

    Returns:
        ``(N,)`` int64 labels 0–9.
    """
    _check_name(model, ALIGN_MODELS)
    x = _digits_to_tensor(images)
    net = load_model(model)
    if not isinstance(net, (AlignNet, AlignEnsemble)):
        raise ModelError(f"model {model!r} is not an alignment model")
    return torch.cat([net(x[i : i + 1024]).argmax(-1) for i in range(0, x.shape[0], 1024)]).numpy()


def _photo_uint8(photo: np.ndarray) -> np.ndarray:
    a = np.asarray(photo)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ShapeError(f"expected an H×W×3 photo, got shape {a.shape}")
    if a.dtype == np.uint16:
        return (a.astype(np.float32) / 257.0).round().astype(np.uint8)
    if a.dtype != np.uint8:
        raise InputError(f"expected a uint8 (or uint16) photo, got {a.dtype}")
    return a


@dataclass(frozen=True)
class RollEstimate:
    """A photo's estimated roll and where it came from.

    Attributes:
        roll: counter-clockwise tilt in degrees.
        source: ``"vanishing point"`` (the photo's vertical vanishing point passed the model's gate),
            ``"network"`` (no clear vertical vanishing point) or ``"network, vanishing point disagreed"`` (a clear
            point, but further from the network's estimate than the gate's ``agreement``).
        vanishing: what the vanishing-point search found, or None for a model without a gate.
    """

    roll: float
    source: str
    vanishing: VerticalVanishing | None


def explain_roll(photo: np.ndarray, model: str = "photo-roll") -> RollEstimate:
    """:func:`estimate_roll` with its source: the vertical vanishing point or the network."""
    _check_name(model, ROLL_MODELS)
    net = load_model(model)
    if not isinstance(net, (RollNet, RollMatchNet)):
        raise ModelError(f"model {model!r} is not a roll model")
    return _roll_estimate(net, photo)


def estimate_roll(photo: np.ndarray, model: str = "photo-roll") -> float:
    """Estimate a photo's roll (tilt) in degrees.

    A photo whose world verticals meet in a clear vanishing point is levelled by it (the model's gate, see
    :func:`roll_with_network`; a gate with an ``agreement`` also asks the point to agree with the network).
    Otherwise the estimate is the mean of the network's answer on the photo and minus its answer on the mirrored
    photo (a mirrored roll is the negated roll), which cancels a constant bias.
    :func:`explain_roll` also says which of the two answered.

    Args:
        photo: ``H×W×3`` uint8 (or uint16) RGB photo, at least 16×16.
        model: ``"photo-roll"``.

    Returns:
        Counter-clockwise tilt of the content as displayed, in degrees; trained for tilts within ±20°. Rotating
        the photo by minus this angle levels it.
    """
    return explain_roll(photo, model).roll


ROLL_CROP_FRACTION = 0.7


def roll_with_network(net: RollNet | RollMatchNet, photo: np.ndarray, crops: int = 1) -> float:
    """:func:`estimate_roll` with a given network (used by evaluation of unshipped runs).

    Args:
        net: a roll network in eval mode.
        photo: ``H×W×3`` uint8 (or uint16) photo.
        crops: 1: the whole photo; 5: also its four corner crops of :data:`ROLL_CROP_FRACTION` of each side, and
            the median of the five estimates (cropping keeps the roll). Each view is averaged with its mirror.

    A network with a ``vanishing_gate`` (:class:`viewshift.planar.vanishing.VanishingGate`) first looks for the
    photo's vertical vanishing point (:func:`viewshift.planar.vanishing.vertical_vanishing_roll`) and returns its roll
    when the gate accepts it: support and ambiguity within the thresholds and, with ``agreement``, the roll within
    that many degrees of the network's own estimate.
    """
    return _roll_estimate(net, photo, crops).roll


@torch.no_grad()
def _network_roll(net: RollNet | RollMatchNet, photo: np.ndarray, crops: int) -> float:
    """The network's roll of a uint8 photo: each view averaged with its mirror, the median over the views."""
    views = [photo]
    if crops == 5:
        h, w = photo.shape[:2]
        ch, cw = max(16, int(h * ROLL_CROP_FRACTION)), max(16, int(w * ROLL_CROP_FRACTION))
        views += [photo[y : y + ch, x : x + cw] for y in (0, h - ch) for x in (0, w - cw)]
    kind = getattr(net, "feature_kind", "gradient")
    feats = []
    for v in views:
        feats += [photo_features(v, net.num_bins, kind), photo_features(v[:, ::-1].copy(), net.num_bins, kind)]
    out = net(torch.stack(feats)).view(-1, 2)
    estimates = 0.5 * (out[:, 0] - out[:, 1])
    return float(estimates.median()) if crops > 1 else float(estimates[0])


def _roll_estimate(net: RollNet | RollMatchNet, photo: np.ndarray, crops: int = 1) -> RollEstimate:
    if crops not in (1, 5):
        raise InputError(f"crops must be 1 or 5, got {crops}")
    a = _photo_uint8(photo)
    gate: VanishingGate | None = getattr(net, "vanishing_gate", None)
    found = vertical_vanishing_roll(a) if gate is not None else None
    if gate is not None and gate.agreement is None and gate.clear(found):
        return RollEstimate(found.roll, "vanishing point", found)
    network = _network_roll(net, a, crops)
    if gate is not None and gate.accepts(found, network):
        return RollEstimate(found.roll, "vanishing point", found)
    disagreed = gate is not None and gate.clear(found)
    return RollEstimate(network, "network, vanishing point disagreed" if disagreed else "network", found)


def straighten(
    photo: np.ndarray, *, roll: float | None = None, keep_size: bool = False, fill: str = "black"
) -> tuple[np.ndarray, float]:
    """Level a photo: estimate its roll (unless given), rotate by minus the roll, crop or fill.

    Args:
        photo: ``H×W×3`` (or ``H×W×4``) uint8/uint16 image.
        roll: the roll in degrees if already known; estimated with :func:`estimate_roll` when None.
        keep_size: keep ``H×W`` and fill the corners instead of cropping to the largest valid rectangle.
        fill: corner fill with ``keep_size``: ``"black"``, ``"white"`` or ``"edge"``.

    Returns:
        ``(levelled image, roll in degrees)``; the image has the input's dtype and channels.
    """
    a = np.asarray(photo)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ShapeError(f"expected an H×W×3 or H×W×4 photo, got shape {a.shape}")
    if roll is None:
        roll = estimate_roll(a[:, :, :3])
    if not np.isfinite(roll) or abs(roll) > 45.0:
        raise InputError(f"roll {roll} is outside ±45°; straighten handles tilts up to ±20°")
    return rotate_photo(a, -roll, crop=not keep_size, fill=fill), float(roll)
