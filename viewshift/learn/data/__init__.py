"""Training data: the clip format, loaders for snippets and stereo pairs, K-aware augmentation.

Modules: :mod:`~viewshift.learn.data.clip` (clip folders, frames, snippets), :mod:`~viewshift.learn.data.augment`
(K-aware augmentation, the sample schema), :mod:`~viewshift.learn.data.middlebury` (stereo pairs). Their public
names are re-exported here.

Clip format (a folder; made by ``viewshift make-clip``)::

    CLIP/
      frames/000000.jpg, 000001.jpg, ...   frames in time order, all the same size (JPEG or PNG)
      K.txt                                3×3 intrinsics in pixels of those frames (three lines of three numbers)
      poses.txt        (optional)          one line per frame: 16 numbers, row-major 4×4 ``world_T_cam``
                                           (camera-to-world; OpenCV camera axes x right, y down, z forward)
      clip.json        (optional)          free metadata: where the frames came from, the frame step

Every training sample is a dict of tensors with a fixed schema (the batch adds a leading ``B``):

* ``target`` ``(3, H, W)`` in [0, 1]; ``sources`` ``(N, 3, H, W)``; ``K`` ``(3, 3)`` of that (augmented) size;
* ``src_T_tgt`` ``(N, 4, 4)`` and ``has_pose`` ``()`` bool — known relative poses (stereo baseline, synthetic
  camera); when False the pose network predicts them;
* ``depth`` ``(1, H, W)`` and ``has_depth`` ``()`` bool — ground-truth *disparity-like* supervision: the
  inverse depth up to an unknown scale and shift (zero where unknown, see ``depth_valid`` ``(1, H, W)``);
  ``has_metric_depth`` ``()`` bool says the shift is zero (``depth`` is inverse depth up to scale only).

Augmentations move images and intrinsics together: :func:`scale_crop` (resize by a random factor, crop at a
random place, ``K`` rescaled and shifted) and :func:`flip_sample` (mirror left-right; ``K``'s principal point
and the known poses are mirrored too).
"""

from viewshift.learn.data.augment import MIRROR, colour_jitter, finish_sample, flip_sample, scale_crop, to_tensor
from viewshift.learn.data.clip import IMAGE_SUFFIXES, Clip, SequenceDataset, load_frames, read_clip, write_clip
from viewshift.learn.data.middlebury import StereoDataset, StereoPair, middlebury_pairs, shift_x
from viewshift.learn.data.pseudo import PseudoDepthDataset, read_pseudo_manifest

__all__ = [
    "IMAGE_SUFFIXES",
    "MIRROR",
    "Clip",
    "PseudoDepthDataset",
    "SequenceDataset",
    "StereoDataset",
    "StereoPair",
    "colour_jitter",
    "finish_sample",
    "flip_sample",
    "load_frames",
    "middlebury_pairs",
    "read_pseudo_manifest",
    "read_clip",
    "scale_crop",
    "shift_x",
    "to_tensor",
    "write_clip",
]
