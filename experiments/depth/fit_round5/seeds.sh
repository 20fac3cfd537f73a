#!/bin/sh
# Round 5: the fit table's six rows again with seeds 1 and 2 (seed 0 is docs/depth/fit.json), one fit at a time on
# the quiet machine, from a worktree at the commit the table was measured with (fba104e), so edits made meanwhile in
# the main tree cannot reach these runs. The narrow rows (fox, KITTI turn) first.
W=/work/runs/lead/wt5
cd $W
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --minutes 5 --work /work/runs/lead/fit5 -o /work/runs/lead/seeds.json"
for clip in fox kitti-turn; do
  for s in 1 2; do $B --clips $clip --set seed=$s --tag=-s$s; done
done
for clip in 7scenes kitti06 flower; do
  for s in 1 2; do $B --clips $clip --set seed=$s --tag=-s$s; done
done
for s in 1 2; do $B --clips flower --poses estimate --set seed=$s --tag=-s$s; done
echo DONE
