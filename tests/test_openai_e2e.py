"""The core promise, end to end: record OpenAI traffic from a real local server through the OpenAI SDK,
stop the server, replay, and get the same parsed objects. Sync and async, httpx and httpx2 clients."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

MESSAGES = [{"role": "user", "content": "tell me about cassettes"}]
API_KEY = "sk-never-written"


def sdk_client(lib: ModuleType, transport: CassetteTransport, base_url: str, *, is_async: bool) -> Any:
    http_client = lib.AsyncClient(transport=transport) if is_async else lib.Client(transport=transport)
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(base_url=base_url, api_key=API_KEY, http_client=http_client, max_retries=0)


def dump(objects: list[Any]) -> list[dict[str, Any]]:
    return [o.model_dump(mode="json") for o in objects]


def run_calls(client: Any) -> dict[str, Any]:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = dump(list(stream))
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return {"chunks": chunks, "completion": completion.model_dump(mode="json")}


async def run_calls_async(client: Any) -> dict[str, Any]:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = dump([chunk async for chunk in stream])
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return {"chunks": chunks, "completion": completion.model_dump(mode="json")}


def test_sync_record_stop_replay(tmp_path: Path, httpx_lib: ModuleType) -> None:
    with LiveServer(create_app()) as server:
        recorder = CassetteTransport(tmp_path, mode="record")
        live = run_calls(sdk_client(httpx_lib, recorder, server.base_url, is_async=False))
        base_url = server.base_url
    assert len(live["chunks"]) > 3
    replayer = CassetteTransport(tmp_path, mode="replay")
    replayed = run_calls(sdk_client(httpx_lib, replayer, base_url, is_async=False))
    assert replayed == live
    assert len(replayer.cassette.played) == 2


async def test_async_record_stop_replay(tmp_path: Path, httpx_lib: ModuleType) -> None:
    with LiveServer(create_app()) as server:
        recorder = CassetteTransport(tmp_path, mode="record")
        live = await run_calls_async(sdk_client(httpx_lib, recorder, server.base_url, is_async=True))
        base_url = server.base_url
    replayer = CassetteTransport(tmp_path, mode="replay")
    replayed = await run_calls_async(sdk_client(httpx_lib, replayer, base_url, is_async=True))
    assert replayed == live


def test_one_transport_serves_both_libraries_and_both_modes(tmp_path: Path, httpx_lib: ModuleType) -> None:
    """A cassette recorded through httpx replays through httpx2 (and back), sync and async."""
    import httpx

    with LiveServer(create_app()) as server:
        live = run_calls(
            sdk_client(httpx, CassetteTransport(tmp_path, mode="record"), server.base_url, is_async=False)
        )
    transport = CassetteTransport(tmp_path, mode="replay")
    assert run_calls(sdk_client(httpx_lib, transport, "https://api.openai.com/v1", is_async=False)) == live

    async def replay_async() -> dict[str, Any]:
        return await run_calls_async(sdk_client(httpx_lib, transport, "https://elsewhere/v1", is_async=True))

    import asyncio

    assert asyncio.run(replay_async()) == live


def test_recording_passes_chunks_through_as_they_arrive(tmp_path: Path, httpx_lib: ModuleType) -> None:
    with LiveServer(create_app()) as server:
        app: OpenAIApp = server.app
        client = sdk_client(
            httpx_lib, CassetteTransport(tmp_path, mode="record"), server.base_url, is_async=False
        )
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            metadata={"n_chunks": "6", "delay_ms": "60"},
        )
        first = next(iter(stream))
        seen = app.stats.last_stream
        assert seen is not None
        assert first.choices[0].delta.role == "assistant"
        assert seen.sent < seen.planned, (
            "the first chunk must reach the caller before the server sent the last"
        )
        rest = list(stream)
    assert len(rest) + 1 == seen.planned - 1  # every event but [DONE] became a chunk
    stored = json.loads(next(tmp_path.glob("*.json")).read_text())["responses"][0]
    offsets = stored["offsets_ms"]
    assert offsets == sorted(offsets)
    assert offsets[-1] - offsets[0] >= 5 * 60 * 0.5  # the recorded pacing reflects the server's delays


def test_recorded_file_is_readable(tmp_path: Path) -> None:
    import httpx

    with LiveServer(create_app()) as server:
        client = sdk_client(
            httpx, CassetteTransport(tmp_path, mode="record"), server.base_url, is_async=False
        )
        list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    [file] = tmp_path.glob("*.json")
    assert file.name.startswith("post-chat-completions-")
    text = file.read_text()
    assert API_KEY not in text
    assert "x-stainless" not in text
    data = json.loads(text)
    assert data["request"]["url"].endswith("/v1/chat/completions")
    assert data["request"]["body"]["messages"] == MESSAGES
    assert data["request"]["headers"] == {"content-type": "application/json"}
    response = data["responses"][0]
    assert response["is_streaming"] is True
    assert response["done"] is True
    assert response["headers"]["content-type"].startswith("text/event-stream")
    first = response["body"][0]
    assert first["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    assert first["__data__"]["object"] == "chat.completion.chunk"
    assert data["meta"]["user_agent"].startswith("OpenAI/Python")
    assert text.startswith('{\n  "version": 1,\n  "request": {')
    event_lines = [line for line in text.splitlines() if line.startswith('        {"__type__":')]
    assert len(event_lines) == len(response["body"]), "each stream event sits compact on a line of its own"


def test_miss_reaches_the_caller_without_retries(tmp_path: Path, httpx_lib: ModuleType) -> None:
    transport = CassetteTransport(tmp_path, mode="replay")
    client = sdk_client(httpx_lib, transport, "https://api.openai.com/v1", is_async=False)
    client = client.with_options(max_retries=3)
    with pytest.raises(CassetteMiss, match=r"no recording for POST /v1/chat/completions"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert transport.cassette._seen == {next(iter(transport.cassette._seen)): 1}, "a miss must not be retried"


def test_concurrent_threads_share_one_transport(tmp_path: Path) -> None:
    import httpx

    with LiveServer(create_app()) as server:
        recorder = CassetteTransport(tmp_path, mode="record")
        client = sdk_client(httpx, recorder, server.base_url, is_async=False)
        prompts = [[{"role": "user", "content": f"question {i}"}] for i in range(8)]
        live: dict[int, Any] = {}

        def call(i: int) -> None:
            live[i] = client.chat.completions.create(model="gpt-4o-mini", messages=prompts[i]).model_dump()

        threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    replay = sdk_client(httpx, CassetteTransport(tmp_path, mode="replay"), "http://x/v1", is_async=False)
    for i in range(8):
        assert (
            replay.chat.completions.create(model="gpt-4o-mini", messages=prompts[i]).model_dump() == live[i]
        )
    assert len(list(tmp_path.glob("*.json"))) == 8


def test_sdk_closing_after_done_is_not_a_truncation(tmp_path: Path) -> None:
    import httpx

    with LiveServer(create_app()) as server:
        client = sdk_client(
            httpx, CassetteTransport(tmp_path, mode="record"), server.base_url, is_async=False
        )
        list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "stop early"}], stream=True
        )
        next(iter(stream))
        stream.close()
    stored = {
        json.loads(f.read_text())["request"]["body"]["messages"][0]["content"]: json.loads(f.read_text())
        for f in tmp_path.glob("*.json")
    }
    assert "truncated" not in stored[MESSAGES[0]["content"]]["responses"][0]
    assert stored["stop early"]["responses"][0]["truncated"] is True
