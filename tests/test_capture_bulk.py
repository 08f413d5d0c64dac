"""A recorded stream is parsed once, at its end (`Capture`): that bulk path must give exactly the events,
``[DONE]`` flag and offsets that the general, chunk-by-chunk parser gives, however the bytes were chunked
and wherever the stream stopped."""

from __future__ import annotations

import itertools
import json
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette.core import capture as capture_module
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.decoding import IDENTITY
from httpx_cassette.model.cassette import Response

SSE = [("content-type", "text/event-stream")]


class Clock:
    """A deterministic `time` for the capture module: each reading is 1 ms after the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.001
        return self.now


def record(chunks: list[bytes], *, general: bool, truncated: bool = False) -> Response:
    """The stored response for ``chunks``; ``general``: with the bulk path switched off."""
    with mock.patch.object(capture_module, "time", Clock()):
        if general:
            with mock.patch.object(capture_module, "_plain_events", return_value=None):
                return _record(chunks, truncated)
        return _record(chunks, truncated)


def _record(chunks: list[bytes], truncated: bool) -> Response:
    capture = Capture(200, SSE, IDENTITY, 0.0)
    for chunk in chunks:
        capture.feed(chunk)
    return capture.finish(truncated=truncated)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
PAYLOADS = st.one_of(
    JSON.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
    JSON.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),  # spaced, non-ASCII
    st.sampled_from([b"[DONE]", b"", b"not json", b'{"a":', b'"\xff"', b"\xe9t\xe9", b"data: x", b"1e400"]),
)


@st.composite
def plain_streams(draw: st.DrawFn) -> bytes:
    """Events of one ``data: `` line each, maybe ``[DONE]`` anywhere, maybe a last one cut short."""
    text = b"".join(b"data: " + value + b"\n\n" for value in draw(st.lists(PAYLOADS, max_size=12)))
    tail = draw(st.sampled_from([b"", b"", b"data: {", b"data: [DONE]", b"data: 1\n", b": ping\n\n"]))
    return text + tail


def chunks_of(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)]) if b > a]


def view(response: Response) -> tuple[Any, ...]:
    return response.body, response.done, response.offsets_ms, response.truncated


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=plain_streams(), cuts=st.lists(st.integers(0, 2000), max_size=8), truncated=st.booleans())
def test_bulk_parse_records_what_the_chunk_parser_records(
    stream: bytes, cuts: list[int], truncated: bool
) -> None:
    chunks = chunks_of(stream, cuts)
    bulk = record(chunks, general=False, truncated=truncated)
    general = record(chunks, general=True, truncated=truncated)
    assert view(bulk) == view(general)


def test_a_plain_stream_takes_the_bulk_path_and_keeps_each_chunks_arrival() -> None:
    events = [{"i": i, "content": f"token {i}"} for i in range(2_000)]
    wire = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]
    # Two events in some chunks and an event split over two in others: offsets follow the completing chunk.
    chunks = [wire[0] + wire[1], *wire[2:10], wire[10][:7], wire[10][7:] + wire[11], *wire[12:]]
    with mock.patch.object(Capture, "_parse_chunks", side_effect=AssertionError("general parser used")):
        response = record(chunks, general=False)
    assert [event.data for event in response.events()] == events
    assert response.done is True
    assert response.offsets_ms is not None
    # One offset per event, [DONE] included. The clock read 1 ms when the response began, so chunk k
    # (from 0) arrived at k + 2 ms.
    offsets = list(response.offsets_ms)
    assert offsets[:2] == [2.0, 2.0]
    assert offsets[2:10] == [float(k) for k in range(3, 11)]
    assert offsets[10:12] == [12.0, 12.0]  # event 10 was completed by chunk 10, which also held event 11
    assert len(offsets) == 2_001
