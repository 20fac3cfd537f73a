"""Training data: the clip format, loaders for snippets, stereo pairs and pseudo-labels, K-aware augmentation.

Modules: :mod:`~viewshift.learn.data.clip` (the clip format, made by ``viewshift make-clip``: clip folders,
frames, snippets), :mod:`~viewshift.learn.data.augment` (K-aware augmentation, the sample schema's defaults),
:mod:`~viewshift.learn.data.middlebury` (stereo pairs), :mod:`~viewshift.learn.data.pseudo` (frames with
geometric pseudo-depth). Their public names are re-exported here.

Every training sample is a dict of tensors with a fixed schema (the batch adds a leading ``B``):

* ``target`` ``(3, H, W)`` in [0, 1]; ``sources`` ``(N, 3, H, W)``; ``K`` ``(3, 3)`` of that (augmented) size;
* ``src_T_tgt`` ``(N, 4, 4)`` and ``has_pose`` ``()`` bool — known relative poses (stereo baseline, synthetic
  camera); when False the pose network predicts them;
* ``depth`` ``(1, H, W)`` and ``has_depth`` ``()`` bool — ground-truth *disparity-like* supervision: the
  inverse depth up to an unknown scale and shift (zero where unknown, see ``depth_valid`` ``(1, H, W)``);
  ``has_metric_depth`` ``()`` bool says the shift is zero (``depth`` is inverse depth up to scale only).

Augmentations move images and intrinsics together (:func:`scale_crop`, :func:`flip_sample`; see
:mod:`~viewshift.learn.data.augment`).
"""

from viewshift.learn.data.augment import MIRROR, colour_jitter, finish_sample, flip_sample, scale_crop, to_tensor
from viewshift.learn.data.clip import IMAGE_SUFFIXES, Clip, SequenceDataset, read_clip, write_clip
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
    "middlebury_pairs",
    "read_pseudo_manifest",
    "read_clip",
    "scale_crop",
    "shift_x",
    "to_tensor",
    "write_clip",
]
