"""Frameworks under their default settings: record against a local server, stop it, replay offline.

Each framework runs as a new user would run it: tracing on (openai-agents), aiohttp installed and left
on (google-genai's ``client.aio``, litellm's async transport), no transport of ours passed in. Only
``use_cassette`` sits under it. The framework-level result of the replay must equal the recording's,
and the replay must have no miss (so no miss can have been swallowed by the framework). Each test
skips when its framework is not installed (litellm is in the ``frameworks`` extra, the others in ``test``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette import use_cassette
from tests.servers import gemini_app
from tests.servers.openai_app import CREATED, OpenAIApp, create_app
from tests.servers.runner import LiveServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm reads it at import: no download

GEMINI = "gemini-2.5-flash"
LITELLM_MODEL = "openai/gpt-4o-mini"
LITELLM_KEY = "sk-test-" + secrets.token_hex(8)  # the local server takes any key


@pytest.fixture
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


@pytest.fixture
def gemini() -> Iterator[LiveServer[gemini_app.GeminiApp]]:
    with LiveServer(gemini_app.create_app()) as live:
        yield live


# -- google-genai: the sync client (httpx) and client.aio (aiohttp, as it is installed) ------------------


GEMINI_KEY = "test-" + secrets.token_hex(8)  # any non-empty key will do for the local server


def gemini_client(url: str) -> Any:
    from google import genai

    return genai.Client(api_key=GEMINI_KEY, http_options={"base_url": url})


def comparable(response: Any) -> dict[str, Any]:
    """A ``GenerateContentResponse`` without its HTTP headers, which differ on replay only in framing.

    Replay recomputes ``content-length`` (JSON bodies are stored as objects and served compact, while
    Gemini indents its JSON), drops ``transfer-encoding`` and writes header names in lower case;
    ``content-type`` is compared on its own by the tests.
    """
    dumped: dict[str, Any] = response.model_dump(exclude={"sdk_http_response"})
    return dumped


def content_type(response: Any) -> str:
    headers = {name.lower(): value for name, value in response.sdk_http_response.headers.items()}
    return str(headers["content-type"])


def gemini_sync(url: str) -> list[Any]:
    client = gemini_client(url)
    answer = client.models.generate_content(model=GEMINI, contents="Say hi")
    chunks = list(client.models.generate_content_stream(model=GEMINI, contents="Stream hi"))
    return [answer, *chunks]


async def gemini_async(url: str) -> list[Any]:
    client = gemini_client(url)
    answer = await client.aio.models.generate_content(model=GEMINI, contents="Say hi async")
    stream = await client.aio.models.generate_content_stream(model=GEMINI, contents="Stream async")
    chunks = [chunk async for chunk in stream]
    await client.aio.aclose()
    return [answer, *chunks]


def test_google_genai_sync_replays_offline(tmp_path: Path, gemini: LiveServer[gemini_app.GeminiApp]) -> None:
    pytest.importorskip("google.genai", reason="google-genai is not installed (the test extra)")
    with use_cassette(tmp_path, mode="record") as recording:
        live = gemini_sync(gemini.url)
    assert [r.text for r in live] == ["Echo: Say hi", "Echo:", " Stream", " hi"]
    assert len(recording.recorded) == 2
    files = [file.read_text() for file in tmp_path.rglob("*.json")]
    assert len(files) == 2
    assert not [text for text in files if GEMINI_KEY in text]  # x-goog-api-key is never written
    gemini.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        again = gemini_sync(gemini.url)
    assert [comparable(r) for r in again] == [comparable(r) for r in live]
    assert [content_type(r) for r in again] == [content_type(r) for r in live]
    assert len(replay.played) == 2
    assert replay.misses == []


async def test_google_genai_aio_through_aiohttp_replays_offline(
    tmp_path: Path, gemini: LiveServer[gemini_app.GeminiApp]
) -> None:
    pytest.importorskip("google.genai", reason="google-genai is not installed (the test extra)")
    pytest.importorskip("aiohttp")
    client = gemini_client(gemini.url)
    assert client._api_client._use_aiohttp()  # client.aio takes the aiohttp path, as by default
    with use_cassette(tmp_path, mode="record") as recording:
        live = await gemini_async(gemini.url)
    assert [r.text for r in live] == ["Echo: Say hi async", "Echo:", " Stream", " async"]
    assert len(recording.recorded) == 2
    assert gemini.app.requests == 2
    gemini.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        again = await gemini_async(gemini.url)
    assert [comparable(r) for r in again] == [comparable(r) for r in live]
    assert [content_type(r) for r in again] == [content_type(r) for r in live]
    assert len(replay.played) == 2
    assert replay.misses == []


def test_a_gemini_recording_made_through_aiohttp_replays_through_httpx(
    tmp_path: Path, gemini: LiveServer[gemini_app.GeminiApp]
) -> None:
    pytest.importorskip("google.genai", reason="google-genai is not installed (the test extra)")
    with use_cassette(tmp_path, mode="record"):
        live = asyncio.run(gemini_async(gemini.url))
    gemini.stop()

    def sync_twin() -> list[Any]:  # the same two requests, through the sync client's httpx
        client = gemini_client(gemini.url)
        answer = client.models.generate_content(model=GEMINI, contents="Say hi async")
        stream = client.models.generate_content_stream(model=GEMINI, contents="Stream async")
        return [answer, *stream]

    with use_cassette(tmp_path, mode="replay") as replay:
        again = sync_twin()
    assert [comparable(r) for r in again] == [comparable(r) for r in live]
    assert replay.misses == []


# -- litellm: sync and async, streamed and not; async through its own aiohttp transport -----------------


def litellm_ask(base: str, text: str, **options: Any) -> Any:
    import litellm

    messages = [{"role": "user", "content": text}]
    return litellm.completion(
        model=LITELLM_MODEL, api_base=base, api_key=LITELLM_KEY, messages=messages, **options
    )


async def litellm_ask_async(base: str, text: str, **options: Any) -> Any:
    import litellm

    messages = [{"role": "user", "content": text}]
    return await litellm.acompletion(
        model=LITELLM_MODEL, api_base=base, api_key=LITELLM_KEY, messages=messages, **options
    )


def chunk_dump(chunk: Any) -> dict[str, Any]:
    """A streamed chunk without ``created``, which litellm sets from its own clock on each chunk."""
    dumped: dict[str, Any] = chunk.model_dump(exclude={"created"})
    return dumped


def litellm_calls(base: str) -> list[Any]:
    """A completion and a stream, sync then async (the chunks' dumps: litellm's objects compare by id)."""

    async def both_async() -> list[Any]:
        answer = await litellm_ask_async(base, "hi async")
        stream = await litellm_ask_async(base, "stream async", stream=True)
        return [answer.model_dump(), [chunk_dump(chunk) async for chunk in stream]]

    answer = litellm_ask(base, "hi sync").model_dump()
    chunks = [chunk_dump(chunk) for chunk in litellm_ask(base, "stream sync", stream=True)]
    return [answer, chunks, *asyncio.run(both_async())]


def test_litellm_sync_and_async_streamed_and_not_replay_offline(
    tmp_path: Path, server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    litellm = pytest.importorskip("litellm", reason="litellm is not installed (the frameworks extra)")
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    assert not litellm.disable_aiohttp_transport  # the default: async requests go through aiohttp
    sent = []
    real = LiteLLMAiohttpTransport.handle_async_request

    async def counted(self: Any, request: Any) -> Any:
        sent.append(str(request.url))
        return await real(self, request)

    monkeypatch.setattr(LiteLLMAiohttpTransport, "handle_async_request", counted)
    with use_cassette(tmp_path, mode="record") as recording:
        live = litellm_calls(server.base_url)
    assert [live[0]["choices"][0]["message"]["content"], live[2]["choices"][0]["message"]["content"]] == [
        "Echo: hi sync",
        "Echo: hi async",
    ]
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in live[3]) == "Echo: stream async"
    assert live[0]["created"] == live[2]["created"] == CREATED  # the server's, compared on replay too
    assert len(sent) == 2  # both async requests took litellm's aiohttp transport
    assert len(recording.recorded) == 4
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert litellm_calls(server.base_url) == live
    assert len(sent) == 2  # replay answers at the client, before any transport
    assert len(replay.played) == 4
    assert replay.misses == []


# -- openai-agents: a run, a tool loop and streamed runs, tracing on ---------------------------------------


def shout(text: str) -> str:
    """Say it louder."""
    return text.upper()


async def agent_answers(server: LiveServer[OpenAIApp]) -> list[str]:
    """A run, a tool loop and two streamed runs (one with the loop), their traces flushed at the end."""
    import agents
    from openai import AsyncOpenAI

    # x-mock-tool-loop: the server answers a tool result with text, so the loop ends after one call.
    headers = {"x-mock-tool-loop": "1"}
    client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test-fake", default_headers=headers)
    model = agents.OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)
    echo = agents.Agent(name="echo", instructions="Repeat the user.", model=model)
    loud = agents.Agent(name="loud", instructions="Shout.", model=model, tools=[agents.function_tool(shout)])
    answers = [str((await agents.Runner.run(echo, "hello agents")).final_output)]
    looped = await agents.Runner.run(loud, "hello tools")
    assert [item.type for item in looped.new_items] == [
        "tool_call_item",
        "tool_call_output_item",
        "message_output_item",
    ]
    answers.append(str(looped.final_output))
    for agent, text in ((echo, "hello streamed agents"), (loud, "streamed tools")):
        streamed = agents.Runner.run_streamed(agent, text)
        events = [event.type async for event in streamed.stream_events()]
        assert "raw_response_event" in events
        answers.append(str(streamed.final_output))
    agents.tracing.get_trace_provider().force_flush()  # the uploads happen now, not in 5 s
    return answers


async def test_an_openai_agents_run_tool_loop_and_stream_with_tracing_on_replay_offline(
    tmp_path: Path, server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("agents", reason="openai-agents is not installed (the test extra)")
    import agents
    from agents.tracing import processors

    # Tracing on, as by default (a docs page run earlier in this process may have turned it off).
    monkeypatch.setattr(agents.tracing.get_trace_provider(), "_disabled", False)
    # The exporter posts to api.openai.com; here to the local server, under a rule like the default one.
    monkeypatch.setattr(processors.default_exporter(), "endpoint", f"{server.url}/v1/traces/ingest")
    monkeypatch.setattr(processors.default_exporter(), "_api_key", "sk-test-fake")
    rules = ["POST 127.0.0.1 /v1/traces/ingest"]
    with use_cassette(tmp_path, mode="record", ignore=rules) as recording:
        live = await agent_answers(server)
    assert live == [
        "Echo: hello agents",
        "Echo: Tool said: HELLO TOOLS",
        "Echo: hello streamed agents",
        "Echo: Tool said: STREAMED TOOLS",
    ]
    assert len(recording.recorded) == 6  # 1 + 2 (call, answer) + 1 + 2
    assert recording.ignored  # tracing is on: its uploads went out, unrecorded
    assert {url.split(" ")[1] for url in recording.ignored} == {f"{server.url}/v1/traces/ingest"}
    server.stop()
    with use_cassette(tmp_path, mode="replay", ignore=rules) as replay:
        assert await agent_answers(server) == live
    assert len(replay.played) == 6
    assert replay.ignored
    assert replay.misses == []  # nothing missed, so nothing the exporter could swallow
