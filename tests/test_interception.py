"""What `use_cassette` intercepts, and how its hooks come and go: a library imported late, another patch
laid over the hooks, custom transports (intercepted) and in-process or cassette transports (not)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport, use_cassette
from httpx_cassette.intercept.routes import TABLE
from tests.conftest import HAS_HTTPX2, ROOT
from tests.servers.openai_app import create_app
from tests.servers.runner import LiveServer

needs_httpx2 = pytest.mark.skipif(not HAS_HTTPX2, reason="httpx2 missing")


def run_fresh(code: str) -> dict[str, object]:
    """``code`` in a new interpreter (httpx2 not imported yet); the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return dict(json.loads(out.stdout.splitlines()[-1]))


PRELUDE = """
import json, sys, tempfile
from httpx_cassette import CassetteMiss, use_cassette

def caught():  # an httpx2 client inside a replay block over an empty cassette misses, if it is hooked
    import httpx2
    class Upstream(httpx2.BaseTransport):
        def handle_request(self, request):
            return httpx2.Response(200)
    try:
        httpx2.Client(transport=Upstream()).get("https://api.example.test/v1/models")
    except CassetteMiss:
        return True
    return False
"""


@needs_httpx2
def test_httpx2_imported_inside_an_open_block_is_caught() -> None:
    result = run_fresh(
        PRELUDE
        + """
with use_cassette(tempfile.mkdtemp(), mode="replay"):
    before = "httpx2" in sys.modules  # opening a block imports nothing on the user's behalf
    inside = caught()  # the first import of httpx2 happens here, with the block open
after = caught()  # no block open: the hooks are gone, the client's own transport answers
print(json.dumps({"before": before, "inside": inside, "after": after}))
"""
    )
    assert result == {"before": False, "inside": True, "after": False}


@needs_httpx2
def test_httpx2_imported_between_blocks_is_hooked_by_the_next_one() -> None:
    result = run_fresh(
        PRELUDE
        + """
with use_cassette(tempfile.mkdtemp(), mode="replay"):
    pass
import httpx2  # after the first block closed
with use_cassette(tempfile.mkdtemp(), mode="replay"):
    second = caught()
print(json.dumps({"second": second}))
"""
    )
    assert result == {"second": True}


@needs_httpx2
def test_httpx2_becoming_importable_mid_block_is_caught() -> None:
    # Not importable when the block opens (its path is hidden), then found: installed mid-run, say.
    result = run_fresh(
        PRELUDE
        + """
import importlib.util
hidden = importlib.util.find_spec("httpx2").submodule_search_locations[0].rsplit("/", 1)[0]
sys.path[:] = [p for p in sys.path if p.rstrip("/") != hidden]
sys.path_importer_cache.clear()
with use_cassette(tempfile.mkdtemp(), mode="replay"):
    missing = importlib.util.find_spec("httpx2") is None
    sys.path.append(hidden)
    inside = caught()
print(json.dumps({"missing": missing, "inside": inside}))
"""
    )
    assert result == {"missing": True, "inside": True}


def lay_a_patch_over(cls: type, monkeypatch: pytest.MonkeyPatch) -> object:
    """Patch over the hook on ``cls`` as another library would; the test's end restores the original."""
    ours = cls.__dict__["_transport_for_url"]

    def theirs(client: object, url: object) -> object:
        return ours(client, url)

    monkeypatch.setattr(cls, "_transport_for_url", theirs)
    return theirs


def test_a_patch_laid_over_the_hooks_is_left_inert_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = httpx.Client.__dict__["_transport_for_url"]
    monkeypatch.setattr(httpx.Client, "_transport_for_url", original)  # what the test's end puts back
    stranded = len(TABLE.hooks.stranded)

    def block_with_a_patch_laid_over() -> object:
        with use_cassette(tmp_path, mode="replay"):
            theirs = lay_a_patch_over(httpx.Client, monkeypatch)
            with pytest.raises(CassetteMiss):  # still intercepted through their patch
                httpx.Client(transport=Echo()).get("https://api.example.test/v1/models")
        return theirs

    with pytest.warns(RuntimeWarning, match=r"could not unhook httpx\.Client\._transport_for_url"):
        theirs = block_with_a_patch_laid_over()
    # The block closed while their patch sat on ours: ours stays (removing it would undo theirs), named.
    assert TABLE.hooks.stranded[stranded:] == ["httpx.Client._transport_for_url"]
    assert httpx.Client.__dict__["_transport_for_url"] is theirs
    echo = Echo()
    assert httpx.Client(transport=echo).get("https://api.example.test/v1/models").status_code == 200
    assert echo.sent == 1  # inert: with no block open the request reached the client's own transport


class Echo(httpx.BaseTransport):
    """A custom transport that never reaches the network: counts what it is sent."""

    def __init__(self) -> None:
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(200, json={"echo": request.url.path})


class Forwarding(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A custom transport of the kind SDKs ship (retries, logging...): forwards to a real one."""

    def __init__(self) -> None:
        self.sent = 0
        self.sync = httpx.HTTPTransport()
        self.async_ = httpx.AsyncHTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.async_.handle_async_request(request)


def test_a_custom_transport_is_recorded_and_replayed_with_its_server_stopped(tmp_path: Path) -> None:
    transport = Forwarding()
    with LiveServer(create_app()) as server, use_cassette(tmp_path, mode="record") as recording:
        client = httpx.Client(transport=transport, base_url=server.base_url)
        live = client.get("/models/gpt-4o").json()
    assert (transport.sent, len(recording.recorded)) == (1, 1)
    with use_cassette(tmp_path, mode="replay") as replay:
        assert client.get("/models/gpt-4o").json() == live  # the server is stopped: only replay can answer
    assert (transport.sent, len(replay.played)) == (1, 1)


async def test_a_custom_async_transport_is_recorded_and_replayed(tmp_path: Path) -> None:
    transport = Forwarding()
    with LiveServer(create_app()) as server, use_cassette(tmp_path, mode="record"):
        client = httpx.AsyncClient(transport=transport, base_url=server.base_url)
        live = (await client.get("/models")).json()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert (await client.get("/models")).json() == live
    assert (transport.sent, len(replay.played)) == (1, 1)
    await client.aclose()


def test_mock_transports_are_not_recorded(tmp_path: Path) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200, json={"mocked": True}))
    with use_cassette(tmp_path, mode="record") as block:
        answer = httpx.Client(transport=mock).get("https://api.example.test/v1/models")
    assert answer.json() == {"mocked": True}
    assert block.recorded == []
    assert list(tmp_path.glob("*.json")) == []


def test_an_explicit_cassette_transport_records_once(tmp_path: Path) -> None:
    echo = Echo()
    explicit = CassetteTransport(tmp_path / "explicit", mode="record", inner=echo)
    with use_cassette(tmp_path / "block", mode="record") as block:
        httpx.Client(transport=explicit).get("https://api.example.test/v1/models")
    assert (echo.sent, block.recorded, len(explicit.cassette.recorded)) == (1, [], 1)
    [file] = (tmp_path / "explicit").glob("*.json")
    assert len(json.loads(file.read_text())["responses"]) == 1
    assert not (tmp_path / "block").exists()


def test_no_doc_mentions_the_old_forwarding_flag() -> None:
    texts = [p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]]
    assert not [t for t in texts if "FORWARDING" in t]
