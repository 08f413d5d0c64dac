"""Property: any event stream survives record -> file -> replay -> the SDK's SSE decoder unchanged."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openai._streaming import SSEDecoder

from httpx_cassette import CassetteTransport
from httpx_cassette.core.sse import ServerSentEvent, encode_event
from tests.roundtrip_helpers import innocent

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30)
event_names = st.none() | line_text.filter(lambda s: s != "")


@st.composite
def wire_events(draw: st.DrawFn) -> ServerSentEvent:
    if draw(st.booleans()):
        data = json.dumps(draw(json_values.filter(innocent)))
    else:
        data = "\n".join(draw(st.lists(line_text, min_size=1, max_size=3)))
    assume(innocent(data))
    return ServerSentEvent(data=data, event=draw(event_names))


def chunked(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    start = 0
    for p in [*points, len(data)]:
        if p > start:
            yield data[start:p]
            start = p


def sdk_events(chunks: Iterator[bytes]) -> list[tuple[str | None, Any]]:
    """What the SDK sees: event name and data (parsed when JSON, as the SDK's `sse.json()` would)."""
    seen = []
    for sse in SSEDecoder().iter_bytes(chunks):
        try:
            data: Any = json.loads(sse.data)
        except ValueError:
            data = sse.data
        seen.append((sse.event, data))
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(wire_events(), max_size=8), done=st.booleans(), cuts=st.lists(st.integers(0, 10_000)))
def test_any_event_stream_round_trips(events: list[ServerSentEvent], done: bool, cuts: list[int]) -> None:
    wire = b"".join(encode_event(e) for e in events) + (b"data: [DONE]\n\n" if done else b"")

    class Upstream(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunked(wire, cuts)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Upstream())

    with tempfile.TemporaryDirectory() as tmp:
        recorder = CassetteTransport(tmp, mode="record", inner=httpx.MockTransport(handler))
        with httpx.Client(transport=recorder) as client, client.stream("POST", "http://x/v1/s", json={}) as r:
            live = sdk_events(r.iter_bytes())
        assert len(list(Path(tmp).glob("*.json"))) == 1
        with httpx.Client(transport=CassetteTransport(tmp, mode="replay")) as client:  # noqa: SIM117
            with client.stream("POST", "http://x/v1/s", json={}) as r:
                replayed = sdk_events(r.iter_bytes())
    assert replayed == live
    assert live == sdk_events(iter([wire]))
