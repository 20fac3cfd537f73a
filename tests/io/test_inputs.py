"""Command-line inputs: a file, a folder or a glob as image files."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewshift import io as vio
from viewshift.errors import InputError

# ------------------------------------------------------------------------------------------ inputs


def test_expand_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("b.png", "a.JPG", "c.webp", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert vio.expand_inputs(tmp_path) == [tmp_path / n for n in ("a.JPG", "b.png", "c.webp")]
    assert vio.expand_inputs(tmp_path / "notes.txt") == [tmp_path / "notes.txt"]
    assert vio.expand_inputs(str(tmp_path / "*.png")) == [tmp_path / "b.png"]
    with pytest.raises(InputError, match="no files match"):
        vio.expand_inputs(str(tmp_path / "*.tif"))
    with pytest.raises(InputError, match="holds no images"):
        vio.expand_inputs(tmp_path / "sub")
    with pytest.raises(InputError, match="not found"):
        vio.expand_inputs(tmp_path / "nothing.png")
