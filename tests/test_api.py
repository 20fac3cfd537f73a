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


def test_importing_viewshift_first_makes_idle_openmp_threads_sleep_unless_the_user_chose():
    # Spinning OpenMP threads took the busy cores from the working one (docs/depth/multiview.md, "Speed"). The
    # setting must reach torch's OpenMP runtime, so it is made before torch loads; a user's own choice stays.
    import os
    import subprocess
    import sys

    code = "import viewshift, torch, os; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        env_run = env if given is None else {**env, "OMP_WAIT_POLICY": given}
        out = subprocess.run([sys.executable, "-c", code], env=env_run, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected
