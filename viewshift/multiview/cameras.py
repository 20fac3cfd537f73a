"""Cameras of 2–50 frames of one scene: features, two-view geometry, incremental registration, bundle adjustment.

Pipeline (OpenCV for features and minimal solvers, numpy for the bundle adjustment):

1. SIFT features (RootSIFT descriptors) on each frame at a working size (long side ≤ ``feature_size``).
2. Pairs of frames within ``match_window`` of each other (all pairs for ≤ 8 frames) are matched (ratio test) and
   verified with a fundamental matrix (MAGSAC). Each pair's *parallax* is the 90th percentile of the matches'
   distances to the best homography: a camera that only turned (or did not move) maps every point by one
   homography, so its parallax is noise (≈ 1 px).
3. Intrinsics: ``focal`` if given, else a focal search over the verified pairs: the focal whose essential
   matrices ``E = Kᵀ F K`` are most nearly essential (two equal singular values; Mendonça & Cipolla 1999),
   refined by the bundle adjustment; when the motion does not determine it (the cost is flat, e.g. driving
   straight forward) a 60° horizontal field of view is assumed. The principal point is the image centre;
   pixels are square.
4. The pair with most inliers among those with enough parallax starts the reconstruction (essential matrix,
   ``recoverPose``, triangulation); the other frames are added one at a time by PnP (RANSAC, then
   Levenberg–Marquardt) on their matches to already triangulated points, and new points are triangulated.
5. Bundle adjustment (Levenberg–Marquardt on the Schur complement, Huber loss of scale 1 px; see
   :func:`bundle_adjust`) of all poses, points and (when not given) the focal length, after the first pair, after every
   few frames and at the end.

Conventions: OpenCV camera axes (x right, y down, z forward), ``world_T_cam`` maps camera coordinates into the
world, frame 0 is the world. Scale is *relative*: the median depth of the points seen by frame 0 is 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from viewshift.errors import InputError
from viewshift.multiview.frames import check_frames

NO_PARALLAX = "no parallax, no depth"

MIN_FOCAL_CONTRAST = 0.1
"""The focal search trusts its minimum only when it lies this far (relatively) below the cost's median."""


@dataclass
class Cameras:
    """Cameras of a set of frames.

    Attributes:
        K: ``(3, 3)`` float64 intrinsics in pixels, shared by all frames, at the frames' given size.
        world_T_cam: ``(N, 4, 4)`` float64 camera-to-world poses; frame 0 is the world (identity).
        scale: ``"relative"``: the unit is the median depth (z in frame 0) of the triangulated points seen by
            frame 0, which is 1; ``"metric"`` when something gave metres.
        points: ``(P, 3)`` float64 triangulated points in the world frame.
        reprojection_px: RMS reprojection error in pixels (at the frames' given size) after bundle adjustment.
        registered: ``(N,)`` bool: frames whose pose was estimated. A frame that could not be registered gets
            the pose of the nearest registered frame (by index) and ``False`` here.
        focal_source: where the focal length came from: ``"given"``, ``"search"`` (searched and refined by the
            bundle adjustment) or ``"default"`` (the motion did not determine it, e.g. straight forward: a 60°
            horizontal field of view was assumed; pass ``focal`` for better cameras).
        point_frames: ``(P,)`` int64: how many frames see each point.
    """

    K: np.ndarray
    world_T_cam: np.ndarray
    scale: str
    points: np.ndarray
    reprojection_px: float
    registered: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    focal_source: str = "given"
    point_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.world_T_cam)

    def cam_T_world(self) -> np.ndarray:
        """``(N, 4, 4)`` world-to-camera poses."""
        return np.linalg.inv(self.world_T_cam)

    def tgt_T_src(self, tgt: int, src: int) -> np.ndarray:
        """``(4, 4)`` pose mapping points of frame ``src`` into frame ``tgt``: ``inv(world_T_tgt) @ world_T_src``."""
        return np.linalg.inv(self.world_T_cam[tgt]) @ self.world_T_cam[src]


@dataclass
class CameraConfig:
    """Settings of :func:`estimate_cameras`.

    Attributes:
        feature_size: long side of the images features are found on (pixels).
        max_features: SIFT features per frame.
        ratio: Lowe's ratio test threshold.
        match_window: frames ``i, j`` are matched when ``|i - j| <= match_window`` (all pairs for ≤ 8 frames).
        min_inliers: verified matches a pair needs.
        min_parallax_px: parallax (90th percentile of the distances to the best homography, at the working
            size) a pair needs to start the reconstruction.
        ransac_px: RANSAC thresholds (fundamental matrix, PnP) at the working size.
        min_angle_deg: smallest triangulation angle of a new point.
        ba_every: run a full bundle adjustment after every this many registered frames.
        max_ba_points: points in a bundle adjustment (the most observed ones); the others are re-triangulated.
    """

    feature_size: int = 960
    max_features: int = 4000
    ratio: float = 0.8
    match_window: int = 3
    min_inliers: int = 30
    min_parallax_px: float = 2.5
    ransac_px: float = 1.0
    min_angle_deg: float = 0.5
    ba_every: int = 4
    max_ba_points: int = 3000


# ------------------------------------------------------------------------------------------------ features


@dataclass
class _Features:
    xy: np.ndarray  # (M, 2) float64 keypoints at the working size
    desc: np.ndarray  # (M, 128) float32 RootSIFT


@dataclass
class _Pair:
    i: int
    j: int
    ki: np.ndarray  # (M,) keypoint indices in frame i of the verified matches
    kj: np.ndarray
    F: np.ndarray | None
    motion_px: float  # median displacement of the matches
    parallax_px: float  # 90th percentile distance to the best homography


def _features(grey: np.ndarray, cfg: CameraConfig) -> _Features:
    sift = cv2.SIFT_create(nfeatures=cfg.max_features)
    kps, desc = sift.detectAndCompute(grey, None)
    if desc is None or len(kps) == 0:
        return _Features(np.zeros((0, 2)), np.zeros((0, 128), np.float32))
    desc = desc / np.maximum(desc.sum(1, keepdims=True), 1e-9)  # RootSIFT: L1-normalise, then square root
    return _Features(np.array([k.pt for k in kps], dtype=np.float64), np.sqrt(desc).astype(np.float32))


def _match(a: _Features, b: _Features, cfg: CameraConfig) -> tuple[np.ndarray, np.ndarray]:
    if len(a.xy) < 8 or len(b.xy) < 8:
        return np.zeros(0, int), np.zeros(0, int)
    knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(a.desc, b.desc, k=2)
    qi, ti = [], []
    for m in knn:
        if len(m) == 2 and m[0].distance < cfg.ratio * m[1].distance:
            qi.append(m[0].queryIdx)
            ti.append(m[0].trainIdx)
    qi, ti = np.array(qi, int), np.array(ti, int)
    # One-to-one: keep the first match of every train keypoint.
    _, first = np.unique(ti, return_index=True)
    return qi[first], ti[first]


def _robust(estimate, *args, fail: tuple, **kwargs):
    """``estimate(*args, **kwargs)`` (an OpenCV robust estimator), or ``fail`` when it finds no model.

    OpenCV 5's USAC estimators (MAGSAC) raise ``cv2.error`` ("!model.empty()") where OpenCV 4 returned None, e.g.
    for the matches of two small frames with too little structure; either way the pair has no model.
    """
    try:
        return estimate(*args, **kwargs)
    except cv2.error:
        return fail


def _verify(i: int, j: int, fa: _Features, fb: _Features, cfg: CameraConfig) -> _Pair | None:
    qi, ti = _match(fa, fb, cfg)
    if len(qi) < cfg.min_inliers:
        return None
    pa, pb = fa.xy[qi], fb.xy[ti]
    motion = float(np.median(np.linalg.norm(pa - pb, axis=1)))
    if motion < 0.5:  # the camera did not move: every match stays put, F is undefined
        return _Pair(i, j, qi, ti, None, motion, 0.0)
    F, mask = _robust(cv2.findFundamentalMat, pa, pb, cv2.USAC_MAGSAC, cfg.ransac_px, 0.9999, 10000, fail=(None, None))
    if F is None or mask is None or F.shape != (3, 3):
        return None
    keep = mask.ravel().astype(bool)
    if keep.sum() < cfg.min_inliers:
        return None
    qi, ti, pa, pb = qi[keep], ti[keep], pa[keep], pb[keep]
    H, _ = _robust(cv2.findHomography, pa, pb, cv2.RANSAC, 2.0 * cfg.ransac_px, fail=(None, None))
    if H is None:
        parallax = float("inf")
    else:
        q = np.c_[pa, np.ones(len(pa))] @ H.T
        parallax = float(np.percentile(np.linalg.norm(q[:, :2] / q[:, 2:] - pb, axis=1), 90))
    return _Pair(i, j, qi, ti, F, motion, parallax)


# ------------------------------------------------------------------------------------------------ focal search


def _essential_cost(pairs: list[_Pair], focal: float, cx: float, cy: float) -> float:
    K = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1.0]])
    cost, weight = 0.0, 0.0
    for p in pairs:
        s = np.linalg.svd(K.T @ p.F @ K, compute_uv=False)
        cost += len(p.ki) * (s[0] - s[1]) / max(s[0] + s[1], 1e-12)
        weight += len(p.ki)
    return cost / max(weight, 1e-12)


def search_focal(pairs: list[_Pair], width: int, height: int) -> float | None:
    """Focal length (pixels at the working size) whose essential matrices ``Kᵀ F K`` are most nearly essential.

    Searches horizontal fields of view from 25° to 120° on a log grid of 80 focal lengths, then refines around the
    best one. Returns None when the motion does not determine it: no pair has a fundamental matrix, the cost
    curve is flat (its minimum within ``MIN_FOCAL_CONTRAST`` of its median, as for a camera moving straight
    forward: on KITTI the contrast is 0.002, on hand-held indoor and forward-facing clips 0.45–0.8), or its
    minimum lies at an end of the range (it would keep falling beyond plausible fields of view).
    """
    from viewshift.geometry import focal_from_fov

    good = [p for p in pairs if p.F is not None]
    if not good:
        return None
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    lo, hi = focal_from_fov(120.0, width), focal_from_fov(25.0, width)
    grid = np.geomspace(lo, hi, 80)
    costs = np.array([_essential_cost(good, f, cx, cy) for f in grid])
    k = int(np.argmin(costs))
    if 1.0 - costs[k] / max(float(np.median(costs)), 1e-12) < MIN_FOCAL_CONTRAST or not 2 <= k < len(grid) - 2:
        return None
    fine = np.geomspace(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)], 41)
    return float(fine[int(np.argmin([_essential_cost(good, f, cx, cy) for f in fine]))])


# ------------------------------------------------------------------------------------------------ bundle adjustment


def _rodrigues(r: np.ndarray) -> np.ndarray:
    """``(N, 3)`` axis-angle vectors to ``(N, 3, 3)`` rotation matrices."""
    theta = np.linalg.norm(r, axis=1)[:, None, None]
    k = r / np.maximum(theta[:, :, 0], 1e-12)
    Kx = np.zeros((len(r), 3, 3))
    Kx[:, 0, 1], Kx[:, 0, 2], Kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    Kx[:, 1, 0], Kx[:, 2, 0], Kx[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    small = theta < 1e-12
    R = np.eye(3) + np.sin(theta) * Kx + (1 - np.cos(theta)) * Kx @ Kx
    return np.where(small, np.eye(3) + _skew(r), R)


def _skew(r: np.ndarray) -> np.ndarray:
    S = np.zeros((len(r), 3, 3))
    S[:, 0, 1], S[:, 0, 2], S[:, 1, 2] = -r[:, 2], r[:, 1], -r[:, 0]
    S[:, 1, 0], S[:, 2, 0], S[:, 2, 1] = r[:, 2], -r[:, 1], r[:, 0]
    return S


def _project(R: np.ndarray, t: np.ndarray, X: np.ndarray, focal: float, cx: float, cy: float) -> np.ndarray:
    """Pixels ``(M, 2)`` of points ``X`` ``(M, 3)`` seen by cameras ``x_c = R X + t`` (``(M, 3, 3)``, ``(M, 3)``)."""
    xc = np.einsum("mij,mj->mi", R, X) + t
    z = np.where(np.abs(xc[:, 2]) < 1e-9, 1e-9, xc[:, 2])
    return np.stack([focal * xc[:, 0] / z + cx, focal * xc[:, 1] / z + cy], 1)


def bundle_adjust(
    rvecs: np.ndarray,
    tvecs: np.ndarray,
    points: np.ndarray,
    obs_cam: np.ndarray,
    obs_pt: np.ndarray,
    obs_xy: np.ndarray,
    focal: float,
    cx: float,
    cy: float,
    *,
    fixed_cam: int,
    refine_focal: bool,
    max_iterations: int = 50,
    huber_px: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Minimise the robust reprojection error over poses, points and optionally the focal length.

    Cameras map world points as ``x_c = R(rvec) X + tvec``; the residual of an observation is its pixel error
    ``π(x_c) - x`` with ``π(x_c) = f (x, y) / z + (c_x, c_y)``, under a Huber loss of scale ``huber_px`` (by
    iteratively reweighted least squares). Levenberg–Marquardt with the Schur complement: the normal equations
    ``[[U, W], [Wᵀ, V]]`` are reduced to the cameras (``S = U - W V⁻¹ Wᵀ``, dense, ``6C + 1`` unknowns, solved
    exactly) since ``V`` is block-diagonal (3×3 per point); the points follow by back-substitution. Pose updates
    are left-multiplied rotations ``R ← exp([ω]ₓ) R`` and ``t ← t + δt``. The camera ``fixed_cam`` keeps its pose
    (it fixes the gauge's rotation and translation; the free scale is held by the damping and fixed afterwards).

    Args:
        rvecs, tvecs: ``(C, 3)`` each.
        points: ``(P, 3)``.
        obs_cam, obs_pt: ``(M,)`` camera and point index of each observation.
        obs_xy: ``(M, 2)`` observed pixels.

    Returns:
        ``(rvecs, tvecs, points, focal)`` after adjustment.
    """
    n_cam, n_pt, m = len(rvecs), len(points), len(obs_cam)
    slot = -np.ones(n_cam, int)
    free = np.array([c for c in range(n_cam) if c != fixed_cam], int)
    slot[free] = np.arange(len(free))
    nc = 6 * len(free) + int(refine_focal)
    dummy = nc  # parameters that do not move (the fixed camera, the focal when given) map here and are dropped
    idx = np.full((m, 7), dummy)
    has = slot[obs_cam] >= 0
    idx[has, :6] = 6 * slot[obs_cam[has], None] + np.arange(6)
    if refine_focal:
        idx[:, 6] = nc - 1
    # Observation pairs sharing a point (for W V⁻¹ Wᵀ), grouped by track length.
    order = np.argsort(obs_pt, kind="stable")
    counts = np.bincount(obs_pt, minlength=n_pt)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pairs_a, pairs_b = [], []
    for k in np.unique(counts[counts > 0]):
        pts_k = np.flatnonzero(counts == k)
        tracks = order[starts[pts_k, None] + np.arange(k)]  # (n_k, k) observation indices
        pairs_a.append(np.repeat(tracks, k, axis=1).ravel())
        pairs_b.append(np.tile(tracks, (1, k)).ravel())
    pa, pb = np.concatenate(pairs_a), np.concatenate(pairs_b)

    R, t, X, f = _rodrigues(rvecs), tvecs.astype(np.float64).copy(), points.astype(np.float64).copy(), float(focal)

    def residuals(R, t, X, f):
        xc = np.einsum("mij,mj->mi", R[obs_cam], X[obs_pt]) + t[obs_cam]
        z = np.where(np.abs(xc[:, 2]) < 1e-9, 1e-9, xc[:, 2])
        return f * xc[:, :2] / z[:, None] + (cx, cy) - obs_xy, xc, z

    def robust_cost(r):
        s = np.linalg.norm(r, axis=1)
        return float(np.sum(np.where(s <= huber_px, 0.5 * s * s, huber_px * (s - 0.5 * huber_px))))

    r, xc, z = residuals(R, t, X, f)
    cost = robust_cost(r)
    lam = 1e-4
    for _ in range(max_iterations):
        s = np.linalg.norm(r, axis=1)
        sw = np.sqrt(np.where(s <= huber_px, 1.0, huber_px / np.maximum(s, 1e-12)))[:, None, None]  # IRLS
        jp = np.zeros((m, 2, 3))
        jp[:, 0, 0] = jp[:, 1, 1] = f / z
        jp[:, 0, 2] = -f * xc[:, 0] / z**2
        jp[:, 1, 2] = -f * xc[:, 1] / z**2
        rx = xc - t[obs_cam]  # R X
        jc = np.zeros((m, 2, 7))
        jc[:, :, :3] = -jp @ _skew(rx)
        jc[:, :, 3:6] = jp
        jc[:, :, 6] = xc[:, :2] / z[:, None]
        jx = jp @ R[obs_cam]
        jc, jx, rw = jc * sw, jx * sw, r[:, :, None] * sw
        U = np.zeros((nc + 1, nc + 1))
        np.add.at(U, (idx[:, :, None], idx[:, None, :]), np.einsum("mki,mkj->mij", jc, jc))
        V = np.zeros((n_pt, 3, 3))
        np.add.at(V, obs_pt, np.einsum("mki,mkj->mij", jx, jx))
        W = np.einsum("mki,mkj->mij", jc, jx)  # (M, 7, 3)
        gc = np.zeros(nc + 1)
        np.add.at(gc, idx, -np.einsum("mki,mk->mi", jc, rw[:, :, 0]))
        gp = np.zeros((n_pt, 3))
        np.add.at(gp, obs_pt, -np.einsum("mki,mk->mi", jx, rw[:, :, 0]))
        improved = False
        for _retry in range(8):
            Vd = V + lam * (V * np.eye(3)) + 1e-9 * np.eye(3)
            Vinv = np.linalg.inv(Vd)
            Ud = U + lam * np.diag(np.diag(U)) + 1e-9 * np.eye(nc + 1)
            WVi = np.einsum("mij,mjk->mik", W, Vinv[obs_pt])  # (M, 7, 3)
            S = Ud.copy()
            np.add.at(S, (idx[pa][:, :, None], idx[pb][:, None, :]), -np.einsum("pij,pkj->pik", WVi[pa], W[pb]))
            rhs = gc.copy()
            np.add.at(rhs, idx, -np.einsum("mij,mj->mi", WVi, gp[obs_pt]))
            try:
                dc = np.linalg.solve(S[:nc, :nc], rhs[:nc]) if nc else np.zeros(0)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            dc_full = np.append(dc, 0.0)
            back = np.zeros((n_pt, 3))
            np.add.at(back, obs_pt, np.einsum("mij,mi->mj", W, dc_full[idx]))
            dp = np.einsum("pij,pj->pi", Vinv, gp - back)
            R_new, t_new = R.copy(), t.copy()
            if len(free):
                d = dc[: 6 * len(free)].reshape(-1, 6)
                R_new[free] = _rodrigues(d[:, :3]) @ R[free]
                t_new[free] = t[free] + d[:, 3:]
            f_new = f + (dc[-1] if refine_focal else 0.0)
            X_new = X + dp
            r_new, xc_new, z_new = residuals(R_new, t_new, X_new, f_new)
            new_cost = robust_cost(r_new)
            if np.isfinite(new_cost) and new_cost < cost and f_new > 0:
                improved = True
                rel = (cost - new_cost) / max(cost, 1e-12)
                R, t, X, f, r, xc, z, cost = R_new, t_new, X_new, f_new, r_new, xc_new, z_new, new_cost
                lam = max(lam / 3, 1e-9)
                break
            lam *= 4
        if not improved or rel < 1e-7:
            break
    rvecs_out = np.stack([cv2.Rodrigues(Ri)[0].ravel() for Ri in R])
    return rvecs_out, t, X, f


# ------------------------------------------------------------------------------------------------ reconstruction


class _Reconstruction:
    """Incremental state: poses (world→camera), points, observations, keypoint→point links."""

    def __init__(self, feats: list[_Features], pairs: dict[tuple[int, int], _Pair], focal: float, cx, cy, cfg):
        self.feats, self.pairs, self.cfg = feats, pairs, cfg
        self.focal, self.cx, self.cy = focal, cx, cy
        n = len(feats)
        self.rvec = np.zeros((n, 3))
        self.tvec = np.zeros((n, 3))
        self.registered = np.zeros(n, bool)
        self.kp_pt = [-np.ones(len(f.xy), int) for f in feats]
        self.points = np.zeros((0, 3))
        self.obs_cam = np.zeros(0, int)
        self.obs_pt = np.zeros(0, int)
        self.obs_kp = np.zeros(0, int)

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.focal, 0, self.cx], [0, self.focal, self.cy], [0, 0, 1.0]])

    def pose(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return _rodrigues(self.rvec[i : i + 1])[0], self.tvec[i]

    def pair(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Verified keypoint indices ``(in i, in j)`` of frames i and j, or None."""
        if (i, j) in self.pairs:
            p = self.pairs[(i, j)]
            return p.ki, p.kj
        if (j, i) in self.pairs:
            p = self.pairs[(j, i)]
            return p.kj, p.ki
        return None

    def _add_obs(self, cam: int, kps: np.ndarray, pts: np.ndarray) -> None:
        self.obs_cam = np.r_[self.obs_cam, np.full(len(kps), cam)]
        self.obs_pt = np.r_[self.obs_pt, pts]
        self.obs_kp = np.r_[self.obs_kp, kps]
        self.kp_pt[cam][kps] = pts

    def _reproj(self, cam: int, X: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        R, t = self.pose(cam)
        xc = X @ R.T + t
        err = np.linalg.norm(
            _project(
                np.broadcast_to(R, (len(X), 3, 3)), np.broadcast_to(t, (len(X), 3)), X, self.focal, self.cx, self.cy
            )
            - xy,
            axis=1,
        )
        return err, xc[:, 2]

    def triangulate(self, i: int, j: int) -> int:
        """Triangulate the verified matches of frames i and j that have no point yet; returns how many were added."""
        got = self.pair(i, j)
        if got is None:
            return 0
        ki, kj = got
        # Matches where one side already has a point: the other side observes it (if it reprojects well).
        thr = 3.0 * self.cfg.ransac_px + 1.0
        for a, b, ka, kb in ((i, j, ki, kj), (j, i, kj, ki)):
            sel = (self.kp_pt[a][ka] >= 0) & (self.kp_pt[b][kb] < 0)
            if sel.any():
                pts = self.kp_pt[a][ka[sel]]
                err, z = self._reproj(b, self.points[pts], self.feats[b].xy[kb[sel]])
                ok = (err < thr) & (z > 0)
                kb_ok, pts_ok = kb[sel][ok], pts[ok]
                _, first = np.unique(pts_ok, return_index=True)  # one keypoint per point in a frame
                self._add_obs(b, kb_ok[first], pts_ok[first])
        sel = (self.kp_pt[i][ki] < 0) & (self.kp_pt[j][kj] < 0)
        if sel.sum() == 0:
            return 0
        ki, kj = ki[sel], kj[sel]
        Ri, ti = self.pose(i)
        Rj, tj = self.pose(j)
        K = self.K
        Pi, Pj = K @ np.c_[Ri, ti], K @ np.c_[Rj, tj]
        xi, xj = self.feats[i].xy[ki], self.feats[j].xy[kj]
        Xh = cv2.triangulatePoints(Pi, Pj, xi.T.astype(np.float64), xj.T.astype(np.float64))
        X = (Xh[:3] / np.where(np.abs(Xh[3]) < 1e-12, 1e-12, Xh[3])).T
        ei, zi = self._reproj(i, X, xi)
        ej, zj = self._reproj(j, X, xj)
        ci, cj = -Ri.T @ ti, -Rj.T @ tj
        ray_i, ray_j = X - ci, X - cj
        cos = (ray_i * ray_j).sum(1) / np.maximum(np.linalg.norm(ray_i, axis=1) * np.linalg.norm(ray_j, axis=1), 1e-12)
        angle = np.degrees(np.arccos(np.clip(cos, -1, 1)))
        ok = (zi > 0) & (zj > 0) & (ei < thr) & (ej < thr) & (angle >= self.cfg.min_angle_deg) & np.isfinite(X).all(1)
        if not ok.any():
            return 0
        start = len(self.points)
        self.points = np.r_[self.points, X[ok]]
        ids = np.arange(start, start + int(ok.sum()))
        self._add_obs(i, ki[ok], ids)
        self._add_obs(j, kj[ok], ids)
        return int(ok.sum())

    def correspondences(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """2-D keypoints of frame j and the already triangulated points they match: ``(kps (M,), pts (M,))``."""
        kps, pts = [], []
        for i in np.flatnonzero(self.registered):
            got = self.pair(int(i), j)
            if got is None:
                continue
            ki, kj = got
            sel = self.kp_pt[int(i)][ki] >= 0
            kps.append(kj[sel])
            pts.append(self.kp_pt[int(i)][ki[sel]])
        if not kps:
            return np.zeros(0, int), np.zeros(0, int)
        kps, pts = np.concatenate(kps), np.concatenate(pts)
        _, first = np.unique(kps, return_index=True)
        return kps[first], pts[first]

    def register(self, j: int) -> bool:
        kps, pts = self.correspondences(j)
        if len(kps) < 12:
            return False
        obj, img = self.points[pts].astype(np.float64), self.feats[j].xy[kps].astype(np.float64)
        ok, rvec, tvec, inl = _robust(
            cv2.solvePnPRansac, obj, img, self.K, None, iterationsCount=2000,
            reprojectionError=3.0 * self.cfg.ransac_px, confidence=0.9999, flags=cv2.SOLVEPNP_SQPNP,
            fail=(False, None, None, None),
        )  # fmt: skip
        if not ok or inl is None or len(inl) < 12:
            return False
        inl = inl.ravel()
        rvec, tvec = cv2.solvePnPRefineLM(obj[inl], img[inl], self.K, None, rvec, tvec)
        self.rvec[j], self.tvec[j] = rvec.ravel(), tvec.ravel()
        self.registered[j] = True
        self._add_obs(j, kps[inl], pts[inl])
        return True

    def adjust(self, fixed: int, refine_focal: bool, max_iterations: int = 50) -> None:
        """Bundle adjustment of the registered cameras and (at most ``max_ba_points``, the most observed) points;
        the other points are then re-triangulated from all their observations with the adjusted cameras."""
        cams = np.flatnonzero(self.registered)
        use = self.registered[self.obs_cam]
        counts = np.bincount(self.obs_pt[use], minlength=len(self.points))
        use &= counts[self.obs_pt] >= 2
        if use.sum() < 10:
            return
        pts_used = np.unique(self.obs_pt[use])
        rest = np.zeros(0, int)
        if len(pts_used) > self.cfg.max_ba_points:
            jitter = np.random.default_rng(0).random(len(pts_used))  # ties broken at random, reproducibly
            order = np.lexsort((jitter, -counts[pts_used]))
            pts_used, rest = (
                np.sort(pts_used[order[: self.cfg.max_ba_points]]),
                pts_used[order[self.cfg.max_ba_points :]],
            )
            keep = np.zeros(len(self.points), bool)
            keep[pts_used] = True
            use &= keep[self.obs_pt]
        pt_slot = -np.ones(len(self.points), int)
        pt_slot[pts_used] = np.arange(len(pts_used))
        cam_slot = -np.ones(len(self.registered), int)
        cam_slot[cams] = np.arange(len(cams))
        oc, op = self.obs_cam[use], self.obs_pt[use]
        xy = np.stack([self.feats[c].xy[k] for c, k in zip(oc, self.obs_kp[use], strict=True)])
        r, t, X, f = bundle_adjust(
            self.rvec[cams], self.tvec[cams], self.points[pts_used], cam_slot[oc], pt_slot[op], xy,
            self.focal, self.cx, self.cy, fixed_cam=int(cam_slot[fixed]), refine_focal=refine_focal,
            max_iterations=max_iterations,
        )  # fmt: skip
        self.rvec[cams], self.tvec[cams], self.points[pts_used], self.focal = r, t, X, f
        if len(rest):
            self.retriangulate(rest)
        self.drop_outliers()

    def retriangulate(self, pts: np.ndarray) -> None:
        """Linear multi-view triangulation (DLT) of points ``pts`` from all their registered observations.

        Each observation ``(u, v)`` of a camera ``P`` gives the rows ``u P_3 - P_1`` and ``v P_3 - P_2``; the point
        is the eigenvector of the smallest eigenvalue of the summed ``AᵀA`` (rows normalised).
        """
        sel = np.isin(self.obs_pt, pts) & self.registered[self.obs_cam]
        R = _rodrigues(self.rvec)
        P = self.K @ np.concatenate([R, self.tvec[:, :, None]], 2)  # (C, 3, 4)
        oc, op = self.obs_cam[sel], self.obs_pt[sel]
        xy = np.stack([self.feats[c].xy[k] for c, k in zip(oc, self.obs_kp[sel], strict=True)])
        Pc = P[oc]
        rows = np.concatenate([xy[:, :1] * Pc[:, 2] - Pc[:, 0], xy[:, 1:] * Pc[:, 2] - Pc[:, 1]], 0)  # (2M, 4)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True).clip(1e-12)
        owner = np.concatenate([op, op])
        ata = np.zeros((len(self.points), 4, 4))
        np.add.at(ata, owner, rows[:, :, None] * rows[:, None, :])
        _, vecs = np.linalg.eigh(ata[pts])
        Xh = vecs[:, :, 0]
        ok = np.abs(Xh[:, 3]) > 1e-12
        self.points[pts[ok]] = Xh[ok, :3] / Xh[ok, 3:]

    def residuals(self) -> np.ndarray:
        """``(M,)`` reprojection error of every observation of a registered frame."""
        use = self.registered[self.obs_cam]
        R = _rodrigues(self.rvec)
        xy = np.stack([self.feats[c].xy[k] for c, k in zip(self.obs_cam, self.obs_kp, strict=True)])
        proj = _project(
            R[self.obs_cam], self.tvec[self.obs_cam], self.points[self.obs_pt], self.focal, self.cx, self.cy
        )
        err = np.linalg.norm(proj - xy, axis=1)
        return np.where(use, err, np.inf)

    def drop_outliers(self, max_px: float | None = None) -> None:
        """Remove observations reprojecting worse than ``max_px`` and points left with fewer than two."""
        max_px = max_px or 4.0 * self.cfg.ransac_px
        R = _rodrigues(self.rvec)
        xc = np.einsum("mij,mj->mi", R[self.obs_cam], self.points[self.obs_pt]) + self.tvec[self.obs_cam]
        bad = (self.residuals() > max_px) | (xc[:, 2] <= 0)
        bad &= self.registered[self.obs_cam]
        for c, k in zip(self.obs_cam[bad], self.obs_kp[bad], strict=True):
            self.kp_pt[c][k] = -1
        keep = ~bad
        self.obs_cam, self.obs_pt, self.obs_kp = self.obs_cam[keep], self.obs_pt[keep], self.obs_kp[keep]
        counts = np.bincount(self.obs_pt, minlength=len(self.points))
        lonely = counts[self.obs_pt] < 2
        for c, k in zip(self.obs_cam[lonely], self.obs_kp[lonely], strict=True):
            self.kp_pt[c][k] = -1
        keep = ~lonely
        self.obs_cam, self.obs_pt, self.obs_kp = self.obs_cam[keep], self.obs_pt[keep], self.obs_kp[keep]


def _bridge(rec: _Reconstruction, todo: list[int], bridged: set[int]) -> bool:
    """Match the frames of ``todo`` not bridged before against every registered frame outside the match window,
    adding the verified pairs to ``rec.pairs``; True when a pair was added.

    A capture with a jump (the fox orbit's frames 30 and 31 share no feature) breaks the chain of neighbouring
    pairs; frames after it often see what earlier frames saw.
    """
    added = False
    for j in todo:
        if j in bridged:
            continue
        bridged.add(j)
        for i in map(int, np.flatnonzero(rec.registered)):
            a, b = min(i, j), max(i, j)
            if (a, b) in rec.pairs:
                continue
            p = _verify(a, b, rec.feats[a], rec.feats[b], rec.cfg)
            if p is not None:
                rec.pairs[(a, b)] = p
                added = True
    return added


def _initial_pair(rec: _Reconstruction, candidates: list[_Pair]) -> bool:
    """Start from the best pair: essential matrix, relative pose, triangulation. Returns False if it failed."""
    for p in candidates:
        xi, xj = rec.feats[p.i].xy[p.ki], rec.feats[p.j].xy[p.kj]
        E, mask = _robust(
            cv2.findEssentialMat, xi, xj, rec.K, cv2.USAC_MAGSAC, 0.9999, rec.cfg.ransac_px, fail=(None, None)
        )
        if E is None or E.shape != (3, 3):
            continue
        n, R, t, mask2 = cv2.recoverPose(E, xi, xj, rec.K, mask=mask.copy())
        if n < rec.cfg.min_inliers:
            continue
        rec.rvec[p.i], rec.tvec[p.i] = 0.0, 0.0
        rec.rvec[p.j], rec.tvec[p.j] = cv2.Rodrigues(R)[0].ravel(), t.ravel()
        rec.registered[[p.i, p.j]] = True
        if rec.triangulate(p.i, p.j) >= rec.cfg.min_inliers:
            return True
        rec.registered[:] = False
        rec.points = np.zeros((0, 3))
        rec.obs_cam = rec.obs_pt = rec.obs_kp = np.zeros(0, int)
        rec.kp_pt = [-np.ones(len(f.xy), int) for f in rec.feats]
    return False


def _working_size(h: int, w: int, feature_size: int) -> float:
    return min(1.0, feature_size / max(h, w))


def estimate_cameras(
    images: list[np.ndarray],
    *,
    focal: float | None = None,
    config: CameraConfig | None = None,
) -> Cameras:
    """Estimate the intrinsics and camera poses of 2–50 frames of one static scene.

    Args:
        images: ``H×W×3 uint8`` RGB frames of one size, in capture order (neighbours in the list are matched).
        focal: focal length in pixels at the frames' size; None searches for it (see the module docstring).
        config: :class:`CameraConfig` (defaults otherwise).

    Returns:
        :class:`Cameras` with frame 0 as the world and relative scale (median depth of frame 0's points is 1).

    Raises:
        InputError: fewer than two frames, frames of different sizes, no pair of frames with parallax
            ("no parallax, no depth": the camera only turned, did not move, or the scene is one plane), or
            frame 0 shares too few features with the others.
    """
    cfg = config or CameraConfig()
    check_frames(images)
    h, w = images[0].shape[:2]
    s = _working_size(h, w, cfg.feature_size)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    greys = [
        cv2.resize(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
        if s < 1
        else cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)
        for im in images
    ]
    sx, sy = size[0] / w, size[1] / h
    feats = [_features(g, cfg) for g in greys]
    n = len(images)
    window = n if n <= 8 else cfg.match_window
    pairs: dict[tuple[int, int], _Pair] = {}
    for i in range(n):
        for j in range(i + 1, min(n, i + window + 1)):
            p = _verify(i, j, feats[i], feats[j], cfg)
            if p is not None:
                pairs[(i, j)] = p
    moving = [p for p in pairs.values() if p.F is not None]
    with_parallax = [p for p in moving if p.parallax_px >= cfg.min_parallax_px]
    if not with_parallax:
        if not pairs:
            raise InputError(
                f"the {n} frames share too few features to be matched (fewer than {cfg.min_inliers} per pair); "
                "give overlapping frames of one static scene"
            )
        worst = max((p.parallax_px for p in moving), default=0.0)
        raise InputError(
            f"{NO_PARALLAX}: the frames differ only by a camera turn or not at all (largest parallax "
            f"{worst:.1f} px < {cfg.min_parallax_px} px); move the camera sideways between frames"
        )
    cx, cy = (size[0] - 1) / 2.0, (size[1] - 1) / 2.0
    if focal is not None:
        if not (np.isfinite(focal) and focal > 0):
            raise InputError(f"focal must be a positive number of pixels, got {focal}")
        f0, refine, source = float(focal) * sx, False, "given"
    else:
        found = search_focal(with_parallax, size[0], size[1])
        if found is None:  # the motion does not determine the focal length: assume the default field of view
            from viewshift.geometry import DEFAULT_FOV_DEG, focal_from_fov

            f0, refine, source = focal_from_fov(DEFAULT_FOV_DEG, size[0]), False, "default"
        else:
            f0, refine, source = found, True, "search"
    rec = _Reconstruction(feats, pairs, f0, cx, cy, cfg)
    order = sorted(with_parallax, key=lambda p: -len(p.ki) * min(p.parallax_px, 20.0))
    if not _initial_pair(rec, order):
        raise InputError(f"{NO_PARALLAX}: no pair of frames gives a reliable relative pose; move the camera sideways")
    first = int(np.flatnonzero(rec.registered)[0])
    rec.adjust(first, refine)
    since_ba = 0
    failed: set[int] = set()
    bridged: set[int] = set()
    while True:
        todo = [j for j in range(n) if not rec.registered[j] and j not in failed]
        if not todo:
            break
        counts = {j: len(rec.correspondences(j)[0]) for j in todo}
        j = max(todo, key=lambda k: counts[k])
        if counts[j] < 12:
            if _bridge(rec, todo, bridged):
                continue
            break
        if not rec.register(j):
            failed.add(j)
            continue
        for i in np.flatnonzero(rec.registered):
            if i != j:
                rec.triangulate(int(i), j)
        since_ba += 1
        if since_ba >= cfg.ba_every:
            rec.adjust(first, refine, max_iterations=20)
            since_ba = 0
        failed.clear()  # a new frame may give the failed ones more points
    rec.adjust(first, refine)
    if not rec.registered[0]:
        raise InputError(
            "frame 0 shares too few features with the other frames to get a pose; drop it or reorder the frames"
        )
    return _to_cameras(rec, w, h, sx, sy, source)


def _to_cameras(rec: _Reconstruction, w: int, h: int, sx: float, sy: float, source: str) -> Cameras:
    n = len(rec.registered)
    R = _rodrigues(rec.rvec)
    cam_T_world = np.tile(np.eye(4), (n, 1, 1))
    cam_T_world[:, :3, :3], cam_T_world[:, :3, 3] = R, rec.tvec
    world_T_cam = np.linalg.inv(cam_T_world)
    # Re-base on frame 0 and fix the scale: median depth of frame 0's points is 1.
    base = cam_T_world[0].copy()
    world_T_cam = base @ world_T_cam
    pts = rec.points @ base[:3, :3].T + base[:3, 3]
    seen = np.unique(rec.obs_pt[rec.obs_cam == 0])
    z = pts[seen, 2] if len(seen) >= 10 else pts[:, 2]
    z = z[z > 0]
    unit = float(np.median(z)) if len(z) else 1.0
    world_T_cam[:, :3, 3] /= unit
    pts = pts / unit
    counts = np.bincount(rec.obs_pt, minlength=len(rec.points))
    used = counts >= 2
    registered = rec.registered.copy()
    idx = np.flatnonzero(registered)
    for i in np.flatnonzero(~registered):
        world_T_cam[i] = world_T_cam[idx[np.argmin(np.abs(idx - i))]]
    err = rec.residuals()
    err = err[np.isfinite(err)]
    rms = float(np.sqrt(np.mean(err**2))) / sx if len(err) else float("nan")
    K = np.array([[rec.focal / sx, 0, (w - 1) / 2.0], [0, rec.focal / sy, (h - 1) / 2.0], [0, 0, 1.0]])
    return Cameras(
        K=K,
        world_T_cam=world_T_cam,
        scale="relative",
        points=pts[used],
        reprojection_px=rms,
        registered=registered,
        focal_source=source,
        point_frames=counts[used].astype(np.int64),
    )
