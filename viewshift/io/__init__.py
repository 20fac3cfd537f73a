"""Every file viewshift reads or writes: images (EXIF, 16-bit, alpha), depth maps, videos; atomic writes.

Reading refuses bad files with a one-line :class:`~viewshift.errors.InputError`. Writing goes through
:func:`check_output` (refuses existing outputs unless ``overwrite``, outputs that are one of the inputs,
missing folders and unsupported extensions, with an :class:`~viewshift.errors.OutputError`) and then
:func:`atomic_path` (write a temporary file in the same folder, ``os.replace`` it into place on success,
remove it on failure), so an output is either complete or absent. ``atomic_path`` is the one atomic writer of
the whole package: use it for every file you write.

Conventions at this API: images are ``H×W×3`` (or ``H×W×4`` RGBA) ``uint8``/``uint16`` in RGB order; depth is
``H×W float32``.

Modules: :mod:`~viewshift.io.atomic` (output policy, the atomic writer), :mod:`~viewshift.io.inputs` (input
checks, file/folder/glob inputs), :mod:`~viewshift.io.exif` (orientation, focal length),
:mod:`~viewshift.io.images`, :mod:`~viewshift.io.depth_files`, :mod:`~viewshift.io.video`.
"""

from __future__ import annotations

from viewshift.io.atomic import atomic_path, check_output, save_torch, write_bytes
from viewshift.io.depth_files import DEPTH_EXTENSIONS, depth_preview, read_depth, write_depth
from viewshift.io.images import LoadedImage, from_float, read_image, to_float, write_image
from viewshift.io.inputs import IMAGE_EXTENSIONS, expand_inputs
from viewshift.io.video import VIDEO_EXTENSIONS, write_video

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
    "save_torch",
    "to_float",
    "write_bytes",
    "write_depth",
    "write_image",
    "write_video",
]
