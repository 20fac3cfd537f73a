#!/bin/sh
# Round 6 (README.md): seed 0 of every row fitted again, seeds 1 and 2 (round 5's models) scored again, one process
# at a time, from a worktree at this round's code commit. The fox and the KITTI turn first.
W=/work/runs/lead/wt6
cd $W
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --minutes 5 --work /work/runs/lead/fit5 -o /work/runs/lead/seeds6.json"
for clip in fox kitti-turn 7scenes kitti06 flower; do
  $B --clips $clip --set seed=0 --tag=-s0
  for s in 1 2; do $B --clips $clip --skip-fit --set seed=$s --tag=-s$s; done
done
$B --clips flower --poses estimate --set seed=0 --tag=-s0
for s in 1 2; do $B --clips flower --poses estimate --skip-fit --set seed=$s --tag=-s$s; done
echo DONE
