"""Reading and writing cassette files: pretty, diffable JSON in; validated Structs out."""

from __future__ import annotations

import base64
import contextlib
import os
import re
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core.decoding import coded_problem
from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.model.cassette import FORMAT_VERSION, CassetteFile, Event, Response
from httpx_cassette.model.served import check_served, header_value
from httpx_cassette.storage.files import is_side_file, name_problem, open_inside, side_name
from httpx_cassette.storage.formats import detect

__all__ = ["MAX_CONTAINERS", "check_file", "check_served", "decode_file", "encode_file", "loadable"]

_encoder = msgspec.json.Encoder()
# Built here, at import, on one thread: msgspec (0.22) builds a Struct type's decoding information on
# first use, and two threads doing that at once can crash the interpreter (a segfault in 20 of 30 runs
# of 16 threads decoding their first file). A built Decoder is thread-safe.
_file_decoder = msgspec.json.Decoder(CassetteFile)


# Where a stream's events go, as a JSON string; with a nonce of each encoding's own, so no string a
# body holds can be taken for one (a request body holding the marker would get the events).
_EVENTS_AT = b'"@@httpx-cassette-events-%s-%d@@"'
_EVENT_INDENT = b"\n        "  # the depth of a stream's events: file > responses > response > body
_EVENT_SEPARATOR = b"," + _EVENT_INDENT


def _with_markers(cassette: CassetteFile, nonce: bytes) -> tuple[CassetteFile, list[list[Event]]]:
    """A copy of ``cassette`` whose non-empty streams hold a marker instead of their events, and the
    events marker by marker. The caller's file is never changed, not even for a moment: another thread
    may be encoding or replaying it."""
    held: list[list[Event]] = []
    responses: list[Response] = []
    for response in cassette.responses:
        if response.is_streaming and isinstance(response.body, list) and response.body:
            marker = (_EVENTS_AT % (nonce, len(held))).decode()[1:-1]
            held.append(cast("list[Event]", response.body))
            response = msgspec.structs.replace(response, body=marker)
        responses.append(response)
    return (msgspec.structs.replace(cassette, responses=responses) if held else cassette), held


def encode_file(cassette: CassetteFile) -> bytes:
    """Pretty, stable JSON (struct field order, body key order as recorded), ending in a newline.

    Each stream event is written compact on a line of its own: a re-recorded stream then diffs
    event by event, and a file stays near the size of the raw stream instead of tripling it.
    """
    nonce = os.urandom(8).hex().encode()  # `secrets` costs the import a millisecond
    marked, held = _with_markers(cassette, nonce)
    text = msgspec.json.format(_encoder.encode(marked), indent=2)
    # The file is assembled by one join: a 2,000-event stream is 0.6 MB, and every bytes.replace or
    # concatenation of it would copy it again.
    parts: list[bytes] = []
    for i, events in enumerate(held):
        before, text = text.split(_EVENTS_AT % (nonce, i), 1)
        # One call for all events; compact JSON holds no raw newline, so each "\n" ends one event.
        parts += (before, b"[", _EVENT_INDENT)
        parts.append(_encoder.encode_lines(events)[:-1].replace(b"\n", _EVENT_SEPARATOR))
        parts.append(b"\n      ]")
    parts += (text, b"\n")
    return b"".join(parts)


def _normalize_events(cassette: CassetteFile) -> CassetteFile:
    # Validate event lists once at load so a broken event names its file, not a later replay.
    for i, response in enumerate(cassette.responses):
        if response.is_streaming and response.body is not UNSET:
            try:
                response.body = msgspec.convert(response.body, list[Event])
            except msgspec.ValidationError as exc:
                where, text = f"`$.responses[{i}].body", str(exc)  # msgspec's path starts at the list
                text = text.replace("`$", where, 1) if "`$" in text else f"{text} - at {where}`"
                raise msgspec.ValidationError(text) from None
            _check_events(response.body, i, last=len(response.body) - (0 if response.done else 1))
    return cassette


def _check_events(events: list[Event], i: int, last: int) -> None:
    """``last``: the index of the one event that may lack its end (none when ``[DONE]`` follows)."""
    for j, event in enumerate(events):
        # A raw event's data is replayed as the literal text of its `data:` lines: it must be text.
        if event.raw and not isinstance(event.data, str):
            kind = type(event.data).__name__
            raise msgspec.ValidationError(
                f"a raw event's data must be a string, got {kind} - at `$.responses[{i}].body[{j}].__data__`"
            )
        # Only a stream's last event can lack its end: before another, it would merge into that one.
        if event.unterminated and j != last:
            raise msgspec.ValidationError(
                "only a stream's last event can be unterminated (before another event or [DONE], the"
                f" client would read the two as one) - at `$.responses[{i}].body[{j}].unterminated`"
            )


def _check_url(cassette: CassetteFile, source: str) -> CassetteFile:
    """The stored URL must parse: every reader (the key, ``ls``, ``diff``) splits it."""
    try:
        urlsplit(cassette.request.url).port  # noqa: B018 - the port is checked only when read
    except ValueError as exc:
        url = cassette.request.url[:200]
        raise CassetteFormatError(source, f"its request URL {url!r} does not parse: {exc}") from None
    return cassette


def _check_body_files(cassette: CassetteFile, source: str) -> CassetteFile:
    """A large body is kept in a side file of its own cassette file (``<stem>.<n>.bin``), the only other
    files ``scan`` reads: a ``body_file`` naming any other file (``notes.txt``, ``.env``, another
    cassette's side file) would serve what no check of this file looks at."""
    file = Path(source)
    for i, response in enumerate(cassette.responses):
        name = response.body_file
        if isinstance(name, str) and (problem := name_problem(name)) is not None:
            where = f"{name[:80]!r} must be a plain file name in {file.parent} (it {problem})"
            raise CassetteFormatError(source, f"responses[{i}].body_file {where}: record it again")
        if isinstance(name, str) and not is_side_file(name, file):
            raise CassetteFormatError(
                source,
                f"responses[{i}].body_file {name[:80]!r} is not one of its side files ({file.stem}.<n>.bin):"
                f" a large body is kept next to its own file; rename that file {side_name(file, i)!r} (and"
                " body_file with it), or record the interaction again",
            )
    return cassette


def _check_coded(cassette: CassetteFile, source: str) -> CassetteFile:
    """A body stored coded (``base64`` or a side file, with its ``content-encoding``) is served as it is,
    for the client to undo, which it does unbounded: one that decodes past `MAX_DECODED` (a gzip of a
    gzip of zeros: 9 KB of file, 4 GiB in the client's memory) is refused. Each such body is decoded
    once per load, piece by piece, stopping at the bound (each layer's output counted, as `scan` counts it); a
    body stored decoded (all a recording holds, but for a coding the recording machine could not undo)
    costs a header lookup. A side file that cannot be read is left to replay and ``verify`` to name."""
    for i, response in enumerate(cassette.responses):
        coding = header_value(response.headers, "content-encoding")
        if not coding or response.is_streaming:
            continue
        data: bytes | None = None
        if isinstance(response.base64, str):
            data, field = base64.b64decode(response.base64), "base64"
        elif isinstance(response.body_file, str):
            field = f"body_file ({response.body_file})"
            with contextlib.suppress(OSError, CassetteFormatError):
                data = open_inside(Path(source).parent, response.body_file)
        if data and (problem := coded_problem(data, coding)) is not None:
            raise CassetteFormatError(source, f"responses[{i}].{field}: {problem}")
    return cassette


def check_file(cassette: CassetteFile, source: str) -> CassetteFile:
    """``cassette``, read or converted from ``source``, when replay may serve it: what it serves is what
    an HTTP server could have sent (`check_served`), its URL parses, its events are events, its large
    bodies are its own side files, and no body stored coded decodes past `MAX_DECODED`. Else
    `CassetteFormatError` naming ``source``. Every file read is held to it (`decode_file`), and every
    file converted before it is written."""
    try:
        checked = check_served(_normalize_events(cassette))
    except msgspec.ValidationError as exc:
        raise CassetteFormatError(source, str(exc)) from None
    return _check_coded(_check_body_files(_check_url(checked, source), source), source)


def _as_ours(cassette: CassetteFile, source: str) -> CassetteFile:
    """What our decoder read is a file of ours, whatever it says of itself. A response's ``origin``
    names the llama-stack file it was converted from (converting back keeps that name), never the file
    of ours holding it: an ``origin`` naming ``source`` itself would make this file pass for that
    recorder's (`held_format`) and escape the refusal of two files of ours for one request, so that name
    is dropped. Only an adapter that read a file in its own format (chosen by `detect`) names it."""
    name = Path(source).name
    for response in cassette.responses:
        if response.origin is not None and response.origin.file == name:
            response.origin = msgspec.structs.replace(response.origin, file="")
    return cassette


# JSON objects and arrays one file may hold: each costs Python 50 to 100 bytes from 2 bytes of JSON, so
# the file size cap alone would let 512 MiB of `[]` take tens of GB. A 2,000-event stream holds ~8,000.
MAX_CONTAINERS = 1_000_000


def _at_line(message: str, data: bytes) -> str:
    """msgspec's ``... (byte 1234)`` as ``... (line 40, column 7)``: files are pretty-printed, and read
    (and edited) by lines."""
    found = re.search(r"\(byte (\d+)\)$", message)
    if found is None:
        return message
    at = min(int(found.group(1)), len(data))
    start = data.rfind(b"\n", 0, at) + 1
    line, column = data.count(b"\n", 0, at) + 1, len(data[start:at].decode("utf-8", "replace")) + 1
    return f"{message[: found.start()]}(line {line}, column {column})"


def _check_version(version: object, source: str) -> None:
    """Refuse a file in a format version this release does not read, naming the file and what to do."""
    if type(version) is int and 1 <= version <= FORMAT_VERSION:
        return
    later = type(version) is int and version > FORMAT_VERSION
    fix = "upgrade httpx_cassette to read it" if later else "no httpx_cassette writes it"
    raise CassetteFormatError(
        source,
        f"it says cassette format version {version!r}, and this httpx_cassette reads versions 1 to"
        f" {FORMAT_VERSION}: {fix} (or record it again)",
    )


def loadable(data: bytes, file: Path) -> bytes:
    """``data``, an encoded file, when loading will read it back; else `CassetteError`, before it is
    written (a response of a million JSON objects and arrays, or of as many brackets in its text)."""
    if len(data) > MAX_CONTAINERS and data.count(b"{") + data.count(b"[") > MAX_CONTAINERS:
        raise CassetteError(
            f"not recorded in {file}: it would hold more than {MAX_CONTAINERS:,} JSON objects and arrays"
            " (brackets in its text count too), more than a cassette file is read with, so it could not"
            " be replayed. Nothing was written; leave the request out (a before_record_request hook"
            " returning None) or trim its response (before_record_response)."
        )
    return data


def decode_file(data: bytes, source: str) -> CassetteFile:
    """Parse a cassette file, ours (it has ``responses``) or another recorder's (a registered `Format`,
    detected per file); errors name ``source`` and the JSON path. A file that records no HTTP exchange
    (a llama-stack tool call) raises `NotAnExchangeError`. What a file says is served to HTTP clients,
    so it must be something an HTTP server could have sent (`check_served`)."""
    if data.count(b"{") + data.count(b"[") > MAX_CONTAINERS:  # an upper bound (brackets in strings count)
        raise CassetteFormatError(
            source, f"it holds more than {MAX_CONTAINERS:,} JSON objects and arrays, too many to read safely"
        )
    try:
        try:
            ours = _file_decoder.decode(data)
        except msgspec.ValidationError as exc:
            value = msgspec.json.decode(data)
            if isinstance(value, dict) and "responses" in value:  # ours, in a later format whose fields
                _check_version(value.get("version", 1), source)  # fail to read: its version says why
            adapter = detect(value) if isinstance(value, dict) and "responses" not in value else None
            if adapter is None:
                raise CassetteFormatError(source, str(exc)) from None
        else:
            _check_version(ours.version, source)  # a later format: fields read the old way may lie
            return check_file(_as_ours(ours, source), source)
        try:
            read = adapter.read(value, source)
        except (ValueError, TypeError) as exc:  # a value of a type or shape the format never writes
            raise CassetteFormatError(source, f"it cannot be read as {adapter.name}: {exc}") from None
        return check_file(read, source)
    except msgspec.DecodeError as exc:
        raise CassetteFormatError(source, _at_line(str(exc), data)) from None
    except RecursionError:
        raise CassetteFormatError(source, "its JSON is nested too deeply (~1000 levels) to read") from None
