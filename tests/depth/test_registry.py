"""The model registry, open_depth_model and the downloader, against a local HTTP server on 127.0.0.1.

The served model is a tiny ONNX network the test exports itself (its output is a known function of the input);
the registry's real entries are never contacted: every download goes to a test entry pointing at the local server.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.helpers_http import FileServer, closed_port
from tests.helpers_onnx import ChannelMean, FirstChannel, export_onnx
from viewshift.depth import OnnxDepth
from viewshift.depth import registry as reg
from viewshift.depth.builtin import BUILTIN_WEIGHTS, BuiltinDepth
from viewshift.depth.download import (
    ChecksumError,
    DownloadError,
    HTTPStatusError,
    IncompleteDownloadError,
    NetworkError,
    UnverifiedError,
    download_model,
)
from viewshift.depth.registry import ModelEntry, ModelNotInstalledError, open_depth_model
from viewshift.errors import DepthError, InputError, ModelError

PLAIN = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}


@pytest.fixture(scope="module")
def onnx_bytes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("served")
    return {
        "/mean.onnx": export_onnx(ChannelMean(), folder / "mean.onnx", dynamic_hw=True).read_bytes(),
        "/first.onnx": export_onnx(FirstChannel(), folder / "first.onnx", input_shape=(1, 3, 32, 48)).read_bytes(),
    }


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(reg.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@pytest.fixture
def server(onnx_bytes: dict[str, bytes]):
    with FileServer() as srv:
        srv.served.files.update(onnx_bytes)
        yield srv


def entry_for(srv: FileServer, path: str = "/mean.onnx", **changes) -> ModelEntry:
    """A registry entry for a file on the local server, with its true SHA-256 and size unless changed."""
    data = srv.served.files[path]
    base = ModelEntry(
        name="tiny-depth",
        title="tiny test model",
        filename="tiny-depth.onnx",
        url=srv.url(path),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        checksum_source="computed by the test",
        input_size=(32, 48),
        output="inverse",
        licence="MIT",
        non_commercial=False,
        source="tests",
        mean=PLAIN["mean"],
        std=PLAIN["std"],
    )
    return dataclasses.replace(base, **changes)


def ramp_image(h: int = 32, w: int = 48) -> np.ndarray:
    """Red rises left to right, green top to bottom, blue constant: brightness rises to the right."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 200)], axis=2).astype(np.uint8)


# ------------------------------------------------------------------------------------------ downloads


def test_nothing_is_downloaded_without_asking(server: FileServer, cache: Path) -> None:
    entry = entry_for(server)
    with pytest.raises(ModelNotInstalledError) as info:
        open_depth_model("tiny-depth", registry=(entry,))
    message = str(info.value)
    assert "\n" not in message
    assert "viewshift models get tiny-depth" in message and "--download" in message
    assert entry.url in message and str(cache / "tiny-depth.onnx") in message
    assert server.served.requests == []  # the server was never contacted
    assert not cache.exists() or not any(cache.iterdir())


def test_download_then_estimate(server: FileServer, cache: Path) -> None:
    entry = entry_for(server)
    source = open_depth_model("Tiny_Depth", download=True, registry=(entry,), quiet=True)
    target = cache / "tiny-depth.onnx"
    assert isinstance(source, OnnxDepth) and source.path == target
    assert target.read_bytes() == server.served.files["/mean.onnx"]
    files = sorted(p.name for p in cache.iterdir())
    assert files == ["tiny-depth.onnx", "tiny-depth.onnx.lock"]  # no .part, no checksum record; the (empty) lock
    assert server.served.requests == [("/mean.onnx", None)]

    rgb = ramp_image()
    direct = OnnxDepth(target, input_size=(32, 48), **PLAIN).estimate(rgb).depth
    result = source.estimate(rgb)
    np.testing.assert_array_equal(result.depth, direct)
    assert result.unit == "relative"
    assert np.all(np.diff(result.depth[0]) < 0)  # brighter (right) = larger inverse depth = nearer

    # Installed now: opened again without the network, and an override replaces the entry's setting.
    again = open_depth_model("tiny-depth", registry=(entry,), input_size=(16, 24))
    assert again.input_size == (16, 24) and len(server.served.requests) == 1


def test_entry_normalisation_reaches_the_network(server: FileServer, cache: Path) -> None:
    # A network that returns its red input channel shows exactly what the entry's normalisation did.
    entry = entry_for(server, "/first.onnx", mean=(100.0, 0.0, 0.0), std=(50.0, 1.0, 1.0), value_range=255.0)
    source = open_depth_model("tiny-depth", download=True, registry=(entry,), quiet=True)
    rgb = ramp_image()
    np.testing.assert_allclose(source.predict(rgb), (rgb[:, :, 0] - 100.0) / 50.0, atol=1e-4)


def test_checksum_mismatch_removes_the_download(server: FileServer, cache: Path) -> None:
    entry = entry_for(server, sha256="0" * 64)
    with pytest.raises(ChecksumError) as info:
        open_depth_model("tiny-depth", download=True, registry=(entry,), quiet=True)
    assert "SHA-256" in str(info.value) and "removed" in str(info.value) and "\n" not in str(info.value)
    assert not (cache / "tiny-depth.onnx").exists() and not (cache / "tiny-depth.onnx.part").exists()


def test_truncated_download_resumes_with_a_range_request(server: FileServer, cache: Path) -> None:
    entry = entry_for(server)
    total = entry.size
    cut = total // 3
    server.served.cut_after = cut
    with pytest.raises(IncompleteDownloadError) as info:
        download_model(entry, quiet=True)
    part = cache / "tiny-depth.onnx.part"
    assert part.stat().st_size == cut and not (cache / "tiny-depth.onnx").exists()
    assert f"{cut} of {total} bytes" in str(info.value) and "run the same command again" in str(info.value)

    result = download_model(entry, quiet=True)
    assert server.served.requests[-1] == ("/mean.onnx", f"bytes={cut}-")
    assert (result.resumed_from, result.downloaded, result.verified) == (cut, total - cut, True)
    assert server.served.body_bytes == total  # the second request fetched only the rest
    assert (cache / "tiny-depth.onnx").read_bytes() == server.served.files["/mean.onnx"] and not part.exists()


def test_resume_through_a_redirect(server: FileServer, cache: Path) -> None:
    """Hugging Face and GitHub answer with a redirect to their storage; the Range request must survive it."""
    server.served.redirects["/resolve/tiny.onnx"] = "/mean.onnx"
    entry = entry_for(server, url=server.url("/resolve/tiny.onnx"))
    server.served.cut_after = entry.size // 2
    with pytest.raises(IncompleteDownloadError):
        download_model(entry, quiet=True)
    result = download_model(entry, quiet=True)
    assert server.served.requests[-1] == ("/mean.onnx", f"bytes={entry.size // 2}-") and result.verified


def test_a_second_download_of_the_same_file_is_refused_while_one_runs(server: FileServer, cache: Path) -> None:
    import fcntl

    entry = entry_for(server)
    cache.mkdir(parents=True)
    with open(cache / "tiny-depth.onnx.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DownloadError, match="another download of tiny-depth.onnx is running"):
            download_model(entry, quiet=True)
    assert server.served.requests == [] and download_model(entry, quiet=True).verified


def test_server_without_range_support_starts_again(server: FileServer, cache: Path) -> None:
    entry = entry_for(server)
    server.served.cut_after = entry.size // 3
    with pytest.raises(IncompleteDownloadError):
        download_model(entry, quiet=True)
    server.served.ignore_range = True
    result = download_model(entry, quiet=True)
    assert (result.resumed_from, result.downloaded) == (0, entry.size)
    assert (cache / "tiny-depth.onnx").read_bytes() == server.served.files["/mean.onnx"]


def test_corrupt_partial_file_is_caught_after_resuming(server: FileServer, cache: Path) -> None:
    entry = entry_for(server)
    cache.mkdir(parents=True)
    (cache / "tiny-depth.onnx.part").write_bytes(b"x" * 50)  # not the file's first 50 bytes
    with pytest.raises(ChecksumError):
        download_model(entry, quiet=True)
    assert not (cache / "tiny-depth.onnx.part").exists() and not (cache / "tiny-depth.onnx").exists()
    assert download_model(entry, quiet=True).verified  # the next attempt starts clean


def test_no_network_says_what_to_put_where(server: FileServer, cache: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/tiny.onnx"
    entry = entry_for(server, url=url)
    with pytest.raises(NetworkError) as info:
        open_depth_model("tiny-depth", download=True, registry=(entry,), quiet=True, timeout=5)
    message = str(info.value)
    assert "\n" not in message and f"cannot reach {url}" in message
    assert f"download {url} and put it at {cache / 'tiny-depth.onnx'}" in message


def test_http_error(server: FileServer, cache: Path) -> None:
    entry = entry_for(server, url=server.url("/missing.onnx"))
    with pytest.raises(HTTPStatusError, match=r"^HTTP 404 .* from http://127\.0\.0\.1:\d+/missing\.onnx; to install"):
        download_model(entry, quiet=True)
    assert not (cache / "tiny-depth.onnx").exists()


def test_unpublished_checksum_needs_consent_and_is_then_pinned(server: FileServer, cache: Path) -> None:
    entry = entry_for(server, sha256=None)
    with pytest.raises(UnverifiedError, match="--sha256 HEX.*--unverified"):
        open_depth_model("tiny-depth", download=True, registry=(entry,), quiet=True)
    assert server.served.requests == []
    wrong = "f" * 64
    with pytest.raises(ChecksumError):  # a checksum the user read somewhere is enforced
        download_model(entry, sha256=wrong, quiet=True)

    result = download_model(entry, quiet=True, allow_unverified=True)
    assert not result.verified and result.sha256 == hashlib.sha256(server.served.files["/mean.onnx"]).hexdigest()
    assert reg.pinned_path(entry).read_text().split()[0] == result.sha256
    open_depth_model("tiny-depth", registry=(entry,))  # the pinned file matches
    target = cache / "tiny-depth.onnx"
    stat = target.stat()
    target.write_bytes(target.read_bytes()[:-1] + b"\x00")  # the file changes afterwards
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # (a coarse clock may not tick between)
    with pytest.raises(ChecksumError, match="delete it"):
        open_depth_model("tiny-depth", registry=(entry,))


def test_installed_file_with_wrong_checksum_is_refused(server: FileServer, cache: Path) -> None:
    entry = entry_for(server, size=None)
    cache.mkdir(parents=True)
    (cache / "tiny-depth.onnx").write_bytes(server.served.files["/first.onnx"])  # someone put the wrong file there
    with pytest.raises(ChecksumError, match="tiny-depth.onnx has SHA-256"):
        open_depth_model("tiny-depth", registry=(entry,))


# ------------------------------------------------------------------------------------------ the resolver


def test_paths_resolve_to_onnx_and_viewshift_models(onnx_bytes: dict[str, bytes], tmp_path: Path) -> None:
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(onnx_bytes["/mean.onnx"])
    source = open_depth_model(str(onnx), input_size=(32, 48), **PLAIN)
    assert isinstance(source, OnnxDepth) and source.input_size == (32, 48)
    assert isinstance(open_depth_model(BUILTIN_WEIGHTS), BuiltinDepth)
    assert isinstance(open_depth_model("builtin"), BuiltinDepth)
    with pytest.raises(DepthError, match="input_size applies to ONNX models only"):
        open_depth_model(BUILTIN_WEIGHTS, input_size=(32, 48))
    with pytest.raises(InputError, match="ONNX model not found"):
        open_depth_model(tmp_path / "nope.onnx")
    with pytest.raises(DepthError, match="unknown depth model option"):
        open_depth_model(str(onnx), colour="blue")


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(InputError, match="did you mean depth-anything-v2-small") as info:
        open_depth_model("depth-anything-v2-smal")
    assert "viewshift models list" in str(info.value)
    with pytest.raises(ModelError, match="cannot run in viewshift yet"):
        open_depth_model("moge-2")


def test_registry_entries_are_complete() -> None:
    names = [e.name for e in reg.REGISTRY] + [a for e in reg.REGISTRY for a in e.aliases]
    assert len(names) == len(set(names))
    for e in reg.REGISTRY:
        assert re.fullmatch(r"[a-z0-9.\-]+", e.name) and e.licence and e.source.startswith("https://")
        assert e.non_commercial == ("NC" in e.licence)
        if e.runnable:
            assert e.url is not None and e.url.startswith("https://") and e.filename.endswith(".onnx")
            assert e.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", e.sha256)
            assert e.checksum_source and e.output in ("inverse", "relative", "metric")
            e.onnx_options()  # every runnable entry can be fed to OnnxDepth
        else:
            assert e.url is None and e.note
    assert {"depth-anything-v2-small", "midas-v2.1-small"} <= {e.name for e in reg.REGISTRY if e.runnable}


def test_cache_folder_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(reg.CACHE_ENV, str(tmp_path))
    assert reg.models_dir() == tmp_path / "models"
    monkeypatch.delenv(reg.CACHE_ENV)
    assert reg.cache_dir().name == "viewshift"


# ------------------------------------------------------------------------------------------ the CLI group


def run_models(argv: list[str]) -> int:
    from viewshift.depth import models_cli

    parser = argparse.ArgumentParser(prog="viewshift")
    models_cli.register(parser.add_subparsers())
    args = parser.parse_args(["models", *argv])
    return args.func(args)


def test_models_commands(server: FileServer, cache: Path, monkeypatch, capsys) -> None:
    entry = entry_for(server)
    monkeypatch.setattr(reg, "REGISTRY", (entry, *reg.REGISTRY))

    assert run_models(["path", "tiny-depth"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{cache / 'tiny-depth.onnx'}\n" and "not installed" in err

    assert run_models(["get", "tiny-depth"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"wrote {cache / 'tiny-depth.onnx'} (") and "SHA-256 verified" in out
    assert out.count("\n") == 1
    assert run_models(["get", "tiny-depth", "-q"]) == 0 and capsys.readouterr().out == ""
    assert len(server.served.requests) == 1  # already installed: not fetched again

    assert run_models(["list"]) == 0
    out, _ = capsys.readouterr()
    assert re.search(r"^tiny-depth\s+inverse\s+.*MIT.*installed$", out, re.M)
    assert re.search(r"^depth-anything-v2-base\s.*CC-BY-NC-4.0 \(NON-COMMERCIAL\)", out, re.M)
    assert re.search(r"^moge-2\s.*not runnable", out, re.M)

    with pytest.raises(InputError, match="64 hexadecimal"):
        run_models(["get", "midas-v2.1-small", "--sha256", "abc"])


def test_cli_depth_with_download(server: FileServer, cache: Path, monkeypatch, capsys, tmp_path: Path) -> None:
    """`viewshift depth PHOTO --depth-model NAME` refuses offline, then --download fetches it and writes depth."""
    import imageio.v3 as iio

    from viewshift.cli import main

    monkeypatch.setattr(reg, "REGISTRY", (entry_for(server),))
    photo = tmp_path / "photo.png"
    iio.imwrite(photo, ramp_image())
    argv = ["depth", str(photo), "-o", str(tmp_path / "d.npy"), "--depth-model", "tiny-depth"]
    assert main(argv) == 4
    assert "viewshift models get tiny-depth" in capsys.readouterr().err and server.served.requests == []
    assert main([*argv, "--download", "-q"]) == 0, capsys.readouterr().err
    depth = np.load(tmp_path / "d.npy")
    assert depth.shape == (32, 48) and np.all(np.diff(depth[0]) < 0)  # brighter = nearer, as the model says
    assert (cache / "tiny-depth.onnx").is_file() and len(server.served.requests) == 1


def test_keep_aspect_auto_follows_the_file(onnx_bytes: dict[str, bytes], tmp_path: Path) -> None:
    """Depth Anything's entries keep the photo's aspect on a dynamic-size file and use a fixed file's own size."""
    dynamic, fixed = tmp_path / "dynamic.onnx", tmp_path / "fixed.onnx"
    dynamic.write_bytes(onnx_bytes["/mean.onnx"])
    fixed.write_bytes(onnx_bytes["/first.onnx"])
    a = OnnxDepth(dynamic, input_size=(518, 518), keep_aspect="auto", multiple_of=14, **PLAIN)
    assert a.keep_aspect is True and a.network_size((480, 640)) == (518, 700)
    b = OnnxDepth(fixed, input_size=(518, 518), keep_aspect="auto", multiple_of=14, **PLAIN)
    assert b.keep_aspect is False and b.network_size((480, 640)) == (32, 48)
    assert b.predict(ramp_image(480, 640)).shape == (480, 640)
    da2 = reg.find_entry("depth-anything-v2-small")
    assert da2.onnx_options()["keep_aspect"] == "auto" and da2.multiple_of == 14
