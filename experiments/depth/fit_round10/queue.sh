#!/bin/sh
# Round 10's held-out runs (README.md, "Held-out rule"): the six rows x seeds 0-2, 600-step fits with the defaults
# at one thread, each scored on its held-out frames with and without the carried fill. Two lanes at once, each one
# process at a time, from a worktree at the rule's commit; the results go to this folder of the main checkout, and
# runs already there are skipped (a queue cut short by the end of a session is continued by running it again).
W=/work/runs/r10/wt
OUT=/work/main/experiments/depth/fit_round10
export VIEWSHIFT_SHARED_DATA=/work/shared/data OMP_NUM_THREADS=1  # no ../shared beside the worktree
cd $W
run() {  # run LANE CLIP SEED POSES
  key="$2/$4-s$3"
  if python -c "import json,sys; sys.exit(0 if '$key' in json.load(open('$OUT/heldout-$1.json')) else 1)" 2>/dev/null
  then echo "skip $key"; return; fi
  nice -n 5 env PYTHONPATH=$W python bench/depth_fit_clips.py --threads 1 --steps 600 --no-geometric \
    --work /work/runs/r10/fitq --clips $2 --poses $4 --set seed=$3 --tag=-s$3 -o /work/runs/r10/fits-$1.json
  nice -n 5 env PYTHONPATH=$W python experiments/depth/fit_round10/carried_fill.py --held-out \
    --work /work/runs/r10/fitq --clips $2 --poses $4 --tags=-s$3 -o $OUT/heldout-$1.json
}
lane_a() {
  for s in 0 1 2; do run a fox $s clip; done
  for s in 0 1 2; do run a kitti-turn $s clip; done
  run a flower 0 estimate
  run a flower 2 estimate
  echo DONE
}
lane_b() {
  for clip in 7scenes kitti06 flower; do
    for s in 0 1 2; do run b $clip $s clip; done
  done
  run b flower 1 estimate
  echo DONE
}
mkdir -p /work/runs/r10
lane_a > /work/runs/r10/lane_a.log 2>&1 &
lane_b > /work/runs/r10/lane_b.log 2>&1 &
wait
