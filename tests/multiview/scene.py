"""A tiny synthetic scene with exact depth and cameras for the multi-view tests.

A textured back wall (z = 6), a textured floor (y = 1.2, y points down) and a turned box standing on it at
z ≈ 3.5, ray-cast exactly by :func:`viewshift.learn.synthetic.render_scene`. Textures are multi-scale noise, so
every surface has features and local contrast.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from viewshift.geometry import axis_angle_to_matrix
from viewshift.learn.synthetic import Primitive, render_scene


def noise_textures(count: int = 3, size: int = 256, seed: int = 0) -> torch.Tensor:
    """``(count, 3, size, size)`` colourful multi-scale noise in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        tex = torch.zeros(1, 3, size, size)
        for cells, weight in ((4, 0.45), (16, 0.35), (64, 0.2)):
            tex += weight * F.interpolate(
                torch.rand(1, 3, cells, cells, generator=g), size=(size, size), mode="bicubic"
            )
        out.append(((tex - tex.mean()) * 1.8 + 0.5).clamp(0, 1)[0])
    return torch.stack(out)


def scene() -> list[Primitive]:
    """Back wall, floor, one box (see the module docstring)."""
    return [
        Primitive("plane", dict(n=(0, 0, -1), c=-6.0), texture=0, tex_scale=4.0, tex_offset=(0.1, 0.3), albedo=1.0),
        Primitive("plane", dict(n=(0, -1, 0), c=-1.2), texture=1, tex_scale=3.0, tex_offset=(0.2, 0.7), albedo=0.9),
        Primitive(
            "box",
            dict(c=(0.2, 0.6, 3.5), half=(0.6, 0.6, 0.5), yaw=0.5),
            texture=2,
            tex_scale=1.2,
            tex_offset=(0.4, 0.1),
            albedo=1.0,
        ),
    ]


def pose(centre: tuple[float, float, float], axis_angle: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """``4×4`` float64 camera-to-world pose with the given centre and rotation (axis-angle, radians)."""
    T = np.eye(4)
    T[:3, :3] = axis_angle_to_matrix(torch.tensor([axis_angle], dtype=torch.float64))[0].numpy()
    T[:3, 3] = centre
    return T


def render(poses: list[np.ndarray], size: tuple[int, int] = (180, 240), focal: float = 220.0):
    """Render the scene from camera-to-world ``poses``.

    Returns:
        ``(frames, depths, K)``: ``H×W×3 uint8`` frames, ``H×W float32`` exact z-depths, ``3×3`` float64 ``K``.
    """
    h, w = size
    K = np.array([[focal, 0, (w - 1) / 2], [0, focal, (h - 1) / 2], [0, 0, 1.0]])
    textures = noise_textures()
    light = torch.tensor([0.3, 0.5, 1.0])
    light = light / light.norm()
    frames, depths = [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: a second thread only waits for a busy core
    try:
        for T in poses:
            img, depth = render_scene(
                scene(), textures, torch.from_numpy(K).float(), torch.from_numpy(T).float(), size, light
            )
            frames.append((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
            depths.append(depth[0].numpy())
    finally:
        torch.set_num_threads(threads)
    return frames, depths, K


def sideways_poses(count: int = 5, step: float = 0.12) -> list[np.ndarray]:
    """A camera moving right by ``step`` per frame, turning slightly towards the box, bobbing a little."""
    out = []
    for i in range(count):
        x = (i - (count - 1) / 2) * step
        out.append(pose((x, 0.03 * (i % 2), 0.02 * i), (0.01 * i, -0.02 * x, 0.005 * i)))
    return out
