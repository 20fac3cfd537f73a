"""Video in, stereo (or moved-camera) video out: streaming, temporally stable, resumable, fast on a CPU.

``convert_video(src, out, layout=..., ...)`` is the entry point; see :mod:`viewshift.video.convert` for the
pipeline, :mod:`~viewshift.video.stabilise` for the temporal stabilisation, :mod:`~viewshift.video.scanline` for the
row-wise stereo renderer, :mod:`~viewshift.video.comfort` for the comfort analyser and
:mod:`~viewshift.video.ffmpeg` for decoding and encoding. Heavy modules load on first use.
"""

from __future__ import annotations

__all__ = ["ConvertResult", "ConvertSettings", "analyse_video", "convert_folder", "convert_video"]


def __getattr__(name: str):
    if name in __all__:
        from viewshift.video import convert

        return getattr(convert, name)
    raise AttributeError(f"module 'viewshift.video' has no attribute {name!r}")
