"""Round 10: how much of a frame's unmatched area the *other* frames' confident depth could fill (the fox; the
"Next" of docs/depth/fit.md). Reads a fit's run folder: the geometric teacher of the 12 teacher frames
(``teacher.npz``: depth and confidence at the fit size) and the cameras (``cameras.npz``).

    python experiments/depth/fit_round10/other_frames.py /work/runs/r10/fit/fox/fitted-clip-s0.pt.run

For each teacher frame t: the share of its pixels below the fill threshold (confidence < 0.1), the share of
those that a confident pixel of another teacher frame lands on (projected with the clip's cameras, nearest
pixel, nearest depth kept), and, on t's own confident pixels, the median |log| ratio between t's depth and the
depth carried over from the others (how well the frames agree where both are sure).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

THRESHOLD = 0.1


def carry(depth: np.ndarray, conf: np.ndarray, K: np.ndarray, tgt_T_src: np.ndarray, hw) -> np.ndarray:
    """``(H, W)`` nearest depth of ``depth``'s confident pixels seen from the target camera, ``inf`` elsewhere."""
    ys, xs = np.nonzero(conf >= THRESHOLD)
    z = depth[ys, xs].astype(np.float64)
    pts = np.linalg.inv(K) @ np.stack([xs + 0.5, ys + 0.5, np.ones_like(xs, dtype=np.float64)]) * z
    pts = tgt_T_src[:3, :3] @ pts + tgt_T_src[:3, 3:]
    zt = pts[2]
    uv = (K @ pts)[:2] / np.where(zt > 1e-9, zt, np.inf)
    u, v = np.floor(uv[0]).astype(int), np.floor(uv[1]).astype(int)
    ok = (zt > 1e-9) & (u >= 0) & (u < hw[1]) & (v >= 0) & (v < hw[0])
    out = np.full(hw, np.inf)
    np.minimum.at(out, (v[ok], u[ok]), zt[ok])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a fit's run folder (teacher.npz, cameras.npz)")
    args = ap.parse_args()
    teacher = np.load(args.run / "teacher.npz")
    cams = np.load(args.run / "cameras.npz")
    K, world_T_cam = cams["K"], cams["world_T_cam_initial"]
    frames = sorted(int(k[1:]) for k in teacher.files if k.startswith("d"))
    print("| frame | unmatched | of it, seen by another frame | median abs log ratio where both are sure |")
    print("|---|---|---|---|")
    shares = []
    for t in frames:
        d_t, c_t = teacher[f"d{t}"], teacher[f"c{t}"]
        hw = d_t.shape
        best = np.full(hw, np.inf)
        for s in frames:
            if s != t:
                tgt_T_src = np.linalg.inv(world_T_cam[t]) @ world_T_cam[s]
                best = np.minimum(best, carry(teacher[f"d{s}"], teacher[f"c{s}"], K, tgt_T_src, hw))
        low = c_t < THRESHOLD
        seen = low & np.isfinite(best)
        sure = ~low & np.isfinite(best) & (d_t > 0)
        agree = float(np.median(np.abs(np.log(best[sure] / d_t[sure])))) if sure.any() else float("nan")
        shares.append(seen.sum() / max(low.sum(), 1))
        print(f"| {t} | {low.mean():.0%} | {shares[-1]:.0%} | {agree:.3f} |")
    print(f"\nmean share of the unmatched pixels seen by another frame: {np.mean(shares):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
