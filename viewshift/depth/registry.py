"""Named depth models that viewshift knows how to fetch and run, and :func:`open_depth_model`, the one resolver.

A *spec* names a depth model in one of three ways (the CLI's ``--depth-model SPEC``):

- a registry name such as ``depth-anything-v2-small`` (see :data:`REGISTRY`, ``viewshift models list``): the file
  lives in the model cache folder (:func:`models_dir`); it is downloaded only when the caller asks
  (``download=True``, ``viewshift models get NAME``, ``--download``);
- a path to an ``.onnx`` file: run by :class:`~viewshift.depth.onnx.OnnxDepth`;
- a path to a viewshift depth model (``.pt``, written by ``viewshift fit`` / ``viewshift train``): run by
  :class:`~viewshift.depth.builtin.BuiltinDepth`. ``builtin`` names the network shipped inside the package.

Each entry records where its file comes from (official URL, page it was found on), its SHA-256 and size when
published, how the network wants its input (size, mean/std, channel order, value range), what it outputs (inverse
depth, relative depth or metric depth) and its licence, marking non-commercial ones. See docs/models.md.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from viewshift.errors import DepthError, InputError, ModelError

__all__ = [
    "REGISTRY",
    "ModelEntry",
    "expected_sha256",
    "ModelNotInstalledError",
    "cache_dir",
    "file_sha256",
    "find_entry",
    "is_installed",
    "model_path",
    "models_dir",
    "open_depth_model",
    "pinned_path",
    "verify_file",
]

#: Environment variable that overrides the cache folder (tests, shared machines, offline installs).
CACHE_ENV = "VIEWSHIFT_CACHE"

#: What a network's output means. ``"inverse"``: relative inverse depth / disparity up to scale and shift (larger =
#: nearer; MiDaS, Depth Anything). ``"relative"``: depth up to an unknown scale (larger = farther).
#: ``"metric"``: depth in metres.
OutputKind = Literal["inverse", "relative", "metric"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ModelNotInstalledError(ModelError):
    """A registry model whose file is not in the cache folder, and downloading was not asked for."""


@dataclass(frozen=True)
class ModelEntry:
    """One named depth model: where its file comes from, how to feed it, what it outputs, its licence.

    Attributes:
        name: the registry name (lower case, ``-`` separated), e.g. ``"depth-anything-v2-small"``.
        title: human name, e.g. ``"Depth Anything V2 Small"``.
        filename: the file's name in the cache folder.
        url: where ``viewshift models get`` downloads it from (``None``: no file viewshift can run is published).
        sha256: the file's published SHA-256 (lower-case hex), or ``None`` when none is published (then a download
            needs ``allow_unverified=True``; see docs/models.md).
        size: the file's size in bytes as published, or ``None``.
        checksum_source: where ``sha256`` and ``size`` were read (a page or file), or why there are none.
        input_size: ``(h, w)`` the network runs at (for dynamic models: the target size), or ``None`` for the
            model's own fixed size.
        keep_aspect: resize keeping the aspect ratio so both sides reach ``input_size`` (dynamic models only);
            ``"auto"``: do so if the file has dynamic height/width, else run at its fixed size.
        multiple_of: network input sides are multiples of this (14 for ViT-patch models, 32 for CNNs).
        mean: per-channel mean subtracted from the scaled image.
        std: per-channel standard deviation divided by.
        channels: channel order the network expects (``"RGB"`` or ``"BGR"``).
        value_range: the pixel range before normalisation (``1.0``: ``rgb / 255``; ``255.0``: raw values).
        output: what the network outputs, see :data:`OutputKind`.
        licence: SPDX-style licence of the weights, e.g. ``"Apache-2.0"``, ``"CC-BY-NC-4.0"``.
        non_commercial: the licence forbids commercial use.
        source: the model's official page.
        approx_mb: the file's size in megabytes as shown on its page (for display; not checked).
        runnable: viewshift can run it (an ONNX file :class:`~viewshift.depth.onnx.OnnxDepth` understands).
        note: one line on anything a user must know (who converted the ONNX file, why it is not runnable).
    """

    name: str
    title: str
    filename: str
    url: str | None
    sha256: str | None
    size: int | None
    checksum_source: str
    input_size: tuple[int, int] | None
    output: OutputKind
    licence: str
    non_commercial: bool
    source: str
    keep_aspect: bool | Literal["auto"] = False
    multiple_of: int = 1
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    channels: Literal["RGB", "BGR"] = "RGB"
    value_range: float = 1.0
    approx_mb: float | None = None
    runnable: bool = True
    note: str = ""
    aliases: tuple[str, ...] = field(default=())

    def onnx_options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~viewshift.depth.onnx.OnnxDepth` that run this entry's file.

        The network input is ``(rgb / 255 * value_range - mean) / std``, which OnnxDepth computes as
        ``(rgb / 255 - mean / value_range) / (std / value_range)``.

        Raises:
            ModelError: the entry needs BGR input (OnnxDepth feeds RGB).
        """
        if self.channels != "RGB":
            raise ModelError(f"depth model {self.name} wants {self.channels} input; viewshift feeds RGB only")
        vr = float(self.value_range)
        return {
            "input_size": self.input_size,
            "mean": tuple(m / vr for m in self.mean),
            "std": tuple(d / vr for d in self.std),
            "output": "inverse" if self.output == "inverse" else "depth",
            "metric": self.output == "metric",
            "keep_aspect": self.keep_aspect,
            "multiple_of": self.multiple_of,
        }


_HF_DA2 = "https://huggingface.co/onnx-community/depth-anything-v2-{size}"
_MIDAS_V21 = "https://github.com/isl-org/MiDaS/releases/download/v2_1/"
_NO_NORM = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # the normalisation is inside the ONNX graph
_NO_CHECKSUM_HF = "none found: compare with the SHA256 on the file's Hugging Face page, then use --sha256"


def _depth_anything_v2(size: str, **varies: Any) -> ModelEntry:
    """A Depth Anything V2 entry: onnx-community's transformers.js export, 518 px, 14-px patches, disparity out."""
    return ModelEntry(
        name=f"depth-anything-v2-{size}",
        title=f"Depth Anything V2 {size.title()} (ONNX export by onnx-community)",
        filename=f"depth-anything-v2-{size}.onnx",
        url=_HF_DA2.format(size=size) + "/resolve/main/onnx/model.onnx",
        size=None,
        input_size=(518, 518),
        keep_aspect="auto",
        multiple_of=14,
        output="inverse",
        source="https://github.com/DepthAnything/Depth-Anything-V2",
        **varies,
    )


def _midas_v21(name: str, title: str, url_file: str, **varies: Any) -> ModelEntry:
    """A MiDaS v2.1 entry: the authors' ONNX release, RGB in [0, 1] (the normalisation is in the graph)."""
    return ModelEntry(
        name=name,
        title=f"{title} (official ONNX release)",
        filename=f"{name}.onnx",
        url=_MIDAS_V21 + url_file,
        sha256=None,
        size=None,
        multiple_of=32,
        mean=_NO_NORM[0],
        std=_NO_NORM[1],
        output="inverse",
        licence="MIT",
        non_commercial=False,
        source="https://github.com/isl-org/MiDaS/tree/master/tf",
        note="input RGB in [0, 1]: the ImageNet normalisation is inside the graph (MiDaS tf/make_onnx_model.py)",
        **varies,
    )


def _not_runnable(name: str, title: str, **varies: Any) -> ModelEntry:
    """An entry listed so users learn why viewshift cannot run it (``note``): no file to download."""
    return ModelEntry(
        name=name,
        title=title,
        url=None,
        sha256=None,
        size=None,
        checksum_source="not downloadable by viewshift",
        input_size=None,
        non_commercial=False,
        runnable=False,
        **varies,
    )


#: The known models, in the order ``viewshift models list`` shows them. Provenance of every URL and checksum:
#: docs/models.md.
REGISTRY: tuple[ModelEntry, ...] = (
    _depth_anything_v2(
        "small",
        sha256="afb6a5c28f3b6bf1618c6e43f02073ef9dfdc70e937502d51603e57b0a1df10c",
        approx_mb=99.1,
        checksum_source=_HF_DA2.format(size="small") + "/blob/main/onnx/model.onnx (SHA256 of the Git LFS/Xet file)",
        licence="Apache-2.0",
        non_commercial=False,
        note="the authors publish PyTorch weights; this ONNX file is Hugging Face's transformers.js export of them",
        aliases=("da2-small", "depth-anything-small"),
    ),
    _depth_anything_v2(
        "base",
        sha256=None,
        approx_mb=389,
        checksum_source=_NO_CHECKSUM_HF,
        licence="CC-BY-NC-4.0",
        non_commercial=True,
        note="non-commercial use only; ONNX file is Hugging Face's transformers.js export",
        aliases=("da2-base",),
    ),
    _depth_anything_v2(
        "large",
        sha256=None,
        approx_mb=1340,
        checksum_source=_NO_CHECKSUM_HF,
        licence="CC-BY-NC-4.0",
        non_commercial=True,
        note="non-commercial use only; 1.3 GB, slow on a CPU; ONNX file is Hugging Face's transformers.js export",
        aliases=("da2-large",),
    ),
    _midas_v21(
        "midas-v2.1-small",
        "MiDaS v2.1 Small",
        "model-small.onnx",
        approx_mb=64,
        checksum_source="none published by the MiDaS authors (third-party projects list two different SHA-256s)",
        input_size=(256, 256),
        aliases=("midas-small", "midas-v21-small"),
    ),
    _midas_v21(
        "midas-v2.1-large",
        "MiDaS v2.1 Large",
        "model-f6b98070.onnx",
        approx_mb=397,
        checksum_source="none published by the MiDaS authors",
        input_size=(384, 384),
        aliases=("midas-large", "midas-v21"),
    ),
    _not_runnable(
        "moge-2",
        "MoGe-2 (Microsoft)",
        filename="moge-2.onnx",
        output="metric",
        licence="see source page (not checked)",
        source="https://github.com/microsoft/MoGe",
        note=(
            "MoGe predicts a point map, a mask and a scale, not a depth map; its depth needs the PyTorch "
            "post-processing (focal and shift recovery) viewshift does not ship"
        ),
    ),
    _not_runnable(
        "marigold-depth",
        "Marigold depth v1.0 (diffusion, PRS-ETH)",
        filename="marigold-depth",
        output="relative",
        licence="Apache-2.0",
        source="https://huggingface.co/prs-eth/marigold-depth-v1-0",
        note="Marigold is a Stable-Diffusion pipeline (diffusers, several GB), not one ONNX network",
    ),
)


# ------------------------------------------------------------------------------------------ cache folder


def cache_dir() -> Path:
    """viewshift's cache folder: ``$VIEWSHIFT_CACHE`` if set, else the user cache folder (``platformdirs``)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("viewshift"))


def models_dir() -> Path:
    """The folder downloaded (or hand-placed) model files live in: ``cache_dir() / "models"``."""
    return cache_dir() / "models"


def find_entry(name: str, registry: tuple[ModelEntry, ...] | None = None) -> ModelEntry:
    """The registry entry called ``name`` (case-insensitive; ``_`` and ``-`` alike; aliases accepted).

    Raises:
        InputError: no such entry (the message suggests the closest names).
    """
    entries = REGISTRY if registry is None else registry
    key = name.strip().lower().replace("_", "-")
    for e in entries:
        if key == e.name or key in e.aliases:
            return e
    names = [e.name for e in entries]
    close = difflib.get_close_matches(key, names, n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise InputError(
        f"unknown depth model {name!r}: {hint}known names: {', '.join(names) or '(none)'} "
        "(`viewshift models list`), or give a path to an .onnx or .pt file"
    )


def model_path(entry: ModelEntry) -> Path:
    """Where ``entry``'s file is, or would be once downloaded."""
    return models_dir() / entry.filename


def is_installed(entry: ModelEntry) -> bool:
    """Whether ``entry``'s file is in the cache folder (not checked against its SHA-256; see :func:`verify_file`)."""
    return model_path(entry).is_file()


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Lower-case hex SHA-256 of a file, read in ``chunk``-byte pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


_VERIFIED: dict[tuple[str, int, int], str] = {}


def pinned_path(entry: ModelEntry) -> Path:
    """The file holding the SHA-256 recorded when an entry without a published one was downloaded."""
    return model_path(entry).with_name(entry.filename + ".sha256")


def expected_sha256(entry: ModelEntry) -> str | None:
    """The SHA-256 an installed file must have: the published one, else the one recorded at download."""
    if entry.sha256 is not None:
        return entry.sha256
    pinned = pinned_path(entry)
    if pinned.is_file():
        text = pinned.read_text(encoding="ascii", errors="replace").split()
        if text and len(text[0]) == 64:
            return text[0].lower()
    return None


def verify_file(entry: ModelEntry) -> Path:
    """Check an installed file against the entry's published size and SHA-256.

    The result is remembered for this process per (path, size, mtime), so a model opened again is not re-hashed.
    An entry without a published SHA-256 is checked against the SHA-256 recorded when viewshift downloaded it
    (``<file>.sha256``), or, for a file placed by hand, by its published size only (if any).

    Returns:
        The file's path.

    Raises:
        ModelNotInstalledError: the file is missing.
        ModelError: its size or SHA-256 differs from the published one (delete it and fetch it again).
    """
    from viewshift.depth.download import ChecksumError

    p = model_path(entry)
    if not p.is_file():
        raise ModelNotInstalledError(_not_installed_message(entry))
    st = p.stat()
    if entry.size is not None and st.st_size != entry.size:
        raise ChecksumError(
            f"{p} has {st.st_size} bytes but {entry.name} is {entry.size} bytes; delete it and run "
            f"`viewshift models get {entry.name}`"
        )
    expected = expected_sha256(entry)
    if expected is None:
        return p
    key = (str(p), st.st_size, st.st_mtime_ns)
    digest = _VERIFIED.get(key) or file_sha256(p)
    if digest != expected:
        raise ChecksumError(
            f"{p} has SHA-256 {digest[:16]}… but {entry.name} should have {expected[:16]}…; delete it and run "
            f"`viewshift models get {entry.name}`"
        )
    _VERIFIED[key] = digest
    return p


def _not_installed_message(entry: ModelEntry) -> str:
    where = model_path(entry)
    mb = entry.size / 1e6 if entry.size else entry.approx_mb
    size = f" ({mb:.0f} MB)" if mb else ""
    return (
        f"depth model {entry.name} is not installed: run `viewshift models get {entry.name}`{size} or add "
        f"--download, or download {entry.url} yourself and put it at {where}"
    )


# ------------------------------------------------------------------------------------------ the resolver

_ONNX_OPTIONS = ("input_size", "mean", "std", "output", "keep_aspect", "multiple_of", "max_ratio", "metric")


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or Path(spec).suffix.lower() in (".onnx", ".pt", ".pth", ".ckpt")


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"  # torch.save writes a zip archive


def open_depth_model(
    spec: str | os.PathLike[str],
    *,
    download: bool = False,
    registry: tuple[ModelEntry, ...] | None = None,
    quiet: bool = False,
    allow_unverified: bool = False,
    timeout: float = 30.0,
    **overrides: Any,
):
    """Open any depth model by spec: a registry name, an ``.onnx`` file or a viewshift ``.pt`` model file.

    Args:
        spec: ``"builtin"``, a registry name (``viewshift models list``), a path to an ``.onnx`` file, or a path to
            a viewshift depth model / training checkpoint (``.pt``).
        download: fetch a registry model that is not in the cache folder (otherwise raise
            :class:`ModelNotInstalledError` saying what to do). Never used for paths.
        registry: the entries to look names up in (default :data:`REGISTRY`; tests pass their own).
        quiet: no progress bar while downloading.
        allow_unverified: allow downloading an entry that has no published SHA-256 (see docs/models.md).
        timeout: seconds to wait for the download server (connection and each read).
        **overrides: settings that replace the entry's: for ONNX models any keyword of
            :class:`~viewshift.depth.onnx.OnnxDepth` (``input_size``, ``output`` = ``"inverse"``/``"depth"``, ``mean``,
            ``std``, ``keep_aspect``, ``multiple_of``, ``max_ratio``, ``metric``, ``num_threads``); for ``.pt``
            models ``num_threads``. A value of ``None`` means "not given" and is ignored, except ``input_size``
            where the string ``"native"`` asks for the model's own size.

    Returns:
        A :class:`~viewshift.depth.base.DepthSource`.

    Raises:
        ModelNotInstalledError: a registry model not in the cache folder and ``download`` is False.
        InputError: an unknown name, or a path to a file that does not exist.
        ModelError: an unreadable file, a model viewshift cannot run, a file whose SHA-256 differs from the
            published one.
        DepthError: ONNX-only settings given for a ``.pt`` model.
        viewshift.depth.download.DownloadError: the download failed (network, HTTP, truncated, checksum).
    """
    from viewshift.depth.onnx import OnnxDepth

    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(_ONNX_OPTIONS) - {"num_threads"})
    if unknown:
        raise DepthError(f"unknown depth model option(s): {', '.join(unknown)}")
    if given.get("input_size") == "native":
        given["input_size"] = None
    text = os.fspath(spec).strip()
    if not text:
        raise ModelError("empty depth model name: give a registry name (`viewshift models list`) or a file")
    path = Path(text).expanduser()

    if text.lower() == "builtin":
        return _open_pt(None, given)
    if path.is_file():
        if path.suffix.lower() == ".onnx":
            return OnnxDepth(path, **given)
        if path.suffix.lower() in (".pt", ".pth", ".ckpt") or _is_zip(path):
            return _open_pt(path, given)
        return OnnxDepth(path, **given)  # any other file: try ONNX (its loader says clearly if it is not)
    if _looks_like_path(text):
        kind = "ONNX model" if path.suffix.lower() == ".onnx" else "depth model file"
        raise InputError(f"{kind} not found: {path}")

    entry = find_entry(text, registry)
    if not entry.runnable:
        raise ModelError(f"depth model {entry.name} cannot run in viewshift yet: {entry.note}")
    target = model_path(entry)
    if not target.is_file():
        if not download:
            raise ModelNotInstalledError(_not_installed_message(entry))
        from viewshift.depth.download import download_model

        download_model(entry, quiet=quiet, allow_unverified=allow_unverified, timeout=timeout)
    verify_file(entry)
    options = entry.onnx_options() | given
    return OnnxDepth(target, **options)


def _open_pt(path: Path | None, given: dict[str, Any]):
    """A viewshift ``.pt`` depth model (``None``: the shipped one); only ``num_threads`` may be overridden."""
    from viewshift.depth.builtin import load_builtin

    onnx_only = sorted(set(given) & set(_ONNX_OPTIONS))
    if onnx_only:
        raise DepthError(
            f"{', '.join(onnx_only)} appl{'ies' if len(onnx_only) == 1 else 'y'} to ONNX models only, not to "
            f"the viewshift depth model {path or 'builtin'}"
        )
    return load_builtin(path, **({"num_threads": given["num_threads"]} if "num_threads" in given else {}))
