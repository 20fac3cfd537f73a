"""Learned 2-D geometry: digit rotation regression, IC-STN alignment, photo roll and straightening.

See ``docs/planar.md`` for the conventions (degrees, counter-clockwise as displayed, ``[-180, 180)``), the
shipped models and how every reported number is reproduced. The public functions are imported on first use, so
that importing ``viewshift.planar.cli`` (the command line) loads no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["align", "classify", "estimate_angle", "estimate_roll", "explain_roll", "straighten"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("viewshift.planar.api"), name)
    raise AttributeError(f"module 'viewshift.planar' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
