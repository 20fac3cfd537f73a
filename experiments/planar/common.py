"""What the planar round scripts share: loading runs and ensembles, scoring, tables and figures.

Every round script (``roundN.py``) imports this module instead of another round's private helpers. A candidate
name is a run folder under ``--runs``, or several joined by ``+``: an ensemble (circular mean of angles for
rotation runs, mean class probabilities for alignment runs), exactly as ``viewshift planar export --run A --run
B`` ships it. Tables are printed and written as ``<stem>.md`` + ``<stem>.json`` into ``--docs``
(``experiments/planar/results`` by default).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from presets import PRESETS

from viewshift.planar.configs import AlignConfig, AlignEnsembleConfig, EnsembleConfig, build_model, scored_classes
from viewshift.planar.evaluate import evaluate_roll, rotation_test_set
from viewshift.planar.models import predict_angles_rot90
from viewshift.planar.photo import rotate_photo
from viewshift.planar.roll_data import training_photo_paths
from viewshift.planar.shared_data import load_rgb
from viewshift.planar.train import load_ensemble, load_run, with_vanishing_gate
from viewshift.planar.vanishing import vertical_vanishing_roll

RESULTS = Path(__file__).resolve().parent / "results"
GATE_ROLLS_PER_PHOTO = 4
GATE_MAX_MEAN = 2.0


def run_stages(doc: str, stage_val, stage_test) -> None:
    """The command line shared by the round scripts: ``--runs``, ``--docs``, ``--stage val|test``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", required=True, help="folder holding one run folder per preset")
    parser.add_argument("--docs", default=str(RESULTS), help="where to write the tables and figures")
    parser.add_argument("--stage", choices=("val", "test"), required=True, help="validation picks, or test once")
    args = parser.parse_args()
    torch.set_num_threads(1)
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    (stage_val if args.stage == "val" else stage_test)(Path(args.runs), docs)


def write_tables(docs: Path, stem: str, lines: list[str], data: dict) -> None:
    """Print a markdown table and write it to ``docs/<stem>.md``, with ``data`` as ``docs/<stem>.json``."""
    table = "\n".join(lines)
    print(table)
    (docs / f"{stem}.md").write_text(table + "\n")
    (docs / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")


def present(root: Path, name: str) -> bool:
    return all((root / n / "model.pt").is_file() for n in name.split("+"))


def load(root: Path, name: str):
    runs = [root / n for n in name.split("+")]
    return load_ensemble(runs, name) if len(runs) > 1 else load_run(runs[0])


def params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def steps_label(config) -> str:
    """Training steps of an alignment run, or of each ensemble member joined by "+" ("20000+20000")."""
    members = config.members if isinstance(config, AlignEnsembleConfig) else [config]
    return "+".join(str(m.steps) for m in members if isinstance(m, AlignConfig))


@torch.no_grad()
def rotation_predictions(model, config, split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictions with the 4 quarter-turn views (as ``estimate_angle``), true angles and labels of a split."""
    cfg = config.members[0] if isinstance(config, EnsembleConfig) else config
    images, angles, labels = rotation_test_set(scored_classes(cfg), split=split, cfg=cfg)
    pred = torch.cat([predict_angles_rot90(model, images[i : i + 512], 4) for i in range(0, len(images), 512)])
    return pred, angles, labels


def error_histogram(err: np.ndarray, title: str, path: Path, stat: str = "mean") -> None:
    """Histogram of absolute angle errors (clipped at 30°) with their mean (or ``stat="median"``) marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    value = float(np.mean(err) if stat == "mean" else np.median(err))
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist(np.clip(err, 0, 30), bins=np.arange(0, 31, 1), color="C2")
    ax.axvline(value, color="k", ls="--", label=f"{stat} {value:.2f}°")
    ax.set_xlabel("absolute angle error (°; last bin ≥ 29°)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


def mean_var_figure(results: dict, path: Path) -> None:
    """The paper's figure: mean and variance images per class of the perturbed inputs and of each aligner's
    output (``results`` as from :func:`viewshift.planar.train.evaluate_align`; CNN rows have no aligned images)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not results:
        return
    first = next(iter(results.values()))
    rows = [("perturbed input", first["input_mean_images"], first["input_var_images"])]
    rows += [(n, r["mean_images"], r["var_images"]) for n, r in results.items() if not n.startswith("cnn")]
    fig, axes = plt.subplots(2 * len(rows), 10, figsize=(10, 2.1 * len(rows)))
    for i, (name, mean, var) in enumerate(rows):
        for c in range(10):
            for j, (img, what) in enumerate(((mean, "mean"), (var, "var"))):
                ax = axes[2 * i + j, c]
                ax.imshow(np.asarray(img[c]), cmap="gray" if what == "mean" else "magma")
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0:
                    # Ensemble names ("a+b") get a line per member so that the labels of adjacent rows stay apart.
                    ax.set_ylabel(name.replace("+", " +\n") + f"\n{what}", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


def roll_val_table(per_photo: dict[str, dict[str, float]]) -> list[str]:
    """Markdown lines (after a blank line) of validation errors per photo (rows) and candidate (columns)."""
    if not per_photo:
        return []
    names = list(per_photo)
    lines = ["", "| validation photo | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for photo in per_photo[names[0]]:
        lines.append(f"| {photo} | " + " | ".join(f"{per_photo[n][photo]:.2f}" for n in names) + " |")
    return lines


def roll_test(model, name: str, figure: Path, crops: int = 1) -> tuple[dict, str, list[str]]:
    """Score a roll model on the held-out photos: the result, a one-line summary and per-photo table lines;
    writes the per-photo figure."""
    r = evaluate_roll(model, crops=crops)
    summary = f"mean {r['mean']:.2f}°, median {r['median']:.2f}°, ≤2° {100 * r['within_2']:.0f} %"
    per_photo = ["", "| held-out photo | mean abs error ° |", "|---|---|"]
    per_photo += [f"| {p} | {e:.2f} |" for p, e in r["per_photo"].items()]
    roll_figure(r, name, figure)
    return r, summary, per_photo


def roll_figure(result: dict, name: str, path: Path) -> None:
    """Per held-out photo: the true rolls against the absolute errors, one dot per rolled copy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photos = list(result["per_photo"])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, photo in enumerate(photos):
        errs = [row["error"] for row in result["rows"] if row["photo"] == photo]
        ax.scatter(np.full(len(errs), i), errs, s=10, color="C0")
        ax.plot([i - 0.3, i + 0.3], [np.mean(errs)] * 2, color="C3")
    ax.axhline(2.0, color="k", ls=":", lw=1, label="target 2°")
    ax.set_xticks(range(len(photos)))
    ax.set_xticklabels([Path(p).parent.name if Path(p).stem == "im0" else Path(p).stem for p in photos], rotation=60)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("abs roll error (°)")
    ax.set_title(f"{name}: held-out photos, 10 rolls each (red: mean)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
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


def fit_gate(docs: Path, stem: str, supports, ambiguities) -> tuple[float, float]:
    """Fix the vanishing-point gate on the training photos of ``roll-tilt-clean`` (rounds 6-7): among the
    ``supports × ambiguities`` grid, the gate that accepts the most cases (4 seeded rolls per photo) while their mean
    error stays ≤ 2°; writes ``<stem>`` (``.md`` / ``.json``)."""
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
