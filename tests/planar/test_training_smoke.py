"""Two training steps of every preset (and of the model options only the experiments train) on the CPU,
resuming, a time budget, and evaluation plumbing."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.planar.angles import angle_difference
from viewshift.planar.configs import PRESETS, AlignConfig, RollConfig, RotationConfig, config_from_dict
from viewshift.planar.train import load_run, train

# Options of the configs that no shipped preset uses, trained by experiments/planar: two steps each too.
VARIANTS = {
    "naive-head": RotationConfig("naive-head", head="naive", loss="cosine_proximity", classes=[3]),
    "vector-adadelta": RotationConfig(
        "vector-adadelta", loss="angular", batchnorm=False, lr=1.0, optimizer="adadelta", clip_grad=None
    ),
    "von-mises-mix": RotationConfig(
        "von-mises-mix", loss="von_mises", eval_classes=[3], eval_class_share=0.3, scale_jitter=0.1
    ),
    "cnn": AlignConfig("cnn", num_warps=0, recurrent=False, classifier_width=24),
    "stn-affine": AlignConfig("stn-affine", num_warps=1, recurrent=False, warp_kind="affine"),
    "icstn-paper-protocol": AlignConfig("icstn-paper-protocol", num_warps=2, protocol="paper"),
    "roll-mlp": RollConfig("roll-mlp"),
    "roll-ce": RollConfig("roll-ce", arch="match", width=8, roll_loss="ce", roll_decode="local"),
    "roll-lines": RollConfig("roll-lines", arch="match", width=8, features="gradient+lines"),
    "roll-vanishing": RollConfig(
        "roll-vanishing", arch="match", width=8, features="gradient+vanishing", centred_crops=True, self_reference=True
    ),
}
CONFIGS = {**PRESETS, **VARIANTS}


@pytest.mark.parametrize("name", [n for n, c in CONFIGS.items() if not isinstance(c, RollConfig)])
def test_two_steps_per_digit_config(name, tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    # Validation is skipped here (validate_from > 1) to keep this fast; test_validation_split_* covers it.
    path = train(CONFIGS[name], tmp_path, data_path=str(mosaic), max_steps=2, resume=False, validate_from=2.0)
    model, config = load_run(tmp_path)
    assert path.is_file() and config == dataclasses.replace(CONFIGS[name], steps=2)
    assert json.loads((tmp_path / "model.json").read_text())["preset"] == name
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert (tmp_path / "log.txt").read_text().startswith("step ")


@pytest.mark.parametrize("name", [n for n, c in CONFIGS.items() if isinstance(c, RollConfig)])
def test_two_steps_per_roll_config(name, tmp_path):
    from viewshift.planar.features import ROLL_FEATURES

    require_shared_data("photos")
    config = dataclasses.replace(CONFIGS[name], max_photos=2, samples_per_photo=2, batch_size=4, val_photos=False)
    train(config, tmp_path, max_steps=2, resume=False)
    model, loaded = load_run(tmp_path)
    assert loaded == dataclasses.replace(config, steps=2)
    assert model(torch.ones(1, ROLL_FEATURES[config.features], 180)).shape == (1,)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_presets_are_the_shipped_models_configs():
    from viewshift.planar.api import WEIGHTS_DIR

    made = set()
    for path in WEIGHTS_DIR.glob("*.json"):
        config = config_from_dict(json.loads(path.read_text()))
        for member in getattr(config, "members", [config]):
            # Export adds the vanishing-point gate to the roll config; everything else is the preset's.
            gate = {"vanishing_support": 0.0, "vanishing_ambiguity": 0.7, "vanishing_agreement": 0.0}
            trained = dataclasses.replace(member, **gate) if isinstance(member, RollConfig) else member
            assert trained == PRESETS[member.preset], member.preset
            made.add(member.preset)
    assert made == set(PRESETS)


def test_resume_continues_from_the_checkpoint(tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    config = dataclasses.replace(PRESETS["icstn-4-deep-long"], batch_size=8)
    options = {"data_path": str(mosaic), "checkpoint_every": 1, "validate_from": 2.0}
    train(config, tmp_path, max_steps=1, resume=False, **options)
    train(config, tmp_path, max_steps=2, resume=True, **options)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["step"] == 2
    assert len((tmp_path / "log.txt").read_text().splitlines()) == 2


def test_a_time_budget_stops_with_a_checkpoint_and_the_same_command_continues(tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    config = dataclasses.replace(PRESETS["rot-bins-3-val-s1"], batch_size=8)
    options = {"data_path": str(mosaic), "max_steps": 3, "checkpoint_every": 100, "validate_from": 2.0}
    stopped = train(config, tmp_path, max_minutes=1e-9, **options)  # out of time after the first step
    assert stopped.name == "checkpoint.pt" and not (tmp_path / "model.pt").exists()
    assert torch.load(stopped, weights_only=False)["step"] == 1
    assert train(config, tmp_path, **options).name == "model.pt"
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 3


def test_config_round_trip():
    for config in CONFIGS.values():
        assert config_from_dict(json.loads(json.dumps(dataclasses.asdict(config)))) == config


def test_validation_split_selects_a_checkpoint(tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    config = dataclasses.replace(PRESETS["rot-bins-3-val-s1"], batch_size=8, elastic_alpha=1.5, scale_jitter=0.1)
    train(config, tmp_path, data_path=str(mosaic), max_steps=4, resume=False, checkpoint_every=1)
    log = (tmp_path / "log.txt").read_text()
    scores = [float(line.split("val=")[1]) for line in log.splitlines() if "val=" in line]
    assert len(scores) == 3  # steps 2, 3, 4 (validation from half the steps on)
    record = json.loads((tmp_path / "model.json").read_text())
    assert record["val_score"] == pytest.approx(min(scores), abs=1e-5)
    assert record["selected_step"] in (2, 3, 4)
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert all(torch.equal(best["model"][k], saved[k]) for k in saved)


def _export_two_step_ensemble(tmp_path, presets, **train_options):
    """Train each preset for two steps (batch 8) and export them as one ensemble; returns the runs and the loaded
    ensemble."""
    from viewshift.planar.api import load_model
    from viewshift.planar.train import export_weights

    mosaic = require_shared_data("digits", "digits_train.png")
    runs = []
    for i, preset in enumerate(presets):
        run = tmp_path / f"run{i}"
        config = dataclasses.replace(CONFIGS[preset], batch_size=8)
        train(config, run, data_path=str(mosaic), max_steps=2, **train_options)
        runs.append(run)
    export_weights(runs, "ens", tmp_path / "w")
    return runs, load_model("ens", str(tmp_path / "w"))


def test_ensemble_export_loads_and_averages_on_the_circle(tmp_path):
    from viewshift.planar.models import AngleEnsemble

    runs, ensemble = _export_two_step_ensemble(tmp_path, ("rot-bins-3-val-s1", "rot-bins-all-val"), validate_from=2.0)
    assert isinstance(ensemble, AngleEnsemble) and len(ensemble.members) == 2
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        a = [m.decode(m(x)) for m in ensemble.members]
        mean = torch.atan2(sum(torch.sin(torch.deg2rad(t)) for t in a), sum(torch.cos(torch.deg2rad(t)) for t in a))
        assert angle_difference(ensemble.decode(ensemble(x)), torch.rad2deg(mean)).abs().max() < 1e-3
    single, _ = load_run(runs[0])
    alone = AngleEnsemble([single])
    with torch.no_grad():
        assert angle_difference(alone.decode(alone(x)), single.decode(single(x))).abs().max() < 1e-3


def test_align_ensemble_export_loads_and_averages_probabilities(tmp_path):
    from viewshift.planar.models import AlignEnsemble

    runs, ensemble = _export_two_step_ensemble(
        tmp_path, ("icstn-4-deep-long", "icstn-4-deep-long-s1"), validate_from=2.0
    )
    assert isinstance(ensemble, AlignEnsemble) and len(ensemble.members) == 2
    x = torch.rand(6, 1, 28, 28)
    with torch.no_grad():
        probs = sum(torch.softmax(m(x), -1) for m in ensemble.members) / 2
        assert torch.allclose(ensemble(x).exp(), probs, atol=1e-3)  # float16 weights, float32 maths
        assert torch.equal(ensemble.align(x)[0], ensemble.members[0].align(x)[0])
    single, _ = load_run(runs[0])
    with torch.no_grad():
        alone = AlignEnsemble([single])
        assert torch.equal(alone(x).argmax(-1), single(x).argmax(-1))
