"""Round 5 of the planar study: a 20 000-step IC-STN family and a vanishing-direction roll channel, picked on
validation, tested once.

Usage (after training the round-5 presets into RUNS beside the round-3 runs ``icstn-4-deep``,
``icstn-4-deep-s1`` and ``roll-val-clean``, see history.md, section 8):

    python experiments/planar/round5.py --runs RUNS --stage val    # validation only, names the picks
    python experiments/planar/round5.py --runs RUNS --stage test   # test, once, for the picks

Candidates (lowest validation score wins):

* alignment: the shipped two-seed IC-STN-4 ensemble of 6000-step members (round 3) and the two-seed ensemble
  of 20 000-step members (``icstn-4-deep-long``, ``-s1``); the single long members are scored as diagnostics;
* photo roll: the shipped ``roll-val-clean``, ``roll-vanishing`` (a vanishing-direction channel) and both with
  training photos also seen by a camera turned by random pitch and yaw (``roll-tilt``, ``roll-vanishing-tilt``),
  one view each.

``--stage test`` scores the picks and, as baselines trained with the same 20 000-step budget, the CNN and STN
(single seed-0 runs and two-seed ensembles; their validation errors are printed beside, they were not
candidates): ``round5_val.md`` / ``.json``, ``round5_test.md`` / ``.json``, ``round5_icstn_mean_var.png`` and
``round5_roll_photos.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import (
    load,
    mean_var_figure,
    params,
    present,
    roll_test,
    roll_val_table,
    run_stages,
    steps_label,
    write_tables,
)

from viewshift.planar.evaluate import evaluate_align, evaluate_roll

PAIR = "{0}+{0}-s1"
ALIGN = (PAIR.format("icstn-4-deep"), PAIR.format("icstn-4-deep-long"))
ALIGN_DIAGNOSTIC = ("icstn-4-deep-long", "icstn-4-deep-long-s1")
BASELINES = tuple(n for b in ("cnn-deep-long", "stn-deep-long") for n in (b, PAIR.format(b)))
ROLL = ("roll-val-clean", "roll-vanishing", "roll-tilt", "roll-vanishing-tilt")


def _stage_val(root: Path, docs: Path) -> None:
    data: dict = {"align": {}, "align_diagnostic": {}, "roll": {}, "roll_per_photo": {}}
    rows = []
    for name in (n for n in ALIGN + ALIGN_DIAGNOSTIC if present(root, n)):
        model, config = load(root, name)
        error = evaluate_align(model, config, split="val")["error_image_protocol"]
        data["align" if name in ALIGN else "align_diagnostic"][name] = error
        task = "IC-STN-4" if name in ALIGN else "IC-STN-4, single member (diagnostic)"
        rows.append((task, f"{name} ({steps_label(config)} steps)", name, f"{100 * error:.2f} %"))
    for name in (n for n in ROLL if present(root, n)):
        model, config = load(root, name)
        r = evaluate_roll(model, config.val_rolls_per_photo, split="val")
        data["roll"][name], data["roll_per_photo"][name] = r["mean"], r["per_photo"]
        rows.append(("photo roll (8 photos × 10 rolls)", name, name, f"{r['mean']:.3f}°"))
    picks = {task: min(data[task], key=data[task].get) for task in ("align", "roll") if data[task]}
    lines = ["| task | candidate | validation score |", "|---|---|---|"]
    lines += [f"| {t} | {label}{' **(pick)**' if n in picks.values() else ''} | {s} |" for t, label, n, s in rows]
    lines += roll_val_table(data["roll_per_photo"])
    data["picks"] = picks
    write_tables(docs, "round5_val", lines, data)


def _stage_test(root: Path, docs: Path) -> None:
    picks = json.loads((docs / "round5_val.json").read_text())["picks"]
    lines = ["| model | parameters | steps | test result | validation |", "|---|---|---|---|---|"]
    out: dict = {"picks": picks}
    figure = {}
    for name in [picks["align"]] * ("align" in picks) + [n for n in BASELINES if present(root, n)]:
        model, config = load(root, name)
        r = evaluate_align(model, config)
        val = evaluate_align(model, config, split="val")["error_image_protocol"]
        tag = " **(pick)**" if name == picks.get("align") else ""
        paper = f" (paper protocol {100 * r['error_paper_protocol']:.2f} %)" if "error_paper_protocol" in r else ""
        lines.append(
            f"| {name}{tag} | {params(model)} | {steps_label(config)} | error {100 * r['error_image_protocol']:.2f} %"
            f"{paper} | {100 * val:.2f} % |"
        )
        figure[name] = r
        out[name] = {k: v for k, v in r.items() if not k.endswith("images")} | {"val_error": val}
    if figure:
        mean_var_figure(figure, docs / "round5_icstn_mean_var.png")
    if "roll" in picks:
        model, config = load(root, picks["roll"])
        r, summary, per_photo = roll_test(model, picks["roll"], docs / "round5_roll_photos.png")
        out["roll"] = r
        name = f"{picks['roll']} **(pick)**"
        row = f"| {name} | {params(model)} | {config.steps} | {summary} (160 cases) | round5_val.md |"
        lines += [row] + per_photo
    write_tables(docs, "round5_test", lines, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
