"""Every client in the process: aiohttp, requests and custom httpx transports share one cassette.

Each test records through the real network stack (a LiveServer on 127.0.0.1), then replays with the
server stopped, so nothing can reach it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteSecretError, use_cassette
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")
requests = pytest.importorskip("requests")

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello from every client"}]}
# 12 content chunks, 30 ms apart: long enough that a buffered read would be noticed
STREAM = {**CHAT, "stream": True, "metadata": {"n_chunks": "12", "delay_ms": "30"}}
HEADERS = {"authorization": "Bearer sk-test-fake", "content-type": "application/json"}


@pytest.fixture
def server() -> Iterator[LiveServer[OpenAIApp]]:
    """A server of the test's own: tests stop it to prove replay is offline."""
    with LiveServer(create_app()) as live:
        yield live


def chat_url(server: LiveServer[OpenAIApp]) -> str:
    return f"{server.base_url}/chat/completions"


def sse_data(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("data: ")]


# -- requests ----------------------------------------------------------------------------------------


def requests_chat(url: str) -> dict[str, Any]:
    response = requests.post(url, json=CHAT, headers=HEADERS, timeout=5)
    response.raise_for_status()
    return dict(response.json())


def test_requests_records_then_replays_with_the_server_stopped(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record") as recording:
        live = requests_chat(url)
    assert len(recording.recorded) == 1
    stored = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert stored["meta"]["library"].startswith("requests ")
    assert "authorization" not in json.dumps(stored).lower()  # redaction is the cassette's, as for httpx
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert requests_chat(url) == live
    assert len(replay.played) == 1
    assert not replay.misses


def test_requests_stream_arrives_chunk_by_chunk_and_replays_as_a_stream(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with (
        use_cassette(tmp_path, mode="record"),
        requests.post(url, json=STREAM, headers=HEADERS, stream=True, timeout=5) as response,
    ):
        lines = response.iter_lines(decode_unicode=True)
        first = next(line for line in lines if line)
        stats = server.app.stats.last_stream
        assert stats is not None
        assert stats.sent < stats.planned  # the first event came before the server sent the last
        live = [first, *lines]
    assert sse_data(live)[-1] == "data: [DONE]"
    server.stop()
    with (
        use_cassette(tmp_path, mode="replay", replay_chunks="event"),
        requests.post(url, json=STREAM, headers=HEADERS, stream=True, timeout=5) as response,
    ):
        chunks = list(response.iter_content(chunk_size=None))
    assert len(chunks) > 10  # one chunk per stored event, not one body
    replayed = b"".join(chunks).decode().splitlines()
    assert sse_data(replayed) == sse_data(live)


def test_a_requests_miss_is_a_cassette_miss_and_is_remembered(tmp_path: Path) -> None:
    with use_cassette(tmp_path, mode="replay") as replay, pytest.raises(CassetteMiss):
        requests.get("http://127.0.0.1:9/v1/models", timeout=1)
    assert len(replay.misses) == 1


# -- aiohttp -----------------------------------------------------------------------------------------


async def aiohttp_chat(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=CHAT, headers=HEADERS) as response:
        response.raise_for_status()
        return dict(await response.json())


async def test_aiohttp_records_then_replays_with_the_server_stopped(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record") as recording:
        live = await aiohttp_chat(url)
    assert len(recording.recorded) == 1
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["meta"]["library"].startswith("aiohttp ")
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert await aiohttp_chat(url) == live
    assert len(replay.played) == 1
    assert not replay.misses


async def read_lines(response: Any, server: LiveServer[OpenAIApp] | None) -> list[str]:
    """Every line of ``response`` (``async for`` over ``resp.content``: readline); with ``server``,
    checks that the first line came before the server sent its last event."""
    lines: list[str] = []
    async for raw in response.content:
        if server is not None and not lines:
            stats = server.app.stats.last_stream
            assert stats is not None
            assert stats.sent < stats.planned
        lines.append(raw.decode().rstrip("\n"))
    return lines


async def test_aiohttp_stream_arrives_chunk_by_chunk_and_replays_as_a_stream(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record"):
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=STREAM, headers=HEADERS) as resp,
        ):
            live = await read_lines(resp, server)
    assert sse_data(live)[-1] == "data: [DONE]"
    server.stop()
    with use_cassette(tmp_path, mode="replay", replay_chunks="event"):
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=STREAM, headers=HEADERS) as resp:
                assert sse_data(await read_lines(resp, None)) == sse_data(live)
            async with session.post(url, json=STREAM, headers=HEADERS) as resp:
                chunks = [chunk async for chunk in resp.content.iter_chunked(1 << 16)]
    assert len(chunks) > 10  # the synthesized stream comes event by event
    assert sse_data(b"".join(chunks).decode().splitlines()) == sse_data(live)


async def test_aiohttp_replays_at_the_recorded_pace(tmp_path: Path, server: LiveServer[OpenAIApp]) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record"):
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=STREAM, headers=HEADERS) as resp,
        ):
            await resp.read()
    server.stop()
    loop = asyncio.get_running_loop()
    with use_cassette(tmp_path, mode="replay", replay_timing=2.0):
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=STREAM, headers=HEADERS) as resp,
        ):
            started = loop.time()
            body = await resp.read()
            took = loop.time() - started
    assert b"data: [DONE]" in body
    assert took > 0.1  # 11 gaps of ~30 ms at double speed


LONG = {
    **CHAT,
    "stream": True,
    "metadata": {"n_chunks": "1500"},
}  # about 400 KB: parsed in batches as it comes


async def test_a_long_stream_recorded_through_aiohttp_and_requests_replays_whole(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path / "aiohttp", mode="record"):
        async with aiohttp.ClientSession() as session, session.post(url, json=LONG, headers=HEADERS) as resp:
            lives = {"aiohttp": await resp.read()}
    with (
        use_cassette(tmp_path / "requests", mode="record"),
        requests.post(url, json=LONG, headers=HEADERS, stream=True, timeout=10) as response,
    ):
        lives["requests"] = b"".join(response.iter_content(chunk_size=None))
    server.stop()
    for name, live in lives.items():
        with use_cassette(tmp_path / name, mode="replay"):
            async with httpx.AsyncClient() as client:
                replayed = (await client.post(url, json=LONG, headers=HEADERS)).text
        events = sse_data(live.decode().splitlines())
        assert len(events) == 1_503  # a role chunk, 1,500 content chunks, a finish chunk, [DONE]
        assert sse_data(replayed.splitlines()) == events


# -- one cassette for every library ------------------------------------------------------------------


async def test_recorded_through_aiohttp_replays_through_httpx_and_requests(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record"):
        live = await aiohttp_chat(url)
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        async with httpx.AsyncClient() as client:
            through_httpx = (await client.post(url, json=CHAT, headers=HEADERS)).json()
        through_requests = requests_chat(url)
    assert through_httpx == through_requests == live
    assert len(replay.played) == 2
    assert not replay.misses


async def test_recorded_through_httpx_replays_through_aiohttp(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)
    with use_cassette(tmp_path, mode="record"), httpx.Client() as client:
        live = client.post(url, json=CHAT, headers=HEADERS).json()
        with client.stream("POST", url, json=STREAM, headers=HEADERS) as response:
            streamed = list(response.iter_lines())
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert await aiohttp_chat(url) == live
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=STREAM, headers=HEADERS) as resp,
        ):
            assert sse_data(await read_lines(resp, None)) == sse_data(streamed)
    assert len(replay.played) == 2
    assert not replay.misses


# -- custom httpx transports -------------------------------------------------------------------------


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends with aiohttp, as litellm's async path does."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, str(request.url), headers=dict(request.headers), data=await request.aread()
            ) as response,
        ):
            body = await response.read()
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
            return httpx.Response(response.status, headers=headers, content=body, request=request)


async def test_a_custom_transport_sending_with_aiohttp_records_then_replays_offline(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    url = chat_url(server)

    async def chat() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
            response = await client.post(url, json=CHAT, headers=HEADERS)
            return dict(response.json())

    with use_cassette(tmp_path, mode="record") as recording:
        live = await chat()
    assert len(recording.recorded) == 1  # caught once, at the httpx client, not again inside the transport
    assert server.app.stats.requests == 1
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert await chat() == live
    assert len(replay.played) == 1
    assert not replay.misses


def test_hooks_are_removed_when_the_last_block_closes(tmp_path: Path) -> None:
    get_adapter = requests.Session.get_adapter
    request = aiohttp.ClientSession._request
    with use_cassette(tmp_path, mode="replay"):
        assert requests.Session.get_adapter is not get_adapter
        assert aiohttp.ClientSession._request is not request
    assert requests.Session.get_adapter is get_adapter
    assert aiohttp.ClientSession._request is request


# -- a stream that breaks off ------------------------------------------------------------------------

BROKEN = {**CHAT, "stream": True, "metadata": {"n_chunks": "12", "abort_after": "4"}}


def test_a_broken_requests_stream_replays_its_chunks_then_the_failure(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    def read(lines: list[str]) -> None:
        with requests.post(
            chat_url(server), json=BROKEN, headers=HEADERS, stream=True, timeout=5
        ) as response:
            lines.extend(line for line in response.iter_lines(decode_unicode=True) if line)

    live: list[str] = []
    with use_cassette(tmp_path, mode="record"), pytest.raises(requests.exceptions.ChunkedEncodingError):
        read(live)
    server.stop()
    replayed: list[str] = []
    with use_cassette(tmp_path, mode="replay"), pytest.raises(requests.exceptions.ChunkedEncodingError):
        read(replayed)
    assert len(replayed) == len(live) == 4


async def test_a_broken_aiohttp_stream_replays_its_chunks_then_the_failure(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    async def read(lines: list[str]) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(chat_url(server), json=BROKEN, headers=HEADERS) as response,
        ):
            async for line in response.content:
                if line.strip():
                    lines.append(line.decode())

    live: list[str] = []
    with use_cassette(tmp_path, mode="record"), pytest.raises(aiohttp.ClientPayloadError):
        await read(live)
    server.stop()
    replayed: list[str] = []
    with use_cassette(tmp_path, mode="replay"), pytest.raises(aiohttp.ClientPayloadError):
        await read(replayed)
    assert replayed == live
    assert len(live) == 4


# -- the pytest plugin sees them too -----------------------------------------------------------------


def test_the_plugin_reports_swallowed_misses_and_blocks_the_network_for_every_library(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import asyncio

        import aiohttp
        import requests

        def test_swallowed_requests_miss(cassette):
            try:
                requests.get("http://127.0.0.1:9/v1/models", timeout=1)
            except Exception:
                pass  # an SDK hiding the miss

        def test_blocked_aiohttp_without_a_cassette():
            async def fetch():
                async with aiohttp.ClientSession() as session:
                    await session.get("http://127.0.0.1:9/v1/models")

            asyncio.run(fetch())
        """
    )
    result = pytester.runpytest("-p", "no:cassetter", "--cassette-mode=replay", "--cassette-block-network")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: no recording for GET /v1/models*",
            "*the code under test caught this error*",
            "*NetworkBlocked: network blocked (--cassette-block-network):"
            " GET http://127.0.0.1:9/v1/models was not served from a cassette*",
        ]
    )


# -- the same secret scan and modes ------------------------------------------------------------------


def test_the_secret_scan_refuses_a_credential_sent_through_requests(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    key = "sk-proj-" + "Zx9Qw7Er5Ty3Ui1Op" * 3
    leaked = {**CHAT, "messages": [{"role": "user", "content": f"my key is {key}"}]}
    with (
        use_cassette(tmp_path, mode="record"),
        pytest.raises(CassetteSecretError, match=r"so it was not sent(?s:.*)OpenAI API key"),
    ):
        requests.post(chat_url(server), json=leaked, headers=HEADERS, timeout=5)
    assert server.app.stats.requests == 0
    assert not list(tmp_path.glob("*.json"))


async def test_live_mode_writes_nothing_through_aiohttp(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    with use_cassette(tmp_path, mode="live") as live:
        assert (await aiohttp_chat(chat_url(server)))["object"] == "chat.completion"
    assert server.app.stats.requests == 1
    assert not live.recorded
    assert not list(tmp_path.glob("*.json"))
