"""``viewshift models list | get NAME | path NAME``: the named depth models of :mod:`viewshift.depth.registry`.

Only the standard library and :mod:`viewshift.cli_args` are imported at module level; the registry and the
downloader are imported inside the handlers.
"""

from __future__ import annotations

import argparse

from viewshift.cli_args import add_quiet, wrote

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``viewshift models`` with its sub-commands ``list``, ``get`` and ``path``."""
    p = subparsers.add_parser(
        "models",
        help="list, fetch and locate named depth models (Depth Anything V2, MiDaS)",
        description="Named depth models for --depth-model NAME. Nothing is downloaded unless you ask "
        "(`viewshift models get NAME`, or --download beside --depth-model). Files live in the user cache folder "
        "(override with VIEWSHIFT_CACHE); see docs/models.md.",
    )
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)

    q = sub.add_parser("list", help="show every known model: kind, size, licence, installed or not")
    q.set_defaults(func=_list)

    q = sub.add_parser(
        "get",
        help="download a model into the cache folder (resumable, SHA-256 verified)",
        description="Download NAME's file into the cache folder: streamed with a progress bar, resumed after an "
        "interruption, checked against its SHA-256, then moved into place.",
    )
    q.add_argument("name", metavar="NAME", help="the model's name (`viewshift models list`)")
    q.add_argument(
        "--sha256",
        metavar="HEX",
        help="the SHA-256 the file must have, for a model without a published one (read it on its download page)",
    )
    q.add_argument(
        "--unverified",
        action="store_true",
        help="accept a model without a published SHA-256 unverified (what arrived is recorded, later changes caught)",
    )
    q.add_argument("--overwrite", action="store_true", help="download again even if the file is installed")
    q.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for the server")
    add_quiet(q)
    q.set_defaults(func=_get)

    q = sub.add_parser("path", help="print where NAME's file is (or would be, once downloaded)")
    q.add_argument("name", metavar="NAME", help="the model's name (`viewshift models list`)")
    q.set_defaults(func=_path)


def _size_text(entry) -> str:
    if entry.size is not None:
        return f"{entry.size / 1e6:.1f} MB"
    if entry.approx_mb is not None:
        return f"~{entry.approx_mb:g} MB"
    return "-"


def _status(entry) -> str:
    from viewshift.depth.registry import expected_sha256, is_installed

    if not entry.runnable:
        return "not runnable by viewshift yet"
    if is_installed(entry):
        return "installed" if expected_sha256(entry) else "installed (unverified)"
    return "not installed"


def _list(args: argparse.Namespace) -> int:
    from viewshift.depth.registry import REGISTRY, models_dir

    rows = [("NAME", "OUTPUT", "SIZE", "LICENCE", "SHA-256", "STATUS")]
    for e in REGISTRY:
        licence = e.licence + (" (NON-COMMERCIAL)" if e.non_commercial else "")
        sha = "-" if not e.runnable else ("published" if e.sha256 else "none published")
        rows.append((e.name, e.output, _size_text(e), licence, sha, _status(e)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nmodel folder: {models_dir()}  (OUTPUT inverse = relative inverse depth; docs/models.md)")
    return 0


def _get(args: argparse.Namespace) -> int:
    from viewshift.depth.download import download_model
    from viewshift.depth.registry import find_entry, is_installed, model_path, verify_file

    entry = find_entry(args.name)
    path = model_path(entry)
    if is_installed(entry) and not args.overwrite:
        verify_file(entry)
        wrote(args, f"nothing: {entry.name} is already installed at {path} (use --overwrite to fetch it again)")
        return 0
    result = download_model(
        entry, sha256=args.sha256, quiet=args.quiet, allow_unverified=args.unverified, timeout=args.timeout
    )
    size = result.path.stat().st_size / 1e6
    how = "SHA-256 verified" if result.verified else f"NOT verified, SHA-256 {result.sha256}"
    resumed = f", resumed at {result.resumed_from / 1e6:.1f} MB" if result.resumed_from else ""
    wrote(args, f"{result.path} ({size:.1f} MB, {how}{resumed})")
    return 0


def _path(args: argparse.Namespace) -> int:
    import sys

    from viewshift.depth.registry import find_entry, is_installed, model_path

    entry = find_entry(args.name)
    print(model_path(entry))
    if not is_installed(entry):
        print(f"viewshift: note: {entry.name} is not installed there yet (`viewshift models get {entry.name}`)",
              file=sys.stderr)  # fmt: skip
    return 0
