"""Images: lossless and lossy round trips, 16-bit, alpha, grey, palettes; refusals; float conversion."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import require_shared_data
from tests.io.samples import NOISE8, NOISE16, smooth_image
from viewshift import io as vio
from viewshift.errors import InputError, ShapeError

# ------------------------------------------------------------------------------------------ image round trips


@pytest.mark.parametrize("ext", [".png", ".tif", ".ppm"])
@pytest.mark.parametrize("array", [NOISE8, NOISE16], ids=["8bit", "16bit"])
def test_lossless_rgb_round_trip(tmp_path: Path, ext: str, array: np.ndarray) -> None:
    vio.write_image(tmp_path / f"a{ext}", array)
    got = vio.read_image(tmp_path / f"a{ext}")
    assert got.rgb.dtype == array.dtype
    assert got.bit_depth == (16 if array.dtype == np.uint16 else 8)
    np.testing.assert_array_equal(got.rgb, array)
    assert got.alpha is None
    assert got.path == tmp_path / f"a{ext}"


@pytest.mark.parametrize("ext", [".jpg", ".webp"])
def test_lossy_round_trip_and_16bit_downconverted(tmp_path: Path, ext: str) -> None:
    image = smooth_image()
    vio.write_image(tmp_path / f"a{ext}", image)
    got = vio.read_image(tmp_path / f"a{ext}")
    assert got.rgb.dtype == np.uint8 and got.rgb.shape == image.shape
    assert np.abs(got.rgb.astype(int) - image).max() <= 8
    vio.write_image(tmp_path / f"b{ext}", image.astype(np.uint16) * 257)
    got16 = vio.read_image(tmp_path / f"b{ext}")
    assert got16.bit_depth == 8
    assert np.abs(got16.rgb.astype(int) - image).max() <= 8


@pytest.mark.parametrize("ext", [".png", ".pgm", ".tif"])
def test_grey_becomes_three_channels(tmp_path: Path, ext: str) -> None:
    grey = NOISE8[:, :, 0]
    vio.write_image(tmp_path / f"g{ext}", grey)
    got = vio.read_image(tmp_path / f"g{ext}")
    assert got.rgb.shape == (5, 7, 3)
    np.testing.assert_array_equal(got.rgb, np.repeat(grey[:, :, None], 3, axis=2))


@pytest.mark.parametrize("ext", [".png", ".pgm"])
def test_grey_16bit_kept(tmp_path: Path, ext: str) -> None:
    grey = NOISE16[:, :, 0]
    vio.write_image(tmp_path / f"g{ext}", grey)
    got = vio.read_image(tmp_path / f"g{ext}")
    assert got.rgb.dtype == np.uint16 and got.bit_depth == 16
    np.testing.assert_array_equal(got.rgb, np.repeat(grey[:, :, None], 3, axis=2))


@pytest.mark.parametrize("ext", [".png", ".tif", ".webp"])
def test_rgba_keeps_alpha(tmp_path: Path, ext: str) -> None:
    rgb = smooth_image(8, 10)
    alpha = np.full((8, 10), 255, np.uint8)
    alpha[2:5, 3:7] = 0  # a hole
    vio.write_image(tmp_path / f"a{ext}", np.dstack([rgb, alpha]))
    got = vio.read_image(tmp_path / f"a{ext}")
    np.testing.assert_array_equal(got.alpha, alpha)
    if ext != ".webp":
        np.testing.assert_array_equal(got.rgb, rgb)


def test_rgba_16bit_png(tmp_path: Path) -> None:
    rgba = np.dstack([NOISE16, NOISE16[:, :, 1]])
    vio.write_image(tmp_path / "a.png", rgba)
    got = vio.read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(got.rgb, NOISE16)
    np.testing.assert_array_equal(got.alpha, NOISE16[:, :, 1])
    assert got.alpha.dtype == np.uint16


def test_jpeg_drops_alpha(tmp_path: Path) -> None:
    rgba = np.dstack([smooth_image(), np.zeros((32, 48), np.uint8)])
    vio.write_image(tmp_path / "a.jpg", rgba)
    got = vio.read_image(tmp_path / "a.jpg")
    assert got.alpha is None and got.rgb.shape == (32, 48, 3)


def test_palette_and_grey_alpha_pngs(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, 3:] = (200, 10, 30)
    pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    pal.save(tmp_path / "p.png")
    got = vio.read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(got.rgb, rgb)
    assert got.alpha is None
    index_black = pal.getpixel((0, 0))
    pal.save(tmp_path / "pt.png", transparency=index_black)
    got = vio.read_image(tmp_path / "pt.png")
    assert got.alpha is not None
    np.testing.assert_array_equal(got.alpha[:, :3], 0)
    np.testing.assert_array_equal(got.alpha[:, 3:], 255)
    la = np.dstack([np.full((4, 6), 77, np.uint8), np.full((4, 6), 9, np.uint8)])
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    got = vio.read_image(tmp_path / "la.png")
    np.testing.assert_array_equal(got.rgb, 77)
    np.testing.assert_array_equal(got.alpha, 9)


def test_reads_real_photo_and_middlebury_pgm() -> None:
    photo = require_shared_data("photos", "baboon.jpg")
    got = vio.read_image(photo)
    assert got.rgb.dtype == np.uint8 and got.rgb.ndim == 3 and got.rgb.shape[2] == 3
    with Image.open(photo) as im:
        assert got.rgb.shape[:2] == (im.height, im.width)
    pgm = require_shared_data("stereo", "middlebury", "MiddEval2", "Tsukuba", "truedisp.pgm")
    grey = vio.read_image(pgm)
    assert grey.rgb.shape == (288, 384, 3)
    np.testing.assert_array_equal(grey.rgb[:, :, 0], grey.rgb[:, :, 2])


# ------------------------------------------------------------------------------------------ read refusals


def test_read_refuses_missing_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        vio.read_image(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        vio.read_image(tmp_path / "empty.png")
    with pytest.raises(InputError, match="folder"):
        vio.read_image(tmp_path)


def test_read_refuses_corrupt_truncated_unsupported(tmp_path: Path) -> None:
    (tmp_path / "junk.png").write_bytes(b"this is not an image at all")
    with pytest.raises(InputError, match="not a readable image"):
        vio.read_image(tmp_path / "junk.png")
    vio.write_image(tmp_path / "good.png", smooth_image(64, 64))
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt or truncated"):
        vio.read_image(tmp_path / "cut.png")
    vio.write_image(tmp_path / "good.jpg", smooth_image(64, 64))
    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="corrupt or truncated"):
        vio.read_image(tmp_path / "cut.jpg")
    Image.fromarray(smooth_image()).save(tmp_path / "a.bmp")
    with pytest.raises(InputError, match="BMP, which is not supported"):
        vio.read_image(tmp_path / "a.bmp")


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width×height`` but which holds no pixel data (decoding would fail)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = struct.pack(">I", 0) + b"IDAT" + struct.pack(">I", zlib.crc32(b"IDAT"))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk + idat)
    return path


def test_read_refuses_too_many_pixels_before_decoding(tmp_path: Path) -> None:
    vio.write_image(tmp_path / "a.png", NOISE8)
    with pytest.raises(InputError, match="35 pixels, more than max_pixels=34"):
        vio.read_image(tmp_path / "a.png", max_pixels=34)
    assert vio.read_image(tmp_path / "a.png", max_pixels=35).rgb.shape == (5, 7, 3)
    # 12000×10000 = 120 Mpx: refused from the header alone (no data to decode behind it).
    with pytest.raises(InputError, match="max_pixels=100000000"):
        vio.read_image(png_header_only(tmp_path / "big.png", 12000, 10000))
    # Pillow's own bomb guard fires for 2.5 Gpx even with a huge max_pixels; it must come out as InputError.
    with pytest.raises(InputError, match="too many pixels"):
        vio.read_image(png_header_only(tmp_path / "bomb.png", 50000, 50000), max_pixels=10**12)


# ------------------------------------------------------------------------------------------ float conversion


def test_to_float_from_float_exact() -> None:
    np.testing.assert_array_equal(vio.to_float(np.array([0, 255], np.uint8)), [0.0, 1.0])
    np.testing.assert_array_equal(vio.to_float(np.array([0, 65535], np.uint16)), [0.0, 1.0])
    assert vio.to_float(np.zeros(2, np.uint8)).dtype == np.float32
    x = np.array([0.0, 0.5, 1.0, 1.2, -1.0, np.nan, 0.2])
    np.testing.assert_array_equal(vio.from_float(x, 8), [0, 128, 255, 255, 0, 0, 51])
    np.testing.assert_array_equal(vio.from_float(x, 16), [0, 32768, 65535, 65535, 0, 0, 13107])
    all8 = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(vio.from_float(vio.to_float(all8), 8), all8)
    all16 = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    np.testing.assert_array_equal(vio.from_float(vio.to_float(all16), 16), all16)
    with pytest.raises(ShapeError, match="uint8 or uint16"):
        vio.to_float(np.zeros(2, np.float32))
    with pytest.raises(InputError, match="8 or 16"):
        vio.from_float(x, 12)
