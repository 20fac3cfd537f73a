"""Training the planar models: a resumable generic loop over a task, run folders, ensembles and weight export.

Inference code (:mod:`viewshift.planar.api`) never imports this module. Every run writes into its folder:
``config.json`` (the dataclass), ``checkpoint.pt`` (model + optimiser + step, for resuming), ``log.txt`` and, at
the end, ``model.pt`` (weights only) + ``model.json`` (the config again, beside the weights). What is trained
(data, loss, validation) is the config's task (:mod:`viewshift.planar.tasks`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import torch

from viewshift.errors import InputError
from viewshift.io import atomic_path, save_torch
from viewshift.planar.configs import (
    AlignConfig,
    AlignEnsembleConfig,
    EnsembleConfig,
    RollConfig,
    RotationConfig,
    build_model,
    config_from_dict,
)
from viewshift.planar.models import AlignEnsemble, AngleEnsemble
from viewshift.planar.tasks import make_task


def _write_json(data: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def train(
    config: RotationConfig | AlignConfig | RollConfig,
    out_dir: str | Path,
    *,
    data_path: str | None = None,
    resume: bool = True,
    log_every: int = 100,
    checkpoint_every: int = 250,
    max_steps: int | None = None,
    max_minutes: float | None = None,
    threads: int = 1,
    validate_from: float = 0.5,
) -> Path:
    """Train a config, resumably; returns the path of the final ``model.pt``, or of ``checkpoint.pt`` when
    ``max_minutes`` ran out first (training the same config into the same folder again continues from it).

    Args:
        config: what to train.
        out_dir: run folder (created); an existing ``checkpoint.pt`` there is resumed when ``resume``.
        data_path: digit mosaic path (digit configs); default location when None.
        resume: continue from ``out_dir/checkpoint.pt`` if present.
        log_every: steps between log lines.
        checkpoint_every: steps between checkpoints.
        max_steps: override ``config.steps`` (smoke tests, longer runs); the schedule and the saved config use it.
        max_minutes: wall-time budget of this call; when it runs out, a checkpoint is written and training stops.
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
    _write_json(dataclasses.asdict(config), out / "config.json")
    torch.manual_seed(config.seed)
    task = make_task(config, data_path, cache=out / "dataset.pt")
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
                    save_torch({"step": step, "val": score, "model": model.state_dict()}, out / "best.pt")
        out_of_time = max_minutes is not None and time.time() - t0 > 60.0 * max_minutes and step < steps
        if step % checkpoint_every == 0 or step == steps or out_of_time:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": generator.get_state()}
            save_torch({**state, "step": step}, ckpt)
        if out_of_time:
            log.write(f"step {step}/{steps} stopped: --max-minutes {max_minutes:g} ran out\n")
            log.close()
            return ckpt
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
    save_torch(model.state_dict(), final)
    _write_json(record, out / "model.json")
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
    (:class:`viewshift.planar.vanishing.VanishingGate`; agreement 0 or absent: none)."""
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
    save_torch(state, out / f"{name}.pt")
    _write_json(dataclasses.asdict(config), out / f"{name}.json")
    return out / f"{name}.pt"
