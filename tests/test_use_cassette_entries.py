"""One `use_cassette(...)` object entered several times at once: by overlapping asyncio tasks, by threads,
and as a decorator on a test run concurrently. Each entry gets its own session and each exit closes its
own entry, whatever order they leave in."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteSession, use_cassette

BASE = "https://api.example.test"


class Upstream(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A client's own transport (custom, so the cassette intercepts it): answers with the path it got."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return httpx.Response(200, json={"path": request.url.path})

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


def stored_paths(path: Path) -> list[str]:
    return sorted(f.name.rsplit("-", 1)[0] for f in path.glob("*.json"))


def hooked() -> bool:
    return httpx.Client._transport_for_url.__name__ == "_transport_for_url" and hasattr(
        httpx.Client._transport_for_url, "__wrapped__"
    )


def replays_without_upstream(path: Path, *paths: str) -> None:
    upstream = Upstream()
    with use_cassette(path, mode="replay") as replay, httpx.Client(transport=upstream, base_url=BASE) as c:
        assert [c.get(p).json()["path"] for p in paths] == list(paths)
    assert upstream.paths == []
    assert len(replay.played) == len(paths)


async def test_one_object_entered_by_two_overlapping_tasks(tmp_path: Path) -> None:
    block = use_cassette(tmp_path, mode="record")
    upstream = Upstream()
    client = httpx.AsyncClient(transport=upstream, base_url=BASE)
    both_in, first_out = asyncio.Event(), asyncio.Event()
    inside: list[CassetteSession] = []

    async def first() -> CassetteSession:
        with block as session:
            inside.append(session)
            await both_in.wait()
            await client.get("/first")
        first_out.set()  # left while the second task's entry is still open
        return session

    async def second() -> CassetteSession:
        with block as session:
            inside.append(session)
            both_in.set()
            await first_out.wait()
            await client.get("/second")  # still served by this entry's own session
        return session

    a, b = await asyncio.gather(first(), second())
    await client.aclose()
    assert a is not b
    assert [key for key, _ in a.recorded] != [key for key, _ in b.recorded]
    assert (len(a.recorded), len(b.recorded)) == (1, 1)
    assert upstream.paths == ["/first", "/second"]
    assert stored_paths(tmp_path) == ["get-first", "get-second"]
    assert not hooked()  # both exits closed their entries: nothing left open
    replays_without_upstream(tmp_path, "/first", "/second")


def test_one_object_entered_by_two_threads(tmp_path: Path) -> None:
    block = use_cassette(tmp_path, mode="record")
    both_in = threading.Barrier(2, timeout=5)
    first_out = threading.Event()
    sessions: dict[str, CassetteSession] = {}

    def run(name: str) -> None:
        with block as session, httpx.Client(transport=Upstream(), base_url=BASE) as client:
            sessions[name] = session
            both_in.wait()
            if name == "second":
                first_out.wait(5)
            client.get(f"/{name}")
        if name == "first":
            first_out.set()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sessions["first"] is not sessions["second"]
    assert [len(s.recorded) for s in sessions.values()] == [1, 1]
    assert stored_paths(tmp_path) == ["get-first", "get-second"]
    assert not hooked()
    replays_without_upstream(tmp_path, "/first", "/second")


def test_the_decorator_on_a_test_run_concurrently(tmp_path: Path) -> None:
    upstream = Upstream()
    both_in = threading.Barrier(2, timeout=5)

    @use_cassette(tmp_path, mode="record")
    def sync_test(name: str) -> Any:
        both_in.wait()  # two calls inside their blocks at once: the first to leave must not close the other
        with httpx.Client(transport=upstream, base_url=BASE) as client:
            return client.get(f"/sync-{name}").json()

    @use_cassette(tmp_path, mode="record")
    async def async_test(name: str, ready: asyncio.Event, delay: float) -> Any:
        ready.set()
        await asyncio.sleep(delay)
        async with httpx.AsyncClient(transport=upstream, base_url=BASE) as client:
            return (await client.get(f"/async-{name}")).json()

    threads = [threading.Thread(target=sync_test, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def both() -> list[Any]:
        ready = asyncio.Event()
        return list(await asyncio.gather(async_test("a", ready, 0.0), async_test("b", ready, 0.05)))

    assert asyncio.run(both()) == [{"path": "/async-a"}, {"path": "/async-b"}]
    assert stored_paths(tmp_path) == ["get-async-a", "get-async-b", "get-sync-a", "get-sync-b"]
    assert not hooked()
    replays_without_upstream(tmp_path, "/sync-a", "/sync-b", "/async-a", "/async-b")


# -- each exit reports its own entry's miss: what the wrong entry would not ---------------------------


class SDKError(Exception):
    """What an SDK turns a transport exception into (hiding the miss, which the exit raises again)."""


async def test_overlapping_tasks_each_exit_raises_its_own_miss(tmp_path: Path) -> None:
    block = use_cassette(tmp_path, mode="replay")  # an empty cassette: every request misses
    client = httpx.AsyncClient(transport=Upstream(), base_url=BASE)
    both_in, first_out = asyncio.Event(), asyncio.Event()

    async def inside(name: str, wait_for: asyncio.Event | None) -> None:
        with block:
            if wait_for is None:
                await both_in.wait()
            else:
                both_in.set()
                await wait_for.wait()  # the first task has left by now
            try:
                await client.get(f"/{name}")
            except CassetteMiss as exc:
                raise SDKError("Connection error.") from exc

    async def enter(name: str, *, wait_for: asyncio.Event | None) -> None:
        with pytest.raises(CassetteMiss, match=f"GET /{name} ") as raised:
            await inside(name, wait_for)
        assert isinstance(raised.value.__cause__, SDKError)
        first_out.set()

    await asyncio.gather(enter("first", wait_for=None), enter("second", wait_for=first_out))
    await client.aclose()
    assert not hooked()


def test_threads_each_exit_raises_its_own_miss(tmp_path: Path) -> None:
    block = use_cassette(tmp_path, mode="replay")
    both_in = threading.Barrier(2, timeout=5)
    first_out = threading.Event()
    raised: dict[str, BaseException] = {}

    def enter(name: str) -> None:
        try:
            with block, httpx.Client(transport=Upstream(), base_url=BASE) as client:
                both_in.wait()
                if name == "second":
                    first_out.wait(5)
                try:
                    client.get(f"/{name}")
                except CassetteMiss as exc:
                    raise SDKError("Connection error.") from exc
        except BaseException as exc:  # looked at below, in the test's thread
            raised[name] = exc
        first_out.set()

    threads = [threading.Thread(target=enter, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in ("first", "second"):
        assert isinstance(raised[name], CassetteMiss), raised[name]
        assert f"GET /{name} " in str(raised[name])
    assert not hooked()
