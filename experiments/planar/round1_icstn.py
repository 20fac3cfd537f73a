"""IC-STN study on held-out perturbed digits: test error per model and mean/variance images of aligned digits.

Usage (after training the presets into RUNS/<preset>, see history.md):

    python experiments/planar/round1_icstn.py --runs RUNS

Test set: the 800 held-out digits, each warped by 10 seeded homography perturbations (corners σ 0.25, shared
translation σ 0.25, normalised coordinates). Writes ``icstn_table.md``, ``icstn.json`` and
``icstn_mean_var.png`` (the paper's figure: per class, mean and variance of the perturbed inputs and of each
model's aligned digits).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from common import mean_var_figure

from viewshift.planar.evaluate import evaluate_align
from viewshift.planar.train import load_run

RUNS = ("cnn", "stn", "icstn-1", "icstn-2", "icstn-4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="folder holding one run folder per preset")
    parser.add_argument(
        "--docs", default=str(Path(__file__).resolve().parent / "results"), help="where to write the table and figure"
    )
    parser.add_argument("--suffix", default="", help="evaluate RUNS/<preset><suffix> (e.g. -5k); names outputs too")
    args = parser.parse_args()
    torch.set_num_threads(1)
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in RUNS:
        run = Path(args.runs) / f"{name}{args.suffix}"
        if not (run / "model.pt").is_file():
            print(f"skip {name}: no {run}/model.pt")
            continue
        model, config = load_run(run)
        results[name] = evaluate_align(model, config)
        results[name]["params"] = sum(p.numel() for p in model.parameters())
        results[name]["steps"] = int((run / "log.txt").read_text().splitlines()[-1].split()[1].split("/")[0])
    lines = [
        "| model | parameters | train steps | test error (input image only) | test error (paper protocol) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        paper = f"{100 * r['error_paper_protocol']:.2f} %" if "error_paper_protocol" in r else "—"
        lines.append(f"| {name} | {r['params']} | {r['steps']} | {100 * r['error_image_protocol']:.2f} % | {paper} |")
    table = "\n".join(lines)
    print(table)
    tag = args.suffix.replace("-", "_")
    (docs / f"icstn{tag}_table.md").write_text(table + "\n")
    slim = {k: {kk: vv for kk, vv in v.items() if not kk.endswith("images")} for k, v in results.items()}
    (docs / f"icstn{tag}.json").write_text(json.dumps(slim, indent=1) + "\n")
    mean_var_figure(results, docs / f"icstn{tag}_mean_var.png")


if __name__ == "__main__":
    main()
