"""Command-line pieces of multi-view depth: the ``--clip`` option and ``viewshift depth FRAME1 FRAME2 ... | VIDEO``.

Imports only the standard library and :mod:`viewshift.cli_args` at module level (``viewshift --help`` stays fast);
the handlers import the library.

* ``viewshift depth F1 F2 ... -o depth.npy`` / ``viewshift depth VIDEO -o depth.npy`` / ``viewshift depth --clip DIR
  -o depth.npy``: cameras and plane-sweep depth of frame ``--ref`` (default 0, the first) of the frames; writes the
  depth (relative: the median depth of frame 0's triangulated points is 1), its preview and
  ``<stem>_confidence.png`` (8-bit, 255 = confidence 1).
* ``viewshift depth|render|stereo|video PHOTO --clip DIR|VIDEO``: the photo's depth from the clip, the photo being
  the reference frame (see :class:`viewshift.multiview.ClipDepth`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from viewshift.cli_args import count, wrote
from viewshift.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".gif", ".mpg", ".mpeg")
DEFAULT_CLIP_FRAMES = 12  # = viewshift.multiview.source.DEFAULT_CLIP_FRAMES (kept here: no heavy import)


def add_clip_option(group) -> None:
    """Add ``--clip DIR|VIDEO`` to a depth group (it combines with ``--depth-model``: see check_clip_sources)."""
    group.add_argument(
        "--clip",
        metavar="DIR|VIDEO",
        help="several frames of the same scene from a moving camera (a folder of images, a make-clip folder or a "
        "video): geometric multi-view depth for the photo, which is the reference frame and the clip's frames its "
        f"neighbours ({DEFAULT_CLIP_FRAMES} frames spread over the clip); pixels the clip cannot match are filled "
        "from --depth-model's depth aligned to the geometry (default: the built-in network)",
    )


def check_clip_sources(args: argparse.Namespace) -> None:
    """Refuse ``--clip`` together with another depth source other than ``--depth-model`` (its fill).

    Raises:
        InputError: ``--clip`` with ``--depth`` or ``--stereo-right``.
    """
    if getattr(args, "clip", None):
        for name, flag in (("depth", "--depth"), ("stereo_right", "--stereo-right")):
            if getattr(args, name, None):
                raise InputError(
                    f"--clip and {flag} both give depth; use one (--clip combines only with --depth-model, "
                    "which fills what the clip cannot match)"
                )


def add_frames_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--ref`` and ``--num-frames`` of ``viewshift depth`` with several frames."""
    g = parser.add_argument_group("several frames (viewshift depth F1 F2 ... | VIDEO | --clip DIR)")
    g.add_argument(
        "--ref",
        type=int,
        default=0,
        metavar="I",
        help="index of the frame whose depth is written (default: 0, the first)",
    )
    g.add_argument(
        "--num-frames",
        dest="clip_frames",
        type=count,
        default=DEFAULT_CLIP_FRAMES,
        metavar="N",
        help="frames read from a video or folder, spread evenly over it",
    )


def wants_multiview(args: argparse.Namespace) -> bool:
    """Whether ``viewshift depth``'s inputs are several frames: two or more positionals, one video, or only --clip."""
    images = list(args.image or [])
    if len(images) > 1:
        return True
    if len(images) == 1:
        return Path(images[0]).suffix.lower() in VIDEO_SUFFIXES
    if getattr(args, "clip", None):
        return True
    raise InputError("give an image (or several frames, a video, or --clip DIR) to compute depth for")


def cmd_depth_frames(args: argparse.Namespace) -> int:
    """``viewshift depth F1 F2 ... | VIDEO | --clip DIR``: depth and confidence of frame ``--ref``."""
    import numpy as np
    import torch

    from viewshift import io as vio
    from viewshift.multiview import SweepConfig, estimate_cameras, multiview_depth, read_frame_set

    images = list(args.image or [])
    spec = images if len(images) > 1 else Path(images[0] if images else args.clip)
    if images and getattr(args, "clip", None):
        raise InputError("give the frames either positionally or with --clip, not both")
    if args.clip_frames < 2:
        raise InputError(f"--num-frames must be at least 2, got {args.clip_frames}")
    check_clip_sources(args)
    inputs = [Path(p) for p in images] or [Path(args.clip)]
    out = vio.check_output(args.output, overwrite=args.overwrite, inputs=inputs, extensions=(".npy", ".png", ".pfm"))
    conf_path = out.with_name(f"{out.stem}_confidence.png")
    vio.check_output(conf_path, overwrite=args.overwrite, inputs=inputs, extensions=(".png",))
    torch.set_num_threads(args.threads)
    frame_set = read_frame_set(spec, max_frames=args.clip_frames)
    n = len(frame_set.frames)
    if not -n <= args.ref < n:
        raise InputError(f"--ref {args.ref} is out of range for {n} frames")
    h, w = frame_set.frames[0].shape[:2]
    focal = frame_set.focal
    if args.focal:
        focal = args.focal
    elif args.fov:
        from viewshift.geometry import focal_from_fov

        focal = focal_from_fov(args.fov, w)
    cameras = estimate_cameras(frame_set.frames, focal=focal)
    prior = None
    if getattr(args, "depth_model", None):
        from viewshift.commands import open_depth_model

        prior = open_depth_model(args.depth_model, args)
    result = multiview_depth(
        frame_set.frames, args.ref, cameras=cameras, config=SweepConfig(threads=args.threads), prior=prior
    )
    vio.write_depth(out, result.depth, overwrite=args.overwrite, inputs=inputs)
    conf = np.round(np.clip(result.confidence, 0, 1) * 255).astype(np.uint8)
    vio.write_image(conf_path, conf, overwrite=args.overwrite, inputs=inputs)
    ref = result.ref
    wrote(
        args,
        f"{out} ({w}×{h}, frame {ref} of {n}: {Path(frame_set.names[ref]).name}; relative depth, focal "
        f"{cameras.K[0, 0]:.0f} px ({cameras.focal_source})), "
        f"{out.stem}_preview.png, {conf_path.name}",
    )
    return 0
