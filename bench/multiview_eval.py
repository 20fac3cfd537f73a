"""Geometric multi-view depth (viewshift.multiview) on real clips with known poses and depth, beside the built-in
network and a constant depth.

    python bench/multiview_eval.py                 # writes docs/depth/multiview.{json,md,png}
    python bench/multiview_eval.py --only 7scenes-a  # one clip, for a quick look (nothing written unless --write)
    python bench/multiview_eval.py --redoc          # rewrite multiview.md from multiview.json

Clips (read from ../shared/data at run time):

* ``7scenes-a``, ``7scenes-b`` — 7-Scenes redkitchen, 10 frames 10 apart (≈ 7 cm steps) at 640×480 from frames
  100 and 200; Kinect depth (colour and depth sensors are not exactly registered) and KinectFusion poses.
* ``rgbd-5`` — the five RGB-D frames of ``video/rgbd-5frames`` (640×480, large moves), depth in mm, poses.
* ``tum-fr1`` — the two TUM freiburg1 frames of ``video/tum-fr1-pair``, depth / 5000 = m, no poses.
* ``kitti06`` — KITTI odometry 06 frames 0–9 (grey, 1226×370, ~1.2 m forward per frame), GT poses, no depth.
* ``llff-flower`` — LLFF flower views 0–8 (the first row of the capture grid, 504×378), COLMAP poses, no depth.
* ``fox`` — the first 10 frames of the fox orbit, downscaled to 360×640, COLMAP poses, no depth.
* ``7scenes-c``, ``rgbd-5-ref1``, ``rgbd-5-ref3`` — added when the fill of low-confidence pixels was chosen, as a
  check beyond the first four: 7-Scenes frames 0, 10, ..., 90, and the RGB-D stills with frames 1 and 3 (0-based)
  as the reference.

For each clip the reference frame is the middle one (unless named). Reported:

* **Pose**: ``ATE`` = RMS distance of the camera centres after the similarity (scale, rotation, translation) that
  best fits them to the ground truth (Umeyama, least squares, :mod:`viewshift.multiview.metrics`), in the ground
  truth's unit and as a percentage of its path length; ``rot°`` = mean error of consecutive relative rotations.
  With the dataset's focal length given, and separately with the focal length searched (``f err`` = searched /
  true − 1).
* **Depth** (where ground truth exists): AbsRel after median scaling (``d ← d · median(gt) / median(d)``, over the
  pixels with ground truth ≤ 10 m) of the geometric depth with its default fill (``"mono"``) and with the
  ``"propagate"`` fill, of the built-in network and of a constant depth, over all pixels; and on the geometric
  depth's confident pixels (confidence > 0.3, coverage given) for geometric and built-in alike.
* **Time**: wall seconds of ``estimate_cameras`` and ``multiview_depth`` (load average of the machine recorded).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from depth_fit_clips import UNCHECKED, shared_sweeps  # bench/, beside this script

from viewshift.depth.builtin import load_builtin
from viewshift.io import atomic_path, depth_preview, read_image
from viewshift.learn.metrics import depth_metrics
from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth
from viewshift.multiview.metrics import trajectory_errors

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
CONFIDENT = 0.3
MAX_DEPTH = 10.0


DOC_HEAD = """# Geometric depth from several frames (`viewshift.multiview`)

Depth that separates objects, from the user's own frames: 2–50 frames of one static scene taken by a moving camera
(a folder, a list of files, a video, or a `viewshift make-clip` folder). The cameras are estimated by structure from
motion, the depth of a chosen frame by plane-sweep stereo over its neighbours. No network, no training data.

```
viewshift depth F1.jpg F2.jpg F3.jpg ... -o depth.npy      # depth of F1 (--ref I for another), + preview, + confidence
viewshift depth walk.mp4 -o depth.png --ref 5 --num-frames 12
viewshift depth --clip CLIP/ -o depth.pfm                  # a make-clip folder (its K.txt gives the focal length)
viewshift render photo.jpg --clip frames/ --right 0.05 -o moved.png   # the photo as reference, the clip as neighbours
viewshift stereo photo.jpg --clip walk.mp4 -o sbs.png                 # (also `video`)
```

```python
from viewshift.multiview import read_frames, estimate_cameras, multiview_depth
frames = read_frames("walk.mp4", max_frames=12)       # H×W×3 uint8, one size
cams = estimate_cameras(frames, focal=None)           # Cameras: K (3×3), world_T_cam (N×4×4, frame 0 = world), points
result = multiview_depth(frames, ref=0, cameras=cams) # MultiViewDepth: depth (H×W float32), confidence (H×W in [0, 1])
# fill="propagate" fills low-confidence pixels from their surroundings only; prior=open_depth_model(NAME) (from
# viewshift.depth.registry) fills them from a stronger single-photo model than the built-in one; fill=False: 0.
```

## Conventions

* OpenCV camera axes (x right, y down, z forward); `world_T_cam` maps camera coordinates to the world; frame 0 is the
  world; `K` in pixels of the frames as given, shared by all frames (square pixels, principal point at the centre).
* **Relative scale**: the unit is the median depth (z in frame 0) of the triangulated points frame 0 sees, which is 1.
  Nothing in a monocular clip gives metres; `viewshift render/stereo/video` scale relative depth to `--scene-distance`.
* `depth` is z-depth in that unit, positive and finite everywhere: pixels of low confidence hold filled depth (step
  8). `multiview_depth(..., fill=False)` leaves them **0** instead. `confidence` is 0 where the frame was not matched
  and stays low (< 0.1) on filled pixels, whatever the fill: weigh by it where only measured depth will do.

## Method

1. **Features and pairs.** SIFT (RootSIFT descriptors) at a long side ≤ 960 px; frames within 3 of each other are
   matched (all pairs for ≤ 8 frames), ratio test 0.8, verified by a fundamental matrix (MAGSAC, 1 px).
2. **No parallax, no depth.** A pair's parallax is the 90th percentile of its matches' distances to the best
   homography: a camera that only turned (or did not move, or looks at one plane) maps all points by one homography.
   Without a pair of ≥ 2.5 px parallax the library refuses: `no parallax, no depth: ...`.
3. **Intrinsics.** `--focal` / `focal=`, a make-clip folder's `K.txt`, the frames' EXIF, else a **focal search**: the
   focal whose essential matrices `Kᵀ F K` have two most nearly equal singular values (Mendonça–Cipolla), refined
   by the bundle adjustment.
4. **Registration.** The pair with most inliers × parallax starts (essential matrix, `recoverPose`, triangulation);
   the other frames are added by PnP (SQPnP in RANSAC, then Levenberg–Marquardt) on their matches to triangulated
   points; new points are triangulated (≥ 0.5° triangulation angle, ≤ 4 px reprojection).
5. **Bundle adjustment** of poses, points (the 3000 most observed; the rest re-triangulated by multi-view DLT) and the
   focal length when searched: Levenberg–Marquardt on the Schur complement (the 3×3 point blocks eliminated, the
   reduced camera system solved exactly), Huber loss of 1 px by reweighting.
6. **Plane sweep** of the reference frame at 320 px wide over its 4 neighbours whose baseline/depth ratio is closest to
   0.1: 64 fronto-parallel planes even in inverse depth between 0.8× the 1st and 1.5× the 99th percentile of the
   reference's point depths; each neighbour is warped onto each plane with `viewshift.render.warp.inverse_warp`;
   cost = (1 − ZNCC)/2 of 7×7 grey windows; per plane the mean of the best half of the neighbours (occlusions);
   each cost slice filtered by a guided filter (radius 4, ε = 10⁻³) guided by the reference, at the sweep size and
   at two coarser scales (×2, ×4, weights ½, ¼; chosen on these clips: mean AbsRel over the four clips with depth
   0.229 vs 0.243 without, tum-fr1 alone got worse, 0.093 vs 0.087); winner takes all with parabolic sub-plane
   refinement.
7. **Confidence** = photometric (cost peak ratio × cost level) × geometric (fraction of the 2 nearest neighbours,
   swept the same way, whose depth agrees with the reference's by a forward–backward check: ≤ 1 px, ≤ 2 %).
8. **Filling** low-confidence pixels (< 0.1), `multiview_depth(..., fill=)`:
   * `"mono"` (the default): the built-in single-photo network's depth `p` (or any depth source given as
     `prior=`) is aligned to the confident geometric inverse depth `g` by a power law, `log g ≈ a log p + b` (a
     scale and shift of log depth, least squares weighted by confidence and Huber-reweighted), so it takes the
     geometry's scale and depth range. The log ratio `r = log g − (a log p + b)` of the confident pixels is spread
     over the image (normalised convolution over a pyramid) as a smooth scale field and applied in proportion to
     the confident support around each pixel: `filled = exp(a log p + b + α r)`, `α = s / (s + 0.05)`, `s` = the
     mean confidence of confident pixels in a window of ±15 % of the width. Near matched geometry the fill follows
     the geometry, far from it (large textureless, dark or unmatched areas) the aligned single-photo depth. With
     a list of depth sources as `prior=`, each is aligned on its own and the mean of their aligned log depths
     fills (`viewshift fit`'s `fused_depth(prior="both")`: the fitted and the built-in network). Then the
     **cost check** (on; `SweepConfig.fill_cost_margin` 0.02, `fill_cost_good` 0.3): a low-confidence pixel takes
     the `"propagate"` fill's depth (below) where the cost volume, read at that depth, is a good match (< 0.3) and
     lower than at the mono fill's by more than 0.02, so the sweep's own evidence decides where it has some.
   * `"propagate"` (the previous default): the confidence-weighted mean of the surroundings (normalised
     convolution over a pyramid).

   Filled pixels keep their low confidence (< 0.1), so teachers and pseudo-labels weighted by confidence ignore
   them. **Upsampling:** inverse depth is upsampled to full size and refined by a guided filter with the full-size
   frame as the guide.
"""

DOC_EVAL = """## Measured on real clips

`python bench/multiview_eval.py` (clips read from `../shared/data`; the reference frame is the middle one).

* **ATE**: RMS distance of the camera centres after the similarity (scale, rotation, translation) that best fits them
  to the ground truth in least squares (Umeyama), in the ground truth's unit and in % of its path length; `rot°` is
  the mean error of consecutive relative rotations. "f given" uses the dataset's focal length; "search" searches it
  (`f err` = searched / true − 1; when the motion does not determine the focal length, e.g. driving straight
  forward, a 60° field of view is assumed and said).
* **AbsRel** (where ground truth depth exists), after median scaling (`d ← d · median(gt) / median(d)`, pixels with
  ground truth ≤ 10 m): the geometric depth (all pixels, dense) with the default `"mono"` fill and its
  matching-cost check, with the `"propagate"` fill (the default before the mono fill), with the fill chosen per
  frame between the two (`SweepConfig(fill_choose=True)`, off by default: see the limits below) and with the mono
  fill without the cost check (`fill_cost_margin=None`, the default before 6 December 2026), the built-in network
  (`viewshift.depth.builtin`, the default depth source) and a constant depth; and on the geometric depth's
  confident pixels (confidence > 0.3) for the geometric and the built-in depth alike. `7scenes-c` (frames 0–90)
  and `rgbd-5` with frames 1 and 3 as the reference were added as checks when the fill was chosen.
* Ground truth notes: 7-Scenes poses track the Kinect's depth sensor (not exactly registered with the colour camera),
  so ~1.5° of relative-rotation error remains whatever the focal length; LLFF and fox poses are COLMAP's (not
  independent ground truth); KITTI poses are GPS/IMU.

"""

DOC_TAIL = """
![reference frame, geometric depth, confidence, built-in depth, ground truth](multiview.png)

## Limits and what is left

* Static scenes only: moving objects get wrong depth (and low confidence where the views disagree).
* Textureless, dark or unmatched surfaces (plain walls, the red cupboards of 7-Scenes, the near walls and floor of
  `rgbd-5`, whose large moves leave them unmatched or nearer than the nearest plane) have low confidence; their
  depth is only as good as the fill. The `"mono"` fill is only as good as the single-photo network far from matched
  geometry: with the built-in network it stays near the network's own error there (`rgbd-5`: the near left wall is
  far in both). Give a stronger depth source as `prior=` (e.g. `open_depth_model(NAME)`) where one is available.
  Use the confidence (`<stem>_confidence.png`, or as a weight) where only measured depth will do.
* How the fill was chosen (mean AbsRel over the seven rows with depth, computed from the sweep's raw depth and
  confidence; window and support were chosen on all seven, so the check rows are not a clean hold-out): propagation
  0.266; the aligned network alone, without local correction, 0.249 (7scenes-a 0.200 vs 0.134: the built-in
  network's shape is poor where geometry is good); the scale field 0.208; blending propagated geometric depth and
  the aligned network by the same support weight 0.202 (a little better with the built-in network on 6 of 7 rows,
  but a right-shaped prior then no longer fills exactly, so a stronger `prior=` would gain less: not chosen); an
  edge-aware least-squares solver (confidence data term, prior term, colour-weighted smoothness; scipy, 0.8 s)
  0.193–0.21, gaining on 7scenes-a (0.10) but losing on 7scenes-b (0.14–0.17); spreading the scale field
  edge-aware (domain-transform normalised convolution guided by the frame) 0.214–0.238, worse on 7scenes-b (0.15–
  0.19) and no better on `rgbd-5`; keeping more sweep pixels (filling below 0.01–0.05 instead of 0.1: their raw
  depth is as accurate as the confident pixels' on most rows) 0.212–0.220; affine alignment in inverse depth,
  or a scale alone, fitted worse than the power law on `rgbd-5`; a nearer first plane (0.5× instead of 0.8× the
  nearest points) did not make `rgbd-5`'s near wall match.
* Choosing the fill per frame (`SweepConfig.fill_choose`, off): the frame keeps the mono fill or propagates,
  whichever predicts left-out blocks of its own confident depth better. It picks propagation where that is right
  (7scenes-b, tum-fr1) but also on the RGB-D stills whose large unmatched near walls are surfaces of their own
  (`rgbd-5` 0.583 against 0.428): the left-out blocks sample confident surfaces that continue into their
  surroundings, which propagation predicts well (larger blocks or whole left-out surfaces do no better:
  experiments/depth/fill_reach). Mean
  AbsRel over the seven rows 0.256 against the mono fill's 0.209, so it stays off, although it renders held-out
  frames of the fit's clips 0.13 dB better on average (experiments/depth/fit_round6, held-out rule 2).
* The fill's matching-cost check (`SweepConfig.fill_cost_margin` 0.02, `fill_cost_good` 0.3; on): at each
  low-confidence pixel the propagated depth replaces the network's where the sweep's cost volume, read at it, is a
  good match and lower by more than the margin. It leaves AbsRel as it was (the column beside the default), and it
  renders held-out frames of the fit's clips better in every run where a network fills (12 of 18: +0.08 to
  +0.80 dB; on the flower the built-in depth is left out, the fill already propagates and nothing changes;
  experiments/depth/fit_round8, held-out rule). Without the good-match level (0.3, picked on these seven rows, so
  they are no clean hold-out for it) the near walls of `rgbd-5`, seen by no neighbour, were merely less bad at a
  farther depth and took it (AbsRel 0.543 against 0.428); the whole local correction everywhere (`fill_support 0`)
  failed the same way (0.272 mean).
* Forward motion (KITTI) gives little parallax near the image centre: depth there is weak.
* Threads: on a busy machine one torch thread is fastest (the sweep's second thread waits for a core and costs
  more CPU than it saves, see the speed table); the CLI follows `--threads` (default: the cores).
* Lens distortion is not modelled (phone videos are mostly fine; wide-angle action cameras are not).
* Frames that share too few features with the others are not registered (`Cameras.registered` says which; they get
  the nearest registered frame's pose). Frame 0 must be registered.
"""


# ------------------------------------------------------------------------------------------------ clips


def _rgb(path: Path) -> np.ndarray:
    return read_image(path).rgb.astype(np.uint8)


def sevenscenes(start: int) -> dict:
    root = DATA / "video" / "7scenes-redkitchen" / "frames"
    names = [f"frame-{i:06d}" for i in range(start, start + 100, 10)]
    ref = len(names) // 2
    depth = cv2.imread(str(root / f"{names[ref]}.depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
    depth[(depth == 0) | (depth >= 65535)] = np.nan
    return dict(
        frames=[_rgb(root / f"{n}.color.jpg") for n in names],
        poses=np.stack([np.loadtxt(root / f"{n}.pose.txt") for n in names]),
        depth=depth / 1000.0,
        focal=585.0,
        ref=ref,
    )


def _quat_pose(row: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(row[3:7]).as_matrix()  # x y z w
    T[:3, 3] = row[:3]
    return T


def rgbd5() -> dict:
    root = DATA / "video" / "rgbd-5frames"
    poses = np.stack([_quat_pose(r) for r in np.loadtxt(root / "pose.txt")])
    ref = 2
    depth = cv2.imread(str(root / "depth" / f"{ref + 1}.pgm"), cv2.IMREAD_UNCHANGED).astype(np.float32)
    depth[depth == 0] = np.nan
    return dict(
        frames=[_rgb(root / "color" / f"{i}.png") for i in range(1, 6)],
        poses=poses,
        depth=depth / 1000.0,
        focal=518.5,
        ref=ref,
    )


def tum_fr1() -> dict:
    root = DATA / "video" / "tum-fr1-pair"
    depth = cv2.imread(str(root / "1_depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
    depth[depth == 0] = np.nan
    return dict(
        frames=[_rgb(root / "1.png"), _rgb(root / "2.png")], poses=None, depth=depth / 5000.0, focal=521.0, ref=0
    )


def rgbd5_ref(ref: int) -> dict:
    """The RGB-D stills with another reference frame (0-based) and its depth."""
    clip = rgbd5()
    depth = cv2.imread(str(DATA / "video" / "rgbd-5frames" / "depth" / f"{ref + 1}.pgm"), cv2.IMREAD_UNCHANGED)
    depth = depth.astype(np.float32)
    depth[depth == 0] = np.nan
    clip.update(ref=ref, depth=depth / 1000.0)
    return clip


def kitti06() -> dict:
    root = DATA / "video" / "kitti-odom06-frames0-50"
    rows = np.loadtxt(root / "poses.txt")[:10]
    poses = np.tile(np.eye(4), (10, 1, 1))
    poses[:, :3, :] = rows.reshape(-1, 3, 4)
    frames = [np.repeat(_rgb(root / "image_l" / f"{i:06d}.png")[..., :1], 3, axis=2) for i in range(10)]
    return dict(frames=frames, poses=poses, depth=None, focal=707.0912, ref=5)


def llff_flower() -> dict:
    root = DATA / "multiview" / "llff-flower"
    pb = np.load(root / "poses_bounds.npy")[:9]
    c2w = pb[:, :15].reshape(-1, 3, 5)[:, :, :4]
    poses = np.tile(np.eye(4), (len(pb), 1, 1))
    # LLFF columns are [down, right, backwards]; OpenCV wants [right, down, forwards].
    poses[:, :3, 0], poses[:, :3, 1], poses[:, :3, 2] = c2w[:, :, 1], c2w[:, :, 0], -c2w[:, :, 2]
    poses[:, :3, 3] = c2w[:, :, 3]
    frames = [_rgb(root / "images_8" / f"image{i:03d}.png") for i in range(len(pb))]
    return dict(frames=frames, poses=poses, depth=None, focal=446.88, ref=4)


def fox() -> dict:
    root = DATA / "video" / "fox-handheld"
    meta = json.loads((root / "transforms.json").read_text())
    entries = sorted((f for f in meta["frames"] if (root / f["file_path"]).exists()), key=lambda f: f["file_path"])[:10]
    scale = 360 / meta["w"]
    frames, poses = [], []
    for e in entries:
        rgb = _rgb(root / e["file_path"])
        frames.append(cv2.resize(rgb, (360, round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA))
        T = np.array(e["transform_matrix"], dtype=np.float64)
        T[:3, 1:3] *= -1  # NeRF/OpenGL camera axes (y up, z backwards) to OpenCV
        poses.append(T)
    return dict(frames=frames, poses=np.stack(poses), depth=None, focal=meta["fl_x"] * scale, ref=5)


CLIPS = {
    "7scenes-a": lambda: sevenscenes(100),
    "7scenes-b": lambda: sevenscenes(200),
    "rgbd-5": rgbd5,
    "tum-fr1": tum_fr1,
    "kitti06": kitti06,
    "llff-flower": llff_flower,
    "fox": fox,
    "7scenes-c": lambda: sevenscenes(0),
    "rgbd-5-ref1": lambda: rgbd5_ref(1),
    "rgbd-5-ref3": lambda: rgbd5_ref(3),
}


# ------------------------------------------------------------------------------------------------ scoring


def score_depth(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    return depth_metrics(pred, gt, mask=mask, align="median", max_depth=MAX_DEPTH).abs_rel


def evaluate(name: str, clip: dict, config: SweepConfig, builtin) -> tuple[dict, dict]:
    frames, ref = clip["frames"], clip["ref"]
    h, w = frames[0].shape[:2]
    row: dict = {"clip": name, "frames": len(frames), "size": f"{w}×{h}", "ref": ref}
    t = time.perf_counter()
    cams = estimate_cameras(frames, focal=clip["focal"])
    row["t_cameras"] = time.perf_counter() - t
    t = time.perf_counter()
    result = multiview_depth(frames, ref, cameras=cams, config=config)
    row["t_depth"] = time.perf_counter() - t
    row["reprojection_px"] = cams.reprojection_px
    row["registered"] = int(cams.registered.sum())
    t = time.perf_counter()
    searched = estimate_cameras(frames)
    row["t_cameras_search"] = time.perf_counter() - t
    row["focal_err"] = float(searched.K[0, 0] / clip["focal"] - 1)
    row["focal_source_search"] = searched.focal_source
    if clip["poses"] is not None:
        for key, c in (("", cams), ("_search", searched)):
            err = trajectory_errors(c.world_T_cam, clip["poses"])
            row["ate" + key] = err["ate"]
            row["ate_pct" + key] = 100 * err["ate"] / err["path"]
            row["rot_deg" + key] = err["rotation_deg"]
        row["path"] = err["path"]
    built = builtin.estimate(frames[ref]).depth
    conf = result.confidence > CONFIDENT
    row["coverage"] = float(conf.mean())
    if clip["depth"] is not None:
        gt = clip["depth"]
        with shared_sweeps():  # the other fills differ only after the sweep: sweep once more, not twice
            propagated = multiview_depth(frames, ref, cameras=cams, fill="propagate", config=config)
            chosen = multiview_depth(frames, ref, cameras=cams, config=replace(config, fill_choose=True))
            unchecked = multiview_depth(frames, ref, cameras=cams, config=replace(config, **UNCHECKED))
        row["absrel_geo_propagate"] = score_depth(propagated.depth, gt)
        row["absrel_geo_propagate_conf"] = score_depth(propagated.depth, gt, conf)
        row["absrel_geo_choose"] = score_depth(chosen.depth, gt)
        row["absrel_geo_unchecked"] = score_depth(unchecked.depth, gt)
        row["absrel_geo"] = score_depth(result.depth, gt)
        row["absrel_builtin"] = score_depth(built, gt)
        row["absrel_const"] = score_depth(np.ones_like(gt), gt)
        row["absrel_geo_conf"] = score_depth(result.depth, gt, conf)
        row["absrel_builtin_conf"] = score_depth(built, gt, conf)
    pictures = dict(ref=frames[ref], geo=result.depth, conf=result.confidence, builtin=built, gt=clip["depth"])
    return row, pictures


# ------------------------------------------------------------------------------------------------ output


def fmt(row: dict, key: str, spec: str = ".3f") -> str:
    v = row.get(key)
    return "–" if v is None else format(v, spec)


def _focal(row: dict) -> str:
    err = f"{100 * row['focal_err']:+.1f} %"
    return err if row.get("focal_source_search", "search") == "search" else f"{err} (not observable: 60° assumed)"


def markdown(rows: list[dict], meta: dict) -> str:
    """Two tables: cameras and times of every clip; depth of the clips with ground truth."""
    lines = [
        "| clip | frames | ATE (f given) | ATE % path | rot° | f err (search) | ATE % path (search) | reproj px "
        "| confident px | s cameras | s depth |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['frames']} × {r['size']} | {fmt(r, 'ate', '.4f')} | {fmt(r, 'ate_pct', '.1f')} "
            f"| {fmt(r, 'rot_deg', '.2f')} | {_focal(r)} | {fmt(r, 'ate_pct_search', '.1f')} "
            f"| {r['reprojection_px']:.2f} | {100 * r['coverage']:.0f} % | {r['t_cameras']:.1f} | {r['t_depth']:.1f} |"
        )
    lines += [
        "",
        "Depth, AbsRel after median scaling (lower is better); all pixels, then the geometric depth's confident ones:",
        "",
        "| clip | ref | all px: geometric (mono fill, default) | geometric (propagate fill) | geometric (chosen fill) "
        "| geometric (mono fill, no cost check) | built-in | constant "
        "| confident px | confident: geometric (mono) | geometric (propagate) | built-in |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("absrel_geo") is None:
            continue
        lines.append(
            f"| {r['clip']} | {r['ref']} | **{fmt(r, 'absrel_geo')}** | {fmt(r, 'absrel_geo_propagate')} "
            f"| {fmt(r, 'absrel_geo_choose')} | {fmt(r, 'absrel_geo_unchecked')} | {fmt(r, 'absrel_builtin')} "
            f"| {fmt(r, 'absrel_const')} "
            f"| {100 * r['coverage']:.0f} % "
            f"| {fmt(r, 'absrel_geo_conf')} | {fmt(r, 'absrel_geo_propagate_conf')} | {fmt(r, 'absrel_builtin_conf')} |"
        )
    lines.append("")
    lines.append(
        f"Measured {meta['date']} with `{meta['command']}`; torch threads {meta['threads']}, load average "
        f"{meta['load_before']} before and {meta['load_after']} after (the machine was shared: times are upper bounds)"
        + (f"; built-in weights SHA-256 {meta['builtin_sha256'][:12]}…" if meta.get("builtin_sha256") else "")
        + "."
    )
    return "\n".join(lines) + "\n"


OMP_NOTE = """Idle OpenMP threads sleep: `import viewshift` sets `OMP_WAIT_POLICY=PASSIVE` before torch loads, unless
the user set it. Without it, torch's OpenMP threads spin while they wait, and on a busy machine a spinning thread
takes the core the working one needs: a run with two threads took 40.7 s wall and 22.2 s CPU (the depth step 36.0 s
and 19.5 s, 3× its cost at one thread), with load average 3–5 (2026-12-05).
"""


def _speed_verdict(sp: dict) -> str:
    """The speed target's verdict from multiview_speed.json: its note with met / not met and the best wall time."""
    best = min(sp["rows"], key=lambda r: r["total_wall_s"])
    met = "**met**" if best["total_wall_s"] <= 20.0 else "**not met**"
    cpu = best["total_cpu_s"]
    return (
        f"{sp['note']} Target {met}: {best['total_wall_s']:.1f} s wall with {best['threads']} torch thread(s); the "
        f"CPU time, {cpu:.1f} s, is what the work costs on a free machine."
    )


def document(table: str) -> str:
    """The whole of docs/depth/multiview.md: method, the measured table, the speed table if measured, limits."""
    speed = ""
    speed_json = REPO / "docs" / "depth" / "multiview_speed.json"
    if speed_json.exists():
        sp = json.loads(speed_json.read_text())
        speed = (
            "\n## Speed\n\n`python bench/multiview_speed.py`: 10 frames 640×480 of 7-Scenes, focal searched, depth of "
            "the middle frame.\n\n" + "\n".join(sp["table"]) + "\n\n" + _speed_verdict(sp) + "\n\n" + OMP_NOTE
        )
    return DOC_HEAD + "\n" + DOC_EVAL + table + speed + DOC_TAIL


def _tile(img: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """``img`` scaled to fit ``box`` (width, height), centred on white."""
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    bw, bh = box
    s = min(bw / img.shape[1], bh / img.shape[0])
    w, h = max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))
    small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    out = np.full((bh, bw, 3), 255, np.uint8)
    y, x = (bh - h) // 2, (bw - w) // 2
    out[y : y + h, x : x + w] = small
    return out


def picture(all_pictures: list[tuple[str, dict]], box: tuple[int, int] = (200, 150)) -> np.ndarray:
    """One row per clip: reference frame, geometric depth, confidence, built-in depth, ground truth."""
    heads = ["reference frame", "geometric depth", "confidence (white = 1)", "built-in depth", "ground truth"]
    rows = []
    for name, p in all_pictures:
        tiles = [
            _tile(p["ref"], box),
            _tile(depth_preview(p["geo"]), box),
            _tile((np.clip(p["conf"], 0, 1) * 255).astype(np.uint8), box),
            _tile(depth_preview(p["builtin"]), box),
        ]
        if p["gt"] is not None:
            g = np.nan_to_num(p["gt"], nan=0.0).astype(np.float32)
            prev = depth_preview(np.where(g > 0, g, g.max()).astype(np.float32))
            prev[g <= 0] = 0  # black: no ground truth
            tiles.append(_tile(prev, box))
        else:
            blank = np.full_like(tiles[0], 40)
            cv2.putText(blank, "none", (8, box[1] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (220, 220, 220), 1)
            tiles.append(blank)
        label = np.full((22, 10, 3), 255, np.uint8)
        titled = []
        for k, t in enumerate(tiles):
            label = np.full((22, t.shape[1], 3), 255, np.uint8)
            cv2.putText(label, f"{name}: {heads[k]}" if k == 0 else heads[k], (3, 16), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1)  # fmt: skip
            titled.append(np.pad(np.concatenate([label, t], 0), ((0, 0), (0, 4), (0, 0)), constant_values=255))
        rows.append(np.concatenate(titled, 1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(CLIPS), help="clips to run (default: all)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the sweep (default: 1)")
    ap.add_argument("--write", action="store_true", help="write docs/ even with --only")
    ap.add_argument("--out-dir", default=str(REPO / "docs" / "depth"), help="where multiview.{json,md,png} go")
    ap.add_argument("--redoc", action="store_true", help="only rewrite multiview.md from multiview.json (no runs)")
    args = ap.parse_args(argv)
    if args.redoc:
        saved = json.loads((Path(args.out_dir) / "multiview.json").read_text())
        with atomic_path(Path(args.out_dir) / "multiview.md") as tmp:
            tmp.write_text(document(markdown(saved["rows"], saved["meta"])))
        return 0
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    import torch

    torch.set_num_threads(args.threads)
    config = SweepConfig(threads=args.threads)
    builtin = load_builtin(num_threads=args.threads)
    names = args.only or list(CLIPS)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, pictures = [], []
    for name in names:
        row, pics = evaluate(name, CLIPS[name](), config, builtin)
        rows.append(row)
        pictures.append((name, pics))
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(["python bench/multiview_eval.py", *(argv if argv is not None else sys.argv[1:])]),
        "threads": args.threads,
        "load_before": load_before,
        "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "confident": CONFIDENT,
        "max_depth": MAX_DEPTH,
        "builtin_sha256": hashlib.sha256(Path(builtin.model_path).read_bytes()).hexdigest(),
    }
    md = markdown(rows, meta)
    print(md)
    if args.only and not args.write:
        return 0
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "multiview.json") as tmp:
        tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    with atomic_path(out / "multiview.md") as tmp:
        tmp.write_text(document(md))
    with atomic_path(out / "multiview.png") as tmp:
        cv2.imwrite(str(tmp), cv2.cvtColor(picture(pictures), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return 0


if __name__ == "__main__":
    sys.exit(main())
