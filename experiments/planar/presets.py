"""Every preset the planar study trained, rounds 1-8 (the 48 of ``viewshift/planar/configs.py`` before issue 14).

The five that make the shipped models are still in :data:`viewshift.planar.configs.PRESETS` (the same configs);
the others live only here. Train one with ``python experiments/planar/train.py --preset NAME -o RUN``.
"""

from __future__ import annotations

import dataclasses

from viewshift.planar.configs import PHOTO_ROLL_HOLDOUT, AlignConfig, RollConfig, RotationConfig

PRESETS: dict[str, RotationConfig | AlignConfig | RollConfig] = {
    "rot-naive-3": RotationConfig("rot-naive-3", head="naive", loss="cosine_proximity", classes=[3], steps=1500),
    "rot-vector-3": RotationConfig("rot-vector-3", head="vector", loss="angular", classes=[3], steps=2000),
    # The question's recipe: Keras' MNIST example (no batch norm, Adadelta lr 1.0, no clipping) with the naive
    # head, and the same net and optimiser with the fixed head as the control.
    "rot-naive-keras-3": RotationConfig(
        "rot-naive-keras-3",
        head="naive",
        loss="cosine_proximity",
        classes=[3],
        steps=1000,
        batchnorm=False,
        lr=1.0,
        optimizer="adadelta",
        clip_grad=None,
    ),
    "rot-vector-keras-3": RotationConfig(
        "rot-vector-keras-3",
        head="vector",
        loss="angular",
        classes=[3],
        steps=1000,
        batchnorm=False,
        lr=1.0,
        optimizer="adadelta",
        clip_grad=None,
    ),
    # Aggressive optimisation (Adam lr 1e-2, no batch norm, no clipping): does the tanh head saturate?
    "rot-naive-highlr-3": RotationConfig(
        "rot-naive-highlr-3",
        head="naive",
        loss="cosine_proximity",
        classes=[3],
        steps=600,
        batchnorm=False,
        lr=1e-2,
        clip_grad=None,
    ),
    "rot-vector-highlr-3": RotationConfig(
        "rot-vector-highlr-3",
        head="vector",
        loss="angular",
        classes=[3],
        steps=600,
        batchnorm=False,
        lr=1e-2,
        clip_grad=None,
    ),
    "rot-naive-all": RotationConfig("rot-naive-all", head="naive", loss="cosine_proximity", steps=1000),
    "rot-vector-all": RotationConfig("rot-vector-all", head="vector", loss="angular", steps=3000),
    "rot-bins-all": RotationConfig("rot-bins-all", head="bins", loss="bins", steps=2500),
    "rot-bins-3": RotationConfig("rot-bins-3", head="bins", loss="bins", classes=[3], steps=2000),
    "cnn": AlignConfig("cnn", num_warps=0, recurrent=False, classifier_width=24),
    "stn": AlignConfig("stn", num_warps=1, recurrent=False),
    "icstn-1": AlignConfig("icstn-1", num_warps=1),
    "icstn-2": AlignConfig("icstn-2", num_warps=2),
    "icstn-4": AlignConfig("icstn-4", num_warps=4),
    # Second round, with a validation split (40 training digits per class held out; model.pt is the checkpoint
    # with the best validation score) and train-time elastic augmentation.
    "rot-bins-3-val": RotationConfig(
        "rot-bins-3-val", head="bins", loss="bins", classes=[3], steps=5000, val_per_class=40
    ),
    "rot-bins-3-val-s1": RotationConfig(
        "rot-bins-3-val-s1", head="bins", loss="bins", classes=[3], steps=5000, val_per_class=40, seed=1
    ),
    "rot-bins-3-aug": RotationConfig(
        "rot-bins-3-aug",
        head="bins",
        loss="bins",
        classes=[3],
        steps=5000,
        val_per_class=40,
        elastic_alpha=1.5,
        scale_jitter=0.1,
    ),
    # A second member for an ensemble: rot-bins-3-aug with another seed.
    "rot-bins-3-aug-s1": RotationConfig(
        "rot-bins-3-aug-s1",
        head="bins",
        loss="bins",
        classes=[3],
        steps=5000,
        val_per_class=40,
        elastic_alpha=1.5,
        scale_jitter=0.1,
        seed=1,
    ),
    "rot-bins-3-mix": RotationConfig(
        "rot-bins-3-mix",
        head="bins",
        loss="bins",
        eval_classes=[3],
        eval_class_share=0.3,
        steps=5000,
        val_per_class=40,
        elastic_alpha=1.5,
        scale_jitter=0.1,
    ),
    # The deep classifier (AngleNet trunk); the CNN is widened to 18 so its parameter count matches.
    "cnn-deep": AlignConfig(
        "cnn-deep",
        num_warps=0,
        recurrent=False,
        classifier_width=18,
        classifier_arch="deep",
        steps=6000,
        val_per_class=40,
        elastic_alpha=1.5,
    ),
    "stn-deep": AlignConfig(
        "stn-deep",
        num_warps=1,
        recurrent=False,
        classifier_width=16,
        classifier_arch="deep",
        steps=6000,
        val_per_class=40,
        elastic_alpha=1.5,
    ),
    "icstn-4-deep": AlignConfig(
        "icstn-4-deep",
        num_warps=4,
        classifier_width=16,
        classifier_arch="deep",
        steps=6000,
        val_per_class=40,
        elastic_alpha=1.5,
    ),
    # Round 3. The all-digits rotation model retrained with the validation split (round 1 picked it on test).
    "rot-bins-all-val": RotationConfig("rot-bins-all-val", head="bins", loss="bins", steps=5000, val_per_class=40),
    "roll-mlp": RollConfig("roll-mlp"),
    "roll": RollConfig("roll", arch="match", width=8, lr=3e-3, steps=1500),
    # The shipped recipe with the validation photos held out, and a wider variant with twice the crops.
    "roll-val": RollConfig("roll-val", arch="match", width=8, lr=3e-3, steps=1500, val_photos=True),
    "roll-val-wide": RollConfig(
        "roll-val-wide", arch="match", width=16, lr=3e-3, steps=3000, samples_per_photo=120, val_photos=True
    ),
    # roll-val-wide without the training photos that have no visible horizontal or vertical structure (their
    # "upright" is arbitrary, so their roll labels are noise).
    "roll-val-clean": RollConfig(
        "roll-val-clean",
        arch="match",
        width=16,
        lr=3e-3,
        steps=3000,
        samples_per_photo=120,
        val_photos=True,
        holdout=list(PHOTO_ROLL_HOLDOUT),
    ),
    "roll-match-ce": RollConfig(
        "roll-match-ce", arch="match", width=8, lr=3e-3, steps=1500, roll_loss="ce", roll_decode="local"
    ),
}


# Round 3. Second seeds of the round-2 IC-STN family, for probability-averaging ensembles of two seeds
# (AlignEnsemble); the CNN and STN get theirs too, so that ensembles are compared with ensembles.
for _name in ("cnn-deep", "stn-deep", "icstn-4-deep"):
    for _seed in (1, 2):
        PRESETS[f"{_name}-s{_seed}"] = dataclasses.replace(PRESETS[_name], preset=f"{_name}-s{_seed}", seed=_seed)
# Round 5. The round-2 IC-STN family trained 20 000 steps instead of 6000 (two seeds each, equal budgets).
for _name in ("cnn-deep", "stn-deep", "icstn-4-deep"):
    for _seed in (0, 1):
        _long = f"{_name}-long" + (f"-s{_seed}" if _seed else "")
        PRESETS[_long] = dataclasses.replace(PRESETS[_name], preset=_long, seed=_seed, steps=20_000)
# roll-val-clean with a third input channel: length-weighted orientations of straight line segments (LSD).
PRESETS["roll-lines"] = dataclasses.replace(PRESETS["roll-val-clean"], preset="roll-lines", features="gradient+lines")
# Round 5. roll-val-clean with a vanishing-direction channel (pairs of segments intersected, the direction from
# the centre to each vanishing point binned); sub-crops stay centred because the channel assumes the principal
# point at the centre.
PRESETS["roll-vanishing"] = dataclasses.replace(
    PRESETS["roll-val-clean"], preset="roll-vanishing", features="gradient+vanishing", centred_crops=True
)
# Round 5. Training photos also seen by a camera turned by random pitch and yaw (±10°): converging verticals and
# slanted horizontals with an exact roll label, like the held-out photos taken looking up or sideways.
PRESETS["roll-tilt"] = dataclasses.replace(PRESETS["roll-val-clean"], preset="roll-tilt", tilt=10.0)
PRESETS["roll-vanishing-tilt"] = dataclasses.replace(PRESETS["roll-vanishing"], preset="roll-vanishing-tilt", tilt=10.0)
# Round 7. roll-tilt with the training photos' own rolls measured from their vertical vanishing points, where clear.
PRESETS["roll-tilt-selfref"] = dataclasses.replace(
    PRESETS["roll-tilt"], preset="roll-tilt-selfref", self_reference=True
)
# Round 6. roll-tilt without the hand-held RGB-D frames, whose own roll is not zero (their door frames lean by 5–9°)
# and was not measured: their "upright" labels were noise. Its checkpoint is picked on the validation photos with
# their measured own rolls (reference_roll).
PRESETS["roll-tilt-clean"] = dataclasses.replace(
    PRESETS["roll-tilt"],
    preset="roll-tilt-clean",
    holdout=PRESETS["roll-tilt"].holdout
    + [f"video/rgbd-5frames/color/{i}.png" for i in range(1, 6)]
    + ["video/tum-fr1-pair/1.png"],
)
