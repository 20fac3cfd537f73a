"""EXIF: the orientation an image is shown in, and the 35 mm-equivalent focal length of the camera."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["orient", "read_exif"]

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


def read_exif(im: Image.Image) -> tuple[int, float | None]:
    """The EXIF orientation (1..8, 1 when absent) and 35 mm-equivalent focal length (mm or ``None``) of an open image.

    A broken EXIF block is ignored (orientation 1, no focal length): the pixels still count.
    """
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block is ignored, the pixels still count
        exif = Image.Exif()
    return int(exif.get(_TAG_ORIENTATION, 1) or 1), _focal_35mm(exif, im.size)


def orient(a: np.ndarray, orientation: int) -> np.ndarray:
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
