"""EXIF: orientation (against Pillow) and the 35 mm-equivalent focal length."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.io.samples import NOISE16, smooth_image
from viewshift import io as vio


def jpeg_with_exif(path: Path, image: np.ndarray, **tags: float) -> None:
    """Save ``image`` as JPEG with an orientation and/or focal tags."""
    exif = Image.Exif()
    if "orientation" in tags:
        exif[0x0112] = int(tags["orientation"])
    ifd = exif.get_ifd(0x8769)
    names = {"f35": 0xA405, "focal": 0x920A, "xres": 0xA20E, "yres": 0xA20F, "unit": 0xA210}
    for name, tag in names.items():
        if name in tags:
            ifd[tag] = tags[name]
    Image.fromarray(image).save(path, quality=100, exif=exif)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    image = smooth_image(24, 40)
    image[:4, :4] = (255, 0, 0)  # a marker in the stored top-left corner
    jpeg_with_exif(tmp_path / "o.jpg", image, orientation=orientation)
    got = vio.read_image(tmp_path / "o.jpg")
    with Image.open(tmp_path / "o.jpg") as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    np.testing.assert_array_equal(got.rgb, expected)
    assert got.rgb.shape == ((24, 40, 3) if orientation <= 4 else (40, 24, 3))


def test_exif_orientation_6_turns_clockwise(tmp_path: Path) -> None:
    image = np.zeros((24, 40, 3), np.uint8)
    image[:8, :8] = (255, 0, 0)  # stored top-left; orientation 6 = rotate 90° clockwise to view
    jpeg_with_exif(tmp_path / "o.jpg", image, orientation=6)
    got = vio.read_image(tmp_path / "o.jpg").rgb
    assert got.shape == (40, 24, 3)
    assert got[2, -3, 0] > 200 and got[-3, 2, 0] < 50  # now top-right


def test_exif_orientation_on_16bit_png(tmp_path: Path) -> None:
    image = NOISE16[:, :, 0]
    with Image.open(_png16(tmp_path / "a.png", image)) as im:
        exif = Image.Exif()
        exif[0x0112] = 8
        im.save(tmp_path / "b.png", exif=exif)
    got = vio.read_image(tmp_path / "b.png")
    assert got.rgb.dtype == np.uint16
    np.testing.assert_array_equal(got.rgb[:, :, 0], np.rot90(image, k=1))


def _png16(path: Path, grey: np.ndarray) -> Path:
    cv2.imwrite(str(path), grey)
    return path


def test_focal_35mm_from_exif(tmp_path: Path) -> None:
    image = smooth_image(30, 40)
    jpeg_with_exif(tmp_path / "a.jpg", image, f35=28)
    assert vio.read_image(tmp_path / "a.jpg").focal_35mm == pytest.approx(28.0)
    # 40×30 px at 10 px/mm (unit 4 = mm) is a 4×3 mm sensor, diagonal 5 mm; f = 5 mm → f35 = 43.267 mm.
    jpeg_with_exif(tmp_path / "b.jpg", image, focal=5.0, xres=10.0, yres=10.0, unit=4)
    assert vio.read_image(tmp_path / "b.jpg").focal_35mm == pytest.approx(np.hypot(36, 24), rel=1e-6)
    jpeg_with_exif(tmp_path / "c.jpg", image, focal=5.0)  # no sensor size: unknown
    assert vio.read_image(tmp_path / "c.jpg").focal_35mm is None
    jpeg_with_exif(tmp_path / "d.jpg", image, f35=0)  # 0 means unknown in EXIF
    assert vio.read_image(tmp_path / "d.jpg").focal_35mm is None
