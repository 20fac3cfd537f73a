"""The output policy (check_output) and the one atomic writer (atomic_path): nothing half-written, no input lost."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.io.samples import NOISE8, NOISE16, leftovers
from viewshift import io as vio
from viewshift.errors import OutputError, ShapeError

# ------------------------------------------------------------------------------------------ write refusals


def test_write_refuses_existing_output_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError, match="already exists.*overwrite"):
        vio.write_image(out, NOISE8)
    assert out.read_bytes() == b"precious"
    vio.write_image(out, NOISE8, overwrite=True)
    np.testing.assert_array_equal(vio.read_image(out).rgb, NOISE8)
    assert leftovers(tmp_path) == []


def test_write_refuses_output_equal_to_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.png"
    vio.write_image(src, NOISE8)
    before = src.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.png").symlink_to(src)
    os.link(src, tmp_path / "hard.png")  # another name for the same file: caught by samefile
    for out in (src, Path("in.png"), tmp_path / "sub" / ".." / "in.png", tmp_path / "link.png", tmp_path / "hard.png"):
        with pytest.raises(OutputError, match="it is the input"):
            vio.write_image(out, NOISE16, overwrite=True, inputs=[src])
    assert src.read_bytes() == before


def test_write_refuses_missing_folder_bad_extension_bad_array(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        vio.write_image(tmp_path / "no" / "a.png", NOISE8)
    with pytest.raises(OutputError, match="extension '.bmp' not one of"):
        vio.write_image(tmp_path / "a.bmp", NOISE8)
    with pytest.raises(OutputError, match="is a folder"):
        (tmp_path / "d.png").mkdir()
        vio.write_image(tmp_path / "d.png", NOISE8, overwrite=True)
    with pytest.raises(ShapeError, match="uint8 or uint16"):
        vio.write_image(tmp_path / "a.png", NOISE8.astype(np.float32))
    with pytest.raises(ShapeError, match="H×W×3"):
        vio.write_image(tmp_path / "a.png", np.zeros((4, 4, 2), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png"]


def test_check_output_is_what_writers_use(tmp_path: Path) -> None:
    assert vio.check_output(tmp_path / "x.mp4", overwrite=False, inputs=()) == tmp_path / "x.mp4"
    with pytest.raises(OutputError, match="not one of .png"):
        vio.check_output(tmp_path / "x.mp4", overwrite=False, extensions=(".png",))


def test_atomic_path_removes_temp_file_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="writer broke"):
        with vio.atomic_path(out) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp != out
            tmp.write_bytes(b"half")
            raise RuntimeError("writer broke")
    assert out.read_bytes() == b"old"
    assert leftovers(tmp_path) == []
    with vio.atomic_path(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    with pytest.raises(OutputError, match="produced no file"):
        with vio.atomic_path(tmp_path / "never.png"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_torch_round_trips_and_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    import torch

    out = tmp_path / "ckpt.pt"
    state = {"step": 3, "w": torch.arange(6.0).view(2, 3)}
    vio.save_torch(state, out)
    back = torch.load(out, weights_only=True)
    assert back["step"] == 3 and torch.equal(back["w"], state["w"])
    with pytest.raises(Exception, match="lambda"):  # not picklable: torch.save fails midway
        vio.save_torch({"step": 4, "f": lambda: 0}, out)
    assert torch.load(out, weights_only=True)["step"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_write_image_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.write_bytes

    def half_then_fail(self: Path, data: bytes) -> int:
        real(self, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OutputError, match="No space left on device"):
        vio.write_image(tmp_path / "a.png", NOISE8)
    assert list(tmp_path.iterdir()) == []
