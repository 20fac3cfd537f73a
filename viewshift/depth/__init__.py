"""Depth sources behind one interface (:class:`DepthSource`), and conversions between depth units.

Sources: :class:`FileDepth` (a depth/disparity file), :class:`StereoDepth` (a rectified stereo pair, SGBM),
:class:`OnnxDepth` (an ONNX network such as MiDaS or Depth Anything). Each returns a :class:`DepthMap`.
:func:`open_depth_model` opens any of them by name (:data:`REGISTRY`), ``.onnx`` path or ``.pt`` model file.
"""

from __future__ import annotations

from viewshift.depth.base import DepthMap, DepthSource, DepthUnit
from viewshift.depth.checks import check_rgb, validate_depth
from viewshift.depth.files import FileDepth
from viewshift.depth.onnx import OnnxDepth, network_input_size
from viewshift.depth.registry import REGISTRY, ModelEntry, open_depth_model
from viewshift.depth.stereo import StereoDepth, check_rectified, left_right_consistent
from viewshift.depth.units import disparity_to_depth, fill_from_farther, inverse_to_depth, scale_relative

__all__ = [
    "DepthMap",
    "DepthSource",
    "DepthUnit",
    "FileDepth",
    "ModelEntry",
    "OnnxDepth",
    "REGISTRY",
    "StereoDepth",
    "check_rectified",
    "check_rgb",
    "disparity_to_depth",
    "fill_from_farther",
    "inverse_to_depth",
    "left_right_consistent",
    "network_input_size",
    "open_depth_model",
    "scale_relative",
    "validate_depth",
]
