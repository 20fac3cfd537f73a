"""Photo roll on held-out photos: error table and a straightening example figure.

Usage:

    python experiments/planar/round1_roll.py            # the shipped model "photo-roll"
    python experiments/planar/round1_roll.py --run RUNS/roll

Each held-out photo (the ``test`` list of ``viewshift/planar/data/roll_splits.json``) is rolled by 10 seeded
angles uniform in ±20° and cropped to its largest valid rectangle; the roll is estimated as
``viewshift.planar.estimate_roll`` does.
Writes ``roll_table.md``, ``roll.json`` and ``roll_examples.png`` into ``--docs``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from viewshift.planar.api import load_model, roll_with_network
from viewshift.planar.evaluate import evaluate_roll
from viewshift.planar.photo import rotate_photo
from viewshift.planar.roll_data import roll_photo_paths
from viewshift.planar.shared_data import load_rgb, shared_data_root
from viewshift.planar.train import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=None, help="run folder; the shipped photo-roll model when omitted")
    parser.add_argument(
        "--docs", default=str(Path(__file__).resolve().parent / "results"), help="where to write the table and figure"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    model = load_run(args.run)[0] if args.run else load_model("photo-roll")
    r = evaluate_roll(model)
    lines = [
        f"Held-out: {r['count']} rolled crops of {len(r['per_photo'])} photos. Mean abs error **{r['mean']:.2f}°**, "
        f"median {r['median']:.2f}°, ≤1°: {100 * r['within_1']:.0f} %, ≤2°: {100 * r['within_2']:.0f} %, "
        f"max {r['max']:.2f}°.",
        "",
        "| held-out photo | mean abs error ° |",
        "|---|---|",
    ]
    lines += [f"| {name} | {err:.2f} |" for name, err in r["per_photo"].items()]
    table = "\n".join(lines)
    print(table)
    (docs / "roll_table.md").write_text(table + "\n")
    (docs / "roll.json").write_text(json.dumps(r, indent=1) + "\n")
    _figure(model, docs / "roll_examples.png")


def _figure(model, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = shared_data_root()
    picks = [p for p in roll_photo_paths("test") if p.name in ("building.jpg", "im0.png", "left.png")][:3]
    rolls = (12.0, -8.0, 15.0)
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 2.8 * len(picks)), squeeze=False)
    for i, (p, roll) in enumerate(zip(picks, rolls, strict=False)):
        tilted = rotate_photo(load_rgb(p), roll, crop=True)
        est = roll_with_network(model, tilted)
        level = rotate_photo(tilted, -est, crop=True)
        axes[i, 0].imshow(tilted)
        axes[i, 0].set_title(f"{p.relative_to(root)} rolled {roll:+.0f}°", fontsize=8)
        axes[i, 1].imshow(level)
        axes[i, 1].set_title(f"straightened (estimated {est:+.2f}°)", fontsize=8)
        for ax in axes[i]:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
