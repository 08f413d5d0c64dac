"""The checking commands: ``verify``, ``scan`` and ``diff`` (exit status 1 when they find something)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from httpx_cassette.cli.common import UsageError, existing, plural
from httpx_cassette.cli.console import Console, one_line
from httpx_cassette.storage.files import files_at, refuse_special_files

__all__ = ["cmd_diff", "cmd_scan", "cmd_verify", "diff_lines"]


# -- verify ------------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.cli.verify import interrupted_writes, same_requests, verify_file

    root = existing(Path(args.path))
    files = files_at(root)
    problems = interrupted_writes(root)
    streams = 0
    loaded = []
    with console.progress(len(files), "verifying") as advance:
        for file in files:
            cassette, found = verify_file(file)
            problems.extend(found)
            if cassette is not None:
                loaded.append((file, cassette))
                streams += sum(r.is_streaming for r in cassette.responses)
            advance()
    problems += same_requests(loaded)  # of the files read above, not read again
    if not files:
        console.error(f"no cassette files under {root}")
        return 1
    for problem in problems:
        console.error(str(problem))
    broken = len({p.file for p in problems})
    summary = f"{plural(len(files), 'file')}, {plural(streams, 'stream')} checked: "
    detail = f"{plural(len(problems), 'problem')} in {plural(broken, 'file')}"
    console.print(summary + (detail if problems else "all good"))
    return 1 if problems else 0


# -- scan --------------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.storage.scan import scan_directory

    root = existing(Path(args.path))
    refuse_special_files(root)  # scan reads every file: no link, FIFO or device among them
    allow: list[str | re.Pattern[str]] = [*args.allow, *(re.compile(p) for p in args.allow_pattern)]
    findings = scan_directory(root, allow)
    unread = [f for f in findings if f.unchecked]  # no value found: nothing to keep out
    for finding in findings:
        console.error(
            f"{finding}  ({'what to do' if finding in unread else 'to keep it out'}: {finding.remedy()})"
        )
    said = (
        [f"{plural(len(findings) - len(unread), 'possible secret')} found"]
        if len(unread) < len(findings)
        else []
    )
    said += [f"{plural(len(unread), 'place')} not checked"] if unread else []
    console.print(", ".join(said) if findings else f"no secrets found under {root}")
    return 1 if findings else 0  # what was not read is not called clean


# -- diff --------------------------------------------------------------------------------------


def diff_lines(
    old: Path, new: Path, *, everything: bool = False, limit: int | None = 20
) -> tuple[list[str], bool]:
    """The ``diff`` report and whether the two sides are the same."""
    from httpx_cassette.cli.diff import diff_paths
    from httpx_cassette.model.jsondiff import around_difference, show_value

    result = diff_paths(old, new, everything=everything)
    lines: list[str] = []
    for file in result.removed:
        lines.append(one_line(f"removed {file}"))
    for file in result.added:
        lines.append(one_line(f"added   {file}"))
    for changed in result.changed:
        was = f" (was {changed.old.name})" if changed.old.name != changed.new.name else ""
        lines.append(one_line(f"changed {changed.new}{was}"))
        shown = changed.changes if limit is None else changed.changes[:limit]
        for change in shown:
            times = f"  (in {change.count} events)" if change.count > 1 else ""
            lines.append(
                one_line(f"  {change.path}: {show_value(change.old)} → {show_value(change.new)}{times}")
            )
        if len(shown) < len(changed.changes):
            lines.append(f"  … and {len(changed.changes) - len(shown)} more (--full shows every change)")
        for stream in changed.streams:
            before, after = around_difference(stream.old, stream.new)
            lines.append(f"  responses[{stream.response}] stream {stream.what}:")
            lines.append(f"    - {before}")
            lines.append(f"    + {after}")
    counts = f"{len(result.changed)} changed, {len(result.added)} added, {len(result.removed)} removed"
    lines.append(f"{counts}, {result.unchanged} unchanged")
    return lines, result.same


def cmd_diff(args: argparse.Namespace, console: Console) -> int:
    old, new = existing(Path(args.old)), existing(Path(args.new))
    if old.is_file() != new.is_file():
        raise UsageError("diff compares two files or two directories, not a file with a directory")
    lines, same = diff_lines(old, new, everything=args.all, limit=None if args.full else 20)
    for line in lines:
        console.print(line)
    return 0 if same else 1
