"""Shape and value guards used at the entry of every geometry and rendering function."""

from __future__ import annotations

import torch

from viewshift.errors import ShapeError


def check_shape(tensor: torch.Tensor, spec: str, name: str = "tensor") -> None:
    """Raise :class:`ShapeError` unless ``tensor`` matches ``spec``.

    ``spec`` is a comma-separated list of dimensions: an integer fixes the size, a name (``B``, ``H``...) or ``*``
    accepts any size.

    Args:
        tensor: the tensor to check.
        spec: e.g. ``"B,3,H,W"``.
        name: the argument name used in the message.

    Example:
        >>> check_shape(torch.zeros(2, 3, 4, 5), "B,3,H,W", "image")
        >>> check_shape(torch.zeros(2, 1, 4, 5), "B,3,H,W", "image")
        Traceback (most recent call last):
        ...
        viewshift.errors.ShapeError: image must have shape (B,3,H,W), got (2, 1, 4, 5)
    """
    if not isinstance(tensor, torch.Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor of shape ({spec}), got {type(tensor).__name__}")
    dims = [d.strip() for d in spec.split(",")]
    ok = tensor.dim() == len(dims) and all(not d.isdigit() or tensor.shape[i] == int(d) for i, d in enumerate(dims))
    if not ok:
        raise ShapeError(f"{name} must have shape ({spec}), got {tuple(tensor.shape)}")


def check_same_batch(*tensors: torch.Tensor) -> None:
    """Raise :class:`ShapeError` unless all tensors share their first (batch) dimension."""
    sizes = {int(t.shape[0]) for t in tensors}
    if len(sizes) > 1:
        raise ShapeError(f"batch sizes differ: {sorted(sizes)}; give every argument the same batch size B")
