"""Probing, streaming decode and encode of videos through the ffmpeg binary of imageio-ffmpeg.

Frames travel through pipes as raw RGB (``rgb24``, or ``rgb48le`` for sources of more than 8 bits), so a video
is never held in memory. The source's colour description (range, matrix, primaries, transfer) is read from its
first decoded frame and used both ways: frames are decoded to RGB with the source's matrix and range, and encoded
back to YUV with the same matrix and range, tagged with the same four values, so a player shows the output as it
showed the input.

Only the ``ffmpeg`` binary is used (imageio-ffmpeg ships no ``ffprobe``): :func:`probe` reads the stream
description ``ffmpeg -i`` prints, the first frame's properties (``showinfo`` filter) and the packet timestamps
(``framecrc`` of a stream copy, no decoding) to count frames and detect a variable frame rate.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from viewshift.errors import InputError, OutputError

__all__ = [
    "CODECS",
    "ColourInfo",
    "FrameReader",
    "FrameWriter",
    "VideoInfo",
    "concat_and_mux",
    "ffmpeg_exe",
    "probe",
]

#: ``--codec`` name → ffmpeg encoder.
CODECS = {"h264": "libx264", "h265": "libx265"}

# ffmpeg's names of colour matrices, as the ``scale`` filter spells them.
_SCALE_MATRIX = {
    "bt709": "bt709",
    "bt470bg": "bt601",
    "smpte170m": "bt601",
    "fcc": "fcc",
    "smpte240m": "smpte240m",
    "bt2020nc": "bt2020",
    "bt2020c": "bt2020",
}


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary (imageio-ffmpeg's, or ``IMAGEIO_FFMPEG_EXE``)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class ColourInfo:
    """How the source's YUV values are to be read. ``"unknown"`` when the file does not say.

    Attributes:
        range: ``tv`` (limited, 16-235) or ``pc`` (full).
        space: matrix (``bt709``, ``bt470bg``, ``smpte170m``, ``bt2020nc``, ...).
        primaries: colour primaries (``bt709``, ``bt2020``, ...).
        transfer: transfer function (``bt709``, ``smpte2084`` for PQ HDR, ``arib-std-b67`` for HLG, ...).
    """

    range: str = "unknown"
    space: str = "unknown"
    primaries: str = "unknown"
    transfer: str = "unknown"

    def scale_matrix(self) -> str | None:
        """The ``scale`` filter's name of the matrix, or None when unknown (ffmpeg's default, BT.601)."""
        return _SCALE_MATRIX.get(self.space)

    def scale_range(self) -> str:
        return "pc" if self.range == "pc" else "tv"

    def tags(self) -> list[str]:
        """ffmpeg output options tagging the encoded stream with these values (unknown values left untagged)."""
        out = []
        for option, value in (
            ("-color_range", self.range),
            ("-colorspace", self.space),
            ("-color_primaries", self.primaries),
            ("-color_trc", self.transfer),
        ):
            if value not in ("unknown", "reserved", ""):
                out += [option, value]
        return out


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found out about a video.

    Attributes:
        path: the file.
        width, height: frame size after the container's rotation is applied (what decoding yields).
        fps: frame rate as an exact fraction (the stream's nominal or average rate).
        frames: number of video frames (packets of the first video stream).
        duration: seconds (frames / fps).
        codec: codec of the first video stream (``h264``, ``hevc``, ...).
        pix_fmt: its pixel format (``yuv420p``, ``yuv420p10le``, ...).
        bit_depth: 8, or 10/12/16 for deeper sources (decoded as 16-bit RGB).
        colour: see :class:`ColourInfo`.
        has_audio: the file holds at least one audio stream.
        variable_fps: frame durations differ by more than 1 % (a variable-frame-rate recording).
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    codec: str
    pix_fmt: str
    bit_depth: int
    colour: ColourInfo
    has_audio: bool
    variable_fps: bool
    duration: float = field(default=0.0)


def _run(args: Sequence[str], what: str, *, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", *args], capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"cannot run ffmpeg to {what}: {exc}") from exc


def _last_error(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


_STREAM = re.compile(r"Stream #0:(\d+)[^:]*: (Video|Audio): (\w+)")
_PIXFMT = re.compile(r"Video: [^,]+?, (\w+)")
_SHOWINFO_SIZE = re.compile(r"\bfmt:(\w+).*?\bs:(\d+)x(\d+)")
_SHOWINFO_COLOUR = re.compile(r"color_range:(\S+) color_space:(\S+) color_primaries:(\S+) color_trc:(\S+)")
_FRAME_RATE = re.compile(r"frame_rate: (\d+)/(\d+)")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe a video file without decoding more than its first frame.

    Raises:
        InputError: the file is missing, is not a video (no video stream), or holds no frames.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"video {p} does not exist")
    head = _run(["-i", str(p)], f"read {p}").stderr.decode("utf-8", "replace")
    streams = _STREAM.findall(head)
    video = [s for s in streams if s[1] == "Video" and s[2] not in ("mjpeg", "png")]  # not cover art
    if not video:
        if "Invalid data" in head:
            reason = "ffmpeg cannot read it: invalid data"
        elif "Input #0" in head:
            reason = "it holds no video stream, so no frames"
        else:
            reason = _last_error(head.encode())
        raise InputError(f"{p} is not a video ({reason}); give an .mp4, .mkv, .mov, .webm or .avi file")
    codec = video[0][2]
    has_audio = any(s[1] == "Audio" for s in streams)

    shown = _run(
        ["-i", str(p), "-map", "0:v:0", "-vf", "showinfo", "-frames:v", "1", "-f", "null", "-"], f"read {p}"
    ).stderr.decode("utf-8", "replace")
    size = _SHOWINFO_SIZE.search(shown)
    if size is None:
        raise InputError(f"{p} holds no decodable video frames; check the file plays")
    pix_fmt, width, height = size.group(1), int(size.group(2)), int(size.group(3))
    m = _SHOWINFO_COLOUR.search(shown)
    colour = ColourInfo(*m.groups()) if m else ColourInfo()
    if colour.space in ("gbr", "rgb"):  # an RGB source: written as standard limited-range BT.709 YUV
        known = [v if v not in ("unknown", "reserved") else "bt709" for v in (colour.primaries, colour.transfer)]
        colour = ColourInfo("tv", "bt709", *known)
    rate = _FRAME_RATE.search(shown)
    fps = Fraction(int(rate.group(1)), int(rate.group(2))) if rate and int(rate.group(2)) > 0 else Fraction(0)
    if fps <= 0:
        m2 = _FPS.search(head)
        fps = Fraction(m2.group(1)).limit_denominator(1001) if m2 else Fraction(0)

    pts, time_base = _packet_times(p)
    if not pts:
        raise InputError(f"{p} holds no video frames; give a video with at least one frame")
    variable = False
    if len(pts) >= 3:
        steps = np.diff(np.sort(np.asarray(pts, np.float64)))
        steps = steps[steps > 0]
        # Containers with coarse time bases (Matroska: 1 ms) round a constant rate's steps by a tick.
        if steps.size and (steps.max() - steps.min()) > max(0.01 * np.median(steps), 1.5):
            variable = True
            # A variable-rate file is converted at its average rate.
            span = (max(pts) - min(pts)) * time_base
            if span > 0:
                fps = Fraction(len(pts) - 1) / Fraction(span).limit_denominator(1_000_000)
                fps = fps.limit_denominator(1001)
    if fps <= 0:
        raise InputError(f"cannot tell the frame rate of {p}; re-encode it with a constant rate (ffmpeg -r 30)")
    deep = re.search(r"p(10|12|14|16)(?:le|be)?$", pix_fmt)
    depth = int(deep.group(1)) if deep else {"p010": 10, "p012": 12, "p016": 16}.get(pix_fmt[:4], 8)
    return VideoInfo(
        path=p,
        width=width,
        height=height,
        fps=fps,
        frames=len(pts),
        codec=codec,
        pix_fmt=pix_fmt,
        bit_depth=depth,
        colour=colour,
        has_audio=has_audio,
        variable_fps=variable,
        duration=float(len(pts) / fps),
    )


def _packet_times(p: Path) -> tuple[list[int], Fraction]:
    """Presentation timestamps of the first video stream's packets and their time base (a stream copy, fast)."""
    out = _run(["-i", str(p), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"], f"read {p}")
    pts: list[int] = []
    time_base = Fraction(1, 1)
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("#tb 0:"):
            num, den = line.split(":", 1)[1].strip().split("/")
            time_base = Fraction(int(num), int(den))
        elif line and not line.startswith("#"):
            parts = [s.strip() for s in line.split(",")]
            if len(parts) >= 3 and parts[0] == "0":
                pts.append(int(parts[2]))
    return pts, time_base


# ------------------------------------------------------------------------------------------------ decoding


class FrameReader:
    """Stream frames of a video as ``H×W×3`` RGB arrays (``uint8``, or ``uint16`` for deep sources).

    Frames are decoded at a constant rate ``info.fps`` (a variable-rate source has frames repeated or dropped to
    that rate, ffmpeg's ``-fps_mode cfr``), starting at frame ``start``.

    Args:
        info: from :func:`probe`.
        start: index of the first frame to yield.
        bit_depth: 8 or 16 (default: 16 when the source has more than 8 bits).
    """

    def __init__(self, info: VideoInfo, *, start: int = 0, bit_depth: int | None = None):
        self.info = info
        self.start = start
        self.bit_depth = bit_depth or (16 if info.bit_depth > 8 else 8)
        self._proc: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        info = self.info
        scale = "scale=in_range=" + info.colour.scale_range()
        if info.colour.scale_matrix():
            scale += f":in_color_matrix={info.colour.scale_matrix()}"
        fmt = "rgb48le" if self.bit_depth == 16 else "rgb24"
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
        if self.start > 0:  # accurate seek: decodes from the key frame before, outputs from the exact time
            cmd += ["-ss", f"{float(Fraction(self.start) / info.fps):.6f}"]
        cmd += ["-i", str(info.path), "-map", "0:v:0", "-an", "-sn"]
        cmd += ["-vf", f"{scale},format={fmt}", "-fps_mode", "cfr", "-r", _rate(info.fps)]
        cmd += ["-f", "rawvideo", "-pix_fmt", fmt, "-"]
        return cmd

    def __iter__(self) -> Iterator[np.ndarray]:
        info = self.info
        dtype = np.uint16 if self.bit_depth == 16 else np.uint8
        frame_bytes = info.width * info.height * 3 * np.dtype(dtype).itemsize
        self._proc = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(self._proc.stderr.read()), daemon=True)
        drain.start()
        try:
            while True:
                buf = _read_exactly(self._proc.stdout, frame_bytes)
                if buf is None:
                    break
                yield np.frombuffer(buf, dtype).reshape(info.height, info.width, 3)
        finally:
            self.close()
            drain.join(timeout=5)
        if self._proc.returncode not in (0, None, -9, -15) and errors and errors[0].strip():
            raise InputError(f"decoding {info.path} failed: {_last_error(errors[0])}")

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None and proc.stdout:
            proc.stdout.close()


def _read_exactly(stream, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    return b"".join(chunks) if len(chunks) > 1 else chunks[0]


def _rate(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


# ------------------------------------------------------------------------------------------------ encoding


class FrameWriter:
    """Encode RGB frames streamed through a pipe into a video file (no audio).

    Args:
        path: output file (its extension picks the container).
        width, height: frame size (even, as YUV 4:2:0 needs).
        fps: frame rate.
        codec: ``h264`` or ``h265``.
        crf: constant rate factor (lower = better; 18 is near transparent for H.264).
        preset: x264/x265 speed preset.
        bit_depth: 8 (``yuv420p``) or 10 (``yuv420p10le``); 10 expects ``uint16`` frames.
        colour: the colour description to convert with and tag (the source's).
        threads: encoder threads (0: ffmpeg decides).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: Fraction,
        *,
        codec: str = "h264",
        crf: float = 18,
        preset: str = "superfast",
        bit_depth: int = 8,
        colour: ColourInfo = ColourInfo(),
        threads: int = 0,
    ):
        if codec not in CODECS:
            raise InputError(f"unknown codec {codec!r}; choose one of {', '.join(CODECS)}")
        if width % 2 or height % 2:
            raise InputError(f"YUV 4:2:0 needs an even frame size, got {width}×{height}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.dtype = np.uint16 if bit_depth > 8 else np.uint8
        in_fmt = "rgb48le" if bit_depth > 8 else "rgb24"
        out_fmt = "yuv420p10le" if bit_depth > 8 else "yuv420p"
        scale = f"scale=out_range={colour.scale_range()}"
        if colour.scale_matrix():
            scale += f":out_color_matrix={colour.scale_matrix()}"
        params = ":".join(
            f"{k}={v}"
            for k, v in (
                ("range", colour.range),
                ("colorspace", colour.space),
                ("color_primaries", colour.primaries),
                ("color_trc", colour.transfer),
            )
            if v not in ("unknown", "reserved", "")
        )
        vf = f"{scale},format={out_fmt}" + (f",setparams={params}" if params else "")
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        cmd += ["-f", "rawvideo", "-pix_fmt", in_fmt, "-s", f"{width}x{height}", "-framerate", _rate(fps), "-i", "-"]
        cmd += ["-vf", vf, "-c:v", CODECS[codec], "-preset", preset, "-crf", f"{crf:g}", "-pix_fmt", out_fmt]
        if threads:
            cmd += ["-threads", str(threads)]
        if codec == "h265":
            cmd += ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
        cmd += [*colour.tags(), str(self.path)]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise OutputError(f"cannot start ffmpeg to write {self.path}: {exc}") from exc
        self._errors: list[bytes] = []
        self._drain = threading.Thread(target=lambda: self._errors.append(self._proc.stderr.read()), daemon=True)
        self._drain.start()
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one ``height×width×3`` frame (``uint8``, or ``uint16`` for 10-bit)."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != self.dtype:
            raise InputError(
                f"frame is {frame.shape} {frame.dtype}, the writer expects {(self.height, self.width, 3)} {self.dtype}"
            )
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError) as exc:
            self._proc.wait()
            self._drain.join(timeout=5)
            raise OutputError(f"ffmpeg stopped writing {self.path}: {self._message(exc)}") from None
        self.frames += 1

    def _message(self, exc: BaseException | None = None) -> str:
        text = b"".join(self._errors)
        return _last_error(text) if text.strip() else str(exc or "unknown error")

    def close(self) -> None:
        """Finish the file; raises :class:`OutputError` if ffmpeg failed."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        code = self._proc.wait()
        self._drain.join(timeout=5)
        if code != 0:
            raise OutputError(f"encoding {self.path} failed: {self._message()}")

    def abort(self) -> None:
        """Stop ffmpeg without finishing the file (the caller removes it)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._drain.join(timeout=5)


def concat_and_mux(chunks: Sequence[Path], audio_from: Path | None, out: Path, *, list_file: Path) -> None:
    """Join encoded chunks (same codec and settings) without re-encoding and add the audio of ``audio_from``.

    Audio streams are copied untouched (``-map 1:a? -c:a copy``; no audio is fine).

    Args:
        chunks: the chunk files in order.
        audio_from: the source video whose audio streams are copied, or None.
        out: the file to write (a temporary path from :func:`viewshift.io.atomic_path`).
        list_file: where to write the concat demuxer's list.

    Raises:
        OutputError: ffmpeg failed (for example an audio codec the output container cannot hold).
    """
    lines = []
    for c in chunks:
        escaped = str(Path(c).resolve()).replace("'", "'\\''")
        lines.append(f"file '{escaped}'\n")
    list_file.write_text("".join(lines), encoding="utf-8")
    args = ["-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(list_file)]
    if audio_from is not None:
        args += ["-i", str(audio_from), "-map", "0:v:0", "-map", "1:a?", "-c:a", "copy"]
    else:
        args += ["-map", "0:v:0"]
    args += ["-c:v", "copy"]
    if out.suffix.lower() in (".mp4", ".mov"):
        args += ["-movflags", "+faststart"]
    args += [str(out)]
    done = _run(args, f"write {out}", timeout=3600)
    if done.returncode != 0:
        msg = _last_error(done.stderr)
        hint = "; try an .mkv output, which holds any audio codec" if "codec" in msg.lower() else ""
        raise OutputError(f"joining the video into {out.name} failed: {msg}{hint}")
