"""The ``viewshift`` command: parse arguments, call the library, turn exceptions into exit codes.

Command groups live beside the code they drive. Each is a module that imports only ``argparse``, the standard
library and :mod:`viewshift.cli_args` at module level (numpy, torch, OpenCV... are imported inside the handlers)
and exposes ``register(subparsers)``, which adds its sub-commands with ``set_defaults(func=handler)``; a handler
takes the parsed ``argparse.Namespace``, raises :class:`~viewshift.errors.ViewshiftError` subclasses for bad input
and returns an exit code.

Registration is lazy. :data:`COMMAND_GROUPS` lists, for each group module, its commands and their one-line help.
``viewshift --help`` is built from this table alone (no group is imported, so it answers in a fraction of a
second even though a package's ``__init__`` may import torch); running a command, or asking for its ``--help``,
imports that one group and calls its ``register``. To add a command group, write the module and add one line::

    ("viewshift.video.cli", {"convert": "turn a whole video into 3-D (resumable)"}),

Its ``register`` must add exactly the commands named there (``tests/test_cli.py`` checks it, and that every
option has a help text); the table's one-line help is the one ``viewshift --help`` shows. Build the options with
:mod:`viewshift.cli_args` (``add_output``, ``add_threads``, ``add_camera``, ``add_deprecated``, ``wrote``...) so
every command speaks the same vocabulary.

This file is the one place that turns a :class:`ViewshiftError` into ``viewshift: error: <one line>`` and a
non-zero exit code (:func:`run`; a module's own ``python -m`` entry point calls it too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterable

from viewshift.cli_args import HelpFormatter, settle_output
from viewshift.errors import ViewshiftError

COMMAND_GROUPS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "viewshift.commands",
        {
            "demo": "run the main job on the bundled example photo",
            "render": "render the view from a moved camera",
            "stereo": "make a stereo pair (side-by-side, top-bottom, anaglyph)",
            "video": "make a short parallax clip (.mp4 or .gif)",
            "depth": "write the depth map (.npy float32, 16-bit .png + preview, .pfm)",
        },
    ),
    (
        "viewshift.learn.cli",
        {
            "train": "train depth (and pose) networks: SfMLearner self-supervision, stereo pairs, synthetic scenes",
            "eval": "evaluate depth models on stereo benchmarks / RGB-D frames, or poses",
            "fit": "fine-tune depth and pose on your own clip within a time budget",
            "make-clip": "make a training clip (frames + K.txt) from a video or image folder",
            "export-onnx": "export a depth model file to ONNX and check it with onnxruntime",
        },
    ),
    ("viewshift.depth.models_cli", {"models": "list, fetch and locate named depth models (Depth Anything V2, MiDaS)"}),
    (
        "viewshift.planar.cli",
        {
            "planar": "learned 2-D geometry: digit rotation, IC-STN, photo roll",
            "straighten": "level a tilted photo (roll within ±20°) and crop",
        },
    ),
    ("viewshift.export.cli", {"export": "3-D photo exports: glTF mesh, PLY points/splats, depth JPEG, quilt, ..."}),
    ("viewshift.web.cli", {"serve": "start the local web page: move the camera live, download views and exports"}),
)
"""``(module, {command: one-line help})`` per command group, in the order of ``viewshift --help``."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose sub-parsers (of every level) show defaults with :class:`HelpFormatter`."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``viewshift`` parser.

    Args:
        commands: the commands whose groups are imported and registered in full; the others get a stub that only
            lists them in ``--help``. ``None`` imports every group (tests and documentation use it).
    """
    parser = _Parser(prog="viewshift", description="One photo in, the view from a slightly moved camera out.")
    parser.add_argument("--version", action="version", version=f"viewshift {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = None if commands is None else set(commands)
    for module_name, helps in COMMAND_GROUPS:
        if wanted is None or wanted & set(helps):
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue  # that command group is not built yet
            module.register(subparsers)
            for listed in subparsers._choices_actions:  # the table's one-line help is the one shown
                listed.help = helps.get(listed.dest, listed.help)
        else:
            for name, text in helps.items():
                subparsers.add_parser(name, help=text, add_help=False)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The sub-command named on the command line: the first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("viewshift")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_of(argv)
    parser = build_parser([command] if command else [])
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    problem = settle_output(args)
    if problem:
        parser.error(problem)
    from viewshift.allocator import keep_large_blocks

    keep_large_blocks()  # a plane sweep's large tensors reused instead of paged in afresh (viewshift.allocator)
    return run(args.func, args)


def run(handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, *, interrupted: str = "") -> int:
    """Call a command's handler; a typed error becomes ``viewshift: error: <one line>`` and its exit code.

    Args:
        handler: the command's handler.
        args: its parsed arguments.
        interrupted: what to add after ``viewshift: interrupted`` on Ctrl-C (e.g. how to resume).
    """
    try:
        return int(handler(args) or 0)
    except ViewshiftError as exc:
        print(f"viewshift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"viewshift: interrupted{'; ' + interrupted if interrupted else ''}", file=sys.stderr)
        return 130
    except MemoryError:
        print("viewshift: error: out of memory; try a smaller image or --max-pixels", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `viewshift models list | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not raise again
        return 0


if __name__ == "__main__":
    sys.exit(main())
