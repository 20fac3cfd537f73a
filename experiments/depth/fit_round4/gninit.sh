#!/bin/sh
# Diagnostic (not a shipping decision): does fitting start better from the group-normalised round-3 network?
# Same bench, 3-minute fits at 2 threads, fitted network only (no geometric/fused scoring), alternating arms.
cd /work/main
B="nice -n 5 python bench/depth_fit_clips.py --threads 2 --minutes 3 --no-geometric --work /work/runs/lead/fit4 -o /work/runs/lead/fit4.json"
for c in fox flower 7scenes kitti06; do
  $B --clips $c --tag=-ctl
  $B --clips $c --tag=-gn --set 'init="/work/runs/lead/r3_gn_256.pt"'
done
echo DONE
