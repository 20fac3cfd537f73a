"""Sample output for the README and docs/video.md: a real clip converted with the built-in depth network.

    nice -n 10 python bench/video_sample.py

Converts 3 s of 7-Scenes redkitchen (640×480, hand-held, bench/video_clips.py) to side-by-side and to anaglyph
with the default settings, and writes into docs/images/: ``video_sbs.jpg`` (one side-by-side frame, half size),
``video_anaglyph.gif`` (1.2 s of the anaglyph at 10 frames/s, 240×180; red-cyan glasses) and
``video_depth.jpg`` (the source frame beside its stabilised normalised disparity).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.video_clips import redkitchen_clip  # noqa: E402

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def main() -> None:
    from PIL import Image

    from viewshift import io as vio
    from viewshift.pipeline import default_depth_source
    from viewshift.video.convert import ConvertSettings, convert_video
    from viewshift.video.depth import NetworkDepth
    from viewshift.video.ffmpeg import FrameReader, probe
    from viewshift.video.stabilise import Stabiliser

    folder = Path(tempfile.mkdtemp(prefix="viewshift-sample-"))
    clip, _ = redkitchen_clip(folder, 640, 480, 90)
    sbs = convert_video(clip, folder / "sbs.mp4", settings=ConvertSettings(layout="sbs"))
    ana = convert_video(clip, folder / "anaglyph.mp4", settings=ConvertSettings(layout="anaglyph"))
    print(sbs.stage_seconds, ana.stage_seconds)

    frames = list(FrameReader(probe(sbs.outputs[0])))
    still = cv2.resize(frames[45], (640, 240), interpolation=cv2.INTER_AREA)
    vio.write_image(IMAGES / "video_sbs.jpg", still, overwrite=True)

    anaglyph = [cv2.resize(f, (240, 180), interpolation=cv2.INTER_AREA) for f in FrameReader(probe(ana.outputs[0]))]
    gif = [Image.fromarray(f).quantize(colors=64) for f in anaglyph[30:66:3]]
    with vio.atomic_path(IMAGES / "video_anaglyph.gif") as tmp:
        gif[0].save(tmp, save_all=True, append_images=gif[1:], duration=100, loop=0)

    source = list(FrameReader(probe(clip)))[:46]
    net = NetworkDepth(default_depth_source())
    stab = Stabiliser(ConvertSettings().stabilise, 30.0)
    for k in range(0, 46, 8):
        for f, d in zip(source[k : k + 8], net(source[k : k + 8], k), strict=True):
            n = stab(f, d)
    grey = (np.clip(cv2.resize(n, (320, 240)), 0, 1) * 255).astype(np.uint8)
    colour = cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    pair = np.concatenate([cv2.resize(source[45], (320, 240), interpolation=cv2.INTER_AREA), colour], axis=1)
    vio.write_image(IMAGES / "video_depth.jpg", pair, overwrite=True)
    print("wrote video_sbs.jpg, video_anaglyph.gif, video_depth.jpg to", IMAGES)


if __name__ == "__main__":
    main()
