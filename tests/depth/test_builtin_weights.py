"""The shipped built-in weights describe themselves truthfully, and the shipping rule of docs/depth/builtin.md
(``bench/depth_eval.py: shipping_rule``) decides as written."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

from viewshift.depth.builtin import BUILTIN_WEIGHTS, load_depth_network
from viewshift.depth.network import count_parameters

REPO = Path(__file__).resolve().parents[2]


def load_depth_eval():
    spec = importlib.util.spec_from_file_location("depth_eval", REPO / "bench" / "depth_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def depth_eval():
    return load_depth_eval()


def test_shipped_json_matches_the_weights_and_held_out_scenes_were_never_trained_on(depth_eval):
    if not BUILTIN_WEIGHTS.exists():
        pytest.skip("built-in weights not trained yet")
    info = json.loads(BUILTIN_WEIGHTS.with_suffix(".json").read_text())
    net, size, meta = load_depth_network(BUILTIN_WEIGHTS)
    assert info["network"]["parameters"] == count_parameters(net)
    assert tuple(info["network"]["channels"]) == net.config.channels
    assert tuple(info["input_size"]) == size
    record = json.loads(meta["json"])
    assert info["training_steps"] == record["step"]
    held = set(record["train_config"]["stereo_holdout"])
    assert {f"MiddEval3/{s}" for s in depth_eval.HELD_OUT} <= held
    assert {f"MiddEval2/{s}" for s in depth_eval.HELD_OUT_2} <= held


def scores(abs_rel_disp=0.2, spearman=0.6, median_abs_rel=0.2, psnr=17.0) -> dict:
    """One source's results in the layout of bench/depth_eval.py's JSON (same numbers on every set)."""
    row = {"abs_rel_disp": abs_rel_disp, "spearman": spearman}
    out = {f"{s}_disparity": {"src": dict(row)} for s in ("middlebury", "sevenscenes", "rgbd")}
    out["middlebury2_disparity"] = {"src": {"spearman": spearman}}
    for s in ("middlebury", "sevenscenes", "rgbd"):
        out[f"{s}_median"] = {"src": {"abs_rel": median_abs_rel, "psnr": psnr}}
    return out


def results(old: dict, new: dict) -> dict:
    out = {}
    for key in old:
        out[key] = {"old built-in": old[key]["src"], "built-in": new[key]["src"]}
    return out


def verdict(depth_eval, out) -> tuple[bool, list[bool]]:
    r = depth_eval.shipping_rule(out)
    return r["ship"], [c["pass"] for c in r["conditions"].values()]


def test_rule_ships_a_candidate_better_on_disparity_and_no_worse_on_ratios(depth_eval):
    out = results(scores(), scores(abs_rel_disp=0.19, spearman=0.61, median_abs_rel=0.204, psnr=16.9))
    assert verdict(depth_eval, out) == (True, [True] * 7)


def test_rule_keeps_the_old_weights_when_nothing_improves(depth_eval):
    ship, passes = verdict(depth_eval, results(scores(), scores()))
    assert not ship and passes == [True, True, False, True, True, True, True]


def test_rule_refuses_worse_depth_ratios_or_render_beyond_the_tolerance(depth_eval):
    better = dict(abs_rel_disp=0.18, spearman=0.65)
    ship, passes = verdict(depth_eval, results(scores(), scores(**better, median_abs_rel=0.206)))
    assert not ship and passes[4] is False and passes[6] is True  # 0.006 over old on Middlebury; 7 allows 0.010
    ship, passes = verdict(depth_eval, results(scores(), scores(**better, median_abs_rel=0.212)))
    assert not ship and passes[6] is False
    ship, passes = verdict(depth_eval, results(scores(), scores(**better, psnr=16.89)))
    assert not ship and passes[5] is False


def test_rule_refuses_a_domain_paying_for_another(depth_eval):
    out = copy.deepcopy(results(scores(), scores(abs_rel_disp=0.18, spearman=0.7)))
    out["rgbd_disparity"]["built-in"]["spearman"] = 0.6 - 0.06
    ship, passes = verdict(depth_eval, out)
    assert not ship and passes == [True, True, True, False, True, True, True]


def test_rule_reads_round_one_as_not_shipping(depth_eval):
    # Round 1's candidate (experiments/depth/builtin_round1_eval.json, numbers copied): better disparity and ranks,
    # worse depth ratios and render; the round-2 rule keeps the old weights.
    old = scores(abs_rel_disp=0.232, spearman=0.599, median_abs_rel=0.188, psnr=17.29)
    new = scores(abs_rel_disp=0.219, spearman=0.619, median_abs_rel=0.272, psnr=16.19)
    ship, passes = verdict(depth_eval, results(old, new))
    assert not ship and passes == [True, True, True, True, False, False, False]
