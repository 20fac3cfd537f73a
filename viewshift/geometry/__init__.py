"""Camera geometry in torch only: intrinsics, poses, projection. No caches, no globals."""

from viewshift.geometry.camera import (
    DEFAULT_FOV_DEG,
    crop_intrinsics,
    flip_intrinsics,
    focal_from_35mm,
    focal_from_fov,
    fov_from_focal,
    intrinsics,
    scale_intrinsics,
)
from viewshift.geometry.checks import check_same_batch, check_shape
from viewshift.geometry.poses import (
    axis_angle_to_matrix,
    euler_to_matrix,
    invert_pose,
    make_pose,
    move_to_pose,
    pose_vector_to_matrix,
)
from viewshift.geometry.projection import (
    MIN_DEPTH,
    depth_to_points,
    pixel_grid,
    pixels_to_grid,
    points_to_pixels,
    project_depth,
    transfer_matrices,
    transform_points,
)

__all__ = [
    "DEFAULT_FOV_DEG",
    "MIN_DEPTH",
    "axis_angle_to_matrix",
    "check_same_batch",
    "check_shape",
    "crop_intrinsics",
    "depth_to_points",
    "euler_to_matrix",
    "flip_intrinsics",
    "focal_from_35mm",
    "focal_from_fov",
    "fov_from_focal",
    "intrinsics",
    "invert_pose",
    "make_pose",
    "move_to_pose",
    "pixel_grid",
    "pixels_to_grid",
    "points_to_pixels",
    "pose_vector_to_matrix",
    "project_depth",
    "scale_intrinsics",
    "transfer_matrices",
    "transform_points",
]
