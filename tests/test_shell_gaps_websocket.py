"""A websocket handshake under a blocked network: no cassette can hold a websocket, so nothing records
or replays it, and ``--cassette-block-network`` refuses it (`NetworkBlocked`, reported by the plugin
like any blocked request) unless its host is let through: the ini options, a marker's or a
``use_cassette`` block's ``ignore_hosts`` / ``ignore_localhost``. Without a block it goes out as before.

The inner tests start their own aiohttp echo websocket on 127.0.0.1 and count what reaches it.
"""

from __future__ import annotations

import pytest

from tests.pytester_project import NATIVE, project

pytest.importorskip("aiohttp")

INNER = r"""
import asyncio
import os
import re

import aiohttp
import pytest
from aiohttp import web

from httpx_cassette import NetworkBlocked, use_cassette

EXPECT = os.environ["WS_EXPECT"]  # "blocked" or "open": what the run's options should make of a handshake
REFUSED = (
    r"network blocked \(--cassette-block-network\): GET ws://127\.0\.0\.1:\d+/ws was not served from a"
    r" cassette \(no cassette can hold a websocket\); let the host through with the cassette_ignore_hosts"
)


async def echo_server():
    hits = []

    async def echo(request):
        hits.append(request.headers.get("upgrade", "-"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str("echo " + message.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"ws://{host}:{port}/ws", hits


async def talk(url):
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str("hi")
        return await ws.receive_str()


async def expect(url, hits, outcome=None):
    if (outcome or EXPECT) == "blocked":
        with pytest.raises(NetworkBlocked, match=REFUSED):
            await talk(url)
        assert hits == []  # refused before it was sent
    else:
        assert await talk(url) == "echo hi"
        assert hits == ["websocket"]


def run(check, *args):
    async def main():
        runner, url, hits = await echo_server()
        try:
            await check(url, hits, *args)
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_without_a_cassette():
    run(expect)


@pytest.mark.cassette
def test_with_a_cassette():
    run(expect)


@pytest.mark.cassette(mode="record")
def test_with_a_cassette_recording():
    run(expect)  # recording lets HTTP out; a websocket it cannot record stays blocked


@pytest.mark.vcr("extra")  # pytest-recording's names: extra cassettes first, then the test's own
def test_with_extra_cassettes():
    run(expect)


def test_in_a_use_cassette_block(tmp_path):
    async def check(url, hits):
        with use_cassette(tmp_path, mode="record") as cassette:
            await expect(url, hits)
        assert not cassette.recorded and not list(tmp_path.glob("*.json"))

    run(check)


def test_a_block_letting_localhost_through(tmp_path):
    async def check(url, hits):
        with use_cassette(tmp_path, mode="replay", ignore_localhost=True):
            await expect(url, hits, "open")

    run(check)


@pytest.mark.cassette(ignore_hosts=["127.0.0.1"])
def test_a_marker_letting_the_host_through():
    run(expect, "open")


def test_swallowed():
    async def check(url, hits):
        try:
            await talk(url)
        except Exception:
            pass  # an SDK hiding the error: the plugin still fails the test
        assert hits == ([] if EXPECT == "blocked" else ["websocket"])

    run(check)
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    project(pytester, "http://127.0.0.1:9", monkeypatch)
    pytester.makepyfile(test_ws=INNER)
    return pytester


BLOCKED = [
    "test_without_a_cassette",
    "test_with_a_cassette",
    "test_with_a_cassette_recording",
    "test_with_extra_cassettes",
    "test_in_a_use_cassette_block",
    "test_swallowed",
]


def test_a_websocket_handshake_under_the_block_is_refused_and_reported(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WS_EXPECT", "blocked")
    result = inner.runpytest(*NATIVE, "--cassette-mode=replay", "--cassette-block-network")
    # Each refusal fails its test, caught or not, as a blocked HTTP request does: the plugin found it in
    # the blocker's list. The tests' own checks passed (pytest.raises, nothing reached the server).
    result.assert_outcomes(passed=2, failed=len(BLOCKED))
    out = result.stdout.str()
    assert sorted(line.split()[1] for line in out.splitlines() if line.startswith("FAILED")) == sorted(
        f"test_ws.py::{name}" for name in BLOCKED
    )
    refused = (
        "E   httpx_cassette.errors.NetworkBlocked: network blocked (--cassette-block-network):"
        " GET ws://127.0.0.1:*/ws was not served from a cassette (no cassette can hold a websocket);"
        " let the host through with the cassette_ignore_hosts / cassette_ignore_localhost ini options"
    )
    result.stdout.fnmatch_lines([line for name in BLOCKED for line in (f"*_ {name} _*", refused)])
    assert "AssertionError" not in out
    assert "Failed: DID NOT RAISE" not in out


@pytest.mark.parametrize(
    "allow", ["cassette_ignore_localhost=true", "cassette_ignore_hosts=127.0.0.1"], ids=["localhost", "hosts"]
)
def test_a_websocket_to_a_host_the_block_lets_through_goes_out(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, allow: str
) -> None:
    monkeypatch.setenv("WS_EXPECT", "open")
    result = inner.runpytest(*NATIVE, "--cassette-mode=replay", "--cassette-block-network", "-o", allow)
    result.assert_outcomes(passed=8)


def test_without_the_block_a_websocket_passes_every_cassette_by(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WS_EXPECT", "open")
    result = inner.runpytest(*NATIVE, "--cassette-mode=replay")
    result.assert_outcomes(passed=8)
