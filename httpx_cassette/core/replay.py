"""A stored `Response` -> what replay serves: status, headers, body chunks, pacing, a failure.

`prepare` does all the work once per stored response (events are encoded to SSE bytes once and
reused); `ReplayStream` then only hands out the prepared chunks, sync or async.

An instant stream is served as one chunk: its consumers (the SDKs' SSE decoders, ``iter_lines``)
give the same result whatever the chunk boundaries, and every chunk costs httpx and the SDK a
generator step (a 2,000-event stream: about 0.6 ms sync, 0.8 ms async). One chunk measured 3 to 7
times cheaper than 64 KiB blocks for 2,000 events: it is handed out as the same immutable bytes object
every time, with no copy, and ``response.read()`` of a single chunk is that object itself. Paced replay
and ``chunks="event"`` keep one chunk per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from msgspec import UNSET

from httpx_cassette.config import ReplayChunks, ReplayTiming
from httpx_cassette.core.events import stream_chunks
from httpx_cassette.core.ndjson import line_chunks
from httpx_cassette.model.body import body_bytes
from httpx_cassette.model.cassette import Response, TransportFailure

__all__ = [
    "MAX_DELAY",
    "MAX_TOTAL",
    "Prepared",
    "ReplayChunks",
    "ReplayTiming",
    "prepare",
    "stream_chunks_of",
]


_FRAMING = frozenset({"content-length", "transfer-encoding"})
MAX_DELAY = 60.0  # seconds: a longer recorded gap (a stall, or a hand-edited file) is replayed as this
MAX_TOTAL = 600.0  # seconds: what one paced response waits in all, whatever its file says

# Statuses the OpenAI and Anthropic SDKs retry after a back-off sleep, and headers that make them retry
# any status (`x-should-retry: true`) or say how long to sleep first.
_RETRIED = frozenset({408, 409, 429})
_RETRY_HEADERS = ("x-should-retry", "retry-after", "retry-after-ms")


@dataclass(frozen=True)
class Prepared:
    """A stored response, ready to serve many times."""

    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]
    delays: list[float]  # seconds to wait before each chunk; empty for instant replay
    failure: TransportFailure | None
    # The whole body when it is served at once, as is (one chunk, no pacing, no failure, no content-encoding
    # to undo): a response can then hold it from the start, so reading it costs nothing.
    content: bytes | None = None
    # What the HTTP layer builds once from this response (its library's headers object), by library.
    built: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


def _headers(response: Response, chunks: list[bytes], instant: bool) -> list[tuple[str, str]]:
    # Names in lower case, as recording writes them (a hand-edited file may not; a file read holds each
    # name once, and otherwise the first is the one `header_value` reads), and no framing header from the
    # file: the body served is what decides its length, not what a file claims.
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        if name.lower() not in _FRAMING:
            headers.setdefault(name.lower(), value)
    if not isinstance(response.base64, str) and not isinstance(response.body_file, str):
        # JSON, text and events are stored decoded: a content-encoding from the file would have the
        # client decode them again, into what `scan` never read (a deflate stream written as text).
        headers.pop("content-encoding", None)
    if response.is_streaming:
        ndjson = response.stream_format == "ndjson"
        headers.setdefault("content-type", "application/x-ndjson" if ndjson else "text/event-stream")
    else:
        if response.body is not UNSET and "content-type" not in headers:
            headers["content-type"] = "application/json"
        headers["content-length"] = str(sum(len(c) for c in chunks))
    retried = response.status in _RETRIED or response.status >= 500
    if instant and (retried or any(name in headers for name in _RETRY_HEADERS)):
        # SDKs sleep for `retry-after-ms` first when present; a microsecond keeps retries instant (a
        # recorded 400 with `x-should-retry: true` and `retry-after-ms: 3000` would sleep 3 s per retry)
        # while `retry-after` itself stays as recorded for code that reads it. Paced replay keeps all.
        headers["retry-after-ms"] = "0.001"
    return list(headers.items())


def _delays(response: Response, count: int, timing: ReplayTiming) -> list[float]:
    if timing == "instant" or not response.offsets_ms:
        return []
    speed = 1.0 if timing == "recorded" else float(timing)
    offsets = list(response.offsets_ms)[:count]
    start = response.elapsed_ms if isinstance(response.elapsed_ms, float) else 0.0
    # From the latest offset so far: offsets that go back and forth (a hostile file's 0, 24 h, 0, 24 h...)
    # cannot make each gap a long one; and the whole response waits `MAX_TOTAL` at most.
    gaps = [max(0.0, b - a) for a, b in zip(accumulate([start, *offsets], max), offsets, strict=False)]
    delays, total = [], 0.0
    for gap in gaps:
        delay = min(gap / 1000 / speed, MAX_DELAY, MAX_TOTAL - total)
        delays.append(delay)
        total += delay
    return delays + [0.0] * (count - len(delays))


def stream_chunks_of(response: Response) -> list[bytes]:
    """The chunks a stored stream replays as: one per SSE event (and ``[DONE]``), or one per line."""
    if response.stream_format == "ndjson":
        return line_chunks(response.events())
    return stream_chunks(response.events(), response.done)


def _chunks(response: Response, timing: ReplayTiming, body: bytes | None, mode: ReplayChunks) -> list[bytes]:
    if not response.is_streaming:
        data = body if body is not None else body_bytes(response)
        return [data] if data else []
    chunks = stream_chunks_of(response)
    if timing == "instant" and mode == "auto" and len(chunks) > 1:
        return [b"".join(chunks)]  # see the module's docstring
    return chunks


def _whole(chunks: list[bytes], delays: list[float], prepared_headers: list[tuple[str, str]]) -> bytes | None:
    """The body a response can hold from the start, or None when it must be streamed through."""
    if len(chunks) > 1 or delays or any(name.lower() == "content-encoding" for name, _ in prepared_headers):
        return None
    return chunks[0] if chunks else b""


def prepare(
    response: Response,
    timing: ReplayTiming = "instant",
    body: bytes | None = None,
    chunks_mode: ReplayChunks = "auto",
) -> Prepared:
    """Everything replay needs from ``response``, computed once; ``body``: its side file's bytes;
    ``chunks_mode``: ``"event"`` keeps one chunk per event even for an instant stream."""
    chunks = _chunks(response, timing, body, chunks_mode)
    headers = _headers(response, chunks, timing == "instant")
    delays = _delays(response, len(chunks), timing)
    return Prepared(
        status=response.status,
        headers=headers,
        chunks=chunks,
        delays=delays,
        failure=response.error,
        content=None if response.error is not None else _whole(chunks, delays, headers),
    )
