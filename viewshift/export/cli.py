"""``viewshift export PHOTO -o OUT.EXT``: 3-D photo exports (mesh, point cloud, splats, depth JPEG, quilt, ...).

Not to be confused with ``viewshift export-onnx`` (a depth model to ONNX) and ``viewshift planar export`` (planar
networks). Imports only the standard library and the CLI vocabulary at module level; the depth, camera and
rendering options are the ones of ``viewshift render`` (:mod:`viewshift.commands`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from viewshift.cli_args import LazyChoices, add_camera, add_output, add_threads, count, wrote

FORMAT_HELP = (
    "mesh (.glb/.gltf), points (.ply), splats (.ply, 3DGS layout), depth-jpeg (.jpg, GDepth XMP), photo-depth "
    "(NAME + NAME_depth), quilt (Looking Glass, NAME_qs8x6a1.33.png), left-right (NAME_left + NAME_right)"
)


def _quilt_grid(text: str) -> tuple[int, int]:
    try:
        cols, rows = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected COLSxROWS such as 8x6, got {text!r}") from None
    return cols, rows


def cmd_export(args: argparse.Namespace) -> int:
    from viewshift import io as vio
    from viewshift.commands import inputs_of, scene_from_args, set_threads, view_options_from_args
    from viewshift.errors import InputError
    from viewshift.export import FORMATS, ExportOptions, export_scene, infer_format, planned_outputs

    image = Path(args.image)
    if not image.is_file():
        raise InputError(f"input {image} does not exist or is not a file")
    fmt = args.format or infer_format(args.output)
    for path in planned_outputs(args.output, fmt):  # refuse before any depth is computed
        vio.check_output(path, overwrite=args.overwrite, inputs=inputs_of(args), extensions=FORMATS[fmt].extensions)
    set_threads(args)
    scene = scene_from_args(args, image)
    cols, rows = args.quilt
    options = ExportOptions(
        max_side=args.max_side,
        edge_ratio=args.edge_ratio,
        cols=cols,
        rows=rows,
        quilt_width=args.quilt_width,
        divergence=args.divergence,
        view=view_options_from_args(args),
    )
    bar = None
    if fmt == "quilt" and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=cols * rows, desc="quilt views", unit="view")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    try:
        files = export_scene(
            scene,
            args.output,
            fmt,
            options=options,
            overwrite=args.overwrite,
            inputs=inputs_of(args),
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    wrote(args, ", ".join(str(f) for f in files))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from viewshift.commands import add_depth_options, add_render_options

    p = subparsers.add_parser(
        "export",
        help="3-D photo exports: glTF mesh, PLY points or splats, depth JPEG, photo+depth, quilt, left/right",
        description="Export a photo and its depth for 3-D viewers: `viewshift export photo.jpg -o photo.glb`. "
        "The format follows the output's extension (.glb/.gltf mesh, .ply points, .jpg depth JPEG, a name ending "
        "in _qs8x6a1.33 quilt) or --format.",
    )
    p.add_argument("image", help="input photo")
    add_output(p, "output file; multi-file formats derive their names from it (NAME_depth, NAME_left, ...)")
    p.add_argument("--format", choices=LazyChoices("viewshift.export", "FORMATS"), help=FORMAT_HELP)
    p.add_argument(
        "--max-pixels",
        type=count,
        default=100_000_000,
        metavar="N",
        help="refuse larger images (default: 1e8)",
    )
    add_threads(p)
    add_camera(p)
    add_depth_options(p)
    g = p.add_argument_group("geometry (mesh, points, splats)")
    g.add_argument(
        "--max-side",
        type=count,
        metavar="N",
        help="samples along the longer side (default: 512 for meshes, 1024 for points and splats)",
    )
    g.add_argument(
        "--edge-ratio",
        type=float,
        default=1.1,
        metavar="R",
        help="mesh: drop triangles whose far/near depth ratio exceeds R (cuts at depth edges)",
    )
    g = p.add_argument_group("views (quilt, left-right)")
    g.add_argument("--quilt", type=_quilt_grid, default=(8, 6), metavar="COLSxROWS", help="quilt tiles (default: 8x6)")
    g.add_argument("--quilt-width", type=count, default=3360, metavar="PX", help="quilt width in pixels")
    g.add_argument(
        "--divergence",
        type=float,
        metavar="PCT",
        help="parallax between the outermost views in %% of the width (default: 4 for quilts, 2.5 for left-right)",
    )
    add_render_options(p)
    p.set_defaults(func=cmd_export)
