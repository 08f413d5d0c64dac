"""The recording stream: hands each upstream chunk to the caller as it arrives, and records it.

`Capture` is the pure part (decode, parse, build the stored `Response`); `TeeStream` only moves
bytes, sync or async, and reports the capture once: at the end, on an upstream failure, or when the
caller closes the response early (then the recording is marked ``truncated``).
"""

from __future__ import annotations

import base64
import time

from msgspec import UNSET

from httpx_cassette.core.decoding import IDENTITY, Decoder
from httpx_cassette.core.events import EventRecorder
from httpx_cassette.core.ndjson import NDJSON_TYPES, LineRecorder
from httpx_cassette.core.redact import response_headers
from httpx_cassette.core.sse import SSEParser
from httpx_cassette.model.body import media_type, store_body
from httpx_cassette.model.cassette import Response, TransportFailure

__all__ = ["Capture"]


class Capture:
    """Everything recorded about one response while its body streams through."""

    def __init__(
        self, status: int, headers: list[tuple[str, str]], decoder: Decoder | None, started: float
    ) -> None:
        """``decoder`` undoes the body's content-encoding; None when it cannot (a coding unknown here)."""
        self.started = started
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
        self._body: list[bytes] = []
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
            return
        if self._sse is None:
            self._body.append(data)
            return
        events = self._sse.feed(data)
        if events:
            now = self._now_ms()
            for event in events:
                self._events.add(event, now)

    def fail(self, exc: BaseException) -> None:
        self.response.error = TransportFailure(type=type(exc).__name__, message=str(exc))

    def finish(self, *, truncated: bool) -> Response:
        """The stored response; ``truncated`` when the caller stopped before the end."""
        response = self.response
        if not truncated and response.error is None:
            self._take(self._decoder.flush())
            if self._sse is not None:
                for event in self._sse.flush():
                    self._events.add(event, self._now_ms())
            if self._lines is not None:
                self._lines.flush(self._now_ms)
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
