"""Quality of the hole fillers on real disocclusions: `python bench/fill_quality.py [--scenes Adirondack ...]`.

For each Middlebury 2014 quarter-size training pair (../shared/data/stereo/middlebury/MiddEval3/trainingQ), the
left image is forward-warped into the right camera with the ground-truth disparity (x_right = x_left - d,
nearest pixel, z-buffer: larger disparity wins; unknown disparities are dropped). The pixels no left pixel
reaches are the holes: disocclusions right of foreground edges, the right border strip, cracks. Each method
fills them (the camera moved right, so the hint is direction = (1, 0)), and the fill is scored against the real
right image on the hole pixels: PSNR (dB, colour in [0, 1]) and mean absolute error x 255. The real right image
differs slightly in exposure and sees some surfaces the left image never saw, so scores are comparative.
Prints a markdown table; `--out FILE` also writes it.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.render.fill import fill_background, fill_holes
from viewshift.render.realism import estimate_noise_sigma, match_realism

ROOT = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "stereo" / "middlebury" / "MiddEval3" / "trainingQ"
)


def read_pfm(path: Path) -> np.ndarray:
    """A one-channel PFM as ``H x W float64`` (rows top to bottom; the file's scale only gives the byte order)."""
    with open(path, "rb") as handle:
        if handle.readline().strip() != b"Pf":
            raise SystemExit(f"{path}: not a one-channel PFM")
        width, height = (int(v) for v in handle.readline().split())
        scale = float(handle.readline())
        data = np.frombuffer(handle.read(), dtype="<f4" if scale < 0 else ">f4", count=width * height)
    return np.flipud(data.reshape(height, width)).astype(np.float64)


def load_scene(folder: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Returns right-view ``image (1, 3, H, W)``, ``depth (1, 1, H, W)``, ``holes (1, 1, H, W)`` and ``truth``."""
    left = cv2.cvtColor(cv2.imread(str(folder / "im0.png")), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    right = cv2.cvtColor(cv2.imread(str(folder / "im1.png")), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    disp = read_pfm(folder / "disp0GT.pfm")
    calib = dict(line.strip().split("=", 1) for line in (folder / "calib.txt").read_text().splitlines() if "=" in line)
    doffs = float(calib["doffs"])
    height, width = disp.shape
    ys, xs = np.nonzero(np.isfinite(disp))
    d = disp[ys, xs]
    xt = np.round(xs - d).astype(np.int64)
    keep = (xt >= 0) & (xt < width)
    ys, xs, xt, d = ys[keep], xs[keep], xt[keep], d[keep]
    order = np.argsort(d)  # far first, near last: the last write (nearest) wins
    ys, xs, xt, d = ys[order], xs[order], xt[order], d[order]
    image = np.zeros_like(left)
    depth = np.full((height, width), np.inf, np.float32)
    image[ys, xt] = left[ys, xs]
    depth[ys, xt] = 1.0 / (d + doffs)  # proportional to metric depth (larger = farther)
    holes = ~np.isfinite(depth)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return (
        as_t(image).permute(2, 0, 1)[None],
        as_t(depth)[None, None],
        as_t(holes)[None, None],
        as_t(right).permute(2, 0, 1)[None],
    )


METHODS = {
    "background + hint": lambda i, d, h: fill_holes(i, d, h, "background", direction=(1, 0)),
    "background": lambda i, d, h: fill_holes(i, d, h, "background"),
    "background, clamp (no reflection)": lambda i, d, h: fill_background(i, d, h, direction=(1, 0), texture="clamp"),
    "telea r=3": lambda i, d, h: fill_holes(i, d, h, "telea", radius=3),
    "ns r=3": lambda i, d, h: fill_holes(i, d, h, "ns", radius=3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    args = parser.parse_args()
    if not ROOT.exists():
        raise SystemExit(f"Middlebury data not found at {ROOT}")
    scenes = args.scenes or sorted(p.name for p in ROOT.iterdir() if p.is_dir())
    totals: dict[str, list[float]] = {m: [] for m in METHODS}
    totals["background + hint + realism"] = []
    lines = ["| scene | holes | " + " | ".join(totals) + " |", "| --- | --- |" + " --- |" * len(totals)]
    noise_lines = []
    for scene in scenes:
        image, depth, holes, truth = load_scene(ROOT / scene)
        mask = holes.expand_as(image)
        row = []
        for name, fn in METHODS.items():
            start = time.perf_counter()
            out, _ = fn(image, depth, holes)
            _ = time.perf_counter() - start
            mse = float((out[mask] - truth[mask]).square().mean())
            totals[name].append(mse)
            row.append(f"{-10 * math.log10(mse):.2f}")
            if name == "background + hint":
                real = match_realism(out, holes, source=image.masked_fill(mask, 0.5), seed=0)
                mse = float((real[mask] - truth[mask]).square().mean())
                totals["background + hint + realism"].append(mse)
                sig = [float(estimate_noise_sigma(x, ~holes if x is truth else None)) for x in (truth,)]
                noise_lines.append((scene, sig))
        row.append(f"{-10 * math.log10(totals['background + hint + realism'][-1]):.2f}")
        lines.append(f"| {scene} | {float(holes.float().mean()):.1%} | " + " | ".join(row) + " |")
        print(lines[-1] if len(lines) > 3 else "\n".join(lines), flush=True)
    mean = [f"{-10 * math.log10(sum(v) / len(v)):.2f}" for v in totals.values()]
    lines.append("| **all (PSNR of mean MSE)** | | " + " | ".join(mean) + " |")
    print(lines[-1])
    if args.out:
        args.out.write_text("PSNR (dB) on hole pixels vs the real right image\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
