"""Round 10: fit a bench clip without scoring its held-out frames (exploration; score validation frames with
``../fit_round9/validation.py``). The fit is ``bench/depth_fit_clips.py``'s (every 4th frame held out).

    python experiments/depth/fit_round10/fit_only.py --work /work/runs/r10/fit --clip fox --steps 600 \
        --tag=-s0 --set seed=0 --set frame_scales=true
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    from depth_fit_clips import CLIPS

    from viewshift.learn.fit import fit_clip

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="work folder (NAME/clip, NAME/fitted-clip{TAG}.pt)")
    ap.add_argument("--clip", required=True, choices=sorted(CLIPS), help="bench clip name")
    ap.add_argument("--steps", type=int, default=600, help="step budget (default: 600)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    ap.add_argument("--tag", default="", help="model name suffix (default: none)")
    ap.add_argument("--resume", action="store_true", help="continue the model's run (default: start again)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a FitConfig field (JSON)")
    args = ap.parse_args()
    work = Path(args.work) / args.clip
    work.mkdir(parents=True, exist_ok=True)
    clip = work / "clip"
    if not clip.exists():
        CLIPS[args.clip](clip)
    extra = {k: json.loads(v) for k, _, v in (kv.partition("=") for kv in args.set)}
    fit = fit_clip(
        clip,
        work / f"fitted-clip{args.tag}.pt",
        seconds=None,
        steps=args.steps,
        threads=args.threads,
        holdout_every=4,
        poses="clip",
        resume=args.resume,
        overwrite=not args.resume,
        progress=False,
        **extra,
    )
    print(args.clip, args.tag, {k: v for k, v in fit.items() if k != "neighbours"}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
