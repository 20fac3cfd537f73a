"""The web app's API through FastAPI's test client: uploads, depth once, views equal to the library's own render,
jobs, and the safety rules (content checks, limits, ids only, temporary files removed, one bad request harmless)."""

from __future__ import annotations

import io
import time
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.web.scenes import H, W, npy_bytes, png_bytes, red_x, square_photo, wall_x_shift

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e '.[dev]')")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx (dev extra)")

with warnings.catch_warnings():  # starlette's notice about its httpx backend, not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from viewshift.web.app import ServerConfig, create_app  # noqa: E402


@pytest.fixture
def client(tmp_path):
    app = create_app(ServerConfig(temp_root=str(tmp_path), max_upload_bytes=2_000_000, max_pixels=200_000))
    with TestClient(app, raise_server_exceptions=False) as c:  # answer 500 like a real server
        yield c


def _upload_square(client) -> str:
    rgb, depth = square_photo()
    reply = client.post("/api/uploads?name=square.png", content=png_bytes(rgb)).json()
    assert (reply["width"], reply["height"]) == (W, H)
    assert client.post(f"/api/uploads/{reply['id']}/depth", content=npy_bytes(depth)).json()["sources"][-1] == "file"
    return reply["id"]


def _image(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def test_view_equals_the_library_render_and_moves_near_content_left(client):
    import viewshift

    ident = _upload_square(client)
    rgb, depth = square_photo()
    view = _image(client.get(f"/api/uploads/{ident}/view.png", params={"source": "file", "right": 0.1}))
    expected = viewshift.synthesize(rgb, depth=depth, right=0.1).image
    np.testing.assert_array_equal(view, expected)
    # Camera right: the near square slides left by f·0.1/1 px, the wall at depth 4 by a quarter of that.
    f = W / 2 / np.tan(np.radians(30))
    assert red_x(view) - red_x(rgb) == pytest.approx(-f * 0.1, abs=1.0)
    assert wall_x_shift(rgb, view) == pytest.approx(-f * 0.1 / 4, abs=1.0)


def test_depth_is_estimated_once_per_upload_and_source(client, monkeypatch):
    from viewshift.depth.base import DepthMap

    calls = []

    class Counting:
        def estimate(self, rgb):
            calls.append(rgb.shape)
            return DepthMap(np.ones(rgb.shape[:2], np.float32), "relative")

    monkeypatch.setattr("viewshift.pipeline.default_depth_source", lambda: Counting())
    ident = client.post("/api/uploads", content=png_bytes(square_photo()[0])).json()["id"]
    for right in (0.0, 0.05, 0.1):
        assert client.get(f"/api/uploads/{ident}/view.png", params={"right": right}).status_code == 200
    assert client.get(f"/api/uploads/{ident}/depth.png").status_code == 200
    assert calls == [(H, W, 3)]


def test_example_photo_and_outputs(tmp_path):
    with TestClient(create_app(ServerConfig(temp_root=str(tmp_path), work_side=400))) as client:
        _check_example(client)


def _check_example(client) -> None:
    reply = client.post("/api/uploads/example").json()
    assert (reply["width"], reply["height"], reply["original_width"]) == (400, 300, 751)
    assert reply["name"] == "leuven.jpg" and reply["sources"] == ["builtin"]
    ident = reply["id"]
    depth = _image(client.get(f"/api/uploads/{ident}/depth.png"))
    assert depth.shape == (reply["height"], reply["width"], 3)
    sbs = client.get(f"/api/uploads/{ident}/stereo.png", params={"layout": "sbs"})
    assert _image(sbs).shape == (reply["height"], 2 * reply["width"], 3)
    assert "attachment" in sbs.headers["content-disposition"] and "leuven_sbs.png" in sbs.headers["content-disposition"]
    glb = client.get(f"/api/uploads/{ident}/mesh.glb", params={"max_side": 64}).content
    assert glb[:4] == b"glTF"


def _finish(client, job: dict) -> dict:
    for _ in range(300):
        job = client.get(f"/api/jobs/{job['id']}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not finish")


def test_jobs_with_progress_and_downloads(client):
    ident = _upload_square(client)
    job = _finish(client, client.post(f"/api/uploads/{ident}/jobs", params={"kind": "photo-depth"}).json())
    assert job["state"] == "done" and job["done"] == job["total"]
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['id']}/file").content))
    assert sorted(z.namelist()) == ["photo.jpg", "photo_depth.jpg"]
    params = {"kind": "video", "source": "file", "num_frames": 5, "container": "gif", "path": "swing"}
    job = _finish(client, client.post(f"/api/uploads/{ident}/jobs", params=params).json())
    assert (job["state"], job["done"], job["total"], job["filename"]) == ("done", 6, 6, "square_video.gif")
    gif = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/file").content))
    assert gif.n_frames == 5  # swing frames sin(2πk/5) all differ (a GIF merges equal frames)
    job = _finish(client, client.post(f"/api/uploads/{ident}/jobs", params={"kind": "quilt", "source": "file"}).json())
    assert job["total"] == 48 and job["filename"].startswith("square_qs8x6a")
    bad = client.post(f"/api/uploads/{ident}/jobs", params={"kind": "video", "num_frames": 10_000})
    assert bad.status_code == 400 and "at most" in bad.json()["error"]


def test_only_images_by_content(client):
    rgb, _ = square_photo()
    for data in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\0" * 40, b"", b"%PDF-1.4"):
        r = client.post("/api/uploads?name=photo.png", content=data)
        assert r.status_code == 400 and "JPEG, PNG" in r.json()["error"]
    truncated = png_bytes(rgb)[:200]  # PNG magic, broken body
    r = client.post("/api/uploads", content=truncated)
    assert r.status_code == 400
    store = client.app.state.store
    assert str(store.folder) not in r.json()["error"] and len(store) == 0
    assert list(store.folder.iterdir()) == []  # the refused upload left nothing behind


def test_size_and_pixel_limits(client):
    big = client.post("/api/uploads", content=b"\xff\xd8\xff" + b"\0" * 2_000_001)
    assert big.status_code == 413 and "MiB" in big.json()["error"]
    huge = png_bytes(np.zeros((500, 500, 3), np.uint8))  # 250 000 px > 200 000
    r = client.post("/api/uploads", content=huge)
    assert r.status_code == 400 and "pixels" in r.json()["error"]
    assert str(client.app.state.store.folder) not in r.json()["error"]


def test_ids_only_never_paths(client):
    for ident in ("nope", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"):
        r = client.get(f"/api/uploads/{ident}/view.png")
        assert r.status_code == 404
    assert client.get("/api/jobs/..%2F..%2Fetc%2Fpasswd/file").status_code == 404
    assert client.get("/static/../../errors.py").status_code == 404


def test_bad_requests_do_not_take_the_server_down(client, monkeypatch):
    ident = _upload_square(client)
    r = client.get(f"/api/uploads/{ident}/view.png", params={"right": "nan"})
    assert r.status_code == 422 and "right" in r.json()["error"]
    r = client.get(f"/api/uploads/{ident}/view.png", params={"source": "file", "forward": 1.5})
    assert r.status_code == 400 and "inside the scene" in r.json()["error"]
    r = client.post(f"/api/uploads/{ident}/depth", content=npy_bytes(np.ones((5, 5), np.float32)))
    assert r.status_code == 400 and "5×5" in r.json()["error"]
    r = client.get(f"/api/uploads/{ident}/view.png", params={"source": "midas-huge"})
    assert r.status_code == 400 and "unknown depth source" in r.json()["error"]

    def boom(image):
        raise RuntimeError("a bug")

    monkeypatch.setattr("viewshift.web.app._png", boom)
    r = client.get(f"/api/uploads/{ident}/view.png", params={"source": "file"})
    assert r.status_code == 500 and r.json()["error"] == "internal error (RuntimeError)"
    monkeypatch.undo()
    assert client.get(f"/api/uploads/{ident}/view.png", params={"source": "file"}).status_code == 200


def test_busy_server_answers_503(tmp_path):
    with TestClient(create_app(ServerConfig(temp_root=str(tmp_path), max_waiting=0))) as c:
        r = c.post("/api/uploads/example")
        assert r.status_code == 503 and "busy" in r.json()["error"]


def test_temporary_files_are_removed(tmp_path):
    app = create_app(ServerConfig(temp_root=str(tmp_path), max_uploads=2))
    rgb, depth = square_photo()
    with TestClient(app) as c:
        ids = [c.post("/api/uploads", content=png_bytes(rgb)).json()["id"] for _ in range(3)]
        folder = app.state.store.folder
        # The photo's pixels are kept in memory; its file is gone; the oldest upload was dropped with its folder.
        assert sorted(p.name for p in folder.iterdir()) == sorted(ids[1:])
        assert c.get(f"/api/uploads/{ids[0]}/photo.jpg").status_code == 404
        job = c.post(f"/api/uploads/{ids[2]}/jobs", params={"kind": "points"}).json()
        assert _finish(c, job)["state"] == "done"
        assert any(folder.rglob("photo.ply"))
    assert not folder.exists() and list(tmp_path.iterdir()) == []


def test_several_tabs_at_once(client):
    """Two photos (two tabs) rendered concurrently: each answer is its own photo's render."""
    from concurrent.futures import ThreadPoolExecutor

    import viewshift

    rgb, depth = square_photo()
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    ids = []
    for image in (rgb, flipped):
        ident = client.post("/api/uploads", content=png_bytes(image)).json()["id"]
        client.post(f"/api/uploads/{ident}/depth", content=npy_bytes(depth[:, ::-1] if image is flipped else depth))
        ids.append(ident)
    moves = [0.02 * k for k in range(6)]

    def fetch(job):
        ident, right = job
        return _image(client.get(f"/api/uploads/{ident}/view.png", params={"source": "file", "right": right}))

    jobs = [(ident, right) for right in moves for ident in ids]
    with ThreadPoolExecutor(4) as pool:
        views = list(pool.map(fetch, jobs))
    for (ident, right), view in zip(jobs, views, strict=True):
        image, d = (rgb, depth) if ident == ids[0] else (flipped, np.ascontiguousarray(depth[:, ::-1]))
        np.testing.assert_array_equal(view, viewshift.synthesize(image, depth=d, right=right).image)
