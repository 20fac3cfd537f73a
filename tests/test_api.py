"""The top-level API re-exports what the README shows."""

from __future__ import annotations

import numpy as np

import viewshift


def test_top_level_synthesize_matches_the_readme():
    img = np.random.default_rng(0).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    view = viewshift.synthesize(img, depth=np.full((24, 32), 2.0, np.float32), focal=40.0, right=0.1)
    assert isinstance(view, viewshift.ViewResult)
    assert view.image.shape == (24, 32, 3) and view.depth.shape == (24, 32) and view.holes.dtype == bool
    assert np.array_equal(view.image[:, :-2], img[:, 2:])  # 40 * 0.1 / 2 = 2 px
    assert set(viewshift.__all__) <= set(dir(viewshift))
