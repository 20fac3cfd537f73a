"""``viewshift depth F1 F2 ... | VIDEO | --clip DIR`` and ``--clip`` on render: outputs, their depth against the
ray-cast scene's exact depth, one-line refusals with nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from tests.multiview.scene import render, sideways_poses
from viewshift.cli import main
from viewshift.io import read_image, write_image
from viewshift.learn.metrics import depth_metrics


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames, depths, K = render(sideways_poses())
    root = tmp_path_factory.mktemp("clip")
    (root / "frames").mkdir()
    for i, f in enumerate(frames):
        write_image(root / "frames" / f"{i:06d}.png", f)
    return root, depths, K


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv] + ["--threads", "1"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_depth_of_several_frames(clip, capsys, tmp_path):
    root, depths, K = clip
    files = sorted((root / "frames").iterdir())
    code, out, err = run(capsys, "depth", *files, "--ref", 2, "--focal", K[0, 0], "-o", tmp_path / "d.npy")
    assert code == 0, err
    assert out.startswith("wrote ") and out.count("\n") == 1 and "d_confidence.png" in out
    depth = np.load(tmp_path / "d.npy")
    assert depth_metrics(depth, depths[2]).abs_rel < 0.05
    conf = read_image(tmp_path / "d_confidence.png").rgb[..., 0]
    assert conf.shape == depth.shape and (conf > 77).mean() > 0.5  # confidence > 0.3 on most pixels
    assert (tmp_path / "d_preview.png").exists()


def test_depth_of_a_clip_folder_searches_the_focal(clip, capsys, tmp_path):
    root, depths, _ = clip
    code, out, err = run(capsys, "depth", "--clip", root, "-o", tmp_path / "d.pfm", "--ref", 1, "-q")
    assert code == 0, err
    assert out == ""
    assert (tmp_path / "d.pfm").exists() and (tmp_path / "d_confidence.png").exists()


def test_photo_depth_and_render_from_a_clip(clip, capsys, tmp_path):
    root, depths, K = clip
    photo = root / "frames" / "000002.png"
    others = tmp_path / "others"
    others.mkdir()
    for i in (0, 1, 3, 4):
        write_image(others / f"{i}.png", read_image(root / "frames" / f"{i:06d}.png").rgb)
    code, _, err = run(capsys, "depth", photo, "--clip", others, "--focal", K[0, 0], "-o", tmp_path / "d.npy")
    assert code == 0, err
    assert depth_metrics(np.load(tmp_path / "d.npy"), depths[2]).abs_rel < 0.05
    code, out, err = run(capsys, "render", photo, "--clip", others, "--right", 0.05, "-o", tmp_path / "view.png")
    assert code == 0, err
    assert out.startswith("wrote ") and read_image(tmp_path / "view.png").rgb.shape == (180, 240, 3)


def test_refusals_write_nothing(clip, capsys, tmp_path):
    root, _, _ = clip
    frame = root / "frames" / "000000.png"
    code, _, err = run(capsys, "depth", frame, frame, "-o", tmp_path / "d.npy")
    assert code == 2 and err.startswith("viewshift: error: no parallax, no depth") and err.count("\n") == 1
    small = tmp_path / "small.png"
    write_image(small, read_image(frame).rgb[:100])
    code, _, err = run(capsys, "depth", frame, small, "-o", tmp_path / "d.npy")
    assert code == 2 and "one size" in err
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 50)
    code, _, err = run(capsys, "depth", bad, "-o", tmp_path / "d.npy")
    assert code == 2 and "cannot be decoded" in err
    code, _, err = run(capsys, "depth", frame, "--clip", tmp_path / "missing", "-o", tmp_path / "d.npy")
    assert code == 2 and "not found" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "small.png"]


def test_depth_model_fills_what_the_clip_cannot_match(clip, capsys, tmp_path, monkeypatch):
    """--depth-model with --clip: the model's depth, aligned to the geometry, fills the low-confidence pixels.

    The "model" here gives the true depth up to a power law (right shape, wrong scale and exponent): the fill must
    then follow the truth on the filled pixels far better than the built-in network's fill, and leave the confident
    pixels as they were.
    """
    import viewshift.commands
    from viewshift.depth.base import DepthMap

    root, depths, K = clip
    asked = []

    class TruthShaped:
        def estimate(self, rgb):
            return DepthMap(3.0 * depths[2] ** 0.7, "relative")

    monkeypatch.setattr(viewshift.commands, "open_depth_model", lambda spec, args: asked.append(spec) or TruthShaped())
    frames = sorted((root / "frames").glob("*.png"))
    common = [*frames, "--focal", K[0, 0], "--ref", 2, "-q"]
    code, _, err = run(capsys, "depth", *common, "-o", tmp_path / "a.npy")
    assert code == 0, err
    code, _, err = run(capsys, "depth", *common, "--depth-model", "truth-shaped", "-o", tmp_path / "b.npy")
    assert code == 0, err
    assert asked == ["truth-shaped"]
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    conf = read_image(tmp_path / "a_confidence.png").rgb.astype(np.float32) / 255
    conf = conf if conf.ndim == 2 else conf[..., 0]
    filled, sure = conf < 0.1, conf > 0.3
    assert 0.02 < filled.mean() < 0.5  # the scene has both kinds of pixels
    assert np.median(np.abs(np.log(b[sure] / a[sure]))) < 1e-4  # only the guided upsampling's reach differs
    truth = depths[2] * np.median(a[sure] / depths[2][sure])  # the truth in the geometry's unit

    def err_filled(d):
        return float(np.median(np.abs(d[filled] - truth[filled]) / truth[filled]))

    # measured 0.011 against 0.019 (the fill's cost check, on since round 8, propagates where the sweep can judge,
    # which narrowed the built-in fill's error from more than twice the model's)
    assert err_filled(b) < 0.7 * err_filled(a) and err_filled(b) < 0.03, (err_filled(b), err_filled(a))
    # a single photo with --clip takes the same fill
    code, _, err = run(capsys, "depth", frames[2], "--clip", root / "frames", "--focal", K[0, 0],
                       "--depth-model", "truth-shaped", "-o", tmp_path / "c.npy")  # fmt: skip
    assert code == 0 and asked == ["truth-shaped"] * 2, err


def test_clip_with_another_depth_source_is_refused(clip, capsys, tmp_path):
    root, _, _ = clip
    frame = root / "frames" / "000000.png"
    for flag in ("--depth", "--stereo-right"):
        code, _, err = run(
            capsys,
            "render",
            frame,
            "--clip",
            root / "frames",
            flag,
            frame,
            "--depth-baseline",
            0.1,
            "-o",
            tmp_path / "v.png",
        )
        assert (
            code == 2
            and err.startswith("viewshift: error: ")
            and f"--clip and {flag} both give depth" in err
            and err.count("\n") == 1
        ), err
    assert list(tmp_path.iterdir()) == []
