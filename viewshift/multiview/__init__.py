"""Geometric depth from several frames of one scene: cameras by structure from motion, depth by plane sweep.

Example::

    from viewshift.multiview import read_frames, estimate_cameras, multiview_depth
    frames = read_frames("clip/")                          # 2–50 frames of one static scene
    cams = estimate_cameras(frames)                        # K, world_T_cam (frame 0 = world), relative scale
    result = multiview_depth(frames, ref=0, cameras=cams)  # depth + confidence of frame 0

Names are imported on first use (PEP 562), so :mod:`viewshift.multiview.cli` stays light for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "CameraConfig": "viewshift.multiview.cameras",
    "Cameras": "viewshift.multiview.cameras",
    "estimate_cameras": "viewshift.multiview.cameras",
    "FrameSet": "viewshift.multiview.frames",
    "check_frames": "viewshift.multiview.frames",
    "read_frame_set": "viewshift.multiview.frames",
    "read_frames": "viewshift.multiview.frames",
    "MultiViewDepth": "viewshift.multiview.planesweep",
    "SweepConfig": "viewshift.multiview.planesweep",
    "multiview_depth": "viewshift.multiview.planesweep",
    "multiview_depths": "viewshift.multiview.planesweep",
    "ClipDepth": "viewshift.multiview.source",
}

__all__ = [
    "CameraConfig",
    "Cameras",
    "ClipDepth",
    "FrameSet",
    "MultiViewDepth",
    "SweepConfig",
    "check_frames",
    "estimate_cameras",
    "multiview_depth",
    "multiview_depths",
    "read_frame_set",
    "read_frames",
]

if TYPE_CHECKING:
    from viewshift.multiview.cameras import CameraConfig, Cameras, estimate_cameras
    from viewshift.multiview.frames import FrameSet, check_frames, read_frame_set, read_frames
    from viewshift.multiview.planesweep import MultiViewDepth, SweepConfig, multiview_depth, multiview_depths
    from viewshift.multiview.source import ClipDepth


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'viewshift.multiview' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
