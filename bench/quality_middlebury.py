"""Right views of Middlebury stereo pairs rendered from the left view with ground-truth disparity.

For every pair with ground-truth disparity in ../shared/data (11 MiddEval3 trainingQ pairs, 34 classic MiddEval2
pairs) the right view is rendered from the left one (disparity → depth ``Z = f·B/d`` with ``B = 1``, camera moved
right by 1, so every pixel moves by exactly its disparity). Unknown disparities are filled from their farther
neighbours first. PSNR and SSIM are reported over all pixels, over the pixels the renderer reached (visible) and
over the holes it filled, per fill method, beside two baselines: copying the left view, and an integer forward
shift (each pixel moved by its rounded disparity, nearest wins, holes copied from the nearest pixel to their right,
i.e. the background side).

SSIM here is the 3×3-window SSIM of ``viewshift.learn.metrics.ssim`` (C1 = 0.01², C2 = 0.03²).

Usage:  python bench/quality_middlebury.py [--data ../shared/data] [--out docs/bench]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from viewshift.depth.units import fill_from_farther
from viewshift.io import read_image, to_float
from viewshift.learn.data import middlebury_pairs
from viewshift.learn.metrics import psnr, ssim
from viewshift.pipeline import Move, ViewOptions, prepare_scene
from viewshift.render.splat import splat_nearest

METHODS = {
    "ours, background fill": ViewOptions(fill="background"),
    "ours, background fill, no realism": ViewOptions(fill="background", realism=False),
    "ours, texture fill": ViewOptions(fill="texture"),
    "ours, telea fill": ViewOptions(fill="telea"),
    "ours, ns fill": ViewOptions(fill="ns"),
}
BASELINES = ("copy left view", "integer forward shift")


def integer_shift(left: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """Baseline: move each pixel by its rounded disparity (nearest wins), copy holes from the right-hand side."""
    h, w = disp.shape
    img = torch.from_numpy(left).permute(2, 0, 1)[None].float()
    u, v = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    px = torch.from_numpy(np.stack([u - np.round(disp), v]))[None]
    z = torch.from_numpy(1.0 / disp)[None, None].float()
    out, holes = splat_nearest(img, px, z, h, w)
    out = out[0].permute(1, 2, 0).numpy()
    holes = holes[0, 0].numpy()
    # Row-wise: index of the nearest non-hole pixel at or to the right of each pixel (else to the left).
    idx = np.where(~holes, np.arange(w)[None, :], w)
    right = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    idx_l = np.where(~holes, np.arange(w)[None, :], -1)
    left_i = np.maximum.accumulate(idx_l, axis=1)
    src = np.where(right < w, right, np.maximum(left_i, 0))
    return out[np.arange(h)[:, None], src]


def evaluate(data: Path) -> list[dict]:
    rows = []
    for pair in middlebury_pairs(data / "stereo" / "middlebury"):
        left_u8 = read_image(pair.left).rgb
        right = to_float(read_image(pair.right).rgb)
        disp = pair.read_disparity()
        known = np.isfinite(disp) & (disp > 0)
        disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller")
        scene = prepare_scene(left_u8, depth=disp, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
        left = to_float(left_u8)
        row = {"pair": pair.name, "set": pair.name.split("/")[0], "size": left.shape[:2]}
        holes = None
        for name, options in METHODS.items():
            t = time.perf_counter()
            view = scene.render(Move(right=1.0).pose(), options=options)
            row[f"time {name}"] = time.perf_counter() - t
            holes = view.holes
            row[name] = _scores(to_float(view.image), right, holes)
        row["holes %"] = 100 * float(holes.mean())
        row["copy left view"] = _scores(left, right, holes)
        row["integer forward shift"] = _scores(integer_shift(left, disp), right, holes)
        rows.append(row)
        print(
            f"{pair.name:24s} holes {row['holes %']:5.1f}%  "
            + "  ".join(f"{k.split(',')[-1].strip()[:10]}={row[k]['psnr all']:.2f}" for k in (*BASELINES, *METHODS)),
            flush=True,
        )
    return rows


def _scores(a: np.ndarray, b: np.ndarray, holes: np.ndarray) -> dict:
    vis = ~holes
    out = {"psnr all": psnr(a, b), "ssim all": ssim(a, b)}
    out["psnr visible"] = psnr(a, b, vis)
    out["ssim visible"] = ssim(a, b, vis)
    out["psnr holes"] = psnr(a, b, holes) if holes.any() else float("nan")
    out["ssim holes"] = ssim(a, b, holes) if holes.any() else float("nan")
    return out


def table(rows: list[dict], subset: str) -> str:
    sel = [r for r in rows if r["set"] == subset]
    keys = ("psnr all", "ssim all", "psnr visible", "ssim visible", "psnr holes", "ssim holes")
    lines = [
        f"**{subset}** ({len(sel)} pairs, mean over pairs; holes = {np.mean([r['holes %'] for r in sel]):.1f} % "
        "of pixels on average)",
        "",
        "| method | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for name in (*BASELINES, *METHODS):
        vals = [np.nanmean([r[name][k] for r in sel]) for k in keys]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{v:.3f}" if "ssim" in k else f"{v:.2f}" for k, v in zip(keys, vals, strict=True))
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "bench")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the figures do not depend on it)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = evaluate(args.data.resolve())
    text = "\n\n".join(table(rows, s) for s in ("MiddEval3", "MiddEval2"))
    per_pair = [
        "| pair | holes % | copy | int. shift | background | texture | telea | ns |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        per_pair.append(
            f"| {r['pair']} | {r['holes %']:.1f} | "
            + " | ".join(
                f"{r[k]['psnr all']:.2f}"
                for k in (
                    *BASELINES,
                    "ours, background fill",
                    "ours, texture fill",
                    "ours, telea fill",
                    "ours, ns fill",
                )
            )
            + " |"
        )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_middlebury.md").write_text(
        "# Right-view synthesis on Middlebury with ground-truth disparity\n\n"
        "Made by `python bench/quality_middlebury.py` (see its docstring for the protocol).\n\n"
        + text
        + "\n\n## PSNR over all pixels, per pair\n\n"
        + "\n".join(per_pair)
        + "\n"
    )
    _plot(rows, args.out / "quality_middlebury.png")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = (*BASELINES, *METHODS)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, subset in zip(axes, ("MiddEval3", "MiddEval2"), strict=True):
        sel = [r for r in rows if r["set"] == subset]
        vals = [np.mean([r[n]["psnr all"] for r in sel]) for n in names]
        ax.barh(range(len(names)), vals, color=["#999", "#999"] + ["#2a7"] * len(METHODS))
        ax.axvline({"MiddEval3": 24.1, "MiddEval2": 27.5}[subset], color="#c33", ls="--", lw=1)
        ax.set_yticks(range(len(names)), names)
        ax.set_title(f"{subset}: mean PSNR, all pixels ({len(sel)} pairs)")
        ax.set_xlim(10, max(vals) + 3)
        for i, v in enumerate(vals):
            ax.text(v + 0.1, i, f"{v:.2f}", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
