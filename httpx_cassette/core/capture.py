"""The recording stream: hands each upstream chunk to the caller as it arrives, and records it.

`Capture` is the pure part (decode, parse, build the stored `Response`); `TeeStream` only moves
bytes, sync or async, and reports the capture once: at the end, on an upstream failure, or when the
caller closes the response early (then the recording is marked ``truncated``).

An SSE stream is parsed once, at its end: while it streams, a chunk costs an append and a clock
reading, and the caller gets it at once. Parsing the whole text in one go is several times cheaper
than event by event (C-level splits and counts instead of a parser step per chunk), and each chunk's
arrival time still gives every event its recorded offset.
"""

from __future__ import annotations

import base64
import time
from bisect import bisect_left
from itertools import accumulate

from msgspec import UNSET

from httpx_cassette.core.decoding import IDENTITY, Decoder
from httpx_cassette.core.events import EventRecorder
from httpx_cassette.core.ndjson import NDJSON_TYPES, LineRecorder
from httpx_cassette.core.redact import response_headers
from httpx_cassette.core.sse import SSEParser
from httpx_cassette.core.strings import Strings, Walker
from httpx_cassette.model.body import media_type, store_body
from httpx_cassette.model.cassette import Response, TransportFailure

__all__ = ["Capture"]


class Capture:
    """Everything recorded about one response while its body streams through."""

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]],
        decoder: Decoder | None,
        started: float,
        *,
        events_as_json: bool = False,
    ) -> None:
        """``decoder`` undoes the body's content-encoding; None when it cannot (a coding unknown here).

        ``events_as_json``: nothing needs a stream's events as objects (no hook, no redaction rule), so
        its events may be held as their JSON text, walked for their strings as they are parsed; then
        ``walked`` holds those strings after `finish` (`httpx_cassette.core.strings.of_events`).
        """
        self.started = started
        self.walked: Strings | None = None
        self._as_json = events_as_json
        self.response = Response(status=status, headers=response_headers(headers))
        self.response.elapsed_ms = self._now_ms()
        content_type = self.response.headers.get("content-type", "")
        self._encoded = encoded = decoder is None
        if encoded:  # stored as it came (base64), with the header that says how to read it on replay
            coding = next(value for name, value in headers if name.lower() == "content-encoding")
            self.response.headers["content-encoding"] = coding
        self._decoder = IDENTITY if decoder is None else decoder
        mtype = "" if encoded else media_type(content_type)
        self._sse = SSEParser() if mtype == "text/event-stream" else None
        self._lines = LineRecorder() if mtype in NDJSON_TYPES else None
        self._events = EventRecorder()
        self._body: list[bytes] = []  # the body's (decoded) chunks; for a stream, parsed at the end
        self._arrived: list[float] = []  # for a stream: when each of its chunks arrived
        self.response.is_streaming = self._sse is not None or self._lines is not None
        if self._lines is not None:
            self.response.stream_format = "ndjson"

    def _now_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def feed(self, raw: bytes) -> None:
        self._take(self._decoder.decode(raw))

    def _take(self, data: bytes) -> None:
        if self._lines is not None:
            self._lines.feed(data, self._now_ms)
        elif self._sse is None:
            self._body.append(data)
        elif data:
            self._body.append(data)
            self._arrived.append(time.perf_counter())

    def _ms(self, at: float) -> float:
        return round((at - self.started) * 1000, 3)

    def _parse_stream(self, *, ended: bool) -> None:
        """The SSE events of every chunk that arrived; ``ended``: the stream is over (a last event with
        no blank line after it counts), rather than cut short."""
        chunks = self._body
        text = b"".join(chunks)
        values = _plain_events(text)
        if values is None or (ended and not text.endswith(b"\n\n")):
            self._parse_chunks(ended=ended)
            return
        # Each event's offset is the arrival of the chunk that completed it (its last byte): the first
        # chunk ending at or after the event's end. Usually each chunk is one event, and that is that.
        ends = [size + 8 * i for i, size in enumerate(accumulate(map(len, values)), 1)]  # b"data: ", b"\n\n"
        chunk_ends = list(accumulate(map(len, chunks)))
        arrived = [self._ms(at) for at in self._arrived]
        offsets = arrived if ends == chunk_ends else [arrived[bisect_left(chunk_ends, end)] for end in ends]
        walker = Walker() if self._as_json else None
        self._events.add_plain(values, offsets, walker)
        self.walked = walker.strings() if walker is not None else None

    def _parse_chunks(self, *, ended: bool) -> None:
        """The general parser, chunk by chunk as they arrived: comments, named events, ids, multi-line
        data, CR line endings, a last event with no blank line."""
        parser = self._sse
        assert parser is not None
        for chunk, at in zip(self._body, self._arrived, strict=True):
            events = parser.feed(chunk)
            if events:
                offset = self._ms(at)
                for event in events:
                    self._events.add(event, offset)
        if ended:
            for event in parser.flush():
                self._events.add(event, self._now_ms())

    def fail(self, exc: BaseException) -> None:
        self.response.error = TransportFailure(type=type(exc).__name__, message=str(exc))

    def finish(self, *, truncated: bool) -> Response:
        """The stored response; ``truncated`` when the caller stopped before the end."""
        response = self.response
        ended = not truncated and response.error is None
        if ended:
            self._take(self._decoder.flush())
            if self._lines is not None:
                self._lines.flush(self._now_ms)
        if self._sse is not None:
            self._parse_stream(ended=ended)
        # SDKs close a stream as soon as they read `data: [DONE]`: that is its end, not a truncation.
        response.truncated = truncated and not self._events.done
        if self._encoded:
            if self._body:
                response.base64 = base64.b64encode(b"".join(self._body)).decode("ascii")
        elif self._lines is not None:
            response.body = self._lines.events
            response.offsets_ms = self._lines.offsets_ms or UNSET
        elif self._sse is None:
            store_body(response, b"".join(self._body), response.headers.get("content-type", ""))
        else:
            response.body = self._events.events
            response.done = self._events.done
            response.offsets_ms = self._events.offsets_ms or UNSET
        return response


def _plain_events(text: bytes) -> list[bytes] | None:
    """The data of each whole event in ``text`` when every event is one ``data: `` line (what LLM APIs
    send), found by C-level splits and counts; None for anything else (then the general parser runs).
    What follows the last blank line, if anything, is not an event yet and is left out."""
    if b"\r" in text:
        return None
    blocks = text.split(b"\n\n")
    blocks.pop()  # after the last blank line: b"" or an unfinished event
    if not blocks:
        return []
    # With no line ending inside a block, every "\n\n" separates two blocks: so each block starts
    # with "data: " exactly when the text does and every separator is followed by it.
    whole = sum(map(len, blocks)) + 2 * len(blocks)
    if text.count(b"\n", 0, whole) != 2 * len(blocks) or not text.startswith(b"data: "):
        return None
    if text.count(b"\n\ndata: ", 0, whole) != len(blocks) - 1:
        return None
    return [block[6:] for block in blocks]
