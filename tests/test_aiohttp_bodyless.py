"""aiohttp responses with no body (HEAD, 204 No Content, 304 Not Modified) record and replay.

aiohttp gives such a response its shared empty reader (``EmptyStreamReader``), which has no buffer and
is never fed: the recording is complete as soon as the response is. Replay answers the same status and
headers with an empty body, as httpx and requests recordings of the same exchange do.
The server is the local OpenAI-wire app on 127.0.0.1, its canned endpoint answering as told.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from httpx_cassette import use_cassette
from tests.servers.echo import Canned
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")

Seen = tuple[int, str | None, bytes]  # status, the etag header, the body read

CASES = [  # (method, status): a HEAD of a 200, a 204, a 304
    ("HEAD", 200),
    ("GET", 204),
    ("GET", 304),
]


async def fetch(url: str, method: str) -> Seen:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url) as response,
    ):
        return response.status, response.headers.get("etag"), await response.read()


def serve(server: LiveServer[OpenAIApp], name: str, status: int) -> str:
    body = b'{"ok":true}' if status == 200 else b""
    headers = [("etag", '"v1"')] + ([("content-type", "application/json")] if body else [])
    server.app.canned[name] = Canned(content=body, headers=headers, status=status)
    return f"{server.url}/v1/canned/{name}"


@pytest.mark.parametrize(("method", "status"), CASES)
@pytest.mark.parametrize("mode", ["record", "record-missing"])
async def test_a_bodyless_aiohttp_response_records_and_replays_as_it_came_live(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], method: str, status: int, mode: str
) -> None:
    url = serve(openai_server, f"bodyless-{method}-{status}-{mode}", status)
    live = await fetch(url, method)
    assert live == (status, '"v1"', b"")

    with use_cassette(tmp_path, mode=mode) as cassette:
        recorded = await fetch(url, method)
    assert recorded == live
    assert len(cassette.recorded) == 1
    (file,) = tmp_path.glob("*.json")
    stored = json.loads(file.read_text())
    assert stored["request"]["method"] == method
    assert stored["responses"][0]["status"] == status

    served_before = openai_server.app.stats.requests
    with use_cassette(tmp_path, mode="replay") as cassette:
        replayed = await fetch(url, method)
    assert replayed == live
    assert len(cassette.played) == 1
    assert not cassette.misses
    assert openai_server.app.stats.requests == served_before  # replay never reached the server
