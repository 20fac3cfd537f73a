"""Round 10: a fill from the clip's other frames, scored on validation frames only (a prototype of the "Next" of
docs/depth/fit.md). Each validation source's sweep (``fused_depth``) keeps its confident pixels; where it is not
confident and a confident pixel of another teacher frame lands (``other_frames.carry``: the fit's geometric
teacher, ``teacher.npz``, frames that are neither held out nor validation targets nor the source), that frame's
depth replaces the network fill; elsewhere the fill stays.

    python experiments/depth/fit_round10/carried_fill.py --work /work/runs/r10/fit --clips fox --tags=-s0 \
        -o experiments/depth/fit_round10/carried.json

With ``--held-out``: the held-out frames of ``bench/depth_fit_clips.py``'s models instead (``queue.sh``).

Columns: ``geometric`` / ``both`` as in round 9's ``validation.py``, and ``geometric_carried`` / ``both_carried``
with the carried depth.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(HERE))
AGREE: list[float] = []
CARRIED: list[float] = []


def carrying(original, run: Path, every: int, validation: bool):
    """``fused_depth`` with the priors ``"<prior>_carried"``: the fill replaced where another frame is sure (with
    ``validation``, never from a validation target, ``k = 1, every + 1, ...``, although the fit has seen them)."""
    from other_frames import THRESHOLD, carry

    teacher = np.load(run / "teacher.npz")
    cams = np.load(run / "cameras.npz")
    K, W = np.asarray(cams["K"], np.float64), cams["world_T_cam_initial"]
    frames = sorted(int(k[1:]) for k in teacher.files if k.startswith("d"))

    def wrapped(model, frame, *, images, exclude, prior, config=None):
        if not prior.endswith("_carried"):
            return original(model, frame, images=images, exclude=exclude, prior=prior, config=config)
        r = original(model, frame, images=images, exclude=exclude, prior=prior.removesuffix("_carried"), config=config)
        hw = r.depth.shape
        best = np.full(hw, np.inf)
        for s in frames:
            if s == frame or s in exclude or (validation and (s - 1) % every == 0):  # never a target's own depth
                continue
            d = cv2.resize(teacher[f"d{s}"], hw[::-1], interpolation=cv2.INTER_NEAREST)
            c = cv2.resize(teacher[f"c{s}"], hw[::-1], interpolation=cv2.INTER_NEAREST)
            best = np.minimum(best, carry(d, c, K, np.linalg.inv(W[frame]) @ W[s], hw))
        low = r.confidence < THRESHOLD
        sure = ~low & np.isfinite(best)
        if sure.any():
            AGREE.append(float(np.median(np.abs(np.log(best[sure] / r.depth[sure])))))
        take = low & np.isfinite(best)
        CARRIED.append(float(take.sum() / max(low.sum(), 1)))
        return dataclasses.replace(r, depth=np.where(take, best, r.depth).astype(np.float32))

    return wrapped


def main() -> int:
    import depth_fit_clips
    import torch

    import viewshift.learn.fit as fit
    from viewshift.io import atomic_path

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="the round's work folder (NAME/clip, NAME/fitted-clip{TAG}.pt)")
    ap.add_argument("--clips", required=True, help="comma-separated clip names")
    ap.add_argument("--tags", default="-s0", help="comma-separated model tags (default: -s0)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="score the held-out frames (models NAME/fitted-POSES{TAG}.pt of bench/depth_fit_clips.py, results "
        "under NAME/POSES{TAG}) instead of the validation frames (NAME/fitted-clip{TAG}.pt, under NAME{TAG})",
    )
    ap.add_argument("--poses", default="clip", choices=["clip", "estimate"], help="with --held-out: the fit's cameras")
    args = ap.parse_args()
    sweeps = {k: (p, None) for k, p in [("geometric", "builtin"), ("both", "both")]}
    sweeps |= {f"{k}_carried": (f"{p}_carried", None) for k, (p, _) in list(sweeps.items())}
    out = Path(args.output)
    results = json.loads(out.read_text()) if out.exists() else {}
    original = fit.fused_depth
    for name in args.clips.split(","):
        for tag in args.tags.split(","):
            work = Path(args.work) / name
            poses = args.poses if args.held_out else "clip"
            model = work / f"fitted-{poses}{tag}.pt"
            run = Path(str(model) + ".run")
            v = not args.held_out
            fit.fused_depth = carrying(original, run, 4, v)
            AGREE.clear(), CARRIED.clear()
            r = depth_fit_clips.score(work / "clip", model, run, 4, True, validation=v, sweeps=sweeps)
            r["fit"] = {"step": int(torch.load(model, weights_only=True)["meta"]["steps"])}
            r["carried_share_of_unmatched"] = float(np.mean(CARRIED))
            r["median_abs_log_ratio_where_both_sure"] = float(np.median(AGREE))
            key = f"{name}/{poses}{tag}" if args.held_out else name + tag
            results[key] = r
            with atomic_path(out) as tmp:
                tmp.write_text(json.dumps(results, indent=2))
            keys = ("fitted", "plane", *sweeps, "carried_share_of_unmatched", "median_abs_log_ratio_where_both_sure")
            print(key, {k: round(r[k], 3) for k in keys}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
