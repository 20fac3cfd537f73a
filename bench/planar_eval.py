"""The shipped planar models on their fixed held-out test sets: one table, and two figures.

Usage:

    python bench/planar_eval.py                      # writes docs/planar/shipped.md, shipped.json and figures

Scores ``digits``, ``digits-3``, ``digits-icstn`` and ``photo-roll`` exactly as ``viewshift planar eval --model
NAME`` does (:func:`viewshift.planar.tasks.evaluate_run`; test sets in docs/planar.md), prints the table and writes
``shipped.md``, ``shipped.json``, ``icstn_mean_var.png`` (per class, mean and variance of the perturbed test digits
and of ``digits-icstn``'s alignment of them, the IC-STN paper's figure) and ``roll_examples.png`` (held-out photos
rolled by a known angle and levelled with the estimate) into ``--docs``. About 1.5 minutes of CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from viewshift.io import atomic_path
from viewshift.planar.cli import MODELS, load_shipped
from viewshift.planar.tasks import evaluate_run

DOCS = Path(__file__).resolve().parents[1] / "docs" / "planar"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default=str(DOCS), help=f"where to write the table and figures (default: {DOCS})")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in MODELS:
        model, config = load_shipped(name)
        results[name] = evaluate_run(model, config)
    lines = table(results)
    print("\n".join(lines))
    write_text(docs / "shipped.md", "\n".join(lines) + "\n")
    slim = {name: {k: v for k, v in r.items() if k not in _BULKY} for name, r in results.items()}
    write_text(docs / "shipped.json", json.dumps(slim, indent=1) + "\n")
    mean_var_figure(results["digits-icstn"], docs / "icstn_mean_var.png")
    roll_figure(load_shipped("photo-roll")[0], docs / "roll_examples.png")


_BULKY = ("pred", "true", "outputs", "rows", "mean_images", "var_images", "input_mean_images", "input_var_images")


def table(results: dict) -> list[str]:
    """Markdown lines: one row per shipped model with its headline numbers."""
    lines = ["| model | test set | result |", "|---|---|---|"]
    for name in ("digits", "digits-3"):
        r = results[name]
        o, t = r["overall"], r["overall_tta4"]
        scope = "all digits" if name == "digits" else "3s"
        lines.append(
            f"| {name} | {o['count']} rotated held-out {scope} | 4 quarter-turn views (the API's default): mean "
            f"{t['mean']:.2f}°, median {t['median']:.2f}°, ≤5° {100 * t['within_5']:.1f} %; one view: mean "
            f"{o['mean']:.2f}°, median {o['median']:.2f}° |"
        )
    r = results["digits-icstn"]
    lines.append(
        f"| digits-icstn | {r['count']} perturbed held-out digits | classification error "
        f"{100 * r['error_image_protocol']:.2f} % (paper protocol {100 * r['error_paper_protocol']:.2f} %) |"
    )
    r = results["photo-roll"]
    lines.append(
        f"| photo-roll | {r['count']} rolled held-out photos ({len(r['per_photo'])} photos × 10) | mean "
        f"{r['mean']:.2f}°, median {r['median']:.2f}°, ≤1° {100 * r['within_1']:.0f} %, ≤2° "
        f"{100 * r['within_2']:.0f} %, max {r['max']:.2f}° |"
    )
    lines += ["", "| held-out photo | photo-roll mean abs error ° |", "|---|---|"]
    lines += [f"| {p} | {e:.2f} |" for p, e in r["per_photo"].items()]
    return lines


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    print(f"wrote {path}")


def mean_var_figure(result: dict, path: Path) -> None:
    """Rows: mean and variance per class of the perturbed inputs, then of the aligned digits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        ("perturbed input", result["input_mean_images"], result["input_var_images"]),
        ("digits-icstn aligned", result["mean_images"], result["var_images"]),
    ]
    fig, axes = plt.subplots(4, 10, figsize=(10, 4.4))
    for i, (name, mean, var) in enumerate(rows):
        for c in range(10):
            for j, (img, what) in enumerate(((mean, "mean"), (var, "var"))):
                ax = axes[2 * i + j, c]
                ax.imshow(np.asarray(img[c]), cmap="gray" if what == "mean" else "magma")
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0:
                    ax.set_ylabel(f"{name}\n{what}", fontsize=6)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


def roll_figure(model, path: Path) -> None:
    """Three held-out photos rolled by a known angle (left) and levelled with photo-roll's estimate (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from viewshift.planar.api import roll_with_network
    from viewshift.planar.photo import rotate_photo
    from viewshift.planar.roll_data import roll_photo_paths
    from viewshift.planar.shared_data import load_rgb, shared_data_root

    root = shared_data_root()
    picks = [p for p in roll_photo_paths("test") if p.name in ("building.jpg", "im0.png", "left.png")][:3]
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 2.8 * len(picks)), squeeze=False)
    for i, (p, roll) in enumerate(zip(picks, (12.0, -8.0, 15.0), strict=False)):
        tilted = rotate_photo(load_rgb(p), roll, crop=True)
        est = roll_with_network(model, tilted)
        axes[i, 0].imshow(tilted)
        axes[i, 0].set_title(f"{p.relative_to(root)} rolled {roll:+.0f}°", fontsize=8)
        axes[i, 1].imshow(rotate_photo(tilted, -est, crop=True))
        axes[i, 1].set_title(f"straightened (estimated {est:+.2f}°)", fontsize=8)
        for ax in axes[i]:
            ax.axis("off")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
