"""Checking a cassette file: it parses, its bodies decode, and every stream replays as recorded.

A stream is checked the way replay serves it: its stored events are turned into the exact chunks
replay yields (`stream_chunks`), those are fed one by one to a fresh `SSEParser` (which mirrors the
SDK decoders), and what the parser reads back must be the stored events, field for field. An NDJSON
stream's chunks are recorded again (`LineRecorder`): that must give back the stored lines.
"""

from __future__ import annotations

import binascii
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.cli.common import plural
from httpx_cassette.cli.inspect import load
from httpx_cassette.core.events import stream_chunks
from httpx_cassette.core.key import key_of
from httpx_cassette.core.ndjson import LineRecorder, line_chunks
from httpx_cassette.core.sse import ServerSentEvent, SSEParser
from httpx_cassette.errors import CassetteFormatError, NotAnExchangeError, one_line
from httpx_cassette.model.body import body_bytes
from httpx_cassette.model.cassette import (
    CassetteFile,
    Event,
    Meta,
    Origin,
    Part,
    Request,
    Response,
    TransportFailure,
)
from httpx_cassette.storage.files import TEMPORARY_NAME, UnsafeFileError, open_inside
from httpx_cassette.storage.formats import held_format

__all__ = ["Problem", "interrupted_writes", "same_requests", "unknown_keys", "verify_file", "verify_response"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with one file, as a sentence."""

    file: Path
    message: str

    def __str__(self) -> str:
        return one_line(f"{self.file}: {self.message}")


def _expected(event: Event) -> ServerSentEvent:
    data = event.data if event.raw else msgspec.json.encode(event.data).decode("utf-8")
    if not isinstance(data, str):
        data = str(data)
    return ServerSentEvent(data, event.event or None, event.id, event.retry, not event.unterminated)


def _short(value: object) -> str:
    text = msgspec.json.encode(value).decode("utf-8")
    return text if len(text) <= 120 else f"{text[:80]}…{text[-39:]}"


def _mismatch(index: int, want: ServerSentEvent, have: ServerSentEvent) -> str | None:
    for name in ("data", "event", "id", "retry", "terminated"):
        expected, got = getattr(want, name), getattr(have, name)
        if expected != got:
            return f"event {index} reads back with {name} {_short(got)} instead of {_short(expected)}"
    return None


def _verify_stream(response: Response) -> str | None:
    events = response.events()  # an unterminated event before another was refused at load
    try:
        chunks = stream_chunks(events, response.done)
    except (ValueError, TypeError, AttributeError) as exc:
        return f"an event cannot be written as Server-Sent Events: {exc}"
    expected = [_expected(e) for e in events]
    if response.done:
        expected.append(ServerSentEvent("[DONE]"))
    parser = SSEParser()
    got = [sse for chunk in chunks for sse in parser.feed(chunk)]
    got.extend(parser.flush())
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        found = _mismatch(index, want, have)
        if found:
            return found
    if len(got) != len(expected):
        return f"the stream of {len(expected)} events reads back as {len(got)} events"
    return None


def _verify_lines(response: Response) -> str | None:
    events = response.events()  # an unterminated line before another was refused at load
    try:
        chunks = line_chunks(events)
    except (ValueError, TypeError) as exc:
        return f"a line cannot be written as NDJSON: {exc}"
    again = LineRecorder()
    for chunk in chunks:
        again.feed(chunk, float)
    again.flush(float)
    for index, (want, have) in enumerate(zip(events, again.events, strict=False)):
        if msgspec.structs.replace(want, type=None) != have:
            return f"line {index} reads back as {_short(msgspec.to_builtins(have))}"
    if len(again.events) != len(events):
        return f"the stream of {len(events)} lines reads back as {len(again.events)} lines"
    return None


def _verify_offsets(response: Response) -> str | None:
    """A stream's ``offsets_ms`` hold one time per event (and one for ``[DONE]``); replay paces the
    stream by them, so a list of another length (events removed or added by hand) paces it wrongly."""
    offsets = response.offsets_ms
    if not response.is_streaming or not isinstance(offsets, list):
        return None
    count = len(response.events())
    done = response.done and response.stream_format != "ndjson"
    if len(offsets) == count + done:
        return None
    events = plural(count, "line" if response.stream_format == "ndjson" else "event") + (
        " + [DONE]" if done else ""
    )
    return (
        f"offsets_ms holds {len(offsets)} times for a stream of {events}: replay paces the stream by them;"
        " record it again, or remove offsets_ms to replay it without its pacing"
    )


def verify_response(response: Response) -> str | None:
    """What is wrong with one stored response, or None."""
    found = _verify_offsets(response)
    if found:
        return found
    if response.is_streaming and response.stream_format == "ndjson":
        return _verify_lines(response)
    if response.is_streaming:
        return _verify_stream(response)
    try:
        body_bytes(response)
    except (binascii.Error, ValueError) as exc:
        return f"the body cannot be decoded: {exc}"
    return None


def _verify_body_file(file: Path, response: Response) -> str | None:
    name = getattr(response, "body_file", None)  # large binary bodies live in a side file
    if not isinstance(name, str):
        return None
    try:
        open_inside(file.parent, name)  # what replay reads, read the same way
    except FileNotFoundError:
        return f"its body file {name} is missing: restore it, or record the interaction again"
    except UnsafeFileError as exc:
        return f"body_file {exc.problem}"
    return None


def verify_file(file: Path) -> tuple[CassetteFile | None, list[Problem]]:
    """Parse ``file`` and check each of its responses; returns the parsed file (None if broken)."""
    try:
        cassette = load(file)
    except NotAnExchangeError:
        return None, []  # a llama-stack tool-call recording: nothing replays from it
    except CassetteFormatError as exc:
        return None, [Problem(file, exc.problem)]
    except OSError as exc:
        return None, [Problem(file, f"cannot be read: {exc.strerror or exc}")]
    problems: list[Problem] = []
    if not cassette.responses:
        problems.append(Problem(file, "holds no response: record it again or delete the file"))
    for i, response in enumerate(cassette.responses):
        found = verify_response(response) or _verify_body_file(file, response)
        if found:
            problems.append(Problem(file, f"responses[{i}]: {found}"))
    if held_format(file, cassette) == "ours":
        problems += [Problem(file, text) for text in unknown_keys(file)]
    return cassette, problems


_SHAPES: dict[str, type[msgspec.Struct]] = {
    "": CassetteFile,
    "request": Request,
    "part": Part,
    "response": Response,
    "error": TransportFailure,
    "origin": Origin,
    "event": Event,
    "meta": Meta,
}
_KNOWN = {shape: [f.encode_name for f in msgspec.structs.fields(struct)] for shape, struct in _SHAPES.items()}


def unknown_keys(file: Path) -> list[str]:
    """The keys of our file ``file`` that no field of the format has: replay ignores them (a file of a newer
    version may hold fields this one does not know), so a typo (``"bdy"``) goes unseen until here. One
    sentence per key and place (a key in many events is said once, with the count)."""
    try:
        data = msgspec.json.decode(open_inside(file.parent, file.name))
    except (OSError, CassetteFormatError, msgspec.DecodeError, RecursionError):  # `load` read it just now
        return []
    found: dict[tuple[str, str], list[str]] = {}
    for shape, where, value in _objects(data):
        for key in value:
            if isinstance(key, str) and key not in _KNOWN[shape]:
                found.setdefault((shape, key), []).append(where)
    sentences = []
    for (shape, key), places in found.items():
        close = difflib.get_close_matches(key, _KNOWN[shape], n=1)
        more = (
            f" (and in {len(places) - 1} more {shape}{'s' if len(places) > 2 else ''})" if places[1:] else ""
        )
        sentences.append(
            f"{places[0]}{more}: unknown key {key!r}{f' (did you mean {close[0]!r}?)' if close else ''}:"
            " replay ignores it; rename it to a field of the format (docs/concepts/format.md in the"
            " httpx_cassette docs), or remove it if a newer httpx_cassette wrote it"
        )
    return sentences


def _objects(data: Any) -> Iterator[tuple[str, str, dict[Any, Any]]]:
    """(shape, JSON path, object) of every object of a file in our format that a Struct reads."""
    if not isinstance(data, dict):
        return
    yield "", "$", data
    request = data.get("request")
    if isinstance(request, dict):
        yield "request", "$.request", request
        yield from _each("part", "$.request.multipart", request.get("multipart"))
    if isinstance(data.get("meta"), dict):
        yield "meta", "$.meta", data["meta"]
    responses = data.get("responses")
    for i, response in enumerate(responses if isinstance(responses, list) else []):
        if not isinstance(response, dict):
            continue
        where = f"$.responses[{i}]"
        yield "response", where, response
        for name in ("error", "origin"):
            if isinstance(response.get(name), dict):
                yield name, f"{where}.{name}", response[name]
        if response.get("is_streaming") is True:
            yield from _each("event", f"{where}.body", response.get("body"))


def _each(shape: str, where: str, items: Any) -> Iterator[tuple[str, str, dict[Any, Any]]]:
    for j, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield shape, f"{where}[{j}]", item


def interrupted_writes(path: Path) -> list[Problem]:
    """The temporary files of writes that never finished (``.<name>.<random>.tmp``): a process killed
    mid-write leaves one behind, and nothing else ever looks at it."""
    if not path.is_dir():
        return []
    return [
        Problem(
            file,
            "the temporary file of a write that did not finish (a process killed while recording);"
            f" {match.group(1)} was not touched by it: delete this file if no recording is running",
        )
        for file in sorted(path.rglob(".*.tmp"))
        if file.is_file() and (match := TEMPORARY_NAME.fullmatch(file.name))
    ]


def same_requests(loaded: Iterable[tuple[Path, CassetteFile]]) -> list[Problem]:
    """Among the files ``verify`` read, one of ours holding the same request (by the default key) as
    another of its folder, of ours or llama-stack's: replay refuses such a folder rather than pick one (a
    copy added in a pull request would win). llama-stack keeps one response per file, so several of its
    files for one request are no problem."""
    first: dict[tuple[Path, str], list[tuple[Path, bool, CassetteFile]]] = {}  # the files of a request
    problems: list[Problem] = []
    for file, cassette in loaded:
        ours = held_format(file, cassette) == "ours"
        seen = first.setdefault((file.parent, key_of(cassette.request)), [])
        for twin, twin_ours, other in seen:
            if (ours and twin_ours) or ((ours or twin_ours) and other.shares_a_test_with(cassette)):
                problems.append(
                    Problem(file, f"holds the same request as {twin}: replay refuses both, keep one")
                )
                break
        seen.append((file, ours, cassette))
    return problems
