"""Trajectory error after a similarity alignment (for cameras known only up to scale).

``ATE_sim``: the estimated camera centres ``c_i`` are mapped by the similarity ``x -> s R x + t`` that best fits
the ground-truth centres ``g_i`` in least squares (Umeyama 1991, closed form by SVD), then
``ATE = sqrt(mean_i |s R c_i + t - g_i|^2)`` in the ground truth's unit. The rotation error is the mean angle of
``R_est(i→j)^T R_gt(i→j)`` over consecutive frames (relative rotations: independent of the world frame).
"""

from __future__ import annotations

import numpy as np

from viewshift.errors import InputError


def align_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity ``(s, R, t)`` minimising ``sum_i |s R src_i + t - dst_i|^2`` (Umeyama 1991).

    Args:
        src, dst: ``(N, 3)`` corresponding points, ``N >= 2`` (``N >= 3`` not all on a line for a unique ``R``).

    >>> rng = np.random.default_rng(0); x = rng.normal(size=(5, 3))
    >>> R = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> s, R2, t = align_similarity(x, 2 * x @ R.T + 1)
    >>> round(s, 6), bool(np.allclose(R2, R)), np.round(t, 6).tolist()
    (2.0, True, [1.0, 1.0, 1.0])
    """
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3 or len(src) < 2:
        raise InputError(f"point sets must both be N×3 with N >= 2, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    U, S, Vt = np.linalg.svd(xd.T @ xs / len(src))
    D = np.eye(3)
    D[2, 2] = np.sign(np.linalg.det(U @ Vt)) or 1.0
    R = U @ D @ Vt
    var = (xs**2).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var) if var > 0 else 1.0
    return s, R, mu_d - s * R @ mu_s


def trajectory_errors(pred_world_T_cam: np.ndarray, gt_world_T_cam: np.ndarray) -> dict:
    """ATE after a similarity alignment and the mean relative rotation error (module docstring).

    Args:
        pred_world_T_cam, gt_world_T_cam: ``(N, 4, 4)`` camera-to-world poses of the same frames.

    Returns:
        ``{"ate": ..., "rotation_deg": ..., "path": ..., "scale": s}``; ``path`` is the ground truth's path length.
    """
    if pred_world_T_cam.shape != gt_world_T_cam.shape or pred_world_T_cam.shape[1:] != (4, 4):
        raise InputError(f"poses must both be N×4×4, got {pred_world_T_cam.shape} and {gt_world_T_cam.shape}")
    c, g = pred_world_T_cam[:, :3, 3], gt_world_T_cam[:, :3, 3]
    s, R, t = align_similarity(c, g)
    ate = float(np.sqrt(np.mean(np.sum((c @ R.T * s + t - g) ** 2, axis=1))))
    rot = []
    for i in range(len(c) - 1):
        a = pred_world_T_cam[i, :3, :3].T @ pred_world_T_cam[i + 1, :3, :3]
        b = gt_world_T_cam[i, :3, :3].T @ gt_world_T_cam[i + 1, :3, :3]
        rot.append(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))
    path = float(np.linalg.norm(np.diff(g, axis=0), axis=1).sum())
    return {"ate": ate, "rotation_deg": float(np.mean(rot)) if rot else 0.0, "path": path, "scale": s}
