"""Generic training loop: typed config, named presets, atomic resumable checkpoints, DistributedDataParallel.

A run lives in one folder ``OUT``::

    OUT/config.json        the TrainConfig (also stored inside every checkpoint)
    OUT/checkpoint.pt      the latest checkpoint (written to a temporary file, then os.replace'd)
    OUT/log.jsonl          one line of losses per logged step

Resuming (``resume=True``, the default) restarts from ``OUT/checkpoint.pt`` and gives the same batches as an
uninterrupted run: every step's data is drawn from generators seeded by ``(seed, step, rank)``, never from a
stateful sampler, and the model, optimiser and step counter are restored.

Data parallelism: under ``torchrun --nproc_per_node P`` (or several machines) each process trains on its own
batches; gradients are averaged by :class:`torch.nn.parallel.DistributedDataParallel` with the ``gloo``
backend (CPU). Only rank 0 writes checkpoints and logs. The effective batch is ``P × batch_size``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from viewshift.depth.network import DepthNet, depth_preset
from viewshift.errors import InputError
from viewshift.geometry import pose_vector_to_matrix
from viewshift.io.atomic import save_torch
from viewshift.learn import losses as L
from viewshift.learn.pose_net import PoseExpNet, explainability_probability, pose_preset


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as JSON beside every checkpoint).

    Attributes:
        preset: the preset this config started from (informational).
        depth_net: depth network preset (``tiny``, ``small``, ``paper``).
        pose_net: pose/explainability network preset, or ``""`` for no pose network (all data has known poses).
        explainability: predict explainability masks (SfMLearner's ``E``).
        height, width: training resolution.
        batch_size: samples per step and process.
        num_sources: source frames per sequence snippet (2: the target and its two neighbours).
        steps: total optimisation steps.
        lr: Adam learning rate; beta1: Adam's first moment decay.
        seed: seeds the networks' initialisation and every step's data.
        threads: torch intra-op threads per process.
        clips: clip folders for sequence snippets (self-supervised through the pose network).
        clip_stride: frames between the target and its neighbours.
        stereo: Middlebury-style roots of rectified stereo pairs (known pose = photometric supervision,
            ground-truth disparity = supervised term).
        stereo_holdout: stereo scene names (e.g. ``MiddEval3/Piano``) never trained on.
        synthetic: draw batches of procedural scenes (see :mod:`viewshift.learn.synthetic`).
        pseudo: folders (or ``manifest.json`` files) of pseudo-labelled frames written by
            ``bench/make_pseudo_labels.py`` (see :mod:`viewshift.learn.data.pseudo`): single frames supervised by
            geometric depth, every pixel weighted by the label's confidence.
        pseudo_min_confidence: pseudo-label pixels below this confidence are not supervised.
        synthetic_scenes: size of the pool of procedural scenes (each ray-cast once, then re-augmented).
        texture_dirs: folders of photos used as textures of the procedural scenes.
        mix: relative frequency of ``clips``, ``stereo``, ``synthetic`` and ``pseudo`` batches (those present).
        augment: random scale + crop, mirror and colour jitter of every kind of data (False: centred crops,
            no mirror, no jitter; for ablations).
        smooth_weight: ``lambda_s``; explain_weight: ``lambda_e``; ssim_weight: SSIM share ``alpha``.
        edge_aware: edge-aware instead of plain second-order smoothness.
        photometric_weight: weight of the view-synthesis term.
        supervised_weight: weight of the scale-and-shift-invariant disparity loss where depth is known.
        gradient_weight: weight of the gradient-matching term where depth is known.
        silog_weight: weight of the scale-invariant log-depth loss where inverse depth is known up to scale.
        ranking_weight: weight of the ordinal loss on pixel pairs across depth edges of the supervision
            (:func:`~viewshift.learn.losses.edge_ranking_loss`), which makes object boundaries depth edges.
        anchor_weight: weight of a scale-invariant log-depth loss towards the prediction of the initial depth
            network (frozen copy of ``init``), which keeps test-time fitting from drifting away from it.
        init: a checkpoint or depth model file to start the depth (and pose) network from.
        channels_last: keep the networks' weights and activations in the channels-last memory layout (oneDNN
            convolutions then skip layout reorders; same values to float rounding). Speed only: on by default
            (about 20-40 % faster training steps for the ``tiny``, ``small`` and ``paper`` networks; see
            docs/depth.md), off in the ``builtin`` preset, whose recorded runs used the contiguous layout.
        compile: ``torch.compile`` the two networks and the SfMLearner objective (CPU: C++ code generated by
            inductor; the first step takes minutes, later steps are faster). Speed only; see
            ``bench/train_speed.py`` and docs/depth.md.
        checkpoint_every: write a checkpoint every this many steps...
        checkpoint_minutes: ...and at least this often.
        log_every: log losses every this many steps.
    """

    preset: str = "small"
    depth_net: str = "small"
    pose_net: str = "small"
    explainability: bool = True
    height: int = 128
    width: int = 416
    batch_size: int = 4
    num_sources: int = 2
    steps: int = 20_000
    lr: float = 2e-4
    beta1: float = 0.9
    seed: int = 0
    threads: int = 1
    clips: list[str] = field(default_factory=list)
    clip_stride: int = 1
    stereo: list[str] = field(default_factory=list)
    stereo_holdout: list[str] = field(default_factory=list)
    synthetic: bool = False
    synthetic_scenes: int = 1000
    texture_dirs: list[str] = field(default_factory=list)
    pseudo: list[str] = field(default_factory=list)
    pseudo_min_confidence: float = 0.1
    mix: dict[str, float] = field(default_factory=lambda: {"clips": 1.0, "stereo": 1.0, "synthetic": 1.0})
    augment: bool = True
    smooth_weight: float = 0.5
    explain_weight: float = 0.2
    ssim_weight: float = 0.0
    edge_aware: bool = False
    photometric_weight: float = 1.0
    supervised_weight: float = 1.0
    gradient_weight: float = 0.5
    silog_weight: float = 0.0
    ranking_weight: float = 0.0
    anchor_weight: float = 0.0
    init: str = ""
    channels_last: bool = True
    compile: bool = False
    checkpoint_every: int = 500
    checkpoint_minutes: float = 5.0
    log_every: int = 10

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        return config_from_dict(cls, d, "training")


def config_from_dict(cls, d: dict, what: str):
    """``cls(**d)`` for a config dataclass, refusing unknown keys with one line naming them."""
    unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise InputError(f"unknown {what} config keys {sorted(unknown)}")
    return cls(**d)


PRESETS: dict[str, dict] = {
    # Two-step smoke runs and tests: tiny networks, tiny images.
    "tiny": dict(depth_net="tiny", pose_net="tiny", height=32, width=64, batch_size=2, steps=2, log_every=1),
    # SfMLearner sized for a 2-CPU machine: the small networks at the paper's 128×416.
    "small": dict(depth_net="small", pose_net="small", height=128, width=416, batch_size=4),
    # The paper's setting: DispNet-sized depth network, 128×416, batch 4, Adam 2e-4, beta1 0.9.
    "paper": dict(depth_net="paper", pose_net="paper", height=128, width=416, batch_size=4),
    # The built-in model: depth only, synthetic scenes + stereo pairs (known poses), 192×256.
    "builtin": dict(
        depth_net="small",
        pose_net="",
        explainability=False,
        height=192,
        width=256,
        batch_size=6,
        synthetic=True,
        ssim_weight=0.85,
        edge_aware=True,
        smooth_weight=0.1,
        silog_weight=1.0,
        lr=5e-4,
        channels_last=False,  # the shipped weights and their fine-tunes were trained contiguous; not timed
    ),
    # Test-time fitting to one clip (``viewshift fit``): start from the built-in model.
    "fit": dict(
        depth_net="small",
        pose_net="small",
        height=192,
        width=256,
        batch_size=2,
        lr=1e-4,
        ssim_weight=0.85,
        edge_aware=True,
        smooth_weight=0.1,
        explainability=False,
    ),
}


def make_config(preset: str = "small", **overrides) -> TrainConfig:
    """A :class:`TrainConfig` from a named preset with fields overridden (None values are ignored)."""
    if preset not in PRESETS:
        raise InputError(f"unknown training preset {preset!r}; choose one of {sorted(PRESETS)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig.from_dict({"preset": preset, **values})


# ------------------------------------------------------------------------------------------------- the model


class SfmModel(nn.Module):
    """The depth network and (optionally) the pose/explainability network, and the losses of one batch."""

    def __init__(self, config: TrainConfig):
        super().__init__()
        self.config = config
        self.depth_net = DepthNet(depth_preset(config.depth_net))
        self.pose_net = (
            PoseExpNet(pose_preset(config.pose_net, config.num_sources, config.explainability))
            if config.pose_net
            else None
        )
        self.anchor: DepthNet | None = None
        self.objective = L.sfm_objective
        if config.channels_last:
            self.to(memory_format=torch.channels_last)
        if config.compile:
            # In place (no ``_orig_mod.`` prefix), so state_dict keys and checkpoints are unchanged.
            self.depth_net.compile(dynamic=False)
            if self.pose_net is not None:
                self.pose_net.compile(dynamic=False)
            self.objective = torch.compile(L.sfm_objective, dynamic=False)

    def freeze_anchor(self) -> None:
        """Keep a frozen copy of the current depth network as the target of the anchor loss."""
        anchor = DepthNet(self.depth_net.config).eval()
        anchor.load_state_dict(self.depth_net.state_dict())
        for p in anchor.parameters():
            p.requires_grad_(False)
        # Not registered as a sub-module: it stays out of state_dict, checkpoints, the optimiser and DDP.
        object.__setattr__(self, "anchor", anchor)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Losses of one batch (see :mod:`viewshift.learn.losses`); ``"loss"`` is the total to minimise."""
        c = self.config
        target, sources, K = batch["target"], batch["sources"], batch["K"]
        depths = self.depth_net(target)
        out: dict[str, torch.Tensor] = {}
        total = 0.0 * depths[0].sum()  # keeps a graph even for a batch no term applies to
        masks = None
        if bool(batch["has_pose"].all()):
            src_T_tgt = batch["src_T_tgt"]
            if self.pose_net is not None:  # keep every parameter in the graph for DDP
                total = total + 0.0 * sum(p.sum() for p in self.pose_net.parameters())
        elif self.pose_net is not None and sources.shape[1] == self.pose_net.config.num_sources:
            vec, logits = self.pose_net(target, sources)
            b, n = vec.shape[:2]
            src_T_tgt = pose_vector_to_matrix(vec.reshape(b * n, 6)).reshape(b, n, 4, 4)
            if logits is not None:
                masks = [explainability_probability(m) for m in logits]
        else:
            src_T_tgt = None
        if src_T_tgt is not None and c.photometric_weight > 0:
            parts = self.objective(
                target,
                sources,
                depths,
                src_T_tgt,
                K,
                masks,
                smooth_weight=c.smooth_weight,
                explain_weight=c.explain_weight,
                ssim_weight=c.ssim_weight,
                edge_aware=c.edge_aware,
            )
            total = total + c.photometric_weight * parts.pop("loss")
            out.update(parts)
        if bool(batch["has_depth"].any()) and c.supervised_weight > 0:
            has = batch["has_depth"].reshape(-1, 1, 1, 1)
            valid = batch["depth_valid"] & has
            disp = 1.0 / depths[0]
            weight = batch.get("depth_weight")  # pseudo-labels: confidence per pixel
            ssi = L.scale_shift_invariant_loss(disp, batch["depth"], valid, weight=weight)
            grad = L.gradient_matching_loss(disp, batch["depth"], valid, weight=weight)
            total = total + c.supervised_weight * ssi + c.gradient_weight * grad
            out["ssi"], out["grad"] = ssi.detach(), grad.detach()
            if c.ranking_weight > 0:
                rank = L.edge_ranking_loss(disp, batch["depth"], valid, weight=weight)
                total = total + c.ranking_weight * rank
                out["rank"] = rank.detach()
            metric = batch["has_metric_depth"].reshape(-1, 1, 1, 1)
            if c.silog_weight > 0 and bool(metric.any()):
                silog = L.scale_invariant_log_loss(depths[0], batch["depth"], valid & metric)
                total = total + c.silog_weight * silog
                out["silog"] = silog.detach()
        if self.anchor is not None and c.anchor_weight > 0:
            with torch.no_grad():
                ref = self.anchor(target)[0]
            anchor = L.scale_invariant_log_loss(depths[0], 1.0 / ref, torch.ones_like(ref, dtype=torch.bool))
            total = total + c.anchor_weight * anchor
            out["anchor"] = anchor.detach()
        out["loss"] = total
        return out


# ------------------------------------------------------------------------------------------------------ data


class DataMix:
    """The training data: datasets by kind and, per step, which kind and which samples to use."""

    def __init__(self, config: TrainConfig):
        from viewshift.learn import data as D

        c = config
        size = (c.height, c.width)
        self.datasets: dict[str, torch.utils.data.Dataset] = {}
        if c.clips:
            sets = [
                D.SequenceDataset(
                    D.read_clip(p),
                    size,
                    num_sources=c.num_sources,
                    stride=c.clip_stride,
                    seed=c.seed,
                    augment=c.augment,
                )
                for p in c.clips
            ]
            self.datasets["clips"] = torch.utils.data.ConcatDataset(sets)
        if c.stereo:
            pairs = [p for root in c.stereo for p in D.middlebury_pairs(root)]
            held = set(c.stereo_holdout)
            pairs = [p for p in pairs if p.name not in held and p.name.split("/")[-1] not in held]
            if not pairs:
                raise InputError(f"no stereo pairs found under {c.stereo} (after holding out {sorted(held)})")
            self.datasets["stereo"] = D.StereoDataset(pairs, size, seed=c.seed, augment=c.augment)
        if c.synthetic:
            from viewshift.learn.synthetic import SyntheticScenes, load_textures

            held_scenes = {h.split("/")[-1] for h in c.stereo_holdout}
            paths = [
                p
                for d in c.texture_dirs
                for p in sorted(Path(d).rglob("*"))
                if p.suffix.lower() in D.IMAGE_SUFFIXES
                and "disp" not in p.name
                and not held_scenes.intersection(p.parts)
            ]
            textures = load_textures(paths, seed=c.seed)
            self.datasets["synthetic"] = SyntheticScenes(
                textures, size, num_sources=1, seed=c.seed, length=c.synthetic_scenes, cache=True, augment=c.augment
            )
        if c.pseudo:
            files = [f for p in c.pseudo for f in D.read_pseudo_manifest(p)]
            self.datasets["pseudo"] = D.PseudoDepthDataset(
                files, size, augment=c.augment, min_confidence=c.pseudo_min_confidence, seed=c.seed
            )
        if not self.datasets:
            raise InputError("no training data: give clips, stereo roots, synthetic scenes or pseudo-labels")
        kinds = list(self.datasets)
        weights = np.array([c.mix.get(k, 1.0) for k in kinds], dtype=np.float64)
        self.kinds, self.weights = kinds, weights / weights.sum()
        self.config = config

    def batch(self, step: int, rank: int = 0) -> dict[str, torch.Tensor]:
        """The batch of ``step`` for process ``rank``: the same kind on every rank, different samples."""
        c = self.config
        kind = self.kinds[np.random.default_rng([c.seed, step]).choice(len(self.kinds), p=self.weights)]
        ds = self.datasets[kind]
        rng = np.random.default_rng([c.seed, step, rank, 1])
        idx = rng.integers(0, len(ds), size=c.batch_size)
        for d in getattr(ds, "datasets", [ds]):
            d.epoch = step  # per-step augmentation seeds
        samples = [ds[int(i)] for i in idx]
        keys = set.intersection(*(set(s) for s in samples))
        return {k: torch.stack([s[k] for s in samples]) for k in keys}


# ----------------------------------------------------------------------------------------------- checkpoints


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` through :func:`viewshift.io.atomic_path`."""
    from viewshift.io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text)


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint written by :func:`train` (tensors and plain containers only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def resume_state(path: Path, config: Any) -> dict:
    """The checkpoint at ``path``, to resume a run of ``config``: the saved config must equal it but for ``steps``.

    Args:
        path: the run's ``checkpoint.pt`` (holding its config as JSON under ``"config"``).
        config: the run's config dataclass (:class:`TrainConfig`, or another with ``from_dict`` and ``steps``).

    Raises:
        InputError: the checkpoint was written with a different config.
    """
    state = load_checkpoint(path)
    saved = type(config).from_dict(json.loads(state["config"]))
    if dataclasses.replace(saved, steps=config.steps) != config:
        raise InputError(f"{path} was written with a different config; use a new folder or --no-resume")
    return state


def _init_from(model: SfmModel, path: str) -> None:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "model" in state:  # a training checkpoint
        missing = model.load_state_dict(state["model"], strict=False)
        if missing.unexpected_keys or any(k.startswith("depth_net.") for k in missing.missing_keys):
            raise InputError(f"{path}: checkpoint does not match the configured networks ({missing})")
    else:  # a depth model file
        model.depth_net.load_state_dict(state["state_dict"])


# ------------------------------------------------------------------------------------------------------ loop


class StepLog:
    """What a training loop reports: ``log.jsonl`` in the run folder and a tqdm progress bar.

    Each logged step is one JSON line ``{"step", "time" (seconds since the log opened), losses (5 decimals),
    extras}``, flushed at once so a killed run keeps it; the bar shows every step's losses (4 decimals). With
    ``enabled=False`` (processes other than rank 0) nothing is written or shown. A context manager; leaving it
    closes the bar and the file.

    Attributes:
        start: ``time.monotonic()`` when the log opened.
    """

    def __init__(self, out: Path, *, desc: str, total: int, initial: int, progress: bool, enabled: bool = True):
        self.bar = None
        if progress and enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True)
        self.start = time.monotonic()
        self.file = open(out / "log.jsonl", "a") if enabled else None  # noqa: SIM115 - closed by __exit__

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.file is not None:
            self.file.close()

    def write(self, line: dict) -> None:
        """Append ``line`` to ``log.jsonl`` as one JSON line."""
        if self.file is not None:
            self.file.write(json.dumps(line) + "\n")
            self.file.flush()

    def log(self, step: int, losses: dict[str, torch.Tensor], **extra: float) -> dict[str, float]:
        """Write the losses of ``step`` (and ``extra`` values after them); returns what was logged, but the time."""
        logged = {k: round(float(v.detach()), 5) for k, v in losses.items()} | extra
        self.write({"step": step, "time": round(time.monotonic() - self.start, 1), **logged})
        return logged

    def show(self, losses: dict[str, torch.Tensor]) -> None:
        """Advance the bar by one step and show ``losses``."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{float(v.detach()):.4f}" for k, v in losses.items()})


def _distributed() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(
    config: TrainConfig,
    out: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
    max_seconds: float | None = None,
) -> dict:
    """Train (or resume) a run in folder ``out``; returns the last logged losses.

    Args:
        config: the run's :class:`TrainConfig` (on resume, the saved one must match).
        out: the run folder.
        resume: continue from ``out/checkpoint.pt`` when it exists.
        progress: show a tqdm progress bar (rank 0).
        max_seconds: stop (after writing a checkpoint) once this much wall time has passed.
    """
    rank, world = _distributed()
    torch.set_num_threads(config.threads)
    out = Path(out)
    ckpt_path = out / "checkpoint.pt"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = SfmModel(config)
    if config.init:
        _init_from(model, config.init)
    if config.anchor_weight > 0:
        model.freeze_anchor()
    opt = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=config.lr, betas=(config.beta1, 0.999)
    )
    step = 0
    if resume and ckpt_path.exists():
        state = resume_state(ckpt_path, config)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
    if rank == 0:
        write_text_atomic(config.to_json(), out / "config.json")
    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model)
    data = DataMix(config)

    def checkpoint() -> None:
        if rank == 0:
            save_torch(
                {
                    "step": step,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "config": config.to_json(),
                },
                ckpt_path,
            )

    logged: dict = {}
    with StepLog(out, desc="train", total=config.steps, initial=step, progress=progress, enabled=rank == 0) as report:
        last_ckpt = report.start
        model.train()
        while step < config.steps:
            batch = data.batch(step, rank)
            losses = net(batch)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            opt.step()
            step += 1
            if step % config.log_every == 0 or step == config.steps:
                logged = report.log(step, losses)
            report.show(losses)
            now = time.monotonic()
            timed_out = max_seconds is not None and now - report.start > max_seconds
            if step % config.checkpoint_every == 0 or now - last_ckpt > 60 * config.checkpoint_minutes or timed_out:
                checkpoint()
                last_ckpt = now
            if timed_out:
                break
        checkpoint()
    if world > 1:
        dist.barrier()
    return {"step": step, **logged}
