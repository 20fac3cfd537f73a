"""How should the fused depth fill what the sweep cannot match? Scored on validation frames, never the held-out ones.

    python experiments/depth/fit_round5/fill_validation.py --work /work/runs/lead/fit5 --clips kitti-turn \
        --tags=-s1,-s2 -o experiments/depth/fit_round5/fill_validation.json

For each clip and fitted model (``fitted-clip{TAG}.pt`` of the round's runs) the fitted frames ``k = 1, 5, 9, ...``
are rendered from ``k - 1`` (``bench/depth_fit_clips.py``'s ``score(validation=True)``: the sweeps see neither the
held-out frames nor these targets). The fitted network has trained on both frames of each pair, so this split
favours leaning on it; it is for ranking fills, not for reporting. Variants of
:class:`viewshift.multiview.SweepConfig` for the fitted fill (the ``fused`` product) and the built-in fill (the
geometric baseline):

* default: ``fill_below 0.1``, ``fill_support 0.05`` (power-law alignment to the confident geometry, then the local
  log-ratio correction);
* ``global``: ``fill_support 1e6`` (no local correction: the prior aligned by the power law only);
* ``below03``: ``fill_below 0.3`` (more weakly matched pixels filled);
* ``local`` (round 8): ``fill_support 0.005`` (the local correction counts more); ``full``: ``fill_support 0``
  (the whole correction everywhere: the prior's shape of log depth, the level of the confident pixels around);
  ``cost`` / ``cost05`` (round 8): ``fill_cost_margin`` 0.02 / 0.05 (per low-confidence pixel, propagation's
  depth where the sweep's matching cost at it is lower than at the prior fill's by more than the margin);
  ``costg3`` / ``costg2``: margin 0.02 and the propagated depth's cost below 0.3 / 0.2 (``fill_cost_good``);
* ``both`` (prior ``"both"`` of ``fused_depth``): the mean of the fitted and the built-in fills, each aligned on
  its own (added after the first ranking: on the fox the built-in fill beat the fitted one even here); a
  ``both_best`` variant (per frame, the one of the two with the smaller residual on the confident geometry, round
  6's validation_both.json) chose the fitted network nearly always and was removed;
* ``*_choose`` (round 6): each fill with ``fill_choose`` (per frame the prior fill or propagation, whichever
  predicts left-out blocks of the confident pixels better: ``viewshift.multiview.planesweep.choose_fill``);
* fitted fill only: ``shift`` (exponent fixed at 1: only a scale of depth is fitted to the geometry, then the
  local correction), ``shift_global`` (the same without the local correction) and ``raw`` (the fitted network
  times the fit's learned scale as it is: no alignment, no correction). These replace
  ``viewshift.multiview.planesweep.fit_power_law`` while they run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))


def variants() -> dict:
    """``{name: (prior, SweepConfig, exponent)}``: exponent None fits the power law, 1.0 fixes it, ``"raw"``
    takes the fitted network's own scale. Every variant has its own SweepConfig object (the dispatcher below
    tells them apart by it)."""
    from viewshift.multiview import SweepConfig

    # as measured: without round 8's cost check (SweepConfig's default since then) unless a cost* variant
    U = {"fill_cost_margin": None}
    out = {}
    for prior, name in (("builtin", "geometric"), ("fitted", "fused")):
        out[name] = (prior, SweepConfig(**U), None)
        out[f"{name}_global"] = (prior, SweepConfig(**U, fill_support=1e6), None)
        out[f"{name}_below03"] = (prior, SweepConfig(**U, fill_below=0.3), None)
        out[f"{name}_local"] = (prior, SweepConfig(**U, fill_support=0.005), None)
        out[f"{name}_full"] = (prior, SweepConfig(**U, fill_support=0.0), None)
        out[f"{name}_cost"] = (prior, SweepConfig(fill_cost_margin=0.02, fill_cost_good=1.0), None)
        out[f"{name}_cost05"] = (prior, SweepConfig(fill_cost_margin=0.05, fill_cost_good=1.0), None)
        out[f"{name}_costg3"] = (prior, SweepConfig(fill_cost_margin=0.02, fill_cost_good=0.3), None)
        out[f"{name}_costg2"] = (prior, SweepConfig(fill_cost_margin=0.02, fill_cost_good=0.2), None)
    out["fused_shift"] = ("fitted", SweepConfig(**U), 1.0)
    out["fused_shift_global"] = ("fitted", SweepConfig(**U, fill_support=1e6), 1.0)
    out["fused_raw"] = ("fitted", SweepConfig(**U, fill_support=1e6), "raw")
    out["both"] = ("both", SweepConfig(**U), None)
    out["geometric_choose"] = ("builtin", SweepConfig(**U, fill_choose=True), None)
    out["fused_choose"] = ("fitted", SweepConfig(**U, fill_choose=True), None)
    out["both_choose"] = ("both", SweepConfig(**U, fill_choose=True), None)
    out["both_cost"] = ("both", SweepConfig(fill_cost_margin=0.02, fill_cost_good=1.0), None)
    return out


def shift_only(kind, scale: float, power_law):
    """A stand-in for ``planesweep.fit_power_law`` with the exponent fixed at 1: the shift of log inverse depth
    Huber-weighted like the original, or (``"raw"``) ``-log scale``, the fitted model's own scale."""

    def fit(x, y, weight, iters=5):
        if kind == "raw":
            return 1.0, -math.log(scale)
        # a line through a constant x has no slope: fit_power_law returns the Huber-weighted shift of y - x
        _, b = power_law(torch.zeros_like(x), y - x, weight, iters)
        return 1.0, b

    return fit


@contextlib.contextmanager
def dispatch(table: dict, scale: float):
    """While inside, ``viewshift.learn.fit.fused_depth`` called with one of ``table``'s configs (``{id(config):
    kind}``) runs with that kind's power-law fit, so all variants are scored in one ``score`` call (one pixel mask)."""
    from viewshift.learn import fit as fit_module
    from viewshift.multiview import planesweep

    real, power_law = fit_module.fused_depth, planesweep.fit_power_law

    def fused(*args, config=None, **kw):
        kind = table.get(id(config))
        planesweep.fit_power_law = power_law if kind is None else shift_only(kind, scale, power_law)
        try:
            return real(*args, config=config, **kw)
        finally:
            planesweep.fit_power_law = power_law

    fit_module.fused_depth = fused
    try:
        yield
    finally:
        fit_module.fused_depth = real


def main() -> int:
    from depth_fit_clips import score  # its shared_sweeps: the variants differ only in the fill, one sweep each

    from viewshift.depth.builtin import BuiltinDepth

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="the round's work folder (NAME/clip, NAME/fitted-clip{TAG}.pt)")
    ap.add_argument("--clips", required=True, help="comma-separated clip names")
    ap.add_argument("--tags", default="-s1,-s2", help="comma-separated model tags (default: -s1,-s2)")
    ap.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    out = Path(args.output)
    results = json.loads(out.read_text()) if out.exists() else {}
    for name in args.clips.split(","):
        work = Path(args.work) / name
        for tag in args.tags.split(","):
            model = work / f"fitted-clip{tag}.pt"
            table = {k: v for k, v in variants().items() if not args.only or k in args.only.split(",")}
            scale = float(BuiltinDepth(model).meta["scale"])
            with dispatch({id(c): kind for _, c, kind in table.values()}, scale):
                sweeps = {k: (prior, c) for k, (prior, c, _) in table.items()}
                r = score(work / "clip", model, Path(str(model) + ".run"), 4, True, validation=True, sweeps=sweeps)
            results[f"{name}{tag}" + ("-" + args.only.replace(",", "+") if args.only else "")] = r
            out.write_text(json.dumps(results, indent=2))
            print(name + tag, {k: round(v, 2) for k, v in r.items() if isinstance(v, float) and "_" not in k})
    keys = [k for k in variants()]
    print("| run | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for run, r in results.items():
        print(f"| {run} | " + " | ".join(f"{r[k]:.2f}" if k in r else "—" for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
