"""Geometric depth from several frames of one scene: cameras by structure from motion, depth by plane sweep.

Example::

    from viewshift.multiview import read_frames, estimate_cameras, multiview_depth
    frames = read_frames("clip/")                        # 2–50 frames of one static scene
    cams = estimate_cameras(frames)                      # K, world_T_cam (frame 0 = world), relative scale
    result = multiview_depth(frames, ref=0, cameras=cams)  # depth + confidence of frame 0
"""

from viewshift.multiview.cameras import CameraConfig, Cameras, estimate_cameras
from viewshift.multiview.frames import FrameSet, check_frames, read_frame_set, read_frames
from viewshift.multiview.planesweep import MultiViewDepth, SweepConfig, multiview_depth

__all__ = [
    "CameraConfig",
    "Cameras",
    "FrameSet",
    "MultiViewDepth",
    "SweepConfig",
    "check_frames",
    "estimate_cameras",
    "multiview_depth",
    "read_frame_set",
    "read_frames",
]
