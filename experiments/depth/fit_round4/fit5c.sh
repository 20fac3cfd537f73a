#!/bin/sh
# The speed target again with fit_init.pt: 3-minute fox fit at 2 threads, with the geometric and fused rows.
while pgrep -f "fit5b?.sh" >/dev/null; do sleep 5; done
cd /work/main
nice -n 5 python bench/depth_fit_clips.py --clips fox --minutes 3 --threads 2 --tag=-3min --work /work/runs/lead/fit6 -o /work/runs/lead/fit6.json
echo DONE-C
