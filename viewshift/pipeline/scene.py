"""A photo with metric depth and intrinsics (:class:`Scene`), rendered from moved cameras into :class:`ViewResult` s.

:meth:`Scene.render` renders one moved camera (``viewshift.render.render_view``), fills what the move reveals, gives
the fill the photo's noise and blur, and quantises the result to the photo's bit depth (``_finish``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from viewshift.errors import InputError, MoveError
from viewshift.geometry import depth_to_points, invert_pose, project_depth
from viewshift.pipeline.config import Move, ViewOptions, ViewResult
from viewshift.pipeline.crop import crop_box
from viewshift.render import kernels
from viewshift.render import realism as _realism
from viewshift.render.fill import fill_holes
from viewshift.render.view import RenderSettings, render_view
from viewshift.render.warp import outside_source

__all__ = ["Scene", "move_for_divergence"]


@dataclass
class Scene:
    """An image with metric depth and intrinsics, ready to render from moved cameras.

    Attributes:
        image: ``(1, C, H, W)`` float in [0, 1]; ``C`` is 3, or 4 with alpha.
        depth: ``(1, 1, H, W)`` positive depth in the unit of translations.
        K: ``(1, 3, 3)`` intrinsics in pixels.
        bit_depth: 8 or 16 (the output's bit depth).
    """

    image: torch.Tensor
    depth: torch.Tensor
    K: torch.Tensor
    bit_depth: int = 8

    @functools.cached_property
    def points(self) -> torch.Tensor:
        """``(1, 3, H, W)`` the 3-D points of the source pixels (computed once)."""
        return depth_to_points(self.depth, self.K)

    @functools.cached_property
    def noise_sigma(self) -> torch.Tensor:
        """``(1, 3)`` the photo's sensor noise per colour channel (computed once; the realism step's target)."""
        return _realism.estimate_noise_sigma(self.image[:, :3], per_channel=True)

    @property
    def focal(self) -> float:
        return float(self.K[0, 0, 0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[-2]), int(self.image.shape[-1])

    def max_parallax(self, move: Move) -> float:
        """Largest image motion (px) the translation of ``move`` gives any pixel, beyond what its rotation gives."""
        T_full = invert_pose(torch.from_numpy(move.pose())[None]).float()
        T_rot = invert_pose(torch.from_numpy(replace(move, right=0.0, up=0.0, forward=0.0).pose())[None]).float()
        p_full, _ = project_depth(self.depth, self.K, T_full)
        p_rot, _ = project_depth(self.depth, self.K, T_rot)
        return float((p_full - p_rot).norm(dim=1).max())

    def check_move(self, tgt_T_src: torch.Tensor) -> None:
        """Refuse moves that put the camera inside or behind the scene (one-line :class:`MoveError`)."""
        points = self.points[..., ::4, ::4].reshape(1, 3, -1)  # a share of the scene: every 16th point will do
        z = (tgt_T_src[:, 2:3, :3].float() @ points + tgt_T_src[:, 2:3, 3:].float())[0, 0]
        behind = (z <= 1e-6).float().mean().item()
        src_T_tgt = invert_pose(tgt_T_src.double())
        forward = float(src_T_tgt[0, 2, 3])
        nearest = float(self.depth.min())
        if forward >= nearest:
            raise MoveError(
                f"the move takes the camera {forward:.3g} forward, past the nearest surface at {nearest:.3g}: "
                "the camera would be inside the scene; use a smaller --forward"
            )
        if behind > 0.5:
            raise MoveError(
                f"after this move {behind:.0%} of the scene is behind the camera; use a smaller turn or move"
            )

    def _border_holes(self, holes: torch.Tensor, src_T_new: torch.Tensor, K_new: torch.Tensor | None) -> np.ndarray:
        """``H×W bool``: holes outside the source's field of view (strips the move brought into view), as opposed
        to disocclusions. A hole pixel is a border pixel when its ray, taken at the scene's farthest depth (the
        background that fills holes), lands outside the source image."""
        K_tgt = self.K if K_new is None else K_new
        return outside_source(holes, float(self.depth.max()), K_tgt, src_T_new, self.K, self.size)[0, 0].numpy()

    def render(
        self,
        pose: np.ndarray | torch.Tensor,
        *,
        options: ViewOptions = ViewOptions(),
        K_new: torch.Tensor | None = None,
    ) -> ViewResult:
        """Render the camera at ``pose`` (``4×4`` ``src_T_new``) and fill what it reveals.

        Args:
            pose: ``4×4`` new camera in the source camera's frame (maps new-frame points into the source frame).
            options: see :class:`ViewOptions`.
            K_new: ``(1, 3, 3)`` intrinsics of the new camera (default: the source's).
        """
        src_T_new = torch.as_tensor(np.asarray(pose, dtype=np.float64)).reshape(1, 4, 4)
        _check_pose(src_T_new)
        tgt_T_src = invert_pose(src_T_new)
        self.check_move(tgt_T_src)
        settings = RenderSettings(edge_tolerance_px=options.edge_tolerance_px, dilate_px=options.dilate_px)
        with torch.inference_mode():
            out = render_view(self.image, self.depth, self.K, tgt_T_src.float(), K_new, settings=settings)
            holes = out.holes
            image, depth = out.image, out.depth
            border = self._border_holes(holes, src_T_new, K_new)
            if options.fill != "none" and kernels.any_true(holes):
                # Background lies from a hole in the direction the camera centre moved (see fill.py).
                centre = src_T_new[0, :2, 3].float()
                direction = tuple(centre.tolist()) if float(centre.norm()) > 0 else None
                image, depth = fill_holes(image, depth, holes, options.fill, direction=direction)
                if options.realism:  # colour only: an alpha channel keeps its filled values
                    # In place: the filled image is the filler's own new tensor.
                    rgb = _realism.match_realism(
                        image[:, :3], holes, noise_sigma=self.noise_sigma, seed=options.seed, inplace=True
                    )
                    image = torch.cat([rgb, image[:, 3:]], dim=1) if image.shape[1] > 3 else rgb
            empty = holes.clone() if options.fill == "none" else torch.zeros_like(holes)
            if options.border == "leave":
                empty |= torch.from_numpy(border)[None, None]
        return _finish(self, image, depth, holes, empty, border, options, K_new)


def _check_pose(pose: torch.Tensor) -> None:
    if not torch.isfinite(pose).all():
        raise MoveError("the pose contains NaN or inf; give a finite 4×4 matrix")
    R = pose[0, :3, :3]
    if not torch.allclose(R @ R.T, torch.eye(3, dtype=R.dtype), atol=1e-4) or float(torch.det(R)) < 0:
        raise MoveError("the pose's 3×3 block is not a rotation; give a rigid 4×4 camera pose")
    if not torch.allclose(pose[0, 3], torch.tensor([0.0, 0, 0, 1], dtype=pose.dtype)):
        raise MoveError("the pose's last row must be 0 0 0 1")


def _finish(
    scene: Scene,
    image: torch.Tensor,
    depth: torch.Tensor,
    holes: torch.Tensor,
    empty: torch.Tensor,
    border: np.ndarray,
    options: ViewOptions,
    K_new: torch.Tensor | None,
) -> ViewResult:
    img = image[0]
    has_alpha = img.shape[0] == 4
    any_empty = kernels.any_true(empty)
    if any_empty or has_alpha:
        alpha = img[3:] if has_alpha else torch.ones_like(img[:1])
        img = torch.cat([img[:3], alpha]).masked_fill(empty[0], 0.0)
    if any_empty:
        depth = depth.masked_fill(empty, float("inf"))
    h, w = depth.shape[-2:]
    box = (0, 0, w, h)
    if options.border == "crop" and border.any():
        box = crop_box(border)
    x0, y0, x1, y1 = box
    out = np.empty((y1 - y0, x1 - x0, img.shape[0]), np.uint16 if scene.bit_depth == 16 else np.uint8)
    top = 65535.0 if scene.bit_depth == 16 else 255.0
    kernels.run_rows(kernels.quantise_rows, y1 - y0, kernels.as_array(img[:, y0:y1, x0:x1]), top, out)
    depth_np = depth[0, 0, y0:y1, x0:x1].numpy().astype(np.float32)
    focal = float((K_new if K_new is not None else scene.K)[0, 0, 0])
    return ViewResult(
        image=out,
        depth=depth_np,
        holes=holes[0, 0, y0:y1, x0:x1].numpy(),
        focal=focal,
        crop=box,
        border=border,
    )


def move_for_divergence(scene: Scene, move: Move, divergence: float) -> Move:
    """Scale ``move``'s translation so its largest parallax is ``divergence`` percent of the image width."""
    if not (math.isfinite(divergence) and 0 < divergence <= 50):
        raise InputError(f"divergence must be between 0 and 50 percent, got {divergence}")
    if move.right == move.up == move.forward == 0:
        raise InputError("divergence needs a direction to move in: give --right, --up or --forward (e.g. 1)")
    current = scene.max_parallax(move)
    if current <= 0:
        raise InputError("this move creates no parallax to scale")
    return move.scaled(divergence / 100.0 * scene.size[1] / current)
