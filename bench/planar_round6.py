"""Round 6 of the planar study: photo roll against measured references, and a vertical-vanishing-point gate,
picked on validation, tested once.

Usage (RUNS holds ``roll-tilt``, the round-5 pick, and ``roll-tilt-clean``; see docs/planar.md, section 9):

    python bench/planar_round6.py --runs RUNS --docs docs/planar --stage val    # gate on training photos, picks
    python bench/planar_round6.py --runs RUNS --docs docs/planar --stage test   # test, once, for the pick

The numbers in docs/planar/round6_* were written at commit 6ea8d86; round 7 (``planar_round7.py``) replaced the
ambiguity of :func:`viewshift.planar.roll.vertical_vanishing_roll`, so running this script later gives other
gate tables and ``+vp`` scores.

Labels: every rolled copy is labelled with the applied roll plus the photo's own roll, measured from its
hand-marked world verticals (:func:`viewshift.planar.roll.reference_roll`; photos without marked verticals count
as level, as all photos did before).

``--stage val`` first fixes the vanishing-point gate on the training photos of ``roll-tilt-clean`` (4 seeded rolls
each): among supports × ambiguities, the gate that accepts the most cases while their mean error stays ≤ 2°. Then
the candidates are scored on the validation photos: ``roll-tilt`` and ``roll-tilt-clean`` with the network alone
and with the gate (``+vp``). ``--stage test`` scores the pick and, for comparison, ``roll-tilt`` (shipped until
now) with and without the references. Writes ``round6_references.png`` (the marked verticals), ``round6_gate``,
``round6_val``, ``round6_test`` (``.md`` / ``.json``) and ``round6_roll_photos.png``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planar_round2 import run_stages, write_tables  # noqa: E402
from planar_round3 import _params, roll_test, roll_val_table  # noqa: E402

from viewshift.planar.configs import PRESETS, build_model
from viewshift.planar.roll import (
    REFERENCES_FILE,
    ROLL_TEST_PHOTOS,
    load_rgb,
    reference_roll,
    rotate_photo,
    shared_data_root,
    training_photo_paths,
    vertical_vanishing_roll,
)
from viewshift.planar.train import evaluate_roll, load_run, with_vanishing_gate

NETWORKS = ("roll-tilt", "roll-tilt-clean")
SUPPORTS = (1.0, 2.0, 3.0, 4.0, 6.0)
AMBIGUITIES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GATE_ROLLS_PER_PHOTO = 4
GATE_MAX_MEAN = 2.0


def fit_gate(docs: Path, stem: str = "round6_gate", supports=SUPPORTS, ambiguities=AMBIGUITIES) -> tuple[float, float]:
    """Fix the gate on the training photos (the ``supports × ambiguities`` grid); writes ``<stem>``."""
    rng = np.random.default_rng(7)
    found, errors = [], []
    for path in training_photo_paths(PRESETS["roll-tilt-clean"]):
        photo = load_rgb(path)
        for _ in range(GATE_ROLLS_PER_PHOTO):
            roll = float(rng.uniform(-20, 20))
            v = vertical_vanishing_roll(rotate_photo(photo, roll, crop=True))
            found.append((v.support, v.ambiguity))
            errors.append(abs(v.roll - roll) if v.roll is not None else np.inf)
    support, ambiguity = np.array(found).T
    err = np.array(errors)
    grid, best = {}, None
    lines = ["| support ≥ | " + " | ".join(f"ambiguity ≤ {q}" for q in ambiguities) + " |"]
    lines.append("|---" * (len(ambiguities) + 1) + "|")
    for s in supports:
        cells = []
        for q in ambiguities:
            accepted = (support >= s) & (ambiguity <= q)
            n, mean = int(accepted.sum()), float(err[accepted].mean()) if accepted.any() else float("nan")
            grid[f"{s}/{q}"] = {"accepted": n, "mean": mean}
            cells.append(f"{n} cases, {mean:.2f}°")
            if mean <= GATE_MAX_MEAN and (best is None or n > grid[f"{best[0]}/{best[1]}"]["accepted"]):
                best = (s, q)
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if best is None:
        raise SystemExit(f"no gate keeps the accepted training cases within {GATE_MAX_MEAN}°")
    photos = len(err) // GATE_ROLLS_PER_PHOTO
    lines.append(f"\n{len(err)} cases ({photos} training photos); gate: support ≥ {best[0]}, ambiguity ≤ {best[1]}")
    write_tables(docs, stem, lines, {"grid": grid, "gate": best, "cases": len(err)})
    return best


def references_figure(path: Path) -> None:
    """Each photo with marked world verticals, the segments drawn in red and its measured own roll."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = json.loads(REFERENCES_FILE.read_text())["photos"]
    cols = 5
    rows = -(-len(refs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, entry) in zip(axes.ravel(), refs.items(), strict=False):  # more axes than photos
        ax.imshow(load_rgb(shared_data_root() / name))
        for x1, y1, x2, y2 in entry["segments"]:
            ax.plot([x1, x2], [y1, y2], color="red", lw=1.2)
        short = Path(name).parent.name if Path(name).stem in ("im0", "view1") else Path(name).stem
        split = "test" if name in ROLL_TEST_PHOTOS else "val"
        ax.set_title(f"{short} ({split}): own roll {reference_roll(name):+.2f}°", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def candidate(root: Path, name: str, gate: tuple[float, ...] | None) -> tuple[torch.nn.Module, object]:
    """A run's network, with the vanishing-point gate when ``gate`` is given (``name+vp``; see
    :func:`viewshift.planar.train.with_vanishing_gate`)."""
    model, config = load_run(root / name)
    if gate is None:
        return model, config
    config = with_vanishing_gate(config, gate)
    gated = build_model(config)
    gated.load_state_dict(model.state_dict())
    return gated.eval(), config


def score_candidates(root: Path, docs: Path, stem: str, networks: tuple[str, ...], gate: tuple[float, float]) -> None:
    """Score each network alone and with ``gate`` (``+vp``) on the validation photos; name the pick; writes
    ``<stem>`` (``.md`` / ``.json``, with the gate and the pick)."""
    data: dict = {"gate": gate, "roll": {}, "roll_per_photo": {}}
    lines = ["| candidate | validation mean ° | median ° |", "|---|---|---|"]
    for name in (n for n in networks if (root / n / "model.pt").is_file()):
        for g in (None, gate):
            label = name + ("+vp" if g else "")
            model, config = candidate(root, name, g)
            r = evaluate_roll(model, config.val_rolls_per_photo, split="val")
            data["roll"][label], data["roll_per_photo"][label] = r["mean"], r["per_photo"]
            lines.append(f"| {label} | {r['mean']:.3f} | {r['median']:.2f} |")
    pick = min(data["roll"], key=data["roll"].get)
    lines = [line.replace(f"| {pick} |", f"| {pick} **(pick)** |") for line in lines]
    data["picks"] = {"roll": pick}
    write_tables(docs, stem, lines + roll_val_table(data["roll_per_photo"]), data)


def load_pick(root: Path, val: dict) -> tuple[str, torch.nn.Module, object]:
    """The validation pick of a ``score_candidates`` JSON: its label, network (gated for ``+vp``) and config."""
    pick, gate = val["picks"]["roll"], tuple(val["gate"])
    model, config = candidate(root, pick.removesuffix("+vp"), gate if pick.endswith("+vp") else None)
    return pick, model, config


def _stage_val(root: Path, docs: Path) -> None:
    references_figure(docs / "round6_references.png")
    score_candidates(root, docs, "round6_val", NETWORKS, fit_gate(docs))


def _stage_test(root: Path, docs: Path) -> None:
    val = json.loads((docs / "round6_val.json").read_text())
    pick, model, _ = load_pick(root, val)
    r, summary, per_photo = roll_test(model, pick, docs / "round6_roll_photos.png")
    out: dict = {"picks": val["picks"], "gate": tuple(val["gate"]), "roll": r}
    lines = ["| model | parameters | test result (160 cases) | validation |", "|---|---|---|---|"]
    lines.append(f"| {pick} **(pick)** | {_params(model)} | {summary} | {val['roll'][pick]:.3f}° |")
    old, _ = load_run(root / "roll-tilt")
    for references in (True, False):
        b = evaluate_roll(old, references=references)
        label = "roll-tilt (round-5 pick)" + ("" if references else ", photos assumed level (round-5 labels)")
        out[label] = {k: v for k, v in b.items() if k != "rows"}
        lines.append(
            f"| {label} | {_params(old)} | mean {b['mean']:.2f}°, median {b['median']:.2f}°, "
            f"≤2° {100 * b['within_2']:.0f} % | {val['roll'].get('roll-tilt', float('nan')):.3f}° |"
        )
    write_tables(docs, "round6_test", lines + per_photo, out)


def main() -> None:
    run_stages(__doc__, _stage_val, _stage_test)


if __name__ == "__main__":
    main()
