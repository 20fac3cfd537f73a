"""Cropping to the largest rectangle free of border holes."""

from __future__ import annotations

import numpy as np

from viewshift.pipeline import largest_valid_rectangle


def test_largest_valid_rectangle():
    m = np.zeros((5, 7), bool)
    m[:, 0] = m[4, :] = True
    m[0, 6] = True
    assert largest_valid_rectangle(m) == (1, 0, 6, 4)
