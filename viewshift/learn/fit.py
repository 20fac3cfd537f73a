"""Fit depth and ego-motion to one clip (test-time training), and read the fitted poses back.

:func:`fit_clip` starts from the built-in depth model and a fresh pose network and trains both on the clip's
snippets with the self-supervised SfMLearner objective (no labels) for a wall-time budget. It writes

* ``MODEL`` — a depth model file (``viewshift.depth.builtin.load_builtin(MODEL)`` loads it; ``viewshift render
  --model MODEL`` uses it), and
* ``MODEL.run/`` — the training run (config, checkpoint with the pose network, log) for :func:`predict_snippets`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from viewshift.errors import InputError, OutputError


def fit_clip(
    clip: str | Path,
    out: str | Path,
    *,
    seconds: float = 600.0,
    steps: int = 100_000,
    stride: int = 1,
    size: tuple[int, int] | None = None,
    init: str | Path | None = None,
    threads: int = 1,
    seed: int = 0,
    anchor_weight: float = 10.0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Fine-tune depth and pose on ``clip`` for at most ``seconds`` (or ``steps``) and write ``out``.

    Args:
        clip: a clip folder (``viewshift make-clip``).
        out: the depth model file to write; the run goes to ``out.run/``.
        seconds: wall-time budget of the optimisation.
        steps: step cap.
        stride: frames between a target and its neighbours.
        size: training ``(H, W)``; default the initial model's input size.
        init: depth model file to start from (default: the built-in weights).
        threads: torch threads.
        seed: data and initialisation seed.
        anchor_weight: weight of the loss keeping depth close (up to scale) to the initial model's; without it
            (0) fitting on the 7-Scenes clip drifted towards flat depth (docs/depth.md).
        overwrite: replace an existing ``out`` (and its run).
        progress: show a progress bar.

    Returns:
        The trainer's last losses plus ``"model"`` and ``"run"`` paths.
    """
    import shutil

    from viewshift.depth.builtin import BUILTIN_WEIGHTS, load_depth_network
    from viewshift.learn.data import read_clip
    from viewshift.learn.export import checkpoint_to_model
    from viewshift.learn.trainer import make_config, train

    out = Path(out)
    run = out.with_name(out.name + ".run")
    if (out.exists() or run.exists()) and not overwrite:
        raise OutputError(f"{out} (or {run}) exists; pass --overwrite to replace it")
    if run.exists():
        shutil.rmtree(run)
    read_clip(clip)  # fail early on a bad clip
    init = Path(init) if init is not None else BUILTIN_WEIGHTS
    net, input_size, _ = load_depth_network(init)
    h, w = size if size is not None else input_size
    preset = _preset_of(net)
    config = make_config(
        "fit",
        depth_net=preset,
        clips=[str(Path(clip).resolve())],
        clip_stride=stride,
        init=str(init.resolve()),
        height=h,
        width=w,
        steps=steps,
        threads=threads,
        seed=seed,
        anchor_weight=anchor_weight,
        checkpoint_minutes=2.0,
    )
    result = train(config, run, resume=False, progress=progress, max_seconds=seconds)
    checkpoint_to_model(run / "checkpoint.pt", out, {"fitted_to": str(Path(clip).resolve())})
    return {**result, "model": str(out), "run": str(run)}


def _preset_of(net) -> str:
    from viewshift.depth.network import DEPTH_PRESETS

    for name, cfg in DEPTH_PRESETS.items():
        if cfg == net.config:
            return name
    raise InputError("the initial depth model is not one of the named presets; fit needs a preset network")


def load_run(run: str | Path):
    """The :class:`~viewshift.learn.trainer.SfmModel` (eval mode) and config of a run folder or checkpoint."""
    from viewshift.learn.trainer import SfmModel, TrainConfig, load_checkpoint

    path = Path(run)
    ckpt = path / "checkpoint.pt" if path.is_dir() else path
    if not ckpt.exists():
        raise InputError(f"no checkpoint at {ckpt}")
    state = load_checkpoint(ckpt)
    config = TrainConfig.from_dict(json.loads(state["config"]))
    model = SfmModel(config)
    model.load_state_dict(state["model"])
    return model.eval(), config


@torch.no_grad()
def predict_snippets(run: str | Path, clip: str | Path, *, stride: int | None = None) -> dict:
    """Pose-network trajectories of every snippet of a clip with poses, scored against ``poses.txt``.

    For the snippet centred on frame ``t`` the network gives ``src_T_tgt`` for its neighbours; the snippet's
    predicted ``world_T_cam`` are ``inv(src_T_tgt)`` (target = world) and are compared with the clip's poses by
    :func:`viewshift.learn.metrics.snippet_ate` (per-snippet least-squares scale).

    Returns:
        ``{"snippets", "ate_mean", "ate_std", "rot_deg_mean", "gt_path_mean", "ate_zero_motion"}``:
        ``gt_path_mean`` is the mean length of the ground-truth snippet path (for scale) and ``ate_zero_motion``
        the ATE of predicting no motion at all (the trivial baseline).
    """
    from viewshift.learn.data import SequenceDataset, read_clip
    from viewshift.learn.metrics import snippet_ate

    model, config = load_run(run)
    if model.pose_net is None:
        raise InputError(f"{run} has no pose network")
    c = read_clip(clip)
    if c.world_T_cam is None:
        raise InputError(f"clip {clip} has no poses.txt to compare with")
    stride = stride or config.clip_stride
    ds = SequenceDataset(c, (config.height, config.width), num_sources=config.num_sources, stride=stride, augment=False)
    from viewshift.geometry import pose_vector_to_matrix

    ates, rots, paths, still = [], [], [], []
    for k in range(len(ds)):
        s = ds[k]
        vec, _ = model.pose_net(s["target"][None], s["sources"][None])
        src_T_tgt = pose_vector_to_matrix(vec[0].double()).numpy()
        t = ds.indices[k]
        ids = sorted([t, *ds.neighbours(t)])
        pred = {t: np.eye(4)}
        for j, sid in enumerate(ds.neighbours(t)):
            pred[sid] = np.linalg.inv(src_T_tgt[j])
        P = np.stack([pred[i] for i in ids])
        G = np.stack([c.world_T_cam[i] for i in ids])
        ate, rot = snippet_ate(P, G)
        still.append(snippet_ate(np.stack([np.eye(4)] * len(ids)), G)[0])
        ates.append(ate)
        rots.append(rot)
        paths.append(float(np.linalg.norm(np.diff(G[:, :3, 3], axis=0), axis=1).sum()))
    return {
        "snippets": len(ates),
        "ate_mean": float(np.mean(ates)),
        "ate_std": float(np.std(ates)),
        "rot_deg_mean": float(np.mean(rots)),
        "gt_path_mean": float(np.mean(paths)),
        "ate_zero_motion": float(np.mean(still)),
    }
