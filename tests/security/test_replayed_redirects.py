"""A redirect a cassette replays never sends a request to the network at another host. In record-missing a
client follows the redirect it was replayed, and a miss goes out live with the client's headers: httpx
strips only Authorization on a redirect to another host, so an ``x-goog-api-key`` or ``x-api-key`` would go
along. A pull request can edit a recorded answer into ``307 Location: https://evil.example/``; the request
to evil.example is refused (`CassetteSecretError`) and nothing reaches it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport, use_cassette
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

URL = "https://api.example.com/v1/data"
KEY_HEADERS = {"x-goog-api-key": "AIza" + "SyFakeFakeFakeFakeFakeFakeFake12345"}


def _edited(path: Path, url: str, location: str, status: int = 307) -> None:
    """A recorded answer to ``url``, then a pull request's edit of it into a redirect to ``location``."""
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
        client.get(url)
    [file] = path.glob("*.json")
    data = json.loads(file.read_text())
    data["responses"][0] = {"status": status, "headers": {"location": location}}
    file.write_text(json.dumps(data))


def _follow(path: Path, url: str) -> list[str]:
    seen: list[str] = []

    def live(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"live": True})

    transport = CassetteTransport(path, mode="record-missing", inner=httpx.MockTransport(live))
    with httpx.Client(transport=transport, follow_redirects=True, headers=KEY_HEADERS) as client:
        client.get(url)
    return seen


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/collect",
        "//evil.example/collect",
        "https://EVIL.example./collect",
        "http://api.example.com%2F@evil.example/collect",
        "HTTPS://Evil.Example:443/collect",
        "https://api.example.com.evil.example/collect",
        # IDNA 2008, as httpx sends it (IDNA 2003 reads this host as fass.example), and an IPv6 literal
        "https://faß.example/collect",
        "http://[0:0::1]:8080/collect",
        # the same host, but not the origin the client sent its key to: cleartext, another port
        "http://api.example.com/collect",
        "http:?collect=1",
        "https://api.example.com:8443/collect",
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_replayed_redirect_to_another_host_is_not_forwarded(
    tmp_path: Path, location: str, status: int
) -> None:
    _edited(tmp_path, URL, location, status)
    with pytest.raises(CassetteSecretError, match="refusing to forward") as refused:
        _follow(tmp_path, URL)
    assert "a redirect replayed from the cassette" in str(refused.value)
    assert list(tmp_path.glob("*.json")) == [next(tmp_path.glob("*.json"))]  # nothing else was written


@pytest.mark.parametrize("location", ["/v1/next", "https://api.example.com/v1/next"])
def test_a_replayed_redirect_to_the_same_host_is_followed_and_recorded(tmp_path: Path, location: str) -> None:
    _edited(tmp_path, URL, location)
    assert _follow(tmp_path, URL) == ["https://api.example.com/v1/next"]
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_request_the_code_sends_to_another_host_is_still_forwarded(tmp_path: Path) -> None:
    _edited(tmp_path, URL, "https://evil.example/collect")
    transport = CassetteTransport(
        tmp_path, mode="record-missing", inner=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    with httpx.Client(transport=transport) as client:  # no redirect followed: the code's own request
        assert client.get("https://other.example/v1/x").status_code == 200
        assert client.get(URL).status_code == 307  # replayed, not followed


@pytest.fixture
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def test_requests_following_a_replayed_redirect_is_refused_too(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    requests = pytest.importorskip("requests")
    url = f"{server.url}/v1/models"
    with use_cassette(tmp_path, mode="record"):
        requests.get(url, timeout=10)
    [file] = tmp_path.glob("*.json")
    data = json.loads(file.read_text())
    elsewhere = url.replace("127.0.0.1", "localhost").replace("/v1/models", "/v1/collect")
    data["responses"][0] = {"status": 302, "headers": {"location": elsewhere}}
    file.write_text(json.dumps(data))
    with (
        use_cassette(tmp_path, mode="record-missing"),
        pytest.raises(CassetteSecretError, match="refusing to forward"),
    ):
        requests.get(url, headers={"x-api-key": "k" * 40}, timeout=10)


def test_aiohttp_following_a_replayed_uri_header_is_refused_too(tmp_path: Path) -> None:
    """aiohttp follows a 3xx by ``URI`` when it has no ``Location``."""
    aiohttp = pytest.importorskip("aiohttp")
    url = "http://127.0.0.1:9/v1/data"  # never reached: the recording is made through a mock
    _edited(tmp_path, url, "", 302)
    [file] = tmp_path.glob("*.json")
    data = json.loads(file.read_text())
    data["responses"][0]["headers"] = {"uri": "http://localhost:9/collect"}
    file.write_text(json.dumps(data))

    async def follow() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get(url, headers={"x-api-key": "k" * 40})

    with (
        use_cassette(tmp_path, mode="record-missing"),
        pytest.raises(CassetteSecretError, match="refusing to forward"),
    ):
        asyncio.run(follow())
