#!/bin/sh
# Round 7's held-out runs (README.md): the undistorted fox, seeds 0-2, one process at a time, from a worktree at
# the rule's commit. The clip is converted by the first run into /work/runs/lead/fit7/fox/clip.
W=/work/runs/lead/wt10
cd $W
B="nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 2 --minutes 5 --also-both --work /work/runs/lead/fit7 -o /work/runs/lead/fox7.json"
for s in 0 1 2; do $B --clips fox --set seed=$s --tag=-s$s; done
echo DONE
