"""The built-in depth source: the small DispNet-style network shipped inside the package.

A model file is a plain ``torch.save`` of tensors and basic containers (loaded with ``weights_only=True``)::

    {"format": "viewshift-depth/1",
     "config": DepthNetConfig.to_dict(),      # network shape and depth range
     "input_size": [H, W],                    # the fixed resolution the network runs at
     "state_dict": {...},                     # DepthNet parameters
     "meta": {...}}                           # free text: how it was trained (see the JSON beside it)

The shipped file is ``viewshift/depth/weights/builtin_depth.pt`` (``viewshift fit`` writes the same format). A
training checkpoint of ``viewshift train`` (``RUN/checkpoint.pt``) loads too: its depth network at its training
size.
The image is resized to about as many pixels as ``input_size`` at its own aspect ratio (area averaging; see
:meth:`BuiltinDepth.network_size`), the network predicts depth, and the depth is resized back to the image size
(bilinear on inverse depth). The output unit is *relative*: the network knows the
shape of the scene, not its size.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import cv2
import numpy as np
import torch

from viewshift.depth.base import DepthMap
from viewshift.depth.network import DepthNet, DepthNetConfig
from viewshift.errors import DepthError, ModelError
from viewshift.io.atomic import save_torch

FORMAT = "viewshift-depth/1"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
BUILTIN_WEIGHTS = WEIGHTS_DIR / "builtin_depth.pt"
#: The network ``viewshift fit`` starts from by default (group-normalised; ``fit_init.json`` says how it was made).
FIT_INIT_WEIGHTS = WEIGHTS_DIR / "fit_init.pt"


def save_depth_model(path: str | Path, net: DepthNet, input_size: tuple[int, int], meta: dict | None = None) -> Path:
    """Write ``net`` as a model file (format above), atomically (:func:`viewshift.io.save_torch`)."""
    path = Path(path)
    obj = {
        "format": FORMAT,
        "config": net.config.to_dict(),
        "input_size": [int(input_size[0]), int(input_size[1])],
        "state_dict": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "meta": meta or {},
    }
    save_torch(obj, path)
    return path


def load_depth_network(path: str | Path) -> tuple[DepthNet, tuple[int, int], dict]:
    """Load a model file: the network (eval mode), its input size ``(H, W)`` and its metadata.

    Raises:
        ModelError: missing, unreadable, not this format, or weights that do not fit the network.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"depth model not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise ModelError(f"{path} is not a viewshift depth model ({type(exc).__name__}: {exc})") from exc
    if isinstance(obj, dict) and "model" in obj and "config" in obj and "format" not in obj:
        obj = _from_training_checkpoint(obj, path)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ModelError(f"{path} is not a viewshift depth model (expected format {FORMAT!r})")
    net = DepthNet(DepthNetConfig.from_dict(obj["config"]))
    try:
        net.load_state_dict(obj["state_dict"])
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match the network ({str(exc).splitlines()[0]})") from exc
    h, w = (int(x) for x in obj["input_size"])
    return net.eval(), (h, w), dict(obj.get("meta", {}))


def _from_training_checkpoint(state: dict, path: Path) -> dict:
    """A ``viewshift train`` checkpoint seen as a model file: its depth network at its training size."""
    import json

    from viewshift.depth.network import DEPTH_PRESETS

    try:
        config = json.loads(state["config"])
        net_config = DEPTH_PRESETS[config["depth_net"]]
        size = [int(config["height"]), int(config["width"])]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path} is a checkpoint without a usable depth-network config ({exc})") from exc
    prefix = "depth_net."
    weights = {k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)}
    return {"format": FORMAT, "config": net_config.to_dict(), "input_size": size, "state_dict": weights, "meta": {}}


class BuiltinDepth:
    """:class:`~viewshift.depth.base.DepthSource` running a viewshift depth model on the CPU.

    Args:
        model_path: a model file (default: the shipped built-in weights).
        num_threads: torch threads used while predicting (None: leave torch's setting). One by default: the
            small network gains little from more, and on a busy machine a second thread that must wait for a
            shared core makes it 10–25× slower (bench/depth_speed.py).
    """

    def __init__(self, model_path: str | Path | None = None, *, num_threads: int | None = 1):
        self.model_path = Path(model_path) if model_path is not None else BUILTIN_WEIGHTS
        self.net, self.input_size, self.meta = load_depth_network(self.model_path)
        self.num_threads = num_threads
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BuiltinDepth({str(self.model_path)!r}, input_size={self.input_size})"

    def network_size(self, height: int, width: int) -> tuple[int, int]:
        """The ``(h, w)`` an image is resized to: its aspect ratio kept (the network was trained on undistorted
        crops), about as many pixels as ``input_size``, both sides multiples of 32."""
        ih, iw = self.input_size
        area = ih * iw
        h = math.sqrt(area * height / width)
        return max(32, round(h / 32) * 32), max(32, round(area / h / 32) * 32)

    def predict_tensor(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, 1, h, w)`` relative depth of ``(B, 3, h, w)`` images in [0, 1] already at the network size."""
        with self._lock, torch.inference_mode():
            old = torch.get_num_threads()
            if self.num_threads:
                torch.set_num_threads(self.num_threads)
            try:
                return self.net(image)[0]
            finally:
                torch.set_num_threads(old)

    def estimate(self, rgb: np.ndarray) -> DepthMap:
        """Relative depth of an ``H×W×3 uint8`` image, ``H×W float32``.

        Raises:
            DepthError: not an ``H×W×3 uint8`` array.
        """
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise DepthError(
                f"the built-in depth model needs an H×W×3 uint8 image, got {getattr(rgb, 'shape', type(rgb))}"
            )
        h, w = rgb.shape[:2]
        ih, iw = self.network_size(h, w)
        small = cv2.resize(rgb, (iw, ih), interpolation=cv2.INTER_AREA if w > iw else cv2.INTER_LINEAR)
        x = torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255.0
        depth = self.predict_tensor(x)[0, 0].numpy()
        inv = cv2.resize(1.0 / depth, (w, h), interpolation=cv2.INTER_LINEAR)
        return DepthMap(depth=(1.0 / np.maximum(inv, 1e-6)).astype(np.float32), unit="relative")


_CACHE: dict[str, BuiltinDepth] = {}


def load_builtin(path: str | Path | None = None, *, num_threads: int | None = 1) -> BuiltinDepth:
    """The built-in depth source (``path`` None) or one made by ``viewshift fit`` (``path`` a model file).

    Loaded models are cached by path, so calling this per image is cheap.

    Raises:
        ModelError: the file is missing or not a viewshift depth model.
    """
    key = str(Path(path).resolve() if path is not None else BUILTIN_WEIGHTS)
    if key not in _CACHE:
        _CACHE[key] = BuiltinDepth(key, num_threads=num_threads)
    return _CACHE[key]
