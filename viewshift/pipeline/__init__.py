"""Image + depth + camera move → the moved camera's view; stereo pairs and camera paths built on it.

The public entry point is :func:`synthesize`. Underneath, :func:`prepare_scene` turns an image, a depth source and
camera intrinsics into a :class:`Scene` (tensors ready for the renderer), and :meth:`Scene.render` renders one
moved camera, fills what the move reveals and returns a :class:`ViewResult`. Stereo pairs and videos prepare the
scene once and render it many times.

Depth and units. Translations are in the unit of the depth map. Metric depth (a depth file, a stereo pair) is used
as it is; relative depth (the built-in network, an ONNX model, ``depth_unit="relative"``) is scaled so that its
median equals ``scene_distance`` (default :data:`DEFAULT_SCENE_DISTANCE`, metres), so ``right=0.05`` means "5 cm
sideways for a scene whose typical point is 3 m away". Instead of a translation length, ``divergence`` asks for
the largest parallax the move creates, in percent of the image width (the unit of stereo tools).
"""

from __future__ import annotations

from viewshift.pipeline.config import Border, DepthUnitArg, Move, ViewOptions, ViewResult
from viewshift.pipeline.crop import largest_valid_rectangle
from viewshift.pipeline.inputs import (
    DEFAULT_SCENE_DISTANCE,
    default_depth_source,
    get_depth,
    load_image,
    prepare_scene,
    resolve_focal,
    scene_from,
)
from viewshift.pipeline.paths import DEFAULT_AMPLITUDE, PATHS, PathKind, camera_path, render_path
from viewshift.pipeline.scene import Scene, move_for_divergence
from viewshift.pipeline.stereo import DEFAULT_DIVERGENCE, STEREO_LAYOUTS, StereoLayout, compose_stereo, stereo_pair
from viewshift.pipeline.synthesis import synthesize

__all__ = [
    "DEFAULT_AMPLITUDE",
    "DEFAULT_DIVERGENCE",
    "DEFAULT_SCENE_DISTANCE",
    "PATHS",
    "STEREO_LAYOUTS",
    "Border",
    "DepthUnitArg",
    "Move",
    "PathKind",
    "Scene",
    "StereoLayout",
    "ViewOptions",
    "ViewResult",
    "camera_path",
    "compose_stereo",
    "default_depth_source",
    "get_depth",
    "largest_valid_rectangle",
    "load_image",
    "move_for_divergence",
    "prepare_scene",
    "render_path",
    "resolve_focal",
    "scene_from",
    "stereo_pair",
    "synthesize",
]
