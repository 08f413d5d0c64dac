"""Newline-delimited JSON streams (ollama's ``application/x-ndjson``, JSON Lines): lines in, lines out.

`LineParser` splits a body into lines however it is chunked; `LineRecorder` turns each line into a
stored `Event` with the offset it arrived at; `line_chunks` writes stored events back, one chunk per
line. The round trip is byte-exact for every line, however the upstream wrote it:

* a JSON line whose compact encoding is the line itself is stored as its object (``data``);
* so is one that differs only by Go's HTML escaping (``<`` written ``\\u003c``...: ollama is written in
  Go and its ``encoding/json`` escapes by default), marked ``html_escaped``;
* any other line (spaced JSON, CRLF endings, text, a blank line) is kept as its literal text (``raw``);
* a last line with no newline after it is marked ``unterminated``, and replayed without one.

Only LF ends a line (JSON Lines allows CRLF: the CR then stays in the raw text of the line). Invalid
UTF-8 becomes U+FFFD, as in SSE streams: the stored text must stay valid Unicode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from httpx_cassette.model.cassette import Event

__all__ = ["NDJSON_TYPES", "LineParser", "LineRecorder", "line_bytes", "line_chunks", "to_stored_line"]

# Media types stored as a stream of lines (``application/jsonl`` and the x- spellings all occur).
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)

# What Go's encoding/json escapes beyond what msgspec does (compact output otherwise matches).
_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def _html_escape(data: bytes) -> bytes:
    # These characters can only occur inside JSON strings, so replacing them in the text is exact.
    for char, escaped in _GO_ESCAPES:
        if char in data:
            data = data.replace(char, escaped)
    return data


class LineParser:
    """Incremental bytes -> complete lines (without their LF)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()  # the incomplete last line

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines this chunk completes, in order."""
        end = chunk.rfind(b"\n") + 1
        if not end:
            self._buffer += chunk
            return []
        if self._buffer:  # only then copy: a chunk usually holds whole lines (ollama sends one per chunk)
            self._buffer += memoryview(chunk)[:end]
            lines = bytes(self._buffer).split(b"\n")
            self._buffer.clear()
        else:
            lines = chunk[:end].split(b"\n") if end < len(chunk) else chunk.split(b"\n")
        lines.pop()  # the block ends with LF: the piece after it is always empty
        if end < len(chunk):
            self._buffer += memoryview(chunk)[end:]
        return lines

    def flush(self) -> bytes | None:
        """At end of stream: the last line if no LF followed it (None when there is none); resets."""
        last = bytes(self._buffer) if self._buffer else None
        self._buffer = bytearray()
        return last


def to_stored_line(line: bytes, *, terminated: bool = True) -> Event:
    """One line as stored: its object when it re-encodes to exactly these bytes, else its text."""
    unterminated = not terminated
    try:
        data: Any = msgspec.json.decode(line)
    # msgspec raises UnicodeDecodeError for bad UTF-8, RecursionError for JSON nested too deep to decode
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        pass
    else:
        compact = msgspec.json.encode(data)
        if compact == line:
            return Event(data=data, unterminated=unterminated)
        if _html_escape(compact) == line:
            return Event(data=data, html_escaped=True, unterminated=unterminated)
    return Event(data=line.decode("utf-8", "replace"), raw=True, unterminated=unterminated)


def line_bytes(event: Event) -> bytes:
    """The wire bytes of one stored line, its LF included unless it is ``unterminated``."""
    if event.raw:
        text = event.data if isinstance(event.data, str) else str(event.data)
        if "\n" in text:
            raise ValueError(f"an NDJSON line cannot contain a line feed: {text!r}")
        data = text.encode("utf-8")
    else:
        # Not `json_line`: a line recorded as JSON was written compact, so this is byte for byte what
        # the server sent (line breaks inside strings included), as ollama's own client read it live.
        data = msgspec.json.encode(event.data)
        data = _html_escape(data) if event.html_escaped else data
    return data if event.unterminated else data + b"\n"


def line_chunks(events: list[Event]) -> list[bytes]:
    """Every chunk a replayed NDJSON stream yields: one line each."""
    return [line_bytes(event) for event in events]


class LineRecorder:
    """Collects the lines of a stream as they arrive, each with the offset it arrived at."""

    def __init__(self) -> None:
        self._parser = LineParser()
        self.events: list[Event] = []
        self.offsets_ms: list[float] = []

    def feed(self, data: bytes, now: Callable[[], float]) -> None:
        """Take a chunk of the body; ``now`` gives the current offset, asked once per chunk with lines."""
        lines = self._parser.feed(data)
        if lines:
            at = now()
            self.events.extend(to_stored_line(line) for line in lines)
            self.offsets_ms.extend([at] * len(lines))

    def flush(self, now: Callable[[], float]) -> None:
        """At end of stream: keep a last line that had no LF."""
        last = self._parser.flush()
        if last is not None:
            self.events.append(to_stored_line(last, terminated=False))
            self.offsets_ms.append(now())
