"""Learned 2-D geometry: digit rotation regression, IC-STN alignment, photo roll and straightening.

See ``docs/planar.md`` for the conventions (degrees, counter-clockwise as displayed, ``[-180, 180)``), the
shipped models and how every reported number is reproduced.
"""

from viewshift.planar.api import align, classify, estimate_angle, estimate_roll, explain_roll, straighten

__all__ = ["align", "classify", "estimate_angle", "estimate_roll", "explain_roll", "straighten"]
