"""Pseudo-labels for the built-in depth model: geometric multi-view depth + confidence of real clips.

Runs :func:`viewshift.multiview.estimate_cameras` and :func:`viewshift.multiview.multiview_depth` over windows of
the clips and multi-view sets in ``../shared/data`` (except the held-out ones, ``HOLDOUT`` below) and writes, per
reference frame, ``OUT/<set>/<window>_r<ref>.npz`` with

* ``image`` ``H×W×3 uint8`` — the reference frame at the label size (width ≤ ``--max-width``),
* ``depth`` ``H×W float32`` — geometric depth in the window's relative unit (0 where unknown),
* ``confidence`` ``H×W float32`` in [0, 1],
* ``K`` ``(3, 3) float64`` — the estimated intrinsics at that size,

``OUT/<set>/labels.json`` (one entry per label: file, source frame, cameras' reprojection error, coverage, time,
and where ground truth exists the label's Abs Rel against it) and ``OUT/manifest.json`` (all sets, the split,
the command). Already written labels are skipped, so the command resumes after a kill::

    nice -n 10 python bench/make_pseudo_labels.py -o /work/pseudo_labels
    nice -n 10 python bench/make_pseudo_labels.py -o /work/pseudo_labels --sets kitti06,fox   # a subset

Split (fixed before any model was scored): the evaluation sets of ``bench/depth_eval.py`` are never labelled —
7-Scenes redkitchen frames 0–149 (the evaluation uses frames 0, 10, …, 140; labels come from frames 150–299
only), ``video/rgbd-5frames`` and ``video/tum-fr1-pair`` (the RGB-D stills), and ``multiview/cones-9view``
(Middlebury Cones, a held-out scene). The held-out Middlebury scenes of docs/depth.md are not multi-view sets.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VIEWSHIFT_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()

HOLDOUT = {
    "video/7scenes-redkitchen": "frames 0-149 (bench/depth_eval.py scores frames 0, 10, ..., 140)",
    "video/rgbd-5frames": "all (RGB-D stills of bench/depth_eval.py)",
    "video/tum-fr1-pair": "all (RGB-D stills of bench/depth_eval.py)",
    "multiview/cones-9view": "all (Middlebury Cones is a held-out scene)",
    "stereo/middlebury": "MiddEval3 Adirondack, Piano, Teddy, Vintage; MiddEval2 Teddy, Cones, Aloe, Moebius, Reindeer",
}
SEVEN_SCENES_TRAIN_FROM = 150


@dataclass
class Window:
    """Frames of one scene that are reconstructed together, and which of them get a label."""

    name: str
    frames: list[np.ndarray]
    focal: float | None  # pixels at the frames' size, None = searched
    refs: list[int]
    source: list[str]  # file of each frame (relative to DATA)
    gt: dict[int, np.ndarray] = field(default_factory=dict)  # ref -> ground-truth depth (any scale) or disparity
    gt_kind: str = ""  # "depth" or "disparity"


@dataclass
class LabelSet:
    name: str
    licence: str
    windows: Callable[[int], Iterator[Window]]


# ----------------------------------------------------------------------------------------------- reading


def _read(path: Path, max_width: int) -> tuple[np.ndarray, float]:
    """RGB uint8 (grey images repeated to 3 channels) no wider than ``max_width``, and the scale applied."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"cannot read {path}")
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    s = min(1.0, max_width / rgb.shape[1])
    if s < 1.0:
        size = (round(rgb.shape[1] * s), round(rgb.shape[0] * s))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb, s


def _window(name: str, paths: list[Path], focal: float | None, refs: list[int], max_width: int) -> Window:
    read = [_read(p, max_width) for p in paths]
    scale = read[0][1]
    return Window(
        name=name,
        frames=[r[0] for r in read],
        focal=None if focal is None else focal * scale,
        refs=refs,
        source=[str(p.relative_to(DATA)) for p in paths],
    )


def seven_scenes(max_width: int) -> Iterator[Window]:
    root = DATA / "video" / "7scenes-redkitchen" / "frames"
    for start in (150, 220):
        ids = list(range(start, start + 80, 10))
        w = _window(f"f{start:03d}", [root / f"frame-{i:06d}.color.jpg" for i in ids], 585.0, [1, 3, 5, 6], max_width)
        for r in w.refs:
            d = cv2.imread(str(root / f"frame-{ids[r]:06d}.depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
            d[(d == 0) | (d >= 65535)] = np.nan
            h, wd = w.frames[0].shape[:2]
            w.gt[r] = cv2.resize(d / 1000.0, (wd, h), interpolation=cv2.INTER_NEAREST)
        w.gt_kind = "depth"
        yield w


def kitti_video(folder: str, focal: float) -> Callable[[int], Iterator[Window]]:
    def windows(max_width: int) -> Iterator[Window]:
        root = DATA / "video" / folder / "image_l"
        n = len(sorted(root.glob("*.png")))
        for start in range(0, n - 6, 9):
            paths = [root / f"{i:06d}.png" for i in range(start, start + 6)]
            yield _window(f"f{start:03d}", paths, focal, [2, 3], max_width)

    return windows


def kitti00_snippet(max_width: int) -> Iterator[Window]:
    root = DATA / "video" / "kitti00-snippet"
    yield _window("f001", [root / f"{i:06d}.png" for i in range(1, 6)], 718.856, [1, 2, 3], max_width)


def llff_flower(max_width: int) -> Iterator[Window]:
    root = DATA / "multiview" / "llff-flower" / "images_8"
    paths = sorted(root.glob("*.png"))
    for start in range(0, len(paths) - 4, 9):
        chunk = paths[start : start + 9]
        yield _window(f"f{start:03d}", chunk, 446.88, [1, 4, 7][: len(chunk) - 1], max_width)  # images_8: 504 px


def fox(max_width: int) -> Iterator[Window]:
    root = DATA / "video" / "fox-handheld"
    meta = json.loads((root / "transforms.json").read_text())
    entries = sorted((f for f in meta["frames"] if (root / f["file_path"]).exists()), key=lambda f: f["file_path"])
    paths = [root / e["file_path"] for e in entries]
    for start in range(0, len(paths) - 4, 10):
        yield _window(f"f{start:03d}", paths[start : start + 10], float(meta["fl_x"]), [3, 6], min(max_width, 360))


def tum_fr3(max_width: int) -> Iterator[Window]:
    root = DATA / "video" / "tum-fr3-office"
    yield _window("all", sorted(root.glob("*.png")), 535.4, [1, 2], max_width)


def tsukuba(max_width: int) -> Iterator[Window]:
    root = DATA / "multiview" / "tsukuba-5view"
    w = _window("all", [root / f"scene1.row3.col{i}.ppm" for i in range(1, 6)], None, [1, 2, 3], max_width)
    disp = cv2.imread(str(root / "truedisp.row3.col3.pgm"), cv2.IMREAD_UNCHANGED).astype(np.float32)
    disp[disp == 0] = np.nan
    w.gt[2], w.gt_kind = disp, "disparity"
    yield w


def stereo_pairs(max_width: int) -> Iterator[Window]:
    """Rectified pairs without ground truth, as two-frame sets (cameras estimated like any clip)."""
    k = DATA / "stereo" / "kitti-odom06-frame12"
    yield _window("kitti06-12", [k / "kitti06-12-color.png", k / "kitti06-12-R-color.png"], 707.0912, [0], max_width)
    k0 = DATA / "stereo" / "kitti-odom00-pair"
    yield _window("kitti00", [k0 / "left.png", k0 / "right.png"], 718.856, [0], max_width)
    e = DATA / "stereo" / "eth3d-twoview"
    for p in sorted((e / "image_0").glob("*.png")):
        yield _window(f"eth3d-{p.stem}", [p, e / "image_1" / p.name], None, [0], max_width)
    b = DATA / "stereo" / "middlebury-bicycle"
    ims = sorted(b.glob("im[01].png"))
    if len(ims) == 2:
        yield _window("bicycle", ims, 1948.17, [0], max_width)


def driving(max_width: int) -> Iterator[Window]:
    root = DATA / "video" / "driving-pair"
    K = np.array(json.loads((root / "test_sequence_intrinsics.json").read_text()))
    w = cv2.imread(str(root / "test_sequence_source.jpg")).shape[1]
    paths = [root / "test_sequence_source.jpg", root / "test_sequence_target.jpg"]
    yield _window("pair", paths, float(K[0, 0]) * w, [0, 1], max_width)


SETS = [
    LabelSet("7scenes", "MSR 7-Scenes, non-commercial", seven_scenes),
    LabelSet("llff-flower", "LLFF, research use", llff_flower),
    LabelSet("fox", "NVIDIA instant-ngp fox, non-commercial", fox),
    LabelSet("kitti06", "KITTI CC BY-NC-SA 3.0", kitti_video("kitti-odom06-frames0-50", 707.0912)),
    LabelSet("kitti-turn", "KITTI CC BY-NC-SA 3.0", kitti_video("kitti-odom-turn", 718.856)),
    LabelSet("kitti00", "KITTI CC BY-NC-SA 3.0", kitti00_snippet),
    LabelSet("tum-fr3", "TUM RGB-D CC BY 4.0", tum_fr3),
    LabelSet("tsukuba", "Middlebury / Univ. Tsukuba", tsukuba),
    LabelSet("stereo-pairs", "KITTI / ETH3D CC BY-NC-SA; Middlebury", stereo_pairs),
    LabelSet("driving", "CC BY 3.0", driving),
]


# ----------------------------------------------------------------------------------------------- labels


def label_quality(depth: np.ndarray, conf: np.ndarray, gt: np.ndarray, kind: str) -> dict:
    """Abs Rel of the label against ground truth after median scaling, on all pixels and on confident ones."""
    from viewshift.learn.metrics import depth_metrics

    truth = gt if kind == "depth" else 1.0 / gt
    truth = np.where(np.isfinite(truth), truth, 0.0).astype(np.float32)
    pred = np.where(depth > 0, depth, np.nan).astype(np.float32)
    valid = np.isfinite(pred) & (truth > 0) & (truth < 10)
    out = {}
    for key, mask in (("all", valid), ("conf>0.3", valid & (conf > 0.3)), ("conf>0.6", valid & (conf > 0.6))):
        if mask.sum() > 100:
            m = depth_metrics(np.nan_to_num(pred, nan=1.0), truth, mask=mask, align="median", max_depth=10.0)
            out[key] = {"abs_rel": round(float(m.abs_rel), 4), "coverage": round(float(mask.mean()), 4)}
    return out


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    from viewshift.io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def write_json(path: Path, obj) -> None:
    from viewshift.io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1))


def run_set(s: LabelSet, out: Path, max_width: int, threads: int) -> list[dict]:
    from viewshift.errors import ViewshiftError
    from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth

    folder = out / s.name
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "labels.json"
    entries = json.loads(index.read_text()) if index.exists() else []
    done = {e["file"] for e in entries}
    cfg = SweepConfig(threads=threads)
    for w in s.windows(max_width):
        todo = [r for r in w.refs if f"{s.name}/{w.name}_r{r}.npz" not in done]
        if not todo:
            continue
        t = time.perf_counter()
        try:
            cams = estimate_cameras(w.frames, focal=w.focal)
        except ViewshiftError as exc:
            print(f"{s.name}/{w.name}: cameras failed: {exc}", flush=True)
            continue
        t_cams = time.perf_counter() - t
        for r in todo:
            rel = f"{s.name}/{w.name}_r{r}.npz"
            t = time.perf_counter()
            try:
                res = multiview_depth(w.frames, r, cameras=cams, config=cfg)
            except ViewshiftError as exc:
                print(f"{rel}: depth failed: {exc}", flush=True)
                continue
            depth = np.nan_to_num(res.depth, nan=0.0).astype(np.float32)
            conf = np.nan_to_num(res.confidence, nan=0.0).astype(np.float32)
            write_npz(out / rel, image=w.frames[r], depth=depth, confidence=conf, K=cams.K)
            entry = {
                "file": rel,
                "set": s.name,
                "licence": s.licence,
                "source": w.source[r],
                "window": w.source,
                "size": [int(depth.shape[1]), int(depth.shape[0])],
                "focal": float(cams.K[0, 0]),
                "focal_source": cams.focal_source,
                "registered": int(cams.registered.sum()),
                "reprojection_px": round(float(cams.reprojection_px), 3),
                "coverage_conf>0.3": round(float((conf > 0.3).mean()), 4),
                "mean_confidence": round(float(conf.mean()), 4),
                "seconds": round(time.perf_counter() - t + t_cams / len(todo), 1),
            }
            if r in w.gt:
                entry["gt_" + w.gt_kind] = label_quality(depth, conf, w.gt[r], w.gt_kind)
            entries.append(entry)
            write_json(index, entries)
            print(json.dumps(entry), flush=True)
    return entries


def write_manifest(out: Path, argv: list[str]) -> dict:
    labels = []
    for s in SETS:
        index = out / s.name / "labels.json"
        if index.exists():
            labels += json.loads(index.read_text())
    manifest = {
        "command": "python bench/make_pseudo_labels.py " + " ".join(shlex.quote(a) for a in argv),
        "holdout": HOLDOUT,
        "format": "npz: image HxWx3 uint8, depth HxW float32 (relative unit, 0 unknown), confidence HxW "
        "float32 [0,1], K 3x3 float64 at that size",
        "labels": labels,
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def ground_truth(entry: dict, shape: tuple[int, int]) -> np.ndarray | None:
    """Ground-truth depth (any scale; NaN unknown) of a label's frame at the label's size, where it exists."""
    src = DATA / entry["source"]
    if entry["set"] == "7scenes":
        d = cv2.imread(str(src).replace(".color.jpg", ".depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32)
        d[(d == 0) | (d >= 65535)] = np.nan
        d = d / 1000.0
    elif entry["set"] == "tsukuba" and src.name == "scene1.row3.col3.ppm":
        d = cv2.imread(str(src.with_name("truedisp.row3.col3.pgm")), cv2.IMREAD_UNCHANGED).astype(np.float32)
        d = np.where(d > 0, 1.0 / np.maximum(d, 1e-6), np.nan)
    else:
        return None
    return cv2.resize(d, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def summary(out: Path) -> list[dict]:
    """Labels with ground truth: the label's Abs Rel (median-scaled, depth ≤ 10) on its confident pixels and on
    all pixels, beside the built-in model's on the same pixels."""
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.learn.metrics import depth_metrics

    builtin = BuiltinDepth()
    rows = []
    for entry in json.loads((out / "manifest.json").read_text())["labels"]:
        with np.load(out / entry["file"]) as z:
            image, depth, conf = z["image"], z["depth"], z["confidence"]
        gt = ground_truth(entry, depth.shape)
        if gt is None:
            continue
        pred = builtin.estimate(image).depth
        valid = np.isfinite(gt) & (gt > 0) & (gt < 10) & (depth > 0)
        row = {"file": entry["file"]}
        for key, mask in (("conf>0.3", valid & (conf > 0.3)), ("all", valid)):
            if mask.sum() < 100:
                continue
            for name, d in (("label", depth), ("builtin", pred)):
                row[f"{name} {key}"] = round(float(depth_metrics(d, gt, mask=mask, max_depth=10.0).abs_rel), 4)
            row[f"coverage {key}"] = round(float(mask.mean()), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def label_figure(out: Path, path: Path, files: list[str]) -> None:
    """Rows of (frame, label depth, confidence) for the given label files."""
    from viewshift.io import atomic_path, depth_preview

    rows = []
    for f in files:
        with np.load(out / f) as z:
            image, depth, conf = z["image"], z["depth"], z["confidence"]
        grey = np.repeat((np.clip(conf, 0, 1) * 255).astype(np.uint8)[..., None], 3, 2)
        tiles = [image, depth_preview(np.where(depth > 0, depth, np.nan)), grey]
        tiles = [cv2.resize(t, (240, 180), interpolation=cv2.INTER_AREA) for t in tiles]
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1))
    with atomic_path(path) as tmp:
        cv2.imwrite(str(tmp), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True, help="folder of the labels (outside the repository)")
    ap.add_argument("--sets", default="", help="comma-separated set names (default: all: %(default)r)")
    ap.add_argument("--max-width", type=int, default=640, help="label width cap in pixels (default: 640)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    ap.add_argument("--manifest-only", action="store_true", help="only merge the sets' labels.json files")
    ap.add_argument("--summary", action="store_true", help="score the labels that have ground truth, then stop")
    ap.add_argument("--figure", default="", help="PNG of frame / label / confidence for --figure-files")
    ap.add_argument("--figure-files", default="", help="comma-separated label files (relative to the output)")
    args = ap.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    if args.summary or args.figure:
        if args.summary:
            rows = summary(out)
            write_json(out / "summary.json", rows)
        if args.figure:
            label_figure(out, Path(args.figure), [f for f in args.figure_files.split(",") if f])
        return 0
    names = [n for n in args.sets.split(",") if n] or [s.name for s in SETS]
    unknown = set(names) - {s.name for s in SETS}
    if unknown:
        ap.error(f"unknown sets {sorted(unknown)}; choose from {[s.name for s in SETS]}")
    if not args.manifest_only:
        for s in SETS:
            if s.name in names:
                run_set(s, out, args.max_width, args.threads)
    manifest = write_manifest(out, argv)
    print(f"wrote {len(manifest['labels'])} labels to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
