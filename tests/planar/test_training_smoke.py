"""Two training steps of every preset on the CPU, resuming, and evaluation plumbing."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tests.helpers import require_shared_data
from viewshift.planar.angles import angle_difference
from viewshift.planar.configs import PRESETS, RollConfig, config_from_dict
from viewshift.planar.train import load_run, train


@pytest.mark.parametrize("name", [n for n, c in PRESETS.items() if not isinstance(c, RollConfig)])
def test_two_steps_per_digit_preset(name, tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    # Validation is skipped here (validate_from > 1) to keep this fast; test_validation_split_* covers it.
    path = train(PRESETS[name], tmp_path, data_path=str(mosaic), max_steps=2, resume=False, validate_from=2.0)
    model, config = load_run(tmp_path)
    assert path.is_file() and config == dataclasses.replace(PRESETS[name], steps=2)
    assert json.loads((tmp_path / "model.json").read_text())["preset"] == name
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert (tmp_path / "log.txt").read_text().startswith("step ")


@pytest.mark.parametrize("name", [n for n, c in PRESETS.items() if isinstance(c, RollConfig)])
def test_two_steps_per_roll_preset(name, tmp_path):
    from viewshift.planar.roll import ROLL_FEATURES

    require_shared_data("photos")
    config = dataclasses.replace(PRESETS[name], max_photos=2, samples_per_photo=2, batch_size=4, val_photos=False)
    train(config, tmp_path, max_steps=2, resume=False)
    model, loaded = load_run(tmp_path)
    assert loaded == dataclasses.replace(config, steps=2)
    assert model(torch.ones(1, ROLL_FEATURES[config.features], 180)).shape == (1,)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_resume_continues_from_the_checkpoint(tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    config = PRESETS["icstn-2"]
    train(config, tmp_path, data_path=str(mosaic), max_steps=1, resume=False, checkpoint_every=1)
    train(config, tmp_path, data_path=str(mosaic), max_steps=2, resume=True, checkpoint_every=1)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["step"] == 2
    assert len((tmp_path / "log.txt").read_text().splitlines()) == 2


def test_config_round_trip():
    for config in PRESETS.values():
        assert config_from_dict(json.loads(json.dumps(dataclasses.asdict(config)))) == config


def test_validation_split_selects_a_checkpoint(tmp_path):
    mosaic = require_shared_data("digits", "digits_train.png")
    config = dataclasses.replace(PRESETS["rot-bins-3-aug"], batch_size=8)
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
        config = dataclasses.replace(PRESETS[preset], batch_size=8)
        train(config, run, data_path=str(mosaic), max_steps=2, **train_options)
        runs.append(run)
    export_weights(runs, "ens", tmp_path / "w")
    return runs, load_model("ens", str(tmp_path / "w"))


def test_ensemble_export_loads_and_averages_on_the_circle(tmp_path):
    from viewshift.planar.models import AngleEnsemble

    runs, ensemble = _export_two_step_ensemble(tmp_path, ("rot-bins-3-aug", "rot-bins-3-mix"))
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

    runs, ensemble = _export_two_step_ensemble(tmp_path, ("icstn-4-deep", "icstn-4-deep-s1"), validate_from=2.0)
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
