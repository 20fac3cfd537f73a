"""A JPEG with its depth map inside, in Google's depth-map XMP (``GDepth``), which phone galleries and depth-photo
viewers read (the format of Google Camera's Lens Blur photos).

Layout (Adobe XMP part 3, Google depth-map metadata 1.0):

- the photo, a baseline JPEG (Pillow, quality 95, no chroma subsampling);
- right after its JFIF header, an APP1 segment with the main XMP packet
  (``http://ns.adobe.com/xap/1.0/\\0`` + XML): ``GDepth:Format="RangeInverse"``, ``GDepth:Near``, ``GDepth:Far``,
  ``GDepth:Units="m"``, ``GDepth:MeasureType="OpticalAxis"``, ``GDepth:Mime="image/png"`` and
  ``xmpNote:HasExtendedXMP`` = the GUID of the extended packet;
- APP1 segments of *extended* XMP (``http://ns.adobe.com/xmp/extension/\\0`` + 32-character GUID + full length
  + offset, uint32 big-endian each, + at most 65400 bytes of XML each) holding ``GDepth:Data``: the depth map as a
  base64 8-bit grey PNG. The GUID is the upper-case hex MD5 of the whole extended packet.

The depth image uses the RangeInverse encoding: ``d_n = far (d − near) / (d (far − near))`` in [0, 1] (near → 0,
far → 1, more levels for near depths), quantised as ``round(255 d_n)``; a reader recovers
``d = far · near / (far − d_n (far − near))``. ``near`` and ``far`` are the scene's smallest and largest depth.
The XML is built with :mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from viewshift import io as vio
from viewshift.errors import OutputError
from viewshift.export._scene import scene_depth, scene_rgb
from viewshift.pipeline import Scene

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmpNote": "http://ns.adobe.com/xmp/note/",
    "GDepth": "http://ns.google.com/photos/1.0/depthmap/",
}
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
EXTENDED_CHUNK = 65400
"""Bytes of extended XMP per APP1 segment (the XMP specification's recommended size)."""

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def encode_range_inverse(depth: np.ndarray, near: float, far: float) -> np.ndarray:
    """Depth ``H×W`` → ``H×W uint8`` by GDepth's RangeInverse rule (near → 0, far → 255).

    >>> encode_range_inverse(np.array([[1.0, 2.0, 4.0]]), 1.0, 4.0).tolist()
    [[0, 170, 255]]
    """
    d = np.clip(np.asarray(depth, np.float64), near, far)
    dn = far * (d - near) / (d * (far - near)) if far > near else np.zeros_like(d)
    return np.rint(np.clip(dn, 0.0, 1.0) * 255.0).astype(np.uint8)


def decode_range_inverse(values: np.ndarray, near: float, far: float) -> np.ndarray:
    """``uint8`` RangeInverse values → depth (the reader's side of :func:`encode_range_inverse`)."""
    dn = np.asarray(values, np.float64) / 255.0
    return far * near / (far - dn * (far - near))


def _xmp(attributes: dict[str, str]) -> bytes:
    """One ``x:xmpmeta`` packet holding one ``rdf:Description`` with ``attributes`` (``"prefix:name"`` keys)."""
    root = ET.Element(f"{{{NS['x']}}}xmpmeta")
    rdf = ET.SubElement(root, f"{{{NS['rdf']}}}RDF")
    attrs = {f"{{{NS['rdf']}}}about": ""}
    for key, value in attributes.items():
        prefix, name = key.split(":")
        attrs[f"{{{NS[prefix]}}}{name}"] = value
    ET.SubElement(rdf, f"{{{NS['rdf']}}}Description", attrs)
    return ET.tostring(root, encoding="unicode").encode("utf-8")


def _app1(payload: bytes) -> bytes:
    if len(payload) > 65533:
        raise OutputError(f"an APP1 segment of {len(payload)} bytes does not fit a JPEG segment (65533 at most)")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def depth_jpeg_bytes(rgb: np.ndarray, depth: np.ndarray, *, quality: int = 95) -> bytes:
    """The bytes of a JPEG of ``rgb`` (``H×W×3 uint8``) carrying ``depth`` (``H×W``) as GDepth XMP."""
    from PIL import Image

    near, far = float(np.min(depth)), float(np.max(depth))
    buf = io.BytesIO()
    Image.fromarray(encode_range_inverse(depth, near, far), "L").save(buf, format="PNG", optimize=True)
    extended = _xmp({"GDepth:Data": base64.b64encode(buf.getvalue()).decode("ascii")})
    guid = hashlib.md5(extended).hexdigest().upper()
    main = _xmp(
        {
            "xmpNote:HasExtendedXMP": guid,
            "GDepth:Format": "RangeInverse",
            "GDepth:Near": f"{near:.9g}",
            "GDepth:Far": f"{far:.9g}",
            "GDepth:Units": "m",
            "GDepth:MeasureType": "OpticalAxis",
            "GDepth:Mime": "image/png",
        }
    )
    segments = [_app1(XMP_HEADER + main)]
    for offset in range(0, len(extended), EXTENDED_CHUNK):
        header = EXTENDED_HEADER + guid.encode("ascii") + struct.pack(">II", len(extended), offset)
        segments.append(_app1(header + extended[offset : offset + EXTENDED_CHUNK]))
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="JPEG", quality=quality, subsampling=0)
    jpeg = buf.getvalue()
    # After SOI and, when present, the JFIF APP0 segment (JFIF requires APP0 first).
    at = 2
    if jpeg[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:at] + b"".join(segments) + jpeg[at:]


def write_depth_jpeg(
    path: str | os.PathLike[str], scene: Scene, *, overwrite: bool = False, inputs: tuple = ()
) -> list[Path]:
    """Write the photo as a JPEG with its depth embedded (GDepth XMP, see the module docstring), atomically.

    Note the near/far values (and so ``GDepth:Units="m"``) are in the scene's translation unit: metres for metric
    depth, and for relative depth metres of a scene scaled to its ``scene_distance``.

    Returns:
        ``[path]``.
    """
    p = vio.check_output(path, overwrite=overwrite, inputs=inputs, extensions=(".jpg", ".jpeg"))
    data = depth_jpeg_bytes(scene_rgb(scene), scene_depth(scene))
    with vio.atomic_path(p) as tmp:
        tmp.write_bytes(data)
    return [p]
