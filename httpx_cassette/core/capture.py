"""The recording stream: hands each upstream chunk to the caller as it arrives, and records it.

`Capture` is the pure part (decode, parse, build the stored `Response`); `TeeStream` only moves
bytes, sync or async, and reports the capture once: at the end, on an upstream failure, or when the
caller closes the response early (then the recording is marked ``truncated``).

An SSE stream is parsed in batches: a chunk costs an append and a clock reading, and the caller
gets it at once. Between chunks (the caller has the last one, the next is not read yet), `digest`
parses what has arrived once it is whole events and `DIGEST_BYTES` of them, or `PACED_BYTES` when
the stream is paced (its last chunk came `PACED_S` or more after the one before) and for its first
batch. Parsing many events in one go is several times cheaper than event by event (C-level splits and
counts instead of a parser step per chunk; chat chunks that differ only in their text, one split for
the lot), so an unpaced stream, where the client is the busy side, is parsed in large batches; a paced
one is parsed while it waits for the model anyway. Either way the end of a long stream waits
for little more than the file write. Each chunk's arrival time still gives every event its offset.
"""

from __future__ import annotations

import base64
import time
from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate, repeat

from msgspec import UNSET

from httpx_cassette.core.decoding import IDENTITY, Decoder
from httpx_cassette.core.events import EventRecorder
from httpx_cassette.core.ndjson import NDJSON_TYPES, LineRecorder
from httpx_cassette.core.redact import response_headers
from httpx_cassette.core.sse import SSEParser
from httpx_cassette.core.strings import Strings, Walker
from httpx_cassette.model.body import media_type, store_body
from httpx_cassette.model.cassette import Response
from httpx_cassette.model.served import ascii_transparent, recorded_failure

__all__ = ["DIGEST_BYTES", "PACED_BYTES", "PACED_S", "Capture"]

# A batch big enough that the per-batch work (a join, a split, a walker flush) is noise, small enough
# that little is left to parse when the stream ends. Measured in benchmarks/recording.py.
DIGEST_BYTES = 64 * 1024
# A chunk that came this long after the one before says the stream is paced (a model writing): the
# caller and the recorder wait for the next chunk anyway, so a small batch is parsed at once (small
# enough to leave nearly nothing for the end, big enough that a batch's fixed costs stay small).
PACED_S = 0.0005
PACED_BYTES = 4 * 1024


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
        self._walker = Walker() if events_as_json else None
        self._general = False  # an event was not one plain `data:` line: the general parser has it
        self.response = Response(status=status, headers=response_headers(headers))
        self.response.elapsed_ms = self._now_ms()
        content_type = self.response.headers.get("content-type", "")
        encoded = decoder is None
        if encoded:  # stored as it came (base64), with the header that says how to read it on replay
            coding = next(value for name, value in headers if name.lower() == "content-encoding")
            self.response.headers["content-encoding"] = coding
        self._decoder = IDENTITY if decoder is None else decoder
        # Kept as bytes too: a body whose charset would read the UTF-8 of a stored JSON value or stream
        # differently (UTF-7, UTF-16): replay serves the bytes that came, not a JSON value re-encoded.
        self._as_bytes = encoded or not ascii_transparent(content_type)
        mtype = "" if self._as_bytes else media_type(content_type)
        self._sse = SSEParser() if mtype == "text/event-stream" else None
        self._lines = LineRecorder() if mtype in NDJSON_TYPES else None
        self._events = EventRecorder()
        self._body: list[bytes] = []  # the body's (decoded) chunks; for a stream, those not parsed yet
        self._arrived: list[float] = []  # for a stream: when each of them arrived
        self._waiting = 0  # for a stream: the size of those chunks
        self._last = started  # when the last chunk arrived
        self._paced = False  # it came `PACED_S` or more after the one before
        self.response.is_streaming = self._sse is not None or self._lines is not None
        if self._lines is not None:
            self.response.stream_format = "ndjson"
        self._plain = self._sse is not None and self._decoder is IDENTITY  # `feed`'s short way

    def _now_ms(self) -> float:
        return self._ms(time.perf_counter())

    def feed(self, raw: bytes) -> None:
        """One chunk as it came (`_take` once its content-encoding is undone)."""
        if self._plain:
            self._take_sse(raw)
        else:
            self._take(self._decoder.decode(raw))

    def feeder(self) -> Callable[[bytes], None]:
        """`feed`, or what it comes down to for this response: a loop over a stream's thousands of
        chunks binds it once."""
        return self._take_sse if self._plain else self.feed

    def _take(self, data: bytes) -> None:
        if self._lines is not None:
            self._lines.feed(data, self._now_ms)
        elif self._sse is None:
            self._body.append(data)
        else:
            self._take_sse(data)

    def _take_sse(self, data: bytes) -> None:
        # Every chunk of an SSE stream comes here: an append and a clock reading, nothing more.
        if data:
            now = time.perf_counter()
            self._body.append(data)
            self._arrived.append(now)
            self._waiting += len(data)
            self._paced = now - self._last >= PACED_S
            self._last = now

    def digest(self) -> None:
        """Parse the stream's waiting chunks when they are whole events and a batch (a small one when the
        stream is paced); called between chunks, while the next one is on its way."""
        waiting = self._waiting
        # The first batch is a small one: it makes the template that later ones are split by
        small = self._paced or not self._events.events
        batch = waiting >= DIGEST_BYTES or (small and waiting >= PACED_BYTES)
        if batch and self._body[-1].endswith(b"\n\n"):
            self._parse_stream(ended=False)

    def _ms(self, at: float) -> float:
        # To the microsecond; round() to an int and a division: a fifth of what round(x, 3) costs.
        return round((at - self.started) * 1e6) / 1000

    def _parse_stream(self, *, ended: bool) -> None:
        """The SSE events of the chunks waiting, which start at an event; ``ended``: the stream is over
        (a last event with no blank line after it counts), rather than cut short."""
        chunks = self._body
        text = b"".join(chunks)
        if not text and not self._general:
            return
        # Chat chunks that differ only in their text: one split (`EventRecorder.run_in`), then the rest
        run = None if self._general or self._walker is None else self._events.run_in(text)
        values = None if self._general else _plain_events(text if run is None else text[run[2] :])
        if run is not None and values is not None:
            values[:0] = run[0]
        if values is None or (ended and not text.endswith(b"\n\n")):
            self._general = True  # from here on: the parser keeps its state from batch to batch
            self._parse_chunks(ended=ended)
            self._body, self._arrived, self._waiting = [], [], 0
            return
        # Each event's offset is the arrival of the chunk that completed it (its last byte): the first
        # chunk ending at or after the event's end. Usually each chunk is one event, and that is that:
        # as many chunks as events, each ending in a blank line (the events hold no other line ending).
        started = self.started
        arrived = [round((at - started) * 1e6) / 1000 for at in self._arrived]  # `_ms`, inline
        offsets = arrived
        if len(chunks) != len(values) or not all(map(bytes.endswith, chunks, repeat(b"\n\n"))):
            ends = accumulate(len(value) + 8 for value in values)  # b"data: ", b"\n\n"
            chunk_ends = list(accumulate(map(len, chunks)))
            offsets = [arrived[bisect_left(chunk_ends, end)] for end in ends]
        taken = 0
        if run is not None and self._walker is not None:
            taken = len(run[0])
            self._events.add_run(run[0], run[1], offsets[:taken], self._walker)
        if taken < len(values):
            self._events.add_plain(values[taken:], offsets[taken:], self._walker)
        self._body, self._arrived, self._waiting = [], [], 0

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
        self.response.error = recorded_failure(exc)

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
            walker = self._walker
            if walker is not None and not self._general:  # else: events the walker never saw
                self._events.seal(walker)
                self.walked = walker.strings()
        # SDKs close a stream as soon as they read `data: [DONE]`: that is its end, not a truncation.
        response.truncated = truncated and not self._events.done
        if self._as_bytes:
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
    end = text.rfind(b"\n\n")  # the last blank line: what follows is not an event yet
    if end < 0:
        return []
    if not text.startswith(b"data: "):
        return None
    # One split on the separator with the next event's field: ``data: `` taken off with it. If the
    # events hold no other line ending, each value holds none, so every event was one ``data:`` line.
    values = text[6:end].split(b"\n\ndata: ")
    if text.count(b"\n", 0, end) != 2 * len(values) - 2:
        return None
    return values
