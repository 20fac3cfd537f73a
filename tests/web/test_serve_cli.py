"""`viewshift serve` on the command line (the server itself is tested in test_app.py and test_browser.py)."""

from __future__ import annotations

import pytest

from viewshift.cli import main

pytest.importorskip("uvicorn", reason="viewshift serve runs on uvicorn")


def test_serve_binds_loopback_by_default_and_passes_limits(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.update(kw, app=app))
    assert main(["serve", "--max-upload-mb", "2", "--depth-model", "models/tiny.onnx"]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    config = seen["app"].state.config
    assert config.max_upload_bytes == 2 * 1024 * 1024 and config.depth_models == ("models/tiny.onnx",)
    assert "serving on http://127.0.0.1:8000/" in capsys.readouterr().err
    seen["app"].state.store.close()


def test_serve_says_when_others_can_reach_it(monkeypatch, capsys):
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: app.state.store.close())
    assert main(["serve", "--host", "0.0.0.0", "-q"]) == 0
    assert "other machines can reach this page" in capsys.readouterr().err


def test_bad_port_is_one_line(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert capsys.readouterr().err.strip() == "viewshift: error: --port must be between 0 and 65535, got 70000"
