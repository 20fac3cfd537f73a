"""One frame of each real clip in the depth of every source, side by side (issue 12 item 5): docs/depth/sources.png.

    python bench/depth_fit_clips.py --clips flower,7scenes,kitti06,fox --minutes 5 --threads 2   # the fits (RUNS)
    nice -n 10 python bench/depth_sources_figure.py --work runs/fit-clips

Rows: the clips of ``bench/depth_fit_clips.py`` (LLFF flower, 7-Scenes redkitchen, fox, KITTI 06), converted and
fitted there (``--work``: ``WORK/NAME/clip`` and the model the scoring used, ``WORK/NAME/fitted-clip.pt``, or
``fitted-estimate.pt`` for a clip without poses); no fit is run here. Columns, all for frame ``--frame`` (default 6:
a fitted frame, the source from which held-out frame 7 is rendered; frames 3, 7, 11, ... are held out of the
fits):

* the photo;
* ``built-in network``: the built-in model's depth;
* ``geometric``: the plane sweep of the frame over the fitted frames within 6 of it (held-out frames never given),
  low-confidence pixels filled by the built-in network (:func:`viewshift.learn.fit.fused_depth` with
  ``prior="builtin"``: the bench's "geometric alone", what ``viewshift depth --clip`` gives);
* ``fitted network``: the fitted model's depth (``--depth-model MODEL.pt``);
* ``fused``: the same sweep filled by the fitted network (``fused_depth``, ``prior="fitted"``: what ``viewshift fit
  --frame-depths`` writes);
* ``ground truth``: the 7-Scenes Kinect depth (not exactly registered to the colour image; black = no reading),
  a blank cell for the clips without one.

Every depth map is coloured the same way: inverse depth, each map stretched over its own 2nd–98th percentile,
turbo colour map (``viewshift.io.depth_preview``), near = warm (red), far = cool (blue). The colours compare the
layout within a map, not values across maps. Each row's label gives the share of the frame the sweep is confident
about (confidence >= 0.1, the bench's measure); the rest of the geometric and fused maps is the network's fill.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from depth_fit_clips import CLIPS, DATA, REPO  # noqa: E402  (bench scripts import each other from bench/)
from multiview_eval import _tile  # noqa: E402

ROWS = {"flower": "LLFF flower", "7scenes": "7-Scenes redkitchen", "fox": "fox orbit", "kitti06": "KITTI 06"}
HOLDOUT_EVERY = 4  # bench/depth_fit_clips.py's fits: frames 3, 7, 11, ... held out
SEVENSCENES_STEP = 6  # clip frame i is redkitchen frame 6 i (depth_fit_clips.sevenscenes)
COLUMNS = [
    "photo",
    "built-in network",
    "geometric (--clip)",
    "fitted network",
    "fused (--frame-depths)",
    "ground truth",
]
TILE_W, MAX_TILE_H = 232, 300


def preview(depth: np.ndarray) -> np.ndarray:
    """``depth_preview`` stretched over the 2nd–98th percentile of inverse depth instead of its 1st–99th.

    Clipping inverse depth to its own 2nd and 98th percentiles leaves at least 2 % of the pixels at each bound, so
    ``depth_preview``'s 1st and 99th percentiles of the clipped map are exactly those bounds.

    Args:
        depth: ``H×W`` depth, larger = farther; non-finite or non-positive = unknown (black).

    Returns:
        ``H×W×3 uint8`` RGB.
    """
    from viewshift.io import depth_preview

    d = np.asarray(depth, np.float64)
    good = np.isfinite(d) & (d > 0)
    out = np.full(d.shape, np.nan)
    if good.any():
        inv = 1.0 / d[good]
        lo, hi = np.percentile(inv, [2.0, 98.0])
        out[good] = 1.0 / np.clip(inv, lo, hi)
    return depth_preview(out)


def ground_truth(name: str, frame: int, size: tuple[int, int]) -> np.ndarray | None:
    """The Kinect depth (metres, NaN = none) of clip frame ``frame`` at ``size`` (w, h), or None without one."""
    if name != "7scenes":
        return None
    from viewshift.learn.evaluate import sevenscenes_frames

    start = SEVENSCENES_STEP * frame
    (_, depth, _), *_ = sevenscenes_frames(DATA / "video" / "7scenes-redkitchen", 1, start, start + 1)
    return cv2.resize(depth, size, interpolation=cv2.INTER_NEAREST)


def depths(work: Path, name: str, frame: int) -> tuple[np.ndarray, list[np.ndarray | None], float]:
    """The photo, the five depth maps of ``COLUMNS[1:]`` and the sweep's confident share of one clip's frame."""
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.io import read_image
    from viewshift.learn.data import read_clip
    from viewshift.learn.fit import fused_depth

    clip = work / name / "clip"
    if not clip.exists():
        CLIPS[name](clip)
    poses = "clip" if (clip / "poses.txt").exists() else "estimate"
    model = work / name / f"fitted-{poses}.pt"
    if not model.exists():
        raise SystemExit(f"{model} not found: run bench/depth_fit_clips.py --clips {name} --work {work} first")
    rgb = [read_image(p).rgb for p in read_clip(clip).frames]
    held = list(range(HOLDOUT_EVERY - 1, len(rgb), HOLDOUT_EVERY))
    photo = rgb[frame]
    maps: list[np.ndarray | None] = [BuiltinDepth().estimate(photo).depth]
    sweeps = {p: fused_depth(model, frame, images=rgb, exclude=held, prior=p) for p in ("builtin", "fitted")}
    maps += [sweeps["builtin"].depth, BuiltinDepth(model).estimate(photo).depth, sweeps["fitted"].depth]
    maps.append(ground_truth(name, frame, photo.shape[1::-1]))
    return photo, maps, float((sweeps["fitted"].confidence >= 0.1).mean())


def label_bar(text: str, width: int, height: int = 20, scale: float = 0.45) -> np.ndarray:
    bar = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(bar, text, (4, height - 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def figure_row(label: str, photo: np.ndarray, maps: list[np.ndarray | None]) -> np.ndarray:
    """A label strip over the photo and its depth tiles, each ``TILE_W`` wide at the photo's aspect ratio."""
    h, w = photo.shape[:2]
    box = (TILE_W, min(MAX_TILE_H, round(TILE_W * h / w)))
    tiles = [_tile(photo, box)]
    for d in maps:
        if d is None:
            blank = np.full((box[1], box[0], 3), 235, np.uint8)
            cv2.putText(blank, "no ground truth", (40, box[1] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (90, 90, 90), 1,
                        cv2.LINE_AA)  # fmt: skip
            tiles.append(blank)
        else:
            tiles.append(_tile(preview(d), box))
    row = np.concatenate([np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in tiles], 1)
    return np.concatenate([label_bar(label, row.shape[1], 18, 0.42), row, np.full((6, row.shape[1], 3), 255, np.uint8)])


def main(argv: list[str] | None = None) -> int:
    from viewshift.io import write_image

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=str(REPO / "runs" / "fit-clips"), help="bench/depth_fit_clips.py's --work")
    ap.add_argument("--clips", default=",".join(ROWS), help="comma-separated rows (default: all)")
    ap.add_argument("--frame", type=int, default=6, help="clip frame shown (a fitted one; default: 6)")
    ap.add_argument("-o", "--output", default=str(REPO / "docs" / "depth" / "sources.png"))
    args = ap.parse_args(argv)
    if args.frame % HOLDOUT_EVERY == HOLDOUT_EVERY - 1:
        raise SystemExit(f"frame {args.frame} is held out of the fits; pick a fitted frame (e.g. 6)")
    torch.set_num_threads(1)
    rows = []
    for name in args.clips.split(","):
        photo, maps, confident = depths(Path(args.work), name, args.frame)
        h, w = photo.shape[:2]
        label = f"{ROWS[name]}, frame {args.frame} ({w}x{h}); sweep confident on {100 * confident:.0f} %"
        rows.append(figure_row(label, photo, maps))
    width = max(r.shape[1] for r in rows)
    header = np.concatenate([label_bar(c, TILE_W + 4, 24, 0.5) for c in COLUMNS], 1)
    grid = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    grid = np.concatenate([np.pad(header, ((0, 0), (0, width - header.shape[1]), (0, 0)), constant_values=255), grid])
    write_image(args.output, grid, overwrite=True)
    out = Path(args.output).resolve()
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
