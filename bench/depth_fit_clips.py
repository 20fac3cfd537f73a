"""Does ``viewshift fit`` improve rendering of held-out frames of real clips? (issue 12 item 2)

    nice -n 10 python bench/depth_fit_clips.py --minutes 3 --threads 1            # all clips
    nice -n 10 python bench/depth_fit_clips.py --clips fox --minutes 3 --threads 1

For each real clip in ../shared/data (converted to the clip format under runs/fit-clips/NAME/clip, not in the
repo): every 4th frame (indices 3, 7, 11, ...) is held out of the fit (``holdout_every=4``); the fit runs for the
time budget with the clip's cameras; then each held-out frame ``k`` is rendered from frame ``k - 1`` through the
project's renderer (:func:`viewshift.render.view.render_view`) with the cameras the fit started from (``--poses
clip``: the dataset's poses, ``estimate``: structure from motion; a held-out frame has no refined pose, and the
source's refined pose against the target's initial one cost every method 2-3 dB on 7-Scenes:
``--render-poses refined``, experiments/depth/fit_round3) and six depths of frame ``k - 1``:

* ``fitted``: the fitted model's depth times its learned scale (the cameras' unit);
* ``builtin``: the built-in model's depth, median-scaled per frame to the fitted depth;
* ``plane``: a fronto-parallel plane at the fitted depth's median;
* ``geometric``: plane-sweep depth of the source from the fitted frames within 6 of it (never a held-out frame),
  with the run's cameras, low-confidence pixels filled by the built-in network aligned to the geometry
  (:func:`viewshift.learn.fit.fused_depth` with ``prior="builtin"``, i.e. ``multiview_depth``'s default): the
  geometric depth alone, in the cameras' unit at its own scale;
* ``fused``: the same sweep with the fitted network filling (``fused_depth``, ``prior="fitted"``): the fit's
  product for the clip's frames (``viewshift fit --frame-depths``);
* ``fused_both`` (``--also-both``): the same sweep filled by the mean of the fitted and the built-in networks,
  each aligned to the geometry (``prior="both"``).
* ``*_choose`` (``--also-choose``): ``geometric``, ``fused`` and ``fused_both`` again with
  ``SweepConfig(fill_choose=True)``: per frame, the network fill or propagation, whichever predicts left-out blocks
  of the confident depth better (:func:`viewshift.multiview.planesweep.choose_fill`).
* ``*_unchecked`` (``--also-unchecked``): ``geometric``, ``fused`` (and ``fused_both``) again without the
  matching-cost check of the fill (``SweepConfig(fill_cost_margin=None)``; the check, on by default since round 8,
  takes the propagated depth at low-confidence pixels where the sweep's cost at it is a good match and lower than
  at the network fill's: :func:`viewshift.multiview.planesweep.cheaper_fill`).

Each method then gets its own best global factor for the whole clip (the same oracle advantage for every
method): the best of 13 values in [1/4, 4], refined by a golden-section search in ``log f`` between that value's
grid neighbours, so that no method gains or loses by where the grid happens to fall. PSNR is taken over the
pixels every method covers at factor 1 and averaged over the held-out frames; ``identity`` is frame ``k - 1`` as
is. ``*_at_median_scale`` are the scores at factor 1.

The swept methods share one sweep per source frame (:class:`shared_sweeps`): the first one's time (``geometric_s``)
includes it, the others' only their fill.

Writes docs/depth/fit.json and docs/depth/fit_table.md and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
FACTORS = np.geomspace(0.25, 4.0, 13)
#: ``SweepConfig`` fields of the ``*_unchecked`` columns (``--also-unchecked``): the fill without its cost check.
UNCHECKED = {"fill_cost_margin": None}


# ------------------------------------------------------------------------------------------- clip converters


def _write(out: Path, frames, K, poses, meta) -> Path:
    from viewshift.learn.data import write_clip

    poses = None if poses is None else np.asarray(poses, np.float64)
    return write_clip(out, frames, np.asarray(K, np.float64), poses, meta, overwrite=True)


def fox(out: Path, undistort: bool = True) -> Path:
    """50 frames of the fox orbit at 360×640, COLMAP poses (OpenGL axes turned into OpenCV's).

    COLMAP estimated the poses with the capture's lens distortion (``k1, k2, p1, p2`` in transforms.json: 1.6 px
    on average, up to 3.6 px at 360 px wide); every viewshift step assumes a pinhole camera, so the full-size
    frames are undistorted to the same ``K`` first (``undistort=False``: as rounds 3-6 used them, distortion
    ignored).
    """
    from viewshift.io import read_image

    root = DATA / "video" / "fox-handheld"
    t = json.loads((root / "transforms.json").read_text())
    s = 360 / t["w"]
    K_full = np.array([[t["fl_x"], 0, t["cx"]], [0, t["fl_y"], t["cy"]], [0, 0, 1]])
    dist = np.array([t["k1"], t["k2"], t["p1"], t["p2"]])
    frames, poses = [], []
    for f in sorted(t["frames"], key=lambda f: f["file_path"]):
        path = root / f["file_path"]
        if not path.exists():
            continue
        rgb = read_image(path).rgb
        if undistort:  # edge pixels repeated where the map leaves the frame (1.7 % of pixels)
            maps = cv2.initUndistortRectifyMap(K_full, dist, None, K_full, rgb.shape[1::-1], cv2.CV_32FC1)
            rgb = cv2.remap(rgb, *maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        frames.append(cv2.resize(rgb, (360, 640), interpolation=cv2.INTER_AREA))
        poses.append(np.array(f["transform_matrix"]) @ np.diag([1.0, -1.0, -1.0, 1.0]))
    K = [[t["fl_x"] * s, 0, (t["cx"] + 0.5) * s - 0.5], [0, t["fl_y"] * s, (t["cy"] + 0.5) * s - 0.5], [0, 0, 1]]
    note = "undistorted to K (k1, k2, p1, p2 of transforms.json)" if undistort else "lens distortion ignored"
    return _write(out, frames, K, poses, {"source": str(root), "note": note})


def sevenscenes(out: Path) -> Path:
    """Every 6th of the 300 redkitchen frames (50, ~4 cm apart) at 320×240, ground-truth poses."""
    from viewshift.learn.evaluate import sevenscenes_frames

    frames, poses = [], []
    for rgb, _, pose in sevenscenes_frames(DATA / "video" / "7scenes-redkitchen", 6, 0, 300):
        frames.append(cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA))
        poses.append(pose)
    K = [[292.5, 0, 159.75], [0, 292.5, 119.75], [0, 0, 1]]
    return _write(out, frames, K, poses, {"source": "7scenes-redkitchen 0:300:6"})


def flower(out: Path) -> Path:
    """LLFF flower, 34 views at 504×378, COLMAP poses (LLFF axes [down, right, back] turned into OpenCV's)."""
    from viewshift.io import read_image

    root = DATA / "multiview" / "llff-flower"
    pb = np.load(root / "poses_bounds.npy")
    frames, poses = [], []
    for i, row in enumerate(pb):
        m = row[:15].reshape(3, 5)
        R = np.stack([m[:, 1], m[:, 0], -m[:, 2]], 1)  # columns: right, down, forward
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, m[:, 3]
        poses.append(T)
        frames.append(read_image(root / "images_8" / f"image{i:03d}.png").rgb)
    h, w = frames[0].shape[:2]
    f = pb[0, 14] * w / pb[0, 9]
    K = [[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]]
    return _write(out, frames, K, poses, {"source": str(root)})


def _kitti(name: str, out: Path) -> Path:
    from viewshift.io import read_image

    root = DATA / "video" / name
    P0 = np.loadtxt(root / "calib.txt")[0].reshape(3, 4)
    poses = [np.vstack([r.reshape(3, 4), [0, 0, 0, 1]]) for r in np.loadtxt(root / "poses.txt")]
    paths = sorted((root / "image_l").glob("*.png"))
    grey = [read_image(p).rgb for p in paths]
    h, w = grey[0].shape[:2]
    s = 620 / w
    size = (620, round(h * s))
    frames = [cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in grey]
    K = P0[:, :3].copy()
    K[0, 0], K[1, 1] = K[0, 0] * s, K[1, 1] * size[1] / h
    K[0, 2], K[1, 2] = (K[0, 2] + 0.5) * s - 0.5, (K[1, 2] + 0.5) * size[1] / h - 0.5
    return _write(out, frames, K, poses, {"source": str(root)})


def tum(out: Path) -> Path:
    """TUM RGB-D fr3 long office household: 4 frames ~3.4 s apart at 320×240, no poses (``--poses estimate``)."""
    from viewshift.io import read_image

    root = DATA / "video" / "tum-fr3-office"
    frames = [
        cv2.resize(read_image(p).rgb, (320, 240), interpolation=cv2.INTER_AREA) for p in sorted(root.glob("*.png"))
    ]
    K = [[535.4 / 2, 0, (320.1 + 0.5) / 2 - 0.5], [0, 539.2 / 2, (247.6 + 0.5) / 2 - 0.5], [0, 0, 1]]
    return _write(out, frames, K, None, {"source": str(root), "note": "fr3 intrinsics (TUM3 settings)"})


CLIPS = {
    "fox": fox,
    "7scenes": sevenscenes,
    "flower": flower,
    "kitti06": lambda out: _kitti("kitti-odom06-frames0-50", out),
    "kitti-turn": lambda out: _kitti("kitti-odom-turn", out),
    "tum": tum,
}


# -------------------------------------------------------------------------------------------------- scoring


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    mse = float(((a - b) ** 2)[mask].mean())
    return 10 * np.log10(1.0 / max(mse, 1e-10))


def score(
    clip_dir: Path,
    model: Path,
    run: Path,
    every: int,
    geometric: bool,
    cache: Path | None = None,
    render_poses: str = "initial",
    *,
    validation: bool = False,
    sweeps: dict | None = None,
) -> dict:
    """Held-out PSNR of every method (module docstring).

    ``render_poses``: the poses the held-out frame is rendered with, ``"initial"`` (the cameras the fit started
    from; the held-out frame has no other) or ``"refined"`` (the source's refined pose, the target's initial one).

    ``cache``: an ``.npz`` file keeping the geometric depths between runs (experiments only: the depth range and
    the refined poses of another run are used).

    ``validation``: render the fitted frames ``k = 1, every + 1, ...`` from ``k - 1`` instead of the held-out ones
    (for choices made without the held-out frames; the fitted network has seen both frames, so it is favoured);
    the sweeps never see the targets.

    ``sweeps``: the swept methods, ``{name: (prior, SweepConfig or None)}`` (default: ``geometric`` filled by the
    built-in network, ``fused`` by the fitted one, both with the sweep's defaults).
    """
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.io import read_image
    from viewshift.learn.data import read_clip
    from viewshift.learn.fit import fused_depth
    from viewshift.render.view import render_view

    clip = read_clip(clip_dir)
    cams = np.load(run / "cameras.npz")
    W = cams["world_T_cam_initial"]
    if render_poses == "refined" and "world_T_cam" in cams.files:
        W = cams["world_T_cam"]
    K = np.asarray(cams["K"], np.float64)
    scale = float(torch.load(model, weights_only=True)["meta"]["scale"])
    fitted, builtin = BuiltinDepth(model), BuiltinDepth()
    rgb = [read_image(p).rgb for p in clip.frames]
    held = [k for k in range(every - 1, len(rgb), every)]
    targets = [k for k in range(1, len(rgb), every) if k not in held] if validation else held
    unseen = sorted(set(held) | set(targets))
    sweeps = sweeps if sweeps is not None else {"geometric": ("builtin", None), "fused": ("fitted", None)}
    cached = dict(np.load(cache)) if cache is not None and cache.exists() else {}
    pairs: list = []
    identity, times, confident = [], {}, {}
    for k in targets:
        src, tgt = k - 1, k
        d_fit = fitted.estimate(rgb[src]).depth * scale
        med = float(np.median(d_fit))
        depths = {"fitted": d_fit}
        d_b = builtin.estimate(rgb[src]).depth
        depths["builtin"] = d_b * (med / float(np.median(d_b)))
        depths["plane"] = np.full_like(d_fit, med)
        # the product's clip-frame depths (viewshift.learn.fit.fused_depth): the sweep sees the fitted frames
        # within 6 of the source only, never a held-out frame; "geometric" is filled by the built-in network,
        # "fused" by the fitted one
        memo = shared_sweeps()  # one sweep of the source for every swept method
        for name, (prior, config) in sweeps.items() if geometric else ():
            if f"{name}{src}" in cached:
                depths[name] = cached[f"{name}{src}"]
                continue
            t0 = time.monotonic()
            try:
                with memo:
                    r = fused_depth(model, src, images=rgb, exclude=unseen, prior=prior, config=config)
                g = np.where(np.isfinite(r.depth) & (r.depth > 0), r.depth, med).astype(np.float32)
                depths[name] = cached[f"{name}{src}"] = g  # the cameras' unit: its own scale
                confident.setdefault(name, []).append(float((r.confidence >= 0.1).mean()))
            except Exception as exc:  # noqa: BLE001 - a failed sweep is reported, not fatal
                times[f"{name}_error"] = str(exc)
            times[f"{name}_s"] = times.get(f"{name}_s", 0) + time.monotonic() - t0
        T = torch.from_numpy(np.linalg.inv(W[tgt]) @ W[src]).float()[None]
        img = torch.from_numpy(np.array(rgb[src])).permute(2, 0, 1)[None].float() / 255
        Kt = torch.from_numpy(K).float()[None]
        target = rgb[tgt].astype(np.float32) / 255
        covered = np.ones(target.shape[:2], bool)  # the mask: covered by every method at its median scale
        for d in depths.values():
            covered &= ~render_view(img, torch.from_numpy(d).float()[None, None], Kt, T).holes[0, 0].numpy()
        pairs.append((img, Kt, T, target, covered, depths))
        identity.append(psnr(rgb[src].astype(np.float32) / 255, target, covered))
    if cache is not None and cached:
        np.savez(cache, **cached)
    frames_key = "validation_frames" if validation else "held_out_frames"
    result = {frames_key: targets, "identity": float(np.mean(identity))}
    result |= {f"{k}_confident_share": round(float(np.mean(v)), 3) for k, v in confident.items()}
    for name in pairs[0][5]:
        best, value, at_median = best_factor(pairs, name)
        result[name], result[f"{name}_factor"], result[f"{name}_at_median_scale"] = value, round(best, 4), at_median
    return result | times


class shared_sweeps:  # noqa: N801 - used like a function: ``with shared_sweeps(): ...``
    """While inside (it may be entered again and again), the plane sweep of a frame (``planesweep._Sweeps.sweep``:
    the cost volume and its winner) is computed once per reference frame, neighbours, planes and cameras and
    reused: the swept methods of :func:`score` share their sweep (same range and cost settings) and differ only in
    the fill after it, so the results are those of separate sweeps (checked: equal to the bit) at the cost of one.
    Every method must use the same sweep settings (``SweepConfig`` fields other than the fill's)."""

    def __init__(self):
        self.memo: dict = {}

    def __enter__(self):
        from viewshift.multiview import planesweep

        real, memo = planesweep._Sweeps.sweep, self.memo
        self.real = real

        def sweep(sw, ref, neighbours, inv_depths):
            key = (ref, tuple(neighbours), inv_depths.numpy().tobytes(), sw.world_T_cam.numpy().tobytes(),
                   sw.K.numpy().tobytes(), sw.w, sw.h)  # fmt: skip
            if key not in memo:
                memo[key] = real(sw, ref, neighbours, inv_depths)
            return memo[key]

        planesweep._Sweeps.sweep = sweep
        return self

    def __exit__(self, *exc):
        from viewshift.multiview import planesweep

        planesweep._Sweeps.sweep = self.real
        return False


def mean_psnr(pairs: list, name: str, factor: float) -> float:
    """Mean PSNR over the held-out frames of method ``name``'s depth times ``factor``."""
    from viewshift.render.view import render_view

    values = []
    for img, Kt, T, target, covered, depths in pairs:
        out = render_view(img, torch.from_numpy(depths[name] * factor).float()[None, None], Kt, T)
        values.append(psnr(out.image[0].permute(1, 2, 0).numpy(), target, covered))
    return float(np.mean(values))


def best_factor(pairs: list, name: str) -> tuple[float, float, float]:
    """The best global factor of a method: the best of ``FACTORS``, then a golden-section search in ``log f``
    between its grid neighbours (so no method gains or loses by where the grid happens to fall).

    Returns:
        ``(factor, mean PSNR at it, mean PSNR at factor 1)``.
    """
    grid = {float(f): mean_psnr(pairs, name, float(f)) for f in FACTORS}
    at_median = grid[min(grid, key=lambda f: abs(np.log(f)))]
    best = max(grid, key=grid.get)
    step = float(np.log(FACTORS[1] / FACTORS[0]))
    lo, hi = np.log(best) - step, np.log(best) + step
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = mean_psnr(pairs, name, float(np.exp(a))), mean_psnr(pairs, name, float(np.exp(b)))
    seen = dict(grid) | {float(np.exp(a)): fa, float(np.exp(b)): fb}
    for _ in range(8):
        if fa > fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = mean_psnr(pairs, name, float(np.exp(a)))
            seen[float(np.exp(a))] = fa
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = mean_psnr(pairs, name, float(np.exp(b)))
            seen[float(np.exp(b))] = fb
    best = max(seen, key=seen.get)
    return best, seen[best], at_median


def main(argv: list[str] | None = None) -> int:
    from viewshift.learn.fit import fit_clip

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default=",".join(CLIPS), help="comma-separated names (default: all)")
    ap.add_argument("--minutes", type=float, default=3.0, help="fit budget per clip (default: 3)")
    ap.add_argument(
        "--steps", type=int, default=None, help="a step budget per clip instead of --minutes (default: none)"
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: the cores)")
    ap.add_argument("--poses", default="clip", choices=["clip", "estimate"], help="cameras of the fit")
    ap.add_argument("--no-geometric", action="store_true", help="skip the plane-sweep baseline")
    ap.add_argument(
        "--also-both",
        action="store_true",
        help="also score the sweep filled by the fitted and the built-in networks together (column fused_both)",
    )
    ap.add_argument(
        "--also-choose",
        action="store_true",
        help="also score every swept method with SweepConfig(fill_choose=True) (columns *_choose)",
    )
    ap.add_argument(
        "--also-unchecked",
        action="store_true",
        help="also score every swept method without the fill's cost check, SweepConfig(fill_cost_margin=None) "
        "(columns *_unchecked)",
    )
    ap.add_argument("--skip-fit", action="store_true", help="score the models already in --work")
    ap.add_argument("--teacher", type=float, default=None, help="teacher_weight of the fit (default: fit's)")
    ap.add_argument("--teacher-frames", type=int, default=None, help="teacher_frames of the fit (default: fit's)")
    ap.add_argument("--tag", default="", help="suffix of the model name and the result key")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a FitConfig field (JSON value), repeatable"
    )
    ap.add_argument(
        "--render-poses",
        default="initial",
        choices=["initial", "refined"],
        help="poses of the held-out renders: the fit's initial cameras (default) or the source's refined pose",
    )
    ap.add_argument("--geometric-cache", action="store_true", help="reuse geometric depths of earlier runs (tuning)")
    ap.add_argument("--work", default=str(REPO / "runs" / "fit-clips"))
    ap.add_argument("-o", "--output", default=str(REPO / "docs" / "depth" / "fit.json"))
    args = ap.parse_args(argv)
    out = Path(args.output)
    results = json.loads(out.read_text()) if out.exists() else {}
    results["command"] = "nice -n 10 python bench/depth_fit_clips.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    for name in args.clips.split(","):
        work = Path(args.work) / name
        work.mkdir(parents=True, exist_ok=True)
        clip = work / "clip"
        if not clip.exists():
            CLIPS[name](clip)
        poses = args.poses if (clip / "poses.txt").exists() else "estimate"
        model = work / f"fitted-{poses}{args.tag}.pt"
        key = f"{name}/{poses}{args.tag}"
        extra = {"teacher_weight": args.teacher, "teacher_frames": args.teacher_frames}
        extra = {k: v for k, v in extra.items() if v is not None}
        for kv in args.set:
            k, _, v = kv.partition("=")
            extra[k] = json.loads(v)
        t0 = time.monotonic()
        fit = results.get("clips", {}).get(key, {}).get("fit", {})
        if args.skip_fit and not fit:  # the steps at least, from the model file
            fit = {"step": torch.load(model, weights_only=True)["meta"]["steps"]}
        if not args.skip_fit:
            fit = fit_clip(
                clip,
                model,
                seconds=None if args.steps else 60 * args.minutes,
                steps=args.steps,
                threads=args.threads,
                holdout_every=4,
                poses=poses,
                resume=False,
                overwrite=True,
                progress=False,
                **extra,
            )
            fit = {k: v for k, v in fit.items() if k != "neighbours"}
        fit_s = time.monotonic() - t0
        torch.set_num_threads(args.threads)
        cache = work / f"geometric-{poses}{args.tag}.npz" if args.geometric_cache else None
        sweeps = {"geometric": ("builtin", None), "fused": ("fitted", None)}
        if args.also_both:
            sweeps["fused_both"] = ("both", None)
        variants = {"choose": {"fill_choose": True}} if args.also_choose else {}
        if args.also_unchecked:
            variants["unchecked"] = UNCHECKED
        if variants:
            from viewshift.multiview.planesweep import SweepConfig

            plain = dict(sweeps)
            for suffix, fields in variants.items():
                sweeps |= {f"{k}_{suffix}": (prior, SweepConfig(**fields)) for k, (prior, _) in plain.items()}
        run = Path(str(model) + ".run")
        r = score(clip, model, run, 4, not args.no_geometric, cache, args.render_poses, sweeps=sweeps)
        results.setdefault("clips", {})[key] = {"fit": fit, "fit_wall_s": round(fit_s, 1), "settings": extra, **r}
        out.write_text(json.dumps(results, indent=2))
        print(name, json.dumps({k: v for k, v in r.items() if k != "held_out_frames"}), flush=True)
    table = [
        "| clip | fitted | fused | built-in | plane | geometric | identity | fit steps (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.get("clips", {}).items():
        geo, fused = (f"{r[k]:.2f}" if k in r else "—" for k in ("geometric", "fused"))
        fit = r.get("fit", {})
        table.append(
            f"| {key} | {r['fitted']:.2f} | {fused} | {r['builtin']:.2f} | {r['plane']:.2f} | {geo} | "
            f"{r['identity']:.2f} | {fit.get('step', '?')} ({fit.get('seconds', '?')}) |"
        )
    text = "\n".join(table)
    print(text)
    out.with_name("fit_table.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
