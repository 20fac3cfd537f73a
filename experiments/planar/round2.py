"""Round 2 of the planar study: pick on the validation split, then score the picks on the test set once.

Usage (after training the round-2 presets into RUNS/<preset>, see history.md):

    python experiments/planar/round2.py --runs RUNS --stage val    # validation only, names picks
    python experiments/planar/round2.py --runs RUNS --stage test   # test, once, for the picks

``--stage val`` scores every round-2 candidate on its validation split (never the test set): rotation models
of 3s, and circular-mean ensembles (two seeds of rot-bins-3-val; of rot-bins-3-aug; all), by the mean error over the
40 validation 3s × 10 seeded angles with 4 quarter-turn views; IC-STN-family models by the classification error
on 400 validation digits × 10 perturbations; roll models by the mean error on the 8 validation photos × 10
seeded rolls, with 1 or 5 crop views. It writes ``round2_val.md`` / ``round2_val.json`` with the pick of each
task (lowest validation score; for alignment among the IC-STN runs, since ``align`` needs warps).

``--stage test`` reads the picks from ``round2_val.json`` and scores them on the fixed test sets, plus the
round-2 CNN and STN baselines (the IC-STN comparison needs them): ``round2_test.md`` / ``round2_test.json``,
``round2_icstn_mean_var.png`` and ``round2_rotation_errors.png`` (histogram of the test errors of the 3s pick).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from common import error_histogram, mean_var_figure, rotation_predictions, run_stages, write_tables

from viewshift.planar import angles as A
from viewshift.planar.evaluate import evaluate_align, evaluate_roll
from viewshift.planar.train import load_ensemble, load_run

ROTATION_RUNS = ("rot-bins-3-val", "rot-bins-3-val-s1", "rot-bins-3-aug", "rot-bins-3-aug-s1", "rot-bins-3-mix")
ALIGN_RUNS = ("cnn-deep", "stn-deep", "icstn-4-deep")
ROLL_RUNS = ("roll-val", "roll-val-wide", "roll-val-clean")


def _rotation_predictions(runs: list[Path], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions of one run or of the :class:`AngleEnsemble` of several (as ``estimate_angle`` runs it: 4
    quarter-turn views), and the true angles, on the split's rotated 3s."""
    model, config = load_ensemble(runs)
    pred, angles, _ = rotation_predictions(model, config, split)
    return pred, angles


def _stage_val(root: Path, docs: Path) -> None:
    rows, picks = [], {}
    rot = {}
    for name in ROTATION_RUNS:
        if (root / name / "model.pt").is_file():
            pred, true = _rotation_predictions([root / name], "val")
            rot[name] = float(A.angle_difference(pred, true).abs().mean())
    present = [n for n in ROTATION_RUNS if n in rot]
    for members in (["rot-bins-3-val", "rot-bins-3-val-s1"], ["rot-bins-3-aug", "rot-bins-3-aug-s1"], present):
        if len(members) > 1 and all(m in rot for m in members) and "+".join(members) not in rot:
            pred, true = _rotation_predictions([root / n for n in members], "val")
            rot["+".join(members)] = float(A.angle_difference(pred, true).abs().mean())
    rows += [("rotation of 3s", name, f"{score:.3f}°") for name, score in rot.items()]
    if rot:
        picks["rotation"] = min(rot, key=rot.get)
    align = {}
    for name in ALIGN_RUNS:
        if (root / name / "model.pt").is_file():
            model, config = load_run(root / name)
            align[name] = evaluate_align(model, config, split="val")["error_image_protocol"]
    rows += [("IC-STN family", name, f"{100 * score:.2f} %") for name, score in align.items()]
    icstn = {n: v for n, v in align.items() if n.startswith("icstn")}  # the shipped aligner must align
    if icstn:
        picks["align"] = min(icstn, key=icstn.get)
    roll = {}
    for name in ROLL_RUNS:
        if (root / name / "model.pt").is_file():
            model, config = load_run(root / name)
            for crops in (1, 5):
                r = evaluate_roll(model, config.val_rolls_per_photo, split="val", crops=crops)
                roll[f"{name} crops={crops}"] = r["mean"]
    rows += [("photo roll", name, f"{score:.3f}°") for name, score in roll.items()]
    if roll:
        picks["roll"] = min(roll, key=roll.get)
    lines = ["| task | candidate | validation score |", "|---|---|---|"]
    lines += [f"| {task} | {name}{' **(pick)**' if name in picks.values() else ''} | {s} |" for task, name, s in rows]
    write_tables(docs, "round2_val", lines, {"rotation": rot, "align": align, "roll": roll, "picks": picks})


def _stage_test(root: Path, docs: Path) -> None:
    picks = json.loads((docs / "round2_val.json").read_text())["picks"]
    lines = ["| task | model (picked on validation) | test result |", "|---|---|---|"]
    out: dict = {"picks": picks}
    if "rotation" in picks:
        runs = [root / n for n in picks["rotation"].split("+")]
        pred, true = _rotation_predictions(runs, "test")
        stats = A.angle_error_stats(pred.numpy(), true.numpy()).as_dict()
        err = A.angle_difference(pred, true).abs().numpy()
        out["rotation"] = {**stats, "errors": err.tolist()}
        lines.append(
            f"| rotation of 3s (800 cases, 4 quarter-turn views) | {picks['rotation']} | mean {stats['mean']:.2f}°, "
            f"median {stats['median']:.2f}°, ≤5° {100 * stats['within_5']:.1f} %, p90 {stats['p90']:.1f}° |"
        )
        error_histogram(err, f"{picks['rotation']}: test errors on held-out 3s", docs / "round2_rotation_errors.png")
    figure = {}
    for name in ALIGN_RUNS:
        if not (root / name / "model.pt").is_file():
            continue
        model, config = load_run(root / name)
        r = evaluate_align(model, config)
        figure[name] = r
        params = sum(p.numel() for p in model.parameters())
        paper = f", paper protocol {100 * r['error_paper_protocol']:.2f} %" if "error_paper_protocol" in r else ""
        tag = " (pick)" if picks.get("align") == name else ""
        lines.append(
            f"| IC-STN family (8000 cases) | {name}{tag}, {params} parameters | "
            f"error {100 * r['error_image_protocol']:.2f} %{paper} |"
        )
        out[name] = {k: v for k, v in r.items() if not k.endswith("images")}
    if figure:
        mean_var_figure(figure, docs / "round2_icstn_mean_var.png")
    if "roll" in picks:
        name, crops = picks["roll"].split(" crops=")
        model, _ = load_run(root / name)
        r = evaluate_roll(model, crops=int(crops))
        out["roll"] = {k: v for k, v in r.items() if k != "rows"} | {"rows": r["rows"]}
        lines.append(
            f"| photo roll (160 cases) | {picks['roll']} | mean {r['mean']:.2f}°, median {r['median']:.2f}°, "
            f"≤2° {100 * r['within_2']:.0f} % |"
        )
        lines += ["", "| held-out photo | mean abs error ° |", "|---|---|"]
        lines += [f"| {p} | {e:.2f} |" for p, e in r["per_photo"].items()]
    write_tables(docs, "round2_test", lines, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
