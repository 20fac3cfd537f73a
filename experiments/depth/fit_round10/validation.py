"""Round 10: the fill blended with the propagated depth (``SweepConfig.fill_blend``), scored on validation frames
only (the fitted frames k = 1, 5, 9, ... rendered from k - 1; the sweeps see neither them nor the held-out frames).

    python experiments/depth/fit_round10/validation.py --work /work/runs/r10/fit --clips fox --tags=-s0 \
        -o experiments/depth/fit_round10/validation.json

Columns (one shared sweep per frame, the cost check on): ``geometric`` (the built-in network fills), ``both`` (the
fitted and the built-in network, ``fused_depth``'s default), and each again with ``fill_blend`` 0.25 / 0.5
(``geometric_b25``, ``both_b50``, ...).
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

    from viewshift.multiview.planesweep import SweepConfig

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="the round's work folder (NAME/clip, NAME/fitted-clip{TAG}.pt)")
    ap.add_argument("--clips", required=True, help="comma-separated clip names")
    ap.add_argument("--tags", default="-s0", help="comma-separated model tags (default: -s0)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    sweeps = {"geometric": ("builtin", None), "both": ("both", None)}
    for b in (25, 50):
        sweeps |= {f"{k}_b{b}": (p, SweepConfig(fill_blend=b / 100)) for k, (p, _) in list(sweeps.items())[:2]}
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
