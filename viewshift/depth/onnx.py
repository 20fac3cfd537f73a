"""Monocular depth from an ONNX network (MiDaS / Depth Anything style), run with onnxruntime on the CPU.

The adapter resizes the image to the network's input size, normalises it (``(rgb / 255 - mean) / std``), runs
the model as ``1×3×h×w float32``, takes the first output squeezed to ``h×w``, resizes it back to the image size
(bilinear) and converts it to relative depth (see :func:`viewshift.depth.units.inverse_to_depth`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from viewshift.depth.base import DepthMap
from viewshift.depth.checks import check_rgb, validate_depth
from viewshift.depth.units import fill_from_farther, inverse_to_depth
from viewshift.errors import DepthError, ModelError

__all__ = ["OnnxDepth", "network_input_size"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, shortened (onnxruntime's messages run over many lines)."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def network_input_size(
    image_hw: tuple[int, int],
    target_hw: tuple[int, int],
    *,
    keep_aspect: bool = False,
    multiple_of: int = 1,
) -> tuple[int, int]:
    """The ``(h, w)`` an image is resized to before the network.

    Without ``keep_aspect`` this is ``target_hw``, each side rounded to the nearest multiple of
    ``multiple_of``. With ``keep_aspect`` the image is scaled by ``max(th / H, tw / W)`` so both sides reach
    at least the target ("lower bound", as MiDaS and Depth Anything do), each side rounded up to a multiple.

    Args:
        image_hw: the image's ``(H, W)``.
        target_hw: the wanted ``(th, tw)``.
        keep_aspect: keep the image's aspect ratio.
        multiple_of: sides must be multiples of this (14 for ViT patch models, 32 for most CNNs).

    Returns:
        ``(h, w)``, each at least ``multiple_of``.

    Example:
        >>> network_input_size((480, 640), (384, 384), keep_aspect=True, multiple_of=32)
        (384, 512)
        >>> network_input_size((480, 640), (518, 518), multiple_of=14)
        (518, 518)
    """
    m = max(1, int(multiple_of))
    (h, w), (th, tw) = image_hw, target_hw
    if keep_aspect:
        s = max(th / h, tw / w)
        return max(m, math.ceil(h * s / m - 1e-9) * m), max(m, math.ceil(w * s / m - 1e-9) * m)
    return max(m, round(th / m) * m), max(m, round(tw / m) * m)


class OnnxDepth:
    """A :class:`~viewshift.depth.base.DepthSource` running an ONNX depth network with onnxruntime (CPU).

    Args:
        model_path: the ``.onnx`` file.
        input_size: ``(h, w)`` to resize images to, or ``None`` for the model's own fixed size (or, for a model
            with dynamic height/width, the image's size rounded to ``multiple_of``).
        mean: per-channel mean subtracted from ``rgb / 255``.
        std: per-channel standard deviation divided by after the mean.
        output: ``"inverse"`` when the model outputs relative inverse depth (MiDaS, Depth Anything: larger =
            nearer), ``"depth"`` when it outputs depth (larger = farther).
        keep_aspect: keep the image's aspect ratio (needs a model with dynamic height/width); see
            :func:`network_input_size`. ``"auto"``: keep it if the model has dynamic height/width, else run at
            the model's fixed size (``input_size`` is then ignored).
        multiple_of: round the network input's sides to multiples of this (14 or 32 for most models).
        max_ratio: for ``output="inverse"``, the far-to-near ratio of the result, see
            :func:`~viewshift.depth.units.inverse_to_depth`.
        metric: for ``output="depth"`` only: the model outputs metric depth (e.g. metres), so the result is
            ``unit="metric"``. Otherwise ``"relative"``.
        num_threads: onnxruntime intra-op threads, or ``None`` for its default.

    Raises:
        ModelError: the file is missing, not ONNX, or the model's first input is not ``N×3×H×W`` float, or
            ``input_size`` / ``keep_aspect`` contradict a fixed input size.
        DepthError: bad settings (``output``, ``mean``/``std`` lengths, ``metric`` with inverse output).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        input_size: tuple[int, int] | None = (384, 384),
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
        output: Literal["inverse", "depth"] = "inverse",
        keep_aspect: bool | Literal["auto"] = False,
        multiple_of: int = 1,
        max_ratio: float = 100.0,
        metric: bool = False,
        num_threads: int | None = None,
    ) -> None:
        if output not in ("inverse", "depth"):
            raise DepthError(f"output must be 'inverse' or 'depth', got {output!r}")
        if metric and output != "depth":
            raise DepthError("metric=True needs output='depth'; inverse-depth networks give relative depth")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise DepthError(f"mean and std need 3 values each, std > 0; got mean={mean}, std={std}")
        self.path = Path(model_path)
        self.output = output
        self.keep_aspect = keep_aspect
        self.multiple_of = max(1, int(multiple_of))
        self.max_ratio = max_ratio
        self.metric = metric
        self.mean = np.asarray(mean, np.float32).reshape(3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(3, 1, 1)
        self.session = self._load(num_threads)
        first = self.session.get_inputs()[0]
        shape = list(first.shape)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise ModelError(f"model {self.path.name} takes input {first.name!r} of shape {shape}; need N×3×H×W")
        if first.type not in ("tensor(float)", "tensor(float16)"):
            raise ModelError(f"model {self.path.name} takes {first.type} input; need float32 or float16")
        self.input_name: str = first.name
        self.input_dtype = np.float16 if first.type == "tensor(float16)" else np.float32
        fixed = (shape[2], shape[3]) if all(isinstance(s, int) and s > 0 for s in shape[2:]) else None
        self.fixed_size: tuple[int, int] | None = fixed
        if keep_aspect == "auto":  # a fixed-size model runs at its own size, a dynamic one keeps the aspect
            keep_aspect = self.keep_aspect = fixed is None
            input_size = input_size if fixed is None else None
        if fixed is not None:
            if keep_aspect:
                raise ModelError(
                    f"model {self.path.name} has a fixed {fixed[0]}×{fixed[1]} input; keep_aspect needs dynamic sizes"
                )
            if input_size is not None and tuple(input_size) != fixed:
                raise ModelError(
                    f"model {self.path.name} has a fixed {fixed[0]}×{fixed[1]} input but input_size={input_size}; "
                    "pass input_size=None"
                )
        self.input_size = tuple(input_size) if input_size is not None else None

    def _load(self, num_threads: int | None) -> Any:
        """Open the onnxruntime session on the CPU, turning every failure into a one-line ModelError."""
        if not self.path.is_file():
            raise ModelError(f"ONNX model not found: {self.path}")
        if self.path.stat().st_size == 0:
            raise ModelError(f"ONNX model {self.path} is empty (0 bytes)")
        import onnxruntime as ort  # imported here: only this source needs it

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if num_threads is not None:
            options.intra_op_num_threads = int(num_threads)
        try:
            return ort.InferenceSession(str(self.path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises many unrelated types for bad files
            raise ModelError(f"cannot load ONNX model {self.path.name}: {_one_line(exc)}") from exc

    def __repr__(self) -> str:
        return f"OnnxDepth({str(self.path)!r}, input_size={self.input_size}, output={self.output!r})"

    def network_size(self, image_hw: tuple[int, int]) -> tuple[int, int]:
        """The ``(h, w)`` the network sees for an image of ``image_hw``; see :func:`network_input_size`."""
        if self.fixed_size is not None:
            return self.fixed_size
        target = self.input_size if self.input_size is not None else image_hw
        return network_input_size(image_hw, target, keep_aspect=self.keep_aspect, multiple_of=self.multiple_of)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """The network's raw first output, resized back to the image.

        Args:
            rgb: ``H×W×3 uint8`` image.

        Returns:
            ``H×W float32``: the model's output (inverse depth or depth) at image resolution, bilinear.

        Raises:
            ShapeError: ``rgb`` is not ``H×W×3 uint8``.
            ModelError: the model fails, outputs something other than one ``h×w`` map, or NaN/inf.
        """
        h, w = check_rgb(rgb).shape[:2]
        nh, nw = self.network_size((h, w))
        x = rgb
        if (nh, nw) != (h, w):
            shrink = nh <= h and nw <= w
            x = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        x = (x.astype(np.float32).transpose(2, 0, 1) / np.float32(255.0) - self.mean) / self.std
        try:
            out = self.session.run(None, {self.input_name: x[None].astype(self.input_dtype)})[0]
        except Exception as exc:  # noqa: BLE001 - onnxruntime's error types are not a stable API
            raise ModelError(f"ONNX model {self.path.name} failed on a {nh}×{nw} input: {_one_line(exc)}") from exc
        pred = np.squeeze(np.asarray(out, dtype=np.float32))
        if pred.ndim != 2:
            raise ModelError(f"ONNX model {self.path.name} output has shape {np.shape(out)}; need one h×w map")
        bad = ~np.isfinite(pred)
        if bad.any():
            raise ModelError(f"ONNX model {self.path.name} output {int(bad.sum())} NaN/inf values; check the model")
        if pred.shape != (h, w):
            pred = cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR)
        return pred

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Depth for one image.

        ``output="inverse"``: :func:`~viewshift.depth.units.inverse_to_depth` (relative, median 1).
        ``output="depth"``: the output as is, non-positive pixels filled from their farther neighbours.

        Args:
            rgb: ``H×W×3 uint8`` image.

        Returns:
            ``H×W`` depth, ``unit="relative"`` (or ``"metric"`` with ``metric=True``).

        Raises:
            ShapeError: ``rgb`` is not ``H×W×3 uint8``.
            ModelError: the model fails or outputs garbage.
            DepthError: a depth model output no positive value.
        """
        pred = self.predict(rgb)
        if self.output == "inverse":
            return DepthMap(inverse_to_depth(pred, max_ratio=self.max_ratio), "relative")
        valid = pred > 0
        if not valid.all():
            if not valid.any():
                raise DepthError(f"ONNX model {self.path.name} output no positive depth; is it an inverse-depth model?")
            pred = fill_from_farther(pred, valid, farther="larger")
        return DepthMap(validate_depth(pred, rgb.shape[:2]), "metric" if self.metric else "relative")
