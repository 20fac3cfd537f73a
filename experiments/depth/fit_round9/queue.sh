#!/bin/sh
# Round 9's held-out runs (README.md, "Held-out rule"): the six rows x seeds 0-2 fitted again with Monodepth2's
# per-pixel minimum reprojection and auto-masking, 600 steps each, scored with --also-both. Two lanes at once,
# each one process at a time at one thread, from a worktree at the rule's commit.
W=/work/runs/r9/wt
export VIEWSHIFT_SHARED_DATA=/work/shared/data  # no ../shared beside the worktree
cd $W
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 1 --steps 600 --also-both --work /work/runs/r9/fit9 --set min_reprojection=true --set automask=true"
lane_a() {
  for s in 0 1 2; do $B -o /work/runs/r9/md2a.json --clips kitti-turn --set seed=$s --tag=-s$s; done
  for s in 0 1 2; do $B -o /work/runs/r9/md2a.json --clips fox --set seed=$s --tag=-s$s; done
  $B -o /work/runs/r9/md2a.json --clips flower --poses estimate --set seed=0 --tag=-s0
  echo DONE
}
lane_b() {
  for clip in 7scenes kitti06 flower; do
    for s in 0 1 2; do $B -o /work/runs/r9/md2b.json --clips $clip --set seed=$s --tag=-s$s; done
  done
  for s in 1 2; do $B -o /work/runs/r9/md2b.json --clips flower --poses estimate --set seed=$s --tag=-s$s; done
  echo DONE
}
lane_a > /work/runs/r9/lane_a.log 2>&1 &
lane_b > /work/runs/r9/lane_b.log 2>&1 &
wait
