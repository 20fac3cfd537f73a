"""Hole PSNR of filler weights on the validation scenes (``viewshift.learn.image2image.VALIDATION``).

The same score the trainer logs every ``validate_every`` steps (:func:`validation_scores`: the network once on each
whole rendered right view, ground-truth and built-in depth, PSNR over the hole pixels, mean over the 16 views), for
weights files (``viewshift/render/fill/weights/fill_learned.pt``) and run folders (their ``best.pt``). Never touches
the held-out scenes.

Usage:  python experiments/fill/score_validation.py WEIGHTS_OR_RUN [...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from viewshift.learn.data import middlebury_pairs
from viewshift.learn.image2image import VALIDATION, RenderedViews, _default_stereo_root, validation_scores
from viewshift.render.fill.learned import UNet, load_filler


def load(path: Path) -> tuple[UNet, str]:
    if path.is_dir():
        state = torch.load(path / "best.pt", map_location="cpu", weights_only=True)
        net = UNet(**state["settings"])
        net.load_state_dict(state["model"])
        return net.eval(), f"{path} best.pt (step {state['step']})"
    return load_filler(str(path)), str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", type=Path, nargs="+")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    pairs = [p for p in middlebury_pairs(_default_stereo_root()) if p.name in VALIDATION]
    views = RenderedViews(pairs)
    names = [f"{p.name} {d}" for p in pairs for d in views.depths]
    results = {}
    for path in args.weights:
        net, label = load(path)
        scores = validation_scores(net, views.views)
        results[label] = {
            "mean": float(np.mean(scores)),
            "gt": float(np.mean(scores[0::2])),
            "builtin": float(np.mean(scores[1::2])),
            "views": dict(zip(names, scores, strict=True)),
        }
        print(
            f"{label}: mean {results[label]['mean']:.4f} (gt {results[label]['gt']:.4f}, "
            f"built-in {results[label]['builtin']:.4f})",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
