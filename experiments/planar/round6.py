"""Round 6 of the planar study: photo roll against measured references, and a vertical-vanishing-point gate,
picked on validation, tested once.

Usage (RUNS holds ``roll-tilt``, the round-5 pick, and ``roll-tilt-clean``; see history.md, section 9):

    python experiments/planar/round6.py --runs RUNS --stage val    # gate on training photos, picks
    python experiments/planar/round6.py --runs RUNS --stage test   # test, once, for the pick

The numbers in results/round6_* were written at commit 6ea8d86; round 7 (``round7.py``) replaced the
ambiguity of :func:`viewshift.planar.vanishing.vertical_vanishing_roll`, so running this script later gives other
gate tables and ``+vp`` scores.

Labels: every rolled copy is labelled with the applied roll plus the photo's own roll, measured from its
hand-marked world verticals (:func:`viewshift.planar.roll_data.reference_roll`; photos without marked verticals count
as level, as all photos did before).

``--stage val`` first fixes the vanishing-point gate on the training photos of ``roll-tilt-clean`` (4 seeded rolls
each): among supports × ambiguities, the gate that accepts the most cases while their mean error stays ≤ 2°. Then
the candidates are scored on the validation photos: ``roll-tilt`` and ``roll-tilt-clean`` with the network alone
and with the gate (``+vp``). ``--stage test`` scores the pick and, for comparison, ``roll-tilt`` (shipped until
now) with and without the references. Writes ``round6_references.png`` (the marked verticals), ``round6_gate``,
``round6_val``, ``round6_test`` (``.md`` / ``.json``) and ``round6_roll_photos.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import fit_gate, load_pick, params, roll_test, run_stages, score_candidates, write_tables

from viewshift.planar.evaluate import evaluate_roll
from viewshift.planar.roll_data import REFERENCES_FILE, reference_roll, roll_splits
from viewshift.planar.shared_data import load_rgb, shared_data_root
from viewshift.planar.train import load_run

NETWORKS = ("roll-tilt", "roll-tilt-clean")
SUPPORTS = (1.0, 2.0, 3.0, 4.0, 6.0)
AMBIGUITIES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def references_figure(path: Path) -> None:
    """Each photo with marked world verticals, the segments drawn in red and its measured own roll."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = json.loads(REFERENCES_FILE.read_text())["photos"]
    cols = 5
    rows = -(-len(refs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, entry) in zip(axes.ravel(), refs.items(), strict=False):  # more axes than photos
        ax.imshow(load_rgb(shared_data_root() / name))
        for x1, y1, x2, y2 in entry["segments"]:
            ax.plot([x1, x2], [y1, y2], color="red", lw=1.2)
        short = Path(name).parent.name if Path(name).stem in ("im0", "view1") else Path(name).stem
        split = "test" if name in roll_splits()["test"] else "val"
        ax.set_title(f"{short} ({split}): own roll {reference_roll(name):+.2f}°", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def _stage_val(root: Path, docs: Path) -> None:
    references_figure(docs / "round6_references.png")
    score_candidates(root, docs, "round6_val", NETWORKS, fit_gate(docs, "round6_gate", SUPPORTS, AMBIGUITIES))


def _stage_test(root: Path, docs: Path) -> None:
    val = json.loads((docs / "round6_val.json").read_text())
    pick, model, _ = load_pick(root, val)
    r, summary, per_photo = roll_test(model, pick, docs / "round6_roll_photos.png")
    out: dict = {"picks": val["picks"], "gate": tuple(val["gate"]), "roll": r}
    lines = ["| model | parameters | test result (160 cases) | validation |", "|---|---|---|---|"]
    lines.append(f"| {pick} **(pick)** | {params(model)} | {summary} | {val['roll'][pick]:.3f}° |")
    old, _ = load_run(root / "roll-tilt")
    for references in (True, False):
        b = evaluate_roll(old, references=references)
        label = "roll-tilt (round-5 pick)" + ("" if references else ", photos assumed level (round-5 labels)")
        out[label] = {k: v for k, v in b.items() if k != "rows"}
        lines.append(
            f"| {label} | {params(old)} | mean {b['mean']:.2f}°, median {b['median']:.2f}°, "
            f"≤2° {100 * b['within_2']:.0f} % | {val['roll'].get('roll-tilt', float('nan')):.3f}° |"
        )
    write_tables(docs, "round6_test", lines + per_photo, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
