"""The page in a real browser: Playwright drives Debian's chromium against `viewshift serve` on 127.0.0.1.

It uploads a tiny photo and its exact depth, drags the "right" slider, checks that the picture on the page is the
library's own render of that move (the near square slid left, the far wall less), downloads the view and a mesh
export. With ``VIEWSHIFT_WEB_SCREENSHOTS=1`` it also writes docs/images/web_moved.png and web_job.png (the bundled
example photo).
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.web.scenes import npy_bytes, png_bytes, red_x, square_photo, wall_x_shift

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium; .ci/run does it)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) drives the browser")
uvicorn = pytest.importorskip("uvicorn", reason="the server runs on uvicorn")

from viewshift.web.app import ServerConfig, create_app  # noqa: E402

# Playwright's own browser download is unreachable here: launch the system chromium, headless, offline, software GL.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-angle=swiftshader",  # WebGL (three.js preview) in software
    "--enable-unsafe-swiftshader",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on uvicorn in a thread, on an ephemeral port of 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(ServerConfig(temp_root=str(tmp_path_factory.mktemp("serve"))))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        # launch() starts from a fresh temporary profile of its own and removes it afterwards.
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shown_view(page) -> np.ndarray:
    """The pixels of the moved view as the page holds them (the PNG behind #view-img)."""
    data = page.evaluate(
        "async () => { const r = await fetch(document.getElementById('view-img').src);"
        " return Array.from(new Uint8Array(await r.arrayBuffer())); }"
    )
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))


def _drag(page, name: str, value: float) -> None:
    page.fill(f"#slider-{name}", str(value))
    page.dispatch_event(f"#slider-{name}", "input")


def test_upload_move_check_and_download(server, browser, tmp_path):
    import viewshift

    url, app = server
    rgb, depth = square_photo()
    photo, depth_file = tmp_path / "square.png", tmp_path / "square_depth.npy"
    photo.write_bytes(png_bytes(rgb))
    depth_file.write_bytes(npy_bytes(depth))

    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.set_input_files("#file-input", str(photo))
    # The first view may compile the renderer's kernels (cold cache of a fresh clone): allow a minute.
    page.wait_for_selector("#view-img[data-query='source=builtin']", timeout=60_000)
    page.set_input_files("#depth-file-input", str(depth_file))
    page.wait_for_selector("#view-img[data-query='source=file']", timeout=20_000)
    np.testing.assert_array_equal(_shown_view(page), viewshift.synthesize(rgb, depth=depth).image)

    _drag(page, "right", 0.1)
    page.wait_for_selector("#view-img[data-query='source=file&right=0.1']", timeout=20_000)
    shown = _shown_view(page)
    np.testing.assert_array_equal(shown, viewshift.synthesize(rgb, depth=depth, right=0.1).image)
    # The camera moved right: the near square (depth 1) slid left by f·0.1 px, the wall (depth 4) a quarter of it.
    f = rgb.shape[1] / 2 / np.tan(np.radians(30))
    assert red_x(shown) - red_x(rgb) == pytest.approx(-f * 0.1, abs=1.0)
    assert wall_x_shift(rgb, shown) == pytest.approx(-f * 0.1 / 4, abs=1.0)

    with page.expect_download() as dl:
        page.click("#download-view")
    assert dl.value.suggested_filename == "square_view.png"
    saved = tmp_path / "downloaded.png"
    dl.value.save_as(saved)
    np.testing.assert_array_equal(np.asarray(Image.open(saved).convert("RGB")), shown)

    with page.expect_download(timeout=30_000) as dl:
        page.click("#export-mesh")
    assert dl.value.suggested_filename == "square_mesh.glb"
    mesh = tmp_path / "mesh.glb"
    dl.value.save_as(mesh)
    assert mesh.read_bytes()[:4] == b"glTF"
    assert errors == []
    if os.environ.get("VIEWSHIFT_WEB_SCREENSHOTS"):
        _screenshots(browser, url)
    page.close()


def _screenshots(browser, url: str) -> None:
    """docs/images/web_moved.png (the bundled example after a move) and web_job.png (a video job running)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.click("#example-btn")
    page.wait_for_selector("#view-img[data-query='source=builtin']", timeout=60_000)
    page.wait_for_selector("#preview[data-loaded='1']", timeout=60_000)
    _drag(page, "right", 0.3)
    _drag(page, "yaw", 3)
    page.wait_for_selector("#view-img[data-query*='yaw=3']", timeout=60_000)
    page.wait_for_timeout(500)
    _save_screenshot(page, "web_moved.png")
    page.click("#video-btn")
    page.wait_for_function("document.querySelector('#jobs progress')?.value >= 8", timeout=60_000)
    _save_screenshot(page, "web_job.png")
    page.close()


def _save_screenshot(page, name: str) -> None:
    """A screenshot, 1100 px wide in 256 colours (small enough for the repository)."""
    im = Image.open(io.BytesIO(page.screenshot()))
    im = im.resize((1100, round(im.height * 1100 / im.width)), Image.LANCZOS).convert("RGB")
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    im.quantize(256, method=Image.Quantize.MEDIANCUT).save(DOCS_IMAGES / name, optimize=True)
