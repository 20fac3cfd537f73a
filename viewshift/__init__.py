"""viewshift: one photo in, the view from a slightly moved camera out.

The public API (imported lazily, so ``viewshift --help`` stays fast)::

    view = viewshift.synthesize("photo.jpg", right=0.05)     # -> ViewResult(image, depth, holes, ...)
    scene = viewshift.prepare_scene("photo.jpg")              # estimate depth once, render many moves
    left, right = viewshift.stereo_pair(scene, divergence=2.5)

Sub-packages: ``viewshift.geometry`` (camera geometry), ``viewshift.render`` (warping, splatting, filling),
``viewshift.depth`` (depth sources and named models), ``viewshift.pipeline`` (image + depth + move -> view, stereo
pairs, camera paths), ``viewshift.io`` (every file read or written, the atomic writer), ``viewshift.planar`` (2-D
learned geometry), ``viewshift.multiview``, ``viewshift.video``, ``viewshift.export``, ``viewshift.web``, and
``viewshift.learn`` (training; nothing at inference time imports it). The command line: ``viewshift.cli``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

# OpenMP threads that wait for work sleep instead of spinning, unless the user chose otherwise. On a machine whose
# cores are busy with other work, spinning threads of torch's OpenMP pool take the cores from the one doing the
# work: geometric depth of 10 frames took 44 s instead of 10 s with two threads (docs/depth/multiview.md, "Speed").
# It must be set before torch loads its OpenMP runtime, so it applies only when viewshift is imported first (the
# command line always is).
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_EXPORTS = {
    "synthesize": "viewshift.pipeline",
    "prepare_scene": "viewshift.pipeline",
    "stereo_pair": "viewshift.pipeline",
    "compose_stereo": "viewshift.pipeline",
    "render_path": "viewshift.pipeline",
    "camera_path": "viewshift.pipeline",
    "Move": "viewshift.pipeline",
    "Scene": "viewshift.pipeline",
    "ViewOptions": "viewshift.pipeline",
    "ViewResult": "viewshift.pipeline",
    "ViewshiftError": "viewshift.errors",
    "InputError": "viewshift.errors",
    "DepthError": "viewshift.errors",
    "MoveError": "viewshift.errors",
    "OutputError": "viewshift.errors",
    "ModelError": "viewshift.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'viewshift' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
