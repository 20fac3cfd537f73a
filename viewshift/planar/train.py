"""Training and evaluation of the planar models: typed configs, presets, a resumable loop, metrics.

Inference code (:mod:`viewshift.planar.api`) never imports this module. Every run writes into its folder:
``config.json`` (the dataclass), ``checkpoint.pt`` (model + optimiser + step, for resuming), ``log.txt`` and, at
the end, ``model.pt`` (weights only) + ``model.json`` (the config again, beside the weights).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from viewshift.errors import InputError
from viewshift.planar import angles as A
from viewshift.planar.configs import (
    AlignConfig,
    AlignEnsembleConfig,
    EnsembleConfig,
    RollConfig,
    RotationConfig,
    build_model,
    config_from_dict,
    scored_classes,
)
from viewshift.planar.digits import load_split
from viewshift.planar.models import (
    AlignEnsemble,
    AlignNet,
    AngleEnsemble,
    AngleNet,
    RollMatchNet,
    predict_angles_rot90,
)
from viewshift.planar.warps import elastic_warp, rotate_images, sample_perturbations, warp_images


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().div_(255.0).unsqueeze(1)


# ---------------------------------------------------------------------------------------------- losses / steps
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


class _Task:
    """Data + loss of one config kind, used by the generic loop."""

    def __init__(self, config, data_path: str | None, cache: Path | None = None) -> None:
        self.config = config
        self.data_path = data_path
        if isinstance(config, (RotationConfig, AlignConfig)):
            classes = tuple(config.classes) if isinstance(config, RotationConfig) and config.classes else None
            train = load_split("train", classes, data_path, val_per_class=config.val_per_class)
            self.images = _to_tensor(train.images)
            self.labels = torch.from_numpy(train.labels)
            focus = getattr(config, "eval_classes", None)
            focus_ids = torch.tensor(focus or [], dtype=self.labels.dtype)
            self.focus = torch.nonzero(torch.isin(self.labels, focus_ids)).flatten()
        else:
            from viewshift.planar.roll import build_roll_dataset

            if cache is not None and cache.is_file():
                data = torch.load(cache, weights_only=True)
                feats, rolls = data["features"], data["rolls"]
            else:
                feats, rolls = build_roll_dataset(config, split="train")
                if cache is not None:
                    torch.save({"features": feats, "rolls": rolls}, cache)
            self.images, self.labels = feats, rolls

    def loss(self, model: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        idx = torch.randint(0, self.images.shape[0], (c.batch_size,), generator=generator)
        if isinstance(c, RotationConfig) and c.eval_class_share > 0 and len(self.focus):
            # The first share of the batch comes from the scored classes only.
            n = int(round(c.eval_class_share * c.batch_size))
            idx[:n] = self.focus[torch.randint(0, len(self.focus), (n,), generator=generator)]
        if isinstance(c, RotationConfig):
            angles = torch.rand(c.batch_size, generator=generator) * 360.0 - 180.0
            x = rotate_images(self._augment(self.images[idx], generator), angles)
            out = model(x)
            loss = rotation_loss(c, out, angles)
            err = A.angle_difference(model.decode(out.detach()), angles).abs().mean()
            return loss, {"err_deg": float(err)}
        if isinstance(c, AlignConfig):
            canvas = self._augment(self.images[idx], generator)
            h0 = sample_perturbations(
                c.batch_size, c.warp_kind, c.corner_sigma, c.translation_sigma, generator=generator
            )
            perturbed = warp_images(canvas, h0)[0]
            if c.protocol == "paper" and c.recurrent:
                logits = model(perturbed, source=canvas, init=h0)
            else:
                logits = model(perturbed)
            labels = self.labels[idx]
            loss = F.cross_entropy(logits, labels)
            return loss, {"acc": float((logits.argmax(-1) == labels).float().mean())}
        feats, rolls = self.images[idx], self.labels[idx]
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

    def _augment(self, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Elastic + scale augmentation of ``(B, 1, 28, 28)`` upright digits, when the config asks for it."""
        c = self.config
        if c.elastic_alpha <= 0 and c.scale_jitter <= 0:
            return digits
        return elastic_warp(digits, c.elastic_alpha, c.elastic_sigma, c.scale_jitter, generator)

    def validate(self, model: torch.nn.Module) -> float | None:
        """Validation score (lower is better) on the held-out validation split, or None without one.

        Rotation: mean absolute angle error in degrees with the 4 quarter-turn views (what the API uses).
        Alignment: classification error in the input-image protocol. Roll: mean absolute roll error.
        """
        c = self.config
        was_training = model.training
        model.eval()
        try:
            if isinstance(c, RotationConfig):
                if not c.val_per_class:
                    return None
                images, angles, _ = rotation_test_set(scored_classes(c), data_path=self.data_path, split="val", cfg=c)
                with torch.no_grad():
                    pred = torch.cat(
                        [predict_angles_rot90(model, images[i : i + 512], 4) for i in range(0, len(images), 512)]
                    )
                return float(A.angle_difference(pred, angles).abs().mean())
            if isinstance(c, AlignConfig):
                if not c.val_per_class:
                    return None
                _, _, perturbed, labels = align_test_set(data_path=self.data_path, cfg=c, split="val")
                with torch.no_grad():
                    pred = torch.cat([model(perturbed[i : i + 500]).argmax(-1) for i in range(0, len(labels), 500)])
                return float((pred != labels).float().mean())
            if not c.val_photos:
                return None
            return evaluate_roll(model, split="val", per_photo=c.val_rolls_per_photo)["mean"]
        finally:
            model.train(was_training)

    def param_groups(self, model: torch.nn.Module) -> list[dict]:
        c = self.config
        if isinstance(c, AlignConfig) and model.predictor is not None:
            return [
                {"params": model.classifier.parameters(), "lr": c.lr},
                {"params": model.predictor.parameters(), "lr": c.lr_predictor},
            ]
        return [{"params": model.parameters(), "lr": c.lr}]


def train(
    config: RotationConfig | AlignConfig | RollConfig,
    out_dir: str | Path,
    *,
    data_path: str | None = None,
    resume: bool = True,
    log_every: int = 100,
    checkpoint_every: int = 250,
    max_steps: int | None = None,
    threads: int = 1,
    validate_from: float = 0.5,
) -> Path:
    """Train a config, resumably; returns the path of the final ``model.pt``.

    Args:
        config: what to train.
        out_dir: run folder (created); an existing ``checkpoint.pt`` there is resumed when ``resume``.
        data_path: digit mosaic path (digit configs); default location when None.
        resume: continue from ``out_dir/checkpoint.pt`` if present.
        log_every: steps between log lines.
        checkpoint_every: steps between checkpoints.
        max_steps: override ``config.steps`` (smoke tests, longer runs); the schedule and the saved config use it.
        threads: ``torch.set_num_threads`` for the run.
        validate_from: score the validation split at checkpoints from this fraction of the steps on (configs
            with a validation split only); ``model.pt`` is the best-scoring of those checkpoints.
    """
    torch.set_num_threads(threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = max_steps if max_steps is not None else config.steps
    # The saved config records the steps actually trained (an override via max_steps included).
    config = dataclasses.replace(config, steps=steps)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    torch.manual_seed(config.seed)
    task = _Task(config, data_path, cache=out / "dataset.pt")
    model = build_model(config)
    if getattr(config, "optimizer", "adam") == "adadelta":
        opt = torch.optim.Adadelta(task.param_groups(model), rho=0.95, eps=1e-7)
    else:
        opt = torch.optim.Adam(task.param_groups(model))
    base_lrs = [g["lr"] for g in opt.param_groups]
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step = state["step"]
    best_val: float | None = None
    if resume and (out / "best.pt").is_file():
        best_val = float(torch.load(out / "best.pt", map_location="cpu", weights_only=True)["val"])
    log = (out / "log.txt").open("a")
    model.train()
    t0 = time.time()
    running: dict[str, float] = {}
    while step < steps:
        # Cosine decay to 0 (Adadelta, as in the Keras example, keeps its constant rate).
        scale = 0.5 * (1.0 + math.cos(math.pi * step / steps)) if not isinstance(opt, torch.optim.Adadelta) else 1.0
        for group, lr in zip(opt.param_groups, base_lrs, strict=True):
            group["lr"] = lr * scale
        loss, stats = task.loss(model, generator)
        opt.zero_grad()
        loss.backward()
        clip = getattr(config, "clip_grad", 5.0)
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        step += 1
        running["loss"] = running.get("loss", 0.0) + float(loss.detach())
        for k, v in stats.items():
            running[k] = running.get(k, 0.0) + v
        if step % log_every == 0 or step == steps:
            n = log_every if step % log_every == 0 else step % log_every
            msg = " ".join(f"{k}={v / n:.4f}" for k, v in running.items())
            log.write(f"step {step}/{steps} {msg} t={time.time() - t0:.0f}s\n")
            log.flush()
            running = {}
        if (step % checkpoint_every == 0 or step == steps) and step >= validate_from * steps:
            score = task.validate(model)
            if score is not None:
                log.write(f"step {step}/{steps} val={score:.5f}\n")
                log.flush()
                if best_val is None or score <= best_val:
                    best_val = score
                    torch.save({"step": step, "val": score, "model": model.state_dict()}, out / "best.pt")
        if step % checkpoint_every == 0 or step == steps:
            tmp = ckpt.with_suffix(".tmp")
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "generator": generator.get_state(),
                    "step": step,
                },
                tmp,
            )
            tmp.replace(ckpt)
    log.close()
    model.eval()
    final = out / "model.pt"
    record = dataclasses.asdict(config)
    best = out / "best.pt"
    if best.is_file():
        # Checkpoint selection on the validation split: keep the weights with the best validation score.
        state = torch.load(best, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        record["selected_step"], record["val_score"] = int(state["step"]), float(state["val"])
    torch.save(model.state_dict(), final)
    (out / "model.json").write_text(json.dumps(record, indent=2))
    return final


def load_run(path: str | Path) -> tuple[torch.nn.Module, RotationConfig | AlignConfig | RollConfig]:
    """Load ``model.pt`` + ``model.json`` (a run folder, or the ``.pt`` path) in eval mode."""
    p = Path(path)
    pt = p / "model.pt" if p.is_dir() else p
    cfg_path = pt.with_suffix(".json")
    if not pt.is_file() or not cfg_path.is_file():
        raise InputError(f"no model weights + config at {pt} / {cfg_path}; train first or pass a run folder")
    config = config_from_dict(json.loads(cfg_path.read_text()))
    model = build_model(config)
    model.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
    model.eval()
    return model, config


# ------------------------------------------------------------------------------------------------- evaluation
EVAL_SEED = 1234
VAL_SEED = 4321


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
    base = _to_tensor(test.images).repeat_interleave(per_image, 0)
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
    canvas = _to_tensor(test.images).repeat_interleave(per_image, 0)
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
    """Mean/median absolute roll error on the held-out photos (:data:`viewshift.planar.roll.ROLL_TEST_PHOTOS`,
    or :data:`~viewshift.planar.roll.ROLL_VAL_PHOTOS` with ``split="val"``), each rolled by ``per_photo`` fixed
    seeded angles in ±20° and cropped to its valid rectangle; estimated exactly as
    :func:`viewshift.planar.estimate_roll` does (with the mirrored-photo average; ``crops`` as in
    :func:`viewshift.planar.api.roll_with_network`). The true roll includes each photo's measured own roll
    unless ``references`` is False (:func:`viewshift.planar.roll.roll_test_set`). The rolls are seeded with
    ``seed``, by default :data:`EVAL_SEED` for the test photos and :data:`VAL_SEED` for the validation photos.
    """
    from viewshift.planar.api import roll_with_network
    from viewshift.planar.roll import roll_test_set

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


def evaluate_run(model: torch.nn.Module, config, split: str = "test") -> dict:
    """Evaluate a model by its config kind on the fixed held-out test (or validation) set of that kind.

    ``split="val"`` needs a config with a validation split (``val_per_class`` > 0 or ``val_photos``).
    """
    if split not in ("test", "val"):
        raise InputError(f"unknown evaluation split {split!r}; use 'test' or 'val'")
    members = getattr(config, "members", [config])
    if split == "val" and not all(getattr(m, "val_per_class", 0) or getattr(m, "val_photos", False) for m in members):
        raise InputError(f"preset {config.preset!r} was trained without a validation split; evaluate on 'test'")
    if isinstance(config, RotationConfig):
        return evaluate_rotation(model, scored_classes(config), split=split, cfg=config)
    if isinstance(config, (AlignConfig, AlignEnsembleConfig)):
        return evaluate_align(model, config, split=split)
    return evaluate_roll(model, split=split, per_photo=config.val_rolls_per_photo if split == "val" else 10)


def load_ensemble(
    run_dirs: list[str | Path], name: str = "ensemble"
) -> tuple[AngleEnsemble, EnsembleConfig] | tuple[AlignEnsemble, AlignEnsembleConfig]:
    """Rotation runs assembled into an :class:`AngleEnsemble`, or alignment runs into an
    :class:`AlignEnsemble` (eval mode), and its config."""
    loaded = [load_run(r) for r in run_dirs]
    if loaded and all(isinstance(c, RotationConfig) for _, c in loaded):
        ensemble, config = AngleEnsemble([m for m, _ in loaded]), EnsembleConfig(name, [c for _, c in loaded])
    elif loaded and all(isinstance(c, AlignConfig) for _, c in loaded):
        ensemble, config = AlignEnsemble([m for m, _ in loaded]), AlignEnsembleConfig(name, [c for _, c in loaded])
    else:
        raise InputError("an ensemble needs one or more runs, all rotation or all alignment runs")
    ensemble.eval()
    return ensemble, config


def with_vanishing_gate(config: RollConfig, gate: tuple[float, ...]) -> RollConfig:
    """``config`` with the vanishing-point gate ``(support, ambiguity)`` or ``(support, ambiguity, agreement)``
    (:class:`viewshift.planar.roll.VanishingGate`; agreement 0 or absent: none)."""
    support, ambiguity, *agreement = gate
    return dataclasses.replace(
        config,
        vanishing_support=support,
        vanishing_ambiguity=ambiguity,
        vanishing_agreement=agreement[0] if agreement else 0.0,
    )


def export_weights(
    run_dir: str | Path | list[str | Path],
    name: str,
    weights_dir: str | Path,
    vanishing_gate: tuple[float, ...] | None = None,
) -> Path:
    """Write a run's final weights as float16 ``<name>.pt`` + ``<name>.json`` into ``weights_dir``.

    Several rotation runs are written as one :class:`AngleEnsemble`, several alignment runs as one
    :class:`AlignEnsemble`. ``vanishing_gate`` ``(support, ambiguity)`` or ``(support, ambiguity, agreement)``
    (roll runs only) is written into the config: inference then levels photos with a clear vertical vanishing point
    (that agrees with the network) by it
    (:func:`viewshift.planar.api.roll_with_network`).
    """
    runs = run_dir if isinstance(run_dir, list) else [run_dir]
    if len(runs) > 1:
        model, config = load_ensemble(runs, name)
    else:
        model, config = load_run(runs[0])
    if vanishing_gate is not None:
        if not isinstance(config, RollConfig):
            raise InputError("--vanishing-gate applies to photo-roll runs only")
        config = with_vanishing_gate(config, vanishing_gate)
    out = Path(weights_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    tmp = out / f".{name}.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(out / f"{name}.pt")
    (out / f"{name}.json").write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    return out / f"{name}.pt"
