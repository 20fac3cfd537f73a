#!/bin/sh
# Round 6, section 6 (validation frames only): the fills with fill_choose (27958a2) beside the plain ones, on
# round 5's seed-1 models of the KITTI turn and the fox, then seed 2. Runs after the round-6 repeat.
W=/work/runs/lead/wt8
while ! grep -q '^DONE' /work/runs/lead/repeat6.log; do sleep 10; done
cd $W
for tag in -s1 -s2; do
  for clip in kitti-turn fox; do
    nice -n 5 env PYTHONPATH=$W python experiments/depth/fit_round5/fill_validation.py --work /work/runs/lead/fit5 \
      --clips $clip --tags=$tag --only geometric,fused,both,geometric_choose,fused_choose,both_choose \
      -o /work/runs/lead/fv_choose.json
  done
done
echo DONE
