"""The main commands: ``viewshift demo``, ``render``, ``stereo``, ``video`` and ``depth``.

Each handler parses nothing itself: it turns the ``argparse.Namespace`` into library calls
(:mod:`viewshift.pipeline`, :mod:`viewshift.io`) and lets typed :class:`~viewshift.errors.ViewshiftError` s reach
``viewshift.cli``, which prints them as one line. A folder or glob as input runs a batch into an output folder
with a progress bar, skipping outputs that exist (unless ``--overwrite``); one bad file does not stop the batch.

Only the standard library is imported at module level (``viewshift --help`` stays fast); the handlers import
numpy, torch and the library.

Public helpers for other command groups (``viewshift export`` uses them, so a photo's depth, camera and rendering
options mean the same everywhere): :func:`add_depth_options`, :func:`add_render_options` (parsers);
:func:`scene_from_args`, :func:`view_options_from_args`, :func:`inputs_of`, :func:`set_threads` (handlers).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from viewshift.cli_args import (
    LazyChoices,
    add_camera,
    add_deprecated,
    add_output,
    add_threads,
    count,
    wrote,
)
from viewshift.errors import DepthError, InputError, OutputError, ViewshiftError
from viewshift.multiview.cli import (
    add_clip_option,
    add_frames_options,
    check_clip_sources,
    cmd_depth_frames,
    wants_multiview,
)
from viewshift.video.cli import add_video_options

IMAGE_OUT = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
DEPTH_OUT = (".npy", ".png", ".pfm")
VIDEO_OUT = (".mp4", ".gif")
DEFAULT_MAX_PIXELS = 100_000_000

EXAMPLE_IMAGE = Path(__file__).resolve().parent / "examples" / "leuven.jpg"
"""The bundled example photo (OpenCV's sample ``leuvenA.jpg``, see ``examples/COPYRIGHT.opencv-doc``)."""


# ------------------------------------------------------------------------------------------ shared arguments


def _add_io(p: argparse.ArgumentParser, what: str, *, frames: bool = False) -> None:
    if frames:  # viewshift depth: also several frames of one scene, or a video (multi-view depth)
        p.add_argument(
            "image",
            nargs="*",
            help="input image, or a folder / glob of images for a batch; or several frames of one scene "
            "(FRAME1 FRAME2 ...) or a video: geometric depth of frame --ref",
        )
    else:
        p.add_argument("image", help="input image, or a folder / glob of images for a batch")
    add_output(p, f"output {what} (a folder for a batch)")
    p.add_argument(
        "--max-pixels",
        type=count,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images with more pixels, e.g. 2e8 (default: 1e8)",
    )
    add_threads(p)


def add_depth_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("depth (default: the built-in depth network)")
    x = g.add_mutually_exclusive_group()
    x.add_argument(
        "--depth",
        metavar="FILE|DIR",
        help="depth file (.npy, 16-bit .png, .pfm); for a batch, a folder of <stem>.<ext>",
    )
    x.add_argument(
        "--depth-model",
        metavar="SPEC",
        help="a depth model: a registry name, an .onnx file (MiDaS / Depth Anything style), or a viewshift depth "
        "model file (.pt, written by `viewshift fit` or `viewshift train`)",
    )
    add_deprecated(x, "--model", "--depth-model", dest="depth_model", metavar="MODEL")
    g.add_argument(
        "--download",
        action="store_true",
        help="download the --depth-model NAME into the cache folder if it is not there (`viewshift models list`)",
    )
    x.add_argument("--stereo-right", metavar="IMAGE", help="the right image of a rectified pair (semi-global matching)")
    add_clip_option(g)
    g.add_argument(
        "--depth-unit",
        choices=("metric", "relative", "disparity"),
        help="unit of --depth (default: metric)",
    )
    g.add_argument(
        "--depth-scale",
        metavar="X",
        type=float,
        default=1.0,
        help="multiply the depth file's values (e.g. 0.001 for mm)",
    )
    g.add_argument(
        "--depth-baseline", metavar="B", type=float, help="baseline of a disparity file or of --stereo-right's pair"
    )
    g.add_argument(
        "--depth-fill-unknown",
        action="store_true",
        help="fill unknown pixels of --depth (NaN/inf, zero, negative) from their farther neighbours instead of "
        "refusing the file",
    )
    g.add_argument(
        "--onnx-size",
        metavar="WxH",
        help="ONNX input size WxH, or 'native' (default: a named model's own size; 384x384 for an .onnx file)",
    )
    g.add_argument(
        "--onnx-output",
        choices=("inverse", "depth"),
        help="what the ONNX model outputs (default: a named model's own kind; inverse for an .onnx file)",
    )
    g.add_argument(
        "--scene-distance",
        metavar="Z",
        type=float,
        help="median depth that relative depth is scaled to (default: 3, metres)",
    )


def _add_move(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("camera move (translations in depth units, angles in degrees)")
    for name, text in (
        ("right", "move the camera right (near things slide left)"),
        ("up", "move the camera up"),
        ("forward", "move the camera forward"),
        ("yaw", "turn the camera right"),
        ("pitch", "tilt the camera up"),
        ("roll", "roll the camera clockwise seen from behind (the picture's content turns counter-clockwise)"),
    ):
        unit = "DEG" if name in ("yaw", "pitch", "roll") else "D"
        g.add_argument(f"--{name}", type=float, default=0.0, metavar=unit, help=text)
    g.add_argument("--pose", metavar="FILE", help="4×4 new-camera-to-source pose (.npy or text) instead of a move")
    g.add_argument(
        "--divergence",
        type=float,
        metavar="PCT",
        help="scale the move so the largest parallax is PCT %% of the width",
    )


def add_render_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rendering")
    g.add_argument(
        "--fill",
        choices=LazyChoices("viewshift.render.fill", "FILL_METHODS"),
        default="background",
        help="hole filling",
    )
    g.add_argument("--no-realism", action="store_true", help="do not match the fill's noise and blur to the photo")
    g.add_argument("--border", choices=("fill", "crop", "leave"), default="fill", help="strips revealed at the border")
    g.add_argument("--dilate", type=int, default=0, metavar="PX", help="grow near surfaces by PX pixels against halos")
    g.add_argument("--seed", metavar="N", type=int, default=0, help="seed of the realism noise")


def _add_scene_args(
    p: argparse.ArgumentParser, what: str, *, move: bool = False, render: bool = False, frames: bool = False
) -> None:
    """The arguments of a command that turns a photo into a scene: input and output, camera, depth; optionally a
    camera move, the rendering options and several frames (``depth``)."""
    _add_io(p, what, frames=frames)
    add_camera(p)
    add_depth_options(p)
    if move:
        _add_move(p)
    if render:
        add_render_options(p)


def view_options_from_args(args: argparse.Namespace):
    from viewshift.pipeline import ViewOptions

    return ViewOptions(
        fill=args.fill, realism=not args.no_realism, border=args.border, dilate_px=args.dilate, seed=args.seed
    )


def _onnx_size(text: str) -> tuple[int, int] | None:
    if text == "native":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--onnx-size must look like 384x384 or be 'native', got {text!r}") from None
    return h, w


def open_depth_model(spec: str, args: argparse.Namespace):
    """The depth source ``--depth-model SPEC`` names (a registry name, an ``.onnx`` file or a ``.pt`` model file),
    resolved by :func:`viewshift.depth.registry.open_depth_model`; ``--download`` fetches a missing named model.

    Raises:
        ModelError: SPEC is neither an existing file nor a known, installed model name (the message says what to
            do), or the download failed.
    """
    from viewshift.depth.registry import open_depth_model as resolve

    overrides: dict = {"output": args.onnx_output}
    if args.onnx_size is not None:
        overrides["input_size"] = _onnx_size(args.onnx_size) or "native"
    elif Path(spec).suffix.lower() == ".onnx":
        overrides["input_size"] = (384, 384)  # an .onnx file says nothing of its preferred size
    return resolve(spec, download=args.download, quiet=getattr(args, "quiet", False), **overrides)


def _depth_spec(args: argparse.Namespace, image: Path, focal: float):
    """What ``args`` say the depth of ``image`` is: an argument for :func:`viewshift.pipeline.get_depth`."""
    from viewshift.depth import FileDepth, StereoDepth

    check_clip_sources(args)
    if args.depth:
        path = Path(args.depth)
        if path.is_dir():
            found = [q for q in (path / f"{image.stem}{ext}" for ext in DEPTH_OUT) if q.is_file()]
            if not found:
                raise DepthError(f"no depth file for {image.name} in {path} (looked for {image.stem}.npy/.png/.pfm)")
            path = found[0]
        return FileDepth(
            path,
            unit=args.depth_unit or "metric",
            focal=focal,
            baseline=args.depth_baseline,
            scale=args.depth_scale,
            fill_invalid=args.depth_fill_unknown,
        )
    if getattr(args, "clip", None):
        from viewshift.multiview import ClipDepth

        given = args.focal or (focal if args.fov else None)  # else the clip's K.txt / EXIF, or a focal search
        prior = open_depth_model(args.depth_model, args) if args.depth_model else None
        return ClipDepth(
            args.clip, focal=given, max_frames=getattr(args, "clip_frames", 12), threads=args.threads, prior=prior
        )
    if args.depth_model:
        return open_depth_model(args.depth_model, args)
    if args.stereo_right:
        if args.depth_baseline is None:
            raise DepthError("--stereo-right needs --depth-baseline, the distance between the two cameras")
        return StereoDepth(args.stereo_right, focal=focal, baseline=args.depth_baseline)
    return None


def scene_from_args(args: argparse.Namespace, image: Path):
    from viewshift.pipeline import get_depth, load_image, resolve_focal, scene_from

    loaded = load_image(image, max_pixels=args.max_pixels)
    h, w = loaded.rgb.shape[:2]
    focal = resolve_focal(w, h, focal=args.focal, fov=args.fov, focal_35mm=loaded.focal_35mm)
    spec = _depth_spec(args, image, focal)
    depth = get_depth(
        loaded,
        spec,
        focal=focal,
        depth_unit=args.depth_unit if not args.depth else None,
        depth_baseline=args.depth_baseline,
        scene_distance=args.scene_distance,
    )
    focal = getattr(spec, "estimated_focal", None) or focal  # --clip: the focal its cameras were estimated with
    _note_first_compile()
    return scene_from(loaded, depth, focal)


def _note_first_compile() -> None:
    """Tell a person at a terminal when the renderer's kernels are about to be compiled (first run after
    installing), so the pause is explained."""
    from viewshift.render import kernels

    if sys.stderr.isatty() and not kernels.cached_on_disk():
        print("viewshift: compiling the renderer (first run only, about 10-20 s)...", file=sys.stderr)


def set_threads(args: argparse.Namespace) -> None:
    """``--threads``: torch's intra-op threads, which also set how many bands of rows the renderer's kernels run."""
    import torch

    torch.set_num_threads(args.threads)


def inputs_of(args: argparse.Namespace) -> list[Path]:
    inputs = [Path(args.image)]
    for name in ("depth", "stereo_right", "depth_model", "pose", "clip"):
        value = getattr(args, name, None)
        if value and Path(value).is_file():
            inputs.append(Path(value))
    return inputs


@dataclass
class _Job:
    image: Path
    output: Path


def _jobs(args: argparse.Namespace, default_ext: str, allowed: tuple[str, ...]) -> tuple[list[_Job], bool]:
    """The (input, output) pairs of a run and whether it is a batch; refuses bad outputs before any work."""
    from viewshift import io as vio

    src = Path(args.image)
    is_batch = src.is_dir() or any(ch in args.image for ch in "*?[")
    if not is_batch:
        if not src.exists():
            raise InputError(f"input {src} does not exist")
        out = vio.check_output(args.output, overwrite=args.overwrite, inputs=inputs_of(args), extensions=allowed)
        return [_Job(src, out)], False
    files = vio.expand_inputs(args.image)
    out_dir = Path(args.output)
    if out_dir.suffix.lower() in allowed:
        raise OutputError(f"a batch writes into a folder; {out_dir} looks like a file name")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder")
    if getattr(args, "stereo_right", None):
        raise InputError("--stereo-right takes one pair, not a batch")
    if getattr(args, "depth", None) and not Path(args.depth).is_dir():
        raise InputError("for a batch, --depth must be a folder holding <stem>.npy/.png/.pfm per image")
    if out_dir.resolve() == src.resolve():
        raise OutputError("the output folder is the input folder; choose another folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_Job(f, out_dir / f"{f.stem}{default_ext}") for f in files], True


def _named(exc: ViewshiftError, image: Path) -> ViewshiftError:
    """``exc`` with the photo's name in front of its message, unless the message already names it."""
    if image.name in str(exc):
        return exc
    return type(exc)(f"{image}: {exc}")


def _run(args: argparse.Namespace, jobs: list[_Job], is_batch: bool, work: Callable[[_Job], str]) -> int:
    """Run ``work`` on every job and print the success line; ``work`` returns what it wrote (for one job).

    A batch shows a progress bar, skips existing outputs and keeps going on errors.
    """
    set_threads(args)
    if not is_batch:
        try:
            written = work(jobs[0])
        except ViewshiftError as exc:
            raise _named(exc, jobs[0].image) from exc
        wrote(args, written)
        return 0
    from tqdm import tqdm

    failed = skipped = 0
    for job in tqdm(jobs, desc="images", unit="img", disable=args.quiet):
        if job.output.exists() and not args.overwrite:
            skipped += 1
            continue
        try:
            work(job)
        except ViewshiftError as exc:
            failed += 1
            tqdm.write(f"viewshift: {job.image.name}: {exc}", file=sys.stderr)
    done = len(jobs) - failed - skipped
    notes = [f"{n} {what}" for n, what in ((skipped, "skipped: they exist"), (failed, "failed")) if n]
    wrote(args, f"{done} file{'s' * (done != 1)} to {args.output}/" + (f" ({', '.join(notes)})" if notes else ""))
    if failed:
        print(f"viewshift: error: {failed} of {len(jobs)} images failed (see above)", file=sys.stderr)
    return 1 if failed else 0


def _size(array) -> str:
    return f"{array.shape[1]}×{array.shape[0]}"


def _pose(args: argparse.Namespace):
    if not args.pose:
        return None
    import numpy as np

    path = Path(args.pose)
    if not path.is_file():
        raise InputError(f"pose file {path} does not exist")
    try:
        pose = np.load(path) if path.suffix.lower() == ".npy" else np.loadtxt(path)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read the pose in {path}: {str(exc).splitlines()[0]}") from None
    if pose.shape != (4, 4):
        raise InputError(f"the pose in {path} must be a 4×4 matrix, got shape {pose.shape}")
    return pose


# -------------------------------------------------------------------------------------------------- commands


def cmd_render(args: argparse.Namespace) -> int:
    from viewshift.video.cli import is_video_input, run_render

    if is_video_input(args.image):  # a video (or a folder of videos): every frame from the moved camera
        return run_render(args)
    import numpy as np

    from viewshift import io as vio
    from viewshift.pipeline import Move, move_for_divergence

    jobs, is_batch = _jobs(args, ".png", IMAGE_OUT)
    options = view_options_from_args(args)
    pose = _pose(args)
    move = Move(args.right, args.up, args.forward, args.yaw, args.pitch, args.roll)
    if pose is not None and move != Move():
        raise InputError("give either --pose or a move (--right ... --roll), not both")
    extra = [(args.save_depth, DEPTH_OUT), (args.save_mask, (".png",))]
    if is_batch and any(path for path, _ in extra):
        raise InputError("--save-depth and --save-mask name one file; they work for a single image only")
    for path, exts in extra:
        if path:
            vio.check_output(path, overwrite=args.overwrite, inputs=inputs_of(args), extensions=exts)

    def work(job: _Job) -> str:
        scene = scene_from_args(args, job.image)
        m = move_for_divergence(scene, move, args.divergence) if args.divergence is not None else move
        view = scene.render(pose if pose is not None else m.pose(), options=options)
        if view.image.shape[2] == 4 and job.output.suffix.lower() in (".jpg", ".jpeg"):
            raise OutputError("JPEG has no transparency: write .png, or use --fill background / --border fill")
        vio.write_image(job.output, view.image, overwrite=args.overwrite, inputs=[job.image])
        names = [f"{job.output} ({_size(view.image)})"]
        if args.save_depth:
            vio.write_depth(args.save_depth, view.depth, overwrite=args.overwrite, inputs=[job.image])
            names.append(f"{args.save_depth} (+ preview)")
        if args.save_mask:
            mask = (view.holes.astype(np.uint8) * 255)[..., None].repeat(3, axis=2)
            vio.write_image(args.save_mask, mask, overwrite=args.overwrite, inputs=[job.image])
            names.append(str(args.save_mask))
        return ", ".join(names)

    return _run(args, jobs, is_batch, work)


def cmd_stereo(args: argparse.Namespace) -> int:
    from viewshift.video.cli import is_video_input, run_stereo

    if is_video_input(args.image):  # a video (or a folder of videos): a stereo video
        return run_stereo(args)
    from viewshift import io as vio
    from viewshift.pipeline import compose_stereo, stereo_pair

    jobs, is_batch = _jobs(args, ".png", IMAGE_OUT)
    options = view_options_from_args(args)

    def work(job: _Job) -> str:
        scene = scene_from_args(args, job.image)
        left, right = stereo_pair(
            scene,
            baseline=args.baseline,
            divergence=args.divergence,
            convergence=args.convergence,
            balance=args.balance,
            options=options,
        )
        image = compose_stereo(left.image, right.image, args.layout)
        vio.write_image(job.output, image, overwrite=args.overwrite, inputs=[job.image])
        return f"{job.output} ({_size(image)}, {args.layout})"

    return _run(args, jobs, is_batch, work)


def cmd_video(args: argparse.Namespace) -> int:
    from viewshift import io as vio
    from viewshift.pipeline import render_path

    jobs, is_batch = _jobs(args, ".mp4", VIDEO_OUT)
    options = view_options_from_args(args)
    if not 1 <= args.fps <= 120:
        raise InputError(f"--fps must be between 1 and 120, got {args.fps}")

    def work(job: _Job) -> str:
        scene = scene_from_args(args, job.image)
        frames = render_path(
            scene,
            args.path,
            frames=args.num_frames,
            amplitude=args.amplitude,
            options=options,
            progress=not (is_batch or args.quiet),
        )
        vio.write_video(job.output, frames, fps=args.fps, overwrite=args.overwrite, inputs=[job.image])
        return f"{job.output} ({len(frames)} frames {_size(frames[0])}, {args.fps:g} fps)"

    return _run(args, jobs, is_batch, work)


def cmd_depth(args: argparse.Namespace) -> int:
    from viewshift import io as vio

    if wants_multiview(args):  # several frames, a video, or --clip alone: viewshift.multiview.cli
        return cmd_depth_frames(args)
    if len(args.image) != 1:
        raise InputError("give one image, a folder / glob of images, or several frames of one scene")
    args.image = args.image[0]
    jobs, is_batch = _jobs(args, ".npy", DEPTH_OUT)

    def work(job: _Job) -> str:
        depth = scene_from_args(args, job.image).depth[0, 0].numpy()
        vio.write_depth(job.output, depth, overwrite=args.overwrite, inputs=[job.image])
        return f"{job.output} ({_size(depth)}) and {job.output.with_name(job.output.stem + '_preview.png').name}"

    return _run(args, jobs, is_batch, work)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the bundled example: a moved view, its hole mask, depth, an anaglyph and a clip."""
    import numpy as np

    from viewshift import io as vio
    from viewshift.pipeline import Move, ViewOptions, compose_stereo, prepare_scene, render_path, stereo_pair

    set_threads(args)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    names = ("view.png", "holes.png", "depth.png", "anaglyph.png", "swing.gif")
    for name in names:
        vio.check_output(out / name, overwrite=args.overwrite, inputs=[EXAMPLE_IMAGE])
    scene = prepare_scene(EXAMPLE_IMAGE)
    _note_first_compile()
    view = scene.render(Move(right=args.right).pose(), options=ViewOptions())
    vio.write_image(out / "view.png", view.image, overwrite=args.overwrite)
    vio.write_image(out / "holes.png", (view.holes.astype(np.uint8) * 255), overwrite=args.overwrite)
    vio.write_depth(out / "depth.png", scene.depth[0, 0].numpy(), overwrite=args.overwrite)
    left, right = stereo_pair(scene)
    vio.write_image(out / "anaglyph.png", compose_stereo(left.image, right.image, "anaglyph"), overwrite=args.overwrite)
    frames = render_path(scene, "swing", frames=24, progress=not args.quiet)
    vio.write_video(out / "swing.gif", frames, fps=12, overwrite=args.overwrite)
    wrote(args, f"{', '.join(names)} and depth_preview.png to {out}/ (input: {EXAMPLE_IMAGE})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``demo``, ``render``, ``stereo``, ``video`` and ``depth``."""
    p = subparsers.add_parser("demo", help="run the main job on the bundled example photo")
    add_output(p, "output folder", required=False, default="viewshift-demo")
    p.add_argument("--right", type=float, default=0.08, help="sideways move for view.png")
    add_threads(p)
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser(
        "render",
        help="render the view from a moved camera",
        description="Render IMAGE as seen from a moved camera: `viewshift render photo.jpg --right 0.05 -o out.png`.",
    )
    _add_scene_args(p, "image (.png, .jpg, .tif, .webp)", move=True, render=True)
    p.add_argument("--save-depth", metavar="FILE", help="also write the new view's depth (.npy/.png/.pfm)")
    p.add_argument("--save-mask", metavar="FILE.png", help="also write the hole mask (white = revealed)")
    add_video_options(p)
    p.set_defaults(func=cmd_render)

    p = subparsers.add_parser("stereo", help="make a stereo pair (side-by-side, top-bottom, anaglyph)")
    _add_scene_args(p, "image", render=True)
    p.add_argument(
        "--layout",
        choices=LazyChoices("viewshift.pipeline", "STEREO_LAYOUTS"),
        default="sbs",
        help="sbs: left | right; half-sbs: each eye half width; tb: left over right; anaglyph: red-cyan; "
        "right: the right eye alone",
    )
    x = p.add_mutually_exclusive_group()
    x.add_argument("--baseline", metavar="B", type=float, help="eye separation in depth units")
    x.add_argument("--divergence", type=float, metavar="PCT", help="largest parallax in %% of the width (default: 2.5)")
    p.add_argument(
        "--convergence", metavar="Z", type=float, help="depth that lands on the screen plane (default: infinity)"
    )
    p.add_argument(
        "--balance", metavar="X", type=float, default=0.0, help="-1..1: 0 splits the distortion, 1 keeps the left eye"
    )
    add_video_options(p)
    p.set_defaults(func=cmd_stereo)

    p = subparsers.add_parser("video", help="make a short parallax clip (.mp4 or .gif)")
    _add_scene_args(p, "video (.mp4 or .gif)", render=True)
    p.add_argument(
        "--path", choices=LazyChoices("viewshift.pipeline", "PATHS"), default="swing", help="the camera's path"
    )
    p.add_argument("--num-frames", type=count, default=48, metavar="N", help="frames of the clip")
    add_deprecated(p, "--frames", "--num-frames", dest="num_frames", type=count, metavar="N")
    p.add_argument("--fps", metavar="F", type=float, default=24.0, help="frames per second")
    p.add_argument(
        "--amplitude",
        type=float,
        help="size of the path as a fraction of the median depth (default: 0.02 for swing and circle, "
        "0.15 for zoom-in, 0.3 for dolly-zoom)",
    )
    p.set_defaults(func=cmd_video)

    p = subparsers.add_parser("depth", help="write the depth map (.npy float32, 16-bit .png + preview, .pfm)")
    _add_scene_args(p, "depth file (.npy, .png, .pfm)", frames=True)
    add_frames_options(p)
    p.set_defaults(func=cmd_depth)
