"""The command line: outputs written, bad input refused with one line and a non-zero exit code, nothing lost."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import write_photo_and_depth
from viewshift.cli import COMMAND_GROUPS, build_parser, main
from viewshift.cli_args import DeprecatedAction, HelpFormatter, settle_output
from viewshift.io import read_depth, read_image, write_image


@pytest.fixture()
def scene(tmp_path):
    return tmp_path, write_photo_and_depth(tmp_path)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def test_render_writes_view_depth_and_mask(scene, capsys):
    tmp, img = scene
    code, err = _run(
        capsys,
        "render",
        tmp / "photo.png",
        "-o",
        tmp / "out.png",
        "--depth",
        tmp / "depth.npy",
        "--focal",
        100,
        "--right",
        0.04,
        "--save-depth",
        tmp / "out_depth.npy",
        "--save-mask",
        tmp / "mask.png",
        "--no-realism",
    )
    assert code == 0, err
    out = read_image(tmp / "out.png").rgb
    assert np.array_equal(out[:, 32:62], img[:, 34:64])  # far plane (Z=2): 100 * 0.04 / 2 = 2 px
    mask = read_image(tmp / "mask.png").rgb[..., 0] > 0
    assert mask[:, -2:].all() and mask.sum() == 48 * (2 + 2)  # border + disocclusion band of 4 - 2 = 2 px
    assert read_depth(tmp / "out_depth.npy").shape == (48, 64)


def test_existing_output_and_input_as_output_are_refused(scene, capsys):
    tmp, _ = scene
    (tmp / "taken.png").write_bytes(b"precious")
    args = ["--depth", tmp / "depth.npy", "--right", 0.01]
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "taken.png", *args)
    assert code == 3 and "exists" in err and len(err.strip().splitlines()) == 1
    assert (tmp / "taken.png").read_bytes() == b"precious"
    before = (tmp / "photo.png").read_bytes()
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "photo.png", "--overwrite", *args)
    assert code == 3 and (tmp / "photo.png").read_bytes() == before


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "corrupt"),
    ],
)
def test_bad_images_give_one_line_errors(scene, capsys, make, needle):
    tmp, _ = scene
    bad = tmp / "bad.png"
    make(bad)
    code, err = _run(capsys, "render", bad, "-o", tmp / "o.png", "--depth", tmp / "depth.npy")
    assert code == 2 and err.startswith("viewshift: error:") and len(err.strip().splitlines()) == 1
    assert needle in err and "bad.png" in err and "Traceback" not in err
    assert not (tmp / "o.png").exists()


@pytest.mark.parametrize("value", [np.nan, 0.0, -1.0])
def test_bad_depth_values_are_refused(scene, capsys, value):
    tmp, _ = scene
    d = np.full((48, 64), 2.0, np.float32)
    d[5, 5] = value
    np.save(tmp / "bad.npy", d)
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "bad.npy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (tmp / "o.png").exists()


def test_wrong_size_depth_and_absurd_move(scene, capsys):
    tmp, _ = scene
    np.save(tmp / "small.npy", np.ones((10, 10), np.float32))
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "small.npy")
    assert code == 2 and "10" in err and "photo.png" in err
    code, err = _run(
        capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "depth.npy", "--forward", 5
    )
    assert code == 2 and "inside the scene" in err
    code, err = _run(
        capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "depth.npy", "--max-pixels", 100
    )
    assert code == 2 and "pixels" in err


@pytest.mark.parametrize("layout, shape", [("sbs", (48, 128, 3)), ("tb", (96, 64, 3)), ("anaglyph", (48, 64, 3))])
def test_stereo_layouts(scene, capsys, layout, shape):
    tmp, _ = scene
    out = tmp / f"st_{layout}.png"
    code, err = _run(
        capsys,
        "stereo",
        tmp / "photo.png",
        "-o",
        out,
        "--depth",
        tmp / "depth.npy",
        "--layout",
        layout,
        "--baseline",
        0.04,
        "--focal",
        100,
    )
    assert code == 0, err
    assert read_image(out).rgb.shape == shape


def test_video_gif_has_the_frames(scene, capsys):
    tmp, _ = scene
    code, err = _run(
        capsys,
        "video",
        tmp / "photo.png",
        "-o",
        tmp / "clip.gif",
        "--depth",
        tmp / "depth.npy",
        "--num-frames",
        6,
        "--path",
        "circle",
    )
    assert code == 0, err
    import imageio.v3 as iio

    frames = iio.imread(tmp / "clip.gif", index=None)
    assert frames.shape[0] == 6 and frames.shape[1:3] == (48, 64)


def test_depth_command_png_with_preview(scene, capsys):
    tmp, _ = scene
    code, err = _run(capsys, "depth", tmp / "photo.png", "-o", tmp / "d.png", "--depth", tmp / "depth.npy")
    assert code == 0, err
    assert np.allclose(read_depth(tmp / "d.png"), np.load(tmp / "depth.npy"), atol=1e-3)
    assert (tmp / "d_preview.png").exists()


def test_batch_folder_skips_existing_outputs(scene, capsys):
    tmp, img = scene
    src = tmp / "in"
    src.mkdir()
    for name in ("a", "b", "c"):
        write_image(src / f"{name}.png", img)
    depths = tmp / "depths"
    depths.mkdir()
    for name in ("a", "b", "c"):
        np.save(depths / f"{name}.npy", np.full((48, 64), 2.0, np.float32))
    out = tmp / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"keep me")
    code = main([str(a) for a in ("render", src, "-o", out, "--depth", depths, "--right", 0.02)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / "a.png").exists() and (out / "c.png").exists()
    assert (out / "b.png").read_bytes() == b"keep me"
    assert captured.out == f"wrote 2 files to {out}/ (1 skipped: they exist)\n"


# ------------------------------------------------------------------------------------------ the vocabulary


def _leaf_parsers(parser: argparse.ArgumentParser, path: str = ""):
    """Every runnable sub-command's parser, as ``(\"planar train\", parser)``."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path.strip(), parser
        return
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaf_parsers(sub, f"{path} {name}")


FULL_PARSER = build_parser()
LEAVES = dict(_leaf_parsers(FULL_PARSER))


def test_the_command_table_lists_exactly_the_registered_commands():
    """viewshift --help is built from COMMAND_GROUPS alone, so the table must match what the groups register."""
    (registered,) = [a for a in FULL_PARSER._actions if isinstance(a, argparse._SubParsersAction)]
    listed = {name: text for _, helps in COMMAND_GROUPS for name, text in helps.items()}
    assert list(registered.choices) == list(listed)
    assert {c.dest: c.help for c in registered._choices_actions} == listed


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_every_option_has_help_and_shows_its_default(command):
    parser = LEAVES[command]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:  # hidden: only old spellings (or the old positional output)
            assert isinstance(action, DeprecatedAction) or action.dest == "positional_output", action
            continue
        assert action.help, f"{command}: {action.option_strings or action.dest} has no help"
        if action.option_strings and action.default not in (None, False):
            line = HelpFormatter(command)._get_help_string(action)
            assert "default" in line, f"{command}: {action.option_strings} does not show its default"
    spellings = {tuple(a.option_strings) for a in parser._actions}
    if command not in OUTPUTLESS:
        assert ("-o", "--output") in spellings, f"{command} has no -o/--output"
        assert ("-q", "--quiet") in spellings, f"{command} has no -q/--quiet"


# These print what they find, fill the model cache folder (models get) or serve a page: no output file to choose.
OUTPUTLESS = {"planar presets", "models list", "models path", "models get", "serve"}


def test_help_does_not_import_the_library():
    """viewshift --help answers fast because no command group (and so no torch) is imported."""
    code = (
        "import sys\n"
        "from viewshift.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "import viewshift.commands, viewshift.learn.cli\n"  # the main groups are light at module level too
        "print(sorted(m for m in ('torch', 'numpy', 'cv2', 'PIL', 'numba') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for _, helps in COMMAND_GROUPS for name in helps)


def test_success_line_and_quiet(scene, capsys):
    tmp, _ = scene
    args = ["render", tmp / "photo.png", "--depth", tmp / "depth.npy", "--right", 0.02, "--focal", 100]
    assert main([str(a) for a in (*args, "-o", tmp / "a.png")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp / 'a.png'} (64×48)\n"
    assert main([str(a) for a in (*args, "-o", tmp / "b.png", "-q")]) == 0
    assert capsys.readouterr().out == "" and (tmp / "b.png").exists()
    assert main([str(a) for a in ("depth", tmp / "photo.png", "--depth", tmp / "depth.npy", "-o", tmp / "d.npy")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp / 'd.npy'} (64×48) and d_preview.png\n"


def test_old_spellings_work_and_warn(scene, capsys):
    tmp, _ = scene
    base = ("video", tmp / "photo.png", "--depth", tmp / "depth.npy", "--path", "swing", "-q")
    assert main([str(a) for a in (*base, "-o", tmp / "new.gif", "--num-frames", 4)]) == 0
    assert capsys.readouterr().err == ""
    assert main([str(a) for a in (*base, "-o", tmp / "old.gif", "--frames", 4)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--frames is deprecated" in err and "--num-frames" in err
    import imageio.v3 as iio

    assert np.array_equal(iio.imread(tmp / "new.gif", index=None), iio.imread(tmp / "old.gif", index=None))

    # train's positional run folder and eval's --model: parsed into -o / --depth-model, with a note each.
    for argv, dest, value in (
        (["train", str(tmp / "run"), "--preset", "tiny"], "output", str(tmp / "run")),
        (["eval", "depth", "--model", "m.pt", "--stereo", "x"], "depth_model", "m.pt"),
        (["render", "p.png", "-o", "o.png", "--model", "m.pt"], "depth_model", "m.pt"),
    ):
        args = build_parser([argv[0]]).parse_args(argv)
        assert settle_output(args) is None
        assert getattr(args, dest) == value
        assert "deprecated" in capsys.readouterr().err
    args = build_parser(["train"]).parse_args(["train", "--preset", "tiny"])
    assert "required" in settle_output(args)


def test_old_model_spelling_renders_like_depth_model(scene, capsys):
    """--model FILE.pt (old) and --depth-model FILE.pt give the same depth; the built-in weights are such a file."""
    from viewshift.depth.builtin import BUILTIN_WEIGHTS

    tmp, _ = scene
    for flag, name in (("--depth-model", "new.npy"), ("--model", "old.npy")):
        code = main(["depth", str(tmp / "photo.png"), "-o", str(tmp / name), flag, str(BUILTIN_WEIGHTS), "-q"])
        assert code == 0, capsys.readouterr().err
    assert np.array_equal(np.load(tmp / "new.npy"), np.load(tmp / "old.npy"))
    code = main(["depth", str(tmp / "photo.png"), "-o", str(tmp / "x.npy"), "--depth-model", str(tmp / "no.pt")])
    assert code in (2, 4) and "no.pt" in capsys.readouterr().err  # InputError or ModelError, naming the file


def test_max_pixels_takes_the_numbers_its_help_writes(scene, capsys):
    tmp, _ = scene
    args = ["render", tmp / "photo.png", "--depth", tmp / "depth.npy", "--right", 0.01, "-q"]
    assert main([str(a) for a in (*args, "-o", tmp / "a.png", "--max-pixels", "1e9")]) == 0
    assert main([str(a) for a in (*args, "-o", tmp / "b.png", "--max-pixels", "3e3")]) == 2  # 64×48 = 3072 > 3000
    assert "3072" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(a) for a in (*args, "-o", tmp / "c.png", "--max-pixels", "1.5")])
    assert "whole number" in capsys.readouterr().err


def test_single_photo_errors_name_the_photo(scene, capsys):
    tmp, _ = scene
    np.save(tmp / "small.npy", np.ones((10, 10), np.float32))
    code, err = _run(capsys, "render", tmp / "photo.png", "-o", tmp / "o.png", "--depth", tmp / "small.npy")
    assert code == 2 and "photo.png" in err and "batch" not in err and len(err.strip().splitlines()) == 1


def test_unknown_depth_pixels_are_refused_with_a_real_flag_and_filled_with_it(scene, capsys):
    tmp, _ = scene
    disparity = np.full((48, 64), 50.0, np.float32)
    disparity[10:20, 10:20] = 0.0  # unknown
    np.save(tmp / "disp.npy", disparity)
    args = ["depth", tmp / "photo.png", "--depth", tmp / "disp.npy", "--depth-unit", "disparity"]
    args += ["--depth-baseline", 0.1, "--focal", 100]
    code, err = _run(capsys, *args, "-o", tmp / "d.npy")
    assert code == 2 and "--depth-fill-unknown" in err
    flags = {o for p in LEAVES.values() for a in p._actions for o in a.option_strings}
    assert "--depth-fill-unknown" in flags
    assert main([str(a) for a in (*args, "-o", tmp / "d.npy", "--depth-fill-unknown", "-q")]) == 0
    assert np.allclose(np.load(tmp / "d.npy"), 100 * 0.1 / 50)  # the hole filled from its (equal) surroundings


def test_threads_sets_torch_threads(scene, capsys):
    import torch

    tmp, _ = scene
    before = torch.get_num_threads()
    try:
        args = ("render", tmp / "photo.png", "--depth", tmp / "depth.npy", "-o", tmp / "t.png", "-q", "--threads", 1)
        assert main([str(a) for a in args]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert FULL_PARSER.parse_args(["render", "x.png", "-o", "y.png"]).threads == os.cpu_count()


def test_run_turns_errors_and_interrupts_into_exit_codes(capsys):
    from viewshift.cli import run
    from viewshift.errors import OutputError

    def refuse(args):
        raise OutputError("out.png exists")

    def stop(args):
        raise KeyboardInterrupt

    assert run(refuse, argparse.Namespace()) == 3
    assert capsys.readouterr().err == "viewshift: error: out.png exists\n"
    assert run(stop, argparse.Namespace(), interrupted="run it again to resume") == 130
    assert capsys.readouterr().err == "viewshift: interrupted; run it again to resume\n"


def test_every_flag_an_error_message_suggests_exists():
    """An error that says "pass --x" must name an option some command really has."""
    import ast
    import re
    from pathlib import Path

    import viewshift

    flags = {o for p in LEAVES.values() for a in p._actions for o in a.option_strings}
    missing = []
    for path in Path(viewshift.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", ast.unparse(node.exc)):
                    if flag not in flags:
                        missing.append(f"{path.name}:{node.lineno} {flag}")
    assert len(flags) > 50 and missing == []


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`viewshift models list | head -1`: the pipe closes early; the command must end quietly, not with a traceback."""
    code = (
        "import sys, viewshift.cli as c\n"
        "class Closed:\n"
        "    def write(self, s): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def flush(self): pass\n"
        "    def fileno(self): return sys.__stdout__.fileno()\n"
        "sys.stdout = Closed()\n"
        "raise SystemExit(c.main(['models', 'list']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_corrupt_video_gives_exactly_one_error_line(tmp_path):
    """FFmpeg's own complaint ("moov atom not found") must not print before our one-line error."""
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)  # an MP4 header with no movie box
    out = tmp_path / "depth.png"
    code = "from viewshift.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "depth", str(bad), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"},
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("viewshift: error: ") and "clip.mp4" in lines[0], done.stderr
    assert not out.exists()
