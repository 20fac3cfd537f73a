"""Rotation-regression study on held-out digits: error table and predicted-angle histograms.

Usage (after training the presets into RUNS/<preset>, see history.md):

    python experiments/planar/round1_rotation.py --runs RUNS

Evaluates every rotation run found (naive and fixed, "3"s only and all digits) on the fixed test set (80 held-out
digits per class, 10 seeded angles each), prints a table and writes ``rotation_table.md``, ``rotation.json`` and
``rotation_hist.png`` into ``--docs``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from viewshift.planar.evaluate import evaluate_rotation
from viewshift.planar.train import load_run

RUNS = (
    "rot-naive-3",
    "rot-naive-keras-3",
    "rot-vector-keras-3",
    "rot-vector-3",
    "rot-naive-all",
    "rot-vector-all",
    "rot-bins-all",
    "rot-naive-highlr-3",
    "rot-vector-highlr-3",
    "rot-bins-3",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="folder holding one run folder per preset")
    parser.add_argument(
        "--docs", default=str(Path(__file__).resolve().parent / "results"), help="where to write the table and figure"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in RUNS:
        run = Path(args.runs) / name
        if not (run / "model.pt").is_file():
            print(f"skip {name}: no {run}/model.pt")
            continue
        model, config = load_run(run)
        results[name] = evaluate_rotation(model, config.classes)
    lines = [
        "| run | test digits | mean ° | median ° | ≤5° | p90 ° | 4 quarter-turn views: mean / median / ≤5° |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        o = r["overall"]
        scope = "3s" if name.endswith("-3") else "all"
        t = r["overall_tta4"]
        lines.append(
            f"| {name} | {scope} ({o['count']}) | {o['mean']:.2f} | {o['median']:.2f} | "
            f"{100 * o['within_5']:.1f} % | {o['p90']:.1f} | {t['mean']:.2f} / {t['median']:.2f} / "
            f"{100 * t['within_5']:.1f} % |"
        )
    for name in ("rot-vector-all", "rot-bins-all", "rot-naive-all"):
        if name not in results:
            continue
        lines += [
            "",
            f"Per class, `{name}`:",
            "",
            "| class | mean ° | median ° | ≤5° | ≤5° modulo 180° |",
            "|---|---|---|---|---|",
        ]
        for cls, s in results[name]["per_class"].items():
            lines.append(
                f"| {cls} | {s['mean']:.2f} | {s['median']:.2f} | {100 * s['within_5']:.1f} % | "
                f"{100 * s['within_5_mod_180']:.1f} % |"
            )
    table = "\n".join(lines)
    print(table)
    (docs / "rotation_table.md").write_text(table + "\n")
    slim = {
        k: {"overall": v["overall"], "overall_tta4": v["overall_tta4"], "per_class": v["per_class"]}
        for k, v in results.items()
    }
    (docs / "rotation.json").write_text(json.dumps(slim, indent=1) + "\n")
    _figure(results, docs / "rotation_hist.png")


def _figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [
        (n, f)
        for n, f in (
            ("rot-naive-highlr-3", "rot-vector-highlr-3"),
            ("rot-naive-keras-3", "rot-vector-keras-3"),
            ("rot-naive-3", "rot-bins-3"),
            ("rot-naive-all", "rot-bins-all"),
        )
        if n in results and f in results
    ]
    if not pairs:
        return
    fig, axes = plt.subplots(len(pairs), 3, figsize=(13, 3.2 * len(pairs)), squeeze=False)
    bins = np.arange(-180, 181, 5)
    for row, (naive, fixed) in enumerate(pairs):
        for col, name in enumerate((naive, fixed)):
            ax = axes[row, col]
            ax.hist(results[name]["pred"], bins=bins, color="C0" if col == 0 else "C2")
            ax.hist(results[name]["true"], bins=bins, histtype="step", color="k", label="true angles")
            ax.set_title(f"{name}: predicted angles (mean err {results[name]['overall']['mean']:.1f}°)", fontsize=9)
            ax.set_xticks(range(-180, 181, 45))
            ax.legend(fontsize=7)
        ax = axes[row, 2]
        out = np.asarray(results[naive]["outputs"])
        if out.size:
            ax.hist(out.ravel(), bins=np.linspace(-1, 1, 41), color="C0")
        ax.set_title(f"{naive}: tanh outputs (cos, sin) pooled", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
