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
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.render.fill import fill_background, fill_holes
from viewshift.render.realism import _highpass, match_realism

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


def detail(image: torch.Tensor, holes: torch.Tensor) -> float:
    """Mean noise-equivalent detail energy ``(N * I)**2 / 36`` (see realism.py) over responses centred in holes."""
    response = _highpass(image).square().mean(dim=1, keepdim=True) / 36
    inside = holes[..., 1:-1, 1:-1]
    return float(response[inside].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the tables to this markdown file")
    args = parser.parse_args()
    if not ROOT.exists():
        raise SystemExit(f"Middlebury data not found at {ROOT}")
    scenes = args.scenes or sorted(p.name for p in ROOT.iterdir() if p.is_dir())
    names = [*METHODS, "background + hint + realism"]
    mse: dict[str, list[float]] = {m: [] for m in names}
    ratio: dict[str, list[float]] = {m: [] for m in names}
    rows = []
    for scene in scenes:
        image, depth, holes, truth = load_scene(ROOT / scene)
        mask = holes.expand_as(image)
        truth_detail = detail(truth, holes)
        outputs = {name: fn(image, depth, holes)[0] for name, fn in METHODS.items()}
        outputs["background + hint + realism"] = match_realism(
            outputs["background + hint"], holes, source=load_left(ROOT / scene), seed=0
        )
        cells = []
        for name, out in outputs.items():
            mse[name].append(float((out[mask] - truth[mask]).square().mean()))
            ratio[name].append(detail(out, holes) / truth_detail)
            cells.append(f"{-10 * math.log10(mse[name][-1]):.2f} / {ratio[name][-1]:.2f}")
        rows.append(f"| {scene} | {float(holes.float().mean()):.1%} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    mean = []
    for m in names:
        psnr = -10 * math.log10(sum(mse[m]) / len(mse[m]))
        mean.append(f"**{psnr:.2f} / {math.exp(sum(map(math.log, ratio[m])) / len(ratio[m])):.2f}**")
    lines = [
        "PSNR (dB, on hole pixels, vs the real right image) / detail ratio (fill's detail energy over the real",
        "image's, on hole pixels; 1 = as detailed as the real image, < 1 smoother, > 1 busier). Made by",
        "`python bench/fill_quality.py`.",
        "",
        "| scene | holes | " + " | ".join(names) + " |",
        "| --- | --- |" + " --- |" * len(names),
        *rows,
        "| **all** (PSNR of the mean MSE / geometric mean ratio) | | " + " | ".join(mean) + " |",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


def load_left(folder: Path) -> torch.Tensor:
    """The left photo ``(1, 3, H, W)`` in [0, 1] (the source of the noise level for realism)."""
    left = cv2.cvtColor(cv2.imread(str(folder / "im0.png")), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    return torch.from_numpy(left).permute(2, 0, 1)[None]


if __name__ == "__main__":
    main()
