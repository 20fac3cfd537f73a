"""Do the fit's refined poses help or hurt the render of held-out frames? (round 3)

    nice -n 10 python experiments/depth/fit_round3/pose_drift.py /work/runs/G/fit-clips 7scenes fox ...

For each held-out frame k (every 4th), renders it from frame k-1 with the built-in depth (median-scaled to the
fitted depth) and the plane at the fitted median, once with the run's refined pose of the source and once with
its initial pose (the target keeps its initial pose either way: held-out frames get no correction). Prints the
mean PSNR over the pixels both cover.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from depth_fit_clips import psnr  # noqa: E402

from viewshift.depth.builtin import BuiltinDepth  # noqa: E402
from viewshift.io import read_image  # noqa: E402
from viewshift.learn.data import read_clip  # noqa: E402
from viewshift.render.view import render_view  # noqa: E402

torch.set_num_threads(1)
root = Path(sys.argv[1])
builtin = BuiltinDepth()
for name in sys.argv[2:]:
    work = root / name
    model = sorted(work.glob("fitted-*.pt"))[0]  # fitted-clip.pt before fitted-estimate.pt
    z = np.load(str(model) + ".run/cameras.npz")
    W0, W1, K = z["world_T_cam_initial"], z["world_T_cam"], torch.from_numpy(z["K"]).float()[None]
    fitted = BuiltinDepth(model)
    rgb = [read_image(p).rgb for p in read_clip(work / "clip").frames]
    rows = {"builtin": ([], []), "plane": ([], []), "fitted": ([], [])}
    for k in range(3, len(rgb), 4):
        s = k - 1
        d_f = fitted.estimate(rgb[s]).depth * float(fitted.meta["scale"])
        med = float(np.median(d_f))
        d_b = builtin.estimate(rgb[s]).depth
        depths = {"builtin": d_b * med / np.median(d_b), "plane": np.full_like(d_f, med), "fitted": d_f}
        img = torch.from_numpy(rgb[s].copy()).permute(2, 0, 1)[None].float() / 255
        tgt = rgb[k].astype(np.float32) / 255
        outs = {}
        mask = np.ones(tgt.shape[:2], bool)
        for m, d in depths.items():
            for j, W in enumerate((W1, W0)):
                T = torch.from_numpy(np.linalg.inv(W0[k]) @ W[s]).float()[None]
                o = render_view(img, torch.from_numpy(d).float()[None, None], K, T)
                outs[m, j] = o.image[0].permute(1, 2, 0).numpy()
                mask &= ~o.holes[0, 0].numpy()
        for m in depths:
            for j in (0, 1):
                rows[m][j].append(psnr(outs[m, j], tgt, mask))
    print(name, {m: {"refined": round(np.mean(a), 2), "initial": round(np.mean(b), 2)} for m, (a, b) in rows.items()})
