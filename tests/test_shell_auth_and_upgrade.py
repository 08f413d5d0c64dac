"""What the requests and aiohttp shells must not let slip past the cassette.

requests' auth plugins (``HTTPDigestAuth``, NTLM, Kerberos) answer a 401 by re-sending through
``response.connection``: the retry is recorded and replayed like the first request, and under a
blocked network it never reaches the server. aiohttp requests with an ``Upgrade`` header go through
the cassette unless they are a real websocket handshake (``ws_connect``), the one thing it cannot hold.

Every server here runs on 127.0.0.1 and counts what reaches it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from httpx_cassette import CassetteMiss, use_cassette
from tests.pytester_project import NATIVE, project
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")
web = pytest.importorskip("aiohttp.web")
multidict = pytest.importorskip("multidict")
requests = pytest.importorskip("requests")

PASSWORD = "correct horse battery staple"
CHALLENGE = 'Digest realm="test", nonce="5f2c0a6e8b1d4c3a", qop="auth", opaque="0a1b2c"'
# A client asking to switch to HTTP/2 cleartext: an ordinary request as far as a cassette goes.
H2C = {
    "Upgrade": "h2c",
    "Connection": "Upgrade, HTTP2-Settings",
    "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
}
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


class CountingApp:
    """``/protected`` behind Digest auth (a 401 challenge, then 200 once ``Authorization: Digest`` comes)
    and ``/plain``; every request that reaches the server is counted in ``hits``."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.app = Starlette(routes=[Route("/protected", self.protected), Route("/plain", self.plain)])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def protected(self, request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        self.hits.append(f"GET /protected {authorization.split(' ')[0] or '-'}")
        if authorization.startswith("Digest "):
            return JSONResponse({"area": "members"})
        return PlainTextResponse("need auth", status_code=401, headers={"WWW-Authenticate": CHALLENGE})

    async def plain(self, request: Request) -> Response:
        self.hits.append(f"GET /plain {request.headers.get('upgrade', '-')}")
        return JSONResponse({"upgraded": False})


@pytest.fixture
def server() -> Iterator[LiveServer[CountingApp]]:
    with LiveServer(CountingApp()) as live:
        yield live


def digest_get(server: LiveServer[CountingApp]) -> requests.Response:
    auth = requests.auth.HTTPDigestAuth("user", PASSWORD)
    return requests.get(f"{server.url}/protected", auth=auth, timeout=5)


# -- requests: an auth plugin's retry goes through the cassette -------------------------------------


def test_a_digest_auth_flow_is_recorded_whole_and_replayed_without_the_server(
    tmp_path: Path, server: LiveServer[CountingApp]
) -> None:
    with use_cassette(tmp_path, mode="record") as recording:
        live = digest_get(server)
    assert (live.status_code, live.json()) == (200, {"area": "members"})
    assert server.app.hits == ["GET /protected -", "GET /protected Digest"]
    assert len(recording.recorded) == 2  # the challenge and the authenticated retry
    (stored,) = tmp_path.glob("*.json")
    assert [r["status"] for r in json.loads(stored.read_text())["responses"]] == [401, 200]
    assert "Digest username" not in stored.read_text()

    with use_cassette(tmp_path, mode="replay") as replay:
        replayed = digest_get(server)
    assert (replayed.status_code, replayed.json()) == (200, {"area": "members"})
    assert [r.status_code for r in replayed.history] == [401]
    assert len(replay.played) == 2
    assert not replay.misses
    assert len(server.app.hits) == 2  # zero hits on replay: the retry did not reach the server


def test_a_digest_auth_retry_under_a_blocked_network_never_reaches_the_server(
    pytester: pytest.Pytester, server: LiveServer[CountingApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, server.url, monkeypatch)
    pytester.makepyfile(
        f"""
        import pytest
        import requests
        from requests.auth import HTTPDigestAuth

        @pytest.mark.cassette
        def test_digest(api):
            response = requests.get(api + "/protected", auth=HTTPDigestAuth("user", {PASSWORD!r}), timeout=5)
            assert response.status_code == 200
        """
    )
    pytester.runpytest(*NATIVE, "--cassette-mode=record").assert_outcomes(passed=1)
    assert len(server.app.hits) == 2
    blocked = pytester.runpytest(*NATIVE, "--cassette-mode=replay", "--cassette-block-network")
    blocked.assert_outcomes(passed=1)
    assert len(server.app.hits) == 2


# -- aiohttp: only a websocket handshake passes the cassette by --------------------------------------


async def aiohttp_get(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.json()


async def test_an_aiohttp_request_asking_for_h2c_is_recorded_and_replayed(
    tmp_path: Path, server: LiveServer[CountingApp]
) -> None:
    url = f"{server.url}/plain"
    with use_cassette(tmp_path, mode="record") as recording:
        live = await aiohttp_get(url, H2C)
    assert live == (200, {"upgraded": False})
    assert len(recording.recorded) == 1
    assert server.app.hits == ["GET /plain h2c"]
    with use_cassette(tmp_path, mode="replay") as replay:
        assert await aiohttp_get(url, H2C) == live
    assert len(replay.played) == 1
    assert server.app.hits == ["GET /plain h2c"]


@pytest.mark.parametrize(
    "headers",
    [
        H2C,
        {"Upgrade": "anything-an-sdk-sets"},
        {"Upgrade": "websocket"},  # no Sec-WebSocket-Key: not a handshake
        {"Upgrade": "websocket, h2c", "Sec-WebSocket-Key": WS_KEY},
    ],
    ids=["h2c", "arbitrary", "websocket-without-key", "websocket-and-more"],
)
async def test_an_aiohttp_request_with_any_other_upgrade_misses_in_replay(
    tmp_path: Path, server: LiveServer[CountingApp], headers: dict[str, str]
) -> None:
    with use_cassette(tmp_path, mode="replay") as replay, pytest.raises(CassetteMiss):
        await aiohttp_get(f"{server.url}/plain", headers)
    assert len(replay.misses) == 1
    assert server.app.hits == []


@pytest.fixture
async def websocket_url() -> AsyncIterator[tuple[str, list[str]]]:
    """An aiohttp echo websocket on 127.0.0.1 (uvicorn here runs without websockets), and its hits."""
    hits: list[str] = []

    async def echo(request: web.Request) -> web.StreamResponse:
        hits.append(request.headers.get("upgrade", "-"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"echo {message.data}")
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/ws", hits
    finally:
        await runner.cleanup()


async def test_ws_connect_passes_the_cassette_by_but_its_upgrade_header_alone_does_not(
    tmp_path: Path, websocket_url: tuple[str, list[str]]
) -> None:
    url, hits = websocket_url
    with use_cassette(tmp_path, mode="replay") as replay:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str("hi")
            assert await ws.receive_str() == "echo hi"
        assert hits == ["websocket"]
        assert not replay.misses
        assert not replay.played
        with pytest.raises(CassetteMiss):  # the same Upgrade header without the handshake's key
            await aiohttp_get(url, {"Upgrade": "websocket", "Connection": "Upgrade"})
    assert hits == ["websocket"]
    assert not list(tmp_path.glob("*.json"))


@pytest.mark.parametrize(
    ("headers", "handshake"),
    [
        ({"Upgrade": "websocket", "Sec-WebSocket-Key": WS_KEY}, True),
        ({"Upgrade": " WebSocket ", "Sec-WebSocket-Key": WS_KEY}, True),  # the token is case-insensitive
        ({"Upgrade": "websocket"}, False),
        ({"Upgrade": "websocket", "Sec-WebSocket-Key": " "}, False),
        ({"Upgrade": "h2c", "Sec-WebSocket-Key": WS_KEY}, False),
        ({"Upgrade": "websocket, h2c", "Sec-WebSocket-Key": WS_KEY}, False),
        ({"Sec-WebSocket-Key": WS_KEY}, False),
        ({}, False),
    ],
)
def test_which_headers_are_a_websocket_handshake(headers: dict[str, str], handshake: bool) -> None:
    from httpx_cassette.http.aiohttp_shell import websocket_handshake  # the predicate the shell asks

    assert websocket_handshake(multidict.CIMultiDict(headers)) is handshake


def test_two_upgrade_headers_are_not_a_websocket_handshake() -> None:
    from httpx_cassette.http.aiohttp_shell import websocket_handshake

    two = [("Upgrade", "websocket"), ("Upgrade", "h2c"), ("Sec-WebSocket-Key", WS_KEY)]
    headers = multidict.CIMultiDict(two)
    assert not websocket_handshake(headers)
