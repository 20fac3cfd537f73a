"""The straighten and planar commands: success and one-line errors without overwriting anything."""

from __future__ import annotations

import cv2
import numpy as np

from viewshift.cli import main
from viewshift.planar.roll import rotate_photo, straightened_size


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
    assert level.shape[:2][::-1] == straightened_size(w, h, 6.0)
    assert "roll +6.00° (counter-clockwise, given)" in capsys.readouterr().out
    # Estimated roll on a clean synthetic facade.
    out2 = tmp_path / "level2.png"
    assert main(["straighten", str(src), "-o", str(out2), "--keep-size"]) == 0
    line = capsys.readouterr().out
    assert "from the vanishing point" in line
    est = float(line.split("roll ")[1].split("°")[0])
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
    assert main(["planar", "train", "--preset", "nope", "--out", str(tmp_path / "r")]) == 2
    assert main(["planar", "eval", "--model", "nope"]) == 2
    run = ["planar", "export", "--run", str(tmp_path), "--name", "x", "--weights", str(tmp_path / "w")]
    assert main(run + ["--vanishing-agreement", "10"]) == 2  # needs --vanishing-gate
    assert main(run + ["--vanishing-gate", "0.5", "0.5", "--vanishing-agreement", "-1"]) == 2
    assert "positive number of degrees" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
    assert main(["planar", "presets"]) == 0
    assert "icstn-4" in capsys.readouterr().out


def test_straighten_says_when_the_vanishing_point_disagreed(tmp_path, capsys, monkeypatch):
    import viewshift.planar.api as api
    from viewshift.planar.roll import VerticalVanishing

    found = VerticalVanishing(15.0, 2.0, 0.1)
    monkeypatch.setattr(
        api, "explain_roll", lambda rgb: api.RollEstimate(3.0, "network, vanishing point disagreed", found)
    )
    src = tmp_path / "tilted.png"
    _facade(src, 3.0)
    assert main(["straighten", str(src), "-o", str(tmp_path / "out.png")]) == 0
    line = capsys.readouterr().out
    assert "roll +3.00° (counter-clockwise, from the network; the vertical vanishing point (+15.0°) disagreed" in line
