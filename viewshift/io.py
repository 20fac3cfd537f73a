"""Every file viewshift reads or writes: images (EXIF, 16-bit, alpha), depth maps, videos; atomic writes.

Reading refuses bad files with a one-line :class:`~viewshift.errors.InputError`. Writing goes through
:func:`check_output` (refuses existing outputs unless ``overwrite``, outputs that are one of the inputs,
missing folders and unsupported extensions, with an :class:`~viewshift.errors.OutputError`) and then
:func:`atomic_path` (write a temporary file in the same folder, ``os.replace`` it into place on success,
remove it on failure), so an output is either complete or absent.

Conventions at this API: images are ``H×W×3`` (or ``H×W×4`` RGBA) ``uint8``/``uint16`` in RGB order; depth is
``H×W float32``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from viewshift.errors import DepthError, InputError, OutputError, ShapeError

__all__ = [
    "DEPTH_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "LoadedImage",
    "atomic_path",
    "check_output",
    "depth_preview",
    "expand_inputs",
    "from_float",
    "read_depth",
    "read_image",
    "to_float",
    "write_depth",
    "write_image",
    "write_video",
]

#: Extensions :func:`read_image` and :func:`expand_inputs` accept (lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm")
#: Extensions :func:`read_depth` and :func:`write_depth` accept.
DEPTH_EXTENSIONS = (".npy", ".png", ".pfm")
#: Extensions :func:`write_video` accepts.
VIDEO_EXTENSIONS = (".mp4", ".gif")

# Pillow format names we decode (MPO is how Pillow names many phone JPEGs).
_PIL_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "WEBP", "PPM"}
_WRITE_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
_NO_ALPHA_EXTENSIONS = (".jpg", ".jpeg", ".ppm", ".pgm")
_EIGHT_BIT_EXTENSIONS = (".jpg", ".jpeg", ".webp")

# PNG text-chunk keys that let read_depth undo write_depth's normalisation of 16-bit PNG depth.
_PNG_DEPTH_MIN = "viewshift:depth_min"
_PNG_DEPTH_MAX = "viewshift:depth_max"

# EXIF tags.
_TAG_ORIENTATION = 0x0112
_TAG_EXIF_IFD = 0x8769
_TAG_FOCAL_LENGTH = 0x920A
_TAG_FOCAL_35MM = 0xA405
_TAG_FOCAL_PLANE_XRES = 0xA20E
_TAG_FOCAL_PLANE_YRES = 0xA20F
_TAG_FOCAL_PLANE_UNIT = 0xA210
_TAG_PIXEL_X = 0xA002
_TAG_PIXEL_Y = 0xA003
_FOCAL_PLANE_UNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}
_FULL_FRAME_DIAGONAL_MM = float(np.hypot(36.0, 24.0))


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


# --------------------------------------------------------------------------------------------------- reading


def _check_input_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a Path after checking that it is an existing, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found: {p}")
    if p.is_dir():
        raise InputError(f"{what} {p} is a folder; give a file")
    if p.stat().st_size == 0:
        raise InputError(f"{what} {p} is empty (0 bytes); give a valid file")
    return p


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


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an ``H×W[×C]`` array, as ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        a = a[:, ::-1]
    elif orientation == 3:
        a = a[::-1, ::-1]
    elif orientation == 4:
        a = a[::-1]
    elif orientation == 5:
        a = a.swapaxes(0, 1)
    elif orientation == 6:
        a = np.rot90(a, k=-1)
    elif orientation == 7:
        a = np.rot90(a.swapaxes(0, 1), k=2)
    elif orientation == 8:
        a = np.rot90(a, k=1)
    return np.ascontiguousarray(a)


def _rational(value: object) -> float | None:
    """An EXIF rational or number as a positive float, or ``None``."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return out if np.isfinite(out) and out > 0 else None


def _focal_35mm(exif: Image.Exif, size: tuple[int, int]) -> float | None:
    """35 mm-equivalent focal length from EXIF; see :class:`LoadedImage`."""
    try:
        ifd = exif.get_ifd(_TAG_EXIF_IFD)
    except Exception:  # noqa: BLE001 - malformed EXIF must not stop reading the pixels
        return None
    f35 = _rational(ifd.get(_TAG_FOCAL_35MM))
    if f35 is not None:
        return f35
    focal = _rational(ifd.get(_TAG_FOCAL_LENGTH))
    xres = _rational(ifd.get(_TAG_FOCAL_PLANE_XRES))
    yres = _rational(ifd.get(_TAG_FOCAL_PLANE_YRES)) or xres
    unit_mm = _FOCAL_PLANE_UNIT_MM.get(int(ifd.get(_TAG_FOCAL_PLANE_UNIT, 2) or 2))
    if focal is None or xres is None or yres is None or unit_mm is None:
        return None
    width = _rational(ifd.get(_TAG_PIXEL_X)) or size[0]
    height = _rational(ifd.get(_TAG_PIXEL_Y)) or size[1]
    sensor_diagonal = float(np.hypot(width / xres * unit_mm, height / yres * unit_mm))
    return focal * _FULL_FRAME_DIAGONAL_MM / sensor_diagonal


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
    p = _check_input_file(path, "image")
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
        try:
            exif = im.getexif()
        except Exception:  # noqa: BLE001 - a broken EXIF block is ignored, the pixels still count
            exif = Image.Exif()
        orientation = int(exif.get(_TAG_ORIENTATION, 1) or 1)
        focal_35mm = _focal_35mm(exif, im.size)
        if _is_sixteen_bit(im, p):
            im.close()
            a = _decode_with_opencv(p)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                a = _decode_with_pillow(im, p)
    if a.shape[0] * a.shape[1] != width * height:
        raise InputError(f"image {p} decoded to {a.shape[1]}×{a.shape[0]}, not its header's {width}×{height}")
    a = _orient(a, orientation)
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


# --------------------------------------------------------------------------------------------------- writing


def check_output(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike[str]] = (),
    extensions: Iterable[str] | None = None,
) -> Path:
    """Check that ``path`` may be written; every writer calls this before touching the disk.

    Args:
        path: the output file.
        overwrite: allow replacing an existing file.
        inputs: files this run reads; the output may never be one of them (even with ``overwrite``).
        extensions: lower-case extensions (with the dot) the caller can write, or ``None`` for any.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: unsupported extension, missing folder, the output is a folder, is one of ``inputs``, or
            exists and ``overwrite`` is false.
    """
    p = Path(path)
    if extensions is not None:
        allowed = tuple(extensions)
        if p.suffix.lower() not in allowed:
            raise OutputError(f"cannot write {p}: extension {p.suffix or '(none)'!r} not one of {', '.join(allowed)}")
    if not p.parent.is_dir():
        raise OutputError(f"cannot write {p}: folder {p.parent} does not exist; create it first")
    if p.is_dir():
        raise OutputError(f"cannot write {p}: it is a folder; give a file name")
    target = p.resolve()
    for given in inputs:
        q = Path(given)
        same = target == q.resolve()
        if not same and p.exists() and q.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(p, q)
        if same:
            raise OutputError(f"refusing to write {p}: it is the input {q}; choose another output name")
    if p.exists() and not overwrite:
        raise OutputError(f"{p} already exists; choose another name or pass overwrite (--overwrite)")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the folder of ``path``; move it onto ``path`` when the block succeeds.

    The temporary name keeps the real extension last (``.name.tmp-1a2b3c.png``), so writers that pick the
    format from the extension work. It is removed if the block raises, and the exception propagates; ``path``
    is then left as it was.

    Args:
        path: the final output file (call :func:`check_output` first).

    Yields:
        The temporary path to write (not created yet).

    Raises:
        OutputError: the block finished without creating the temporary file, or the rename failed.
    """
    p = Path(path)
    tmp = p.with_name(f".{p.stem}.tmp-{secrets.token_hex(4)}{p.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"writing {p} produced no file")
        try:
            os.replace(tmp, p)
        except OSError as exc:
            raise OutputError(f"cannot move the finished file onto {p}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _check_image_array(array: np.ndarray) -> np.ndarray:
    """Check an image to write: ``H×W``, ``H×W×3`` or ``H×W×4``, ``uint8`` or ``uint16``."""
    a = np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ShapeError(f"image to write must be H×W, H×W×3 or H×W×4, got shape {a.shape}")
    if a.dtype not in (np.uint8, np.uint16):
        raise ShapeError(f"image to write must be uint8 or uint16, got {a.dtype}; convert with from_float")
    return a


def _encode_image(a: np.ndarray, suffix: str) -> bytes:
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


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, turning OS errors into OutputError."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


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
    a = _check_image_array(array)
    _write_bytes(p, _encode_image(a, p.suffix.lower()))


# --------------------------------------------------------------------------------------------------- depth

_PFM_HEADER = re.compile(rb"^(P[Ff])\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s")


def _read_pfm(p: Path) -> np.ndarray:
    """Read a grey PFM (either endianness; rows stored bottom-up) as a top-down ``H×W float32`` array."""
    data = p.read_bytes()
    m = _PFM_HEADER.match(data[:256])
    if m is None:
        raise DepthError(f"{p} is not a valid PFM file (bad header); write depth as .npy, .png or .pfm")
    kind, width, height = m.group(1), int(m.group(2)), int(m.group(3))
    if kind == b"PF":
        raise DepthError(f"{p} is a colour (3-channel) PFM; depth must be a grey 'Pf' PFM")
    try:
        scale = float(m.group(4))
    except ValueError as exc:
        raise DepthError(f"{p} has a bad PFM scale {m.group(4)!r}") from exc
    if scale == 0:
        raise DepthError(f"{p} has PFM scale 0; the sign must say the endianness (negative = little-endian)")
    count = width * height
    body = data[m.end() :]
    if len(body) < 4 * count:
        raise DepthError(f"{p} is truncated: {len(body)} bytes of data for a {width}×{height} PFM (need {4 * count})")
    dtype = np.dtype("<f4" if scale < 0 else ">f4")
    a = np.frombuffer(body, dtype=dtype, count=count).reshape(height, width)
    return np.ascontiguousarray(a[::-1]).astype(np.float32)


def _read_depth_png(p: Path, raw: bool) -> np.ndarray:
    """Read a 1-channel PNG; undo :func:`write_depth`'s normalisation unless ``raw`` or no metadata."""
    a = cv2.imdecode(np.fromfile(p, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if a is None:
        raise DepthError(f"{p} is not a readable PNG (corrupt or truncated)")
    if a.ndim != 2:
        raise DepthError(f"{p} has {a.shape[2]} channels; a depth PNG must be single-channel (grey 16-bit)")
    depth = a.astype(np.float32)
    if raw:
        return depth
    try:
        with Image.open(p) as im:
            text = dict(getattr(im, "text", {}) or {})
    except (OSError, UnidentifiedImageError):
        text = {}
    if _PNG_DEPTH_MIN in text and _PNG_DEPTH_MAX in text:
        try:
            lo, hi = float(text[_PNG_DEPTH_MIN]), float(text[_PNG_DEPTH_MAX])
        except ValueError as exc:
            raise DepthError(f"{p} has unreadable {_PNG_DEPTH_MIN}/{_PNG_DEPTH_MAX} metadata") from exc
        top = 65535.0 if a.dtype == np.uint16 else 255.0
        depth = (lo + a.astype(np.float64) / top * (hi - lo)).astype(np.float32)
    return depth


def read_depth(path: str | os.PathLike[str], *, raw: bool = False) -> np.ndarray:
    """Read a depth (or disparity) map.

    * ``.npy``: a 2-D array (``H×W×1`` / ``1×H×W`` squeezed), converted to float32.
    * ``.png``: single-channel 8/16-bit. Written by :func:`write_depth` (PNG text chunks
      ``viewshift:depth_min``/``viewshift:depth_max``), the original values are restored (to within
      ``(max - min) / 131070``); otherwise, or with ``raw=True``, the raw integer values are returned and the
      caller says the unit (e.g. millimetres for Kinect depth, where 0 means unknown).
    * ``.pfm``: grey ``Pf`` either endianness; rows flipped (PFM is stored bottom-up). Non-finite values (e.g.
      Middlebury's +inf = unknown) are kept.

    Args:
        path: the depth file.
        raw: for PNG, ignore viewshift's normalisation metadata.

    Returns:
        ``H×W float32`` array, top row first.

    Raises:
        InputError: missing, empty or a folder.
        DepthError: unsupported extension, corrupt or of the wrong shape, colour PFM.
    """
    p = _check_input_file(path, "depth file")
    suffix = p.suffix.lower()
    if suffix == ".pfm":
        return _read_pfm(p)
    if suffix == ".png":
        return _read_depth_png(p, raw)
    if suffix == ".npy":
        try:
            a = np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DepthError(f"{p} is not a readable .npy array ({exc})") from exc
        if a.ndim == 3 and 1 in (a.shape[0], a.shape[2]):
            a = a.reshape(a.shape[1], a.shape[2]) if a.shape[0] == 1 else a[:, :, 0]
        if a.ndim != 2 or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise DepthError(f"{p} holds a {a.dtype} array of shape {a.shape}; depth must be a real H×W array")
        return a.astype(np.float32)
    raise DepthError(f"cannot read depth from {p}: extension {p.suffix!r} not one of {', '.join(DEPTH_EXTENSIONS)}")


def depth_preview(depth: np.ndarray) -> np.ndarray:
    """Colourise depth for viewing: TURBO colour map over inverse depth, near = warm (red), far = cool (blue).

    Inverse depth spreads the near range, where the eye looks. The colour range spans the 1st to 99th percentile
    of inverse depth, so a few outlying pixels do not flatten the rest. Non-finite or non-positive pixels are
    black; a constant depth gets the middle colour.

    Args:
        depth: ``H×W`` depth, larger = farther.

    Returns:
        ``H×W×3 uint8`` RGB image.
    """
    d = np.asarray(depth, dtype=np.float64)
    good = np.isfinite(d) & (d > 0)
    v = np.zeros_like(d)
    if good.any():
        inv = np.where(good, 1.0 / np.where(good, d, 1.0), 0.0)
        lo, hi = np.percentile(inv[good], [1.0, 99.0])
        v = (inv - lo) / (hi - lo) if hi > lo else np.full_like(d, 0.5)
    colour = cv2.applyColorMap(np.rint(np.clip(v, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    colour = cv2.cvtColor(colour, cv2.COLOR_BGR2RGB)
    colour[~good] = 0
    return colour


def _encode_pfm(depth: np.ndarray) -> bytes:
    """Encode ``H×W float32`` as a little-endian grey PFM (bottom row first)."""
    h, w = depth.shape
    header = f"Pf\n{w} {h}\n-1.0\n".encode("ascii")
    return header + np.ascontiguousarray(depth[::-1], dtype="<f4").tobytes()


def _encode_depth_png(path: Path, depth: np.ndarray) -> bytes:
    """Encode depth as 16-bit grey PNG normalised to 0..65535 with min/max in PNG text chunks."""
    if not np.isfinite(depth).all():
        raise DepthError(
            f"cannot write {path}: depth has {int((~np.isfinite(depth)).sum())} NaN/inf values, "
            "which 16-bit PNG cannot hold; fill them first or write .npy/.pfm"
        )
    lo, hi = float(depth.min()), float(depth.max())
    span = hi - lo
    q = np.zeros(depth.shape, np.uint16) if span == 0 else from_float((depth.astype(np.float64) - lo) / span, 16)
    info = PngImagePlugin.PngInfo()
    info.add_text(_PNG_DEPTH_MIN, repr(lo))
    info.add_text(_PNG_DEPTH_MAX, repr(hi))
    buf = BytesIO()
    Image.fromarray(q).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def write_depth(
    path: str | os.PathLike[str],
    depth: np.ndarray,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    preview: bool = True,
) -> None:
    """Write a depth map atomically, with an optional colour preview ``<stem>_preview.png`` beside it.

    * ``.npy``: float32, exact.
    * ``.png``: 16-bit grey, ``q = round((depth - min) / (max - min) · 65535)``, with ``min`` and ``max``
      stored in the PNG's text chunks ``viewshift:depth_min`` / ``viewshift:depth_max`` (:func:`read_depth`
      undoes it). Needs finite depth.
    * ``.pfm``: little-endian grey float32, bottom row first (the PFM convention).

    Both files are checked before either is written.

    Args:
        path: output file (``.npy``, ``.png`` or ``.pfm``).
        depth: ``H×W`` depth, larger = farther.
        overwrite: allow replacing existing files (the depth file and its preview).
        inputs: the files this run reads; neither output may be one of them.
        preview: also write ``<stem>_preview.png``, see :func:`depth_preview`.

    Raises:
        OutputError: see :func:`check_output`, or a file could not be written.
        ShapeError: ``depth`` is not a real 2-D array.
        DepthError: non-finite depth to a ``.png``.
    """
    inputs = tuple(inputs)
    p = check_output(path, overwrite=overwrite, inputs=inputs, extensions=DEPTH_EXTENSIONS)
    preview_path = p.with_name(f"{p.stem}_preview.png")
    if preview:
        check_output(preview_path, overwrite=overwrite, inputs=(*inputs, p))
    d = np.asarray(depth)
    if d.ndim != 2 or not np.issubdtype(d.dtype, np.number) or np.iscomplexobj(d) or d.size == 0:
        raise ShapeError(f"depth to write must be a real H×W array, got {d.dtype} of shape {d.shape}")
    d = d.astype(np.float32)
    suffix = p.suffix.lower()
    if suffix == ".png":
        data = _encode_depth_png(p, d)
    elif suffix == ".pfm":
        data = _encode_pfm(d)
    else:
        sink = BytesIO()
        np.save(sink, d, allow_pickle=False)
        data = sink.getvalue()
    _write_bytes(p, data)
    if preview:
        _write_bytes(preview_path, _encode_image(depth_preview(d), ".png"))


# --------------------------------------------------------------------------------------------------- video


def _video_frame(frame: np.ndarray) -> np.ndarray:
    """One frame as ``H×W×3 uint8`` RGB (alpha dropped, 16-bit rounded, grey expanded)."""
    a = _check_image_array(frame)
    if a.dtype == np.uint16:
        a = from_float(to_float(a), 8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def _even(a: np.ndarray) -> np.ndarray:
    """Pad an odd height/width by repeating the last row/column (H.264 in yuv420p needs even sizes)."""
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return a


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    *,
    fps: float = 24.0,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write frames as a video atomically.

    * ``.mp4``: H.264 (libx264) in yuv420p through imageio-ffmpeg; odd heights/widths are padded by one
      repeated row/column to make them even.
    * ``.gif``: looping forever, frame time ``1000 / fps`` ms (GIF stores 10 ms steps).

    Args:
        path: output file (``.mp4`` or ``.gif``).
        frames: a list or iterator of ``H×W×3`` (or ``×4``, alpha dropped) ``uint8``/``uint16`` RGB frames,
            all the same size; read once, streamed for MP4.
        fps: frames per second (> 0).
        overwrite: allow replacing an existing file.
        inputs: the files this run reads; the output may not be one of them.

    Raises:
        OutputError: see :func:`check_output`, or encoding failed.
        InputError: no frames, ``fps`` not positive.
        ShapeError: frames of a bad shape/dtype or of different sizes.
    """
    p = check_output(path, overwrite=overwrite, inputs=inputs, extensions=VIDEO_EXTENSIONS)
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be a positive number, got {fps}")
    import imageio.v2 as imageio  # imported here: only video writing needs it

    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError(f"no frames to write to {p}; give at least one frame")
    first = _video_frame(first)

    def rest() -> Iterator[np.ndarray]:
        for i, frame in enumerate(it, start=1):
            a = _video_frame(frame)
            if a.shape != first.shape:
                raise ShapeError(
                    f"frame {i} is {a.shape[1]}×{a.shape[0]} but frame 0 is {first.shape[1]}×{first.shape[0]}"
                )
            yield a

    try:
        with atomic_path(p) as tmp:
            if p.suffix.lower() == ".mp4":
                writer = imageio.get_writer(
                    tmp,
                    format="FFMPEG",
                    mode="I",
                    fps=fps,
                    codec="libx264",
                    pixelformat="yuv420p",
                    macro_block_size=1,
                    quality=8,
                    ffmpeg_log_level="error",
                )
                try:  # imageio's own ``with`` does not close (stop ffmpeg) when the block raises
                    writer.append_data(_even(first))
                    for a in rest():
                        writer.append_data(_even(a))
                finally:
                    writer.close()
            else:
                images = [Image.fromarray(a) for a in (first, *rest())]
                images[0].save(
                    tmp,
                    format="GIF",
                    save_all=True,
                    append_images=images[1:],
                    duration=max(10, int(round(1000.0 / fps))),
                    loop=0,
                )
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot write video {p}: {exc}") from exc


# --------------------------------------------------------------------------------------------------- inputs


def expand_inputs(spec: str | os.PathLike[str]) -> list[Path]:
    """Turn a command-line input into image files.

    Args:
        spec: a file (returned as is), a folder (its images with an extension in :data:`IMAGE_EXTENSIONS`,
            not recursive, hidden files skipped, sorted by name), or a glob pattern (matching files, sorted).

    Returns:
        The files, at least one.

    Raises:
        InputError: nothing matches, or the folder holds no images.
    """
    p = Path(spec)
    if p.is_file():
        return [p]
    if p.is_dir():
        found = sorted(
            q
            for q in p.iterdir()
            if q.is_file() and not q.name.startswith(".") and q.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not found:
            raise InputError(f"folder {p} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        return found
    if glob.has_magic(str(spec)):
        found = sorted(Path(m) for m in glob.glob(str(spec), recursive=True) if Path(m).is_file())
        if not found:
            raise InputError(f"no files match {str(spec)!r}; check the pattern")
        return found
    raise InputError(f"input not found: {p}")
