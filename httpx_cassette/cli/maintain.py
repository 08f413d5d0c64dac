"""The commands that change files: ``prune`` (delete what no test used) and ``convert``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from httpx_cassette.cli.common import UsageError, existing, plural
from httpx_cassette.cli.console import Console
from httpx_cassette.storage.files import refuse_special_files

__all__ = ["FORMATS", "cmd_convert", "cmd_prune"]

FORMATS = ("ours", "llama-stack", "vcr")


# -- prune -------------------------------------------------------------------------------------


def cmd_prune(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.cli.prune import prune, read_report

    root = existing(Path(args.path))
    refuse_special_files(root)  # it deletes: never through a link, never what is no regular file
    unused = prune(root, read_report(Path(args.used_by)), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for file in unused:
        console.print(f"{verb} {file}")
    console.print(
        f"{verb} {plural(len(unused), 'unused interaction')}" if unused else "every interaction was used"
    )
    return 0


# -- convert -----------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
    """Every converted exchange is redacted and checked for secrets as a live recording is: a file that
    would still write one is refused (exit status 1, as for a broken file), and nothing of it is written."""
    source, destination = existing(Path(args.source)), Path(args.destination)
    allow: list[str | re.Pattern[str]] = [*args.allow, *(re.compile(p) for p in args.allow_pattern)]
    route = (args.from_, args.to)
    if route == ("vcr", "ours"):
        from httpx_cassette.formats.vcr import convert_vcr
        from httpx_cassette.http.library import library_by_name

        written = convert_vcr(source, destination, library_by_name("httpx").decoder, allow)
    elif route in (("llama-stack", "ours"), ("ours", "llama-stack")):
        from httpx_cassette.formats.llamastack import convert_directory

        written = convert_directory(source, destination, to=args.to, allow=allow)
    else:
        raise UsageError(
            f"cannot convert from {args.from_} to {args.to}: convert vcr -> ours, llama-stack -> ours,"
            " or ours -> llama-stack"
        )
    console.print(f"wrote {plural(len(written), 'file')} to {destination}")
    return 0
