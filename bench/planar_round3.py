"""Round 3 of the planar study: pick on the validation split, then score the picks on the test set once.

Usage (after training the round-3 presets into RUNS/<preset>, see docs/planar.md, section 6):

    python bench/planar_round3.py --runs RUNS --docs docs/planar --stage val    # validation only, names picks
    python bench/planar_round3.py --runs RUNS --docs docs/planar --stage test   # test, once, for the picks

A candidate is a run folder name, or several joined by ``+``: an ensemble (circular mean of angles for rotation
runs, mean class probabilities for alignment runs), exactly as ``viewshift planar export --run A --run B`` ships
it. ``RUNS/icstn-4-deep`` and ``RUNS/roll-val-clean`` hold the round-2 shipped weights (the round-2 picks, as
float32 copies of the float16 files) so that round 3 can be compared with them on validation.

``--stage val`` scores every candidate on its validation split (never the test set): the all-digits rotation
model by the mean (and median) error on the 400 validation digits × 10 seeded angles with the 4 quarter-turn
views ``estimate_angle`` uses; IC-STN-family models by the classification error on the 400 validation digits ×
10 perturbations; roll models by the mean error on the 8 validation photos × 10 seeded rolls, with 1 or 5 crop
views. Writes ``round3_val.md`` / ``round3_val.json`` with the pick of each task (lowest validation score; for
alignment among candidates with warps, since ``align`` needs them).

``--stage test`` reads the picks from ``round3_val.json`` and scores them on the fixed test sets, plus the CNN
and STN baselines present (single seed-0 runs and two-seed ensembles, trained like the IC-STN; their
validation errors are printed beside, they were not candidates): ``round3_test.md`` / ``round3_test.json``,
``round3_icstn_mean_var.png``, ``round3_rotation_errors.png`` and ``round3_roll_photos.png``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planar_icstn import mean_var_figure  # noqa: E402
from planar_round2 import error_histogram, run_stages, write_tables  # noqa: E402

from viewshift.planar import angles as A
from viewshift.planar.configs import AlignConfig, AlignEnsembleConfig, EnsembleConfig, scored_classes
from viewshift.planar.models import predict_angles_rot90
from viewshift.planar.train import (
    evaluate_align,
    evaluate_roll,
    evaluate_rotation,
    load_ensemble,
    load_run,
    rotation_test_set,
)

ROTATION = ("rot-bins-all-val",)
ALIGN = ("icstn-4-deep", "icstn-4-deep-s1", "icstn-4-deep+icstn-4-deep-s1")
BASELINES = ("cnn-deep", "stn-deep", "cnn-deep-s1", "stn-deep-s1", "cnn-deep+cnn-deep-s1", "stn-deep+stn-deep-s1")
ROLL = ("roll-val-clean", "roll-lines")


def _present(root: Path, name: str) -> bool:
    return all((root / n / "model.pt").is_file() for n in name.split("+"))


def _load(root: Path, name: str):
    runs = [root / n for n in name.split("+")]
    return load_ensemble(runs, name) if len(runs) > 1 else load_run(runs[0])


@torch.no_grad()
def _rotation_predictions(model, config, split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictions with the 4 quarter-turn views (as ``estimate_angle``), true angles and labels of a split."""
    cfg = config.members[0] if isinstance(config, EnsembleConfig) else config
    images, angles, labels = rotation_test_set(scored_classes(cfg), split=split, cfg=cfg)
    pred = torch.cat([predict_angles_rot90(model, images[i : i + 512], 4) for i in range(0, len(images), 512)])
    return pred, angles, labels


def _stage_val(root: Path, docs: Path) -> None:
    rows, picks, data = [], {}, {"rotation": {}, "align": {}, "roll": {}, "roll_per_photo": {}}
    for name in (n for n in ROTATION if _present(root, n)):
        model, config = _load(root, name)
        pred, true, _ = _rotation_predictions(model, config, "val")
        stats = A.angle_error_stats(pred.numpy(), true.numpy()).as_dict()
        data["rotation"][name] = {"mean": stats["mean"], "median": stats["median"]}
        rows.append(("rotation, all digits", name, f"mean {stats['mean']:.3f}°, median {stats['median']:.3f}°"))
    if data["rotation"]:
        picks["rotation"] = min(data["rotation"], key=lambda n: data["rotation"][n]["mean"])
    for name in (n for n in ALIGN + BASELINES if _present(root, n)):
        model, config = _load(root, name)
        data["align"][name] = evaluate_align(model, config, split="val")["error_image_protocol"]
        rows.append(("IC-STN family", name, f"{100 * data['align'][name]:.2f} %"))
    icstn = {n: v for n, v in data["align"].items() if n in ALIGN}  # the shipped aligner must align
    # Diagnostic, not a candidate: more recurrent warps at test time than in training (the shared predictor
    # applied again to its own output, like extra Lucas-Kanade iterations).
    data["warps_at_test"] = {}
    for name in (n for n in ("icstn-4-deep", "icstn-4-deep-s1") if _present(root, n)):
        model, config = _load(root, name)
        for k in (5, 6, 8):
            model.num_warps = k
            error = evaluate_align(model, config, split="val")["error_image_protocol"]
            data["warps_at_test"][f"{name} warps={k}"] = error
            rows.append(("IC-STN, more warps at test (diagnostic)", f"{name} warps={k}", f"{100 * error:.2f} %"))
    if icstn:
        picks["align"] = min(icstn, key=icstn.get)
    for name in (n for n in ROLL if _present(root, n)):
        model, config = _load(root, name)
        for crops in (1, 5):
            r = evaluate_roll(model, config.val_rolls_per_photo, split="val", crops=crops)
            data["roll"][f"{name} crops={crops}"] = r["mean"]
            data["roll_per_photo"][f"{name} crops={crops}"] = r["per_photo"]
            rows.append(("photo roll", f"{name} crops={crops}", f"{r['mean']:.3f}°"))
    if data["roll"]:
        picks["roll"] = min(data["roll"], key=data["roll"].get)
    lines = ["| task | candidate | validation score |", "|---|---|---|"]
    lines += [f"| {task} | {name}{' **(pick)**' if name in picks.values() else ''} | {s} |" for task, name, s in rows]
    lines += roll_val_table(data["roll_per_photo"])
    data["picks"] = picks
    write_tables(docs, "round3_val", lines, data)


def steps_label(config) -> str:
    """Training steps of an alignment run, or of each ensemble member joined by "+" ("20000+20000")."""
    members = config.members if isinstance(config, AlignEnsembleConfig) else [config]
    return "+".join(str(m.steps) for m in members if isinstance(m, AlignConfig))


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _stage_test(root: Path, docs: Path) -> None:
    picks = json.loads((docs / "round3_val.json").read_text())["picks"]
    lines = ["| task | model | test result |", "|---|---|---|"]
    out: dict = {"picks": picks}
    if "rotation" in picks:
        model, config = _load(root, picks["rotation"])
        r = evaluate_rotation(model, scored_classes(config), cfg=config)
        o, t = r["overall"], r["overall_tta4"]
        out["rotation"] = {k: v for k, v in r.items() if k not in ("pred", "true", "outputs")}
        lines.append(
            f"| rotation, all digits (8000 cases) | {picks['rotation']} (pick) | 4 quarter-turn views: median "
            f"{t['median']:.2f}°, mean {t['mean']:.2f}°, ≤5° {100 * t['within_5']:.1f} %; one view: median "
            f"{o['median']:.2f}°, mean {o['mean']:.2f}°, ≤5° {100 * o['within_5']:.1f} % |"
        )
        pred, true, _ = _rotation_predictions(model, config, "test")
        err = A.angle_difference(pred, true).abs().numpy()
        title = f"{picks['rotation']}: test errors, all digits, 4 quarter-turn views"
        error_histogram(err, title, docs / "round3_rotation_errors.png", stat="median")
    figure = {}
    baselines = [n for n in BASELINES if "-s1" not in n or "+" in n]  # single seed-0 runs and ensembles
    for name in [picks["align"]] * ("align" in picks) + [n for n in baselines if _present(root, n)]:
        model, config = _load(root, name)
        r = evaluate_align(model, config)
        figure[name] = r
        paper = f", paper protocol {100 * r['error_paper_protocol']:.2f} %" if "error_paper_protocol" in r else ""
        tag = " (pick)" if picks.get("align") == name else ""
        steps = steps_label(config)
        # The baselines were not validation candidates; their validation error is given beside the test error.
        val = evaluate_align(model, config, split="val")["error_image_protocol"]
        lines.append(
            f"| IC-STN family (8000 cases) | {name}{tag}, {_params(model)} parameters, {steps} steps | "
            f"error {100 * r['error_image_protocol']:.2f} %{paper} (validation {100 * val:.2f} %) |"
        )
        out[name] = {k: v for k, v in r.items() if not k.endswith("images")} | {"val_error": val}
    if figure:
        mean_var_figure(figure, docs / "round3_icstn_mean_var.png")
    if "roll" in picks:
        name, crops = picks["roll"].split(" crops=")
        model, _ = _load(root, name)
        r, summary, per_photo = roll_test(model, picks["roll"], docs / "round3_roll_photos.png", int(crops))
        out["roll"] = r
        lines += [f"| photo roll (160 cases) | {picks['roll']} (pick) | {summary} |"] + per_photo
    write_tables(docs, "round3_test", lines, out)


def roll_val_table(per_photo: dict[str, dict[str, float]]) -> list[str]:
    """Markdown lines (after a blank line) of validation errors per photo (rows) and candidate (columns)."""
    if not per_photo:
        return []
    names = list(per_photo)
    lines = ["", "| validation photo | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for photo in per_photo[names[0]]:
        lines.append(f"| {photo} | " + " | ".join(f"{per_photo[n][photo]:.2f}" for n in names) + " |")
    return lines


def roll_test(model, name: str, figure: Path, crops: int = 1) -> tuple[dict, str, list[str]]:
    """Score a roll model on the held-out photos: the result, a one-line summary and per-photo table lines;
    writes the per-photo figure."""
    r = evaluate_roll(model, crops=crops)
    summary = f"mean {r['mean']:.2f}°, median {r['median']:.2f}°, ≤2° {100 * r['within_2']:.0f} %"
    per_photo = ["", "| held-out photo | mean abs error ° |", "|---|---|"]
    per_photo += [f"| {p} | {e:.2f} |" for p, e in r["per_photo"].items()]
    _roll_figure(r, name, figure)
    return r, summary, per_photo


def _roll_figure(result: dict, name: str, path: Path) -> None:
    """Per held-out photo: the true rolls against the absolute errors, one dot per rolled copy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photos = list(result["per_photo"])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, photo in enumerate(photos):
        errs = [row["error"] for row in result["rows"] if row["photo"] == photo]
        ax.scatter(np.full(len(errs), i), errs, s=10, color="C0")
        ax.plot([i - 0.3, i + 0.3], [np.mean(errs)] * 2, color="C3")
    ax.axhline(2.0, color="k", ls=":", lw=1, label="target 2°")
    ax.set_xticks(range(len(photos)))
    ax.set_xticklabels([Path(p).parent.name if Path(p).stem == "im0" else Path(p).stem for p in photos], rotation=60)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("abs roll error (°)")
    ax.set_title(f"{name}: held-out photos, 10 rolls each (red: mean)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
