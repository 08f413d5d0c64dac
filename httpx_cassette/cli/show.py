"""The reading commands: ``ls`` (one row per interaction) and ``show`` (one file, streams assembled)."""

from __future__ import annotations

import argparse
import base64
import codecs
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.cli.common import UsageError, as_json, existing, plural
from httpx_cassette.cli.console import Console, one_line
from httpx_cassette.cli.inspect import (
    Row,
    Timing,
    Transcript,
    load,
    row_of,
    sparkline,
    timing_of,
    transcript_of,
)
from httpx_cassette.config import parse_age
from httpx_cassette.core.age import age_of
from httpx_cassette.core.decoding import CodingError, TooLarge, coding_names, undo_codings
from httpx_cassette.core.embedded import declared_charset
from httpx_cassette.errors import CassetteError, NotAnExchangeError
from httpx_cassette.model.cassette import CassetteFile, Event, Request, Response
from httpx_cassette.model.jsondiff import as_text, show_value
from httpx_cassette.model.served import header_value
from httpx_cassette.storage.codec import MAX_CONTAINERS
from httpx_cassette.storage.files import files_at, open_inside

__all__ = [
    "SORT_KEYS",
    "cmd_ls",
    "cmd_show",
    "response_lines",
    "show_lines",
    "timing_lines",
    "transcript_lines",
]

SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "file": lambda r: r.file,
    "method": lambda r: (r.method, r.file),
    "path": lambda r: (r.path, r.file),
    "status": lambda r: (r.statuses, r.file),
    "events": lambda r: (sum(r.events), r.file),
    "size": lambda r: (r.size, r.file),
    "recorded": lambda r: (r.recorded_at, r.file),
}


# -- ls ----------------------------------------------------------------------------------------


def _events_cell(row: Row) -> str:
    return ",".join(str(n) for n in row.events) + " ev" if row.streaming else "-"


class Age(float):
    """An age in seconds that keeps the text it was given as (``90d``), for messages."""

    text: str


def age_arg(text: str) -> Age:
    """``--older-than``'s value (90d, 12h, 30m) in seconds, or an argparse error."""
    try:
        age = Age(parse_age(text))
    except CassetteError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    age.text = text
    return age


def _older(recorded_at: str, limit: float) -> bool:
    """Recorded longer than ``limit`` seconds ago; undated files are left out, as ``max_age`` does."""
    age = age_of(recorded_at)
    return age is not None and age > limit


def cmd_ls(args: argparse.Namespace, console: Console) -> int:
    root = existing(Path(args.path))
    rows: list[Row] = []
    broken = 0
    for file in files_at(root):
        try:
            rows.append(row_of(file, load(file), root))
        except NotAnExchangeError:
            continue  # a llama-stack tool-call recording: no HTTP exchange to list
        except CassetteError as exc:
            console.error(str(exc))
            broken += 1
    listed = rows
    if args.older_than is not None:
        rows = [r for r in rows if _older(r.recorded_at, args.older_than)]
    rows.sort(key=SORT_KEYS[args.sort], reverse=args.reverse)
    if args.json:
        console.print(as_json([r.as_json() for r in rows], indent=True))
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
    elif listed:  # the age filter left none
        console.error(_none_older(listed, args.older_than, root))
    elif not broken:
        console.error(f"no cassette files under {root}")
    return 1 if broken else 0


def _none_older(rows: list[Row], age: Age, root: Path) -> str:
    """What ``ls --older-than`` says when none of the ``rows`` under ``root`` is older than ``age``."""
    undated = sum(age_of(r.recorded_at) is None for r in rows)
    newer = len(rows) - undated
    counts = [f"{newer} newer"] if newer else []
    counts += [f"{undated} undated (left out)"] if undated else []
    there = f"{plural(len(rows), 'recording')} there, {', '.join(counts)}"
    return f"no recordings older than {age.text} under {root} ({there})"


# -- show --------------------------------------------------------------------------------------


def _readable(data: bytes, content_type: str) -> list[str] | None:
    """``data`` as a client reads it, as stored bodies are shown: JSON, else text in the content-type's
    charset (UTF-8 when it names none); None when it is neither (an image)."""
    if data.count(b"{") + data.count(b"[") <= MAX_CONTAINERS:  # as loading bounds a file's JSON
        try:
            return as_json(msgspec.json.decode(data), indent=True).splitlines()
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            pass
    try:
        text = data.decode(codecs.lookup(declared_charset(content_type) or "utf-8").name)
    except (LookupError, UnicodeDecodeError):
        return None
    if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x7f"):  # binary that happens to decode
        return None
    return text.splitlines() or [""]


def _served_lines(response: Response, data: bytes, stored: str) -> list[str]:
    """A body stored as bytes (``stored`` says where), shown as the client reads it: its content-encoding
    undone (bounded as loading bounds it) and read as JSON or text, with a line saying how it is stored."""
    coding = header_value(response.headers, "content-encoding") or ""
    ctype = header_value(response.headers, "content-type") or ""
    how, stored_size = f"{len(data):,} bytes {stored}", len(data)
    if coding_names(coding):
        how += f", in content-encoding {coding[:60]!r}"
        try:
            data = b"".join(undo_codings(data, coding))  # bounded as loading bounds it
        except TooLarge as exc:
            return [f"<{how}: {exc}, not shown>"]
        except CodingError as exc:
            return [f"<{how}, which does not decode: {str(exc)[:200]}>"]
    decoded = f", decoded to {len(data):,} bytes" if len(data) != stored_size or coding_names(coding) else ""
    shown = _readable(data, ctype)
    if shown is None:
        return [f"<{how}{decoded}: binary data>"]
    return [f"<{how}{decoded}; as a client reads it:>", *shown]


def _body_lines(source: Request | Response, folder: Path | None = None) -> list[str]:
    if source.body is not UNSET and not (isinstance(source, Response) and source.is_streaming):
        return as_json(source.body, indent=True).splitlines()
    if isinstance(source.text, str):
        return source.text.splitlines() or [""]
    if isinstance(source, Response) and isinstance(source.base64, str):  # what the client undoes
        return _served_lines(source, base64.b64decode(source.base64), "stored as base64")
    if isinstance(source.base64, str):
        return [f"<{len(source.base64) * 3 // 4} bytes of binary data, stored as base64>"]
    if isinstance(source, Response) and isinstance(source.body_file, str):
        stored = f"stored in the file {source.body_file} next to this one"
        try:
            data = open_inside(folder, source.body_file) if folder is not None else None
        except (OSError, CassetteError):
            data = None
        return [f"<binary body {stored}>"] if data is None else _served_lines(source, data, stored)
    if isinstance(source, Request) and source.multipart is not UNSET:
        return [
            one_line("multipart part " + " ".join(f"{k}={v}" for k, v in msgspec.to_builtins(part).items()))
            for part in source.multipart
        ]
    return []


def _headers(headers: dict[str, str]) -> list[str]:
    return [one_line(f"{name}: {value}") for name, value in headers.items()]


_WIDTH = 100
_SPACES = "\t\n\x0b\x0c\r "  # what textwrap breaks at
# A run of what textwrap does not break at, too long for one line. textwrap breaks such a word by slicing
# the rest of it again for every line it fills: quadratic (one streamed 32 MB word: about 6 minutes).
_LONG_RUN = re.compile(rf"[^{_SPACES}]{{{_WIDTH - 1},}}")


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    room = _WIDTH - len(indent)
    wrap = textwrap.TextWrapper(_WIDTH, initial_indent=indent, subsequent_indent=indent).wrap
    lines: list[str] = []
    for line in text.split("\n"):
        done, start = len(lines), 0
        for run in _LONG_RUN.finditer(line):  # a long run gets lines of its own, cut in linear time
            lines.extend(wrap(line[start : run.start()].lstrip(_SPACES) if start else line[: run.start()]))
            whole = run.end() - (run.end() - run.start()) % room  # its full lines; the rest goes on
            lines.extend(indent + line[i : i + room] for i in range(run.start(), whole, room))
            start = whole
        lines.extend(wrap(line[start:].lstrip(_SPACES) if start else line))
        if len(lines) == done:
            lines.append(indent)
    return lines


def transcript_lines(transcript: Transcript) -> list[str]:
    """The assembled stream as ``show`` prints it."""
    # Names, ids, indexes and the finish reason are whatever the file sent: a hostile one's numbers or
    # objects are shown as their JSON (`as_text`), never assumed to be strings or ints.
    lines: list[str] = []
    for index, text in transcript.texts.items():  # in choice order already, odd indexes last
        lines.append("text:" if len(transcript.texts) == 1 else f"text of choice {show_value(index)}:")
        lines.extend(_wrapped(text))
    if transcript.tool_calls:
        lines.append("tool calls:")
        for call in transcript.tool_calls:
            name = as_text(call.name) if call.name else "?"
            called = f"  {name}({call.arguments})" + (f"  id={as_text(call.id)}" if call.id else "")
            lines.append(one_line(called))  # arguments are text the model wrote: pretty JSON has lines
    if transcript.finish_reason:
        lines.append(f"finish reason: {as_text(transcript.finish_reason)}")
    if transcript.usage:
        lines.append(f"usage: {as_json(transcript.usage)}")
    for error in transcript.errors:
        lines.append(f"error in the stream: {as_json(error)}")
    return lines


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def timing_lines(timing: Timing, events: int, unit: str = "event") -> list[str]:
    """Time to headers, first and last event, and a sparkline of the gaps between events.

    ``unit`` names what a stream is made of: ``"event"``, or ``"line"`` for NDJSON."""
    if timing.empty:
        return ["timing: not recorded"]
    parts = []
    if timing.headers_ms is not None:
        parts.append(f"headers {_ms(timing.headers_ms)}")
    if timing.first_event_ms is not None:
        parts.append(f"first {unit} {_ms(timing.first_event_ms)}")
    if timing.total_ms is not None and timing.total_ms != timing.headers_ms:
        parts.append(f"last {unit} {_ms(timing.total_ms)}")
    lines = ["timing: " + ", ".join(parts)]
    if timing.gaps_ms and timing.median_gap_ms is not None:
        lines.append(
            f"gaps between {events} {unit}s: min {_ms(min(timing.gaps_ms))},"
            f" median {_ms(timing.median_gap_ms)}, max {_ms(max(timing.gaps_ms))}"
        )
        lines.append(f"  {sparkline(timing.gaps_ms)}")
        longest = ", ".join(f"{_ms(gap)} before {unit} {i}" for i, gap in timing.longest_gaps())
        lines.append(f"longest: {longest}")
    return lines


def _event_line(index: int, event: Event, offsets: list[float], ndjson: bool = False) -> str:
    at = f"+{offsets[index]:.1f} ms  " if index < len(offsets) else ""
    fields = [f"event: {event.event}"] if event.event else []
    fields.append(event.data if event.raw else as_json(event.data))
    fields += [f"id: {event.id}"] if event.id is not None else []
    fields += [f"retry: {event.retry}"] if event.retry is not None else []
    ending = "(no newline after it)" if ndjson else "(no blank line after it: SDKs drop it)"
    fields += [ending] if event.unterminated else []
    return one_line(f"  [{index}] {at}" + "  ".join(fields))


def _content_type(response: Response) -> str:
    ctype = header_value(response.headers, "content-type")
    return "no body" if ctype is None else ctype


def response_lines(
    response: Response, number: int, of: int, *, raw_events: bool, folder: Path | None = None
) -> list[str]:
    """One recorded response as ``show`` prints it; ``folder``: where its side file is."""
    events = response.events()
    kind = (
        f"stream of {len(events)} events" + (" + [DONE]" if response.done else "")
        if response.is_streaming
        else _content_type(response)
    )
    ndjson = response.is_streaming and response.stream_format == "ndjson"
    if ndjson:
        kind = f"NDJSON stream of {len(events)} lines"
    status = "no response (the request failed)" if response.status == 0 else str(response.status)
    lines = [f"── response {number} of {of}: {status}, {kind}", *_headers(response.headers)]
    if response.is_streaming:
        offsets = list(response.offsets_ms) if response.offsets_ms is not UNSET else []
        if raw_events:
            lines.append("lines:" if ndjson else "events:")
            lines.extend(_event_line(i, e, offsets, ndjson) for i, e in enumerate(events))
            if response.done:
                lines.append(
                    f"  [{len(events)}] "
                    + (f"+{offsets[len(events)]:.1f} ms  " if len(offsets) > len(events) else "")
                    + "[DONE]"
                )
        lines.append("")
        lines.extend(transcript_lines(transcript_of(events)))
        lines.extend(timing_lines(timing_of(response), len(events), "line" if ndjson else "event"))
    else:
        body = _body_lines(response, folder)
        lines.extend(["", *body] if body else [])
        timing = timing_of(response)
        if timing.headers_ms is not None:
            lines.append(f"timing: headers {_ms(timing.headers_ms)}")
    if response.truncated:
        lines.append("truncated: the caller stopped reading before the end of the body")
    if response.error is not None:
        lines.append(one_line(f"failed: {response.error.type}: {response.error.message}"))
    return lines


def show_lines(file: Path, cassette: CassetteFile, *, raw_events: bool) -> list[str]:
    """Everything ``show`` prints for one file."""
    meta = cassette.meta
    about = ", ".join(x for x in (meta.recorded_at, meta.library, meta.user_agent) if x)
    request = cassette.request
    heading = f"{file}" + (f"  ({about})" if about else "")
    lines = [one_line(heading), "", one_line(f"{request.method} {request.url}")]
    lines += _headers(request.headers)
    body = _body_lines(request)
    lines += ["", *body] if body else []
    for i, response in enumerate(cassette.responses, start=1):
        shown = response_lines(
            response, i, len(cassette.responses), raw_events=raw_events, folder=file.parent
        )
        lines += ["", *shown]
    return lines


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    file = existing(Path(args.file))
    if file.is_dir() and not file.is_symlink():  # a link is refused when read, as a file of the cassette
        raise UsageError(
            f"{file} is a directory: show takes one file (list them with: httpx-cassette ls {file})"
        )
    for line in show_lines(file, load(file), raw_events=args.events):
        console.print(line)
    return 0
