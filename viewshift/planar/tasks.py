"""The three planar training tasks behind one small protocol: digit rotation, IC-STN alignment, photo roll.

A task owns its training data, its loss on a random batch, its validation score and its evaluation on the fixed
held-out set; the generic loop (:func:`viewshift.planar.train.train`) only calls these. A config's ``kind`` names
its task (:data:`TASKS`); ensembles are evaluated by their members' task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch
import torch.nn.functional as F

from viewshift.errors import InputError
from viewshift.io import save_torch
from viewshift.planar import angles as A
from viewshift.planar.configs import (
    AlignConfig,
    AlignEnsembleConfig,
    EnsembleConfig,
    RollConfig,
    RotationConfig,
    scored_classes,
)
from viewshift.planar.digits import load_split
from viewshift.planar.evaluate import (
    align_test_set,
    digits_to_tensor,
    evaluate_align,
    evaluate_roll,
    evaluate_rotation,
    rotation_test_set,
)
from viewshift.planar.models import RollMatchNet, predict_angles_rot90
from viewshift.planar.warps import elastic_warp, rotate_images, sample_perturbations, warp_images


class Task(Protocol):
    """What the training loop needs from a task."""

    config: RotationConfig | AlignConfig | RollConfig

    def loss(self, model: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of one random batch drawn with ``generator``, and statistics to log (name -> value)."""
        ...

    def validate(self, model: torch.nn.Module) -> float | None:
        """Validation score (lower is better) on the config's validation split, or None without one."""
        ...

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        """The optimiser's parameter groups with their learning rates."""
        ...


def rotation_loss(config: RotationConfig, outputs: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """The loss a rotation config names, on ``(B, 2)`` or ``(B, K)`` outputs and ``(B,)`` angles in degrees."""
    if config.loss == "cosine_proximity":
        return A.cosine_proximity_loss(outputs, angles)
    if config.loss == "angular":
        return A.angular_loss(outputs, angles)
    if config.loss == "von_mises":
        return A.von_mises_nll(outputs, angles)
    if config.loss == "bins":
        target = A.soft_bin_targets(angles, config.num_bins, config.bin_sigma)
        return -(target * F.log_softmax(outputs, dim=-1)).sum(dim=-1).mean()
    raise InputError(f"unknown rotation loss {config.loss!r}")


class _DigitTask:
    """Shared by the digit tasks: the training digits of the config's split and their augmentation."""

    def __init__(self, config: RotationConfig | AlignConfig, data_path: str | None, classes=None) -> None:
        self.config = config
        self.data_path = data_path
        train = load_split("train", classes, data_path, val_per_class=config.val_per_class)
        self.images = digits_to_tensor(train.images)
        self.labels = torch.from_numpy(train.labels)

    def _augment(self, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Elastic + scale augmentation of ``(B, 1, 28, 28)`` upright digits, when the config asks for it."""
        c = self.config
        if c.elastic_alpha <= 0 and c.scale_jitter <= 0:
            return digits
        return elastic_warp(digits, c.elastic_alpha, c.elastic_sigma, c.scale_jitter, generator)

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        return [{"params": model.parameters(), "lr": self.config.lr}]


class RotationTask(_DigitTask):
    """Digits rotated on the fly by angles uniform in [-180°, 180°); the loss the config names."""

    def __init__(self, config: RotationConfig, data_path: str | None = None, cache: Path | None = None) -> None:
        super().__init__(config, data_path, tuple(config.classes) if config.classes else None)
        focus_ids = torch.tensor(config.eval_classes or [], dtype=self.labels.dtype)
        self.focus = torch.nonzero(torch.isin(self.labels, focus_ids)).flatten()

    def loss(self, model: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        idx = torch.randint(0, self.images.shape[0], (c.batch_size,), generator=generator)
        if c.eval_class_share > 0 and len(self.focus):
            # The first share of the batch comes from the scored classes only.
            n = int(round(c.eval_class_share * c.batch_size))
            idx[:n] = self.focus[torch.randint(0, len(self.focus), (n,), generator=generator)]
        angles = torch.rand(c.batch_size, generator=generator) * 360.0 - 180.0
        x = rotate_images(self._augment(self.images[idx], generator), angles)
        out = model(x)
        loss = rotation_loss(c, out, angles)
        err = A.angle_difference(model.decode(out.detach()), angles).abs().mean()
        return loss, {"err_deg": float(err)}

    def validate(self, model: torch.nn.Module) -> float | None:
        """Mean absolute angle error in degrees with the 4 quarter-turn views (what the API uses)."""
        c = self.config
        if not c.val_per_class:
            return None
        images, angles, _ = rotation_test_set(scored_classes(c), data_path=self.data_path, split="val", cfg=c)
        with torch.no_grad():
            pred = torch.cat([predict_angles_rot90(model, images[i : i + 512], 4) for i in range(0, len(images), 512)])
        return float(A.angle_difference(pred, angles).abs().mean())

    @staticmethod
    def evaluate(model: torch.nn.Module, config: RotationConfig | EnsembleConfig, split: str) -> dict:
        """:func:`viewshift.planar.evaluate.evaluate_rotation` on the classes the config scores."""
        cfg = config.members[0] if isinstance(config, EnsembleConfig) else config
        return evaluate_rotation(model, scored_classes(cfg), split=split, cfg=cfg)


class AlignTask(_DigitTask):
    """Digits perturbed by the IC-STN paper's random warps, classified (cross-entropy)."""

    def __init__(self, config: AlignConfig, data_path: str | None = None, cache: Path | None = None) -> None:
        super().__init__(config, data_path)

    def loss(self, model: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        idx = torch.randint(0, self.images.shape[0], (c.batch_size,), generator=generator)
        canvas = self._augment(self.images[idx], generator)
        h0 = sample_perturbations(c.batch_size, c.warp_kind, c.corner_sigma, c.translation_sigma, generator=generator)
        perturbed = warp_images(canvas, h0)[0]
        if c.protocol == "paper" and c.recurrent:
            logits = model(perturbed, source=canvas, init=h0)
        else:
            logits = model(perturbed)
        labels = self.labels[idx]
        loss = F.cross_entropy(logits, labels)
        return loss, {"acc": float((logits.argmax(-1) == labels).float().mean())}

    def validate(self, model: torch.nn.Module) -> float | None:
        """Classification error in the input-image protocol."""
        c = self.config
        if not c.val_per_class:
            return None
        _, _, perturbed, labels = align_test_set(data_path=self.data_path, cfg=c, split="val")
        with torch.no_grad():
            pred = torch.cat([model(perturbed[i : i + 500]).argmax(-1) for i in range(0, len(labels), 500)])
        return float((pred != labels).float().mean())

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        c = self.config
        if model.predictor is None:
            return super().param_groups(model)
        return [
            {"params": model.classifier.parameters(), "lr": c.lr},
            {"params": model.predictor.parameters(), "lr": c.lr_predictor},
        ]

    @staticmethod
    def evaluate(model: torch.nn.Module, config: AlignConfig | AlignEnsembleConfig, split: str) -> dict:
        """:func:`viewshift.planar.evaluate.evaluate_align`."""
        return evaluate_align(model, config, split=split)


class RollTask:
    """Features of randomly rolled crops of the upright training photos (built once, cached in the run folder),
    regressed with smooth L1 or, for the matched filter with ``roll_loss="ce"``, cross-entropy on the shifts."""

    def __init__(self, config: RollConfig, data_path: str | None = None, cache: Path | None = None) -> None:
        from viewshift.planar.roll_data import build_roll_dataset

        self.config = config
        if cache is not None and cache.is_file():
            data = torch.load(cache, weights_only=True)
            feats, rolls = data["features"], data["rolls"]
        else:
            feats, rolls = build_roll_dataset(config, split="train")
            if cache is not None:
                save_torch({"features": feats, "rolls": rolls}, cache)  # a half-written cache would break resuming
        self.features, self.rolls = feats, rolls

    def loss(self, model: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        idx = torch.randint(0, self.features.shape[0], (c.batch_size,), generator=generator)
        feats, rolls = self.features[idx], self.rolls[idx]
        if isinstance(model, RollMatchNet) and c.roll_loss == "ce":
            # Cross-entropy on the shift scores against a Gaussian (σ = 1 bin) around the true shift.
            logits = model.scores(feats) * torch.exp(-model.log_temperature)
            shifts = torch.arange(-model.max_shift, model.max_shift + 1, dtype=feats.dtype)
            target = torch.softmax(-0.5 * (shifts[None] - rolls[:, None] * model.num_bins / 180.0) ** 2, dim=-1)
            loss = -(target * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
            with torch.no_grad():
                pred = model(feats)
        else:
            pred = model(feats)
            loss = F.smooth_l1_loss(pred, rolls, beta=1.0)
        return loss, {"err_deg": float((pred.detach() - rolls).abs().mean())}

    def validate(self, model: torch.nn.Module) -> float | None:
        """Mean absolute roll error on the validation photos."""
        c = self.config
        if not c.val_photos:
            return None
        return evaluate_roll(model, split="val", per_photo=c.val_rolls_per_photo)["mean"]

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        return [{"params": model.parameters(), "lr": self.config.lr}]

    @staticmethod
    def evaluate(model: torch.nn.Module, config: RollConfig, split: str) -> dict:
        """:func:`viewshift.planar.evaluate.evaluate_roll` (10 rolls per test photo, the config's count on
        validation)."""
        return evaluate_roll(model, split=split, per_photo=config.val_rolls_per_photo if split == "val" else 10)


# A config's ``kind`` -> its task; an ensemble is evaluated like its members.
TASKS = {"rotation": RotationTask, "align": AlignTask, "roll": RollTask}
_EVALUATED_AS = {**TASKS, "angle-ensemble": RotationTask, "align-ensemble": AlignTask}


def make_task(config: RotationConfig | AlignConfig | RollConfig, data_path: str | None = None, cache=None) -> Task:
    """The task that trains ``config`` (digit mosaic ``data_path``; roll features cached in ``cache``)."""
    if config.kind not in TASKS:
        raise InputError(f"cannot train a config of kind {config.kind!r}; use a rotation, align or roll preset")
    return TASKS[config.kind](config, data_path, cache)


def evaluate_run(model: torch.nn.Module, config, split: str = "test") -> dict:
    """Evaluate a model by its config kind on the fixed held-out test (or validation) set of that kind.

    ``split="val"`` needs a config with a validation split (``val_per_class`` > 0 or ``val_photos``).
    """
    if split not in ("test", "val"):
        raise InputError(f"unknown evaluation split {split!r}; use 'test' or 'val'")
    members = getattr(config, "members", [config])
    if split == "val" and not all(getattr(m, "val_per_class", 0) or getattr(m, "val_photos", False) for m in members):
        raise InputError(f"preset {config.preset!r} was trained without a validation split; evaluate on 'test'")
    return _EVALUATED_AS[config.kind].evaluate(model, config, split)
