"""The fixed held-out test (and validation) sets of the planar tasks, and the metrics scored on them.

Test sets are seeded with :data:`EVAL_SEED`, validation sets with :data:`VAL_SEED`; the digit split is
:func:`viewshift.planar.digits.split_indices`, the photo split ``viewshift/planar/data/roll_splits.json``.
``viewshift planar eval`` reports these numbers for a run or a shipped model (docs/planar.md).
"""

from __future__ import annotations

import numpy as np
import torch

from viewshift.planar import angles as A
from viewshift.planar.configs import AlignConfig, AlignEnsembleConfig, RotationConfig
from viewshift.planar.digits import load_split
from viewshift.planar.models import AlignEnsemble, AlignNet, AngleNet, predict_angles_rot90
from viewshift.planar.warps import rotate_images, sample_perturbations, warp_images

EVAL_SEED = 1234
VAL_SEED = 4321


def digits_to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(N, 28, 28)`` uint8 digits as ``(N, 1, 28, 28)`` float32 in [0, 1]."""
    return torch.from_numpy(images).float().div_(255.0).unsqueeze(1)


def rotation_test_set(
    classes: list[int] | None,
    per_image: int = 10,
    data_path: str | None = None,
    split: str = "test",
    cfg: RotationConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Held-out digits, each rotated by ``per_image`` fixed seeded angles in [-180°, 180°).

    Args:
        classes: classes to keep (None: all).
        per_image: angles per digit.
        data_path: digit mosaic.
        split: ``"test"`` (seed :data:`EVAL_SEED`) or ``"val"`` (seed :data:`VAL_SEED`; the validation digits of
            ``cfg.val_per_class``).
        cfg: the config whose validation split to use.

    Returns:
        ``(images (N, 1, 28, 28), angles (N,), labels (N,))``.
    """
    val = cfg.val_per_class if cfg is not None else 0
    test = load_split(split, tuple(classes) if classes else None, data_path, val_per_class=val)
    g = torch.Generator().manual_seed(EVAL_SEED if split == "test" else VAL_SEED)
    base = digits_to_tensor(test.images).repeat_interleave(per_image, 0)
    angles = torch.rand(base.shape[0], generator=g) * 360.0 - 180.0
    labels = torch.from_numpy(test.labels).repeat_interleave(per_image, 0)
    # Quantise to uint8 like images fed through the public API.
    images = (rotate_images(base, angles) * 255.0).round() / 255.0
    return images, angles, labels


@torch.no_grad()
def predict_angles(model: AngleNet, images: torch.Tensor, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoded angles ``(N,)`` and raw outputs ``(N, D)`` for ``(N, 1, 28, 28)`` images."""
    outs = torch.cat([model(images[i : i + batch]) for i in range(0, images.shape[0], batch)])
    return model.decode(outs), outs


def evaluate_rotation(
    model: AngleNet,
    classes: list[int] | None,
    data_path: str | None = None,
    split: str = "test",
    cfg: RotationConfig | None = None,
) -> dict:
    """Angle error statistics on the fixed rotated test (or ``split="val"``: validation) set, overall and per
    class, plus predictions."""
    images, angles, labels = rotation_test_set(classes, data_path=data_path, split=split, cfg=cfg)
    pred, outs = predict_angles(model, images)
    result = {"overall": A.angle_error_stats(pred.numpy(), angles.numpy()).as_dict(), "per_class": {}}
    with torch.no_grad():
        pred_tta = torch.cat([predict_angles_rot90(model, images[i : i + 512], 4) for i in range(0, len(images), 512)])
    result["overall_tta4"] = A.angle_error_stats(pred_tta.numpy(), angles.numpy()).as_dict()
    for cls in sorted(set(labels.tolist())):
        m = labels == cls
        stats = A.angle_error_stats(pred[m].numpy(), angles[m].numpy()).as_dict()
        err = A.angle_difference(pred[m], angles[m]).abs()
        stats["within_5_mod_180"] = float((torch.minimum(err, 180.0 - err) <= 5.0).float().mean())
        stats["tta4"] = A.angle_error_stats(pred_tta[m].numpy(), angles[m].numpy()).as_dict()
        result["per_class"][str(cls)] = stats
    result["pred"] = pred.tolist()
    result["true"] = angles.tolist()
    result["outputs"] = outs[:, :2].tolist() if outs.shape[1] == 2 else []
    return result


def align_test_set(
    warp_kind: str = "homography",
    per_image: int = 10,
    data_path: str | None = None,
    cfg: AlignConfig | None = None,
    split: str = "test",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Held-out digits, each perturbed by ``per_image`` fixed seeded warps.

    ``split="val"`` uses the validation digits of ``cfg.val_per_class`` and seed :data:`VAL_SEED` instead.

    Returns:
        ``(canvas (N, 1, 28, 28), init (N, 3, 3), perturbed (N, 1, 28, 28), labels (N,))``; ``perturbed`` is
        quantised to uint8 levels like images fed through the public API.
    """
    c = cfg or AlignConfig("eval", warp_kind=warp_kind)
    test = load_split(split, None, data_path, val_per_class=c.val_per_class if split == "val" else 0)
    g = torch.Generator().manual_seed(EVAL_SEED if split == "test" else VAL_SEED)
    canvas = digits_to_tensor(test.images).repeat_interleave(per_image, 0)
    h0 = sample_perturbations(canvas.shape[0], c.warp_kind, c.corner_sigma, c.translation_sigma, generator=g)
    perturbed = (warp_images(canvas, h0)[0] * 255.0).round() / 255.0
    labels = torch.from_numpy(test.labels).repeat_interleave(per_image, 0)
    return canvas, h0, perturbed, labels


@torch.no_grad()
def evaluate_align(
    model: AlignNet | AlignEnsemble,
    config: AlignConfig | AlignEnsembleConfig,
    data_path: str | None = None,
    split: str = "test",
) -> dict:
    """Test (or ``split="val"``: validation) classification error (both protocols for IC-STN) and per-class
    mean/variance of aligned digits (of the first member, for an ensemble)."""
    if isinstance(config, AlignEnsembleConfig):
        config = config.members[0]  # the members share the perturbations and the validation split
    canvas, h0, perturbed, labels = align_test_set(config.warp_kind, data_path=data_path, cfg=config, split=split)
    result: dict = {}
    aligned_all, pred_all = [], []
    for i in range(0, canvas.shape[0], 500):
        aligned_all.append(model.align(perturbed[i : i + 500])[0])
        pred_all.append(model(perturbed[i : i + 500]).argmax(-1))
    aligned = torch.cat(aligned_all)
    pred = torch.cat(pred_all)
    result["error_image_protocol"] = float((pred != labels).float().mean())
    if model.recurrent and model.num_warps > 0:
        pred_p = torch.cat(
            [
                model(perturbed[i : i + 500], source=canvas[i : i + 500], init=h0[i : i + 500]).argmax(-1)
                for i in range(0, canvas.shape[0], 500)
            ]
        )
        result["error_paper_protocol"] = float((pred_p != labels).float().mean())
    result["count"] = int(labels.numel())
    result["per_class_error"] = {str(c): float((pred[labels == c] != c).float().mean()) for c in range(10)}
    result["mean_images"] = torch.stack([aligned[labels == c, 0].mean(0) for c in range(10)]).tolist()
    result["var_images"] = torch.stack([aligned[labels == c, 0].var(0) for c in range(10)]).tolist()
    result["input_mean_images"] = torch.stack([perturbed[labels == c, 0].mean(0) for c in range(10)]).tolist()
    result["input_var_images"] = torch.stack([perturbed[labels == c, 0].var(0) for c in range(10)]).tolist()
    return result


def evaluate_roll(
    model: torch.nn.Module,
    per_photo: int = 10,
    split: str = "test",
    crops: int = 1,
    references: bool = True,
    seed: int | None = None,
) -> dict:
    """Mean/median absolute roll error on the held-out photos (the ``test`` photos of
    ``viewshift/planar/data/roll_splits.json``, or its ``val`` photos with ``split="val"``), each rolled by
    ``per_photo`` fixed seeded angles in ±20° and cropped to its valid rectangle; estimated exactly as
    :func:`viewshift.planar.estimate_roll` does (with the mirrored-photo average; ``crops`` as in
    :func:`viewshift.planar.api.roll_with_network`). The true roll includes each photo's measured own roll
    unless ``references`` is False (:func:`viewshift.planar.roll_data.roll_test_set`). The rolls are seeded with
    ``seed``, by default :data:`EVAL_SEED` for the test photos and :data:`VAL_SEED` for the validation photos.
    """
    from viewshift.planar.api import roll_with_network
    from viewshift.planar.roll_data import roll_test_set

    rows = []
    if seed is None:
        seed = EVAL_SEED if split == "test" else VAL_SEED
    for name, roll, photo in roll_test_set(per_photo, seed=seed, split=split, references=references):
        pred = roll_with_network(model, photo, crops)
        rows.append({"photo": name, "roll": roll, "pred": pred, "error": abs(pred - roll)})
    return summarize_roll(rows)


def summarize_roll(rows: list[dict]) -> dict:
    """The statistics :func:`evaluate_roll` returns, from its rows (``photo``, ``roll``, ``pred``, ``error``),
    possibly pooled over several seeds: count, mean, median, share within 1° and 2°, max, mean per photo (in
    order of first appearance) and the rows themselves."""
    errors = np.array([r["error"] for r in rows])
    per_photo_err: dict[str, float] = {}
    for name in dict.fromkeys(r["photo"] for r in rows):
        per_photo_err[name] = float(np.mean([r["error"] for r in rows if r["photo"] == name]))
    return {
        "count": len(rows),
        "mean": float(errors.mean()),
        "median": float(np.median(errors)),
        "within_1": float((errors <= 1.0).mean()),
        "within_2": float((errors <= 2.0).mean()),
        "max": float(errors.max()),
        "per_photo": per_photo_err,
        "rows": rows,
    }
