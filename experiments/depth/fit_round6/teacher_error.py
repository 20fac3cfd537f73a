"""How far a depth network is from a fit's geometric teacher, per teacher frame: the confidence-weighted mean
``|log(s d) - log d_geo|`` over the teacher's known pixels with ``s`` each frame's own (weighted median) scale
(shape error), and with the model's saved global scale (shape and distance error).

    python experiments/depth/fit_round6/teacher_error.py RUN_DIR CLIP MODEL...

RUN_DIR holds the fit's ``teacher.npz`` (the same for every seed of a clip); MODEL is any depth model file.
"""

from __future__ import annotations

import math
import sys

import cv2
import numpy as np
import torch

from viewshift.depth.builtin import load_depth_network
from viewshift.io import read_image
from viewshift.learn.data import read_clip


def main() -> int:
    run, clip, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    torch.set_num_threads(2)
    z = np.load(f"{run}/teacher.npz")
    teacher = {int(k[1:]): (z[k], z["c" + k[1:]]) for k in z.files if k.startswith("d")}
    frames = read_clip(clip).frames
    h, w = next(iter(teacher.values()))[0].shape
    for m in models:
        net, _, meta = load_depth_network(m)
        rows = []
        for k, (d_geo, conf) in sorted(teacher.items()):
            im = cv2.resize(read_image(frames[k]).rgb, (w, h), interpolation=cv2.INTER_AREA)
            with torch.no_grad():
                d = net(torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255)[0][0, 0].double().numpy()
            ok = np.isfinite(d_geo) & (conf > 0)
            lr, wt = np.log(d_geo[ok]) - np.log(d[ok]), conf[ok]
            order = np.argsort(lr)
            cw = np.cumsum(wt[order])
            own = lr[order][np.searchsorted(cw, cw[-1] / 2)]
            glob = math.log(meta["scale"]) if "scale" in meta else float("nan")
            rows.append((k, (wt * np.abs(lr - own)).sum() / ok.sum(), (wt * np.abs(lr - glob)).sum() / ok.sum(), own))
        a = np.array([r[1:] for r in rows])
        print(
            f"{m}: shape error {a[:, 0].mean():.3f}, with the global scale {a[:, 1].mean():.3f}, "
            f"per-frame scale {math.exp(a[:, 2].min()):.2f}-{math.exp(a[:, 2].max()):.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
