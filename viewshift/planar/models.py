"""Networks of viewshift.planar: digit rotation regressors, the IC-STN family and the photo roll estimator.

Every class is a thin ``nn.Module`` holding layers; the geometry (warps, composition) is in
:mod:`viewshift.planar.warps` and the angle maths in :mod:`viewshift.planar.angles`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn as nn

from viewshift.planar.angles import bins_to_angle, vector_to_angle
from viewshift.planar.warps import (
    compose_homographies,
    params_to_homography,
    warp_images,
)

if TYPE_CHECKING:
    from viewshift.planar.vanishing import VanishingGate

ANGLE_HEADS = ("naive", "vector", "bins")


def _conv(cin: int, cout: int, batchnorm: bool = True) -> nn.Sequential:
    norm = nn.BatchNorm2d(cout) if batchnorm else nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), norm, nn.ReLU(inplace=True))


class AngleNet(nn.Module):
    """CNN regressing the rotation of a 28×28 digit.

    Heads:
        ``naive``: 2 outputs through ``tanh`` read as ``(cos, sin)`` (the recipe that collapses).
        ``vector``: 2 unconstrained outputs read as a direction ``(cos, sin)`` (normalised by the loss/decoder).
        ``bins``: ``num_bins`` logits over equal angle bins, decoded by a local soft-argmax.

    Args:
        head: one of :data:`ANGLE_HEADS`.
        num_bins: number of bins for the ``bins`` head.
        width: channels of the first convolution (later layers use 2× and 4×).
        batchnorm: batch normalisation after each convolution (False for the plain, Keras-tutorial-style net).
        input_scale: multiply the [0, 1] input by this first (255 feeds raw pixel values, as many tutorials do).
    """

    def __init__(
        self,
        head: str = "vector",
        num_bins: int = 72,
        width: int = 16,
        batchnorm: bool = True,
        input_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if head not in ANGLE_HEADS:
            raise ValueError(f"unknown angle head {head!r}; use one of {ANGLE_HEADS}")
        self.head = head
        self.num_bins = num_bins
        self.input_scale = input_scale
        out = num_bins if head == "bins" else 2
        self.features = nn.Sequential(
            _conv(1, width, batchnorm),
            nn.MaxPool2d(2),  # 14×14
            _conv(width, 2 * width, batchnorm),
            _conv(2 * width, 2 * width, batchnorm),
            nn.MaxPool2d(2),  # 7×7
            _conv(2 * width, 4 * width, batchnorm),
        )
        self.regressor = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * width * 49, 64), nn.ReLU(inplace=True), nn.Linear(64, out)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Raw outputs.

        Args:
            images: ``(B, 1, 28, 28)`` float digits in [0, 1].

        Returns:
            ``(B, 2)`` vectors (``tanh``-squashed for the naive head) or ``(B, num_bins)`` logits.
        """
        out = self.regressor(self.features(images * self.input_scale))
        return torch.tanh(out) if self.head == "naive" else out

    def decode(self, outputs: torch.Tensor) -> torch.Tensor:
        """Angles ``(B,)`` in degrees from :meth:`forward` outputs."""
        if self.head == "bins":
            return bins_to_angle(outputs)
        return vector_to_angle(outputs)


CLASSIFIER_ARCHS = ("small", "deep")


class DigitClassifier(nn.Module):
    """CNN classifying 28×28 digits.

    ``small``: two conv+pool stages and a linear layer. ``deep``: the :class:`AngleNet` trunk (four 3×3
    convolutions with batch norm, two poolings, a 64-unit hidden layer) with 10 outputs.

    Args:
        width: channels of the first convolution (later ones 2× / 4×).
        arch: ``"small"`` or ``"deep"``.
    """

    def __init__(self, width: int = 8, arch: str = "small") -> None:
        super().__init__()
        if arch not in CLASSIFIER_ARCHS:
            raise ValueError(f"unknown classifier arch {arch!r}; use one of {CLASSIFIER_ARCHS}")
        if arch == "deep":
            trunk = AngleNet("bins", num_bins=10, width=width)
            self.net = nn.Sequential(trunk.features, trunk.regressor)
            return
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * 49, 10),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 28, 28)`` digits → ``(B, 10)`` logits."""
        return self.net(images)


class GeometricPredictor(nn.Module):
    """Predicts a warp update ``Δp`` from a 28×28 image (the IC-STN paper's small predictor, ReLU + max-pool).

    The last layer starts at zero, so every warp starts as the identity.

    Args:
        num_params: 8 for homographies, 6 for affine warps.
    """

    def __init__(self, num_params: int = 8) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 7),  # 22×22
            nn.ReLU(inplace=True),
            nn.Conv2d(4, 8, 7),  # 16×16
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # 8×8
            nn.Flatten(),
            nn.Linear(8 * 64, 48),
            nn.ReLU(inplace=True),
            nn.Linear(48, num_params),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 28, 28)`` images → ``(B, num_params)`` warp updates."""
        return self.net(images)


class AlignNet(nn.Module):
    """Plain CNN, spatial transformer or inverse compositional spatial transformer, then a classifier.

    * ``num_warps == 0``: the classifier alone (the "CNN" baseline).
    * ``recurrent=False, num_warps == 1``: a spatial transformer: predict ``p`` from the input, resample the
      input once by ``p``.
    * ``recurrent=True``: IC-STN-``num_warps``. One shared predictor looks at the current warped image, predicts
      ``Δp``, the warp is **composed** ``H ← H ∘ Δp`` (:func:`compose_homographies`), and the warped image is
      resampled from the *source* each step, never from an already resampled image.

    Args:
        num_warps: number of warps (0 for the plain CNN).
        recurrent: compose warps recurrently from a source image (IC-STN) instead of one plain STN warp.
        num_params: 8 (homography) or 6 (affine).
        classifier_width: width of the :class:`DigitClassifier`.
        classifier_arch: ``"small"`` or ``"deep"`` (:class:`DigitClassifier`).
    """

    def __init__(
        self,
        num_warps: int = 4,
        recurrent: bool = True,
        num_params: int = 8,
        classifier_width: int = 8,
        classifier_arch: str = "small",
    ) -> None:
        super().__init__()
        self.num_warps = num_warps
        self.recurrent = recurrent
        self.num_params = num_params
        self.predictor = GeometricPredictor(num_params) if num_warps > 0 else None
        self.classifier = DigitClassifier(classifier_width, classifier_arch)

    def align(
        self, images: torch.Tensor, source: torch.Tensor | None = None, init: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Warp images towards the canonical pose the classifier was trained on.

        Args:
            images: ``(B, 1, 28, 28)`` the perturbed digits the predictor first looks at.
            source: ``(B, 1, 28, 28)`` image to resample from; ``images`` when None. The IC-STN paper's protocol
                passes the unperturbed canvas here with ``init`` = the perturbation, so that composed warps can
                reach pixels the perturbation pushed off the canvas.
            init: ``(B, 3, 3)`` sampling homography from ``images`` to ``source``; identity when None.

        Returns:
            ``(aligned, H)``: ``(B, 1, 28, 28)`` aligned images and the ``(B, 3, 3)`` sampling homographies that
            map aligned coordinates into ``source``.
        """
        batch = images.shape[0]
        eye = torch.eye(3, dtype=images.dtype, device=images.device).expand(batch, 3, 3)
        h = eye if init is None else init
        src = images if source is None else source
        current = images
        if self.predictor is None:
            return current, h
        if not self.recurrent:
            # Plain STN: one warp predicted from and applied to the (already perturbed) input image.
            dh = params_to_homography(self.predictor(images))
            return warp_images(images, dh)[0], compose_homographies(eye, dh)
        for _ in range(self.num_warps):
            dh = params_to_homography(self.predictor(current))
            h = compose_homographies(h, dh)
            current = warp_images(src, h)[0]
        return current, h

    def forward(
        self, images: torch.Tensor, source: torch.Tensor | None = None, init: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Class logits ``(B, 10)``; arguments as in :meth:`align`."""
        aligned, _ = self.align(images, source, init)
        return self.classifier(aligned)


class AlignEnsemble(nn.Module):
    """Several :class:`AlignNet` models trained separately; their class probabilities are averaged.

    ``forward`` returns ``log(mean_i softmax(logits_i))``, so its arg-max is the class of highest mean
    probability. ``align`` returns the alignment of the first member (averaging aligned images of different
    members would blur them); classification uses every member's own alignment.

    Args:
        members: the trained member networks (same kind of perturbation).
    """

    def __init__(self, members: list[AlignNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.num_warps = members[0].num_warps
        self.recurrent = all(m.recurrent for m in members)

    def align(
        self, images: torch.Tensor, source: torch.Tensor | None = None, init: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The first member's :meth:`AlignNet.align` (same arguments and returns)."""
        return self.members[0].align(images, source, init)

    def forward(
        self, images: torch.Tensor, source: torch.Tensor | None = None, init: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``(B, 10)`` log of the members' mean class probabilities; arguments as in :meth:`AlignNet.align`."""
        probs = torch.stack([torch.softmax(m(images, source, init), dim=-1) for m in self.members])
        return torch.log(probs.mean(dim=0).clamp_min(1e-12))


class RollNet(nn.Module):
    """Estimates a photo's roll from its gradient-orientation histogram.

    The input is a histogram of gradient orientations over ``[0°, 180°)`` (see
    :func:`viewshift.planar.features.orientation_histogram`); a photo rolled by θ shifts it circularly by θ, so the
    network is a small circular 1-D CNN followed by a linear read-out of the roll in degrees.

    Args:
        num_bins: histogram bins over 180°.
        channels: histogram channels (e.g. scales).
        width: channels of the 1-D convolutions.
    """

    def __init__(self, num_bins: int = 180, channels: int = 2, width: int = 32) -> None:
        super().__init__()
        self.num_bins = num_bins
        self.channels = channels
        self.net = nn.Sequential(
            nn.Conv1d(channels, width, 9, padding=4, padding_mode="circular"),
            nn.ReLU(inplace=True),
            nn.Conv1d(width, width, 9, padding=4, padding_mode="circular"),
            nn.ReLU(inplace=True),
            nn.MaxPool1d(2),
            nn.Conv1d(width, width, 5, padding=2, padding_mode="circular"),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(width * num_bins // 2, 64),
            nn.ReLU(inplace=True),
            nn.Linear(64, 1),
        )

    def forward(self, histograms: torch.Tensor) -> torch.Tensor:
        """``(B, channels, num_bins)`` histograms → ``(B,)`` roll in degrees (counter-clockwise tilt)."""
        return self.net(histograms).squeeze(-1) * 20.0


class AngleEnsemble(nn.Module):
    """Several :class:`AngleNet` rotation regressors whose decoded angles are averaged on the circle.

    ``forward`` returns the sum of the members' unit vectors ``(cos θ_i, sin θ_i)``, ``decode`` its direction,
    so the ensemble can stand wherever an :class:`AngleNet` does (e.g. :func:`predict_angles_rot90`).

    Args:
        members: the trained member networks.
    """

    def __init__(self, members: list[AngleNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 28, 28)`` digits → ``(B, 2)`` summed unit vectors of the members' angles."""
        from viewshift.planar.angles import angle_to_vector

        return sum(angle_to_vector(m.decode(m(images))) for m in self.members)

    def decode(self, outputs: torch.Tensor) -> torch.Tensor:
        """Angles ``(B,)`` in degrees from :meth:`forward` outputs."""
        return vector_to_angle(outputs)


def predict_angles_rot90(model: AngleNet | AngleEnsemble, images: torch.Tensor, turns: int = 4) -> torch.Tensor:
    """Angles with rotation test-time augmentation: the circular mean over quarter turns.

    Each image is also shown turned by ``k × 90°`` (``torch.rot90``, lossless), the prediction is turned back
    by ``k × 90°``, and the ``turns`` unit vectors are averaged.

    Args:
        model: a trained :class:`AngleNet` in eval mode.
        images: ``(B, 1, 28, 28)`` digits in [0, 1].
        turns: 1 (no augmentation), 2 or 4.

    Returns:
        ``(B,)`` angles in degrees, counter-clockwise as displayed.
    """
    from viewshift.planar.angles import angle_to_vector

    total = torch.zeros(images.shape[0], 2, dtype=images.dtype, device=images.device)
    step = 4 // turns
    for k in range(0, 4, step):
        # torch.rot90 with k > 0 turns the content counter-clockwise as displayed by k × 90°.
        angles = model.decode(model(torch.rot90(images, k, dims=(2, 3)))) - 90.0 * k
        total = total + angle_to_vector(angles)
    return vector_to_angle(total)


class RollMatchNet(nn.Module):
    """Roll estimator that is shift-equivariant by construction: a learned matched filter on the histogram.

    A photo rolled by θ has its orientation histogram shifted circularly by θ bins (1° bins), so the network
    (1) maps ``log(1 + h)`` through circular 1-D convolutions (equivariant), (2) cross-correlates the result
    with one learned template per channel (what an upright photo's features look like), giving a score for
    every candidate shift ``s`` in ``[-max_shift, max_shift]``, and (3) returns the soft-argmax of the scores:
    ``roll = Σ softmax(score / τ)_s · s``. With ~1k parameters it cannot memorise photos, unlike a flatten +
    fully-connected read-out.

    Args:
        num_bins: histogram bins over 180° (one bin per degree when 180).
        channels: histogram channels (scales).
        width: channels of the convolutions and templates.
        max_shift: largest roll considered, in bins.
        window: decode with a soft-argmax over ``±window`` shifts around the best one; over all shifts when None.
        feature_kind: which photo features the network reads (``kind`` of
            :func:`viewshift.planar.features.photo_features`); recorded here so inference computes the right input.
        vanishing_gate: inference (:func:`viewshift.planar.api.roll_with_network`) uses the photo's vertical
            vanishing point instead of the network when this gate accepts it
            (:class:`viewshift.planar.vanishing.VanishingGate`); None: the network always. Recorded only.
    """

    def __init__(
        self,
        num_bins: int = 180,
        channels: int = 2,
        width: int = 8,
        max_shift: int = 25,
        window: int | None = None,
        feature_kind: str = "gradient",
        vanishing_gate: VanishingGate | None = None,
    ) -> None:
        super().__init__()
        self.feature_kind = feature_kind
        self.vanishing_gate = vanishing_gate
        self.window = window
        self.num_bins = num_bins
        self.channels = channels
        self.max_shift = max_shift
        self.features = nn.Sequential(
            nn.Conv1d(channels, width, 5, padding=2, padding_mode="circular"),
            nn.ReLU(inplace=True),
            nn.Conv1d(width, width, 5, padding=2, padding_mode="circular"),
        )
        self.template = nn.Parameter(torch.zeros(width, num_bins))
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def scores(self, histograms: torch.Tensor) -> torch.Tensor:
        """``(B, channels, num_bins)`` → ``(B, 2 * max_shift + 1)`` scores of shifts ``-max_shift..max_shift``."""
        f = self.features(torch.log1p(histograms))
        # Circular cross-correlation c[s] = Σ_b T[b] f[b + s], via FFT, summed over channels.
        corr = torch.fft.irfft(
            torch.fft.rfft(f, dim=-1) * torch.conj(torch.fft.rfft(self.template, dim=-1)), n=self.num_bins, dim=-1
        ).sum(dim=1)
        shifts = torch.arange(-self.max_shift, self.max_shift + 1, device=histograms.device)
        return corr[:, torch.remainder(shifts, self.num_bins)]

    def forward(self, histograms: torch.Tensor) -> torch.Tensor:
        """``(B, channels, num_bins)`` histograms → ``(B,)`` roll in degrees (counter-clockwise tilt).

        The roll is the soft-argmax of the scores, over all shifts or, with ``window``, within ``±window``
        shifts of the best one.
        """
        logits = self.scores(histograms) * torch.exp(-self.log_temperature)
        n = logits.shape[-1]
        if self.window is None:
            shifts = torch.arange(-self.max_shift, self.max_shift + 1, dtype=logits.dtype, device=logits.device)
            return (torch.softmax(logits, dim=-1) * shifts).sum(dim=-1) * (180.0 / self.num_bins)
        window = self.window
        best = logits.argmax(dim=-1, keepdim=True)
        idx = (best + torch.arange(-window, window + 1, device=logits.device)).clamp(0, n - 1)
        probs = torch.softmax(torch.gather(logits, 1, idx), dim=-1)
        shifts = (idx - self.max_shift).to(probs.dtype)
        return (probs * shifts).sum(dim=-1) * (180.0 / self.num_bins)
