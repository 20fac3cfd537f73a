"""Procedurally generated scenes with exact depth and camera motion, textured with real photos.

A scene is a room or an outdoor ground: a floor plane below the camera, a back wall (or a far backdrop), side
walls and a ceiling at random, and a handful of boxes (turned about the vertical) and spheres standing in it.
Every surface is textured with a random crop of a real photo (or a procedural pattern) in its own surface
coordinates, and Lambert-shaded by one random light plus ambient, so shading, texture gradients, occlusion,
perspective and "lower is nearer" all carry depth information as in real photos.

Images are rendered by exact ray casting (analytic ray-plane, ray-sphere and ray-box intersections), so the
depth is exact; any camera pose can be rendered, which gives snippets with exact relative poses for the
view-synthesis losses. Ray casting is used instead of forward splatting because it needs no source view.

Units are metres-like: the camera is 1.2–1.8 above the floor, rooms are 4–12 deep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from viewshift.geometry import intrinsics

INF = float("inf")


@dataclass
class Primitive:
    """One surface. ``kind`` is "plane", "sphere" or "box"; parameters in world coordinates (y down)."""

    kind: str
    params: dict
    texture: int
    tex_scale: float
    tex_offset: tuple[float, float]
    albedo: float


def load_textures(paths: list[Path], size: int = 256, per_image: int = 4, seed: int = 0) -> torch.Tensor:
    """``(T, 3, size, size)`` random crops of real photos plus procedural patterns (checks, stripes, noise)."""
    import cv2

    from viewshift.io import read_image

    rng = np.random.default_rng(seed)
    out = []
    for p in paths:
        try:
            rgb = read_image(p).rgb
        except Exception:  # noqa: BLE001 - an unreadable texture is simply skipped
            continue
        h, w = rgb.shape[:2]
        for _ in range(per_image):
            c = int(rng.integers(min(h, w) // 4, min(h, w) + 1))
            y, x = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
            crop = cv2.resize(rgb[y : y + c, x : x + c], (size, size), interpolation=cv2.INTER_AREA)
            out.append(torch.from_numpy(crop).permute(2, 0, 1).float() / 255)
    g = torch.linspace(0, 1, size)
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    for k in range(8):
        colour_a, colour_b = (
            torch.rand(3, 1, 1, generator=torch.Generator().manual_seed(k)),
            torch.rand(3, 1, 1, generator=torch.Generator().manual_seed(100 + k)),
        )
        if k % 3 == 0:
            m = (((xx * (4 + k)).floor() + (yy * (4 + k)).floor()) % 2)[None]
        elif k % 3 == 1:
            m = ((torch.sin(xx * (10 + 3 * k)) > 0).float())[None]
        else:
            noise = torch.rand(1, 1, 8 + k, 8 + k, generator=torch.Generator().manual_seed(k))
            m = F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False)[0].clamp(0, 1)
        out.append(colour_a * m + colour_b * (1 - m))
    return torch.stack(out)


def random_scene(rng: np.random.Generator, num_textures: int) -> list[Primitive]:
    """A random room (or open ground) with boxes and spheres; the camera starts near the origin."""

    def tex() -> dict:
        return dict(
            texture=int(rng.integers(num_textures)),
            tex_scale=float(rng.uniform(0.3, 2.5)),
            tex_offset=(float(rng.uniform(0, 1)), float(rng.uniform(0, 1))),
            albedo=float(rng.uniform(0.6, 1.0)),
        )

    cam_h = rng.uniform(1.0, 1.8)
    depth = rng.uniform(4, 14)
    half_w = rng.uniform(2, 6)
    prims = [Primitive("plane", dict(n=(0, -1, 0), c=-cam_h), **tex())]  # floor y = cam_h
    indoor = rng.random() < 0.7
    prims.append(Primitive("plane", dict(n=(0, 0, -1), c=-depth * (1 if indoor else 4)), **tex()))  # back
    if indoor:
        for side in (-1, 1):
            if rng.random() < 0.7:
                prims.append(Primitive("plane", dict(n=(side, 0, 0), c=-half_w), **tex()))  # x = -side*half_w
        if rng.random() < 0.5:
            prims.append(Primitive("plane", dict(n=(0, 1, 0), c=-rng.uniform(1.0, 2.0)), **tex()))  # ceiling
    for _ in range(int(rng.integers(1, 8))):
        z = rng.uniform(1.2, depth * 0.9)
        x = rng.uniform(-1, 1) * (half_w * 0.8 + z * 0.2)
        if rng.random() < 0.6:
            sx, sy, sz = rng.uniform(0.2, 1.5, 3)
            on_floor = rng.random() < 0.8
            y = cam_h - sy / 2 if on_floor else rng.uniform(-1, cam_h - sy / 2)
            prims.append(
                Primitive("box", dict(c=(x, y, z), half=(sx / 2, sy / 2, sz / 2), yaw=rng.uniform(-1, 1)), **tex())
            )
        else:
            r = rng.uniform(0.15, 0.9)
            y = cam_h - r if rng.random() < 0.7 else rng.uniform(-1, cam_h - r)
            prims.append(Primitive("sphere", dict(c=(x, y, z), r=r), **tex()))
    return prims


def _basis(n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.tensor([0.0, 1.0, 0.0]) if abs(float(n[1])) < 0.9 else torch.tensor([1.0, 0.0, 0.0])
    u = torch.linalg.cross(n, a)
    u = u / u.norm()
    return u, torch.linalg.cross(n, u)


def cast_rays(prims: list[Primitive], origin: torch.Tensor, dirs: torch.Tensor):
    """Nearest hit of rays ``origin + t dirs`` (``dirs`` ``(N, 3)``): ``t``, normal ``(N, 3)``, uv ``(N, 2)``, id."""
    n_rays = dirs.shape[0]
    best_t = torch.full((n_rays,), INF)
    best_n = torch.zeros(n_rays, 3)
    best_uv = torch.zeros(n_rays, 2)
    best_id = torch.full((n_rays,), -1, dtype=torch.long)
    for k, p in enumerate(prims):
        if p.kind == "plane":
            n = torch.tensor(p.params["n"], dtype=torch.float32)
            denom = dirs @ n
            t = (p.params["c"] - origin @ n) / denom
            t = torch.where((denom.abs() > 1e-8) & (t > 1e-4), t, torch.full_like(t, INF))
            hit = origin + t[:, None] * dirs
            bu, bv = _basis(n)
            uv = torch.stack([hit @ bu, hit @ bv], 1)
            normal = n.expand(n_rays, 3)
        elif p.kind == "sphere":
            c = torch.tensor(p.params["c"], dtype=torch.float32)
            oc = origin - c
            b = dirs @ oc
            a = (dirs * dirs).sum(1)
            disc = b * b - a * ((oc * oc).sum() - p.params["r"] ** 2)
            t = (-b - disc.clamp_min(0).sqrt()) / a
            t = torch.where((disc > 0) & (t > 1e-4), t, torch.full_like(t, INF))
            hit = origin + t[:, None] * dirs
            normal = (hit - c) / p.params["r"]
            uv = (
                torch.stack(
                    [torch.atan2(normal[:, 0], normal[:, 2]) * p.params["r"], torch.asin(normal[:, 1].clamp(-1, 1))], 1
                )
                * p.params["r"]
            )
        else:  # box turned by yaw about y
            c = torch.tensor(p.params["c"], dtype=torch.float32)
            half = torch.tensor(p.params["half"], dtype=torch.float32)
            cy, sy = math.cos(p.params["yaw"]), math.sin(p.params["yaw"])
            R = torch.tensor([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=torch.float32)  # local -> world
            o = (origin - c) @ R
            d = dirs @ R
            inv = 1.0 / torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
            t0, t1 = (-half - o) * inv, (half - o) * inv
            tmin, tmax = torch.minimum(t0, t1), torch.maximum(t0, t1)
            t_near, axis = tmin.max(1)
            t_far = tmax.min(1).values
            t = torch.where((t_near <= t_far) & (t_near > 1e-4), t_near, torch.full_like(t_near, INF))
            local = o + t_near[:, None] * d
            nl = torch.zeros(n_rays, 3)
            nl.scatter_(1, axis[:, None], -torch.sign(d.gather(1, axis[:, None])))
            normal = nl @ R.T
            other = torch.tensor([[1, 2], [0, 2], [0, 1]])[axis]
            uv = local.gather(1, other)
        closer = t < best_t
        best_t = torch.where(closer, t, best_t)
        best_n = torch.where(closer[:, None], normal, best_n)
        best_uv = torch.where(closer[:, None], uv, best_uv)
        best_id = torch.where(closer, torch.full_like(best_id, k), best_id)
    return best_t, best_n, best_uv, best_id


def render_scene(
    prims: list[Primitive],
    textures: torch.Tensor,
    K: torch.Tensor,
    world_T_cam: torch.Tensor,
    size: tuple[int, int],
    light: torch.Tensor,
    ambient: float = 0.45,
    far: float = 80.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ray-cast one view: ``(3, H, W)`` image in [0, 1] and ``(1, H, W)`` exact z-depth (capped at ``far``).

    Args:
        K: ``(3, 3)`` intrinsics; world_T_cam: ``(4, 4)`` camera-to-world; light: ``(3,)`` unit direction.
    """
    h, w = size
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    pix = torch.stack([u.reshape(-1), v.reshape(-1), torch.ones(h * w)], 1)
    rays_cam = pix @ torch.linalg.inv(K.float()).T  # z = 1: t along these rays is z-depth
    R, t = world_T_cam[:3, :3].float(), world_T_cam[:3, 3].float()
    dirs = rays_cam @ R.T
    tt, normal, uv, ids = cast_rays(prims, t, dirs)
    miss = ~torch.isfinite(tt)
    depth = torch.where(miss, torch.full_like(tt, far), tt.clamp(max=far))
    # Texture lookup: each primitive's surface coordinates scaled and wrapped (mirrored) into [-1, 1].
    colour = torch.zeros(h * w, 3)
    for k, p in enumerate(prims):
        sel = ids == k
        if not sel.any():
            continue
        q = uv[sel] / p.tex_scale + torch.tensor(p.tex_offset)
        q = 1 - (q % 2 - 1).abs()  # triangle wave in [0, 1]: mirrored tiling, no seams
        grid = (q * 2 - 1)[None, None]
        col = F.grid_sample(textures[p.texture][None], grid, align_corners=False)[0, :, 0].T
        shade = ambient + (1 - ambient) * (normal[sel] @ -light).clamp_min(0)
        colour[sel] = col * shade[:, None] * p.albedo
    sky = torch.tensor([0.6, 0.7, 0.85])
    colour[miss] = sky
    return colour.T.reshape(3, h, w).clamp(0, 1), depth.reshape(1, h, w)


class SyntheticScenes(Dataset):
    """Random snippets with exact depth and poses; index ``i`` is scene ``i`` (``length`` scenes in all).

    With ``cache`` each scene is ray-cast once and kept (as bytes and half floats); flips and colour jitter are
    drawn afresh on every visit (seeded by ``epoch``), so a small pool of scenes serves many steps cheaply
    (``augment=False`` turns them off).

    Each sample follows the schema of :mod:`viewshift.learn.data`: the target view, ``num_sources`` views from
    cameras moved by up to ``max_move`` (sideways, up, forward) and ``max_turn_deg``, exact ``src_T_tgt``
    (``has_pose`` True), and the exact inverse depth as ``depth`` (``has_depth`` True).
    """

    def __init__(
        self,
        textures: torch.Tensor,
        size: tuple[int, int],
        *,
        num_sources: int = 1,
        length: int = 100_000,
        max_move: float = 0.3,
        max_turn_deg: float = 3.0,
        fov_range_deg: tuple[float, float] = (45.0, 75.0),
        seed: int = 0,
        cache: bool = False,
        augment: bool = True,
    ):
        self.augment = augment
        self.textures, self.size, self.num_sources, self.length = textures, size, num_sources, length
        self.cache, self._cache = cache, {}
        self.max_move, self.max_turn, self.fov_range, self.seed = max_move, max_turn_deg, fov_range_deg, seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def camera(self, rng: np.random.Generator, base: np.ndarray | None = None) -> torch.Tensor:
        from viewshift.geometry import euler_to_matrix

        if base is None:
            ang = np.radians([rng.uniform(-15, 10), rng.uniform(-25, 25), rng.uniform(-4, 4)])
            pos = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.3, 0.3), rng.uniform(-0.5, 0.5)])
        else:
            ang = np.radians(rng.uniform(-self.max_turn, self.max_turn, 3))
            pos = rng.uniform(-self.max_move, self.max_move, 3)
        T = torch.eye(4, dtype=torch.float64)
        T[:3, :3] = euler_to_matrix(torch.tensor(ang)[None])[0]
        T[:3, 3] = torch.tensor(pos)
        return T if base is None else torch.from_numpy(base) @ T

    def __getitem__(self, idx: int) -> dict[str, torch.Tensor]:
        from viewshift.learn.data import finish_sample

        if self.cache and idx in self._cache:
            sample = {
                k: v.float() if v.dtype in (torch.uint8, torch.float16) else v for k, v in self._cache[idx].items()
            }
            sample["target"], sample["sources"] = sample["target"] / 255, sample["sources"] / 255
        else:
            sample = self.render(idx)
            if self.cache:
                self._cache[idx] = {
                    **sample,
                    "target": (sample["target"] * 255).round().to(torch.uint8),
                    "sources": (sample["sources"] * 255).round().to(torch.uint8),
                    "depth": sample["depth"].half(),
                    "true_depth": sample["true_depth"].half(),
                }
        if not self.augment:
            return finish_sample(sample, None, flip=False, jitter=0)
        rng = np.random.default_rng([self.seed, self.epoch, idx, 7])
        return finish_sample(sample, rng, flip=True, jitter=0.15)

    def render(self, idx: int) -> dict[str, torch.Tensor]:
        """The un-augmented sample of scene ``idx`` (deterministic in ``seed`` and ``idx``)."""
        rng = np.random.default_rng([self.seed, idx])
        h, w = self.size
        prims = random_scene(rng, len(self.textures))
        fov = math.radians(rng.uniform(*self.fov_range))
        K = intrinsics(w / 2 / math.tan(fov / 2), h, w)[0]
        light = torch.tensor(rng.normal(size=3), dtype=torch.float32)
        light[1] = abs(light[1]) + 0.5  # from above (y down)
        light = light / light.norm()
        tgt = self.camera(rng)
        image, depth = render_scene(prims, self.textures, K, tgt, self.size, light)
        srcs, poses = [], []
        for _ in range(self.num_sources):
            src = self.camera(rng, tgt.numpy())
            im, _ = render_scene(prims, self.textures, K, src, self.size, light)
            srcs.append(im)
            poses.append(torch.linalg.inv(src) @ tgt)
        sample = {
            "target": image,
            "sources": torch.stack(srcs),
            "K": K.double(),
            "src_T_tgt": torch.stack(poses),
            "has_pose": torch.tensor(True),
            "depth": 1.0 / depth,
            "depth_valid": torch.ones_like(depth, dtype=torch.bool),
            "has_depth": torch.tensor(True),
            "has_metric_depth": torch.tensor(True),
            "true_depth": depth,
        }
        return sample


def sideways_clip(
    size: tuple[int, int] = (64, 96),
    frames: int = 8,
    step: float = 0.08,
    *,
    plane_depth: float = 4.0,
    box_depth: float = 2.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A textured back plane and a box in front of it, seen by a camera moving sideways (exact depth).

    The camera looks down +z from ``x = i · step`` (frame ``i``), focal length = image width (53° field of view).
    The plane ``z = plane_depth`` and the front face of a box centred at ``box_depth`` (half-size 0.5) carry
    smooth random (non-periodic) procedural textures of :func:`load_textures`.

    Returns:
        ``images`` ``(N, 3, H, W)`` in [0, 1], ``depth`` ``(N, 1, H, W)`` exact z-depth, ``world_T_cam``
        ``(N, 4, 4)`` float64 and ``K`` ``(3, 3)`` float64.
    """
    h, w = size
    textures = load_textures([], seed=seed)
    prims = [
        Primitive(
            "plane", dict(n=(0, 0, -1), c=-plane_depth), texture=5, tex_scale=1.5, tex_offset=(0.1, 0.3), albedo=1.0
        ),
        Primitive(
            "box",
            dict(c=(0.3, 0.0, box_depth + 0.5), half=(0.5, 0.5, 0.5), yaw=0.0),
            texture=2,
            tex_scale=0.6,
            tex_offset=(0.2, 0.6),
            albedo=1.0,
        ),
    ]
    K = intrinsics(float(w), h, w)[0].double()
    light = torch.tensor([0.2, 0.3, 1.0]) / torch.tensor([0.2, 0.3, 1.0]).norm()
    ims, deps, poses = [], [], []
    for i in range(frames):
        T = torch.eye(4, dtype=torch.float64)
        T[0, 3] = (i - (frames - 1) / 2) * step
        im, d = render_scene(prims, textures, K, T, size, light, ambient=0.6)
        ims.append(im)
        deps.append(d)
        poses.append(T)
    return torch.stack(ims), torch.stack(deps), torch.stack(poses), K
