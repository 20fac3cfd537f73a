#!/bin/sh
# The fifth real clip with poses, not in round 3's table: KITTI "odom-turn" (51 frames, a turn), same settings.
while pgrep -f fit5.sh >/dev/null; do sleep 5; done
cd /work/main
nice -n 5 python bench/depth_fit_clips.py --threads 2 --minutes 5 --work /work/runs/lead/fit5 -o /work/runs/lead/fit5.json --clips kitti-turn
echo DONE-B
