"""Async clients never wait on the disk: a cassette's lookups, its directory lock and its writes run in a
worker thread, so a slow disk delays the request that needs it and no other task on the event loop.

Each test runs under asyncio and trio (through anyio), with a heartbeat task ticking every 10 ms beside
a request whose disk work is made to take 0.3 s; the largest gap between ticks must stay far below that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport

DELAY = 0.5  # what the slowed disk step takes: a loop it blocked would wait this long between ticks
TOLERATED = 0.25  # the largest heartbeat gap allowed: half of DELAY, loose enough for a busy machine
URL = "https://api.example.test/v1/things"
BACKENDS = ["asyncio", "trio"]


def slowed(fn: Callable[..., Any]) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(DELAY)  # a blocking call, as a slow disk's read or fsync is
        return fn(*args, **kwargs)

    return slow


async def largest_gap(work: Callable[[], Awaitable[None]]) -> float:
    """Run ``work`` beside a task ticking every 10 ms; the longest it waited between two ticks."""
    # The first worker-thread call of a process imports anyio's thread machinery for the backend: a
    # one-time cost (tens of ms on a busy machine) that is not disk work, so it is paid before timing.
    await anyio.to_thread.run_sync(lambda: None)
    gaps: list[float] = []
    done = anyio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await anyio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(heartbeat)
        await anyio.sleep(0.03)  # the heartbeat is ticking before the request starts
        started = time.perf_counter()
        await work()
        assert time.perf_counter() - started >= DELAY  # the slow step did run, inside the request
        await anyio.sleep(0.03)  # a last tick or two: a loop blocked until now shows as one long gap
        done.set()
    return max(gaps)


async def chunks() -> AsyncIterator[bytes]:
    yield b'{"ok": '
    yield b"1}"


def streamed(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=chunks())


def answered(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": 1})  # MockTransport hands this back already read


def client_of(transport: CassetteTransport) -> httpx.AsyncClient:
    # Built before the clock starts: a client's SSL context costs CPU time on a busy machine, not disk.
    return httpx.AsyncClient(transport=transport)


async def get(client: httpx.AsyncClient) -> Any:
    return (await client.post(URL, json={"n": 1})).json()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("handler", [streamed, answered], ids=["streamed", "read"])
def test_a_slow_write_does_not_stall_other_tasks(
    tmp_path: Path, backend: str, handler: Callable[[httpx.Request], httpx.Response]
) -> None:
    transport = CassetteTransport(tmp_path, "record", inner=httpx.MockTransport(handler))
    store = transport.cassette.store
    store.write = slowed(store.write)  # type: ignore[method-assign]
    client = client_of(transport)

    async def work() -> None:
        assert await get(client) == {"ok": 1}

    assert anyio.run(largest_gap, work, backend=backend) < TOLERATED
    assert len(list(tmp_path.glob("*.json"))) == 1  # and the recording was saved


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_slow_lookup_does_not_stall_other_tasks(tmp_path: Path, backend: str) -> None:
    anyio.run(get, client_of(CassetteTransport(tmp_path, "record", inner=httpx.MockTransport(answered))))
    replayer = CassetteTransport(tmp_path, "replay")
    store = replayer.cassette.store
    store.get = slowed(store.get)  # type: ignore[method-assign]
    client = client_of(replayer)

    async def work() -> None:
        assert await get(client) == {"ok": 1}

    assert anyio.run(largest_gap, work, backend=backend) < TOLERATED


@pytest.mark.parametrize("backend", BACKENDS)
def test_waiting_for_the_directory_lock_does_not_stall_other_tasks(tmp_path: Path, backend: str) -> None:
    transport = CassetteTransport(tmp_path, "record", inner=httpx.MockTransport(answered))
    lock = transport.cassette.store.lock
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer (a thread here; a process works the same) holds the lock
        with lock:
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    client = client_of(transport)

    async def work() -> None:
        threading.Timer(DELAY, release.set).start()  # the other writer lets go DELAY from now
        assert await get(client) == {"ok": 1}

    try:
        assert anyio.run(largest_gap, work, backend=backend) < TOLERATED
    finally:
        release.set()
        holder.join()


@pytest.mark.parametrize("strict", [True, False])
def test_async_repeats_replay_in_order_from_memory(tmp_path: Path, strict: bool) -> None:
    # After the first lookup an async replay is served from memory, off the worker thread: same order.
    answers = iter([{"n": 1}, {"n": 2}])
    recorder = CassetteTransport(
        tmp_path, "record", inner=httpx.MockTransport(lambda r: httpx.Response(200, json=next(answers)))
    )

    async def twice(client: httpx.AsyncClient) -> list[Any]:
        return [await get(client), await get(client)]

    assert anyio.run(twice, client_of(recorder)) == [{"n": 1}, {"n": 2}]
    replayer = CassetteTransport(tmp_path, "replay", strict_repeats=strict)

    async def thrice(client: httpx.AsyncClient) -> list[Any]:
        played = await twice(client)
        try:
            return [*played, await get(client)]
        except CassetteMiss:
            return [*played, "miss"]

    third = "miss" if strict else {"n": 2}
    assert anyio.run(thrice, client_of(replayer)) == [{"n": 1}, {"n": 2}, third]
    assert (
        replayer.cassette.played
        == [(replayer.cassette.played[0][0], i) for i in (0, 1, 1)][: 2 if strict else 3]
    )
