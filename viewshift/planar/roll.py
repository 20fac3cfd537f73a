"""Photo roll: gradient-orientation features, rotate-and-crop, and the upright photos used for training.

Roll convention: a photo with roll θ is its upright version rotated **counter-clockwise as displayed** by θ
degrees; levelling it means rotating it by −θ. Rotations use OpenCV's ``getRotationMatrix2D`` (positive =
counter-clockwise as displayed) about the image centre.

Features: the photo is converted to grey, resized so its long side is 256 px, and a histogram of gradient
orientations over [0°, 180°) is built (Sobel gradients, orientation ``atan2(-gy, gx)`` so that a
counter-clockwise roll of θ shifts the histogram by +θ, weighted by gradient magnitude, linear interpolation
between 1° bins); a second channel does the same at half resolution. Each channel is divided by its mean.
The ``"gradient+lines"`` features add a third channel: the orientations of the straight line segments found by
OpenCV's line segment detector (LSD) in the 256-px image, each segment weighted by its length and binned by its
normal (so a horizontal segment lands at 90°, where a horizontal edge's gradient does). Long straight segments
(horizons, door frames, shelf edges) are what levels a photo; the gradient histogram also counts texture.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.errors import InputError, ShapeError
from viewshift.geometry.poses import euler_to_matrix
from viewshift.planar.warps import largest_rotated_rect

FEATURE_LONG_SIDE = 256
NUM_BINS = 180
# Input channels of each kind of roll feature (photo_features).
ROLL_FEATURES = {"gradient": 2, "gradient+lines": 3, "gradient+vanishing": 3}
# Line segments shorter than this (pixels, in the 256-px image) are ignored by line_histogram.
MIN_SEGMENT_LENGTH = 10.0
# vanishing_histogram: the longest segments used, the largest angle between two segments of one pair, and
# how far from the centre (in half long sides) their intersection must lie to count as a vanishing point.
VANISHING_SEGMENTS = 100
VANISHING_MAX_ANGLE = 15.0
VANISHING_MIN_DISTANCE = 1.0
# vertical_vanishing_roll: working long side (pixels), shortest segment (fraction of the long side), largest lean
# of a segment from the image vertical (degrees), inlier angle (degrees), the longest segments paired into
# hypotheses, and the largest angle of the vanishing direction from the image vertical (degrees).
VERTICAL_LONG_SIDE = 512
VERTICAL_MIN_LENGTH = 0.04
VERTICAL_MAX_LEAN = 35.0
VERTICAL_INLIER_ANGLE = 1.5
VERTICAL_HYPOTHESES = 120
VERTICAL_WINDOW = 25.0
# Hand-marked world-vertical segments of some held-out and validation photos (their own roll; see
# reference_roll).
REFERENCES_FILE = Path(__file__).with_name("data") / "roll_references.json"

# Upright photos under ../shared/data, relative paths. Held-out photos are never used in training; their
# near-duplicates (other view of the same stereo pair or sequence) are excluded from training too.
ROLL_TEST_PHOTOS = (
    "photos/building.jpg",
    "photos/home.jpg",
    "photos/leuvenA.jpg",
    "photos/aero1.jpg",
    "photos/fruits.jpg",
    "photos/messi5.jpg",
    "photos/rubberwhale1.png",
    "photos/basketball1.png",
    "stereo/middlebury/MiddEval3/trainingQ/Adirondack/im0.png",
    "stereo/middlebury/MiddEval3/trainingQ/Piano/im0.png",
    "stereo/middlebury/MiddEval3/trainingQ/Playroom/im0.png",
    "stereo/middlebury/MiddEval3/trainingQ/Recycle/im0.png",
    "video/kitti00-snippet/left.png",
    "video/tum-fr3-office/1341847980.722988.png",
    "video/driving-pair/test_sequence_source.jpg",
    "stereo/eth3d-twoview/image_0/facade_1s.png",
)
# Validation photos: training-pool photos held out from training by configs with ``val_photos=True`` and
# used to pick settings and checkpoints (the test photos above are only scored once, at the end). Near-duplicates
# (the other Shelves view) are dropped from training with them.
ROLL_VAL_PHOTOS = (
    "photos/stuff.jpg",
    "photos/smarties.png",
    "stereo/eth3d-twoview/image_0/terrace_1s.png",
    "stereo/eth3d-twoview/image_0/electro_1l.png",
    "stereo/middlebury/MiddEval2/Books/view1.png",
    "stereo/middlebury/MiddEval2/Laundry/view1.png",
    "stereo/middlebury/MiddEval3/trainingQ/Shelves/im0.png",
    "multiview/cones-9view/im2.ppm",
)
_VAL_DUPLICATES = ("stereo/middlebury/MiddEval3/trainingQ/Shelves/im1.png",)
_TRAIN_GLOBS = (
    "photos/*.jpg",
    "photos/*.png",
    "stereo/middlebury/MiddEval3/trainingQ/*/im[01].png",
    "stereo/middlebury/MiddEval2/*/view1.png",
    "stereo/middlebury-bicycle/0001.jpg",
    "multiview/cones-9view/im2.ppm",
    "multiview/tsukuba-5view/scene1.row3.col3.ppm",
    "stereo/kitti-odom06-frame12/kitti06-12-color.png",
    "stereo/kitti-odom06-frame12/kitti06-12.png",
    "video/kitti06-frame-pairs/kitti06-13-color.png",
    "video/kitti06-frame-pairs/kitti06-435.png",
    "video/kitti-odom06-frames0-50/image_l/0000[0-5]0.png",
    "video/kitti-odom-turn/image_l/0000[0-5]0.png",
    "stereo/eth3d-twoview/image_0/*.png",
    "video/rgbd-5frames/color/*.png",
    "video/tum-fr1-pair/1.png",
)
# Not upright (graffiti shot at an angle) or near-duplicates of held-out photos.
_EXCLUDED = (
    "photos/graf1.png",
    "photos/graf3.png",
    "photos/leuvenB.jpg",
    "photos/aero3.jpg",
    "photos/rubberwhale2.png",
    "photos/basketball2.png",
    "stereo/middlebury/MiddEval3/trainingQ/Adirondack/im1.png",
    "stereo/middlebury/MiddEval3/trainingQ/Piano/im1.png",
    "stereo/middlebury/MiddEval3/trainingQ/Playroom/im1.png",
    "stereo/middlebury/MiddEval3/trainingQ/Recycle/im1.png",
)


def shared_data_root() -> Path:
    """``$VIEWSHIFT_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    root = os.environ.get("VIEWSHIFT_SHARED_DATA")
    return (Path(root) if root else Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def roll_photo_paths(split: str, root: Path | None = None, validation: bool = False) -> list[Path]:
    """The upright photos of a split.

    Args:
        split: ``"train"``, ``"val"`` (:data:`ROLL_VAL_PHOTOS`) or ``"test"`` (:data:`ROLL_TEST_PHOTOS`).
        root: the shared data folder (:func:`shared_data_root` by default).
        validation: for ``"train"``: leave the validation photos (and their near-duplicates) out.
    """
    base = root or shared_data_root()
    if split in ("test", "val"):
        names = ROLL_TEST_PHOTOS if split == "test" else ROLL_VAL_PHOTOS
        return [base / p for p in names if (base / p).is_file()]
    if split != "train":
        raise InputError(f"unknown split {split!r}; use 'train', 'val' or 'test'")
    held = set(ROLL_TEST_PHOTOS) | set(_EXCLUDED)
    if validation:
        held |= set(ROLL_VAL_PHOTOS) | set(_VAL_DUPLICATES)
    found: set[Path] = set()
    for pattern in _TRAIN_GLOBS:
        for p in base.glob(pattern):
            if str(p.relative_to(base)) not in held:
                found.add(p)
    return sorted(found)


def load_rgb(path: Path) -> np.ndarray:
    """Read an image as ``H×W×3 uint8`` RGB (grey repeated), for training and evaluation."""
    a = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if a is None:
        raise InputError(f"cannot read {path}")
    return cv2.cvtColor(a, cv2.COLOR_BGR2RGB)


def _check_photo(photo: np.ndarray) -> None:
    if not isinstance(photo, np.ndarray) or photo.ndim != 3 or photo.shape[2] != 3:
        shape = getattr(photo, "shape", None)
        raise ShapeError(f"expected an H×W×3 photo, got shape {shape}")
    if photo.shape[0] < 16 or photo.shape[1] < 16:
        raise ShapeError(f"photo of {photo.shape[1]}×{photo.shape[0]} pixels is too small; need at least 16×16")


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Resize so that the longer side is ``long_side`` pixels (area interpolation when shrinking)."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


def orientation_histogram(gray: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Magnitude-weighted histogram of gradient orientations over [0°, 180°).

    Args:
        gray: ``H×W`` float32 grey image.
        num_bins: number of bins; bin ``k`` is centred on ``k * 180 / num_bins`` degrees.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones for a flat image).
    """
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[2:-2, 2:-2]
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[2:-2, 2:-2]
    mag = np.hypot(gx, gy).ravel()
    theta = np.degrees(np.arctan2(-gy, gx)).ravel() % 180.0
    pos = theta / (180.0 / num_bins)
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)
    hist = np.bincount(lo % num_bins, mag * (1 - frac), num_bins)
    hist += np.bincount((lo + 1) % num_bins, mag * frac, num_bins)
    mean = hist.mean()
    return (hist / mean if mean > 1e-8 else np.ones(num_bins)).astype(np.float32)


def _segments(gray: np.ndarray, min_length: float) -> tuple[np.ndarray, np.ndarray]:
    """LSD segments of a uint8 grey image: ``(K, 4)`` float64 ``x1, y1, x2, y2`` (pixels, y down) and lengths."""
    lines = cv2.createLineSegmentDetector().detect(gray)[0]
    if lines is None:
        return np.zeros((0, 4)), np.zeros(0)
    seg = lines.reshape(-1, 4).astype(np.float64)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    keep = length >= min_length
    return seg[keep], length[keep]


def _binned(theta: np.ndarray, weight: np.ndarray, num_bins: int) -> np.ndarray:
    """Histogram of angles ``theta`` (degrees, modulo 180) with linear interpolation, divided by its mean."""
    pos = (theta % 180.0) / (180.0 / num_bins)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    hist = np.bincount(lo % num_bins, weight * (1 - frac), num_bins)
    hist += np.bincount((lo + 1) % num_bins, weight * frac, num_bins)
    mean = hist.mean()
    return (hist / mean if mean > 1e-8 else np.ones(num_bins)).astype(np.float32)


def vanishing_histogram(
    gray: np.ndarray,
    num_bins: int = NUM_BINS,
    min_length: float = MIN_SEGMENT_LENGTH,
    max_segments: int = VANISHING_SEGMENTS,
    max_angle: float = VANISHING_MAX_ANGLE,
    min_distance: float = VANISHING_MIN_DISTANCE,
) -> np.ndarray:
    """Histogram of the directions from the image centre to the vanishing points of pairs of line segments.

    Under camera pitch, world verticals converge to a vanishing point on the image line through the principal
    point (taken as the centre) at the roll angle from the image vertical; each segment's own orientation is off
    by its position, which an orientation histogram counts as roll. Here every pair of the ``max_segments``
    longest LSD segments whose orientations differ by less than ``max_angle`` is intersected (homogeneous
    coordinates, so parallel segments meet at infinity in their own direction); intersections closer to the
    centre than ``min_distance`` half long sides are dropped (not vanishing points). The direction of each
    intersection, weighted by the product of the two lengths, is binned by its normal like
    :func:`line_histogram`, so a roll of θ about the centre shifts this histogram by +θ as well.

    Args:
        gray: ``H×W`` uint8 grey image.
        num_bins: number of bins over [0°, 180°).
        min_length: shorter segments (pixels) are ignored.
        max_segments: the longest this many segments are paired.
        max_angle: largest orientation difference (degrees) of a pair.
        min_distance: smallest distance of a kept intersection from the centre, in half long sides.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones when no pair qualifies).
    """
    seg, length = _segments(gray, min_length)
    order = np.argsort(-length)[:max_segments]
    seg, length = seg[order], length[order]
    if len(length) < 2:
        return np.ones(num_bins, np.float32)
    h, w = gray.shape
    centred = _centred_lines(seg, w, h)
    direction = np.degrees(np.arctan2(centred["direction"][:, 1], centred["direction"][:, 0]))
    i, j = np.triu_indices(len(length), 1)
    apart = np.abs((direction[i] - direction[j] + 90.0) % 180.0 - 90.0)
    point = np.cross(centred["lines"][i], centred["lines"][j])
    far = np.hypot(point[:, 0], point[:, 1]) > min_distance * np.abs(point[:, 2])
    weight = length[i] * length[j] * ((apart < max_angle) & far)
    return _binned(np.degrees(np.arctan2(point[:, 1], point[:, 0])) + 90.0, weight, num_bins)


def _centred_lines(seg: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
    """Segments ``(K, 4)`` (pixels ``x1, y1, x2, y2``, y down) in centred coordinates (y up, in half long sides):
    ``lines (K, 3)`` homogeneous with unit normals, ``length (K,)``, unit ``direction (K, 2)``, ``mid (K, 2)``."""
    half = max(width, height) / 2.0
    x = (seg[:, 0::2] - (width - 1) / 2.0) / half
    y = -(seg[:, 1::2] - (height - 1) / 2.0) / half
    ones = np.ones(len(seg))
    lines = np.cross(np.stack([x[:, 0], y[:, 0], ones], 1), np.stack([x[:, 1], y[:, 1], ones], 1))
    lines /= np.maximum(np.hypot(lines[:, 0], lines[:, 1]), 1e-12)[:, None]
    d = np.stack([x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]], 1)
    length = np.hypot(d[:, 0], d[:, 1])
    return {
        "lines": lines,
        "length": length,
        "direction": d / np.maximum(length, 1e-12)[:, None],
        "mid": np.stack([x.mean(1), y.mean(1)], 1),
    }


def _vanishing_rolls(points: np.ndarray) -> np.ndarray:
    """Rolls ``(P,)`` (degrees, in [-90, 90)) of vertical vanishing points ``(P, 3)`` in centred y-up coordinates:
    the angle of each one's direction from the principal point, counter-clockwise from the image vertical. With
    the camera turned by any pitch and yaw this is exactly the roll (``K Rz(roll) Rx(pitch) e_y`` points there)."""
    return (np.degrees(np.arctan2(-points[:, 0], points[:, 1])) + 90.0) % 180.0 - 90.0


def _vanishing_roll(point: np.ndarray) -> float:
    """:func:`_vanishing_rolls` of one point ``(3,)``."""
    return float(_vanishing_rolls(point[None])[0])


def _vanishing_residuals(points: np.ndarray, lines: dict[str, np.ndarray]) -> np.ndarray:
    """``(P, K)`` angles (degrees) between each segment and the direction from its midpoint to each point ``(P, 3)``."""
    tx = points[:, None, 0] - points[:, None, 2] * lines["mid"][None, :, 0]
    ty = points[:, None, 1] - points[:, None, 2] * lines["mid"][None, :, 1]
    ux, uy = lines["direction"][:, 0], lines["direction"][:, 1]
    sin = np.abs(tx * uy[None] - ty * ux[None]) / np.maximum(np.hypot(tx, ty), 1e-12)
    return np.degrees(np.arcsin(np.clip(sin, 0.0, 1.0)))


def _least_squares_point(lines: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The unit ``(3,)`` point minimising ``Σ w (l · v)²`` over homogeneous lines ``(K, 3)`` (may lie at infinity)."""
    return np.linalg.eigh((lines * weights[:, None]).T @ lines)[1][:, 0]


def roll_from_segments(segments: np.ndarray, width: int, height: int) -> float:
    """Roll of a photo from segments that are vertical in the world: the direction of their least-squares vanishing
    point (length-weighted) from the image centre.

    Args:
        segments: ``(K, 4)`` pixel ``x1, y1, x2, y2`` (y down), K ≥ 2.
        width, height: the photo's size in pixels.

    Returns:
        Roll in degrees, counter-clockwise as displayed.
    """
    lines = _centred_lines(np.asarray(segments, np.float64), width, height)
    return _vanishing_roll(_least_squares_point(lines["lines"], lines["length"]))


@cache
def _references() -> dict:
    return json.loads(REFERENCES_FILE.read_text())["photos"]


def reference_roll(photo: str) -> float:
    """A photo's own roll (degrees), measured from its hand-marked world-vertical segments
    (:data:`REFERENCES_FILE`, fitted by :func:`roll_from_segments`), or 0 for photos without marked verticals
    (assumed level).

    Args:
        photo: path relative to the shared data folder, as in :data:`ROLL_TEST_PHOTOS`.
    """
    entry = _references().get(photo)
    return roll_from_segments(np.array(entry["segments"]), *entry["size"]) if entry else 0.0


@dataclass(frozen=True)
class VerticalVanishing:
    """What :func:`vertical_vanishing_roll` found: the roll (None without near-vertical segments), the summed
    length of its inlier segments (in half long sides) and the ambiguity: the score of the strongest other family,
    the best hypothesis more than 3° of roll away scored on the segments that are not inliers of the answer,
    divided by the answer's own score (0: nothing else leans consistently; ≥ 1: another family is as strong), and
    the roll of that strongest other family (``alternative``; None when there is none)."""

    roll: float | None
    support: float
    ambiguity: float
    alternative: float | None = None


@dataclass(frozen=True)
class VanishingGate:
    """When a photo's vertical vanishing point (:class:`VerticalVanishing`) is trusted over the network.

    Attributes:
        support: least support (inlier length, in half long sides).
        ambiguity: largest ambiguity.
        agreement: when set, the point's roll must also lie within this many degrees of the network's own estimate
            on the photo (a strong wrong family of segments, the slats of a reclined chair, passes the first two
            tests but lands far from the network); None: no such check.
    """

    support: float
    ambiguity: float
    agreement: float | None = None

    def clear(self, found: VerticalVanishing | None) -> bool:
        """Whether ``found`` passes the support and ambiguity thresholds."""
        return (
            found is not None
            and found.roll is not None
            and found.support >= self.support
            and found.ambiguity <= self.ambiguity
        )

    def accepts(self, found: VerticalVanishing | None, network_roll: float | None) -> bool:
        """Whether ``found`` is clear and (with ``agreement``) within it of ``network_roll``."""
        if not self.clear(found):
            return False
        return self.agreement is None or abs(found.roll - network_roll) <= self.agreement


# Training photos without marked verticals take their own roll from vertical_vanishing_roll when a config asks
# for it (self_reference) and the vanishing point is at least this clear.
SELF_REFERENCE_GATE = VanishingGate(support=2.0, ambiguity=0.3)


def vertical_vanishing_roll(photo: np.ndarray) -> VerticalVanishing:
    """Roll of a photo from the vanishing point of its world verticals, found by consensus over line segments.

    LSD segments (at a long side of :data:`VERTICAL_LONG_SIDE`, at least :data:`VERTICAL_MIN_LENGTH` of it) leaning
    less than :data:`VERTICAL_MAX_LEAN` from the image vertical are candidates. Hypotheses are the intersections of
    pairs of the :data:`VERTICAL_HYPOTHESES` longest ones and each one's own direction (a point at infinity), kept
    when their direction from the centre is within :data:`VERTICAL_WINDOW` of the vertical and they lie outside
    the image's half long side. Each hypothesis scores ``Σ length · max(0, 1 − (a / a₀)²)`` over the candidates,
    ``a`` the angle between a segment and the direction from its midpoint to the point, ``a₀`` =
    :data:`VERTICAL_INLIER_ANGLE`; the best is refined by length-weighted least squares on its inliers (three
    rounds) and its direction from the centre (the principal point) is the roll (:func:`_vanishing_roll`). A
    second family of segments converging elsewhere (the slats of a reclined chair, a slanted roof) makes the answer
    ambiguous (:class:`VerticalVanishing`).

    Args:
        photo: ``H×W×3`` uint8 RGB.
    """
    _check_photo(photo)
    small = resize_long_side(photo, VERTICAL_LONG_SIDE)
    h, w = small.shape[:2]
    seg, _ = _segments(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), VERTICAL_MIN_LENGTH * max(h, w))
    lines = _centred_lines(seg, w, h)
    lean = np.degrees(np.arctan2(-lines["direction"][:, 0], lines["direction"][:, 1]))
    keep = np.abs((lean + 90.0) % 180.0 - 90.0) < VERTICAL_MAX_LEAN
    lines = {k: v[keep] for k, v in lines.items()}
    if len(lines["length"]) < 2:
        return VerticalVanishing(None, 0.0, 1.0)
    order = np.argsort(-lines["length"])[:VERTICAL_HYPOTHESES]
    i, j = np.triu_indices(len(order), 1)
    at_infinity = np.concatenate([lines["direction"][order], np.zeros((len(order), 1))], 1)
    points = np.concatenate([np.cross(lines["lines"][order[i]], lines["lines"][order[j]]), at_infinity])
    points = points[np.linalg.norm(points, axis=1) > 1e-12]
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    rolls = _vanishing_rolls(points)
    far = np.hypot(points[:, 0], points[:, 1]) > np.abs(points[:, 2])
    ok = far & (np.abs(rolls) < VERTICAL_WINDOW)
    points, rolls = points[ok], rolls[ok]
    if len(points) == 0:
        return VerticalVanishing(None, 0.0, 1.0)

    def kernel(p: np.ndarray) -> np.ndarray:
        """``(P, K)`` inlier weight of each candidate segment for each point ``(P, 3)``, in [0, 1]."""
        return np.clip(1.0 - (_vanishing_residuals(p, lines) / VERTICAL_INLIER_ANGLE) ** 2, 0.0, None)

    def scores(p: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return kernel(p) * weight[None]

    # Every hypothesis's kernel once (chunked against large temporaries), scored with all segments here and with
    # the leftover segments for the ambiguity below.
    hypotheses = np.concatenate([kernel(points[k : k + 2048]) for k in range(0, len(points), 2048)])

    def totals(weight: np.ndarray) -> np.ndarray:
        return (hypotheses * weight[None]).sum(1)

    point = points[int(np.argmax(totals(lines["length"])))]
    for _ in range(3):
        weight = scores(point[None], lines["length"])[0]
        if weight.sum() <= 0:
            break
        point = _least_squares_point(lines["lines"], weight)
    score = scores(point[None], lines["length"])[0]
    roll = _vanishing_roll(point)
    if score.sum() <= 0:
        return VerticalVanishing(roll, 0.0, 1.0)
    # The strongest other family: hypotheses more than 3° of roll away, scored on the segments left over.
    away = np.abs(rolls - roll) > 3.0
    other = totals(lines["length"] * (score <= 0))[away]
    ambiguity = float(other.max() / score.sum()) if len(other) else 0.0
    alternative = float(rolls[away][np.argmax(other)]) if len(other) else None
    return VerticalVanishing(roll, float(lines["length"][score > 0].sum()), ambiguity, alternative)


def line_histogram(gray: np.ndarray, num_bins: int = NUM_BINS, min_length: float = MIN_SEGMENT_LENGTH) -> np.ndarray:
    """Length-weighted histogram of the normals of straight line segments over [0°, 180°).

    Segments come from OpenCV's LSD (``cv2.createLineSegmentDetector``). A segment from ``(x1, y1)`` to
    ``(x2, y2)`` (y down) has normal orientation ``atan2(-(y2 - y1), x2 - x1) + 90°`` modulo 180°, the same angle
    :func:`orientation_histogram` gives the gradient across it, so a roll of θ shifts both histograms by +θ.

    Args:
        gray: ``H×W`` uint8 grey image.
        num_bins: number of bins; bin ``k`` is centred on ``k * 180 / num_bins`` degrees.
        min_length: shorter segments (pixels) are ignored.

    Returns:
        ``(num_bins,)`` float32 histogram divided by its mean (all ones when no segment is found).
    """
    seg, length = _segments(gray, min_length)
    x1, y1, x2, y2 = seg.T
    return _binned(np.degrees(np.arctan2(-(y2 - y1), x2 - x1)) + 90.0, length, num_bins)


def photo_features(photo: np.ndarray, num_bins: int = NUM_BINS, kind: str = "gradient") -> torch.Tensor:
    """The roll network's input for one photo.

    Args:
        photo: ``H×W×3`` uint8 RGB.
        num_bins: histogram bins over 180°.
        kind: ``"gradient"``, ``"gradient+lines"`` or ``"gradient+vanishing"`` (:data:`ROLL_FEATURES`).

    Returns:
        ``(C, num_bins)`` float32: gradient histograms at long side 256 and 128 pixels, and with
        ``"gradient+lines"`` the line-segment histogram (:func:`line_histogram`) of the 256-px image, with
        ``"gradient+vanishing"`` the vanishing-direction histogram (:func:`vanishing_histogram`) instead.
    """
    if kind not in ROLL_FEATURES:
        raise InputError(f"unknown roll features {kind!r}; use one of {', '.join(ROLL_FEATURES)}")
    _check_photo(photo)
    small = resize_long_side(photo, FEATURE_LONG_SIDE)
    gray8 = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    gray = gray8.astype(np.float32) / 255.0
    half = cv2.resize(gray, (max(1, gray.shape[1] // 2), max(1, gray.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    channels = [orientation_histogram(gray, num_bins), orientation_histogram(half, num_bins)]
    if kind == "gradient+lines":
        channels.append(line_histogram(gray8, num_bins))
    elif kind == "gradient+vanishing":
        channels.append(vanishing_histogram(gray8, num_bins))
    return torch.from_numpy(np.stack(channels))


def rotate_photo(photo: np.ndarray, angle_deg: float, *, crop: bool = True, fill: str = "black") -> np.ndarray:
    """Rotate a photo counter-clockwise as displayed by ``angle_deg`` about its centre.

    Args:
        photo: ``H×W×C`` (or ``H×W``) uint8/uint16 image.
        angle_deg: rotation in degrees (positive = counter-clockwise as displayed).
        crop: crop to the largest axis-aligned rectangle holding only valid pixels (centred); when False keep
            the size and fill the corners.
        fill: corner fill when ``crop`` is False: ``"black"``, ``"white"`` or ``"edge"`` (replicate borders).

    Returns:
        The rotated image, same dtype and channels.
    """
    if fill not in ("black", "white", "edge"):
        raise InputError(f"unknown fill {fill!r}; use black, white or edge")
    h, w = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle_deg, 1.0)
    top = np.iinfo(photo.dtype).max if np.issubdtype(photo.dtype, np.integer) else 1.0
    border = cv2.BORDER_REPLICATE if fill == "edge" else cv2.BORDER_CONSTANT
    value = (top,) * 4 if fill == "white" else (0,) * 4
    out = cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=border, borderValue=value)
    if photo.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    if not crop:
        return out
    cw, ch = largest_rotated_rect(w, h, angle_deg)
    # One pixel of margin against interpolation bleeding from the border.
    cw, ch = max(1, cw - 2), max(1, ch - 2)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return out[y0 : y0 + ch, x0 : x0 + cw]


def tilt_homography(width: int, height: int, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """``3×3`` pixel homography ``K Rx(pitch) Ry(yaw) K⁻¹`` of :func:`tilt_photo` (focal length = long side,
    principal point at the centre), mapping the upright photo's pixels to the turned camera's."""
    f = float(max(width, height))
    k = np.array([[f, 0, (width - 1) / 2.0], [0, f, (height - 1) / 2.0], [0, 0, 1]])
    angles = torch.tensor([[np.radians(pitch_deg), np.radians(yaw_deg), 0.0]], dtype=torch.float64)
    return k @ euler_to_matrix(angles)[0].numpy() @ np.linalg.inv(k)


def tilt_photo(photo: np.ndarray, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """The photo as the same camera would see it after turning by ``yaw_deg`` about the world vertical and then
    by ``pitch_deg`` about its own horizontal axis, cropped to the largest centred rectangle of valid pixels with
    the photo's aspect ratio.

    The camera has focal length = the long side (a 53° field of view across it) and its principal point at the
    centre; the image maps by the homography ``K R K⁻¹`` with ``R = Rx(pitch) Ry(yaw)``
    (:func:`viewshift.geometry.poses.euler_to_matrix`). Neither turn rolls the camera: world verticals still meet
    at a vanishing point on the image's vertical centre line, so an upright photo stays upright (roll 0) while its
    verticals converge and its horizontals slant, as in photos taken looking up or sideways.

    Args:
        photo: ``H×W×C`` uint8 image.
        pitch_deg: turn about the camera's horizontal axis, degrees.
        yaw_deg: turn about the world vertical, degrees.

    Returns:
        The turned and cropped photo (same dtype and channels, centred on the principal point).
    """
    h, w = photo.shape[:2]
    homography = tilt_homography(w, h, pitch_deg, yaw_deg)
    out = cv2.warpPerspective(photo, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    ch, cw = tilted_size(w, h, pitch_deg, yaw_deg)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return out[y0 : y0 + ch, x0 : x0 + cw]


def tilted_size(width: int, height: int, pitch_deg: float, yaw_deg: float) -> tuple[int, int]:
    """``(height, width)`` of :func:`tilt_photo`'s output for a ``width × height`` photo, without warping it:
    the largest centred rectangle with the photo's aspect ratio (at least 16 px a side) inside the turned image's
    valid quadrilateral, found by bisection on its scale."""
    w, h = width, height
    homography = tilt_homography(w, h, pitch_deg, yaw_deg)
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, homography).reshape(-1, 2).astype(np.float32)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0

    def inside(scale: float) -> bool:
        dx, dy = scale * (w - 1) / 2.0 + 1, scale * (h - 1) / 2.0 + 1  # one pixel of margin
        return all(
            cv2.pointPolygonTest(quad, (cx + sx * dx, cy + sy * dy), False) >= 0 for sx in (-1, 1) for sy in (-1, 1)
        )

    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if inside(mid) else (lo, mid)
    return max(16, int(lo * h)), max(16, int(lo * w))


def random_rolled_crop(
    photo: np.ndarray, roll: float, rng: np.random.Generator, centred: bool = False, tilt: float = 0.0
) -> np.ndarray:
    """A training sample: the photo rolled by ``roll``, cropped to its valid rectangle, then a random sub-crop.

    The sub-crop keeps the aspect ratio of the valid rectangle, covers 50–100 % of its side, and the photo is
    mirrored left-right half the time (a mirrored upright photo is still upright). ``centred`` keeps the
    sub-crop's centre at the photo's centre (the principal point :func:`vanishing_histogram` assumes).
    ``tilt`` > 0 first turns the camera by a random pitch and yaw, each uniform in ``±tilt`` degrees and halved
    while the valid crop would lose more than half of the short side (:func:`tilt_photo`; the roll label stays
    exact).
    """
    if tilt > 0:
        pitch, yaw = rng.uniform(-tilt, tilt, 2)
        # A wide, short photo (KITTI) has little vertical field of view: halve the turn until the valid crop keeps
        # at least half of the short side.
        h, w = photo.shape[:2]
        for _ in range(5):
            turn = float(pitch), float(yaw)
            if 2 * min(tilted_size(w, h, *turn)) >= min(h, w):
                break
            pitch, yaw = pitch / 2, yaw / 2
        photo = tilt_photo(photo, *turn)  # warped once, with the turn that keeps enough
    if rng.random() < 0.5:
        photo = photo[:, ::-1].copy()
    rotated = rotate_photo(photo, roll, crop=True)
    h, w = rotated.shape[:2]
    s = rng.uniform(0.5, 1.0)
    ch, cw = min(h, max(16, int(h * s))), min(w, max(16, int(w * s)))
    if centred:
        y0, x0 = (h - ch) // 2, (w - cw) // 2
    else:
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return rotated[y0 : y0 + ch, x0 : x0 + cw]


def training_photo_paths(config, split: str = "train") -> list[Path]:
    """The photos a roll config trains on: the split, minus the validation photos (``config.val_photos``) and
    ``config.holdout``, cut to the first ``config.max_photos``."""
    paths = roll_photo_paths(split, validation=getattr(config, "val_photos", False))
    left_out = set(getattr(config, "holdout", []))
    paths = [p for p in paths if str(p.relative_to(shared_data_root())) not in left_out]
    return paths[: getattr(config, "max_photos", None)]


def training_reference_roll(photo: np.ndarray, name: str, config) -> float:
    """A training photo's own roll: its hand-marked reference (:func:`reference_roll`) if it has one, else with
    ``config.self_reference`` the roll of its vertical vanishing point when that passes
    :data:`SELF_REFERENCE_GATE`, else 0 (assumed level)."""
    if name in _references() or not getattr(config, "self_reference", False):
        return reference_roll(name)
    found = vertical_vanishing_roll(photo)
    return found.roll if SELF_REFERENCE_GATE.clear(found) else 0.0


def build_roll_dataset(config, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Features and rolls of ``config.samples_per_photo`` random rolled crops per training photo.

    Args:
        config: a :class:`viewshift.planar.train.RollConfig` (``max_roll``, ``num_bins``, ``samples_per_photo``,
            ``long_side``, ``seed``).
        split: which photos.

    Returns:
        ``(features (N, C, num_bins), rolls (N,))``: the applied rolls, uniform in ``[-max_roll, max_roll]``, plus
        the photo's own roll (:func:`training_reference_roll`; 0 for photos assumed level).
    """
    rng = np.random.default_rng(config.seed)
    paths = training_photo_paths(config, split)
    if not paths:
        raise InputError(f"no photos found under {shared_data_root()}; set VIEWSHIFT_SHARED_DATA")
    feats, rolls = [], []
    for path in paths:
        photo = resize_long_side(load_rgb(path), 2 * config.long_side)
        own = training_reference_roll(photo, str(path.relative_to(shared_data_root())), config)
        for _ in range(config.samples_per_photo):
            roll = float(rng.uniform(-config.max_roll, config.max_roll))
            crop = random_rolled_crop(
                photo, roll, rng, getattr(config, "centred_crops", False), getattr(config, "tilt", 0.0)
            )
            feats.append(photo_features(crop, config.num_bins, getattr(config, "features", "gradient")))
            rolls.append(roll + own)
    return torch.stack(feats), torch.tensor(rolls, dtype=torch.float32)


def roll_test_set(
    per_photo: int = 10, max_roll: float = 20.0, seed: int = 1234, split: str = "test", references: bool = True
) -> list[tuple[str, float, np.ndarray]]:
    """Held-out photos, each rolled by ``per_photo`` fixed seeded angles and cropped to the valid rectangle.

    ``split="val"`` uses the validation photos (:data:`ROLL_VAL_PHOTOS`) instead of the test photos. The label is
    the applied roll plus the photo's own roll (:func:`reference_roll`; rolls about the centre add), or the
    applied roll alone with ``references=False`` (every photo assumed level, as before round 6).

    Returns:
        ``(relative path, roll in degrees, H×W×3 uint8 rolled photo)`` triples.
    """
    rng = np.random.default_rng(seed)
    root = shared_data_root()
    out = []
    for path in roll_photo_paths(split):
        photo = load_rgb(path)
        name = str(path.relative_to(root))
        own = reference_roll(name) if references else 0.0
        for _ in range(per_photo):
            roll = float(rng.uniform(-max_roll, max_roll))
            out.append((name, roll + own, rotate_photo(photo, roll, crop=True)))
    return out


def straightened_size(width: int, height: int, roll_deg: float) -> tuple[int, int]:
    """Size of the output of levelling a ``width × height`` photo with roll ``roll_deg`` and cropping."""
    cw, ch = largest_rotated_rect(width, height, roll_deg)
    return max(1, cw - 2), max(1, ch - 2)
