"""NDJSON and JSON Lines streams: one stored object per line with offsets, replayed line by line."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteTransport, use_cassette
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from tests.roundtrip_helpers import innocent
from tests.servers.ollama_app import OllamaApp, create_app, go_json
from tests.servers.runner import LiveServer

CHAT = {"model": "llama3.2", "messages": [{"role": "user", "content": "code <b> & more"}]}


@pytest.fixture(scope="module")
def ollama_server() -> Iterator[LiveServer[OllamaApp]]:
    with LiveServer(create_app()) as server:
        yield server


def stream(transport: CassetteTransport, url: str, body: object, **headers: str) -> list[bytes]:
    """The raw chunks of a streamed POST through ``transport``."""
    with (
        httpx.Client(transport=transport) as client,
        client.stream("POST", url, json=body, headers=headers) as r,
    ):
        assert r.headers["content-type"] == "application/x-ndjson"
        return list(r.iter_raw())


def stored(directory: Path) -> dict[str, object]:
    (file,) = directory.glob("*.json")
    loaded: dict[str, object] = json.loads(file.read_text())
    return loaded


def cli(*argv: str) -> tuple[int, str]:
    """The exit status and everything printed (problems go to stderr)."""
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), Console(out, err, fancy=False)), out.getvalue() + err.getvalue()


def test_an_ollama_chat_stream_is_stored_as_objects_and_replays_line_by_line(
    ollama_server: LiveServer[OllamaApp], tmp_path: Path
) -> None:
    url = ollama_server.url + "/api/chat"
    live = httpx.post(url, json=CHAT).content
    recorded = stream(CassetteTransport(tmp_path, mode="record"), url, CHAT)
    response = stored(tmp_path)["responses"][0]  # type: ignore[index]
    assert response["stream_format"] == "ndjson"
    assert response["is_streaming"]
    lines = response["body"]
    assert [line["__data__"] for line in lines] == [json.loads(x) for x in live.splitlines()]
    assert [line["__data__"]["message"]["content"] for line in lines][2:4] == [" <b>", " &"]
    assert [line.get("html_escaped", False) for line in lines] == [False, False, True, True, False, False]
    assert len(response["offsets_ms"]) == len(lines)
    served = ollama_server.app.requests
    replayed = stream(CassetteTransport(tmp_path, mode="replay", replay_chunks="event"), url, CHAT)
    assert ollama_server.app.requests == served  # replay never reached the server
    assert b"".join(recorded) == b"".join(replayed) == live  # Go's escaping of < > & is kept
    assert replayed == [line + b"\n" for line in live.splitlines()]  # one chunk per line
    instant = stream(CassetteTransport(tmp_path, mode="replay"), url, CHAT)
    assert instant == [live]  # an instant replay coalesces (replay_chunks="auto"): same bytes, one chunk


def test_httpx_and_httpx2_async_clients_replay_the_same_lines(
    ollama_server: LiveServer[OllamaApp], tmp_path: Path, httpx_lib: Any
) -> None:
    url = ollama_server.url + "/api/chat"

    async def chunks(mode: str) -> list[bytes]:
        transport = CassetteTransport(tmp_path, mode=mode, replay_chunks="event")  # type: ignore[arg-type]
        async with (
            httpx_lib.AsyncClient(transport=transport) as client,
            client.stream("POST", url, json=CHAT) as response,
        ):
            return [chunk async for chunk in response.aiter_raw()]

    live = asyncio.run(chunks("record"))
    replayed = asyncio.run(chunks("replay"))
    assert b"".join(replayed) == b"".join(live)
    assert len(replayed) == 6


def test_a_missing_final_newline_and_a_non_stream_answer(
    ollama_server: LiveServer[OllamaApp], tmp_path: Path
) -> None:
    url = ollama_server.url + "/api/generate"
    body = {"model": "llama3.2", "prompt": "why"}
    live = httpx.post(url, json=body, headers={"x-mock-no-final-newline": "1"}).content
    assert not live.endswith(b"\n")
    stream(CassetteTransport(tmp_path / "a", mode="record"), url, body, **{"x-mock-no-final-newline": "1"})
    assert stored(tmp_path / "a")["responses"][0]["body"][-1]["unterminated"] is True  # type: ignore[index]
    replayed = stream(CassetteTransport(tmp_path / "a", mode="replay"), url, body)
    assert b"".join(replayed) == live
    whole = {**body, "stream": False}
    with httpx.Client(transport=CassetteTransport(tmp_path / "b", mode="record")) as client:
        first = client.post(url, json=whole)
    response = stored(tmp_path / "b")["responses"][0]  # type: ignore[index]
    assert response["body"]["response"] == "Echo: why"
    assert "stream_format" not in response
    with httpx.Client(transport=CassetteTransport(tmp_path / "b", mode="replay")) as client:
        assert client.post(url, json=whole).content == first.content


def test_replay_paces_lines_as_recorded(ollama_server: LiveServer[OllamaApp], tmp_path: Path) -> None:
    url = ollama_server.url + "/api/chat"
    stream(CassetteTransport(tmp_path, mode="record"), url, CHAT, **{"x-mock-delay-ms": "40"})
    gaps = stored(tmp_path)["responses"][0]["offsets_ms"]  # type: ignore[index]
    assert gaps[-1] - gaps[0] >= 5 * 40 * 0.9
    transport = CassetteTransport(tmp_path, mode="replay", replay_timing="recorded")
    with httpx.Client(transport=transport) as client, client.stream("POST", url, json=CHAT) as r:
        arrived = []
        for _ in r.iter_raw():
            arrived.append(time.perf_counter())
    assert len(arrived) == 6
    assert arrived[-1] - arrived[0] >= 5 * 0.040 * 0.9


def test_the_ollama_client_replays_offline_under_use_cassette(tmp_path: Path) -> None:
    ollama = pytest.importorskip("ollama")
    messages = [{"role": "user", "content": "weather in <Paris>?"}]
    tool = {"type": "function", "function": {"name": "weather", "parameters": {"properties": {"city": {}}}}}

    def run(host: str) -> tuple[str, object, str]:
        client = ollama.Client(host=host)
        pieces = [part.message.content for part in client.chat("llama3.2", messages=messages, stream=True)]
        called = client.chat("llama3.2", messages=messages, tools=[tool], stream=False).message.tool_calls
        return "".join(pieces), [(c.function.name, dict(c.function.arguments)) for c in called], host

    async def run_async(host: str) -> str:
        client = ollama.AsyncClient(host=host)
        pieces = [
            p.message.content async for p in await client.chat("llama3.2", messages=messages, stream=True)
        ]
        return "".join(pieces)

    with LiveServer(create_app()) as server, use_cassette(tmp_path, mode="record"):
        live, live_async = run(server.url), asyncio.run(run_async(server.url))
    with use_cassette(tmp_path, mode="replay") as cassette:
        assert run(live[2]) == live
        assert asyncio.run(run_async(live[2])) == live_async
    assert live[0] == live_async == "Echo: weather in <Paris>?"
    assert live[1] == [("weather", {"city": "weather in <Paris>?"})]
    assert not cassette.unused()


def test_cli_verify_show_and_diff_read_ndjson(ollama_server: LiveServer[OllamaApp], tmp_path: Path) -> None:
    url = ollama_server.url + "/api/chat"
    stream(CassetteTransport(tmp_path / "old", mode="record"), url, CHAT)
    other = {**CHAT, "messages": [{"role": "user", "content": "code <i> & more"}]}
    stream(CassetteTransport(tmp_path / "new", mode="record"), url, other)
    assert cli("verify", str(tmp_path / "old"))[0] == 0
    status, out = cli("show", str(next((tmp_path / "old").glob("*.json"))), "--events")
    assert status == 0
    assert "NDJSON stream of 6 lines" in out
    assert "\nlines:\n" in out
    assert "gaps between 6 lines:" in out
    assert "Echo: code <b> & more" in out  # the transcript, assembled from the lines
    assert "[2] +" in out
    assert '"content":" <b>"' in out
    status, out = cli(
        "diff", str(next((tmp_path / "old").glob("*.json"))), str(next((tmp_path / "new").glob("*.json")))
    )
    assert status == 1
    assert "    - Echo: code <b> & more" in out
    assert "    + Echo: code <i> & more" in out


def test_cli_verify_names_a_broken_line(tmp_path: Path) -> None:
    file = tmp_path / "post-api-chat-0.json"
    line = {"__data__": {"done": False}}
    response = {"status": 200, "is_streaming": True, "stream_format": "ndjson"}
    broken = [{**line, "unterminated": True}, line]
    request = {"method": "POST", "url": "http://127.0.0.1/api/chat"}
    file.write_text(json.dumps({"request": request, "responses": [{**response, "body": broken}]}))
    status, out = cli("verify", str(file))
    assert status == 1
    assert "only a stream's last event can be unterminated" in out
    file.write_text(
        json.dumps(
            {"request": request, "responses": [{**response, "body": [{"__data__": "a\nb", "raw": True}]}]}
        )
    )
    assert "a line cannot be written as NDJSON" in cli("verify", str(file))[1]


LINES = st.one_of(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=3
    ).map(lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()),
    st.dictionaries(st.text(max_size=3), st.text(max_size=5), max_size=2).map(go_json),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2).map(lambda v: json.dumps(v).encode()),
    st.text(max_size=12).map(lambda text: text.replace("\n", " ").encode()),
    st.just(b""),
    st.just(b'{"a":1}\r'),
).filter(innocent)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, max_size=6), final_newline=st.booleans(), cuts=st.lists(st.integers(0, 200)))
def test_any_lines_round_trip_byte_exact_however_chunked(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], final_newline: bool, cuts: list[int]
) -> None:
    body = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    points = sorted({c for c in cuts if c < len(body)} | {0, len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(points)]

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/jsonl"}, content=iter(chunks))

    directory = tmp_path_factory.mktemp("lines")
    inner = httpx.MockTransport(upstream)
    with httpx.Client(transport=CassetteTransport(directory, mode="record", inner=inner)) as client:
        assert client.get("http://lines.test/feed").content == body
    with httpx.Client(transport=CassetteTransport(directory, mode="replay")) as client:
        response = client.get("http://lines.test/feed")
    assert response.content == body
    assert cli("verify", str(directory))[0] == 0


def test_redaction_reaches_every_line(ollama_server: LiveServer[OllamaApp], tmp_path: Path) -> None:
    url = ollama_server.url + "/api/chat"
    options: dict[str, Any] = {"redact_json_paths": ["created_at"], "placeholders": {"<PLACE>": "Paris"}}
    body = {**CHAT, "messages": [{"role": "user", "content": "Paris"}]}
    live = stream(CassetteTransport(tmp_path, mode="record", **options), url, body)
    text = next(tmp_path.glob("*.json")).read_text()
    assert "Paris" not in text
    assert '"content":" <PLACE>"' in text
    lines = [json.loads(line) for line in b"".join(live).splitlines()]
    replayed = stream(CassetteTransport(tmp_path, mode="replay", **options), url, body)
    again = [json.loads(line) for line in b"".join(replayed).splitlines()]
    assert [line["created_at"] for line in again] == ["REDACTED"] * len(lines)
    assert [line.get("message", {}).get("content") for line in again] == [
        line.get("message", {}).get("content") for line in lines
    ]
