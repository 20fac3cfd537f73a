"""The command line's shared vocabulary: options every command spells the same way, old spellings, the success line.

Command modules build their parsers from these helpers so that one name means one thing everywhere
(``-o/--output``, ``--overwrite``, ``-q/--quiet``, ``--threads``, ``--max-minutes``, ``--focal``/``--fov``).
This module imports only the standard library: command modules import it at module level, and ``viewshift --help``
must not pay for numpy or torch.

Old spellings stay accepted for one release: :func:`add_deprecated` adds a hidden option that stores into the new
option's destination and prints one line to stderr (``viewshift: note: --frames is deprecated; use
--num-frames``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

__all__ = [
    "CPU_COUNT",
    "DeprecatedAction",
    "HelpFormatter",
    "LazyChoices",
    "add_camera",
    "add_deprecated",
    "add_max_minutes",
    "add_output",
    "add_quiet",
    "add_threads",
    "count",
    "note_deprecated",
    "settle_output",
    "wrote",
]

CPU_COUNT = os.cpu_count() or 1
"""The default of ``--threads``: the number of CPU cores."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Ends each option's help with its default, ``(default: 2.5)``, unless the help already speaks of it.

    Options whose default is ``None`` or ``False`` (flags, "not given") show nothing: their help says what
    happens without them.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            not action.option_strings
            or action.default in (None, False, argparse.SUPPRESS)
            or "default" in text
            or text == argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"


def note_deprecated(old: str, new: str) -> None:
    """Print the one-line deprecation note of an old spelling to stderr."""
    print(f"viewshift: note: {old} is deprecated and will be removed in the next release; use {new}", file=sys.stderr)


class DeprecatedAction(argparse.Action):
    """An old spelling of an option: stores into the new option's destination and prints a deprecation note."""

    def __init__(self, option_strings: list[str], dest: str, *, new: str, **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        note_deprecated(option_string or "/".join(self.option_strings), self.new)
        setattr(namespace, self.dest, values)


def add_deprecated(parser, old: str, new: str, *, dest: str, **kwargs) -> argparse.Action:
    """Accept ``old`` as a hidden spelling of the option ``new`` (which stores into ``dest``).

    Args:
        parser: the parser, argument group or mutually exclusive group the new option lives in.
        old: the old option string, e.g. ``"--frames"``.
        new: how to spell it now, for the note, e.g. ``"--num-frames"``.
        dest: the new option's destination.
        **kwargs: ``type``, ``nargs``, ``metavar``... as for the new option.
    """
    return parser.add_argument(
        old, dest=dest, action=DeprecatedAction, new=new, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs
    )


def add_output(
    parser: argparse.ArgumentParser,
    help: str,
    *,
    required: bool = True,
    default: str | None = None,
    old: tuple[str, ...] = (),
    positional: bool = False,
) -> None:
    """Add ``-o/--output``, ``--overwrite`` and ``-q/--quiet``.

    Args:
        parser: the sub-command's parser.
        help: what the output is, e.g. ``"output image (.png, .jpg, .tif, .webp)"``.
        required: the command cannot run without an output.
        default: the output when none is given (with ``required=False``).
        old: old option spellings of the output (``--out``, ``--json``), accepted with a deprecation note.
        positional: the output used to be a positional argument after the inputs; still accepted with a note
            (:func:`settle_output`, called by ``viewshift.cli``, moves it into ``output`` and enforces ``required``).
    """
    parser.add_argument(
        "-o", "--output", default=default, required=required and not positional, help=help, metavar="OUTPUT"
    )
    for spelling in old:
        add_deprecated(parser, spelling, "-o/--output", dest="output", metavar="OUTPUT")
    if positional:
        parser.add_argument("positional_output", nargs="?", metavar="OUTPUT", help=argparse.SUPPRESS)
        parser.set_defaults(output_required=required)
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_quiet(parser)


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet``: no success line, no progress bars."""
    parser.add_argument("-q", "--quiet", action="store_true", help="print no 'wrote ...' line and no progress bars")


def settle_output(args: argparse.Namespace) -> str | None:
    """Move a deprecated positional output into ``args.output``; a one-line problem, or ``None`` when fine."""
    old = getattr(args, "positional_output", None)
    if old is not None:
        if args.output is not None:
            return f"two outputs given ({old} and -o {args.output}); give -o/--output once"
        note_deprecated(f"the positional output {old!r}", "-o/--output")
        args.output = old
    if getattr(args, "output_required", False) and args.output is None:
        return "the following arguments are required: -o/--output"
    return None


def add_threads(parser, *, what: str = "torch and renderer threads") -> None:
    """Add ``--threads N`` (default: the number of CPU cores)."""
    parser.add_argument(
        "--threads", type=count, default=CPU_COUNT, metavar="N", help=f"{what} (default: {CPU_COUNT}, the CPU cores)"
    )


def add_max_minutes(parser, *, old: tuple[str, ...] = (), default: float | None = None) -> None:
    """Add ``--max-minutes M``, the wall-time budget of long work (stops with a checkpoint when it runs out).

    Args:
        parser: the sub-command's parser.
        old: old spellings (e.g. ``("--minutes",)``), accepted with a deprecation note.
        default: the budget when none is given (``None``: no limit).
    """
    text = "stop (with a checkpoint) after M minutes of wall time"
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=default,
        metavar="M",
        help=text + ("" if default else " (default: no limit)"),
    )
    for spelling in old:
        add_deprecated(parser, spelling, "--max-minutes", dest="max_minutes", type=float, metavar="M")


def add_camera(
    parser, *, focal_help: str = "focal length of the input image in pixels (default: EXIF, else a 60° field of view)"
) -> None:
    """Add ``--focal PX`` / ``--fov DEG`` (mutually exclusive) in a "camera" group."""
    group = parser.add_argument_group("camera")
    x = group.add_mutually_exclusive_group()
    x.add_argument("--focal", type=float, metavar="PX", help=focal_help)
    x.add_argument("--fov", type=float, metavar="DEG", help="horizontal field of view of the input image in degrees")


def count(text: str) -> int:
    """A positive whole number, also written as ``1e8`` or ``100_000_000`` (an argparse ``type``)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 8 or 1e8, got {text!r}") from None
    if not (math.isfinite(value) and value == int(value) and value >= 1):
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(value)


def wrote(args: argparse.Namespace, what: str) -> None:
    """Print the success line ``wrote <what>`` to stdout, unless ``-q/--quiet``."""
    if not getattr(args, "quiet", False):
        print(f"wrote {what}")


class LazyChoices:
    """The ``choices`` of an option read from a library constant when first needed (parsing or ``--help``).

    Keeps one source of truth (e.g. :data:`viewshift.render.fill.FILL_METHODS`) without importing the library
    when ``viewshift --help`` lists the commands.

    Args:
        module: the module holding the constant, e.g. ``"viewshift.render.fill"``.
        name: the constant's name; any iterable of strings (a dict gives its keys).
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def _values(self) -> tuple[str, ...]:
        import importlib

        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __contains__(self, value: object) -> bool:
        return value in self._values()

    def __iter__(self):
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())
