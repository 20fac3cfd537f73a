"""viewshift: one photo in, the view from a slightly moved camera out."""

from __future__ import annotations

__all__: list[str] = []
