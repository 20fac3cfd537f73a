"""The README's picture grid: input, depth, new view, hole mask and red-cyan anaglyph, one row per example.

Rows: the bundled example photo with the built-in depth network (camera 8 cm to the right of a scene scaled to a
3 m median), and a Middlebury pair (Adirondack, quarter size) with its ground-truth depth, rendered as the right
view of its stereo pair, next to the real right view.

Usage:  python bench/picture_grid.py [--data ../shared/data] [--out docs/images/grid.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.commands import EXAMPLE_IMAGE
from viewshift.io import depth_preview, read_image, write_image
from viewshift.pipeline import Move, ViewOptions, compose_stereo, prepare_scene, stereo_pair

TILE_W = 360


def _tile(img: np.ndarray, label: str) -> np.ndarray:
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8)
    h, w = img.shape[:2]
    tile = cv2.resize(img, (TILE_W, int(round(h * TILE_W / w))), interpolation=cv2.INTER_AREA)
    bar = np.full((22, TILE_W, 3), 255, np.uint8)
    cv2.putText(bar, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def _row(tiles: list[np.ndarray]) -> np.ndarray:
    h = max(t.shape[0] for t in tiles)
    padded = [np.pad(t, ((0, h - t.shape[0]), (0, 4), (0, 0)), constant_values=255) for t in tiles]
    return np.concatenate(padded, axis=1)


def example_row(image, scene, move: Move, extra: tuple[np.ndarray, str] | None = None) -> np.ndarray:
    view = scene.render(move.pose(), options=ViewOptions())
    left, right = stereo_pair(scene)
    mask = np.where(view.holes[..., None], np.array([255, 0, 255], np.uint8), (image[..., :3] // 3).astype(np.uint8))
    tiles = [
        _tile(image, "input"),
        _tile(depth_preview(scene.depth[0, 0].numpy()), "depth (near = warm)"),
        _tile(view.image, "new view"),
        _tile(mask, f"revealed pixels ({100 * view.holes.mean():.1f} %)"),
        _tile(compose_stereo(left.image, right.image, "anaglyph"), "anaglyph (red-cyan)"),
    ]
    if extra is not None:
        tiles.append(_tile(*extra))
    return _row(tiles)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images" / "grid.png")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    photo = read_image(EXAMPLE_IMAGE).rgb
    rows.append(example_row(photo, prepare_scene(photo), Move(right=0.08)))
    mid = args.data.resolve() / "stereo" / "middlebury" / "MiddEval3" / "trainingQ" / "Adirondack"
    if mid.exists():
        from viewshift.depth.units import fill_from_farther
        from viewshift.io import read_depth

        left = read_image(mid / "im0.png").rgb
        disp = read_depth(mid / "disp0GT.pfm")
        known = np.isfinite(disp) & (disp > 0)
        disp = fill_from_farther(np.where(known, disp, 0), known, farther="smaller")
        scene = prepare_scene(left, depth=disp, depth_unit="disparity", depth_baseline=1.0, focal=1000.0)
        rows.append(example_row(left, scene, Move(right=1.0), (read_image(mid / "im1.png").rgb, "real right view")))
    width = max(r.shape[1] for r in rows)
    grid = np.concatenate([np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_image(args.out, grid, overwrite=True)
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})")


if __name__ == "__main__":
    main()
