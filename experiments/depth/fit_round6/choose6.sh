#!/bin/sh
# Round 6, held-out rule 2 (README.md): the 18 models of the held-out table scored again with fill_choose beside
# the plain fills, then multiview_eval's chosen-fill column (AbsRel against ground truth). One process at a time,
# from a worktree at the rule's commit; the fox and the KITTI turn first.
W=/work/runs/lead/wt9
cd $W
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --skip-fit --also-both --also-choose --work /work/runs/lead/fit5 -o /work/runs/lead/choose6.json"
for clip in fox kitti-turn 7scenes kitti06 flower; do
  for s in 0 1 2; do $B --clips $clip --set seed=$s --tag=-s$s; done
done
$B --clips flower --poses estimate --set seed=0 --tag=-s0-repeat
for s in 1 2; do $B --clips flower --poses estimate --set seed=$s --tag=-s$s; done
nice -n 5 env PYTHONPATH=$W python bench/multiview_eval.py --threads 2 --out-dir /work/runs/lead/mv_choose
echo DONE
