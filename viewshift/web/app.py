"""The web app of ``viewshift serve``: a FastAPI (ASGI) application over :mod:`viewshift.pipeline` and
:mod:`viewshift.export`.

A photo is uploaded once (raw request body, checked by content, size and pixel count), scaled to the working size,
and its depth is computed once per depth source; every slider move then only renders (:meth:`Scene.render`).
Renders run on a small pool of worker threads (``render_workers``) with a bounded queue: past ``max_waiting``
waiting requests the server answers 503 instead of piling up memory. Long jobs (parallax video, quilt, exports)
run one at a time in the background and report progress.

Routes (ids are the only names a request can give; they are looked up, never joined to a path):

================================================ ==============================================================
``GET /``                                        the page (``static/index.html``; three.js vendored under static)
``GET /api/config``                              depth sources, move limits, export formats, layouts, limits
``POST /api/uploads``                            body = an image → ``{id, width, height, sources}``
``POST /api/uploads/example``                    the bundled example photo as an upload
``POST /api/uploads/{id}/depth``                 body = a depth file (.npy, 16-bit .png, .pfm): source ``file``
``GET /api/uploads/{id}/photo.jpg``              the photo at working size
``GET /api/uploads/{id}/depth.png``              colourised depth (``?source=``)
``GET /api/uploads/{id}/info``                   focal length and depth range (``?source=``)
``GET /api/uploads/{id}/view.png``               the moved view (``?source=&right=&up=&forward=&yaw=&pitch=&roll=
                                                 &divergence=&fill=&download=``)
``GET /api/uploads/{id}/stereo.png``             a stereo pair (``?layout=&divergence=``)
``GET /api/uploads/{id}/mesh.glb``               the mesh of the 3-D preview (``?max_side=``)
``POST /api/uploads/{id}/jobs``                  start a video / export job (``?kind=&source=&...``) → ``{id}``
``GET /api/jobs/{id}``                           its state and progress
``GET /api/jobs/{id}/file``                      its result, as a download
================================================ ==============================================================

Errors come back as JSON ``{"error": "<one line>"}``: 400 for bad input (a :class:`ViewshiftError`), 404 for an
unknown id, 413 for a too large body, 422 for malformed parameters, 503 when busy; an unexpected exception is
logged and answered 500 without stopping the server.
"""

from __future__ import annotations

import logging
import re
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import cv2
import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from viewshift import io as vio
from viewshift.errors import DepthError, InputError, ViewshiftError
from viewshift.web.store import Job, Upload, UploadStore, check_depth_bytes, check_image_bytes

log = logging.getLogger("viewshift.web")

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLE_IMAGE = Path(__file__).resolve().parent.parent / "examples" / "leuven.jpg"

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")

#: Slider limits of the move (translations in the scene's unit, angles in degrees); also enforced by the API.
MOVE_LIMITS: dict[str, float] = {"right": 1.0, "up": 1.0, "forward": 2.0, "yaw": 20.0, "pitch": 20.0, "roll": 20.0}
MAX_DIVERGENCE = 20.0
VIDEO_PATHS = ("swing", "circle", "dolly-zoom", "zoom-in")
LAYOUTS = ("sbs", "half-sbs", "tb", "anaglyph", "right")


@dataclass(frozen=True)
class ServerConfig:
    """Limits and resources of one server.

    Attributes:
        max_upload_bytes: largest request body (image or depth file).
        max_pixels: largest uploaded image in pixels (checked from the header, before decoding).
        work_side: photos are scaled down to at most this many pixels on their longer side (all renders and
            exports of the page use that size).
        max_uploads: uploads kept (least recently used dropped first, with their files).
        render_workers: renders (and depth estimates) running at once.
        max_waiting: requests allowed to wait for a render worker; beyond that the server answers 503.
        max_pending_jobs: background jobs queued or running at once; beyond that 503.
        max_video_frames: frame limit of the parallax video.
        depth_models: extra depth model specs (registry names, ``.onnx`` or ``.pt`` files) offered on the page,
            given when the server starts (a request can only pick one by name).
        temp_root: parent folder of the server's temporary folder (default: the system's).
    """

    max_upload_bytes: int = 30 * 1024 * 1024
    max_pixels: int = 40_000_000
    work_side: int = 1600
    max_uploads: int = 32
    render_workers: int = 2
    max_waiting: int = 64
    max_pending_jobs: int = 8
    max_video_frames: int = 120
    depth_models: tuple[str, ...] = ()
    temp_root: str | None = None


class _Busy(Exception):
    """Too many requests waiting for a worker."""


class _Stopped(Exception):
    """The server is stopping: a running job gives up at its next step."""


class _Depths:
    """The depth sources the server offers, by name; each model is opened once, on first use."""

    def __init__(self, specs: tuple[str, ...]) -> None:
        self.specs: dict[str, str] = {"builtin": "builtin"}
        for spec in specs:
            self.specs[Path(spec).stem if Path(spec).suffix else spec] = spec
        try:  # registry models already in the cache folder (never downloaded by the server)
            from viewshift.depth.registry import REGISTRY, is_installed

            for entry in REGISTRY:
                if getattr(entry, "runnable", True) and is_installed(entry):
                    self.specs.setdefault(entry.name, entry.name)
        except ImportError:  # an older tree without the registry
            pass
        self._opened: dict[str, Any] = {}
        self._lock = threading.Lock()

    def names(self, upload: Upload | None = None) -> list[str]:
        extra = ["file"] if upload is not None and upload.depth_file is not None else []
        return list(self.specs) + extra

    def open(self, name: str):
        if name not in self.specs:
            raise DepthError(f"unknown depth source {name!r}; choose one of {', '.join(self.specs)}")
        with self._lock:
            if name not in self._opened:
                spec = self.specs[name]
                if spec == "builtin":
                    from viewshift.pipeline import default_depth_source

                    self._opened[name] = default_depth_source()
                else:
                    from viewshift.depth.registry import open_depth_model

                    self._opened[name] = open_depth_model(spec, download=False)
            return self._opened[name]


def _quiet_path(exc: ViewshiftError, path: Path) -> str:
    """An error message without the server's temporary paths."""
    return str(exc).replace(str(path), "the upload").replace(path.name, "the upload")


def _png(image: np.ndarray) -> bytes:
    """``H×W×3``/``H×W×4`` RGB(A) or ``H×W`` grey uint8 → PNG bytes."""
    a = image
    if a.ndim == 3:
        a = cv2.cvtColor(a, cv2.COLOR_RGB2BGR if a.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", a, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise InputError("could not encode the image as PNG")
    return buf.tobytes()


def _jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise InputError("could not encode the image as JPEG")
    return buf.tobytes()


def _display_stem(name: str) -> str:
    """A file-name-safe stem for downloads (never used as a path on the server)."""
    stem = _SAFE_NAME.sub("_", Path(name).stem)[:60].strip("_")
    return stem or "photo"


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The ASGI application of ``viewshift serve``.

    Args:
        config: limits and resources (:class:`ServerConfig`).

    Returns:
        A FastAPI app; its ``state.store`` is the :class:`~viewshift.web.store.UploadStore`.
    """
    config = config or ServerConfig()
    store = UploadStore(max_uploads=config.max_uploads, root=config.temp_root)
    depths = _Depths(config.depth_models)
    jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="viewshift-job")
    limiter = anyio.CapacityLimiter(config.render_workers)
    waiting = {"n": 0}
    stopping = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        stopping.set()  # a running job stops at its next frame or view
        await anyio.to_thread.run_sync(lambda: jobs.shutdown(wait=True, cancel_futures=True))
        store.close()

    app = FastAPI(title="viewshift", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.config = config

    async def work(fn, *args):
        """Run ``fn(*args)`` on a render worker; 503 when too many requests already wait."""
        if waiting["n"] >= config.max_waiting:
            raise _Busy()
        waiting["n"] += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)
        finally:
            waiting["n"] -= 1

    # ------------------------------------------------------------------------------------------- errors

    @app.exception_handler(ViewshiftError)
    async def _bad_input(request: Request, exc: ViewshiftError):
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(_Busy)
    async def _busy(request: Request, exc: _Busy):
        return JSONResponse({"error": "the server is busy; try again in a moment"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'malformed')}"}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(MemoryError)
    async def _memory(request: Request, exc: MemoryError):
        return JSONResponse({"error": "out of memory; try a smaller photo"}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)

    # ------------------------------------------------------------------------------------------ helpers

    def upload_of(ident: str) -> Upload:
        try:
            return store.get(ident)
        except KeyError:
            raise HTTPException(404, "unknown or expired upload; upload the photo again") from None

    async def body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > config.max_upload_bytes:
            raise HTTPException(413, f"the upload is larger than {config.max_upload_bytes // 2**20} MiB")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > config.max_upload_bytes:
                raise HTTPException(413, f"the upload is larger than {config.max_upload_bytes // 2**20} MiB")
        return bytes(data)

    def prepare_upload(data: bytes, name: str, path: Path | None = None) -> Upload:
        from viewshift.pipeline import load_image, resolve_focal

        ident, folder = store.new_folder()
        try:
            if path is None:
                path = folder / f"photo{check_image_bytes(data)}"
                path.write_bytes(data)
            try:
                loaded = load_image(path, max_pixels=config.max_pixels)
            except ViewshiftError as exc:
                raise InputError(_quiet_path(exc, path)) from None
            finally:
                if path.parent == folder:
                    path.unlink(missing_ok=True)  # the pixels are in memory now
            h, w = loaded.rgb.shape[:2]
            focal = resolve_focal(w, h, focal_35mm=loaded.focal_35mm)
            rgb = loaded.rgb if loaded.rgb.dtype == np.uint8 else vio.from_float(vio.to_float(loaded.rgb), 8)
            alpha = loaded.alpha
            if alpha is not None and alpha.dtype != np.uint8:
                alpha = vio.from_float(vio.to_float(alpha), 8)
            scale = min(1.0, config.work_side / max(h, w))
            if scale < 1.0:
                size = (max(2, round(w * scale)), max(2, round(h * scale)))
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                alpha = None if alpha is None else cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
                focal *= size[0] / w
            work = vio.LoadedImage(rgb=rgb, alpha=alpha, bit_depth=8, path=None, focal_35mm=None)
            upload = Upload(id=ident, folder=folder, loaded=work, focal=focal, original_size=(h, w), name=name)
        except BaseException:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            raise
        store.add(upload)
        return upload

    def upload_reply(upload: Upload) -> dict[str, Any]:
        h, w = upload.loaded.rgb.shape[:2]
        return {
            "id": upload.id,
            "width": w,
            "height": h,
            "original_width": upload.original_size[1],
            "original_height": upload.original_size[0],
            "name": upload.name,
            "sources": depths.names(upload),
        }

    def scene_of(upload: Upload, source: str):
        from viewshift.depth.base import DepthMap
        from viewshift.pipeline import get_depth, scene_from

        def build():
            if source == "file":
                if upload.depth_file is None:
                    raise DepthError("no depth file uploaded for this photo; upload one or pick another source")
                depth_in: Any = DepthMap(upload.depth_file, "metric")
            else:
                depth_in = depths.open(source)
            depth = get_depth(upload.loaded, depth_in, focal=upload.focal)
            return scene_from(upload.loaded, depth, upload.focal)

        if source != "file" and source not in depths.specs:
            raise DepthError(f"unknown depth source {source!r}; choose one of {', '.join(depths.names(upload))}")
        return store.scene(upload, source, build)

    def move_of(scene, q: dict[str, float], divergence: float | None):
        from viewshift.pipeline import Move, move_for_divergence

        move = Move(**q)
        if divergence:
            move = move_for_divergence(scene, move, divergence)
        return move

    def attachment(data: bytes, media: str, filename: str | None) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
        return Response(data, media_type=media, headers={**headers, "Cache-Control": "no-store"})

    # ------------------------------------------------------------------------------------------- routes

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/config")
    async def api_config():
        from viewshift.export import FORMATS

        return {
            "sources": depths.names(),
            "move_limits": MOVE_LIMITS,
            "max_divergence": MAX_DIVERGENCE,
            "layouts": list(LAYOUTS),
            "video_paths": list(VIDEO_PATHS),
            "formats": {k: {"extensions": list(f.extensions), "about": f.description} for k, f in FORMATS.items()},
            "max_upload_bytes": config.max_upload_bytes,
            "max_pixels": config.max_pixels,
            "work_side": config.work_side,
        }

    @app.post("/api/uploads")
    async def api_upload(request: Request, name: str = Query("photo", max_length=200)):
        data = await body(request)
        check_image_bytes(data)  # refuse early, before a worker is taken
        upload = await work(prepare_upload, data, name)
        return upload_reply(upload)

    @app.post("/api/uploads/example")
    async def api_example():
        upload = await work(prepare_upload, b"", EXAMPLE_IMAGE.name, EXAMPLE_IMAGE)
        return upload_reply(upload)

    @app.post("/api/uploads/{ident}/depth")
    async def api_depth_upload(request: Request, ident: str):
        upload = upload_of(ident)
        data = await body(request)
        ext = check_depth_bytes(data)

        def read() -> None:
            path = upload.folder / f"depth{ext}"
            path.write_bytes(data)
            try:
                depth = vio.read_depth(path)
            except ViewshiftError as exc:
                raise DepthError(_quiet_path(exc, path)) from None
            finally:
                path.unlink(missing_ok=True)
            h0, w0 = upload.original_size
            if depth.shape != (h0, w0):
                raise DepthError(f"the depth file is {depth.shape[1]}×{depth.shape[0]}, the photo {w0}×{h0}")
            h, w = upload.loaded.rgb.shape[:2]
            if (h, w) != (h0, w0):
                depth = cv2.resize(depth, (w, h), interpolation=cv2.INTER_NEAREST)
            from viewshift.depth.checks import validate_depth

            upload.depth_file = validate_depth(depth, (h, w))
            upload.scenes.pop("file", None)

        await work(read)
        return {"sources": depths.names(upload)}

    @app.get("/api/uploads/{ident}/photo.jpg")
    async def api_photo(ident: str):
        upload = upload_of(ident)
        return Response(await work(_jpeg, upload.loaded.rgb), media_type="image/jpeg")

    @app.get("/api/uploads/{ident}/depth.png")
    async def api_depth(ident: str, source: str = "builtin"):
        upload = upload_of(ident)

        def run() -> bytes:
            return _png(vio.depth_preview(scene_of(upload, source).depth[0, 0].numpy()))

        return Response(await work(run), media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/uploads/{ident}/info")
    async def api_info(ident: str, source: str = "builtin"):
        upload = upload_of(ident)

        def run() -> dict[str, float]:
            scene = scene_of(upload, source)
            d = scene.depth
            return {
                "focal": scene.focal,
                "depth_min": float(d.min()),
                "depth_median": float(d.median()),
                "depth_max": float(d.max()),
            }

        return await work(run)

    @app.get("/api/uploads/{ident}/view.png")
    async def api_view(
        ident: str,
        source: str = "builtin",
        right: float = Query(0.0, ge=-MOVE_LIMITS["right"], le=MOVE_LIMITS["right"]),
        up: float = Query(0.0, ge=-MOVE_LIMITS["up"], le=MOVE_LIMITS["up"]),
        forward: float = Query(0.0, ge=-MOVE_LIMITS["forward"], le=MOVE_LIMITS["forward"]),
        yaw: float = Query(0.0, ge=-MOVE_LIMITS["yaw"], le=MOVE_LIMITS["yaw"]),
        pitch: float = Query(0.0, ge=-MOVE_LIMITS["pitch"], le=MOVE_LIMITS["pitch"]),
        roll: float = Query(0.0, ge=-MOVE_LIMITS["roll"], le=MOVE_LIMITS["roll"]),
        divergence: float = Query(0.0, ge=0.0, le=MAX_DIVERGENCE),
        fill: str = Query("background", pattern="^(background|texture|telea|ns)$"),
        download: bool = False,
    ):
        upload = upload_of(ident)
        q = {"right": right, "up": up, "forward": forward, "yaw": yaw, "pitch": pitch, "roll": roll}

        def run() -> bytes:
            from viewshift.pipeline import ViewOptions

            scene = scene_of(upload, source)
            view = scene.render(move_of(scene, q, divergence).pose(), options=ViewOptions(fill=fill))
            return _png(view.image)

        data = await work(run)
        return attachment(data, "image/png", f"{_display_stem(upload.name)}_view.png" if download else None)

    @app.get("/api/uploads/{ident}/stereo.png")
    async def api_stereo(
        ident: str,
        source: str = "builtin",
        layout: str = Query("sbs", pattern="^(sbs|half-sbs|tb|anaglyph|right)$"),
        divergence: float = Query(2.5, gt=0.0, le=MAX_DIVERGENCE),
        download: bool = True,
    ):
        upload = upload_of(ident)

        def run() -> bytes:
            from viewshift.pipeline import compose_stereo, stereo_pair

            left, right = stereo_pair(scene_of(upload, source), divergence=divergence)
            return _png(compose_stereo(left.image, right.image, layout))

        data = await work(run)
        return attachment(data, "image/png", f"{_display_stem(upload.name)}_{layout}.png" if download else None)

    @app.get("/api/uploads/{ident}/mesh.glb")
    async def api_mesh(ident: str, source: str = "builtin", max_side: int = Query(256, ge=16, le=1024)):
        upload = upload_of(ident)

        def run() -> bytes:
            from viewshift.export.mesh import mesh_to_glb_bytes, scene_to_mesh

            return mesh_to_glb_bytes(scene_to_mesh(scene_of(upload, source), max_side=max_side))

        return Response(await work(run), media_type="model/gltf-binary", headers={"Cache-Control": "no-store"})

    # --------------------------------------------------------------------------------------------- jobs

    def step(job: Job, done: int, total: int) -> None:
        if stopping.is_set():
            raise _Stopped()
        job.progress(done, total)

    def run_job(job: Job, upload: Upload, source: str, params: dict[str, Any]) -> None:
        job.state = "running"
        try:
            scene = scene_of(upload, source)
            stem = _display_stem(upload.name)
            if job.kind == "video":
                out = _video_job(job, scene, params)
            else:
                out = _export_job(job, scene, params)
            job.file = out
            job.done = job.total
            job.filename = f"{stem}_{job.kind}{out.suffix}" if job.kind != "quilt" else stem + out.name[len("photo") :]
            job.state = "done"
        except ViewshiftError as exc:
            job.error, job.state = str(exc), "failed"
        except _Stopped:
            job.error, job.state = "the server stopped", "failed"
        except Exception as exc:  # noqa: BLE001 - one failed job must not stop the worker
            log.exception("job %s failed", job.id)
            job.error, job.state = f"internal error ({type(exc).__name__})", "failed"

    def _video_job(job: Job, scene, params: dict[str, Any]) -> Path:
        from viewshift.pipeline import ViewOptions, camera_path

        frames = []
        path = camera_path(scene, params["path"], params["num_frames"])
        for i, (move, K_new) in enumerate(path):
            view = scene.render(move.pose(), options=ViewOptions(), K_new=K_new)
            frames.append(np.ascontiguousarray(view.image[..., :3]))
            step(job, i + 1, len(path) + 1)
        out = job.folder / f"photo.{params['container']}"
        vio.write_video(out, frames, fps=params["fps"])
        job.progress(len(path) + 1, len(path) + 1)
        return out

    def _export_job(job: Job, scene, params: dict[str, Any]) -> Path:
        from viewshift.export import FORMATS, ExportOptions, export_scene

        ext = FORMATS[job.kind].extensions[0]
        options = ExportOptions(divergence=params.get("divergence"))
        files = export_scene(
            scene, job.folder / f"photo{ext}", job.kind, options=options, progress=lambda d, t: step(job, d, t)
        )
        if len(files) == 1:
            return files[0]
        out = job.folder / "photo.zip"
        with vio.atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w") as z:
            for f in files:
                z.write(f, f.name)
        return out

    @app.post("/api/uploads/{ident}/jobs")
    async def api_new_job(
        ident: str,
        kind: str = Query(..., pattern="^(video|mesh|points|splats|depth-jpeg|photo-depth|quilt|left-right)$"),
        source: str = "builtin",
        path: str = Query("swing", pattern="^(swing|circle|dolly-zoom|zoom-in)$"),
        num_frames: int = Query(48, ge=2),
        fps: float = Query(24.0, ge=1.0, le=60.0),
        container: str = Query("mp4", pattern="^(mp4|gif)$"),
        divergence: float | None = Query(None, gt=0.0, le=MAX_DIVERGENCE),
    ):
        upload = upload_of(ident)
        if num_frames > config.max_video_frames:
            raise InputError(f"a video has at most {config.max_video_frames} frames here, asked for {num_frames}")
        if source != "file" and source not in depths.specs:
            raise DepthError(f"unknown depth source {source!r}")
        if store.pending_jobs() >= config.max_pending_jobs:
            raise _Busy()
        job = store.new_job(upload, kind)
        params = {"path": path, "num_frames": num_frames, "fps": fps, "container": container, "divergence": divergence}
        jobs.submit(run_job, job, upload, source, params)
        return job.as_dict()

    def job_of(ident: str) -> Job:
        try:
            return store.job(ident)
        except KeyError:
            raise HTTPException(404, "unknown or expired job") from None

    @app.get("/api/jobs/{ident}")
    async def api_job(ident: str):
        return job_of(ident).as_dict()

    @app.get("/api/jobs/{ident}/file")
    async def api_job_file(ident: str):
        job = job_of(ident)
        if job.state != "done" or job.file is None or not job.file.is_file():
            raise HTTPException(409, f"the job is {job.state}, it has no file (yet)")
        return FileResponse(job.file, filename=job.filename, headers={"Cache-Control": "no-store"})

    return app
