"""Helpers shared by the tests: where the real data lives, and skipping cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("VIEWSHIFT_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


def require_shared_data(*parts: str) -> Path:
    """Return ``SHARED_DATA / parts``; skip the calling test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real data not found at {path} (set VIEWSHIFT_SHARED_DATA or place ../shared/data beside the repo)"
        )
    return path
