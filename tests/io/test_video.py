"""Videos: MP4 of odd sizes, looping GIF, refusals leaving nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.io.samples import NOISE8, leftovers
from viewshift import io as vio
from viewshift.errors import InputError, OutputError, ShapeError

# ------------------------------------------------------------------------------------------ video


def test_write_mp4_even_size(tmp_path: Path) -> None:
    import imageio.v3 as iio

    frames = [np.full((9, 11, 3), 40 * i, np.uint8) for i in range(5)]
    vio.write_video(tmp_path / "v.mp4", iter(frames), fps=10)
    video = iio.imread(tmp_path / "v.mp4")
    assert video.shape == (5, 10, 12, 3)
    np.testing.assert_allclose(video.reshape(5, -1).mean(axis=1), [0, 40, 80, 120, 160], atol=4)
    assert leftovers(tmp_path) == []


def test_write_gif_loops(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [np.tile(np.array(c, np.uint8), (6, 8, 1)) for c in colours]
    vio.write_video(tmp_path / "v.gif", frames, fps=5)
    with Image.open(tmp_path / "v.gif") as im:
        assert im.n_frames == 3 and im.info.get("loop") == 0 and im.info.get("duration") == 200
        for i, c in enumerate(colours):
            im.seek(i)
            np.testing.assert_array_equal(np.asarray(im.convert("RGB"))[0, 0], c)


def test_write_video_refusals_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no frames"):
        vio.write_video(tmp_path / "v.mp4", [], fps=10)
    with pytest.raises(InputError, match="fps"):
        vio.write_video(tmp_path / "v.gif", [NOISE8], fps=0)
    with pytest.raises(OutputError, match="not one of .mp4, .gif"):
        vio.write_video(tmp_path / "v.avi", [NOISE8], fps=10)
    for ext in (".mp4", ".gif"):
        with pytest.raises(ShapeError, match="frame 2 is 8×4 but frame 0 is 7×5"):
            vio.write_video(tmp_path / f"v{ext}", [NOISE8, NOISE8, np.zeros((4, 8, 3), np.uint8)], fps=10)
    assert list(tmp_path.iterdir()) == []
