"""Typed exceptions of viewshift.

Every error raised for bad input carries a one-line message that says what was wrong and what to do. Only the
CLI turns these into exit codes; library code never calls ``sys.exit``.
"""

from __future__ import annotations


class ViewshiftError(Exception):
    """Base class of every error viewshift raises on purpose."""

    exit_code = 1


class InputError(ViewshiftError, ValueError):
    """A bad argument or input file: missing, corrupt, unsupported, out of range."""

    exit_code = 2


class ShapeError(InputError):
    """A tensor or array does not have the shape a function documents."""


class DepthError(InputError):
    """Depth that cannot be used: wrong size, NaN/inf, zero or negative, or no depth source available."""


class MoveError(InputError):
    """A camera move that cannot be rendered (camera inside or behind the scene, absurd rotation)."""


class OutputError(ViewshiftError):
    """An output that may not be written (exists without --overwrite, equals an input, unwritable folder)."""

    exit_code = 3


class ModelError(ViewshiftError):
    """A model file that cannot be loaded or run (bad ONNX file, mismatched weights)."""

    exit_code = 4
