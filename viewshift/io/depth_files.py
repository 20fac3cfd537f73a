"""Depth files: ``.npy`` (float32, exact), 16-bit ``.png`` (normalised, range in text chunks), ``.pfm``; previews.

Depth at this API is ``H×W float32``, larger = farther.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from viewshift.errors import DepthError, ShapeError
from viewshift.io.atomic import check_output, write_bytes
from viewshift.io.images import encode_image, from_float
from viewshift.io.inputs import check_input_file

__all__ = ["DEPTH_EXTENSIONS", "depth_preview", "read_depth", "write_depth"]

#: Extensions :func:`read_depth` and :func:`write_depth` accept.
DEPTH_EXTENSIONS = (".npy", ".png", ".pfm")

# PNG text-chunk keys that let read_depth undo write_depth's normalisation of 16-bit PNG depth.
_PNG_DEPTH_MIN = "viewshift:depth_min"
_PNG_DEPTH_MAX = "viewshift:depth_max"
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
    p = check_input_file(path, "depth file")
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
    write_bytes(p, data)
    if preview:
        write_bytes(preview_path, encode_image(depth_preview(d), ".png"))
