"""A depth source for one photo from a clip of the same scene: the photo is the reference frame of a plane sweep
over the clip's frames (``--clip DIR|VIDEO`` of ``viewshift depth/render/stereo/video``)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from viewshift.depth.base import DepthMap
from viewshift.errors import InputError
from viewshift.multiview.cameras import estimate_cameras
from viewshift.multiview.frames import read_frame_set
from viewshift.multiview.planesweep import MultiViewDepth, SweepConfig, multiview_depth

#: Frames read from a clip by default (spread evenly over it): enough neighbours, a few seconds of work.
DEFAULT_CLIP_FRAMES = 12


class ClipDepth:
    """:class:`~viewshift.depth.base.DepthSource` giving a photo geometric depth from a clip of the same scene.

    The clip's frames are resized to the photo's size (their aspect ratio must match within 1 %), the photo is
    frame 0 and the reference of the plane sweep, the clip's frames its neighbours. Depth is relative (the median
    depth of the triangulated points the photo sees is 1). Pixels of low confidence are filled by
    :func:`~viewshift.multiview.multiview_depth`'s default (the built-in network's depth aligned to the confident
    geometry and corrected locally by it); :attr:`last` keeps the confidence.

    Args:
        clip: a folder of images, a make-clip folder or a video of the same static scene, taken by a moving camera.
        focal: focal length of the photo in pixels; None uses the clip's ``K.txt`` or EXIF, else searches for it.
        max_frames: frames read from the clip, spread evenly over it.
        threads: torch threads of the sweep (None: leave torch's setting).
        prior: the single-photo depth source whose depth, aligned to the geometry, fills pixels of low confidence
            (anything with ``estimate(rgb) -> DepthMap``, e.g. ``open_depth_model(NAME)``; None: the built-in
            network).

    Attributes:
        last: the :class:`~viewshift.multiview.MultiViewDepth` of the last :meth:`estimate` (confidence, cameras).
        estimated_focal: the focal length (pixels, at the photo's size) the cameras were estimated with.
    """

    def __init__(
        self,
        clip: str | os.PathLike[str] | list,
        *,
        focal: float | None = None,
        max_frames: int = DEFAULT_CLIP_FRAMES,
        threads: int | None = None,
        prior=None,
    ):
        self.clip = clip
        self.focal = focal
        self.max_frames = max_frames
        self.threads = threads
        self.prior = prior
        self.last: MultiViewDepth | None = None
        self.estimated_focal: float | None = None

    def __repr__(self) -> str:
        return f"ClipDepth({str(self.clip)!r}, max_frames={self.max_frames})"

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Relative depth of the ``H×W×3 uint8`` photo ``rgb``.

        Raises:
            InputError: an unreadable clip, a clip whose frames have another aspect ratio than the photo, no
                parallax between the photo and the clip.
        """
        h, w = rgb.shape[:2]
        frame_set = read_frame_set(self.clip, max_frames=self.max_frames)
        fh, fw = frame_set.frames[0].shape[:2]
        if abs((fw / fh) / (w / h) - 1) > 0.01:
            raise InputError(
                f"the clip {self.clip}'s frames are {fw}×{fh} but the photo is {w}×{h}; give frames of the same "
                "shape (same camera, same orientation)"
            )
        s = w / fw
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        frames = [f if (fw, fh) == (w, h) else cv2.resize(f, (w, h), interpolation=interp) for f in frame_set.frames]
        focal = self.focal if self.focal is not None else (frame_set.focal * s if frame_set.focal else None)
        images = [np.ascontiguousarray(rgb[..., :3]), *frames]
        cameras = estimate_cameras(images, focal=focal)
        config = SweepConfig(threads=self.threads)
        self.last = multiview_depth(images, 0, cameras=cameras, prior=self.prior, config=config)
        self.estimated_focal = float(cameras.K[0, 0])
        return DepthMap(self.last.depth, "relative")
