"""The straighten and planar commands: success and one-line errors without overwriting anything."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from viewshift.cli import main
from viewshift.planar.photo import crop_size, rotate_photo

NOTE = "viewshift: note: {} is deprecated and will be removed in the next release; use {}"


def _facade(path, roll):
    img = np.full((240, 320, 3), 90, np.uint8)
    for y in range(20, 240, 40):
        cv2.rectangle(img, (20, y), (300, y + 20), (230, 220, 200), -1)
    for x in range(30, 320, 60):
        cv2.line(img, (x, 0), (x, 239), (30, 30, 30), 3)
    tilted = rotate_photo(img, roll, crop=True)
    cv2.imwrite(str(path), tilted[:, :, ::-1])
    return tilted


def test_straighten_writes_a_levelled_crop(tmp_path, capsys):
    src = tmp_path / "tilted.png"
    tilted = _facade(src, 6.0)
    out = tmp_path / "level.png"
    assert main(["straighten", str(src), "-o", str(out), "--roll", "6"]) == 0
    level = cv2.imread(str(out))
    h, w = tilted.shape[:2]
    assert level.shape[:2][::-1] == crop_size(w, h, 6.0)
    assert (
        capsys.readouterr().out
        == f"wrote {out} ({level.shape[1]}×{level.shape[0]}), levelled: camera roll +6.00° (given)\n"
    )
    # Estimated roll on a clean synthetic facade.
    out2 = tmp_path / "level2.png"
    assert main(["straighten", str(src), "-o", str(out2), "--keep-size"]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"wrote {out2} (") and "(from the vanishing point)" in line
    est = float(line.split("camera roll ")[1].split("°")[0])
    assert abs(est - 6.0) < 0.5  # the facade's verticals give the roll (vanishing-point gate)
    assert cv2.imread(str(out2)).shape[:2] == (h, w)


def test_straighten_says_when_the_network_answered(tmp_path, capsys):
    src = tmp_path / "noise.png"
    cv2.imwrite(str(src), np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8))
    assert main(["straighten", str(src), "-o", str(tmp_path / "out.png")]) == 0
    assert "no clear vertical vanishing point" in capsys.readouterr().out


def test_straighten_keeps_a_grey_photo_grey(tmp_path):
    src = tmp_path / "grey.png"
    cv2.imwrite(str(src), _facade(tmp_path / "colour.png", 4.0)[:, :, 1])
    out = tmp_path / "level.png"
    assert main(["straighten", str(src), "-o", str(out), "--roll", "4"]) == 0
    level = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert level.ndim == 2 and level.dtype == np.uint8
    colour = tmp_path / "level_colour.png"
    assert main(["straighten", str(tmp_path / "colour.png"), "-o", str(colour), "--roll", "4"]) == 0
    assert cv2.imread(str(colour), cv2.IMREAD_UNCHANGED).ndim == 3


def test_straighten_bad_inputs_are_one_line_errors(tmp_path, capsys):
    src = tmp_path / "in.png"
    _facade(src, 3.0)
    before = src.read_bytes()
    assert main(["straighten", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o.png")]) == 2
    assert main(["straighten", str(src), "-o", str(src), "--overwrite"]) == 3  # never the input
    out = tmp_path / "exists.png"
    out.write_bytes(b"keep")
    assert main(["straighten", str(src), "-o", str(out)]) == 3
    assert out.read_bytes() == b"keep"
    assert main(["straighten", str(src), "-o", str(tmp_path / "x.png"), "--roll", "80"]) == 2
    assert main(["straighten", str(src), "-o", str(tmp_path / "nofolder" / "x.png")]) == 3
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    assert main(["straighten", str(junk), "-o", str(tmp_path / "y.png")]) == 2
    assert src.read_bytes() == before
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("viewshift: error: ") for line in err)
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def test_planar_commands_reject_unknown_names(tmp_path, capsys):
    assert main(["planar", "train", "--preset", "nope", "-o", str(tmp_path / "r")]) == 2
    with pytest.raises(SystemExit) as exit_:  # no run folder: argparse's usage error
        main(["planar", "train", "--preset", "roll-tilt"])
    assert exit_.value.code == 2
    assert main(["planar", "eval", "--model", "nope"]) == 2
    run = ["planar", "export", "--run", str(tmp_path), "--name", "x", "-o", str(tmp_path / "w")]
    assert main(run + ["--vanishing-agreement", "10"]) == 2  # needs --vanishing-gate
    assert main(run + ["--vanishing-gate", "0.5", "0.5", "--vanishing-agreement", "-1"]) == 2
    assert "positive number of degrees" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
    assert main(["planar", "presets"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["rot-bins-all-val", "rot-bins-3-val-s1", "icstn-4-deep-long", "icstn-4-deep-long-s1", "roll-tilt"]


def test_straighten_says_when_the_vanishing_point_disagreed(tmp_path, capsys, monkeypatch):
    import viewshift.planar.api as api
    from viewshift.planar.vanishing import VerticalVanishing

    found = VerticalVanishing(15.0, 2.0, 0.1)
    monkeypatch.setattr(
        api, "explain_roll", lambda rgb: api.RollEstimate(3.0, "network, vanishing point disagreed", found)
    )
    src = tmp_path / "tilted.png"
    _facade(src, 3.0)
    assert main(["straighten", str(src), "-o", str(tmp_path / "out.png")]) == 0
    line = capsys.readouterr().out
    assert "camera roll +3.00° (from the network; the vertical vanishing point (+15.0°) disagreed" in line


def _verticals(path):
    """An upright picture of long vertical bars (world verticals) on grey, written to ``path``."""
    img = np.full((240, 320, 3), 200, np.uint8)
    for x in range(40, 300, 40):
        cv2.line(img, (x, 20), (x, 220), (20, 20, 20), 3)
    cv2.imwrite(str(path), img)


def test_render_roll_then_straighten_roll_comes_back_level(tmp_path, capsys):
    from viewshift.planar.vanishing import vertical_vanishing_roll

    src, depth = tmp_path / "upright.png", tmp_path / "depth.npy"
    _verticals(src)
    np.save(depth, np.full((240, 320), 5.0, np.float32))  # a plane facing the camera: a roll just turns the picture
    rendered = tmp_path / "rolled.png"
    assert main(["render", str(src), "--depth", str(depth), "--roll", "8", "-o", str(rendered), "--fill", "none"]) == 0
    tilt = vertical_vanishing_roll(cv2.imread(str(rendered))[:, :, ::-1].copy()).roll
    assert abs(tilt - 8.0) < 0.3  # the camera rolled clockwise: the content turned counter-clockwise
    for roll, expected in (("8", 0.0), ("-8", 16.0)):  # the same number levels it; the opposite sign doubles it
        out = tmp_path / f"straight{roll}.png"
        assert main(["straighten", str(rendered), "--roll", roll, "-o", str(out)]) == 0
        found = vertical_vanishing_roll(cv2.imread(str(out))[:, :, ::-1].copy())
        assert abs(found.roll - expected) < 0.3
    capsys.readouterr()


def test_old_spellings_still_work_and_say_they_are_deprecated(tmp_path, capsys):
    src = tmp_path / "tilted.png"
    _facade(src, 5.0)
    new, old = tmp_path / "new.png", tmp_path / "old.png"
    assert main(["straighten", str(src), "-o", str(new), "--roll", "5", "--keep-size", "--corner-fill", "white"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["straighten", str(src), "-o", str(old), "--roll", "5", "--keep-size", "--fill", "white"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [NOTE.format("--fill", "--corner-fill")]
    assert np.array_equal(cv2.imread(str(new)), cv2.imread(str(old)))
    corners = cv2.imread(str(new))[:2, :2]
    assert (corners == 255).all()  # white corners, not the default black
    # eval --json and export --weights: the deprecation line comes before anything else is done.
    assert main(["planar", "eval", "--model", "nope", "--json", str(tmp_path / "e.json")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == NOTE.format("--json", "-o/--output") and err[1].startswith("viewshift: error:")
    export = ["planar", "export", "--run", str(tmp_path), "--name", "x", "--weights", str(tmp_path / "w")]
    assert main(export + ["--vanishing-agreement", "5"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == NOTE.format("--weights", "-o/--output")


def test_train_accepts_out_for_one_release_and_quiet_silences_the_success_line(tmp_path, capsys):
    from tests.helpers import require_shared_data

    mosaic = require_shared_data("digits", "digits_train.png")
    run = tmp_path / "run"
    args = ["planar", "train", "--preset", "rot-bins-3-val-s1", "--steps", "1", "--data", str(mosaic), "--threads", "1"]
    assert main(args + ["--out", str(run)]) == 0
    captured = capsys.readouterr()
    assert captured.err == NOTE.format("--out", "-o/--output") + "\n"
    assert captured.out == f"wrote {run / 'model.pt'}\n"
    assert main(args + ["-o", str(tmp_path / "run2"), "-q", "--seed", "3"]) == 0
    assert capsys.readouterr().out == ""
    import json

    assert json.loads((tmp_path / "run2" / "model.json").read_text())["seed"] == 3


def test_every_planar_option_has_help_with_its_default():
    import argparse
    import os

    from viewshift.cli_args import HelpFormatter
    from viewshift.planar.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    subs = {}
    for action in parser._subparsers._group_actions[0].choices.items():
        subs[action[0]] = action[1]
    planar = subs.pop("planar")
    subs.update({f"planar {k}": v for k, v in planar._subparsers._group_actions[0].choices.items()})
    for name, sub in subs.items():
        for action in sub._actions:
            if (
                isinstance(action, argparse._HelpAction)
                or not action.option_strings
                or action.help == argparse.SUPPRESS
            ):
                continue  # old spellings are hidden
            assert action.help, f"{name} {action.option_strings} has no help"
            shown = HelpFormatter("viewshift")._get_help_string(action)  # the help with its default, as printed
            if not action.required and action.default not in (None, False):
                assert "default" in shown, f"{name} {action.option_strings}: {shown}"
        threads = [a for a in sub._actions if "--threads" in a.option_strings]
        if threads:
            assert threads[0].default == os.cpu_count()
