#!/bin/sh
# The held-out table of docs/depth/fit.md again, fit starting from fit_init.pt (the new default): 5-minute fits,
# 2 threads (the defaults), the quiet machine.
cd /work/main
B="nice -n 5 python bench/depth_fit_clips.py --threads 2 --minutes 5 --work /work/runs/lead/fit5 -o /work/runs/lead/fit5.json"
$B --clips flower
$B --clips flower --poses estimate
$B --clips 7scenes
$B --clips kitti06
$B --clips fox
echo DONE
