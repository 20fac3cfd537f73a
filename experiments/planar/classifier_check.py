"""Quick checks behind the round-2 IC-STN choices in history.md (section 5).

Usage:

    python experiments/planar/classifier_check.py floor          # digit classifiers on *unperturbed* digits
    python experiments/planar/classifier_check.py icstn RUN      # an IC-STN run: clean validation digits, test-time aug

``floor`` trains each candidate classifier for 2000 steps (batch 64, Adam 1e-3, cosine decay, seed 0) on the
3200 first-round training digits and prints its error on the 800 unperturbed test digits: the small classifier
of the first round (width 8 and 16), with elastic + scale augmentation (width 16 and 32), and the ``deep``
(AngleNet-trunk) classifier with and without augmentation. ``icstn`` prints, on the run's validation digits,
the error of the IC-STN on the unperturbed digits and of its classifier alone, and the error on the perturbed
validation set with and without averaging 8 small extra perturbations (σ 0.03, 0.06, 0.1).
"""

from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F

from viewshift.planar.digits import load_split
from viewshift.planar.models import AngleNet, DigitClassifier
from viewshift.planar.warps import elastic_warp, sample_perturbations, warp_images


def _tensor(images):
    return torch.from_numpy(images).float().div(255).unsqueeze(1)


def floor() -> None:
    tr, te = load_split("train"), load_split("test")
    x, y = _tensor(tr.images), torch.from_numpy(tr.labels)
    xt, yt = _tensor(te.images), torch.from_numpy(te.labels)
    runs = [
        ("small", 8, None),
        ("small", 16, None),
        ("small", 16, 1.5),
        ("small", 16, 2.5),
        ("small", 32, 2.0),
        ("deep", 16, 2.0),
        ("deep", 16, 0.0),
    ]
    for arch, width, alpha in runs:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(0) if alpha is not None else None
        m = AngleNet("bins", 10, width) if arch == "deep" else DigitClassifier(width)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        for s in range(2000):
            for group in opt.param_groups:
                group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * s / 2000))
            i = torch.randint(0, len(y), (64,), generator=g)
            xb = x[i] if alpha is None else elastic_warp(x[i], alpha, 3.0, 0.1 if alpha else 0.0, g)
            loss = F.cross_entropy(m(xb), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        m.eval()
        with torch.no_grad():
            err = float((m(xt).argmax(-1) != yt).float().mean())
        print(f"{arch} width {width} elastic {alpha}: clean test error {100 * err:.2f} %", flush=True)


def icstn(run: str) -> None:
    from viewshift.planar.evaluate import align_test_set
    from viewshift.planar.train import load_run

    model, cfg = load_run(run)
    val = load_split("val", None, None, cfg.val_per_class)
    x, y = _tensor(val.images), torch.from_numpy(val.labels)
    _, _, perturbed, labels = align_test_set(cfg=cfg, split="val")
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        alone = float((model.classifier(x).argmax(-1) != y).float().mean())
        print(f"classifier alone, clean validation digits: {100 * alone:.2f} %")
        print(f"IC-STN, clean validation digits: {100 * float((model(x).argmax(-1) != y).float().mean()):.2f} %")
        base = torch.softmax(model(perturbed), -1)
        print(f"perturbed validation: {100 * float((base.argmax(-1) != labels).float().mean()):.2f} %")
        for sigma in (0.03, 0.06, 0.1):
            total = base.clone()
            for _ in range(8):
                h = sample_perturbations(len(perturbed), "homography", sigma, sigma, generator=g)
                total += torch.softmax(model(warp_images(perturbed, h)[0]), -1)
            print(
                f"  + 8 extra perturbations σ {sigma}: {100 * float((total.argmax(-1) != labels).float().mean()):.2f} %"
            )


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) >= 2 and sys.argv[1] == "floor":
        floor()
    elif len(sys.argv) == 3 and sys.argv[1] == "icstn":
        icstn(sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
