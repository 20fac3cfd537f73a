"""`viewshift export` on the command line: formats from names, depth options of render, the CLI vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from viewshift.cli import main


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (24, 32, 3)).astype(np.uint8)
    depth = np.full((24, 32), 2.0, np.float32)
    depth[:, :16] = 1.0
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    np.save(tmp_path / "depth.npy", depth)
    return tmp_path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_mesh_with_a_depth_file(photo, capsys):
    pygltflib = pytest.importorskip("pygltflib")
    out = photo / "photo.glb"
    code, stdout, _ = _run(capsys, "export", photo / "photo.png", "-o", out, "--depth", photo / "depth.npy")
    assert (code, stdout) == (0, f"wrote {out}\n")
    gltf = pygltflib.GLTF2.load(str(out))
    # One vertex per pixel; the depth step between columns 15 and 16 cuts 23 cells (46 triangles) of 23 × 31.
    assert gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION].count == 24 * 32
    assert gltf.accessors[gltf.meshes[0].primitives[0].indices].count == (23 * 31 - 23) * 2 * 3
    code, _, err = _run(capsys, "export", photo / "photo.png", "-o", out, "--depth", photo / "depth.npy")
    assert code == 3 and err.startswith("viewshift: error:") and "already exists" in err


def test_multi_file_formats_and_quiet(photo, capsys):
    common = ("--depth", photo / "depth.npy", "--focal", "30")
    pair = ("-o", photo / "pair.png", "--format", "left-right")
    code, stdout, _ = _run(capsys, "export", photo / "photo.png", *pair, *common)
    assert code == 0 and stdout == f"wrote {photo / 'pair_left.png'}, {photo / 'pair_right.png'}\n"
    args = ("--format", "quilt", "--quilt", "3x2", "--quilt-width", "192", "-q")
    code, stdout, _ = _run(capsys, "export", photo / "photo.png", "-o", photo / "holo.png", *args, *common)
    assert code == 0 and stdout == ""
    quilt = Image.open(photo / "holo_qs3x2a1.333.png")
    assert quilt.size == (3 * 64, 2 * 48)


def test_refusals_before_any_work(photo, capsys):
    code, _, err = _run(capsys, "export", photo / "photo.png", "-o", photo / "x.png")
    assert code == 2 and "--format" in err
    (photo / "up_depth.jpg").write_bytes(b"keep")
    code, _, err = _run(capsys, "export", photo / "photo.png", "-o", photo / "up.jpg", "--format", "photo-depth")
    assert code == 3 and "up_depth.jpg already exists" in err
    assert not (photo / "up.jpg").exists() and (photo / "up_depth.jpg").read_bytes() == b"keep"
    code, _, err = _run(capsys, "export", photo / "missing.png", "-o", photo / "m.glb")
    assert code == 2 and "missing.png" in err
    code, _, err = _run(capsys, "export", photo / "photo.png", "-o", photo / "m.ply", "--format", "mesh")
    assert code == 3 and "'.ply' not one of .glb, .gltf" in err
