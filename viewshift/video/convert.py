"""Video in, stereo (or moved-camera) video out: a streaming producer–consumer pipeline with resumable chunks.

Stages, each in its own thread and joined by small bounded queues, so they overlap and never hold more than a
few frames: **decode** (an ffmpeg process piping raw RGB) → **depth** (batches of frames, one network pass per
batch) → **stabilise + render + compose** (this thread; the renderer's rows run on the kernel thread pool) →
**encode** (one ffmpeg process per output and chunk).

Chunks and resume. The output is encoded in chunks of ``chunk_seconds`` into a work folder beside it
(``.OUT.mp4.viewshift-work/``), each chunk written under a temporary name and renamed when complete, followed by a
small JSON (its frame count and the stabiliser's state at its end). ``settings.json`` in the folder holds the
conversion's settings and the source's identity; a re-run with the same settings continues after the last
finished chunk (different settings: the folder is cleared and the conversion starts afresh, and the result says
so). When every chunk is done, they are joined without re-encoding and the source's audio is copied in, into a
temporary file renamed onto the output (:func:`viewshift.io.atomic_path`); then the work folder is removed. An
interrupted run (Ctrl-C, a crash) leaves no output file, only the work folder for the next run.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from viewshift import io as vio
from viewshift.errors import InputError, OutputError
from viewshift.video.comfort import ComfortLimits, ComfortReport, analyse_normalised, frame_stats
from viewshift.video.depth import FolderDepth, depth_provider
from viewshift.video.ffmpeg import CODECS, FrameReader, FrameWriter, VideoInfo, concat_and_mux, probe
from viewshift.video.scanline import shift_view
from viewshift.video.stabilise import Stabiliser, StabiliseSettings, disparity_pixels

__all__ = [
    "DEFAULT_CONVERGENCE",
    "DEFAULT_DIVERGENCE",
    "LAYOUTS",
    "ConvertResult",
    "ConvertSettings",
    "analyse_video",
    "convert_folder",
    "convert_video",
    "output_paths",
]

LAYOUTS = ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "left-right", "right")
OUTPUT_EXTENSIONS = (".mp4", ".mkv", ".mov")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts")
DEFAULT_DIVERGENCE = 1.8
"""Default divergence (% of the width from the far to the near end of the depth range); see docs/video.md."""
DEFAULT_CONVERGENCE = 1.0
"""Default convergence (the normalised disparity on the screen plane); see docs/video.md."""
_WORK_FORMAT = 1


@dataclass(frozen=True)
class ConvertSettings:
    """Everything that shapes the output; saved with the chunks so a resumed run can check it is the same job.

    Attributes:
        layout: one of :data:`LAYOUTS` (``left-right`` writes two files, ``OUT_L.mp4`` and ``OUT_R.mp4``;
            ``right`` the right eye alone); ignored for a moved camera (``move`` given), which writes one view.
        divergence: disparity range in % of the width between the far and near ends of the depth range.
        convergence: normalised disparity on the screen plane (0: the far end, everything in front; 1: the near
            end, everything behind).
        codec: ``h264`` or ``h265``.
        crf: constant rate factor of the encoder (lower = better and larger).
        preset: x264/x265 preset (speed against size).
        bit_depth: ``auto`` (10-bit output when the source has more than 8 bits), ``8`` or ``10``.
        odd_size: a frame with an odd width or height (YUV 4:2:0 needs even sizes) is ``pad`` ded by repeating
            its last column/row, or ``crop`` ped by one.
        edge_tolerance_px: stretch (px) beyond which neighbouring pixels are an occlusion edge (a hole opens).
        batch: frames per depth-network pass.
        chunk_seconds: length of the resumable chunks.
        stabilise: see :class:`~viewshift.video.stabilise.StabiliseSettings`.
        move: a moved camera instead of stereo: ``(right, up, forward, yaw, pitch, roll)``, translations in units
            of the scene whose typical depth is ``scene_distance``, angles in degrees.
        scene_distance: the depth the middle of the normalised range is given for a moved camera.
        fov: horizontal field of view (degrees) assumed for a moved camera.
    """

    layout: str = "sbs"
    divergence: float = DEFAULT_DIVERGENCE
    convergence: float = DEFAULT_CONVERGENCE
    codec: str = "h264"
    crf: float = 18.0
    preset: str = "superfast"
    bit_depth: str = "auto"
    odd_size: str = "pad"
    edge_tolerance_px: float = 1.0
    batch: int = 8
    chunk_seconds: float = 10.0
    stabilise: StabiliseSettings = field(default_factory=StabiliseSettings)
    move: tuple[float, float, float, float, float, float] | None = None
    scene_distance: float = 3.0
    fov: float = 60.0

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown layout {self.layout!r}; choose one of {', '.join(LAYOUTS)}")
        if not (math.isfinite(self.divergence) and 0 < self.divergence <= 20):
            raise InputError(f"divergence must be between 0 and 20 % of the width, got {self.divergence}")
        if not (math.isfinite(self.convergence) and -1 <= self.convergence <= 2):
            raise InputError(f"convergence must be between -1 and 2 (0 far end, 1 near end), got {self.convergence}")
        if self.codec not in CODECS:
            raise InputError(f"unknown codec {self.codec!r}; choose one of {', '.join(CODECS)}")
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf must be between 0 and 51, got {self.crf}")
        if self.bit_depth not in ("auto", "8", "10"):
            raise InputError(f"bit depth must be auto, 8 or 10, got {self.bit_depth!r}")
        if self.odd_size not in ("pad", "crop"):
            raise InputError(f"odd sizes are padded or cropped: give pad or crop, got {self.odd_size!r}")
        if not self.edge_tolerance_px > 0:
            raise InputError(f"edge tolerance must be positive, got {self.edge_tolerance_px}")
        if not 1 <= self.batch <= 256:
            raise InputError(f"batch must be between 1 and 256 frames, got {self.batch}")
        if not self.chunk_seconds > 0:
            raise InputError(f"chunk length must be positive, got {self.chunk_seconds}")
        if self.move is not None and len(self.move) != 6:
            raise InputError("move must give right, up, forward, yaw, pitch, roll")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["move"] = list(self.move) if self.move is not None else None
        return d


@dataclass
class ConvertResult:
    """What a conversion wrote and how it went.

    Attributes:
        outputs: the files written.
        frames: frames in the output(s).
        fps: frame rate (the source's).
        size: ``(width, height)`` of each output frame.
        notes: things the user should know (variable frame rate, odd size padded, resumed, ...).
        seconds: wall time of this run.
        stage_seconds: busy time of each stage in this run (``decode``, ``depth``, ``render``, ``encode``);
            stages overlap, so these add up to more than ``seconds``.
    """

    outputs: list[Path]
    frames: int
    fps: float
    size: tuple[int, int]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ helpers


def output_paths(out: str | os.PathLike[str], layout: str) -> list[Path]:
    """The files a conversion writes: ``out``, or ``OUT_L`` and ``OUT_R`` for the ``left-right`` layout."""
    p = Path(out)
    if layout == "left-right":
        return [p.with_name(f"{p.stem}_L{p.suffix}"), p.with_name(f"{p.stem}_R{p.suffix}")]
    return [p]


def _check_outputs(outputs: list[Path], src: Path, overwrite: bool) -> None:
    for p in outputs:
        vio.check_output(p, overwrite=overwrite, inputs=[src], extensions=OUTPUT_EXTENSIONS)
    folder = outputs[0].parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {folder}: the folder is read-only; choose another output folder")


def _even_size(w: int, h: int, mode: str) -> tuple[int, int]:
    if mode == "crop":
        return w - w % 2, h - h % 2
    return w + w % 2, h + h % 2


def _to_even(frame: np.ndarray, w: int, h: int) -> np.ndarray:
    fh, fw = frame.shape[:2]
    if (fw, fh) == (w, h):
        return frame
    if fw >= w and fh >= h:
        return np.ascontiguousarray(frame[:h, :w])
    return np.pad(frame, ((0, h - fh), (0, w - fw), (0, 0)), mode="edge")


def _compose(left: np.ndarray, right: np.ndarray, layout: str) -> list[np.ndarray]:
    """The output frame(s) of one stereo pair."""
    from viewshift.pipeline import compose_stereo

    if layout == "left-right":
        return [left, right]
    if layout == "half-tb":
        h, w = left.shape[:2]
        top = cv2.resize(left, (w, h // 2), interpolation=cv2.INTER_AREA)
        bottom = cv2.resize(right, (w, h - h // 2), interpolation=cv2.INTER_AREA)
        return [np.concatenate([top, bottom], axis=0)]
    return [compose_stereo(left, right, layout)]


def _output_shape(layout: str, w: int, h: int, moved: bool) -> tuple[int, int]:
    if moved or layout in ("half-sbs", "half-tb", "anaglyph", "left-right", "right"):
        return w, h
    return (2 * w, h) if layout == "sbs" else (w, 2 * h)


class _Pump:
    """Run an iterator in a background thread, handing its items over through a bounded queue.

    Exceptions of the producer re-raise in the consumer; :meth:`stop` ends the producer early.
    """

    _END = object()

    def __init__(self, items: Iterable, size: int, name: str):
        self._q: queue.Queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._items = items
        self._thread = threading.Thread(target=self._run, name=f"viewshift-{name}", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._error = exc
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            self._put(self._END)

    def __iter__(self) -> Iterator:
        while True:
            item = self._q.get()
            if item is self._END:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()
        self._thread.join(timeout=10)


class _Timer:
    """Busy seconds per stage (each stage runs in one thread, so plain adds are safe)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"decode": 0.0, "depth": 0.0, "render": 0.0, "encode": 0.0}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - t


def _timed_frames(reader: FrameReader, skip: int, size: tuple[int, int], timer: _Timer) -> Iterator[np.ndarray]:
    w, h = size
    it = iter(reader)
    try:
        index = 0
        while True:
            with timer("decode"):
                frame = next(it, None)
            if frame is None:
                return
            if index >= skip:
                yield index, _to_even(frame, w, h)
            index += 1
    finally:
        it.close()


def _with_depth(frames: Iterable, provider, batch: int, timer: _Timer) -> Iterator:
    pending: list = []

    def flush():
        with timer("depth"):
            depths = provider([f for _, f in pending], pending[0][0])
        out = list(zip(pending, depths, strict=True))
        pending.clear()
        return out

    for item in frames:
        pending.append(item)
        if len(pending) == batch:
            for (index, frame), depth in flush():
                yield index, frame, depth
    if pending:
        for (index, frame), depth in flush():
            yield index, frame, depth


# ------------------------------------------------------------------------------------------------ work folder


class _WorkFolder:
    """The chunks of one conversion and their bookkeeping (see the module docstring)."""

    def __init__(self, outputs: list[Path]):
        first = outputs[0]
        self.path = first.with_name(f".{first.name}.viewshift-work")
        self.eyes = len(outputs)

    def chunk(self, k: int, eye: int, suffix: str) -> Path:
        tag = "" if self.eyes == 1 else f"-{'LR'[eye]}"
        return self.path / f"chunk-{k:05d}{tag}{suffix}"

    def meta(self, k: int) -> Path:
        return self.path / f"chunk-{k:05d}.json"

    def open(self, fingerprint: dict, resume: bool) -> tuple[list[dict], str | None]:
        """Create or reuse the folder; returns the finished chunks' metadata and a note when it restarted."""
        note = None
        settings = self.path / "settings.json"
        if self.path.is_dir():
            same = False
            with contextlib.suppress(OSError, ValueError):
                same = json.loads(settings.read_text(encoding="utf-8")) == fingerprint
            if resume and same:
                done = []
                k = 0
                while self.meta(k).is_file():
                    with contextlib.suppress(OSError, ValueError):
                        done.append(json.loads(self.meta(k).read_text(encoding="utf-8")))
                    if len(done) != k + 1:
                        break
                    k += 1
                return done, None
            note = (
                f"settings differ from the unfinished conversion found in {self.path.name}; started afresh"
                if resume and not same
                else None
            )
            shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.path.mkdir(parents=False, exist_ok=False)
        except OSError as exc:
            raise OutputError(f"cannot create the work folder {self.path}: {exc.strerror or exc}") from None
        _write_json(settings, fingerprint)
        return [], note

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _write_json(path: Path, obj: dict) -> None:
    with vio.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True), encoding="utf-8")


class _ChunkWriter:
    """Encodes the output frames into chunks; runs in its own thread, fed through a queue."""

    def __init__(self, work: _WorkFolder, chunk_frames: int, first_chunk: int, size, fps, settings, bit_depth, colour):
        self.work = work
        self.chunk_frames = chunk_frames
        self.k = first_chunk
        self.size, self.fps, self.settings, self.bit_depth, self.colour = size, fps, settings, bit_depth, colour
        self.suffix = ".mp4"
        self.writers: list[FrameWriter] = []
        self.tmps: list[Path] = []
        self.count = 0
        self.state: dict = {}
        self.written = 0

    def _start(self) -> None:
        w, h = self.size
        for eye in range(self.work.eyes):
            final = self.work.chunk(self.k, eye, self.suffix)
            tmp = final.with_name(f".{final.stem}.tmp{self.suffix}")
            self.tmps.append(tmp)
            self.writers.append(
                FrameWriter(
                    tmp,
                    w,
                    h,
                    self.fps,
                    codec=self.settings.codec,
                    crf=self.settings.crf,
                    preset=self.settings.preset,
                    bit_depth=self.bit_depth,
                    colour=self.colour,
                )
            )

    def _finish(self, last: bool) -> None:
        for writer in self.writers:
            writer.close()
        for eye, tmp in enumerate(self.tmps):
            os.replace(tmp, self.work.chunk(self.k, eye, self.suffix))
        _write_json(self.work.meta(self.k), {"frames": self.count, "last": last, "stabiliser": self.state})
        self.writers, self.tmps, self.count = [], [], 0
        self.k += 1

    def write(self, frames: list[np.ndarray], state: dict) -> None:
        if not self.writers:
            self._start()
        for writer, frame in zip(self.writers, frames, strict=True):
            writer.write(frame)
        self.count += 1
        self.written += 1
        self.state = state
        if self.count == self.chunk_frames:  # finished as soon as it is full, so an interruption keeps it
            self._finish(last=False)

    def end(self) -> None:
        """Finish the open chunk as the last one (or mark the previous, full one as last)."""
        if self.writers:
            self._finish(last=True)
        elif self.k > 0:
            meta = self.work.meta(self.k - 1)
            data = json.loads(meta.read_text(encoding="utf-8"))
            _write_json(meta, {**data, "last": True})

    def abort(self) -> None:
        for writer in self.writers:
            writer.abort()
        for tmp in self.tmps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.writers, self.tmps = [], []


# ------------------------------------------------------------------------------------------------ renderers


class _StereoRenderer:
    def __init__(self, settings: ConvertSettings, width: int):
        self.settings = settings
        self.width = width

    def __call__(self, frame: np.ndarray, n: np.ndarray, stabiliser: Stabiliser) -> list[np.ndarray]:
        s = self.settings
        h, w = frame.shape[:2]
        # δ is affine in n: computed at the depth map's size, then resized once to the frame (one full-size pass).
        disp = _resize_to(disparity_pixels(n, self.width, s.divergence, s.convergence), w, h)
        tol = s.edge_tolerance_px
        if s.layout in ("sbs", "tb"):  # the eyes are rendered straight into their halves of the output frame
            both = np.empty((h, 2 * w, 3) if s.layout == "sbs" else (2 * h, w, 3), frame.dtype)
            halves = (both[:, :w], both[:, w:]) if s.layout == "sbs" else (both[:h], both[h:])
            shift_view(frame, disp, 0.5, edge_tolerance_px=tol, out=halves[0])
            shift_view(frame, disp, -0.5, edge_tolerance_px=tol, out=halves[1])
            return [both]
        left, _ = shift_view(frame, disp, 0.5, edge_tolerance_px=tol)
        right, _ = shift_view(frame, disp, -0.5, edge_tolerance_px=tol)
        return _compose(left, right, s.layout)


class _MovedRenderer:
    """A moved camera per frame through the general renderer (:meth:`viewshift.pipeline.Scene.render`)."""

    def __init__(self, settings: ConvertSettings, width: int, height: int):
        from viewshift.pipeline import Move, ViewOptions, resolve_focal

        self.settings = settings
        self.focal = resolve_focal(width, height, fov=settings.fov)
        self.pose = Move(*settings.move).pose()
        # Realism noise off: a fixed fill without noise is what keeps still parts still from frame to frame.
        self.options = ViewOptions(fill="background", realism=False, seed=0)

    def __call__(self, frame: np.ndarray, n: np.ndarray, stabiliser: Stabiliser) -> list[np.ndarray]:
        from viewshift.pipeline import load_image, scene_from

        n = _resize_to(n, frame.shape[1], frame.shape[0])
        lo, hi = stabiliser.lo, stabiliser.hi
        half = lo + 0.5 * (hi - lo)
        inverse = np.maximum(lo + n * (hi - lo), 0.05 * max(half, 1e-9))
        depth = (self.settings.scene_distance * half / inverse).astype(np.float32)
        scene = scene_from(load_image(frame), depth, self.focal)
        view = scene.render(self.pose, options=self.options)
        return [np.ascontiguousarray(view.image[..., :3])]


def _resize_to(n: np.ndarray, w: int, h: int) -> np.ndarray:
    if n.shape == (h, w):
        return n
    return cv2.resize(n, (w, h), interpolation=cv2.INTER_LINEAR)


# ------------------------------------------------------------------------------------------------ the job


def _fingerprint(info: VideoInfo, settings: ConvertSettings, depth_description: str, outputs: list[Path]) -> dict:
    st = info.path.stat()
    return {
        "format": _WORK_FORMAT,
        "source": {"path": str(info.path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns},
        "settings": settings.to_dict(),
        "depth": depth_description,
        "outputs": [p.name for p in outputs],
    }


def convert_video(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    depth=None,
    settings: ConvertSettings = ConvertSettings(),
    overwrite: bool = False,
    resume: bool = True,
    progress: bool = True,
    on_note: Callable[[str], None] | None = None,
) -> ConvertResult:
    """Convert a video to stereo (or to a moved camera's view), streaming, in resumable chunks.

    Args:
        src: the video file.
        out: the output file (``.mp4``, ``.mkv`` or ``.mov``); ``left-right`` writes ``OUT_L`` and ``OUT_R``.
        depth: ``None`` (the built-in depth network), a folder of per-frame depth files, a model spec, a depth
            source, or a provider ``f(frames, start) -> depths`` (see :func:`viewshift.video.depth.depth_provider`).
        settings: see :class:`ConvertSettings`.
        overwrite: replace existing outputs.
        resume: continue an interrupted conversion with the same settings (False: start afresh).
        progress: show a progress bar (frames/s and ETA) on stderr.
        on_note: called with each note as soon as it is known (the CLI prints them to stderr).

    Returns:
        :class:`ConvertResult`.

    Raises:
        InputError: not a video, no frames; DepthError: unusable depth; OutputError: output exists, read-only
            folder, encoding failed.
    """
    t_start = time.perf_counter()
    src_p = Path(src)
    info = probe(src_p)
    outputs = output_paths(out, "sbs" if settings.move is not None else settings.layout)
    _check_outputs(outputs, src_p, overwrite)
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        if on_note is not None:
            on_note(text)

    if info.variable_fps:
        note(
            f"{src_p.name} has a variable frame rate; converted at its average rate {float(info.fps):.3f} fps "
            "(frames repeated or dropped to keep the timing)"
        )
    w, h = _even_size(info.width, info.height, settings.odd_size)
    if (w, h) != (info.width, info.height):
        how = "padded by repeating the last column/row" if settings.odd_size == "pad" else "cropped by one column/row"
        note(f"{info.width}×{info.height} is odd-sized (YUV 4:2:0 needs even sizes): {how} to {w}×{h}")
    provider = depth_provider(depth)
    if isinstance(provider, FolderDepth):
        provider.check_frames(info.frames)
    bit_depth = {"auto": 10 if info.bit_depth > 8 else 8, "8": 8, "10": 10}[settings.bit_depth]
    moved = settings.move is not None
    out_w, out_h = _output_shape(settings.layout, w, h, moved)

    work = _WorkFolder(outputs)
    done, restart_note = work.open(_fingerprint(info, settings, provider.description, outputs), resume)
    if restart_note:
        note(restart_note)
    finished = bool(done) and done[-1].get("last", False)
    chunk_frames = max(1, round(settings.chunk_seconds * float(info.fps)))
    start = sum(int(d["frames"]) for d in done)
    if done:
        note(f"resumed after {len(done)} finished chunk(s), at frame {start}")

    timer = _Timer()
    stabiliser = Stabiliser(settings.stabilise, float(info.fps))
    if done:
        stabiliser.restore(done[-1].get("stabiliser", {}))
    render = _MovedRenderer(settings, w, h) if moved else _StereoRenderer(settings, w)
    writer = _ChunkWriter(work, chunk_frames, len(done), (out_w, out_h), info.fps, settings, bit_depth, info.colour)
    written = 0
    if not finished:
        reader = FrameReader(info, bit_depth=16 if bit_depth > 8 else 8)
        decoded = _Pump(_timed_frames(reader, start, (w, h), timer), size=2 * settings.batch + 2, name="decode")
        with_depth = _Pump(_with_depth(decoded, provider, settings.batch, timer), size=settings.batch + 2, name="depth")
        encode_q: queue.Queue = queue.Queue(maxsize=4)
        encode_error: list[BaseException] = []
        aborted = threading.Event()

        def encode() -> None:
            try:
                while (item := encode_q.get()) is not None:
                    with timer("encode"):
                        writer.write(*item)
                if not aborted.is_set():  # an interrupted run never finishes its chunk
                    with timer("encode"):
                        writer.end()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                encode_error.append(exc)
                with contextlib.suppress(queue.Empty):
                    while True:
                        encode_q.get_nowait()

        encoder = threading.Thread(target=encode, name="viewshift-encode", daemon=True)
        encoder.start()
        from tqdm import tqdm

        bar = tqdm(
            total=info.frames, initial=start, unit="frame", desc=src_p.name[:24], disable=not progress, leave=False
        )
        ok = False
        try:
            for _index, frame, depth_map in with_depth:
                with timer("render"):
                    frames_out = render(frame, stabiliser(frame, depth_map), stabiliser)
                if encode_error or not encoder.is_alive():
                    raise encode_error[0] if encode_error else OutputError("the encoder stopped")
                encode_q.put((frames_out, stabiliser.state()))
                written += 1
                bar.update(1)
            encode_q.put(None)
            encoder.join()
            if encode_error:
                raise encode_error[0]
            ok = True
        finally:
            bar.close()
            if not ok:
                aborted.set()
                with_depth.stop()
                decoded.stop()
                reader.close()
                # Frames already handed over are encoded (a chunk they complete is kept); the open chunk is not.
                with contextlib.suppress(queue.Full):
                    encode_q.put(None, timeout=60)
                encoder.join(timeout=60)
                writer.abort()
                kept = writer.k
                if kept == 0:  # nothing finished: no work folder is left behind either
                    work.remove()
                else:
                    note(f"stopped: {kept} finished chunk(s) kept in {work.path}; run the same command to resume")
        if start == 0 and written == 0:
            work.remove()
            raise InputError(f"{src_p} decoded to no frames; check the file plays")

    k = 0
    chunks: list[list[Path]] = [[] for _ in outputs]
    total = 0
    while work.meta(k).is_file():
        meta = json.loads(work.meta(k).read_text(encoding="utf-8"))
        total += int(meta["frames"])
        for eye in range(len(outputs)):
            chunks[eye].append(work.chunk(k, eye, ".mp4"))
        k += 1
    with timer("encode"):
        for eye, path in enumerate(outputs):
            vio.check_output(path, overwrite=overwrite, inputs=[src_p], extensions=OUTPUT_EXTENSIONS)
            with vio.atomic_path(path) as tmp:
                concat_and_mux(chunks[eye], src_p if info.has_audio else None, tmp, list_file=work.path / "list.txt")
    work.remove()
    return ConvertResult(
        outputs=outputs,
        frames=total,
        fps=float(info.fps),
        size=(out_w, out_h),
        notes=notes,
        seconds=time.perf_counter() - t_start,
        stage_seconds={k2: round(v, 3) for k2, v in timer.seconds.items()},
    )


def analyse_video(
    src: str | os.PathLike[str],
    *,
    depth=None,
    settings: ConvertSettings = ConvertSettings(),
    limits: ComfortLimits | None = None,
    max_frames: int = 300,
    progress: bool = False,
) -> ComfortReport:
    """Comfort analysis of a video at the settings' divergence and convergence (no video is written).

    Depth is estimated on up to ``max_frames`` frames spread evenly over the clip and stabilised as in a
    conversion (the moving average's time constant counted in real time).

    Returns:
        :class:`~viewshift.video.comfort.ComfortReport` with a suggested divergence and convergence.
    """
    info = probe(src)
    provider = depth_provider(depth)
    if isinstance(provider, FolderDepth):
        provider.check_frames(info.frames)
    step = max(1, math.ceil(info.frames / max_frames))
    stabiliser = Stabiliser(settings.stabilise, float(info.fps) / step)
    reader = FrameReader(info, bit_depth=8)
    stats = []
    from tqdm import tqdm

    batch: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        if isinstance(provider, FolderDepth):  # files are found by frame index: one call per sampled frame
            depths = [provider([frame], index)[0] for index, frame in batch]
        else:
            depths = provider([frame for _, frame in batch], batch[0][0])
        for (_, frame), d in zip(batch, depths, strict=True):
            stats.append(frame_stats(stabiliser(frame, d), limits or ComfortLimits()))
        batch.clear()

    with tqdm(total=info.frames, unit="frame", desc="analysing", disable=not progress, leave=False) as bar:
        for index, frame in enumerate(reader):
            bar.update(1)
            if index % step == 0:
                batch.append((index, frame))
                if len(batch) >= settings.batch:
                    flush()
        if batch:
            flush()
    return analyse_normalised(stats, settings.divergence, settings.convergence, limits or ComfortLimits())


def find_videos(folder: str | os.PathLike[str]) -> list[Path]:
    """The video files in a folder (not recursive, hidden files skipped, sorted by name)."""
    p = Path(folder)
    if not p.is_dir():
        raise InputError(f"{p} is not a folder")
    found = sorted(q for q in p.iterdir() if q.suffix.lower() in VIDEO_EXTENSIONS and not q.name.startswith("."))
    if not found:
        raise InputError(f"folder {p} holds no videos ({', '.join(VIDEO_EXTENSIONS)})")
    return found


def folder_output(video: Path, out_dir: Path, settings: ConvertSettings, suffix: str = ".mp4") -> Path:
    """Where :func:`convert_folder` writes ``video``: ``OUT_DIR/<stem>_<layout>.mp4`` (``_moved`` for a camera move)."""
    tag = "moved" if settings.move is not None else settings.layout
    return out_dir / f"{video.stem}_{tag}{suffix}"


def convert_folder(
    src_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    depth=None,
    settings: ConvertSettings = ConvertSettings(),
    overwrite: bool = False,
    resume: bool = True,
    progress: bool = True,
    on_error: Callable[[Path, Exception], None] | None = None,
) -> tuple[list[ConvertResult], list[tuple[Path, str]]]:
    """Convert every video of a folder into ``out_dir`` (see :func:`folder_output` for the names).

    Outputs that exist are skipped unless ``overwrite``; one bad video does not stop the others.

    Returns:
        ``(results, failures)``: the results of the videos converted, and ``(video, message)`` for each failure.
    """
    from viewshift.errors import ViewshiftError

    videos = find_videos(src_dir)
    out = Path(out_dir)
    if out.suffix.lower() in OUTPUT_EXTENSIONS:
        raise OutputError(f"a folder of videos is converted into a folder; {out} looks like a file name")
    if out.resolve() == Path(src_dir).resolve():
        raise OutputError("the output folder is the input folder; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    results, failures = [], []
    for video in videos:
        target = folder_output(video, out, settings)
        if all(p.exists() for p in output_paths(target, settings.layout)) and not overwrite:
            continue
        try:
            results.append(
                convert_video(
                    video, target, depth=depth, settings=settings, overwrite=overwrite, resume=resume, progress=progress
                )
            )
        except ViewshiftError as exc:
            failures.append((video, str(exc)))
            if on_error is not None:
                on_error(video, exc)
    return results, failures


def with_move(settings: ConvertSettings, **move: float) -> ConvertSettings:
    """``settings`` for a moved camera (``right``, ``up``, ``forward``, ``yaw``, ``pitch``, ``roll``)."""
    names = ("right", "up", "forward", "yaw", "pitch", "roll")
    unknown = set(move) - set(names)
    if unknown:
        raise InputError(f"unknown move {', '.join(sorted(unknown))}; use {', '.join(names)}")
    return replace(settings, move=tuple(float(move.get(k, 0.0)) for k in names))
