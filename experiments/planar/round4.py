"""Round 4 of the planar study: a third seed for the IC-STN family, picked on validation, tested once.

Usage (after training ``cnn-deep-s2``, ``stn-deep-s2`` and ``icstn-4-deep-s2`` into RUNS beside the round-3
runs, see history.md, section 7):

    python experiments/planar/round4.py --runs RUNS --stage val    # validation only, names the pick
    python experiments/planar/round4.py --runs RUNS --stage test   # test, once, for the pick

Candidates are the round-3 pick (the two-seed IC-STN-4 ensemble) and the three-seed ensemble; the pick is the
lower validation error. ``--stage test`` scores the pick and, as baselines trained the same way, the CNN and STN
ensembles of two and three seeds (their validation errors are printed beside; they were not candidates):
``round4_val.md`` / ``round4_val.json``, ``round4_test.md`` / ``round4_test.json`` and
``round4_icstn_mean_var.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import load, mean_var_figure, params, present, run_stages, steps_label, write_tables

from viewshift.planar.evaluate import evaluate_align

SEEDS2, SEEDS3 = "{0}+{0}-s1", "{0}+{0}-s1+{0}-s2"
CANDIDATES = tuple(s.format("icstn-4-deep") for s in (SEEDS2, SEEDS3))
BASELINES = tuple(s.format(b) for b in ("cnn-deep", "stn-deep") for s in (SEEDS2, SEEDS3))


def _stage_val(root: Path, docs: Path) -> None:
    scores = {}
    for name in (n for n in CANDIDATES if present(root, n)):
        model, config = load(root, name)
        scores[name] = evaluate_align(model, config, split="val")["error_image_protocol"]
    pick = min(scores, key=scores.get)
    lines = ["| candidate | validation error (400 digits × 10 perturbations) |", "|---|---|"]
    lines += [f"| {n}{' **(pick)**' if n == pick else ''} | {100 * e:.2f} % |" for n, e in scores.items()]
    write_tables(docs, "round4_val", lines, {"align": scores, "picks": {"align": pick}})


def _stage_test(root: Path, docs: Path) -> None:
    pick = json.loads((docs / "round4_val.json").read_text())["picks"]["align"]
    lines = ["| model | parameters | steps | test error (8000 cases) | validation error |", "|---|---|---|---|---|"]
    out: dict = {"picks": {"align": pick}}
    figure = {}
    for name in [pick] + [n for n in BASELINES if present(root, n)]:
        model, config = load(root, name)
        r = evaluate_align(model, config)
        val = evaluate_align(model, config, split="val")["error_image_protocol"]
        steps = steps_label(config)
        tag = " (pick)" if name == pick else ""
        test = r["error_image_protocol"]
        lines.append(f"| {name}{tag} | {params(model)} | {steps} | {100 * test:.2f} % | {100 * val:.2f} % |")
        figure[name] = r
        out[name] = {k: v for k, v in r.items() if not k.endswith("images")} | {"val_error": val}
    mean_var_figure(figure, docs / "round4_icstn_mean_var.png")
    write_tables(docs, "round4_test", lines, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
