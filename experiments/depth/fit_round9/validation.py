"""Round 9: fills scored on validation frames only (the fitted frames k = 1, 5, 9, ... rendered from k - 1; the
sweeps see neither them nor the held-out frames; the fitted network has trained on both frames of each pair).

    python experiments/depth/fit_round9/validation.py --work /work/runs/r9/fit --clips kitti-turn --tags=-s2 \
        -o experiments/depth/fit_round9/validation.json

Variants (``bench/depth_fit_clips.py``'s ``score``, one shared sweep per frame): ``geometric`` (the built-in
network fills: the geometric depth alone), ``fused`` (the fitted network fills), ``both`` (the two together, the
default of ``fused_depth``), all with the cost check on (the default). (A fourth column, ``both_priors``, scored
``SweepConfig(fill_cost_priors=True)``, an option explored in this round and removed again: run at commit 90ab5ee
to get it.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    from depth_fit_clips import score

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="the round's work folder (NAME/clip, NAME/fitted-clip{TAG}.pt)")
    ap.add_argument("--clips", required=True, help="comma-separated clip names")
    ap.add_argument("--tags", default="-s2", help="comma-separated model tags (default: -s2)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    sweeps = {
        "geometric": ("builtin", None),
        "fused": ("fitted", None),
        "both": ("both", None),
    }
    out = Path(args.output)
    results = json.loads(out.read_text()) if out.exists() else {}
    for name in args.clips.split(","):
        for tag in args.tags.split(","):
            work = Path(args.work) / name
            model = work / f"fitted-clip{tag}.pt"
            r = score(work / "clip", model, Path(str(model) + ".run"), 4, True, validation=True, sweeps=sweeps)
            results[name + tag] = r
            out.write_text(json.dumps(results, indent=2))
            print(name + tag, {k: round(r[k], 3) for k in ("fitted", "builtin", "plane", *sweeps)}, flush=True)
    print("| run | " + " | ".join(sweeps) + " |\n|---|" + "---|" * len(sweeps))
    for run, r in results.items():
        print(f"| {run} | " + " | ".join(f"{r[k]:.2f}" for k in sweeps) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
