"""Point cloud, splat, depth-JPEG, photo+depth, quilt and left/right exports, each read back with a reader
independent of the writer (trimesh for PLY, exiftool for XMP, Pillow for images)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.export.scenes import red_centroid_x, square_scene, step_scene
from viewshift.errors import InputError
from viewshift.export import ExportOptions, export_scene, infer_format
from viewshift.export.depth_jpeg import decode_range_inverse
from viewshift.export.quilt import parse_quilt_name
from viewshift.export.splats import SH_C0

trimesh = pytest.importorskip("trimesh", reason="trimesh reads the PLY files back")


def _photo(scene) -> np.ndarray:
    return np.rint(scene.image[0, :3].permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def _backprojected(scene) -> np.ndarray:
    return scene.points[0].permute(1, 2, 0).numpy().reshape(-1, 3)


def test_point_cloud_ply(tmp_path):
    scene = step_scene()
    (out,) = export_scene(scene, tmp_path / "cloud.ply", options=ExportOptions(max_side=64))
    cloud = trimesh.load(out)
    np.testing.assert_allclose(cloud.vertices, _backprojected(scene), atol=1e-6)
    np.testing.assert_array_equal(cloud.colors[:, :3], _photo(scene).reshape(-1, 3))
    assert b"OpenCV axes" in out.read_bytes()[:400]


def test_point_cloud_subsampled(tmp_path):
    scene = step_scene(12, 16)
    (out,) = export_scene(scene, tmp_path / "cloud.ply", options=ExportOptions(max_side=6))
    # step ceil(15 / 5) = 3: columns 0 3 6 9 12 15, rows 0 3 6 9 11.
    assert len(trimesh.load(out).vertices) == 6 * 5


def test_gaussian_splat_ply(tmp_path):
    scene = step_scene()
    (out,) = export_scene(scene, tmp_path / "splats.ply", "splats", options=ExportOptions(max_side=64))
    data = trimesh.load(out).metadata["_ply_raw"]["vertex"]["data"]
    names = data.dtype.names
    for required in ["x", "y", "z", "opacity", *(f"f_dc_{i}" for i in range(3))]:
        assert required in names
    assert [f"scale_{i}" for i in range(3)] == [n for n in names if n.startswith("scale_")]
    assert [f"rot_{i}" for i in range(4)] == [n for n in names if n.startswith("rot_")]
    xyz = np.stack([data["x"], data["y"], data["z"]], 1)
    np.testing.assert_allclose(xyz, _backprojected(scene), atol=1e-6)
    colour = 0.5 + SH_C0 * np.stack([data[f"f_dc_{i}"] for i in range(3)], 1)
    np.testing.assert_allclose(colour * 255, _photo(scene).reshape(-1, 3), atol=1e-3)
    alpha = 1 / (1 + np.exp(-data["opacity"]))
    np.testing.assert_allclose(alpha, 0.98, atol=1e-6)
    # Footprint: sigma = 0.5 * step * z / f with step 1, f 20.
    np.testing.assert_allclose(np.exp(data["scale_0"]), 0.5 * xyz[:, 2] / 20.0, rtol=1e-5)
    assert (data["scale_2"] < data["scale_0"]).all()
    quat = np.stack([data[f"rot_{i}"] for i in range(4)], 1)
    np.testing.assert_allclose(np.linalg.norm(quat, axis=1), 1.0)


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool (Debian libimage-exiftool-perl) reads the XMP")
def test_depth_jpeg_read_by_exiftool(tmp_path):
    scene, mask = square_scene()
    (out,) = export_scene(scene, tmp_path / "photo.jpg")
    meta = json.loads(subprocess.run(["exiftool", "-j", "-XMP-GDepth:all", str(out)], capture_output=True).stdout)[0]
    assert meta["Format"] == "RangeInverse" and meta["Mime"] == "image/png"
    near, far = float(meta["Near"]), float(meta["Far"])
    assert (near, far) == (1.0, 4.0)
    png = subprocess.run(["exiftool", "-b", "-XMP-GDepth:DepthImage", str(out)], capture_output=True).stdout
    depth_png = tmp_path / "depth.png"
    depth_png.write_bytes(png)
    values = np.asarray(Image.open(depth_png))
    depth = decode_range_inverse(values, near, far)
    np.testing.assert_allclose(depth, np.where(mask, 1.0, 4.0), rtol=1e-6)
    photo = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert np.abs(photo - _photo(scene)).mean() < 3  # JPEG at quality 95


def test_depth_jpeg_main_xmp_read_by_pillow(tmp_path):
    pytest.importorskip("defusedxml", reason="Pillow parses XMP with defusedxml")
    scene, _ = square_scene()
    (out,) = export_scene(scene, tmp_path / "photo.jpg")
    with Image.open(out) as im:
        desc = im.getxmp()["xmpmeta"]["RDF"]["Description"]
    assert desc["Format"] == "RangeInverse" and float(desc["Far"]) == 4.0 and len(desc["HasExtendedXMP"]) == 32


def test_photo_and_depth_pair(tmp_path):
    scene, mask = square_scene()
    photo, depth = export_scene(scene, tmp_path / "upload.png", "photo-depth")
    assert depth.name == "upload_depth.png"
    np.testing.assert_array_equal(np.asarray(Image.open(photo).convert("RGB")), _photo(scene))
    grey = np.asarray(Image.open(depth))
    assert grey.shape == mask.shape and grey.dtype == np.uint8
    assert (grey[mask] == 255).all() and (grey[~mask] == 0).all()  # lighter = nearer


def test_quilt_name_layout_and_parallax(tmp_path):
    scene, _ = square_scene()
    opts = ExportOptions(cols=4, rows=2, quilt_width=256, divergence=8.0)
    (out,) = export_scene(scene, tmp_path / "holo.png", "quilt", options=opts)
    cols, rows, aspect = parse_quilt_name(out.name)
    assert (cols, rows) == (4, 2) and aspect == pytest.approx(64 / 48, abs=1e-3)
    assert infer_format(out) == "quilt"
    quilt = np.asarray(Image.open(out).convert("RGB"))
    assert quilt.shape == (2 * 48, 4 * 64, 3)
    first = quilt[48:, :64]  # view 0: bottom-left, the leftmost camera
    last = quilt[:48, 192:]  # view 7: top-right, the rightmost camera
    # The near square (nearer than the focal plane) moves against the camera: right in the leftmost view.
    shift = red_centroid_x(first) - red_centroid_x(last)
    assert shift > 2.0
    # Views step evenly: the 4th view lies between.
    middle = quilt[48:, 192:]
    assert red_centroid_x(last) < red_centroid_x(middle) < red_centroid_x(first)


def test_left_right_files(tmp_path):
    scene, _ = square_scene()
    left, right = export_scene(scene, tmp_path / "pair.png", "left-right", options=ExportOptions(divergence=5.0))
    assert (left.name, right.name) == ("pair_left.png", "pair_right.png")
    l_img, r_img = (np.asarray(Image.open(p).convert("RGB")) for p in (left, right))
    assert l_img.shape == r_img.shape == (48, 64, 3)
    # Parallel eyes: near content sits further right in the left eye, by about 5 % of the width.
    disparity = red_centroid_x(l_img) - red_centroid_x(r_img)
    assert 0.6 * 3.2 < disparity < 1.4 * 3.2


def test_format_inference_and_refusals(tmp_path):
    assert infer_format("x.gltf") == "mesh"
    with pytest.raises(InputError, match="--format"):
        infer_format("x.png")
    with pytest.raises(InputError, match="unknown export format"):
        export_scene(step_scene(), tmp_path / "x.png", "obj")
    assert not list(tmp_path.iterdir())
