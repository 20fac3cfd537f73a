#!/bin/sh
# Round 8, held-out rule 2 (README.md): the 18 models scored with --also-both, the fill's cost check on (the
# default). One process at a time, from a worktree at the rule's commit.
W=/work/runs/lead/wt12
cd $W
O=/work/runs/lead/both8.json
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --skip-fit --also-both -o $O"
for s in 0 1 2; do $B --work /work/runs/lead/fit5 --clips kitti-turn --set seed=$s --tag=-s$s; done
for s in 0 1 2; do $B --work /work/runs/lead/fit7 --clips fox --set seed=$s --tag=-s$s; done
for clip in 7scenes kitti06 flower; do
  for s in 0 1 2; do $B --work /work/runs/lead/fit5 --clips $clip --set seed=$s --tag=-s$s; done
done
$B --work /work/runs/lead/fit5 --clips flower --poses estimate --set seed=0 --tag=-s0-repeat
for s in 1 2; do $B --work /work/runs/lead/fit5 --clips flower --poses estimate --set seed=$s --tag=-s$s; done
echo DONE
