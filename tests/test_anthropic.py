"""The Anthropic SDK (httpx2 only), recorded from the local Messages API server and replayed with it stopped:
streamed and plain messages, the `messages.stream()` helper, tool use, `ping` and mid-stream `event: error`,
error statuses including 529 `overloaded_error`, the retry loop, and a property over random event streams.
The SDK ignores any event without an `event:` line, so every replayed event must keep its name."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from httpx_cassette import CassetteTransport  # noqa: E402
from tests.roundtrip_helpers import (  # noqa: E402
    API_KEY,
    dump,
    outcome,
    raised,
    record_then_replay,
    record_then_replay_async,
)
from tests.servers.anthropic_app import ERRORS, create_app  # noqa: E402

MODEL = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "hello cassette"}]
TOOLS = [
    {
        "name": "get_weather",
        "description": "The weather in a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    }
]


def client(transport: CassetteTransport, url: str, **options: Any) -> Any:
    options.setdefault("max_retries", 0)
    return anthropic.Anthropic(
        base_url=url, api_key=API_KEY, http_client=httpx2.Client(transport=transport), **options
    )


def aclient(transport: CassetteTransport, url: str, **options: Any) -> Any:
    options.setdefault("max_retries", 0)
    http = httpx2.AsyncClient(transport=transport)
    return anthropic.AsyncAnthropic(base_url=url, api_key=API_KEY, http_client=http, **options)


def test_streams_helper_and_plain_messages_replay(tmp_path: Path) -> None:
    def calls(transport: CassetteTransport, url: str) -> dict[str, Any]:
        c = client(transport, url)
        events = dump(list(c.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)))
        with c.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES, tools=TOOLS) as stream:
            texts = list(stream.text_stream)
            final = stream.get_final_message()
        plain = c.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=MESSAGES)
        message = plain.parse()
        return {
            "events": events,
            "texts": texts,
            "final": dump(final),
            "plain": (dump(message), plain.request_id, message._request_id),
        }

    rt = record_then_replay(tmp_path, create_app(), calls)
    assert [e["type"] for e in rt.live["events"]] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert "".join(rt.live["texts"]) == "Echo: hello cassette"
    assert rt.live["final"]["content"][1]["input"] == {"city": "hello cassette", "days": 1}
    assert rt.live["final"]["stop_reason"] == "tool_use"
    assert rt.live["plain"][1].startswith("req_")
    assert rt.live["plain"][1] == rt.live["plain"][2]
    assert rt.replayed == rt.live

    streams = [f["responses"][0] for f in rt.files() if f["request"]["body"].get("stream")]
    for stored in streams:
        assert all(e["event"] == e["__data__"]["type"] for e in stored["body"]), "every event keeps its name"
        assert "done" not in stored
    names = [e["event"] for e in streams[0]["body"]]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert streams[0]["body"][0]["__type__"] == "anthropic.types.raw_message_start_event.RawMessageStartEvent"
    assert "__type__" not in streams[0]["body"][2], "ping has no SDK class"


async def test_streams_and_helper_async(tmp_path: Path) -> None:
    async def calls(transport: CassetteTransport, url: str) -> Any:
        c = aclient(transport, url)
        stream = await c.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
        events = dump([e async for e in stream])
        async with c.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES, tools=TOOLS) as helper:
            final = await helper.get_final_message()
        return (
            events,
            dump(final),
            dump(await c.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)),
        )

    rt = await record_then_replay_async(tmp_path, create_app(), calls)
    assert rt.live[2]["content"][0]["text"] == "Echo: hello cassette"
    assert rt.replayed == rt.live


ERROR_CLASSES = {
    400: "anthropic.BadRequestError",
    401: "anthropic.AuthenticationError",
    404: "anthropic.NotFoundError",
    429: "anthropic.RateLimitError",
    500: "anthropic.InternalServerError",
    529: "anthropic.OverloadedError",
}


@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
def test_error_statuses_raise_the_same_sdk_error(tmp_path: Path, status: int) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(transport, url)
        return outcome(lambda: c.messages.create(model=f"error-{status}", max_tokens=8, messages=MESSAGES))

    rt = record_then_replay(tmp_path, create_app(), call)
    assert len(rt.replayer.cassette.played) == 1  # the replayed error came from the recording
    assert rt.live["raised"] == ERROR_CLASSES[status]
    assert rt.live["status_code"] == status
    assert rt.live["type"] == ERRORS[status][0]
    assert rt.live["request_id"].startswith("req_")
    assert rt.replayed == rt.live


def test_mid_stream_error_event_and_ping_round_trip(tmp_path: Path) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(transport, url)
        stream = c.messages.create(
            model=MODEL,
            max_tokens=64,
            messages=MESSAGES,
            stream=True,
            extra_headers={"x-mock-error-after": "4"},
        )
        got: list[Any] = []
        try:
            for event in stream:
                got.append(dump(event))
        except anthropic.APIStatusError as exc:
            return got, raised(exc)
        return got, None

    rt = record_then_replay(tmp_path, create_app(), call)
    events, error = rt.live
    assert [e["type"] for e in events] == ["message_start", "content_block_start", "content_block_delta"]
    assert error["raised"] == "anthropic.APIStatusError"
    assert error["body"] == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert rt.replayed == rt.live
    [stored] = rt.files()
    assert [e["event"] for e in stored["responses"][0]["body"]][-2:] == ["content_block_delta", "error"]


async def test_overloaded_then_ok_replays_through_the_retry_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def call(transport: CassetteTransport, url: str) -> Any:
        if transport.cassette.mode == "replay":
            monkeypatch.setattr("anthropic._base_client.anyio.sleep", no_sleep)
        c = aclient(transport, url, max_retries=2)
        raw = await c.messages.with_raw_response.create(model="flaky-529", max_tokens=8, messages=MESSAGES)
        return dump(await raw.parse()), raw.retries_taken

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert rt.live[1] == 1
    assert rt.replayed == rt.live
    assert sleeps == [pytest.approx(1e-6)]
    [stored] = rt.files()
    assert [r["status"] for r in stored["responses"]] == [529, 200]


def test_stream_cut_is_replayed(tmp_path: Path) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        stream = client(transport, url).messages.create(
            model=MODEL,
            max_tokens=64,
            messages=MESSAGES,
            stream=True,
            extra_headers={"x-mock-abort-after": "5"},
        )
        got: list[str] = []
        try:
            for event in stream:
                got.append(event.type)
        except Exception as exc:
            return got, raised(exc)
        return got, None

    rt = record_then_replay(tmp_path, create_app(), call)
    got, error = rt.live
    assert got == ["message_start", "content_block_start", "content_block_delta", "content_block_delta"]
    # The transport's error itself, or (anthropic 2.17 and later) the SDK's wrapping of it: replay must
    # raise exactly what the live run raised, whichever this SDK version raises.
    assert error["raised"] in ("httpx2.RemoteProtocolError", "anthropic.APIConnectionError")
    assert rt.replayed == rt.live


# ------------------------------------------------------------------------------ property: event streams


@st.composite
def message_streams(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Valid Messages event sequences: random text and tool blocks, pings anywhere, an error or a cut."""
    text_blocks = st.tuples(st.just("text"), st.lists(st.text(max_size=10), max_size=4))
    tool_blocks = st.just(("tool_use", ['{"a', '": 1', ', "b": "é"', "}"]))
    blocks = draw(st.lists(st.one_of(text_blocks, tool_blocks), max_size=3))
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": message}]
    for index, (kind, pieces) in enumerate(blocks):
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in pieces]
        else:
            start = {"type": "tool_use", "id": f"toolu_{index}", "name": "f", "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}
    )
    events.append({"type": "message_stop"})
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        events.insert(draw(st.integers(min_value=1, max_value=len(events))), {"type": "ping"})
    keep = draw(st.integers(min_value=1, max_value=len(events)))
    if keep < len(events) and draw(st.booleans()):  # an error mid-stream, or just a cut
        events = [
            *events[:keep],
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ]
    else:
        events = events[:keep]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    ascii_only = draw(st.booleans())
    wire = "".join(
        f"event: {e['type']}{newline}data: {json.dumps(e, ensure_ascii=ascii_only)}{newline}{newline}"
        for e in events
    ).encode()
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=len(wire) - 1), max_size=6)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True) if wire[a:b]]
    return chunks, sum(e["type"] not in ("ping", "error") for e in events)


def _upstream(chunks: list[bytes]) -> Any:
    class Chunks(httpx2.SyncByteStream):
        def __iter__(self) -> Any:
            yield from chunks

    return httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=Chunks())
    )


def _parse_both_ways(transport: CassetteTransport) -> Any:
    c = client(transport, "https://api.anthropic.com")

    def raw_events() -> Any:
        got: list[Any] = []
        try:
            for event in c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES, stream=True):
                got.append(dump(event))
        except anthropic.APIStatusError as exc:
            return got, raised(exc)["body"]
        return got, None

    def helper() -> Any:
        with c.messages.stream(model=MODEL, max_tokens=8, messages=MESSAGES) as stream:
            return dump(stream.get_final_message())

    return outcome(raw_events), outcome(helper)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_streams())
def test_property_random_message_streams_replay_as_parsed_live(stream: tuple[list[bytes], int]) -> None:
    chunks, parsed_events = stream
    with tempfile.TemporaryDirectory() as directory:
        live = _parse_both_ways(CassetteTransport(directory, mode="record", inner=_upstream(chunks)))
        replayed = _parse_both_ways(CassetteTransport(directory, mode="replay"))
    assert replayed == live
    (events, _), _ = live
    assert len(events) == parsed_events
