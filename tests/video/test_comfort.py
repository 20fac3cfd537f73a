"""Comfort analyser: parallax statistics, limits, edge violations and the suggested settings."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.video.comfort import ComfortLimits, FrameStats, analyse_normalised, frame_stats, suggest


def test_frame_stats_and_edge_strip():
    n = np.zeros((50, 100), np.float32)
    n[:, 40:60] = 1.0  # a near object in the middle only
    s = frame_stats(n)
    assert (s.far, s.near, s.edge_near) == (0.0, 1.0, 0.0)
    n[:, :1] = 1.0  # a near rim in the outermost 1 % (a network's padding artefact) is skipped
    assert frame_stats(n).edge_near == 0.0
    n[:, :4] = 1.0  # an object cut by the left edge (strip = columns 1..3)
    assert frame_stats(n).edge_near == 1.0


def test_report_in_percent_of_width():
    stats = [FrameStats(far=0.0, mid=0.5, near=1.0, edge_near=0.0)] * 10
    r = analyse_normalised(stats, divergence=3.0, convergence=0.5)
    # p = D (c − n): near end −1.5 %, middle 0, far end +1.5 %.
    assert r.parallax_pct["p1"][1] == -1.5 and r.parallax_pct["p50"][1] == 0 and r.parallax_pct["p99"][1] == 1.5
    assert (r.share_front, r.share_behind, r.share_edge) == (1.0, 0.0, 0.0)
    assert "suggested" in r.summary()


def test_suggestion_meets_every_limit():
    limits = ComfortLimits(behind_pct=2.0, front_pct=1.0, edge_pct=0.2, max_divergence=4.0)
    stats = [FrameStats(far=0.0, mid=0.5, near=1.0, edge_near=0.0)] * 20
    d, c = suggest(stats, limits)
    # D = behind + front when nothing is at the edges (less a little for two-decimal rounding)
    assert d == pytest.approx(3.0, abs=0.03) and c == pytest.approx(0.67, abs=0.01)
    r = analyse_normalised(stats, d, c, limits)
    assert r.share_front == r.share_behind == r.share_edge == 0
    edgy = [FrameStats(far=0.0, mid=0.5, near=1.0, edge_near=1.0)] * 20  # the near end touches the frame edge
    d2, c2 = suggest(edgy, limits)
    assert d2 == pytest.approx(2.2, abs=0.02) and c2 >= 0.9  # near end almost on the screen, less depth
    r2 = analyse_normalised(edgy, d2, c2, limits)
    assert r2.share_edge == 0 and r2.share_behind == 0
