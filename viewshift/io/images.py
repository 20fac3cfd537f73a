"""Images: reading (EXIF orientation, 16-bit, alpha), sample conversions, writing.

Conventions: images are ``H×W×3`` (or ``H×W×4`` RGBA) ``uint8``/``uint16`` in RGB order. Reading refuses bad
files with a one-line :class:`~viewshift.errors.InputError`; writing goes through
:func:`viewshift.io.atomic.check_output` and the atomic writer.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from viewshift.errors import InputError, OutputError, ShapeError
from viewshift.io.atomic import check_output, write_bytes
from viewshift.io.exif import orient, read_exif
from viewshift.io.inputs import check_input_file

__all__ = [
    "LoadedImage",
    "check_image_array",
    "encode_image",
    "from_float",
    "read_image",
    "to_float",
    "write_image",
]

# Pillow format names we decode (MPO is how Pillow names many phone JPEGs).
_PIL_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "WEBP", "PPM"}
_WRITE_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
_NO_ALPHA_EXTENSIONS = (".jpg", ".jpeg", ".ppm", ".pgm")
_EIGHT_BIT_EXTENSIONS = (".jpg", ".jpeg", ".webp")


@dataclass
class LoadedImage:
    """An image as read from disk, upright (EXIF orientation applied).

    Attributes:
        rgb: ``H×W×3`` ``uint8`` or ``uint16`` in RGB order.
        alpha: ``H×W`` alpha of the same dtype as ``rgb`` (max value = opaque), or ``None`` without alpha.
        bit_depth: 8 or 16, bits per channel of ``rgb``.
        path: the file it came from, or ``None``.
        focal_35mm: the 35 mm-equivalent focal length in mm from EXIF ``FocalLengthIn35mmFilm``, or computed
            from ``FocalLength`` and the focal-plane resolution (sensor size) when only those are present
            (by the diagonal: ``f35 = f · 43.27 mm / sensor_diagonal``), else ``None``.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    path: Path | None
    focal_35mm: float | None


def _png_bit_depth(path: Path) -> int:
    """Bits per sample from a PNG's IHDR chunk (byte 24), or 8 when it cannot be read."""
    with open(path, "rb") as f:
        head = f.read(25)
    if len(head) == 25 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[24]
    return 8


def _is_sixteen_bit(im: Image.Image, path: Path) -> bool:
    """Whether the file holds more than 8 bits per sample (decoded with OpenCV to keep them)."""
    if im.mode.startswith("I;16") or im.mode == "I":
        return True
    if im.format == "PNG":
        return _png_bit_depth(path) == 16
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))  # BitsPerSample
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) > 8
    if im.format == "PPM":
        return _pnm_maxval(path) > 255
    return False


def _pnm_maxval(path: Path) -> int:
    """The maximum sample value of a PGM/PPM header (1 for bitmaps, 255 when unreadable)."""
    with open(path, "rb") as f:
        head = re.sub(rb"#[^\n]*", b"", f.read(1024))
    tokens = head.split(maxsplit=4)
    if len(tokens) < 4 or tokens[0] in (b"P1", b"P4"):
        return 1
    try:
        return int(tokens[3])
    except ValueError:
        return 255


def _decode_with_opencv(path: Path) -> np.ndarray:
    """Decode keeping 16-bit samples; returns ``H×W``, ``H×W×3`` RGB or ``H×W×4`` RGBA."""
    data = np.fromfile(path, dtype=np.uint8)
    a = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if a is None:
        raise InputError(f"image {path} is corrupt or truncated; re-export it")
    if a.ndim == 3 and a.shape[2] == 3:
        a = cv2.cvtColor(a, cv2.COLOR_BGR2RGB)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_BGRA2RGBA)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype not in (np.uint8, np.uint16) or a.ndim not in (2, 3):
        raise InputError(f"image {path} has unsupported samples ({a.dtype}, shape {a.shape}); use 8/16-bit")
    return a


def _decode_with_pillow(im: Image.Image, path: Path) -> np.ndarray:
    """Decode an 8-bit image to ``H×W×3`` RGB or ``H×W×4`` RGBA uint8 (palettes, grey, CMYK converted)."""
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise InputError(f"image {path} is too large to decode safely ({exc}); downscale it") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"image {path} is corrupt or truncated ({exc}); re-export it") from exc
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))


def read_image(path: str | os.PathLike[str], *, max_pixels: int = 100_000_000) -> LoadedImage:
    """Read an image file upright, keeping 16-bit samples and alpha.

    Supports JPEG, PNG, TIFF, WebP and PPM/PGM. The EXIF orientation is applied, grey becomes 3 equal
    channels, palettes are expanded, RGBA is split into ``rgb`` and ``alpha``; 16-bit PNG/TIFF/PGM stay
    ``uint16``.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this; checked from the header before decoding
            (decompression-bomb guard). Pillow's own guard (``2 · Image.MAX_IMAGE_PIXELS``, about 179 Mpx by
            default) still applies above that and is reported the same way.

    Returns:
        The image; see :class:`LoadedImage`.

    Raises:
        InputError: missing, empty, a folder, corrupt or truncated, an unsupported format, or too many pixels.
    """
    p = check_input_file(path, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(p)
    except Image.DecompressionBombError as exc:
        raise InputError(f"image {p} has too many pixels to decode safely ({exc}); downscale it") from exc
    except UnidentifiedImageError as exc:
        raise InputError(
            f"{p} is not a readable image (corrupt or unsupported format); use JPEG/PNG/TIFF/WebP"
        ) from exc
    except OSError as exc:
        raise InputError(f"image {p} is corrupt or truncated ({exc}); re-export it") from exc
    with im:
        if im.format not in _PIL_FORMATS:
            raise InputError(f"image {p} is {im.format}, which is not supported; convert it to PNG or JPEG")
        width, height = im.size
        if width * height > max_pixels:
            raise InputError(
                f"image {p} is {width}×{height} = {width * height} pixels, "
                f"more than max_pixels={max_pixels}; downscale it or raise max_pixels"
            )
        orientation, focal_35mm = read_exif(im)
        if _is_sixteen_bit(im, p):
            im.close()
            a = _decode_with_opencv(p)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                a = _decode_with_pillow(im, p)
    if a.shape[0] * a.shape[1] != width * height:
        raise InputError(f"image {p} decoded to {a.shape[1]}×{a.shape[0]}, not its header's {width}×{height}")
    a = orient(a, orientation)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    rgb = np.ascontiguousarray(a[:, :, :3])
    alpha = np.ascontiguousarray(a[:, :, 3]) if a.shape[2] == 4 else None
    bit_depth = 16 if rgb.dtype == np.uint16 else 8
    return LoadedImage(rgb=rgb, alpha=alpha, bit_depth=bit_depth, path=p, focal_35mm=focal_35mm)


def to_float(rgb: np.ndarray) -> np.ndarray:
    """Convert integer samples to ``float32`` in [0, 1].

    Args:
        rgb: ``uint8`` (divided by 255) or ``uint16`` (divided by 65535) array of any shape.

    Returns:
        ``float32`` array of the same shape in [0, 1].

    Raises:
        ShapeError: for any other dtype.
    """
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) / np.float32(255.0)
    if rgb.dtype == np.uint16:
        return rgb.astype(np.float32) / np.float32(65535.0)
    raise ShapeError(f"to_float expects uint8 or uint16 samples, got {rgb.dtype}")


def from_float(x: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """Convert floats in [0, 1] to integer samples, rounded to nearest and clipped.

    Args:
        x: float array of any shape; values outside [0, 1] are clipped, NaN becomes 0.
        bit_depth: 8 (``uint8``, 0..255) or 16 (``uint16``, 0..65535).

    Returns:
        Integer array of the same shape.

    Raises:
        InputError: ``bit_depth`` other than 8 or 16.
    """
    if bit_depth not in (8, 16):
        raise InputError(f"bit_depth must be 8 or 16, got {bit_depth}")
    top = 255.0 if bit_depth == 8 else 65535.0
    y = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0)
    y = np.rint(np.clip(y, 0.0, 1.0) * top)
    return y.astype(np.uint8 if bit_depth == 8 else np.uint16)


def check_image_array(array: np.ndarray) -> np.ndarray:
    """Check an image to write: ``H×W``, ``H×W×3`` or ``H×W×4``, ``uint8`` or ``uint16``."""
    a = np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ShapeError(f"image to write must be H×W, H×W×3 or H×W×4, got shape {a.shape}")
    if a.dtype not in (np.uint8, np.uint16):
        raise ShapeError(f"image to write must be uint8 or uint16, got {a.dtype}; convert with from_float")
    return a


def encode_image(a: np.ndarray, suffix: str) -> bytes:
    """Encode an RGB(A)/grey array with OpenCV to the bytes of a ``suffix`` file."""
    if suffix in _NO_ALPHA_EXTENSIONS and a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if suffix in _EIGHT_BIT_EXTENSIONS and a.dtype == np.uint16:
        a = from_float(to_float(a), 8)
    if suffix == ".pgm" and a.ndim == 3:
        raise ShapeError("a .pgm file holds grey images only; write colour as .ppm or .png")
    if suffix == ".ppm" and a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim == 3:
        a = cv2.cvtColor(a, cv2.COLOR_RGB2BGR if a.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, 95]
    elif suffix == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, 95]
    ok, buf = cv2.imencode(suffix, a, params)
    if not ok:
        raise OutputError(f"OpenCV could not encode a {a.shape} {a.dtype} image as {suffix}")
    return buf.tobytes()


def write_image(
    path: str | os.PathLike[str],
    array: np.ndarray,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write an image atomically.

    PNG, TIFF and WebP keep alpha (e.g. holes transparent); JPEG and PPM drop it. ``uint16`` is written as
    16-bit to PNG, TIFF and PPM/PGM and rounded to 8 bits for JPEG and WebP (quality 95).

    Args:
        path: output file (``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff``, ``.webp``, ``.ppm``, ``.pgm``).
        array: ``H×W×3`` RGB, ``H×W×4`` RGBA or ``H×W`` grey, ``uint8`` or ``uint16``.
        overwrite: allow replacing an existing file.
        inputs: the files this run reads; the output may not be one of them.

    Raises:
        OutputError: see :func:`check_output`, or the file could not be written.
        ShapeError: ``array`` of another shape or dtype.
    """
    p = check_output(path, overwrite=overwrite, inputs=inputs, extensions=_WRITE_IMAGE_EXTENSIONS)
    a = check_image_array(array)
    write_bytes(p, encode_image(a, p.suffix.lower()))
