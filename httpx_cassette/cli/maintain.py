"""The commands that change files: ``prune`` (delete what no test used) and ``convert``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from httpx_cassette.cli.common import UsageError, existing, plural
from httpx_cassette.cli.console import Console, one_line
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.storage.files import refuse_special_files

__all__ = ["FORMATS", "cmd_convert", "cmd_prune"]

FORMATS = ("ours", "llama-stack", "vcr")


# -- prune -------------------------------------------------------------------------------------


def cmd_prune(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.cli.prune import prune, read_report

    root = existing(Path(args.path))
    refuse_special_files(root)  # it deletes: never through a link, never what is no regular file
    pruned = prune(root, read_report(Path(args.used_by)), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for file in pruned.deleted:
        console.print(one_line(f"{verb} {file}"))
    if pruned.deleted:
        console.print(f"{verb} {plural(len(pruned.deleted), 'unused interaction')}")
    elif not pruned.kept:
        console.print("every interaction was used")
    if pruned.kept:
        console.print(
            f"kept {plural(len(pruned.kept), 'unused interaction')}: the report does not show the tests"
            " that own their folders running to a pass (no test of the run opened the folder, or its test"
            " did not run or failed)"
        )
    return 0


# -- convert -----------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
    """Every converted exchange is redacted and checked for secrets as a live recording is: a file that
    would still write one is refused, and nothing of it is written. A folder of vcrpy cassettes is converted
    file by file: every file that can be is, every one refused is named, and the status is then 1 (as for
    a broken file). llama-stack recordings (several files may hold one request) are converted all or none:
    every refused file is named."""
    source, destination = existing(Path(args.source)), Path(args.destination)
    allow: list[str | re.Pattern[str]] = [*args.allow, *(re.compile(p) for p in args.allow_pattern)]
    route = (args.from_ or ("ours" if args.to == "llama-stack" else None), args.to)
    refused: list[CassetteFormatError] = []
    if route[0] is None:
        raise UsageError(
            "say what to convert from: pass --from vcr (vcrpy and pytest-recording YAML cassettes) or"
            " --from llama-stack"
        )
    unchanged: list[Path] = []
    if route == ("vcr", "ours"):
        written, refused = _convert_vcr(source, destination, allow, force=args.force, unchanged=unchanged)
    elif route in (("llama-stack", "ours"), ("ours", "llama-stack")):
        written, refused = _convert_llama_stack(
            source, destination, args.to, allow, force=args.force, unchanged=unchanged
        )
    else:
        raise UsageError(
            f"cannot convert from {route[0]} to {args.to}: convert vcr -> ours, llama-stack -> ours,"
            " or ours -> llama-stack"
        )
    for problem in refused:
        console.error(f"httpx-cassette convert: {problem}")
    done = f"wrote {plural(len(written), 'file')} to {destination}"
    if unchanged:
        done += f" ({plural(len(unchanged), 'file')} already there, unchanged)"
    console.print(f"{done}; {plural(len(refused), 'source file')} refused (above)" if refused else done)
    return 1 if refused else 0


def _convert_vcr(
    source: Path, destination: Path, allow: list[str | re.Pattern[str]], *, force: bool, unchanged: list[Path]
) -> tuple[list[Path], list[CassetteFormatError]]:
    """One YAML file as `convert_vcr` converts it; a folder of them file by file, every cassette folder
    checked first (`cassette_folders`): the files written, and the source files refused (broken, holding
    what looks like a credential, or, unless ``force``, a request whose cassette file already holds a
    different recording), nothing of each written. Files already holding the same go to ``unchanged``."""
    from httpx_cassette.formats.vcr import cassette_folders, convert_vcr
    from httpx_cassette.http.library import library_by_name

    decoder = library_by_name("httpx").decoder
    if not source.is_dir() or source.is_symlink():  # one file: its refusal is the command's error
        return convert_vcr(source, destination, decoder, allow, force=force, unchanged=unchanged), []
    written: list[Path] = []
    refused: list[CassetteFormatError] = []
    for yaml_file, target in cassette_folders(source, destination):
        try:
            written += convert_vcr(yaml_file, target, decoder, allow, force=force, unchanged=unchanged)
        except CassetteFormatError as exc:
            refused.append(exc)
    return written, refused


def _convert_llama_stack(
    source: Path,
    destination: Path,
    to: str,
    allow: list[str | re.Pattern[str]],
    *,
    force: bool,
    unchanged: list[Path],
) -> tuple[list[Path], list[CassetteFormatError]]:
    """`convert_directory` (all or nothing: one request may be in several files); when it refuses a file
    and others would be refused too, nothing is written and every one of them is returned. Converting to
    ours, files already holding the same recording go to ``unchanged``."""
    from httpx_cassette.formats.guard import Guard, SecretRefused
    from httpx_cassette.formats.llamastack import convert_directory

    try:
        if to == "ours":
            return convert_directory(source, destination, "ours", allow, force=force, unchanged=unchanged), []
        return convert_directory(source, destination, "llama-stack", allow, force=force), []
    except SecretRefused as first:
        others = [r for r in Guard(destination, allow).refusals(source) if r.path != first.path]
        if not others:
            raise
        return [], [first, *others]
