"""Angle maths on hand-computed cases, including wrap-around at ±180°."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from viewshift.errors import InputError
from viewshift.planar import angles as A


def test_wrap_and_difference_at_the_seam():
    assert A.wrap_degrees(torch.tensor([180.0, -180.0, 359.0, -540.0])).tolist() == [-180.0, -180.0, -1.0, -180.0]
    d = A.angle_difference(torch.tensor([179.0, -179.0, 10.0]), torch.tensor([-179.0, 179.0, 350.0]))
    assert d.tolist() == [-2.0, 2.0, 20.0]


def test_vector_round_trip_and_length_invariance():
    angles = torch.tensor([-180.0, -90.0, -45.0, 0.0, 30.0, 179.5])
    back = A.vector_to_angle(A.angle_to_vector(angles) * 7.0)
    assert torch.allclose(A.angle_difference(back, angles), torch.zeros(6), atol=1e-4)
    with pytest.raises(InputError):
        A.vector_to_angle(torch.zeros(3, 3))


def test_angular_loss_values():
    # 0 for a perfect direction of any length, 1 at 90°, 2 at 180°, symmetric across the seam.
    assert float(A.angular_loss(torch.tensor([[5.0, 0.0]]), torch.tensor([0.0]))) == pytest.approx(0.0, abs=1e-7)
    assert float(A.angular_loss(torch.tensor([[0.0, 1.0]]), torch.tensor([0.0]))) == pytest.approx(1.0, abs=1e-6)
    assert float(A.angular_loss(torch.tensor([[-1.0, 0.0]]), torch.tensor([0.0]))) == pytest.approx(2.0, abs=1e-6)
    near_seam = A.angle_to_vector(torch.tensor([179.0]))
    expected = 1.0 - math.cos(math.radians(2.0))
    assert float(A.angular_loss(near_seam, torch.tensor([-179.0]))) == pytest.approx(expected, abs=1e-6)


def test_cosine_proximity_is_minus_cosine():
    pred = torch.tensor([[1.0, 1.0]])
    assert float(A.cosine_proximity_loss(pred, torch.tensor([0.0]))) == pytest.approx(-math.sqrt(0.5), abs=1e-6)


def test_von_mises_nll_hand_value_and_minimum():
    # κ = 1 pointing at the target: -1 + log(2π I0(1)), I0(1) = 1.2660658777520082.
    val = float(A.von_mises_nll(torch.tensor([[1.0, 0.0]]), torch.tensor([0.0])))
    assert val == pytest.approx(-1.0 + math.log(2 * math.pi * 1.2660658777520082), abs=1e-5)
    # Pointing the wrong way costs more than pointing the right way.
    wrong = float(A.von_mises_nll(torch.tensor([[-1.0, 0.0]]), torch.tensor([0.0])))
    assert wrong > val


def test_bins_encode_decode():
    targets = A.soft_bin_targets(torch.tensor([-179.0]), 72, 4.0)
    assert float(targets.sum()) == pytest.approx(1.0, abs=1e-6)
    # The mass wraps around: the last bin (centre 177.5°) weighs more than bin 2 (centre -167.5°).
    assert targets[0, 71] > targets[0, 2]
    # A peak split evenly between the bins centred at 177.5° and -177.5° decodes to the seam, not to 0°.
    logits = torch.full((1, 72), -20.0)
    logits[0, 0] = logits[0, 71] = 5.0
    assert abs(float(A.angle_difference(A.bins_to_angle(logits), torch.tensor([180.0])))) < 1e-3


def test_error_stats_hand_case():
    s = A.angle_error_stats(np.array([179.0, -179.0, 0.0, 90.0]), np.array([-179.0, 179.0, 4.0, 100.0]))
    # errors 2, 2, 4, 10
    assert s.mean == pytest.approx(4.5)
    assert s.median == pytest.approx(3.0)
    assert s.within_5 == pytest.approx(0.75)
    with pytest.raises(InputError):
        A.angle_error_stats(np.zeros(3), np.zeros(4))
