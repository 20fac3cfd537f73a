"""Tests of viewshift.io: image, depth and video files, refusals and atomic writes."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.helpers import require_shared_data
from viewshift import io as vio
from viewshift.errors import DepthError, InputError, OutputError, ShapeError

RNG = np.random.default_rng(0)
NOISE8 = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
NOISE16 = RNG.integers(0, 65536, (5, 7, 3), dtype=np.uint16)


def smooth_image(h: int = 32, w: int = 48) -> np.ndarray:
    """A smooth colour gradient (lossy codecs keep it within a few levels)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], axis=2).astype(np.uint8)


def leftovers(folder: Path) -> list[str]:
    """Temporary files atomic_path may have left behind."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


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


# ------------------------------------------------------------------------------------------ write refusals


def test_write_refuses_existing_output_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError, match="already exists.*overwrite"):
        vio.write_image(out, NOISE8)
    assert out.read_bytes() == b"precious"
    vio.write_image(out, NOISE8, overwrite=True)
    np.testing.assert_array_equal(vio.read_image(out).rgb, NOISE8)
    assert leftovers(tmp_path) == []


def test_write_refuses_output_equal_to_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.png"
    vio.write_image(src, NOISE8)
    before = src.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.png").symlink_to(src)
    os.link(src, tmp_path / "hard.png")  # another name for the same file: caught by samefile
    for out in (src, Path("in.png"), tmp_path / "sub" / ".." / "in.png", tmp_path / "link.png", tmp_path / "hard.png"):
        with pytest.raises(OutputError, match="it is the input"):
            vio.write_image(out, NOISE16, overwrite=True, inputs=[src])
    assert src.read_bytes() == before


def test_write_refuses_missing_folder_bad_extension_bad_array(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        vio.write_image(tmp_path / "no" / "a.png", NOISE8)
    with pytest.raises(OutputError, match="extension '.bmp' not one of"):
        vio.write_image(tmp_path / "a.bmp", NOISE8)
    with pytest.raises(OutputError, match="is a folder"):
        (tmp_path / "d.png").mkdir()
        vio.write_image(tmp_path / "d.png", NOISE8, overwrite=True)
    with pytest.raises(ShapeError, match="uint8 or uint16"):
        vio.write_image(tmp_path / "a.png", NOISE8.astype(np.float32))
    with pytest.raises(ShapeError, match="H×W×3"):
        vio.write_image(tmp_path / "a.png", np.zeros((4, 4, 2), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png"]


def test_check_output_is_what_writers_use(tmp_path: Path) -> None:
    assert vio.check_output(tmp_path / "x.mp4", overwrite=False, inputs=()) == tmp_path / "x.mp4"
    with pytest.raises(OutputError, match="not one of .png"):
        vio.check_output(tmp_path / "x.mp4", overwrite=False, extensions=(".png",))


def test_atomic_path_removes_temp_file_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="writer broke"):
        with vio.atomic_path(out) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp != out
            tmp.write_bytes(b"half")
            raise RuntimeError("writer broke")
    assert out.read_bytes() == b"old"
    assert leftovers(tmp_path) == []
    with vio.atomic_path(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    with pytest.raises(OutputError, match="produced no file"):
        with vio.atomic_path(tmp_path / "never.png"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_write_image_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.write_bytes

    def half_then_fail(self: Path, data: bytes) -> int:
        real(self, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OutputError, match="No space left on device"):
        vio.write_image(tmp_path / "a.png", NOISE8)
    assert list(tmp_path.iterdir()) == []


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


# ------------------------------------------------------------------------------------------ video


def test_write_mp4_even_size(tmp_path: Path) -> None:
    import imageio.v3 as iio

    frames = [np.full((9, 11, 3), 40 * i, np.uint8) for i in range(5)]
    vio.write_video(tmp_path / "v.mp4", iter(frames), fps=10)
    video = iio.imread(tmp_path / "v.mp4")
    assert video.shape == (5, 10, 12, 3)
    np.testing.assert_allclose(video.reshape(5, -1).mean(axis=1), [0, 40, 80, 120, 160], atol=4)
    assert leftovers(tmp_path) == []


def test_write_gif_loops(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [np.tile(np.array(c, np.uint8), (6, 8, 1)) for c in colours]
    vio.write_video(tmp_path / "v.gif", frames, fps=5)
    with Image.open(tmp_path / "v.gif") as im:
        assert im.n_frames == 3 and im.info.get("loop") == 0 and im.info.get("duration") == 200
        for i, c in enumerate(colours):
            im.seek(i)
            np.testing.assert_array_equal(np.asarray(im.convert("RGB"))[0, 0], c)


def test_write_video_refusals_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no frames"):
        vio.write_video(tmp_path / "v.mp4", [], fps=10)
    with pytest.raises(InputError, match="fps"):
        vio.write_video(tmp_path / "v.gif", [NOISE8], fps=0)
    with pytest.raises(OutputError, match="not one of .mp4, .gif"):
        vio.write_video(tmp_path / "v.avi", [NOISE8], fps=10)
    for ext in (".mp4", ".gif"):
        with pytest.raises(ShapeError, match="frame 2 is 8×4 but frame 0 is 7×5"):
            vio.write_video(tmp_path / f"v{ext}", [NOISE8, NOISE8, np.zeros((4, 8, 3), np.uint8)], fps=10)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ inputs


def test_expand_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("b.png", "a.JPG", "c.webp", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert vio.expand_inputs(tmp_path) == [tmp_path / n for n in ("a.JPG", "b.png", "c.webp")]
    assert vio.expand_inputs(tmp_path / "notes.txt") == [tmp_path / "notes.txt"]
    assert vio.expand_inputs(str(tmp_path / "*.png")) == [tmp_path / "b.png"]
    with pytest.raises(InputError, match="no files match"):
        vio.expand_inputs(str(tmp_path / "*.tif"))
    with pytest.raises(InputError, match="holds no images"):
        vio.expand_inputs(tmp_path / "sub")
    with pytest.raises(InputError, match="not found"):
        vio.expand_inputs(tmp_path / "nothing.png")
