"""How a replayed stream is chunked: one chunk when instant, one chunk per event when paced or asked
for (``replay_chunks="event"``), and the same SDK objects either way; the bytes are built once."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteTransport
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

API_KEY = "sk-never-written"


def _create(client: Any, n_chunks: int, delay_ms: float = 0.0) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "a long story"}],
        stream=True,
        metadata={"n_chunks": str(n_chunks), "delay_ms": str(delay_ms)},
    )


def _sdk(lib: ModuleType, transport: CassetteTransport, base_url: str, *, is_async: bool = False) -> Any:
    if is_async:
        return openai.AsyncOpenAI(
            base_url=base_url,
            api_key=API_KEY,
            http_client=lib.AsyncClient(transport=transport),
            max_retries=0,
        )
    return openai.OpenAI(
        base_url=base_url, api_key=API_KEY, http_client=lib.Client(transport=transport), max_retries=0
    )


def _record(path: Path, server: LiveServer[OpenAIApp], n_chunks: int, delay_ms: float = 0.0) -> list[Any]:
    recorder = CassetteTransport(path, mode="record")
    return [
        c.model_dump(mode="json") for c in _create(_sdk(httpx, recorder, server.base_url), n_chunks, delay_ms)
    ]


def _raw_chunks(
    transport: CassetteTransport, base_url: str, n_chunks: int, delay_ms: float = 0.0
) -> list[Any]:
    """(arrival time, bytes) of each chunk the transport hands httpx for the request the SDK sends."""
    body = {
        "messages": [{"role": "user", "content": "a long story"}],
        "model": "gpt-4o-mini",
        "metadata": {"n_chunks": str(n_chunks), "delay_ms": str(delay_ms)},
        "stream": True,
    }
    with (
        httpx.Client(transport=transport) as client,
        client.stream("POST", f"{base_url}/chat/completions", json=body) as response,
    ):
        return [(time.perf_counter(), chunk) for chunk in response.iter_raw()]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_instant_replay_of_2000_events_gives_the_sdk_the_same_objects(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], httpx_lib: ModuleType, is_async: bool
) -> None:
    live = _record(tmp_path, openai_server, 2000)
    assert len(live) >= 2000

    def replay(**options: Any) -> list[Any]:
        sdk = _sdk(
            httpx_lib,
            CassetteTransport(tmp_path, mode="replay", **options),
            openai_server.base_url,
            is_async=is_async,
        )
        if not is_async:
            return [c.model_dump(mode="json") for c in _create(sdk, 2000)]

        async def collect() -> list[Any]:
            return [c.model_dump(mode="json") async for c in await _create(sdk, 2000)]

        import asyncio

        return asyncio.run(collect())

    per_event = replay(replay_chunks="event")
    instant = replay()
    assert instant == per_event == live


def test_chunk_count_follows_the_setting(tmp_path: Path, openai_server: LiveServer[OpenAIApp]) -> None:
    live = _record(tmp_path, openai_server, 50)
    base_url = openai_server.base_url
    assert len(_raw_chunks(CassetteTransport(tmp_path, mode="replay"), base_url, 50)) == 1
    per_event = _raw_chunks(CassetteTransport(tmp_path, mode="replay", replay_chunks="event"), base_url, 50)
    assert len(per_event) == len(live) + 1  # and data: [DONE]


def test_recorded_timing_delivers_events_one_at_a_time_with_their_gaps(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    live = _record(tmp_path, openai_server, 5, delay_ms=40)
    transport = CassetteTransport(tmp_path, mode="replay", replay_timing="recorded")
    [recorded] = [f for _, f in transport.cassette.all_recorded()]
    offsets = list(recorded.responses[0].offsets_ms)
    arrivals = _raw_chunks(transport, openai_server.base_url, 5, delay_ms=40)
    assert len(arrivals) == len(offsets) == len(live) + 1  # one chunk per event, [DONE] included
    recorded_gaps = [b - a for a, b in itertools.pairwise(offsets)]
    gaps = [(b - a) * 1000 for (a, _), (b, _) in itertools.pairwise(arrivals)]
    # A tolerant clock: every gap the server paced (40 ms) is kept at least half; no upper bound.
    for gap, recorded_gap in zip(gaps, recorded_gaps, strict=True):
        assert gap >= recorded_gap / 2, (gaps, recorded_gaps)
    assert sum(recorded_gaps) >= 40 * (len(live) - 2)  # the server did pace them


def test_repeated_replay_does_not_encode_again(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpx_cassette.core import events

    live = _record(tmp_path, openai_server, 100)
    encoded: list[object] = []
    original = events.event_bytes

    def counting(event: Any) -> bytes:
        encoded.append(event)
        return original(event)

    monkeypatch.setattr(events, "event_bytes", counting)
    sdk = _sdk(httpx, CassetteTransport(tmp_path, mode="replay"), openai_server.base_url)
    for _ in range(3):
        assert [c.model_dump(mode="json") for c in _create(sdk, 100)] == live
    assert len(encoded) == len(live)  # the first replay encoded each event once; the others reused it


def test_repeated_requests_are_keyed_by_what_counts(tmp_path: Path) -> None:
    """Keys are remembered per request: a header or body that counts still makes another key."""
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"echo": request.content.decode()})
    )
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream, match_headers=["x-tenant"])
    sends = [
        ({}, {"a": 1}),
        ({}, {"a": 1}),  # the same request again: the same key
        ({}, {"a": 2}),
        ({"openai-beta": "assistants=v2"}, {"a": 1}),
        ({"x-tenant": "one"}, {"a": 1}),
        ({"x-tenant": "two"}, {"a": 1}),
        ({"x-stainless-retry-count": "1"}, {"a": 1}),  # does not count: the first key
    ]
    with httpx.Client(transport=transport, base_url="https://api.test") as client:
        for headers, body in sends:
            client.post("/v1/x", json=body, headers=headers)
    keys = [key for key, _ in transport.cassette.recorded]
    assert len(keys) == len(sends)
    assert keys[1] == keys[0] == keys[6]
    assert len({keys[0], *keys[2:6]}) == 5
    fresh = CassetteTransport(tmp_path, match_headers=["x-tenant"])  # keys without the memory of them
    requests = [httpx.Request("POST", "https://api.test/v1/x", json=b, headers=h) for h, b in sends]
    assert keys == [fresh.key(request) for request in requests]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_an_instant_replay_is_read_and_closed_and_still_serves_raw_bytes(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], httpx_lib: ModuleType, is_async: bool
) -> None:
    """As httpx's own ``Response(content=...)``: nothing is left for a client to finish. Unlike it, raw
    iteration still works, as it does on a live response that was not read yet."""
    _record(tmp_path, openai_server, 30)
    url = f"{openai_server.base_url}/chat/completions"
    body = {
        "messages": [{"role": "user", "content": "a long story"}],
        "model": "gpt-4o-mini",
        "metadata": {"n_chunks": "30", "delay_ms": "0.0"},
        "stream": True,
    }
    transport = CassetteTransport(tmp_path, mode="replay")

    def check(response: Any) -> bytes:
        assert type(response) is httpx_lib.Response  # the library's own class, not a subclass
        assert response.is_closed
        assert response.is_stream_consumed
        assert response.elapsed.total_seconds() >= 0
        whole = response.read()
        assert response.num_bytes_downloaded == len(whole) > 0
        return bytes(whole)

    if not is_async:
        with httpx_lib.Client(transport=transport) as client, client.stream("POST", url, json=body) as r:
            whole = check(r)
            assert list(r.iter_raw()) == [whole]
            assert b"".join(r.iter_raw(7)) == whole
            assert max(map(len, r.iter_raw(7))) == 7
        return

    async def run() -> None:
        async with (
            httpx_lib.AsyncClient(transport=transport) as client,
            client.stream("POST", url, json=body) as r,
        ):
            whole = check(r)
            assert [c async for c in r.aiter_raw()] == [whole]
            assert [len(c) async for c in r.aiter_raw(len(whole) - 1)] == [len(whole) - 1, 1]

    import asyncio

    asyncio.run(run())


@pytest.mark.parametrize("chunks", ["auto", "event"])
def test_the_async_sdk_has_nothing_to_drain_after_done_on_an_instant_replay(
    tmp_path: Path,
    openai_server: LiveServer[OpenAIApp],
    httpx_lib: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    chunks: str,
) -> None:
    """The async OpenAI SDK drains an open response at ``data: [DONE]`` (a timeout scope, a checkpoint,
    a shielded close: 0.1 ms a call); an instant replay is closed already, as a mock's response is."""
    import asyncio

    from openai import _streaming

    if not hasattr(_streaming, "drain_response_async"):
        pytest.skip("this openai does not drain a response after [DONE]")
    live = _record(tmp_path, openai_server, 20)
    drained: list[bool] = []
    original = _streaming.drain_response_async

    async def counting(response: Any) -> None:
        drained.append(response.is_closed)
        await original(response)

    monkeypatch.setattr(_streaming, "drain_response_async", counting)
    transport = CassetteTransport(tmp_path, mode="replay", replay_chunks=chunks)
    sdk = _sdk(httpx_lib, transport, openai_server.base_url, is_async=True)

    async def collect() -> list[Any]:
        return [c.model_dump(mode="json") async for c in await _create(sdk, 20)]

    assert asyncio.run(collect()) == live
    # One chunk per event keeps the response open until it is read to the end, as a live one is.
    assert drained == ([True] if chunks == "auto" else [False])
