#!/bin/sh
# Round 8, held-out rule (README.md): the 18 models of the three-seed table scored with --also-cost, then
# multiview_eval's cost-checked column. One process at a time, from a worktree at the rule's commit.
W=/work/runs/lead/wt11
cd $W
O=/work/runs/lead/cost8.json
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --skip-fit --also-cost -o $O"
for s in 0 1 2; do $B --work /work/runs/lead/fit7 --clips fox --set seed=$s --tag=-s$s; done
for clip in kitti-turn 7scenes kitti06 flower; do
  for s in 0 1 2; do $B --work /work/runs/lead/fit5 --clips $clip --set seed=$s --tag=-s$s; done
done
$B --work /work/runs/lead/fit5 --clips flower --poses estimate --set seed=0 --tag=-s0-repeat
for s in 1 2; do $B --work /work/runs/lead/fit5 --clips flower --poses estimate --set seed=$s --tag=-s$s; done
nice -n 5 env PYTHONPATH=$W python bench/multiview_eval.py --threads 2 --out-dir /work/runs/lead/mv_cost
echo DONE
