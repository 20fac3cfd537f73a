"""Roll features: the line-segment and vanishing-direction channels shift with the roll like the gradient
channels; the vanishing direction of converging verticals (a pitched camera) is the roll itself, which the
vertical-vanishing-point estimator and the reference rolls of the held-out photos rely on."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tests.helpers import require_shared_data
from viewshift.errors import InputError, ShapeError
from viewshift.planar.features import ROLL_FEATURES, line_histogram, photo_features, vanishing_histogram
from viewshift.planar.photo import rotate_photo, tilt_homography, tilt_photo
from viewshift.planar.roll_data import (
    REFERENCES_FILE,
    random_rolled_crop,
    reference_roll,
    roll_splits,
    roll_test_set,
)
from viewshift.planar.vanishing import VanishingGate, roll_from_segments, vertical_vanishing_roll


def _grid(height: int = 240, width: int = 320) -> np.ndarray:
    """Long horizontal bands and thin vertical lines: segments at normals 90° and 0°."""
    img = np.full((height, width, 3), 90, np.uint8)
    for y in range(20, height, 40):
        cv2.rectangle(img, (10, y), (width - 10, y + 18), (230, 220, 200), -1)
    for x in range(30, width, 60):
        cv2.line(img, (x, 0), (x, height - 1), (30, 30, 30), 3)
    return img


def _circular_peak(hist: np.ndarray, around: float) -> float:
    """Strongest bin within ±20° of ``around`` (1° bins), as a signed offset from it."""
    offsets = np.arange(-20, 21)
    k = offsets[np.argmax(hist[(np.round(around).astype(int) + offsets) % hist.size])]
    return float(k)


@pytest.mark.parametrize("roll", [0.0, 8.0, -13.0])
def test_line_histogram_peaks_move_by_the_roll(roll):
    photo = rotate_photo(_grid(), roll)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    hist = line_histogram(gray)
    assert hist.shape == (180,) and hist.dtype == np.float32
    assert hist.mean() == pytest.approx(1.0, abs=1e-5)
    # Horizontal segments have their normal at 90°, vertical ones at 0°; a counter-clockwise roll adds to both.
    assert abs(_circular_peak(hist, 90.0 + roll)) <= 1
    assert abs(_circular_peak(hist, roll % 180.0)) <= 1


def test_line_histogram_of_a_flat_image_is_uniform():
    assert np.array_equal(line_histogram(np.full((64, 64), 128, np.uint8)), np.ones(180, np.float32))


def test_photo_features_channels_and_kinds():
    photo = rotate_photo(_grid(), 5.0)
    plain, lines = photo_features(photo), photo_features(photo, kind="gradient+lines")
    assert plain.shape == (ROLL_FEATURES["gradient"], 180) and lines.shape == (ROLL_FEATURES["gradient+lines"], 180)
    assert np.array_equal(plain.numpy(), lines[:2].numpy())
    # The gradient channel and the line channel agree on where the horizontal structure is.
    assert abs(_circular_peak(lines[0].numpy(), 95.0)) <= 1 and abs(_circular_peak(lines[2].numpy(), 95.0)) <= 1
    vanishing = photo_features(photo, kind="gradient+vanishing")
    assert vanishing.shape == (ROLL_FEATURES["gradient+vanishing"], 180)
    assert np.array_equal(plain.numpy(), vanishing[:2].numpy())
    # The grid's parallel lines meet at infinity in their own directions: peaks where the segments' normals are.
    assert abs(_circular_peak(vanishing[2].numpy(), 95.0)) <= 1 and abs(_circular_peak(vanishing[2].numpy(), 5.0)) <= 1
    with pytest.raises(InputError):
        photo_features(photo, kind="pixels")


def _converging_verticals(size: int = 256) -> np.ndarray:
    """Nine world verticals seen by a camera pitched upwards: segments towards a vanishing point straight above
    the centre, 600 px over the top edge. Each segment leans by up to 10°, the vanishing direction is vertical."""
    img = np.zeros((size, size), np.uint8)
    vx, vy = (size - 1) / 2.0, -600.0
    for x in range(20, size - 15, 25):
        top = (round(x + (vx - x) * 0.35), round(size - 6 + (vy - size + 6) * 0.35))
        cv2.line(img, (x, size - 6), top, 255, 2)
    return img


@pytest.mark.parametrize("roll", [0.0, 7.0, -12.0])
def test_vanishing_histogram_finds_the_roll_of_converging_verticals(roll):
    gray = rotate_photo(np.dstack([_converging_verticals()] * 3), roll, crop=False)[:, :, 0]
    hist = vanishing_histogram(gray)
    assert hist.shape == (180,) and hist.dtype == np.float32
    assert hist.mean() == pytest.approx(1.0, abs=1e-5)
    # Vertical lines have their normal at 0°: the vanishing direction's bin is the roll, to within a degree.
    assert abs(_circular_peak(hist, roll % 180.0)) <= 1
    # The segments' own orientations spread over ±10°: the line histogram's peak is not pinned to the roll.
    lines = line_histogram(gray)
    offsets = (np.round(roll).astype(int) + np.arange(-12, 13)) % 180
    assert hist[offsets].max() > 3 * lines[offsets].max()


def test_vanishing_histogram_of_a_flat_image_is_uniform():
    assert np.array_equal(vanishing_histogram(np.full((64, 64), 128, np.uint8)), np.ones(180, np.float32))


@pytest.mark.parametrize("centred", [True, False])
def test_centred_training_crops_keep_the_centre(centred):
    # Channel 0 is the row, channel 1 the distance from the middle column (unchanged by the random mirror).
    h, w = 201, 251
    rows, cols = np.mgrid[0:h, 0:w]
    photo = np.dstack([rows, np.abs(cols - w // 2), np.zeros_like(rows)]).astype(np.uint8)
    rng = np.random.default_rng(0)
    offsets = []
    for _ in range(8):
        crop = random_rolled_crop(photo, 0.0, rng, centred=centred)
        ch, cw = crop.shape[:2]
        offsets.append(abs(int(crop[ch // 2, cw // 2, 0]) - h // 2) + int(crop[ch // 2, cw // 2, 1]))
    if centred:
        assert max(offsets) <= 2
    else:
        assert max(offsets) > 10


@pytest.mark.parametrize(("pitch", "yaw"), [(10.0, 0.0), (-8.0, 10.0), (6.0, -10.0), (0.0, 12.0)])
def test_tilting_the_camera_keeps_the_roll_at_zero(pitch, yaw):
    w, h = 320, 240
    hom = tilt_homography(w, h, pitch, yaw)
    # Two world verticals (image columns of the upright photo) meet, after the turn, on the vertical centre line.
    ends = np.array([[[60.0, 0.0]], [[60.0, 239.0]], [[250.0, 0.0]], [[250.0, 239.0]]])
    p = cv2.perspectiveTransform(ends, hom).reshape(4, 2)
    lines = [np.cross([*p[0], 1.0], [*p[1], 1.0]), np.cross([*p[2], 1.0], [*p[3], 1.0])]
    vp = np.cross(*lines)
    # The vanishing point's direction from the centre is vertical: its x equals the centre's (or it is at
    # infinity straight up or down, when the pitch is zero).
    assert abs(vp[0] - (w - 1) / 2.0 * vp[2]) <= 1e-6 * np.abs(vp).max()
    # The segments themselves lean (pitch) or stay parallel and vertical (no pitch): they are not all vertical.
    lean = np.degrees(np.arctan2(p[1, 0] - p[0, 0], p[1, 1] - p[0, 1]))
    assert (abs(lean) > 0.5) == (pitch != 0.0)
    # The crop holds only valid pixels.
    out = tilt_photo(np.full((h, w, 3), 200, np.uint8), pitch, yaw)
    assert out.shape[0] >= 16 and out.min() == 200


@pytest.mark.parametrize("centred", [True, False])
def test_tilted_training_crops_of_a_wide_photo(centred):
    # A KITTI-like 512×155 photo has a 17° vertical field of view: the turn is halved until the crop keeps half
    # of the short side, and every crop holds valid pixels only.
    photo = np.full((155, 512, 3), 200, np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(10):
        crop = random_rolled_crop(photo, float(rng.uniform(-20, 20)), rng, centred=centred, tilt=10.0)
        assert min(crop.shape[:2]) >= 16 and crop.min() == 200


def _camera_turn(width: int, height: int, pitch: float, yaw: float, roll: float) -> np.ndarray:
    """``3×3`` pixel map of an upright photo to the camera turned by yaw and pitch (tilt_homography), then rolled
    counter-clockwise about the centre (a camera roll about its optical axis)."""
    rot = np.vstack([cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), roll, 1.0), [0, 0, 1]])
    return rot @ tilt_homography(width, height, pitch, yaw)


@pytest.mark.parametrize(("pitch", "yaw", "roll"), [(0.0, 0.0, 6.0), (12.0, 5.0, -9.0), (-8.0, -10.0, 15.0)])
def test_roll_from_segments_is_the_roll_under_any_pitch_and_yaw(pitch, yaw, roll):
    w, h = 400, 300
    # World verticals are image columns of the upright photo; after the turn they lean by their position.
    ends = np.array(
        [[[x, 20.0]] for x in (30.0, 150.0, 290.0, 370.0)] + [[[x, 280.0]] for x in (30.0, 150.0, 290.0, 370.0)]
    )
    p = cv2.perspectiveTransform(ends, _camera_turn(w, h, pitch, yaw, roll)).reshape(2, 4, 2)
    segments = np.concatenate([p[0], p[1]], axis=1)
    assert roll_from_segments(segments, w, h) == pytest.approx(roll, abs=1e-6)
    lean = np.degrees(np.arctan2(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]))
    assert (np.ptp(lean) > 1.0) == (pitch != 0.0)  # the segments themselves do not all lean by the roll


def _facade(width: int = 480, height: int = 360) -> np.ndarray:
    """An upright synthetic facade: window columns (world verticals) and floors (horizontals)."""
    img = np.full((height, width, 3), 120, np.uint8)
    for y in range(30, height - 30, 50):
        for x in range(30, width - 40, 55):
            cv2.rectangle(img, (x, y), (x + 30, y + 32), (40, 50, 60), -1)
    return img


@pytest.mark.parametrize(("pitch", "yaw", "roll"), [(0.0, 0.0, -7.0), (10.0, 6.0, 11.0), (-9.0, -8.0, -16.0)])
def test_vertical_vanishing_roll_of_a_turned_synthetic_facade(pitch, yaw, roll):
    upright = _facade()
    h, w = upright.shape[:2]
    seen = cv2.warpPerspective(upright, _camera_turn(w, h, pitch, yaw, roll), (w, h), flags=cv2.INTER_LINEAR)
    found = vertical_vanishing_roll(seen)
    assert found.roll == pytest.approx(roll, abs=0.5)
    assert found.support > 4.0 and found.ambiguity < 0.7


def test_vertical_vanishing_roll_without_lines():
    found = vertical_vanishing_roll(np.full((64, 96, 3), 128, np.uint8))
    assert found.roll is None and found.support == 0.0 and found.ambiguity == 1.0
    with pytest.raises(ShapeError):
        vertical_vanishing_roll(np.zeros((64, 96), np.uint8))


def test_reference_rolls_are_fitted_from_the_marked_segments():
    refs = json.loads(REFERENCES_FILE.read_text())["photos"]
    # Only held-out and validation photos carry references, each with enough marked verticals to fit.
    assert refs and set(refs) <= set(roll_splits()["test"]) | set(roll_splits()["val"])
    for name, entry in refs.items():
        seg = np.array(entry["segments"])
        assert seg.shape[1] == 4 and len(seg) >= 8
        assert reference_roll(name) == pytest.approx(roll_from_segments(seg, *entry["size"]))
        assert abs(reference_roll(name)) < 10.0
    assert reference_roll("photos/fruits.jpg") == 0.0  # no marked verticals: assumed level
    # The ETH3D facade was taken rolled by about 7° clockwise.
    assert reference_roll("stereo/eth3d-twoview/image_0/facade_1s.png") == pytest.approx(-7.3, abs=0.2)


def test_roll_test_labels_add_the_photos_own_roll():
    require_shared_data("photos")
    with_refs = roll_test_set(per_photo=2, split="test", references=True)
    without = roll_test_set(per_photo=2, split="test", references=False)
    for (name, label, image), (name0, applied, image0) in zip(with_refs, without, strict=True):
        assert name == name0 and np.array_equal(image, image0)
        assert label == pytest.approx(applied + reference_roll(name))


def test_roll_with_network_uses_the_vanishing_point_only_through_its_gate():
    from viewshift.planar.api import roll_with_network
    from viewshift.planar.models import RollMatchNet

    upright = _facade()
    h, w = upright.shape[:2]
    seen = cv2.warpPerspective(upright, _camera_turn(w, h, 8.0, 0.0, 9.0), (w, h), flags=cv2.INTER_LINEAR)
    found = vertical_vanishing_roll(seen)
    blind = RollMatchNet(width=4).eval()  # zero templates: every shift scores the same, the soft-argmax says 0°
    assert roll_with_network(blind, seen) == pytest.approx(0.0, abs=1e-4)
    blind.vanishing_gate = VanishingGate(found.support / 2, 1.0)
    assert roll_with_network(blind, seen) == pytest.approx(found.roll) and abs(found.roll - 9.0) < 0.5
    blind.vanishing_gate = VanishingGate(found.support * 2, 1.0)  # support too low for this gate: the network answers
    assert roll_with_network(blind, seen) == pytest.approx(0.0, abs=1e-4)
    blind.vanishing_gate = VanishingGate(0.0, found.ambiguity / 2)  # too ambiguous for this gate
    assert roll_with_network(blind, seen) == pytest.approx(0.0, abs=1e-4)


def test_the_gates_agreement_turns_away_a_vanishing_point_far_from_the_network():
    from viewshift.planar.api import _roll_estimate
    from viewshift.planar.models import RollMatchNet

    upright = _facade()
    h, w = upright.shape[:2]
    seen = cv2.warpPerspective(upright, _camera_turn(w, h, 8.0, 0.0, 9.0), (w, h), flags=cv2.INTER_LINEAR)
    found = vertical_vanishing_roll(seen)
    blind = RollMatchNet(width=4).eval()  # says 0° on every photo; the point is at about 9°
    blind.vanishing_gate = VanishingGate(0.0, 1.0, agreement=abs(found.roll) + 0.5)
    near = _roll_estimate(blind, seen)
    assert near.source == "vanishing point" and near.roll == pytest.approx(found.roll)
    blind.vanishing_gate = VanishingGate(0.0, 1.0, agreement=abs(found.roll) - 0.5)
    far = _roll_estimate(blind, seen)
    assert far.source == "network, vanishing point disagreed" and far.roll == pytest.approx(0.0, abs=1e-4)
    assert far.vanishing == found
    blind.vanishing_gate = VanishingGate(found.support * 2, 1.0, agreement=90.0)  # not clear: plain "network"
    assert _roll_estimate(blind, seen).source == "network"


def test_the_second_family_is_reported_as_the_alternative():
    img = np.full((300, 400, 3), 200, np.uint8)
    for x in range(40, 200, 30):
        cv2.line(img, (x, 40), (x, 260), (20, 20, 20), 2)
    lean = np.tan(np.radians(15.0))
    for x in range(230, 390, 28):  # one more leaning segment than verticals: the leaning family wins
        cv2.line(img, (x, 260), (round(x - 220 * lean), 40), (20, 20, 20), 2)
    found = vertical_vanishing_roll(img)
    # Segments running up and to the left: the content is rolled counter-clockwise, a positive roll.
    assert found.roll == pytest.approx(15.0, abs=0.5) and found.alternative == pytest.approx(0.0, abs=0.5)


def test_a_second_family_of_leaning_segments_makes_the_vanishing_point_ambiguous():
    img = np.full((300, 400, 3), 200, np.uint8)
    for x in range(40, 200, 30):  # world verticals on the left half
        cv2.line(img, (x, 40), (x, 260), (20, 20, 20), 2)
    clear = vertical_vanishing_roll(img)
    assert abs(clear.roll) < 0.5 and clear.ambiguity < 0.1
    lean = np.tan(np.radians(15.0))
    for x in range(230, 390, 30):  # as many parallel segments leaning 15°: as plausible a vertical direction
        cv2.line(img, (x, 260), (round(x - 220 * lean), 40), (20, 20, 20), 2)
    both = vertical_vanishing_roll(img)
    assert both.ambiguity > 0.8
