"""Replay contenders, through the OpenAI SDK and at transport level, sync and async.

Every contender serves the same recorded exchange. The floor is the library's own MockTransport
returning the prebuilt response; respx serves the same prebuilt bytes from a route; httpx_cassette,
vcrpy and cassetter replay what they recorded from the live server. vcrpy and cassetter patch the
library while their cassette is in use, so their context is entered around each timed block (not
inside it) and left before anything else runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import openai

from httpx_cassette import CassetteTransport

from .fixtures import API_KEY, Recorded
from .timing import Block, Case

LEVELS = ("sdk", "transport")
MODES = ("sync", "async")


def _lib(name: str) -> ModuleType:
    return importlib.import_module(name)


def _chunk_stream(lib: ModuleType, chunks: list[bytes]) -> Any:
    """A response stream of ``lib`` yielding ``chunks`` one by one, sync or async."""

    class Chunks(lib.SyncByteStream, lib.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __iter__(self) -> Iterator[bytes]:
            yield from chunks

        async def __aiter__(self) -> Any:
            for chunk in chunks:
                yield chunk

    return Chunks()


def _floor(rec: Recorded, lib: ModuleType, is_async: bool) -> Any:
    return lib.MockTransport(lambda request: lib.Response(rec.status, headers=rec.headers, content=rec.body))


def _floor_chunked(rec: Recorded, lib: ModuleType, is_async: bool) -> Any:
    chunks = rec.chunks
    return lib.MockTransport(
        lambda request: lib.Response(rec.status, headers=rec.headers, stream=_chunk_stream(lib, chunks))
    )


def _ours(rec: Recorded, lib: ModuleType, is_async: bool) -> Any:
    return CassetteTransport(rec.ours, mode="replay")


def _respx(rec: Recorded, lib: ModuleType, is_async: bool) -> Any:
    import respx

    router = respx.Router(assert_all_called=False)
    router.post(rec.url).respond(rec.status, headers=rec.headers, content=rec.body)
    transport = lib.MockTransport(router.async_handler if is_async else router.handler)
    transport.respx_router = router  # for _forget_calls
    return transport


def _forget_calls(transport: Any) -> None:
    """Between blocks: respx keeps every request and response it served (for assertions); over a run
    that is gigabytes, and every later garbage collection would walk them."""
    router = getattr(transport, "respx_router", None)
    if router is not None:
        router.reset()


def _real(rec: Recorded, lib: ModuleType, is_async: bool) -> Any:
    # What vcrpy and cassetter patch; in replay it never opens a connection.
    return lib.AsyncHTTPTransport() if is_async else lib.HTTPTransport()


def _no_context(rec: Recorded) -> ContextManager[Any]:
    return contextlib.nullcontext()


def _vcrpy_context(rec: Recorded) -> ContextManager[Any]:
    import vcr  # type: ignore[import-untyped]

    context: ContextManager[Any] = vcr.VCR(record_mode="none").use_cassette(
        str(rec.vcrpy), allow_playback_repeats=True
    )
    return context


def _cassetter_context(rec: Recorded) -> ContextManager[Any]:
    import cassetter

    return cassetter.use_cassette(rec.cassetter, record_mode="none")


@dataclass(frozen=True)
class Contender:
    name: str
    lib: str
    floor: str
    transport: Callable[[Recorded, ModuleType, bool], Any]
    context: Callable[[Recorded], ContextManager[Any]] = _no_context
    streams_only: bool = False


def contenders(libs: tuple[str, ...]) -> list[Contender]:
    found: list[Contender] = []
    for lib in libs:
        floor = f"floor ({lib})"
        found.append(Contender(floor, lib, floor, _floor))
        # The same floor measured again: how far from 1.00x the method itself lands (its noise).
        found.append(Contender(f"floor, again ({lib})", lib, floor, _floor))
        if lib == "httpx":
            found.append(
                Contender(f"floor, chunk per event ({lib})", lib, floor, _floor_chunked, streams_only=True)
            )
        found.append(Contender(f"httpx_cassette ({lib})", lib, floor, _ours))
        if lib == "httpx":  # respx mocks httpx only
            found.append(Contender(f"respx ({lib})", lib, floor, _respx))
        found.append(Contender(f"vcrpy ({lib})", lib, floor, _real, _vcrpy_context))
        found.append(Contender(f"cassetter ({lib})", lib, floor, _real, _cassetter_context))
    return found


# ------------------------------------------------------------------------------------------ blocks


def _sdk_block(rec: Recorded, c: Contender, is_async: bool, loop: asyncio.AbstractEventLoop) -> Block:
    lib = _lib(c.lib)
    transport = c.transport(rec, lib, is_async)
    kwargs = rec.scenario.sdk_kwargs()
    stream = rec.scenario.stream
    if not is_async:
        client = openai.OpenAI(
            base_url=rec.base_url, api_key=API_KEY, max_retries=0, http_client=lib.Client(transport=transport)
        )

        def block(n: int) -> float:
            with c.context(rec):
                start = time.perf_counter()
                for _ in range(n):
                    result: Any = client.chat.completions.create(**kwargs)
                    if stream:
                        for _ in result:
                            pass
                spent = time.perf_counter() - start
            _forget_calls(transport)
            return spent

        return block

    aclient = openai.AsyncOpenAI(
        base_url=rec.base_url,
        api_key=API_KEY,
        max_retries=0,
        http_client=lib.AsyncClient(transport=transport),
    )

    async def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            result: Any = await aclient.chat.completions.create(**kwargs)
            if stream:
                async for _ in result:
                    pass
        return time.perf_counter() - start

    def ablock(n: int) -> float:
        with c.context(rec):
            spent = loop.run_until_complete(run(n))
        _forget_calls(transport)
        return spent

    return ablock


def _transport_block(rec: Recorded, c: Contender, is_async: bool, loop: asyncio.AbstractEventLoop) -> Block:
    """Request in, all bytes read: no client, no SDK; the requests are built before the clock starts."""
    lib = _lib(c.lib)
    transport = c.transport(rec, lib, is_async)

    def requests(n: int) -> list[Any]:
        return [
            lib.Request("POST", rec.url, headers=rec.request_headers, content=rec.request_body)
            for _ in range(n)
        ]

    if not is_async:

        def block(n: int) -> float:
            todo = requests(n)
            with c.context(rec):
                start = time.perf_counter()
                for request in todo:
                    response = transport.handle_request(request)
                    response.read()
                    response.close()
                spent = time.perf_counter() - start
            _forget_calls(transport)
            return spent

        return block

    async def run(todo: list[Any]) -> float:
        start = time.perf_counter()
        for request in todo:
            response = await transport.handle_async_request(request)
            await response.aread()
            await response.aclose()
        return time.perf_counter() - start

    def ablock(n: int) -> float:
        todo = requests(n)
        with c.context(rec):
            spent = loop.run_until_complete(run(todo))
        _forget_calls(transport)
        return spent

    return ablock


def scenario_name(level: str, mode: str, rec: Recorded) -> str:
    return f"{level} {mode} {rec.scenario.name}"


def cases(
    recorded: dict[str, Recorded], libs: tuple[str, ...], loop: asyncio.AbstractEventLoop
) -> list[Case]:
    """Every (level, mode, scenario, contender) to time."""
    found: list[Case] = []
    for level in LEVELS:
        for mode in MODES:
            for rec in recorded.values():
                for c in contenders(libs):
                    if c.streams_only and not rec.scenario.stream:
                        continue
                    make = _sdk_block if level == "sdk" else _transport_block
                    block = make(rec, c, mode == "async", loop)
                    found.append(Case(scenario_name(level, mode, rec), c.name, c.floor, block))
    return found


# ------------------------------------------------------------------------------------------ checks


def check(recorded: dict[str, Recorded], libs: tuple[str, ...], loop: asyncio.AbstractEventLoop) -> None:
    """Before timing anything: every contender must serve the same events the server sent."""
    for rec in recorded.values():
        expected = _payload(rec, rec.body)
        for c in contenders(libs):
            lib = _lib(c.lib)
            for is_async in (False, True):
                transport = c.transport(rec, lib, is_async)
                request = lib.Request("POST", rec.url, headers=rec.request_headers, content=rec.request_body)
                with c.context(rec):
                    if is_async:
                        body = loop.run_until_complete(_aread(transport, request))
                    else:
                        response = transport.handle_request(request)
                        body = response.read()
                        response.close()
                if _payload(rec, body) != expected:
                    raise AssertionError(f"{c.name} served a different response for {rec.scenario.name}")


async def _aread(transport: Any, request: Any) -> bytes:
    response = await transport.handle_async_request(request)
    body: bytes = await response.aread()
    await response.aclose()
    return body


def _payload(rec: Recorded, body: bytes) -> Any:
    """The body as JSON values: the object, or each event's data (byte-level spacing may differ)."""
    if not rec.scenario.stream:
        return json.loads(body)
    return [
        json.loads(e[len(b"data: ") :]) if e != b"data: [DONE]" else "[DONE]"
        for e in body.split(b"\n\n")
        if e
    ]
