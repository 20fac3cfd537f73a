"""The command line: outputs written, bad input refused with one line and a non-zero exit code, nothing lost."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.cli import main
from viewshift.io import read_depth, read_image, write_image


@pytest.fixture()
def scene(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 64, 3)).astype(np.uint8)
    write_image(tmp_path / "photo.png", img)
    depth = np.full((48, 64), 2.0, np.float32)
    depth[:, 20:30] = 1.0
    np.save(tmp_path / "depth.npy", depth)
    return tmp_path, img


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def test_render_writes_view_depth_and_mask(scene, capsys):
    tmp, img = scene
    code, err = _run(
        capsys,
        "render",
        tmp / "photo.png",
        "-o",
        tmp / "out.png",
        "--depth",
        tmp / "depth.npy",
        "--focal",
        100,
        "--right",
        0.04,
        "--save-depth",
        tmp / "out_depth.npy",
        "--save-mask",
        tmp / "mask.png",
        "--no-realism",
    )
    assert code == 0, err
    out = read_image(tmp / "out.png").rgb
    assert np.array_equal(out[:, 32:62], img[:, 34:64])  # far plane (Z=2): 100 * 0.04 / 2 = 2 px
    mask = read_image(tmp / "mask.png").rgb[..., 0] > 0
    assert mask[:, -2:].all() and mask.sum() == 48 * (2 + 2)  # border + disocclusion band of 4 - 2 = 2 px
    assert read_depth(tmp / "out_depth.npy").shape == (48, 64)


def test_existing_output_and_input_as_output_are_refused(scene, capsys):
    tmp, _ = scene
    (tmp / "taken.png").write_bytes(b"precious")
    args = ["--depth", tmp / "depth.npy", "--right", 0.01]
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "taken.png", *args)
    assert code == 3 and "exists" in err and len(err.strip().splitlines()) == 1
    assert (tmp / "taken.png").read_bytes() == b"precious"
    before = (tmp / "photo.png").read_bytes()
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "photo.png", "--overwrite", *args)
    assert code == 3 and (tmp / "photo.png").read_bytes() == before


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), ""),
    ],
)
def test_bad_images_give_one_line_errors(scene, capsys, make, needle):
    tmp, _ = scene
    bad = tmp / "bad.png"
    make(bad)
    code, err = _run(capsys, "render", bad, "-o", tmp / "o.png", "--depth", tmp / "depth.npy")
    assert code == 2 and err.startswith("viewshift: error:") and len(err.strip().splitlines()) == 1
    assert needle in err and "Traceback" not in err
    assert not (tmp / "o.png").exists()


@pytest.mark.parametrize("value", [np.nan, 0.0, -1.0])
def test_bad_depth_values_are_refused(scene, capsys, value):
    tmp, _ = scene
    d = np.full((48, 64), 2.0, np.float32)
    d[5, 5] = value
    np.save(tmp / "bad.npy", d)
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "bad.npy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (tmp / "o.png").exists()


def test_wrong_size_depth_and_absurd_move(scene, capsys):
    tmp, _ = scene
    np.save(tmp / "small.npy", np.ones((10, 10), np.float32))
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "small.npy")
    assert code == 2 and "10" in err
    code, err = _run(
        capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "depth.npy", "--forward", 5
    )
    assert code == 2 and "inside the scene" in err
    code, err = _run(
        capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "depth.npy", "--max-pixels", 100
    )
    assert code == 2 and "pixels" in err


@pytest.mark.parametrize("layout, shape", [("sbs", (48, 128, 3)), ("tb", (96, 64, 3)), ("anaglyph", (48, 64, 3))])
def test_stereo_layouts(scene, capsys, layout, shape):
    tmp, _ = scene
    out = tmp / f"st_{layout}.png"
    code, err = _run(
        capsys,
        "stereo",
        tmp / "photo.png",
        "-o",
        out,
        "--depth",
        tmp / "depth.npy",
        "--layout",
        layout,
        "--baseline",
        0.04,
        "--focal",
        100,
    )
    assert code == 0, err
    assert read_image(out).rgb.shape == shape


def test_video_gif_has_the_frames(scene, capsys):
    tmp, _ = scene
    code, err = _run(
        capsys,
        "video",
        tmp / "photo.png",
        "-o",
        tmp / "clip.gif",
        "--depth",
        tmp / "depth.npy",
        "--frames",
        6,
        "--path",
        "circle",
    )
    assert code == 0, err
    import imageio.v3 as iio

    frames = iio.imread(tmp / "clip.gif", index=None)
    assert frames.shape[0] == 6 and frames.shape[1:3] == (48, 64)


def test_depth_command_png_with_preview(scene, capsys):
    tmp, _ = scene
    code, err = _run(capsys, "depth", tmp / "photo.png", "-o", tmp / "d.png", "--depth", tmp / "depth.npy")
    assert code == 0, err
    assert np.allclose(read_depth(tmp / "d.png"), np.load(tmp / "depth.npy"), atol=1e-3)
    assert (tmp / "d_preview.png").exists()


def test_batch_folder_skips_existing_outputs(scene, capsys):
    tmp, img = scene
    src = tmp / "in"
    src.mkdir()
    for name in ("a", "b", "c"):
        write_image(src / f"{name}.png", img)
    depths = tmp / "depths"
    depths.mkdir()
    for name in ("a", "b", "c"):
        np.save(depths / f"{name}.npy", np.full((48, 64), 2.0, np.float32))
    out = tmp / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"keep me")
    code, err = _run(capsys, "render", src, "-o", out, "--depth", depths, "--right", 0.02)
    assert code == 0, err
    assert (out / "a.png").exists() and (out / "c.png").exists()
    assert (out / "b.png").read_bytes() == b"keep me"
    assert "2 written, 1 skipped" in err
