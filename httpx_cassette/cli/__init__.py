"""The ``httpx-cassette`` command (also ``python -m httpx_cassette``): look inside cassettes, check,
compare, clean and convert them.

    httpx-cassette ls cassettes/ --sort size
    httpx-cassette show cassettes/chat/post-chat-completions-1f2e3d4c5b6a.json
    httpx-cassette verify cassettes/
    httpx-cassette diff old/ cassettes/chat/
    httpx-cassette prune cassettes/ --used-by .cassette-usage.json --dry-run
    httpx-cassette convert tests/cassettes/ cassettes/ --from vcr

Exit status: 0 when all is well, 1 when a check found something (``verify``, ``scan``, ``diff``),
2 for a usage error or a path that cannot be read. Plain argparse, no dependency; with rich
installed (``pip install 'httpx-cassette[cli]'``) tables and progress bars are drawn by it.
"""

from __future__ import annotations

import argparse
import importlib
import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette._version import __version__
from httpx_cassette.cli.console import Console
from httpx_cassette.cli.inspect import (
    Row,
    Timing,
    Transcript,
    cassette_files,
    load,
    row_of,
    sparkline,
    timing_of,
    transcript_of,
)
from httpx_cassette.errors import CassetteError, CassetteFormatError, NotAnExchangeError
from httpx_cassette.model.cassette import CassetteFile, Event, Request, Response
from httpx_cassette.storage.files import refuse_special_files

__all__ = ["main"]

SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "file": lambda r: r.file,
    "method": lambda r: (r.method, r.file),
    "path": lambda r: (r.path, r.file),
    "status": lambda r: (r.statuses, r.file),
    "events": lambda r: (sum(r.events), r.file),
    "size": lambda r: (r.size, r.file),
    "recorded": lambda r: (r.recorded_at, r.file),
}
FORMATS = ("ours", "llama-stack", "vcr")


class UsageError(CassetteError):
    """A command line that cannot be carried out as given (exit status 2)."""


def _existing(path: Path) -> Path:
    if not path.exists() and not path.is_symlink():  # a broken link is there: reading it says what is wrong
        raise UsageError(f"{path} does not exist")
    return path


def _json(value: Any, *, indent: bool = False) -> str:
    encoded = msgspec.json.encode(value)
    return (msgspec.json.format(encoded, indent=2) if indent else encoded).decode("utf-8")


# -- ls ----------------------------------------------------------------------------------------


def _events_cell(row: Row) -> str:
    return ",".join(str(n) for n in row.events) + " ev" if row.streaming else "-"


def cmd_ls(args: argparse.Namespace, console: Console) -> int:
    root = _existing(Path(args.path))
    rows: list[Row] = []
    broken = 0
    for file in cassette_files(root):
        try:
            rows.append(row_of(file, load(file), root))
        except NotAnExchangeError:
            continue  # a llama-stack tool-call recording: no HTTP exchange to list
        except CassetteError as exc:
            console.error(str(exc))
            broken += 1
    rows.sort(key=SORT_KEYS[args.sort], reverse=args.reverse)
    if args.json:
        console.print(_json([r.as_json() for r in rows], indent=True))
    elif rows:
        headers = ["FILE", "METHOD", "PATH", "STATUS", "STREAM", "SIZE", "RECORDED"]
        cells = [
            [
                r.file,
                r.method,
                r.path,
                ",".join(map(str, r.statuses)),
                _events_cell(r),
                str(r.size),
                r.recorded_at,
            ]
            for r in rows
        ]
        console.table(headers, cells, right=(4, 5))
    elif not broken:
        console.error(f"no cassette files under {root}")
    return 1 if broken else 0


# -- show --------------------------------------------------------------------------------------


def _body_lines(source: Request | Response) -> list[str]:
    if source.body is not UNSET and not (isinstance(source, Response) and source.is_streaming):
        return _json(source.body, indent=True).splitlines()
    if isinstance(source.text, str):
        return source.text.splitlines() or [""]
    if isinstance(source.base64, str):
        return [f"<{len(source.base64) * 3 // 4} bytes of binary data, stored as base64>"]
    if isinstance(source, Response) and isinstance(source.body_file, str):
        return [f"<binary body stored in the file {source.body_file} next to this one>"]
    if isinstance(source, Request) and source.multipart is not UNSET:
        return [
            "multipart part " + " ".join(f"{k}={v}" for k, v in msgspec.to_builtins(part).items())
            for part in source.multipart
        ]
    return []


def _headers(headers: dict[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(textwrap.wrap(line, 100, initial_indent=indent, subsequent_indent=indent) or [indent])
    return lines


def transcript_lines(transcript: Transcript) -> list[str]:
    """The assembled stream as ``show`` prints it."""
    lines: list[str] = []
    for index, text in sorted(transcript.texts.items()):
        lines.append("text:" if len(transcript.texts) == 1 else f"text of choice {index}:")
        lines.extend(_wrapped(text))
    if transcript.tool_calls:
        lines.append("tool calls:")
        for call in transcript.tool_calls:
            lines.append(f"  {call.name or '?'}({call.arguments})" + (f"  id={call.id}" if call.id else ""))
    if transcript.finish_reason:
        lines.append(f"finish reason: {transcript.finish_reason}")
    if transcript.usage:
        lines.append(f"usage: {_json(transcript.usage)}")
    for error in transcript.errors:
        lines.append(f"error in the stream: {_json(error)}")
    return lines


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def timing_lines(timing: Timing, events: int) -> list[str]:
    """Time to headers, first and last event, and a sparkline of the gaps between events."""
    if timing.empty:
        return ["timing: not recorded"]
    parts = []
    if timing.headers_ms is not None:
        parts.append(f"headers {_ms(timing.headers_ms)}")
    if timing.first_event_ms is not None:
        parts.append(f"first event {_ms(timing.first_event_ms)}")
    if timing.total_ms is not None and timing.total_ms != timing.headers_ms:
        parts.append(f"last event {_ms(timing.total_ms)}")
    lines = ["timing: " + ", ".join(parts)]
    if timing.gaps_ms and timing.median_gap_ms is not None:
        lines.append(
            f"gaps between {events} events: min {_ms(min(timing.gaps_ms))},"
            f" median {_ms(timing.median_gap_ms)}, max {_ms(max(timing.gaps_ms))}"
        )
        lines.append(f"  {sparkline(timing.gaps_ms)}")
        longest = ", ".join(f"{_ms(gap)} before event {i}" for i, gap in timing.longest_gaps())
        lines.append(f"longest: {longest}")
    return lines


def _event_line(index: int, event: Event, offsets: list[float]) -> str:
    at = f"+{offsets[index]:.1f} ms  " if index < len(offsets) else ""
    fields = [f"event: {event.event}"] if event.event else []
    fields.append(event.data if event.raw else _json(event.data))
    fields += [f"id: {event.id}"] if event.id is not None else []
    fields += [f"retry: {event.retry}"] if event.retry is not None else []
    fields += ["(no blank line after it: SDKs drop it)"] if event.unterminated else []
    return f"  [{index}] {at}" + "  ".join(fields)


def response_lines(response: Response, number: int, of: int, *, raw_events: bool) -> list[str]:
    """One recorded response as ``show`` prints it."""
    events = response.events()
    kind = (
        f"stream of {len(events)} events" + (" + [DONE]" if response.done else "")
        if response.is_streaming
        else response.headers.get("content-type", "no body")
    )
    status = "no response (the request failed)" if response.status == 0 else str(response.status)
    lines = [f"── response {number} of {of}: {status}, {kind}", *_headers(response.headers)]
    if response.is_streaming:
        offsets = list(response.offsets_ms) if response.offsets_ms is not UNSET else []
        if raw_events:
            lines.append("events:")
            lines.extend(_event_line(i, e, offsets) for i, e in enumerate(events))
            if response.done:
                lines.append(
                    f"  [{len(events)}] "
                    + (f"+{offsets[len(events)]:.1f} ms  " if len(offsets) > len(events) else "")
                    + "[DONE]"
                )
        lines.append("")
        lines.extend(transcript_lines(transcript_of(events)))
        lines.extend(timing_lines(timing_of(response), len(events)))
    else:
        body = _body_lines(response)
        lines.extend(["", *body] if body else [])
        timing = timing_of(response)
        if timing.headers_ms is not None:
            lines.append(f"timing: headers {_ms(timing.headers_ms)}")
    if response.truncated:
        lines.append("truncated: the caller stopped reading before the end of the body")
    if response.error is not None:
        lines.append(f"failed: {response.error.type}: {response.error.message}")
    return lines


def show_lines(file: Path, cassette: CassetteFile, *, raw_events: bool) -> list[str]:
    """Everything ``show`` prints for one file."""
    meta = cassette.meta
    about = ", ".join(x for x in (meta.recorded_at, meta.library, meta.user_agent) if x)
    request = cassette.request
    lines = [f"{file}" + (f"  ({about})" if about else ""), "", f"{request.method} {request.url}"]
    lines += _headers(request.headers)
    body = _body_lines(request)
    lines += ["", *body] if body else []
    for i, response in enumerate(cassette.responses, start=1):
        lines += ["", *response_lines(response, i, len(cassette.responses), raw_events=raw_events)]
    return lines


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    file = _existing(Path(args.file))
    if file.is_dir() and not file.is_symlink():  # a link is refused when read, as a file of the cassette
        raise UsageError(
            f"{file} is a directory: show takes one file (list them with: httpx-cassette ls {file})"
        )
    for line in show_lines(file, load(file), raw_events=args.events):
        console.print(line)
    return 0


def _n(count: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- verify ------------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.cli.verify import interrupted_writes, verify_file

    root = _existing(Path(args.path))
    files = cassette_files(root)
    problems = interrupted_writes(root)
    streams = 0
    with console.progress(len(files), "verifying") as advance:
        for file in files:
            cassette, found = verify_file(file)
            problems.extend(found)
            streams += sum(r.is_streaming for r in cassette.responses) if cassette else 0
            advance()
    if not files:
        console.error(f"no cassette files under {root}")
        return 1
    for problem in problems:
        console.error(str(problem))
    broken = len({p.file for p in problems})
    summary = f"{_n(len(files), 'file')}, {_n(streams, 'stream')} checked: "
    detail = f"{_n(len(problems), 'problem')} in {_n(broken, 'file')}"
    console.print(summary + (detail if problems else "all good"))
    return 1 if problems else 0


# -- scan --------------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.storage.scan import scan_directory

    root = _existing(Path(args.path))
    refuse_special_files(root)  # scan reads every file: no link, FIFO or device among them
    allow: list[str | re.Pattern[str]] = [*args.allow, *(re.compile(p) for p in args.allow_pattern)]
    findings = scan_directory(root, allow)
    for finding in findings:
        console.error(f"{finding}  (to keep it out: {finding.remedy()})")
    console.print(
        f"{_n(len(findings), 'possible secret')} found" if findings else f"no secrets found under {root}"
    )
    return 1 if findings else 0


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
        lines.append(f"removed {file}")
    for file in result.added:
        lines.append(f"added   {file}")
    for changed in result.changed:
        lines.append(
            f"changed {changed.new}"
            + (f" (was {changed.old.name})" if changed.old.name != changed.new.name else "")
        )
        shown = changed.changes if limit is None else changed.changes[:limit]
        for change in shown:
            times = f"  (in {change.count} events)" if change.count > 1 else ""
            lines.append(f"  {change.path}: {show_value(change.old)} → {show_value(change.new)}{times}")
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
    old, new = _existing(Path(args.old)), _existing(Path(args.new))
    if old.is_file() != new.is_file():
        raise UsageError("diff compares two files or two directories, not a file with a directory")
    lines, same = diff_lines(old, new, everything=args.all, limit=None if args.full else 20)
    for line in lines:
        console.print(line)
    return 0 if same else 1


# -- prune -------------------------------------------------------------------------------------


def cmd_prune(args: argparse.Namespace, console: Console) -> int:
    from httpx_cassette.cli.prune import prune, read_report

    root = _existing(Path(args.path))
    unused = prune(root, read_report(Path(args.used_by)), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for file in unused:
        console.print(f"{verb} {file}")
    console.print(
        f"{verb} {_n(len(unused), 'unused interaction')}" if unused else "every interaction was used"
    )
    return 0


# -- convert -----------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
    source, destination = _existing(Path(args.source)), Path(args.destination)
    route = (args.from_, args.to)
    if route == ("vcr", "ours"):
        from httpx_cassette.formats.vcr import convert_vcr
        from httpx_cassette.http.library import library_by_name

        written = convert_vcr(source, destination, library_by_name("httpx").decoder)
    elif route in (("llama-stack", "ours"), ("ours", "llama-stack")):
        # Imported by name: the llama-stack converter is optional here (another module of the package).
        convert_directory: Callable[..., list[Path]] = importlib.import_module(
            "httpx_cassette.formats.llamastack"
        ).convert_directory
        written = convert_directory(source, destination, to=args.to)
    else:
        raise UsageError(
            f"cannot convert from {args.from_} to {args.to}: convert vcr -> ours, llama-stack -> ours,"
            " or ours -> llama-stack"
        )
    console.print(f"wrote {_n(len(written), 'file')} to {destination}")
    return 0


# -- the parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="httpx-cassette",
        description="Look inside, check, compare, clean and convert httpx_cassette cassettes.",
    )
    parser.add_argument("--version", action="version", version=f"httpx-cassette {__version__}")
    parser.add_argument("--plain", action="store_true", help="plain text output even when rich is installed")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ls = commands.add_parser("ls", help="one row per interaction: file, method, path, status, events, size")
    ls.add_argument("path", help="a cassette directory (searched recursively) or file")
    ls.add_argument(
        "--sort", choices=list(SORT_KEYS), default="file", help="the column to sort by (default: file)"
    )
    ls.add_argument("--reverse", action="store_true", help="sort in descending order")
    ls.add_argument("--json", action="store_true", help="print the rows as a JSON list, for scripts")
    ls.set_defaults(run=cmd_ls)

    show = commands.add_parser("show", help="a request and its responses; streams as transcript and timing")
    show.add_argument("file", help="one cassette file")
    show.add_argument("--events", action="store_true", help="also list every stored event")
    show.set_defaults(run=cmd_show)

    verify = commands.add_parser(
        "verify", help="check that every file parses and every stream replays exactly"
    )
    verify.add_argument("path", help="a cassette directory (searched recursively) or file")
    verify.set_defaults(run=cmd_verify)

    scan = commands.add_parser("scan", help="look for credentials in recorded cassettes")
    scan.add_argument("path", help="a cassette directory (searched recursively) or file")
    scan.add_argument(
        "--allow", action="append", default=[], metavar="VALUE", help="a value that is no secret"
    )
    scan.add_argument(
        "--allow-pattern",
        action="append",
        default=[],
        metavar="REGEX",
        help="values matching it are no secret",
    )
    scan.set_defaults(run=cmd_scan)

    diff = commands.add_parser("diff", help="what changed between two cassettes (review a re-recording)")
    diff.add_argument("old", help="the old cassette directory or file")
    diff.add_argument("new", help="the new cassette directory or file")
    diff.add_argument("--all", action="store_true", help="also compare timing and meta (recorded_at...)")
    diff.add_argument("--full", action="store_true", help="list every change (default: 20 per file)")
    diff.set_defaults(run=cmd_diff)

    prune = commands.add_parser("prune", help="delete the interactions no test used")
    prune.add_argument("path", help="the cassette directory to prune")
    prune.add_argument(
        "--used-by", required=True, metavar="REPORT", help="the usage report the pytest plugin wrote"
    )
    prune.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    prune.set_defaults(run=cmd_prune)

    convert = commands.add_parser(
        "convert", help="convert vcrpy or llama-stack recordings to cassettes (and back)"
    )
    convert.add_argument("source", help="the directory (or vcrpy YAML file) to convert")
    convert.add_argument("destination", help="the directory to write")
    convert.add_argument("--from", dest="from_", choices=FORMATS, default="ours", help="the source format")
    convert.add_argument("--to", choices=("ours", "llama-stack"), default="ours", help="the format to write")
    convert.set_defaults(run=cmd_convert)
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process arguments); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = console or Console(fancy=False if args.plain else None)
    try:
        status: int = args.run(args, console)
    except CassetteFormatError as exc:  # a broken file, like the problems verify reports: status 1
        console.error(f"httpx-cassette {args.command}: {exc}")
        return 1
    except CassetteError as exc:
        console.error(f"httpx-cassette {args.command}: {exc}")
        return 2
    except BrokenPipeError:  # `httpx-cassette ls big/ | head`
        return 0
    return status
