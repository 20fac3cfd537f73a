"""Round 3 of the planar study: pick on the validation split, then score the picks on the test set once.

Usage (after training the round-3 presets into RUNS/<preset>, see history.md, section 6):

    python experiments/planar/round3.py --runs RUNS --stage val    # validation only, names picks
    python experiments/planar/round3.py --runs RUNS --stage test   # test, once, for the picks

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
from pathlib import Path

from common import (
    error_histogram,
    load,
    mean_var_figure,
    params,
    present,
    roll_test,
    roll_val_table,
    rotation_predictions,
    run_stages,
    steps_label,
    write_tables,
)

from viewshift.planar import angles as A
from viewshift.planar.configs import scored_classes
from viewshift.planar.evaluate import evaluate_align, evaluate_roll, evaluate_rotation

ROTATION = ("rot-bins-all-val",)
ALIGN = ("icstn-4-deep", "icstn-4-deep-s1", "icstn-4-deep+icstn-4-deep-s1")
BASELINES = ("cnn-deep", "stn-deep", "cnn-deep-s1", "stn-deep-s1", "cnn-deep+cnn-deep-s1", "stn-deep+stn-deep-s1")
ROLL = ("roll-val-clean", "roll-lines")


def _stage_val(root: Path, docs: Path) -> None:
    rows, picks, data = [], {}, {"rotation": {}, "align": {}, "roll": {}, "roll_per_photo": {}}
    for name in (n for n in ROTATION if present(root, n)):
        model, config = load(root, name)
        pred, true, _ = rotation_predictions(model, config, "val")
        stats = A.angle_error_stats(pred.numpy(), true.numpy()).as_dict()
        data["rotation"][name] = {"mean": stats["mean"], "median": stats["median"]}
        rows.append(("rotation, all digits", name, f"mean {stats['mean']:.3f}°, median {stats['median']:.3f}°"))
    if data["rotation"]:
        picks["rotation"] = min(data["rotation"], key=lambda n: data["rotation"][n]["mean"])
    for name in (n for n in ALIGN + BASELINES if present(root, n)):
        model, config = load(root, name)
        data["align"][name] = evaluate_align(model, config, split="val")["error_image_protocol"]
        rows.append(("IC-STN family", name, f"{100 * data['align'][name]:.2f} %"))
    icstn = {n: v for n, v in data["align"].items() if n in ALIGN}  # the shipped aligner must align
    # Diagnostic, not a candidate: more recurrent warps at test time than in training (the shared predictor
    # applied again to its own output, like extra Lucas-Kanade iterations).
    data["warps_at_test"] = {}
    for name in (n for n in ("icstn-4-deep", "icstn-4-deep-s1") if present(root, n)):
        model, config = load(root, name)
        for k in (5, 6, 8):
            model.num_warps = k
            error = evaluate_align(model, config, split="val")["error_image_protocol"]
            data["warps_at_test"][f"{name} warps={k}"] = error
            rows.append(("IC-STN, more warps at test (diagnostic)", f"{name} warps={k}", f"{100 * error:.2f} %"))
    if icstn:
        picks["align"] = min(icstn, key=icstn.get)
    for name in (n for n in ROLL if present(root, n)):
        model, config = load(root, name)
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


def _stage_test(root: Path, docs: Path) -> None:
    picks = json.loads((docs / "round3_val.json").read_text())["picks"]
    lines = ["| task | model | test result |", "|---|---|---|"]
    out: dict = {"picks": picks}
    if "rotation" in picks:
        model, config = load(root, picks["rotation"])
        r = evaluate_rotation(model, scored_classes(config), cfg=config)
        o, t = r["overall"], r["overall_tta4"]
        out["rotation"] = {k: v for k, v in r.items() if k not in ("pred", "true", "outputs")}
        lines.append(
            f"| rotation, all digits (8000 cases) | {picks['rotation']} (pick) | 4 quarter-turn views: median "
            f"{t['median']:.2f}°, mean {t['mean']:.2f}°, ≤5° {100 * t['within_5']:.1f} %; one view: median "
            f"{o['median']:.2f}°, mean {o['mean']:.2f}°, ≤5° {100 * o['within_5']:.1f} % |"
        )
        pred, true, _ = rotation_predictions(model, config, "test")
        err = A.angle_difference(pred, true).abs().numpy()
        title = f"{picks['rotation']}: test errors, all digits, 4 quarter-turn views"
        error_histogram(err, title, docs / "round3_rotation_errors.png", stat="median")
    figure = {}
    baselines = [n for n in BASELINES if "-s1" not in n or "+" in n]  # single seed-0 runs and ensembles
    for name in [picks["align"]] * ("align" in picks) + [n for n in baselines if present(root, n)]:
        model, config = load(root, name)
        r = evaluate_align(model, config)
        figure[name] = r
        paper = f", paper protocol {100 * r['error_paper_protocol']:.2f} %" if "error_paper_protocol" in r else ""
        tag = " (pick)" if picks.get("align") == name else ""
        steps = steps_label(config)
        # The baselines were not validation candidates; their validation error is given beside the test error.
        val = evaluate_align(model, config, split="val")["error_image_protocol"]
        lines.append(
            f"| IC-STN family (8000 cases) | {name}{tag}, {params(model)} parameters, {steps} steps | "
            f"error {100 * r['error_image_protocol']:.2f} %{paper} (validation {100 * val:.2f} %) |"
        )
        out[name] = {k: v for k, v in r.items() if not k.endswith("images")} | {"val_error": val}
    if figure:
        mean_var_figure(figure, docs / "round3_icstn_mean_var.png")
    if "roll" in picks:
        name, crops = picks["roll"].split(" crops=")
        model, _ = load(root, name)
        r, summary, per_photo = roll_test(model, picks["roll"], docs / "round3_roll_photos.png", int(crops))
        out["roll"] = r
        lines += [f"| photo roll (160 cases) | {picks['roll']} (pick) | {summary} |"] + per_photo
    write_tables(docs, "round3_test", lines, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
