"""``viewshift serve``: start the local web app (:mod:`viewshift.web.app`) with uvicorn.

Imports only the standard library and the CLI vocabulary at module level.
"""

from __future__ import annotations

import argparse
import sys

from viewshift.cli_args import add_quiet, add_threads, count


def cmd_serve(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    from viewshift.errors import InputError
    from viewshift.web.app import ServerConfig, create_app

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be between 0 and 65535, got {args.port}")
    torch.set_num_threads(args.threads)
    config = ServerConfig(
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pixels=args.max_pixels,
        work_side=args.work_side,
        render_workers=args.workers,
        depth_models=tuple(args.depth_model or ()),
    )
    app = create_app(config)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"viewshift: note: serving on {args.host}: other machines can reach this page", file=sys.stderr)
    if not args.quiet:
        print(f"viewshift: serving on http://{args.host}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="start the local web page: upload a photo, move the camera live, download views and 3-D exports",
        description="Start a local web app: `viewshift serve`, then open http://127.0.0.1:8000/.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (anything but 127.0.0.1 lets others in)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    p.add_argument(
        "--depth-model",
        action="append",
        metavar="SPEC",
        help="also offer this depth model on the page: a registry name, an .onnx or a .pt file (repeatable; "
        "installed registry models are offered anyway)",
    )
    p.add_argument("--max-upload-mb", type=float, default=30.0, metavar="MB", help="largest upload")
    p.add_argument("--max-pixels", type=count, default=40_000_000, metavar="N", help="largest photo in pixels")
    p.add_argument(
        "--work-side", type=count, default=1600, metavar="PX", help="photos are scaled to at most PX on the longer side"
    )
    p.add_argument("--workers", type=count, default=2, metavar="N", help="renders running at once")
    add_threads(p)
    add_quiet(p)
    p.set_defaults(func=cmd_serve)
