"""Typed configurations of the planar models, their presets, and building a network from a config.

Configs are saved as JSON beside every checkpoint and every shipped weight file, so a weight file describes
itself; :func:`build_model` is all inference needs to rebuild the network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from viewshift.errors import InputError
from viewshift.planar.features import ROLL_FEATURES
from viewshift.planar.models import AlignEnsemble, AlignNet, AngleEnsemble, AngleNet, RollMatchNet, RollNet
from viewshift.planar.vanishing import VanishingGate


@dataclass
class RotationConfig:
    """Rotation regression on digits rotated on the fly by angles uniform in [-180°, 180°)."""

    preset: str
    head: str = "vector"  # naive | vector | bins
    loss: str = "angular"  # cosine_proximity | angular | von_mises | bins
    classes: list[int] | None = None  # None: all ten classes
    # Classes scored by validation and evaluation (None: the training classes), and the share of each training
    # batch drawn from them (0: uniform over the training digits) - a model for 3s that also learns from the
    # other digits.
    eval_classes: list[int] | None = None
    eval_class_share: float = 0.0
    steps: int = 4000
    batch_size: int = 64
    lr: float = 1e-3
    num_bins: int = 72
    bin_sigma: float = 4.0
    width: int = 16
    batchnorm: bool = True
    input_scale: float = 1.0
    optimizer: str = "adam"  # adam | adadelta (Keras' MNIST-example optimiser: lr 1.0, rho 0.95, eps 1e-7)
    clip_grad: float | None = 5.0
    # Validation: this many training digits per class are held out (viewshift.planar.digits.split_indices) and
    # scored every checkpoint; model.pt keeps the checkpoint with the best validation score. 0: no validation.
    val_per_class: int = 0
    # Train-time augmentation of the digit before the rotation/perturbation: elastic field (largest
    # displacement in pixels, smoothness σ in pixels) and isotropic scale in [1 - s, 1 + s]. 0: off.
    elastic_alpha: float = 0.0
    elastic_sigma: float = 3.0
    scale_jitter: float = 0.0
    seed: int = 0
    kind: str = "rotation"


@dataclass
class AlignConfig:
    """Classification of digits perturbed by the IC-STN paper's random warps."""

    preset: str
    num_warps: int = 4
    recurrent: bool = True
    warp_kind: str = "homography"  # homography | affine
    classifier_width: int = 8
    steps: int = 2500
    batch_size: int = 64
    lr: float = 1e-3
    lr_predictor: float = 3e-4
    corner_sigma: float = 0.25
    translation_sigma: float = 0.25
    # "paper": IC-STN resamples the unperturbed canvas through init ∘ warps (Lin & Lucey's code);
    # "image": it only ever sees the perturbed image (what align()/classify() do at inference).
    protocol: str = "image"
    classifier_arch: str = "small"  # small | deep (viewshift.planar.models.DigitClassifier)
    # Validation: this many training digits per class are held out (viewshift.planar.digits.split_indices) and
    # scored every checkpoint; model.pt keeps the checkpoint with the best validation score. 0: no validation.
    val_per_class: int = 0
    # Train-time augmentation of the digit before the rotation/perturbation: elastic field (largest
    # displacement in pixels, smoothness σ in pixels) and isotropic scale in [1 - s, 1 + s]. 0: off.
    elastic_alpha: float = 0.0
    elastic_sigma: float = 3.0
    scale_jitter: float = 0.0
    seed: int = 0
    kind: str = "align"


@dataclass
class RollConfig:
    """Photo roll regression on gradient-orientation histograms of randomly rotated upright photos."""

    preset: str
    arch: str = "mlp"  # mlp (flatten + fully connected read-out) | match (equivariant matched filter)
    roll_loss: str = "l1"  # l1 (smooth L1 on the roll) | ce (cross-entropy on the shift scores; match only)
    roll_decode: str = "global"  # match only: soft-argmax over all shifts (global) or ±3 around the best (local)
    max_roll: float = 20.0
    num_bins: int = 180
    width: int = 32
    samples_per_photo: int = 60
    steps: int = 2500
    batch_size: int = 128
    lr: float = 1e-3
    long_side: int = 256
    max_photos: int | None = None  # use only the first N training photos (smoke tests)
    # Hold the validation photos (the ``val`` list of planar/data/roll_splits.json) out of training and score them
    # (val_rolls_per_photo seeded rolls each) at checkpoints; model.pt keeps the best-scoring checkpoint.
    val_photos: bool = False
    val_rolls_per_photo: int = 10
    seed: int = 0
    kind: str = "roll"
    holdout: list[str] = field(default_factory=list)  # training photos (relative paths) left out of training
    features: str = "gradient"  # gradient | gradient+lines | gradient+vanishing (features.photo_features)
    centred_crops: bool = False  # training sub-crops keep the photo's centre (roll_data.random_rolled_crop)
    tilt: float = 0.0  # training photos are first turned by random pitch and yaw in ±tilt degrees (photo.tilt_photo)
    # Inference only: when > 0, a photo whose vertical vanishing point (vanishing.vertical_vanishing_roll) has at least
    # this support and at most vanishing_ambiguity is levelled by it, the network answers the others.
    vanishing_support: float = 0.0
    vanishing_ambiguity: float = 0.7
    # ... and, when > 0, only if its roll is within this many degrees of the network's estimate.
    vanishing_agreement: float = 0.0
    # Training photos without marked verticals take their own roll from a clear vertical vanishing point
    # (roll_data.training_reference_roll) instead of counting as level.
    self_reference: bool = False


@dataclass
class EnsembleConfig:
    """Rotation regressors trained separately, averaged on the circle (:class:`AngleEnsemble`).

    ``members`` are the members' own configs (as saved beside their runs); the ensemble is not trained, it is
    assembled by ``viewshift planar export --run A --run B ...``.
    """

    preset: str
    members: list[RotationConfig] = field(default_factory=list)
    kind: str = "angle-ensemble"


@dataclass
class AlignEnsembleConfig:
    """IC-STN-family classifiers trained separately, class probabilities averaged (:class:`AlignEnsemble`).

    Assembled, not trained: ``viewshift planar export --run A --run B ...`` on alignment runs.
    """

    preset: str
    members: list[AlignConfig] = field(default_factory=list)
    kind: str = "align-ensemble"


# The presets that make the shipped models (viewshift/planar/weights/<name>.json names each one). How they were
# chosen, and the presets of every other run, are in experiments/planar/.
PHOTO_ROLL_HOLDOUT = (  # training photos without visible horizontal or vertical structure: no upright to learn
    "photos/apple.jpg",
    "photos/baboon.jpg",
    "photos/butterfly.jpg",
    "photos/chicky_512.png",
    "photos/orange.jpg",
    "photos/squirrel_cls.jpg",
)
# IC-STN-4 with the deep classifier, elastic augmentation, 20 000 steps.
_ICSTN_LONG = AlignConfig(
    "icstn-4-deep-long",
    num_warps=4,
    classifier_width=16,
    classifier_arch="deep",
    steps=20_000,
    val_per_class=40,
    elastic_alpha=1.5,
)
PRESETS: dict[str, RotationConfig | AlignConfig | RollConfig] = {
    # "digits": rotation of any digit; binned head, 40 validation digits per class pick the checkpoint.
    "rot-bins-all-val": RotationConfig("rot-bins-all-val", head="bins", loss="bins", steps=5000, val_per_class=40),
    # "digits-3": the same network trained on 3s only (seed 1).
    "rot-bins-3-val-s1": RotationConfig(
        "rot-bins-3-val-s1", head="bins", loss="bins", classes=[3], steps=5000, val_per_class=40, seed=1
    ),
    # "digits-icstn": the two members (seeds 0 and 1) of the IC-STN-4 ensemble.
    "icstn-4-deep-long": _ICSTN_LONG,
    "icstn-4-deep-long-s1": dataclasses.replace(_ICSTN_LONG, preset="icstn-4-deep-long-s1", seed=1),
    # "photo-roll": the equivariant matched filter on gradient histograms, training photos turned by random
    # pitch and yaw (±10°); the validation photos pick the checkpoint. Exported with the vanishing-point gate
    # (support ≥ 0.5, ambiguity ≤ 0.5; docs/planar.md).
    "roll-tilt": RollConfig(
        "roll-tilt",
        arch="match",
        width=16,
        lr=3e-3,
        steps=3000,
        samples_per_photo=120,
        val_photos=True,
        holdout=list(PHOTO_ROLL_HOLDOUT),
        tilt=10.0,
    ),
}


def config_from_dict(
    data: dict,
) -> RotationConfig | AlignConfig | RollConfig | EnsembleConfig | AlignEnsembleConfig:
    """Rebuild a config from its JSON dict (the ``kind`` field selects the class)."""
    classes = {"rotation": RotationConfig, "align": AlignConfig, "roll": RollConfig}
    kind = data.get("kind")
    if kind == "angle-ensemble":
        members = [config_from_dict(m) for m in data.get("members", [])]
        if not members or not all(isinstance(m, RotationConfig) for m in members):
            raise InputError("an angle ensemble config needs one or more rotation member configs")
        return EnsembleConfig(data.get("preset", "ensemble"), members)
    if kind == "align-ensemble":
        members = [config_from_dict(m) for m in data.get("members", [])]
        if not members or not all(isinstance(m, AlignConfig) for m in members):
            raise InputError("an align ensemble config needs one or more alignment member configs")
        return AlignEnsembleConfig(data.get("preset", "ensemble"), members)
    if kind not in classes:
        raise InputError(f"config has unknown kind {kind!r}")
    names = {f.name for f in dataclasses.fields(classes[kind])}
    return classes[kind](**{k: v for k, v in data.items() if k in names})


def scored_classes(config: RotationConfig) -> list[int] | None:
    """The classes a rotation config is validated and evaluated on (None: all)."""
    return config.eval_classes if config.eval_classes is not None else config.classes


def build_model(
    config: RotationConfig | AlignConfig | RollConfig | EnsembleConfig | AlignEnsembleConfig,
) -> torch.nn.Module:
    """The untrained network a config describes."""
    if isinstance(config, EnsembleConfig):
        return AngleEnsemble([build_model(m) for m in config.members])
    if isinstance(config, AlignEnsembleConfig):
        return AlignEnsemble([build_model(m) for m in config.members])
    if isinstance(config, RotationConfig):
        return AngleNet(config.head, config.num_bins, config.width, config.batchnorm, config.input_scale)
    if isinstance(config, AlignConfig):
        num_params = 8 if config.warp_kind == "homography" else 6
        return AlignNet(config.num_warps, config.recurrent, num_params, config.classifier_width, config.classifier_arch)
    if config.arch == "match":
        window = 3 if config.roll_decode == "local" else None
        channels = ROLL_FEATURES.get(config.features)
        if channels is None:
            raise InputError(f"unknown roll features {config.features!r}; use one of {', '.join(ROLL_FEATURES)}")
        return RollMatchNet(
            config.num_bins,
            channels,
            config.width,
            max_shift=int(config.max_roll) + 5,
            window=window,
            feature_kind=config.features,
            vanishing_gate=VanishingGate(
                config.vanishing_support, config.vanishing_ambiguity, config.vanishing_agreement or None
            )
            if config.vanishing_support > 0
            else None,
        )
    if config.features != "gradient":
        raise InputError("the mlp roll network reads the gradient features only; use arch='match'")
    return RollNet(config.num_bins, 2, config.width)
