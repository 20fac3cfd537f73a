"""The ``viewshift`` command: parse arguments, call the library, turn exceptions into exit codes.

Each command group lives beside the code it drives and exposes ``register(subparsers)``, which adds its
sub-commands with ``set_defaults(func=handler)``; handlers take the parsed ``argparse.Namespace`` and return an
exit code. This file only wires them together and is the one place that turns a :class:`ViewshiftError` into a
one-line message and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from viewshift.errors import ViewshiftError

# Modules that contribute sub-commands, in the order they appear in --help.
COMMAND_MODULES = (
    "viewshift.commands",
    "viewshift.learn.cli",
    "viewshift.planar.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="viewshift",
        description="One photo in, the view from a slightly moved camera out.",
    )
    parser.add_argument("--version", action="version", version=f"viewshift {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command group is not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("viewshift")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ViewshiftError as exc:
        print(f"viewshift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("viewshift: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("viewshift: error: out of memory; try a smaller image or --max-pixels", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
