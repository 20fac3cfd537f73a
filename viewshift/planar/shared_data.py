"""Where training and evaluation find the real data (``../shared/data``), and reading a photo from there.

Only training and evaluation code imports this module; the inference API (:mod:`viewshift.planar.api`) never
reads the shared data.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from viewshift.errors import InputError


def shared_data_root() -> Path:
    """``$VIEWSHIFT_SHARED_DATA``, else ``../shared/data`` beside the repository (an editable install's checkout)."""
    root = os.environ.get("VIEWSHIFT_SHARED_DATA")
    return (Path(root) if root else Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def load_rgb(path: Path) -> np.ndarray:
    """Read an image as ``H×W×3 uint8`` RGB (grey repeated), for training and evaluation."""
    a = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if a is None:
        raise InputError(f"cannot read {path}")
    return cv2.cvtColor(a, cv2.COLOR_BGR2RGB)
