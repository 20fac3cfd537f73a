"""Reading several frames: folders, file lists, make-clip folders, videos, and the one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest

from viewshift.errors import InputError
from viewshift.io import write_image
from viewshift.multiview import read_frame_set, read_frames


def frames(count: int = 6, h: int = 24, w: int = 32) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(count)]


def test_folder_of_images_sorted_and_spread(tmp_path):
    imgs = frames(6)
    for i, f in enumerate(imgs):
        write_image(tmp_path / f"f{i}.png", f)
    out = read_frames(tmp_path)
    assert len(out) == 6 and all(np.array_equal(a, b) for a, b in zip(out, imgs, strict=True))
    spread = read_frames(tmp_path, max_frames=3)  # first, middle and last
    assert [np.array_equal(spread[k], imgs[i]) for k, i in enumerate((0, 2, 5))] == [True] * 3
    half = read_frames([tmp_path / "f0.png", tmp_path / "f1.png"], max_width=16)
    assert half[0].shape == (12, 16, 3)


def test_every_step_th_frame_from_the_first_then_the_first_max_frames(tmp_path):
    """Training clips want consecutive frames (``make-clip --step``), multi-view depth wants them spread."""
    import cv2

    imgs = frames(7)
    for i, f in enumerate(imgs):
        write_image(tmp_path / f"f{i}.png", f)
    write_image(tmp_path / "other.png", imgs[0])
    got = read_frames(tmp_path, step=2, max_frames=3, pattern="f*")
    assert [next(i for i, f in enumerate(imgs) if np.array_equal(f, g)) for g in got] == [0, 2, 4]
    assert len(read_frames(tmp_path, step=1, max_frames=None, pattern="f*")) == 7
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
    for k in range(9):
        writer.write(np.full((16, 16, 3), 25 * k, np.uint8))
    writer.release()
    got = read_frame_set(video, step=3, max_frames=None)
    assert [n.rsplit("#", 1)[1] for n in got.names] == ["0", "3", "6"]
    assert [int(round(f.mean() / 25)) for f in got.frames] == [0, 3, 6]


def test_sixteen_bit_images_become_eight_bit(tmp_path):
    for i in range(2):
        write_image(tmp_path / f"{i}.png", np.full((8, 8, 3), 4096 * (i + 1), np.uint16))
    got = read_frames(tmp_path)
    assert got[0].dtype == np.uint8 and [int(f[0, 0, 0]) for f in got] == [16, 32]


def test_make_clip_folder_gives_its_focal(tmp_path):
    (tmp_path / "frames").mkdir()
    for i, f in enumerate(frames(3)):
        write_image(tmp_path / "frames" / f"{i:06d}.png", f)
    np.savetxt(tmp_path / "K.txt", np.array([[50.0, 0, 15.5], [0, 50, 11.5], [0, 0, 1]]))
    got = read_frame_set(tmp_path, max_width=16)
    assert len(got.frames) == 3 and got.frames[0].shape == (12, 16, 3)
    assert got.focal == pytest.approx(25.0)  # scaled with the frames
    assert got.K[0, 2] == pytest.approx(7.5)


def test_video_frames(tmp_path):
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    for k in range(12):
        writer.write(np.full((24, 32, 3), 20 * k, np.uint8))
    writer.release()
    out = read_frames(path, max_frames=4)
    assert len(out) == 4 and out[0].shape == (24, 32, 3)
    assert out[0].mean() < out[-1].mean()  # spread over the video, in order


def test_refusals(tmp_path):
    write_image(tmp_path / "a.png", frames(1)[0])
    write_image(tmp_path / "b.png", frames(1, 20, 32)[0])
    with pytest.raises(InputError, match="one size"):
        read_frames(tmp_path)
    with pytest.raises(InputError, match="at least 2"):
        read_frames(tmp_path / "a.png")
    with pytest.raises(InputError, match="at least 2"):
        read_frames([tmp_path / "a.png"])
    with pytest.raises(InputError, match="not found"):
        read_frames(tmp_path / "missing")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01not a video" * 100)
    with pytest.raises(InputError, match="cannot be decoded"):
        read_frames(bad)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_frames(empty)
    with pytest.raises(InputError, match="matching 'z\\*'"):
        read_frames(tmp_path, pattern="z*")


def test_a_folder_whose_images_sit_in_a_sub_folder_is_named(tmp_path):
    (tmp_path / "capture" / "images").mkdir(parents=True)
    for i, f in enumerate(frames(2, 8, 8)):
        write_image(tmp_path / "capture" / "images" / f"{i}.png", f)
    with pytest.raises(InputError, match=r"holds no images; need at least 2; its folder images/ does: give that"):
        read_frames(tmp_path / "capture")
    assert len(read_frames(tmp_path / "capture" / "images")) == 2
