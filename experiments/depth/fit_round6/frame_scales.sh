#!/bin/sh
# Round 6, section 5 (validation frames only): fits with per-frame depth scales (FitConfig.frame_scales, d13b518)
# on the fox and the KITTI turn, seeds 1 and 2, 5 minutes at 2 threads, each alone on the machine; scored on the
# validation frames by fill_validation.py beside the same seeds' round-5 models (validation_both.json).
# Runs after the round-6 held-out queue (queue.sh) has finished.
W=/work/runs/lead/wt7
WORK=/work/runs/lead/fit5
OUT=/work/runs/lead/fv_frame_scales.json
while ! grep -q '^DONE' /work/runs/lead/queue6.log; do sleep 20; done
cd $W
for s in 1 2; do
  for clip in fox kitti-turn; do
    nice -n 5 env PYTHONPATH=$W python -c "from viewshift.learn.fit import fit_clip; print(fit_clip('$WORK/$clip/clip', \
'$WORK/$clip/fitted-clip-f$s.pt', seconds=300, threads=2, holdout_every=4, seed=$s, frame_scales=True, \
progress=False, overwrite=True, resume=False)['step'])"
    nice -n 5 env PYTHONPATH=$W python experiments/depth/fit_round5/fill_validation.py --work $WORK --clips $clip \
      --tags=-f$s --only geometric,fused,both -o $OUT
  done
done
echo DONE
