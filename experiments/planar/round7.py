"""Round 7 of the planar study: a vanishing-point ambiguity that looks for a second family of segments, and
training photos with their own rolls measured, picked on validation, tested once.

Usage (RUNS holds ``roll-tilt``, the round-5 network, and ``roll-tilt-selfref``; see history.md, section 10):

    python experiments/planar/round7.py --runs RUNS --stage val    # gate on training photos, picks
    python experiments/planar/round7.py --runs RUNS --stage test   # test, once, for the pick

Same labels as round 6 (applied roll + each photo's measured own roll). ``--stage val`` fixes the gate on the
training photos with the rule of round 6 (the most accepted cases with a mean error ≤ 2°) over a grid suited to
the new ambiguity, then scores ``roll-tilt`` and ``roll-tilt-selfref``, each alone and with the gate (``+vp``),
on the validation photos. ``--stage test`` scores the pick once; the round-6 pick's test score is quoted from
``round6_test.json`` (its ambiguity no longer exists). Writes ``round7_gate``, ``round7_val``, ``round7_test``
(``.md`` / ``.json``) and ``round7_roll_photos.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import fit_gate, load_pick, params, roll_test, run_stages, score_candidates, write_tables

NETWORKS = ("roll-tilt", "roll-tilt-selfref")
SUPPORTS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
AMBIGUITIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.8)


def _stage_val(root: Path, docs: Path) -> None:
    gate = fit_gate(docs, "round7_gate", SUPPORTS, AMBIGUITIES)
    score_candidates(root, docs, "round7_val", NETWORKS, gate)


def _stage_test(root: Path, docs: Path) -> None:
    val = json.loads((docs / "round7_val.json").read_text())
    pick, model, _ = load_pick(root, val)
    r, summary, per_photo = roll_test(model, pick, docs / "round7_roll_photos.png")
    lines = ["| model | parameters | test result (160 cases) | validation |", "|---|---|---|---|"]
    lines.append(f"| {pick} **(pick)** | {params(model)} | {summary} | {val['roll'][pick]:.3f}° |")
    round6 = json.loads((docs / "round6_test.json").read_text())
    old = round6["roll"]
    lines.append(
        f"| {round6['picks']['roll']} (round-6 pick, from round6_test.json) | {params(model)} | mean "
        f"{old['mean']:.2f}°, median {old['median']:.2f}°, ≤2° {100 * old['within_2']:.0f} % | round6_val.md |"
    )
    out = {"picks": val["picks"], "gate": tuple(val["gate"]), "roll": r}
    write_tables(docs, "round7_test", lines + per_photo, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
