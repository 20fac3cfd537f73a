"""Can the built-in depth network overfit one batch?  (round-3 diagnosis, docs/depth/builtin.md)

One fixed batch of six Middlebury training crops (96×128, no held-out scene), the supervised disparity loss of
the ``builtin`` preset only (scale-and-shift-invariant + 0.5 gradient matching), Adam, N steps, one thread.
Prints the loss curve and, at step 0, what the network's output head and layers look like.

    python experiments/depth/builtin_round3/overfit.py --variant shipped --steps 60
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from train_builtin import DATA, HOLDOUT  # noqa: E402

from viewshift.depth import network  # noqa: E402
from viewshift.depth.network import DepthNet, depth_preset  # noqa: E402
from viewshift.learn import data as D  # noqa: E402
from viewshift.learn import losses as L  # noqa: E402


def one_batch(size=(96, 128), n=6, seed=0) -> dict:
    pairs = [p for p in D.middlebury_pairs(DATA / "stereo" / "middlebury") if p.name not in HOLDOUT]
    ds = D.StereoDataset(pairs, size, seed=seed)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds), generator=g)[:n].tolist()
    samples = [ds[i] for i in idx]
    keys = set.intersection(*(set(s) for s in samples))
    return {k: torch.stack([s[k] for s in samples]) for k in keys}


def patched_conv_block(norm: str):
    """``network.conv_block`` with an optional normalisation between convolution and ELU."""

    def block(c_in, c_out, kernel=3, stride=1):
        conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2)
        if norm == "none":
            return nn.Sequential(conv, nn.ELU(inplace=True))
        layer = nn.BatchNorm2d(c_out) if norm == "batch" else nn.GroupNorm(min(8, c_out // 4), c_out)
        return nn.Sequential(conv, layer, nn.ELU(inplace=True))

    return block


def kaiming(net: nn.Module) -> None:
    """He initialisation of every convolution (fan_in, gain sqrt 2), zero biases."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)


def supervised(net, batch, head_stats=False):
    depths = net(batch["target"])
    disp = 1.0 / depths[0]
    valid = batch["depth_valid"] & batch["has_depth"].reshape(-1, 1, 1, 1)
    ssi = L.scale_shift_invariant_loss(disp, batch["depth"], valid)
    grad = L.gradient_matching_loss(disp, batch["depth"], valid)
    return ssi + 0.5 * grad, ssi, disp


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="fresh", help="fresh | shipped | PATH to a model file")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="default", help="default (PyTorch's) | kaiming (He, fan_in, gain sqrt 2)")
    ap.add_argument("--norm", default="none", help="none | batch | group: a normalisation after each convolution")
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    network.conv_block = patched_conv_block(args.norm)
    net = DepthNet(depth_preset(args.preset))
    if args.init == "kaiming":
        kaiming(net)
    if args.variant == "shipped":
        args.variant = "viewshift/depth/weights/builtin_depth.pt"
    if args.variant != "fresh":
        net.load_state_dict(torch.load(args.variant, map_location="cpu", weights_only=True)["state_dict"])
    batch = one_batch()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    curve, t0 = [], time.time()
    for step in range(args.steps + 1):
        loss, ssi, disp = supervised(net, batch)
        if step == 0:
            s = (disp - 1 / net.config.max_depth) / (1 / net.config.min_depth - 1 / net.config.max_depth)
            print(f"sigmoid output: min {s.min():.4f} median {s.median():.4f} max {s.max():.4f}")
        curve.append(round(float(ssi.detach()), 4))
        if step == args.steps:
            break
        opt.zero_grad()
        loss.backward()
        if step == 0:
            norms = {n: float(p.grad.norm()) for n, p in net.named_parameters() if n.endswith("weight")}
            first, last = next(iter(norms.items())), list(norms.items())[-4:]
            print("grad norms: first", first, "last", last)
        opt.step()
    print("ssi every 10 steps:", curve[::10], f"({time.time() - t0:.0f} s)")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "ssi": curve}, indent=1))


if __name__ == "__main__":
    main()
