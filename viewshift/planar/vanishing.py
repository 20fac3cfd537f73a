"""A photo's roll from the vanishing point of its world verticals, and the gate that decides when to trust it.

Under camera pitch and yaw, world verticals converge to a vanishing point whose direction from the principal
point (taken as the image centre) is the camera's roll; :func:`vertical_vanishing_roll` finds that point by
consensus over line segments, and :class:`VanishingGate` says when it is clear enough to level a photo by it
instead of asking the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from viewshift.planar.features import centred_lines, check_photo, line_segments, resize_long_side

# vertical_vanishing_roll: working long side (pixels), shortest segment (fraction of the long side), largest lean
# of a segment from the image vertical (degrees), inlier angle (degrees), the longest segments paired into
# hypotheses, and the largest angle of the vanishing direction from the image vertical (degrees).
VERTICAL_LONG_SIDE = 512
VERTICAL_MIN_LENGTH = 0.04
VERTICAL_MAX_LEAN = 35.0
VERTICAL_INLIER_ANGLE = 1.5
VERTICAL_HYPOTHESES = 120
VERTICAL_WINDOW = 25.0


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
    lines = centred_lines(np.asarray(segments, np.float64), width, height)
    return _vanishing_roll(_least_squares_point(lines["lines"], lines["length"]))


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
    check_photo(photo)
    small = resize_long_side(photo, VERTICAL_LONG_SIDE)
    h, w = small.shape[:2]
    seg, _ = line_segments(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), VERTICAL_MIN_LENGTH * max(h, w))
    lines = centred_lines(seg, w, h)
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
