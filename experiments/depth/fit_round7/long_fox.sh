#!/bin/sh
# exploratory: a 15-minute fit of the undistorted fox (seed 1), then validation frames for it and the 5-minute seed-1 model
cd /work/main  # the main tree, at 7d75c72 when it ran
nice -n 5 python -c "
from pathlib import Path
from viewshift.learn.fit import fit_clip
w = Path('/work/runs/lead/fit7/fox')
r = fit_clip(w / 'clip', w / 'fitted-clip-s1-15min.pt', seconds=900, threads=2, holdout_every=4, poses='clip', resume=False, overwrite=True, progress=False, seed=1)
print({k: v for k, v in r.items() if k != 'neighbours'})
"
nice -n 5 python experiments/depth/fit_round5/fill_validation.py --work /work/runs/lead/fit7 --clips fox --tags=-s1-15min,-s1 --only geometric,fused -o /work/runs/lead/fv_long.json
echo DONE
