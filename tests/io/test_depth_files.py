"""Depth files: exact .npy/.pfm round trips, normalised 16-bit PNG, PFM conventions, refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.helpers import require_shared_data
from tests.io.samples import NOISE8
from viewshift import io as vio
from viewshift.errors import DepthError, InputError, OutputError, ShapeError

# ------------------------------------------------------------------------------------------ depth files


DEPTH = np.linspace(0.5, 20.0, 6 * 9, dtype=np.float32).reshape(6, 9)


@pytest.mark.parametrize("ext", [".npy", ".pfm"])
def test_depth_exact_round_trip(tmp_path: Path, ext: str) -> None:
    depth = DEPTH.copy()
    depth[0, 0] = np.inf
    vio.write_depth(tmp_path / f"d{ext}", depth, preview=False)
    got = vio.read_depth(tmp_path / f"d{ext}")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, depth)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"d{ext}"]


def test_depth_png_normalised_with_text_chunk_and_preview(tmp_path: Path) -> None:
    vio.write_depth(tmp_path / "d.png", DEPTH)
    with Image.open(tmp_path / "d.png") as im:
        assert im.text == {"viewshift:depth_min": "0.5", "viewshift:depth_max": "20.0"}
    raw = vio.read_depth(tmp_path / "d.png", raw=True)
    assert raw.min() == 0 and raw.max() == 65535
    np.testing.assert_array_equal(raw, np.rint((DEPTH.astype(np.float64) - 0.5) / 19.5 * 65535))
    got = vio.read_depth(tmp_path / "d.png")
    assert np.abs(got - DEPTH).max() <= 19.5 / 65535 / 2 + 1e-6
    preview = vio.read_image(tmp_path / "d_preview.png").rgb
    assert preview.shape == (6, 9, 3) and preview.dtype == np.uint8
    near, far = preview[0, 0].astype(int), preview[-1, -1].astype(int)
    assert near[0] > near[2] and far[2] > far[0]  # near warm (red), far cool (blue)


def test_depth_png_constant_and_nonfinite(tmp_path: Path) -> None:
    vio.write_depth(tmp_path / "c.png", np.full((3, 4), 2.5, np.float32), preview=False)
    np.testing.assert_array_equal(vio.read_depth(tmp_path / "c.png"), 2.5)
    bad = DEPTH.copy()
    bad[1, 1] = np.nan
    with pytest.raises(DepthError, match="1 NaN/inf values"):
        vio.write_depth(tmp_path / "n.png", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png"]


def test_depth_raw_16bit_png_from_elsewhere(tmp_path: Path) -> None:
    mm = np.array([[0, 1000], [65535, 2500]], np.uint16)
    cv2.imwrite(str(tmp_path / "kinect.png"), mm)
    np.testing.assert_array_equal(vio.read_depth(tmp_path / "kinect.png"), mm.astype(np.float32))
    cv2.imwrite(str(tmp_path / "rgb.png"), NOISE8)
    with pytest.raises(DepthError, match="3 channels"):
        vio.read_depth(tmp_path / "rgb.png")


def pfm_bytes(rows_bottom_up: np.ndarray, *, little: bool, colour: bool = False) -> bytes:
    h, w = rows_bottom_up.shape[:2]
    header = f"{'PF' if colour else 'Pf'}\n{w} {h}\n{-1.0 if little else 1.0}\n".encode()
    return header + rows_bottom_up.astype("<f4" if little else ">f4").tobytes()


@pytest.mark.parametrize("little", [True, False], ids=["little-endian", "big-endian"])
def test_pfm_endianness_and_bottom_up_rows(tmp_path: Path, little: bool) -> None:
    stored = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)  # first stored row = bottom of image
    (tmp_path / "d.pfm").write_bytes(pfm_bytes(stored, little=little))
    np.testing.assert_array_equal(vio.read_depth(tmp_path / "d.pfm"), [[4, 5, 6], [1, 2, 3]])


def test_pfm_refusals(tmp_path: Path) -> None:
    (tmp_path / "c.pfm").write_bytes(pfm_bytes(np.ones((2, 3, 3), np.float32), little=True, colour=True))
    with pytest.raises(DepthError, match="colour"):
        vio.read_depth(tmp_path / "c.pfm")
    (tmp_path / "t.pfm").write_bytes(pfm_bytes(np.ones((2, 3), np.float32), little=True)[:-5])
    with pytest.raises(DepthError, match="truncated"):
        vio.read_depth(tmp_path / "t.pfm")
    (tmp_path / "h.pfm").write_bytes(b"P7\n3 2\n-1\n" + bytes(24))
    with pytest.raises(DepthError, match="bad header"):
        vio.read_depth(tmp_path / "h.pfm")


def test_depth_npy_shapes_and_refusals(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", DEPTH[None].astype(np.float64))
    got = vio.read_depth(tmp_path / "a.npy")
    assert got.dtype == np.float32 and got.shape == (6, 9)
    np.save(tmp_path / "b.npy", np.zeros((2, 3, 4)))
    with pytest.raises(DepthError, match=r"shape \(2, 3, 4\)"):
        vio.read_depth(tmp_path / "b.npy")
    (tmp_path / "c.npy").write_bytes(b"garbage")
    with pytest.raises(DepthError, match="not a readable .npy"):
        vio.read_depth(tmp_path / "c.npy")
    (tmp_path / "d.exr").write_bytes(b"x")
    with pytest.raises(DepthError, match="not one of .npy, .png, .pfm"):
        vio.read_depth(tmp_path / "d.exr")
    with pytest.raises(InputError, match="not found"):
        vio.read_depth(tmp_path / "missing.npy")


def test_write_depth_checks_preview_before_writing(tmp_path: Path) -> None:
    (tmp_path / "d_preview.png").write_bytes(b"keep")
    with pytest.raises(OutputError, match="d_preview.png already exists"):
        vio.write_depth(tmp_path / "d.npy", DEPTH)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d_preview.png"]
    with pytest.raises(ShapeError, match="H×W"):
        vio.write_depth(tmp_path / "e.npy", np.zeros((2, 2, 2)), preview=False)


def test_middlebury_pfm_is_top_down() -> None:
    """Warping the right view with the GT disparity must reproduce the left view, which only works unflipped."""
    scene = require_shared_data("stereo", "middlebury", "MiddEval3", "trainingQ", "Teddy")
    disp = vio.read_depth(scene / "disp0GT.pfm")
    left = vio.to_float(vio.read_image(scene / "im0.png").rgb).mean(axis=2)
    right = vio.to_float(vio.read_image(scene / "im1.png").rgb).mean(axis=2)
    assert disp.shape == left.shape

    def warp_error(d: np.ndarray) -> float:
        known = np.isfinite(d)
        ys, xs = np.nonzero(known)
        xr = np.rint(xs - d[known]).astype(int)
        inside = (xr >= 0) & (xr < left.shape[1])
        return float(np.abs(left[ys[inside], xs[inside]] - right[ys[inside], xr[inside]]).mean())

    assert warp_error(disp) < 0.5 * warp_error(disp[::-1])
