"""OnnxDepth: tiny models exported in the test, whose outputs are known functions of the input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from torch import nn

from tests.helpers_onnx import ChannelMean, FirstChannel, NanOutput, export_onnx
from viewshift.depth import DepthSource, OnnxDepth, inverse_to_depth, network_input_size
from viewshift.errors import DepthError, ModelError, ShapeError

PLAIN = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "mean_dynamic": export_onnx(ChannelMean(), folder / "mean_dynamic.onnx", dynamic_hw=True),
        "mean_plus_one": export_onnx(ChannelMean(bias=1.0), folder / "mean_plus_one.onnx", dynamic_hw=True),
        "first_fixed": export_onnx(FirstChannel(), folder / "first_fixed.onnx", input_shape=(1, 3, 32, 48)),
        "nan": export_onnx(NanOutput(), folder / "nan.onnx"),
        "linear": export_onnx(nn.Linear(10, 1), folder / "linear.onnx", input_shape=(1, 10)),
    }


def ramp_image(h: int = 32, w: int = 48) -> np.ndarray:
    """Brightness rising left to right, with distinct channels: red = x ramp, green = y ramp, blue = 200."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 200)], axis=2).astype(np.uint8)


def test_inverse_output_gives_exact_relative_depth(models: dict[str, Path]) -> None:
    source = OnnxDepth(models["mean_dynamic"], input_size=None, **PLAIN)
    assert isinstance(source, DepthSource)
    rgb = ramp_image()
    brightness = rgb.astype(np.float64).mean(axis=2) / 255.0
    np.testing.assert_allclose(source.predict(rgb), brightness, atol=1e-6)
    result = source.estimate(rgb)
    assert result.unit == "relative" and result.depth.shape == (32, 48) and result.depth.dtype == np.float32
    # brightness b in [lo, hi]: depth = 1 / (b - lo + (hi - lo) / 99), then divided by its median.
    lo, hi = brightness.min(), brightness.max()
    expected = 1.0 / (brightness - lo + (hi - lo) / 99.0)
    np.testing.assert_allclose(result.depth, expected / np.median(expected), rtol=1e-4)
    assert np.all(np.diff(result.depth[0]) < 0)  # top row: dark left = far, bright right = near
    assert result.depth.max() / result.depth.min() == pytest.approx(100.0, rel=1e-3)


def test_normalisation_and_rgb_channel_order(models: dict[str, Path]) -> None:
    source = OnnxDepth(models["first_fixed"], input_size=(32, 48))
    rgb = ramp_image()
    expected = (rgb[:, :, 0] / 255.0 - 0.485) / 0.229  # the red channel, ImageNet-normalised
    np.testing.assert_allclose(source.predict(rgb), expected, atol=1e-5)


def test_depth_output_kept_and_nonpositive_filled(models: dict[str, Path]) -> None:
    rgb = ramp_image()
    depth = OnnxDepth(models["mean_plus_one"], input_size=None, output="depth", **PLAIN).estimate(rgb)
    np.testing.assert_allclose(depth.depth, 1.0 + rgb.mean(axis=2) / 255.0, atol=1e-6)
    assert depth.unit == "relative"
    metric = OnnxDepth(models["mean_plus_one"], input_size=None, output="depth", metric=True, **PLAIN)
    assert metric.estimate(rgb).unit == "metric"
    # First channel as "depth": column 0 is red 0 -> filled from its right neighbour (column 1).
    red = OnnxDepth(models["first_fixed"], input_size=None, output="depth", **PLAIN).estimate(rgb)
    np.testing.assert_allclose(red.depth[:, 0], rgb[:, 1, 0] / 255.0, atol=1e-6)
    np.testing.assert_allclose(red.depth[:, 1:], rgb[:, 1:, 0] / 255.0, atol=1e-6)


def test_fixed_input_model_resizes_in_and_out(models: dict[str, Path]) -> None:
    source = OnnxDepth(models["first_fixed"], input_size=None, **PLAIN)
    assert source.fixed_size == (32, 48) and source.network_size((64, 96)) == (32, 48)
    rgb = ramp_image(64, 96)
    pred = source.predict(rgb)  # onnxruntime would refuse any input but 32×48
    assert pred.shape == (64, 96)
    np.testing.assert_allclose(pred[:, 4:-4], rgb[:, 4:-4, 0] / 255.0, atol=0.01)  # a linear ramp survives
    uniform = np.full((50, 70, 3), 90, np.uint8)
    np.testing.assert_allclose(source.predict(uniform), 90 / 255.0, atol=1e-6)
    np.testing.assert_array_equal(source.estimate(uniform).depth, 1.0)  # constant inverse depth: flat scene


def test_dynamic_model_sizes(models: dict[str, Path]) -> None:
    source = OnnxDepth(models["mean_dynamic"], input_size=(32, 32), keep_aspect=True, multiple_of=14, **PLAIN)
    assert source.network_size((50, 70)) == (42, 56)
    rgb = np.full((50, 70, 3), 60, np.uint8)
    np.testing.assert_allclose(source.predict(rgb), 60 / 255.0, atol=1e-6)
    assert network_input_size((50, 70), (32, 32)) == (32, 32)
    assert network_input_size((50, 70), (32, 33), multiple_of=32) == (32, 32)
    assert network_input_size((480, 640), (518, 518), keep_aspect=True, multiple_of=14) == (518, 700)
    assert network_input_size((10, 10), (3, 3), multiple_of=14) == (14, 14)


def test_bad_model_files(tmp_path: Path, models: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match="not found"):
        OnnxDepth(tmp_path / "missing.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match="empty"):
        OnnxDepth(tmp_path / "empty.onnx")
    (tmp_path / "text.onnx").write_text("not a model\n" * 20)
    with pytest.raises(ModelError, match="cannot load ONNX model text.onnx") as info:
        OnnxDepth(tmp_path / "text.onnx")
    assert "\n" not in str(info.value)
    with pytest.raises(ModelError, match=r"shape \[1, 10\]; need N×3×H×W"):
        OnnxDepth(models["linear"])
    with pytest.raises(ModelError, match="fixed 32×48 input but input_size"):
        OnnxDepth(models["first_fixed"], input_size=(384, 384))
    with pytest.raises(ModelError, match="keep_aspect needs dynamic"):
        OnnxDepth(models["first_fixed"], input_size=None, keep_aspect=True)
    with pytest.raises(ModelError, match="NaN/inf"):
        OnnxDepth(models["nan"], input_size=None).estimate(ramp_image())


def test_bad_settings_and_images(models: dict[str, Path]) -> None:
    with pytest.raises(DepthError, match="output must be"):
        OnnxDepth(models["mean_dynamic"], output="disparity")  # type: ignore[arg-type]
    with pytest.raises(DepthError, match="metric=True needs output='depth'"):
        OnnxDepth(models["mean_dynamic"], metric=True)
    source = OnnxDepth(models["mean_dynamic"], input_size=(32, 32))
    with pytest.raises(ShapeError, match="uint8"):
        source.estimate(ramp_image().astype(np.float32))
    with pytest.raises(ShapeError, match="H×W×3"):
        source.estimate(ramp_image()[:, :, 0])


def test_inverse_to_depth_matches_adapter_formula() -> None:
    # span 4, offset 4 / (5 - 1) = 1: depth 1/1, 1/3, 1/5, median 1/3. Negative outputs are fine.
    inv = np.array([[-2.0, 0.0, 2.0]])
    np.testing.assert_allclose(inverse_to_depth(inv, max_ratio=5.0), [[3.0, 1.0, 0.6]], rtol=1e-6)
