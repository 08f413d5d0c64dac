"""A stored `Response` -> what replay serves: status, headers, body chunks, pacing, a failure.

`prepare` does all the work once per stored response (events are encoded to SSE bytes once and
reused); `ReplayStream` then only hands out the prepared chunks, sync or async.
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import UNSET

from httpx_cassette.config import ReplayTiming
from httpx_cassette.core.events import stream_chunks
from httpx_cassette.core.ndjson import line_chunks
from httpx_cassette.model.body import body_bytes
from httpx_cassette.model.cassette import Response, TransportFailure

__all__ = ["Prepared", "ReplayTiming", "prepare", "stream_chunks_of"]


# Statuses the OpenAI and Anthropic SDKs retry after a back-off sleep.
_RETRIED = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Prepared:
    """A stored response, ready to serve many times."""

    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]
    delays: list[float]  # seconds to wait before each chunk; empty for instant replay
    failure: TransportFailure | None


def _headers(response: Response, chunks: list[bytes], instant: bool) -> list[tuple[str, str]]:
    headers = dict(response.headers)
    if response.is_streaming:
        ndjson = response.stream_format == "ndjson"
        headers.setdefault("content-type", "application/x-ndjson" if ndjson else "text/event-stream")
    else:
        if response.body is not UNSET and "content-type" not in headers:
            headers["content-type"] = "application/json"
        headers["content-length"] = str(sum(len(c) for c in chunks))
    if instant and (response.status in _RETRIED or response.status >= 500 or "retry-after" in headers):
        # SDKs sleep for `retry-after-ms` first when present; a microsecond keeps retries instant
        # while `retry-after` itself stays as recorded for code that reads it.
        headers["retry-after-ms"] = "0.001"
    return list(headers.items())


def _delays(response: Response, count: int, timing: ReplayTiming) -> list[float]:
    if timing == "instant" or not response.offsets_ms:
        return []
    speed = 1.0 if timing == "recorded" else float(timing)
    offsets = list(response.offsets_ms)[:count]
    start = response.elapsed_ms if isinstance(response.elapsed_ms, float) else 0.0
    gaps = [max(0.0, b - a) for a, b in zip([start, *offsets], offsets, strict=False)]
    delays = [gap / 1000 / speed for gap in gaps]
    return delays + [0.0] * (count - len(delays))


def stream_chunks_of(response: Response) -> list[bytes]:
    """The chunks a stored stream replays as: one per SSE event (and ``[DONE]``), or one per line."""
    if response.stream_format == "ndjson":
        return line_chunks(response.events())
    return stream_chunks(response.events(), response.done)


def prepare(response: Response, timing: ReplayTiming = "instant", body: bytes | None = None) -> Prepared:
    """Everything replay needs from ``response``, computed once; ``body``: its side file's bytes."""
    if response.is_streaming:
        chunks = stream_chunks_of(response)
    else:
        data = body if body is not None else body_bytes(response)
        chunks = [data] if data else []
    return Prepared(
        status=response.status,
        headers=_headers(response, chunks, timing == "instant"),
        chunks=chunks,
        delays=_delays(response, len(chunks), timing),
        failure=response.error,
    )
