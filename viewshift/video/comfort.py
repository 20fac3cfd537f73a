"""Comfort analyser: how far a stereo video's parallax reaches in front of and behind the screen.

Conventions. Screen parallax ``p = x_right − x_left`` in percent of the frame width: positive = behind the screen
(uncrossed), negative = in front of it (crossed). With the normalised disparity ``n`` of
:mod:`viewshift.video.stabilise` (0 far … 1 near), ``p = divergence · (convergence − n)``.

Limits (defaults from broadcast 3-D guidance for television: at most about 2 % of the width behind the screen
and 1 % in front for most of a programme; Sky 3D's technical guidelines, also quoted by the BBC's 3-D guidance):

* ``behind_pct``: largest comfortable uncrossed parallax (2 %; on a 1.2 m wide TV that is 24 mm, well under
  the 65 mm between the eyes, so the eyes never have to diverge);
* ``front_pct``: largest comfortable crossed parallax (1 %);
* ``edge_pct``: crossed parallax allowed in strips ``edge_width_pct`` wide (3 %) just inside the left and right
  frame edges (the outermost ``edge_skip_pct``, 1 %, skipped: depth networks often give the frame border a thin
  near rim, a padding artefact) (0.2 %):
  an object cut by the frame edge while standing in front of the screen contradicts the occlusion cue (the
  frame is in front of it) and is the classic "window violation".

A frame exceeds a limit when its 99th percentile of crossed (or uncrossed) parallax does; per frame the
analyser records the 1st, 50th and 99th percentiles of ``p``. The suggestion picks the largest divergence (up
to ``max_divergence``) and a convergence that keep 95 % of the frames inside all three limits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from viewshift.errors import InputError

__all__ = ["ComfortLimits", "ComfortReport", "FrameStats", "analyse_normalised", "frame_stats", "suggest"]


@dataclass(frozen=True)
class ComfortLimits:
    """Comfort limits in percent of the frame width (see the module docstring)."""

    behind_pct: float = 2.0
    front_pct: float = 1.0
    edge_pct: float = 0.2
    edge_width_pct: float = 3.0
    edge_skip_pct: float = 1.0
    max_divergence: float = 4.0

    def __post_init__(self) -> None:
        for name in ("behind_pct", "front_pct", "edge_pct", "edge_width_pct", "max_divergence"):
            if not getattr(self, name) > 0:
                raise InputError(f"comfort limit {name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class FrameStats:
    """Normalised-disparity statistics of one frame (independent of divergence and convergence).

    Attributes:
        far: 1st percentile of ``n`` (the far end).
        mid: median of ``n``.
        near: 99th percentile of ``n`` (the near end).
        edge_near: 99th percentile of ``n`` within the edge strips.
    """

    far: float
    mid: float
    near: float
    edge_near: float


def frame_stats(n: np.ndarray, limits: ComfortLimits = ComfortLimits()) -> FrameStats:
    """Statistics of one frame's ``H×W`` normalised disparity ``n``."""
    h, w = n.shape
    grid = n[::2, ::2]
    far, mid, near = np.percentile(grid, [1, 50, 99])
    # The outermost columns are skipped: depth networks often put a thin near rim on the frame border (a padding
    # artefact), while an object cut by the edge still fills the columns just inside it.
    skip = int(round(w * limits.edge_skip_pct / 100))
    strip = max(1, int(round(w * limits.edge_width_pct / 100)))
    edges = np.concatenate([n[:, skip : skip + strip].ravel(), n[:, w - skip - strip : w - skip].ravel()])
    return FrameStats(float(far), float(mid), float(near), float(np.percentile(edges, 99)))


@dataclass
class ComfortReport:
    """What :func:`analyse_normalised` found for one divergence and convergence.

    Attributes:
        frames: number of frames analysed.
        divergence, convergence: the settings analysed.
        parallax_pct: percentiles over frames (5th, 50th, 95th) of each frame's 1st/50th/99th parallax
            percentile, in % of width: ``{"p1": [...], "p50": [...], "p99": [...]}`` (negative = in front).
        share_behind: share of frames whose uncrossed parallax exceeds ``behind_pct``.
        share_front: share of frames whose crossed parallax exceeds ``front_pct``.
        share_edge: share of frames with crossed parallax beyond ``edge_pct`` at the left or right edge.
        suggested_divergence, suggested_convergence: see :func:`suggest`.
        limits: the limits used.
    """

    frames: int
    divergence: float
    convergence: float
    parallax_pct: dict
    share_behind: float
    share_front: float
    share_edge: float
    suggested_divergence: float
    suggested_convergence: float
    limits: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """A few lines for a terminal."""
        p = self.parallax_pct
        lines = [
            f"comfort analysis of {self.frames} frames at divergence {self.divergence:g} %, "
            f"convergence {self.convergence:g} (parallax in % of width, negative = in front of the screen):",
            f"  nearest (1st pct) {p['p1'][1]:+.2f} (5-95 % of frames: {p['p1'][0]:+.2f} .. {p['p1'][2]:+.2f})",
            f"  median            {p['p50'][1]:+.2f}",
            f"  farthest (99th)   {p['p99'][1]:+.2f} (5-95 % of frames: {p['p99'][0]:+.2f} .. {p['p99'][2]:+.2f})",
            f"  frames beyond {self.limits['behind_pct']:g} % behind: {self.share_behind:.0%}, beyond "
            f"{self.limits['front_pct']:g} % in front: {self.share_front:.0%}, in front at a frame edge: "
            f"{self.share_edge:.0%}",
            f"  suggested: --divergence {self.suggested_divergence:.2f} --convergence {self.suggested_convergence:.2f}",
        ]
        return "\n".join(lines)


def suggest(
    stats: list[FrameStats], limits: ComfortLimits = ComfortLimits(), *, keep: float = 0.95
) -> tuple[float, float]:
    """The largest divergence and a convergence that keep the share ``keep`` of frames inside the limits.

    With clip-level ends ``far`` (the ``1 − keep`` quantile over frames of each frame's far end), ``near`` and
    ``edge`` (``keep`` quantiles), a divergence ``D`` works when some convergence ``c`` satisfies
    ``D (c − far) ≤ behind``, ``D (near − c) ≤ front`` and ``D (edge − c) ≤ edge_pct``; the largest such ``D``
    (at most ``max_divergence``) is found by bisection, and ``c`` is the smallest convergence that works (the
    most depth in front of the screen the limits allow).

    Returns:
        ``(divergence, convergence)``.
    """
    if not stats:
        raise InputError("no frames to analyse")
    far = float(np.quantile([s.far for s in stats], 1 - keep))
    near = float(np.quantile([s.near for s in stats], keep))
    edge = float(np.quantile([s.edge_near for s in stats], keep))

    def lowest_c(d: float) -> float:
        return max(near - limits.front_pct / d, edge - limits.edge_pct / d)

    def works(d: float) -> bool:
        return lowest_c(d) <= far + limits.behind_pct / d + 1e-9

    lo, hi = 0.05, limits.max_divergence
    if works(hi):
        d = hi
    else:
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if works(mid) else (lo, mid)
        d = lo
    # Two decimals each, rounded so that the limits still hold: divergence down, convergence up.
    d = math.floor((d - 1e-9) * 100) / 100
    c = math.ceil(lowest_c(d) * 100 - 1e-9) / 100
    while d > 0.05 and c > far + limits.behind_pct / d + 1e-12:
        d = round(d - 0.01, 2)
        c = math.ceil(lowest_c(d) * 100 - 1e-9) / 100
    return d, min(max(c, 0.0), 1.0)


def analyse_normalised(
    stats: list[FrameStats], divergence: float, convergence: float, limits: ComfortLimits = ComfortLimits()
) -> ComfortReport:
    """A :class:`ComfortReport` for frames' statistics (:func:`frame_stats`) at one divergence and convergence."""
    if not stats:
        raise InputError("no frames to analyse")
    far = np.array([s.far for s in stats])
    mid = np.array([s.mid for s in stats])
    near = np.array([s.near for s in stats])
    edge = np.array([s.edge_near for s in stats])
    # Parallax p = D (c − n): the near end of n gives the most negative (in front) parallax.
    p_front, p_mid, p_back = (divergence * (convergence - x) for x in (near, mid, far))
    p_edge = divergence * (convergence - edge)

    def q(x: np.ndarray) -> list[float]:
        return [round(float(v), 3) for v in np.percentile(x, [5, 50, 95])]

    d, c = suggest(stats, limits)
    return ComfortReport(
        frames=len(stats),
        divergence=divergence,
        convergence=convergence,
        parallax_pct={"p1": q(p_front), "p50": q(p_mid), "p99": q(p_back)},
        share_behind=float(np.mean(p_back > limits.behind_pct + 1e-9)),
        share_front=float(np.mean(-p_front > limits.front_pct + 1e-9)),
        share_edge=float(np.mean(-p_edge > limits.edge_pct + 1e-9)),
        suggested_divergence=d,
        suggested_convergence=c,
        limits=asdict(limits),
    )
