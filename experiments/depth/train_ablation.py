"""Equal-budget ablations of the built-in model's training recipe, scored on the held-out scenes.

History (moved from bench/ on 4 December 2026): this script made the results in experiments/depth/results that
experiments/depth/README.md describes. It is kept as the record of how they were made; it is not maintained
against later library changes.

Every arm trains the ``builtin`` preset (depth network ``small``, 192×256, batch 6, Adam 5e-4, one thread) for the
same number of steps from the same seed, changing one thing:

* ``shipped``      — the shipped recipe: procedural scenes and Middlebury pairs in alternating batches, augmented.
* ``no-synthetic`` — Middlebury pairs only (no procedural scenes).
* ``no-stereo``    — procedural scenes only (no Middlebury pairs as supervision; they still texture the scenes).
* ``no-augment``   — as shipped, but no random scale/crop, mirror or colour jitter (centred crops).
* ``pretrain``     — procedural scenes only for the first half of the steps, then Middlebury pairs only (the
  second half starts from the first half's checkpoint with a fresh optimiser).

Then each arm's last checkpoint is scored exactly as ``bench/depth_eval.py`` scores the built-in model (held-out
Middlebury Adirondack, Piano, Teddy, Vintage; 7-Scenes redkitchen every 10th frame, capped at 10 m) next to
the constant-depth and "lower is nearer" baselines::

    python experiments/depth/train_ablation.py train shipped --steps 600 --work /work/depth_runs/ablation   # one arm
    python experiments/depth/train_ablation.py eval shipped --work /work/depth_runs/ablation
    python experiments/depth/train_ablation.py eval baselines --work /work/depth_runs/ablation
    python experiments/depth/train_ablation.py table --work /work/depth_runs/ablation  # results/ablation.{json,md}

Training is resumable (re-run the same command). Run one arm at a time on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from depth_eval import DATA, HELD_OUT  # noqa: E402
from train_builtin import HOLDOUT  # noqa: E402

from viewshift.learn.trainer import make_config, train  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
STEREO = [str(DATA / "stereo" / "middlebury")]
TEXTURES = [str(DATA / "photos"), str(DATA / "stereo" / "middlebury")]

ARMS: dict[str, list[dict]] = {
    # Each arm is a list of phases (config overrides of the ``builtin`` preset) sharing the step budget equally.
    "shipped": [dict(stereo=STEREO, synthetic=True)],
    "no-synthetic": [dict(stereo=STEREO, synthetic=False)],
    "no-stereo": [dict(stereo=[], synthetic=True)],
    "no-augment": [dict(stereo=STEREO, synthetic=True, augment=False)],
    "pretrain": [dict(stereo=[], synthetic=True), dict(stereo=STEREO, synthetic=False)],
}
METRICS = ["abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3"]


def phase_dirs(work: Path, arm: str) -> list[Path]:
    phases = ARMS[arm]
    return [work / arm] if len(phases) == 1 else [work / arm / f"phase{i}" for i in range(len(phases))]


def train_arm(arm: str, steps: int, work: Path, threads: int) -> dict:
    phases, dirs = ARMS[arm], phase_dirs(work, arm)
    share = steps // len(phases)
    result: dict = {"arm": arm, "steps": steps, "phases": []}
    init = ""
    for i, (overrides, out) in enumerate(zip(phases, dirs, strict=True)):
        config = make_config(
            "builtin",
            stereo_holdout=HOLDOUT,
            texture_dirs=TEXTURES,
            steps=share if i < len(phases) - 1 else steps - share * (len(phases) - 1),
            threads=threads,
            checkpoint_minutes=4.0,
            log_every=10,
            init=init,
            **overrides,
        )
        start = time.monotonic()
        last = train(config, out, progress=sys.stderr.isatty())
        result["phases"].append({"dir": str(out), "seconds": round(time.monotonic() - start, 1), **last})
        init = str(out / "checkpoint.pt")
    result["checkpoint"] = init
    (work / arm).mkdir(parents=True, exist_ok=True)
    (work / arm / "train.json").write_text(json.dumps(result, indent=2))
    return result


def evaluate(source) -> dict:
    from viewshift.learn.data import middlebury_pairs
    from viewshift.learn.evaluate import evaluate_frames_depth, evaluate_stereo_depth, sevenscenes_frames

    pairs = [
        p
        for p in middlebury_pairs(DATA / "stereo" / "middlebury")
        if p.K_left is not None and p.name.split("/")[-1] in HELD_OUT
    ]
    out = {}
    for align in ("median", "scale_shift"):
        out[f"middlebury_{align}"] = evaluate_stereo_depth(source, pairs, align=align, render=align == "median")["mean"]
        frames = sevenscenes_frames(DATA / "video" / "7scenes-redkitchen", 10)
        out[f"sevenscenes_{align}"] = evaluate_frames_depth(source, frames, align=align)["mean"]
    return out


def eval_arm(arm: str, work: Path) -> dict:
    from viewshift.depth.builtin import BuiltinDepth
    from viewshift.learn.evaluate import ConstantDepth, LowerIsNearer

    torch.set_num_threads(1)
    if arm == "baselines":
        res = {"constant": evaluate(ConstantDepth()), "lower-is-nearer": evaluate(LowerIsNearer())}
        res["shipped weights (step 2170)"] = evaluate(BuiltinDepth())
    else:
        ckpt = phase_dirs(work, arm)[-1] / "checkpoint.pt"
        res = {arm: {"checkpoint": str(ckpt), "step": int(torch.load(ckpt, weights_only=True)["step"])}}
        res[arm].update(evaluate(BuiltinDepth(ckpt)))
    (work / f"eval_{arm}.json").write_text(json.dumps(res, indent=2))
    return res


def write_table(work: Path) -> str:
    rows: dict = {}
    for name in [*ARMS, "baselines"]:
        path = work / f"eval_{name}.json"
        if path.exists():
            rows.update(json.loads(path.read_text()))
    for arm in ARMS:
        t = work / arm / "train.json"
        if arm in rows and t.exists():
            rows[arm]["train"] = json.loads(t.read_text())
    cols = [
        ("middlebury_median", "abs_rel", "Midd. AbsRel (median)"),
        ("middlebury_median", "a1", "Midd. δ<1.25"),
        ("middlebury_scale_shift", "abs_rel", "Midd. AbsRel (scale+shift)"),
        ("middlebury_median", "psnr", "Midd. right view PSNR"),
        ("sevenscenes_median", "abs_rel", "7-Sc. AbsRel (median)"),
        ("sevenscenes_median", "a1", "7-Sc. δ<1.25"),
        ("sevenscenes_scale_shift", "abs_rel", "7-Sc. AbsRel (scale+shift)"),
    ]
    lines = [
        "| arm | steps | train min | " + " | ".join(c[2] for c in cols) + " |",
        "|---|---|---|" + "---|" * len(cols),
    ]
    for name, r in rows.items():
        steps, minutes = "—", "—"
        if "train" in r:
            phases = r["train"]["phases"]
            steps = " + ".join(str(p["step"]) for p in phases)
            minutes = f"{sum(p['seconds'] for p in phases) / 60:.1f}"
        vals = [f"{r[k][m]:.3f}" if m != "psnr" else f"{r[k][m]:.2f}" for k, m, _ in cols]
        lines.append(f"| {name} | {steps} | {minutes} | " + " | ".join(vals) + " |")
    md = "\n".join(lines)
    (REPO / "experiments" / "depth" / "results" / "ablation.json").write_text(json.dumps(rows, indent=2))
    (REPO / "experiments" / "depth" / "results" / "ablation.md").write_text(md + "\n")
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["train", "eval", "table"])
    ap.add_argument("arm", nargs="?", default="shipped", choices=[*ARMS, "baselines"])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default="runs/ablation")
    args = ap.parse_args(argv)
    work = Path(args.work)
    if args.what == "train":
        print(json.dumps(train_arm(args.arm, args.steps, work, args.threads), indent=2))
    elif args.what == "eval":
        print(json.dumps(eval_arm(args.arm, work), indent=2))
    else:
        print(write_table(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
