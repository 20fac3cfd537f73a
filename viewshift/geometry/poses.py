"""Rigid transforms: rotations from angles, 4×4 poses, and the user-facing camera move.

Convention: a pose ``a_T_b`` is a ``(B, 4, 4)`` matrix that maps points expressed in frame ``b`` into frame ``a``,
so ``a_T_b @ b_T_c == a_T_c``. Camera frames are OpenCV's: x right, y down, z forward.
"""

from __future__ import annotations

import math

import torch

from viewshift.geometry.checks import check_shape


def rotation_x(angle: torch.Tensor) -> torch.Tensor:
    """Rotation about the x axis by ``angle`` radians, right-handed. ``(B,) -> (B, 3, 3)``."""
    c, s, o, z = angle.cos(), angle.sin(), torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([o, z, z, z, c, -s, z, s, c], dim=-1).reshape(*angle.shape, 3, 3)


def rotation_y(angle: torch.Tensor) -> torch.Tensor:
    """Rotation about the y axis by ``angle`` radians, right-handed. ``(B,) -> (B, 3, 3)``."""
    c, s, o, z = angle.cos(), angle.sin(), torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([c, z, s, z, o, z, -s, z, c], dim=-1).reshape(*angle.shape, 3, 3)


def rotation_z(angle: torch.Tensor) -> torch.Tensor:
    """Rotation about the z axis by ``angle`` radians, right-handed. ``(B,) -> (B, 3, 3)``."""
    c, s, o, z = angle.cos(), angle.sin(), torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([c, -s, z, s, c, z, z, z, o], dim=-1).reshape(*angle.shape, 3, 3)


def euler_to_matrix(angles: torch.Tensor) -> torch.Tensor:
    """Rotation ``R = Rx(rx) @ Ry(ry) @ Rz(rz)`` from ``(B, 3)`` angles ``(rx, ry, rz)`` in radians.

    This is the parameterisation of the SfMLearner pose network's rotation output.

    Returns:
        ``(B, 3, 3)``.
    """
    check_shape(angles, "B,3", "angles")
    return rotation_x(angles[:, 0]) @ rotation_y(angles[:, 1]) @ rotation_z(angles[:, 2])


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula: ``(B, 3)`` axis-angle vectors (radians) to ``(B, 3, 3)`` rotations.

    ``R = I + sin(θ) [k]× + (1 - cos θ) [k]×²`` with ``θ = |v|``, ``k = v / θ``; smooth at ``θ = 0``.
    """
    check_shape(axis_angle, "B,3", "axis_angle")
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True)
    theta = theta2.clamp_min(1e-12).sqrt()
    small = theta2 < 1e-8
    # sin(θ)/θ and (1 - cos θ)/θ² with their Taylor expansions near zero.
    a = torch.where(small, 1 - theta2 / 6, theta.sin() / theta)
    b = torch.where(small, 0.5 - theta2 / 24, (1 - theta.cos()) / theta2.clamp_min(1e-12))
    x, y, z = axis_angle.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(-1, 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(skew)
    return eye + a[..., None] * skew + b[..., None] * (skew @ skew)


def make_pose(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """Assemble ``(B, 4, 4)`` poses from ``(B, 3, 3)`` rotations and ``(B, 3)`` translations."""
    check_shape(rotation, "B,3,3", "rotation")
    check_shape(translation, "B,3", "translation")
    bottom = torch.zeros(rotation.shape[0], 1, 4, dtype=rotation.dtype, device=rotation.device)
    bottom[:, 0, 3] = 1.0
    return torch.cat([torch.cat([rotation, translation[..., None]], dim=2), bottom], dim=1)


def pose_vector_to_matrix(vector: torch.Tensor, rotation: str = "euler") -> torch.Tensor:
    """``(B, 6)`` vectors ``(tx, ty, tz, r1, r2, r3)`` to ``(B, 4, 4)`` poses ``[R | t]``.

    Args:
        vector: translation then rotation parameters (radians).
        rotation: ``"euler"`` (see :func:`euler_to_matrix`) or ``"axis_angle"``.
    """
    check_shape(vector, "B,6", "vector")
    to_matrix = {"euler": euler_to_matrix, "axis_angle": axis_angle_to_matrix}[rotation]
    return make_pose(to_matrix(vector[:, 3:]), vector[:, :3])


def invert_pose(pose: torch.Tensor) -> torch.Tensor:
    """Inverse of rigid ``(B, 4, 4)`` poses: ``[R | t]^-1 = [R^T | -R^T t]``."""
    check_shape(pose, "B,4,4", "pose")
    rt = pose[:, :3, :3].transpose(1, 2)
    return make_pose(rt, -(rt @ pose[:, :3, 3:]).squeeze(-1))


def move_to_pose(
    right: float = 0.0,
    up: float = 0.0,
    forward: float = 0.0,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The moved camera in the source camera's frame, ``src_T_new`` ``(1, 4, 4)``, from a user's move.

    Translations are in the unit of the depth map; angles in degrees:

    * ``right`` > 0 moves the camera right (near things then slide left in the picture, far things less);
      ``up`` > 0 moves it up (−y); ``forward`` > 0 moves it along the view direction (+z).
    * ``yaw`` > 0 turns the camera right (rotation about +y, which points down), so the scene slides left;
      ``pitch`` > 0 tilts it up (rotation about +x), so the scene slides down;
      ``roll`` > 0 rotates it clockwise about its view axis as seen from behind (rotation about +z), so the
      picture's content turns counter-clockwise.

    The rotation is ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)`` and the new camera's centre sits at
    ``(right, -up, forward)`` in the source frame.

    >>> move_to_pose(right=0.5)[0, :3, 3].tolist()
    [0.5, 0.0, 0.0]
    """
    deg = [torch.tensor([math.radians(a)], dtype=dtype) for a in (yaw, pitch, roll)]
    rotation = rotation_y(deg[0]) @ rotation_x(deg[1]) @ rotation_z(deg[2])
    translation = torch.tensor([[right, 0.0 - up, forward]], dtype=dtype)
    return make_pose(rotation, translation)
