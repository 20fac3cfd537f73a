#!/bin/sh
# flower's control arm overlapped other work (118 steps); run it again on the quiet machine.
while pgrep -f gninit.sh >/dev/null; do sleep 5; done
cd /work/main
nice -n 5 python bench/depth_fit_clips.py --threads 2 --minutes 3 --no-geometric --work /work/runs/lead/fit4 -o /work/runs/lead/fit4.json --clips flower --tag=-ctl2
echo DONE2
