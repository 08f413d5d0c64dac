"""Recording overhead against the live transport, on the test suite's server in a child process.

Time to first chunk on a server that paces its events (the first event is sent at once, the next
ones ``delay_ms`` apart): what a recording adds before the caller sees anything; and, on a long paced
stream, the time from the caller's last chunk to the end: what the recording still has to do once the
stream is over. Total time of an unpaced 2,000-event stream: what parsing and writing the recording
costs over reading it. Peers are
measured the same way; their context is entered before the clock starts, and left (which writes
their cassette) before it stops.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpx_cassette import CassetteTransport

from .fixtures import API_KEY


@dataclass
class Recorder:
    name: str
    lib: str
    live: str  # the contender this one is compared with
    transport: Callable[[Any, Path], Any]  # (warm inner transport, cassette dir) -> the client's transport
    context: Callable[[Path], AbstractContextManager[Any]] = lambda path: contextlib.nullcontext()


def _live(inner: Any, path: Path) -> Any:
    return inner


def _ours(inner: Any, path: Path) -> Any:
    return CassetteTransport(path, mode="record", inner=inner)


def _vcrpy(path: Path) -> AbstractContextManager[Any]:
    import vcr  # type: ignore[import-untyped]

    context: AbstractContextManager[Any] = vcr.VCR(record_mode="all").use_cassette(
        str(path / "cassette.yaml")
    )
    return context


def _cassetter(path: Path) -> AbstractContextManager[Any]:
    import cassetter

    return cassetter.use_cassette(path / "cassette.yaml", record_mode="all")


def recorders(libs: tuple[str, ...]) -> list[Recorder]:
    found: list[Recorder] = []
    for lib in libs:
        live = f"live ({lib})"
        found += [Recorder(live, lib, live, _live), Recorder(f"httpx_cassette ({lib})", lib, live, _ours)]
    found += [
        Recorder("vcrpy (httpx)", "httpx", "live (httpx)", _live, _vcrpy),
        Recorder("cassetter (httpx)", "httpx", "live (httpx)", _live, _cassetter),
    ]
    return found


@dataclass
class Timing:
    first_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    tail_ms: list[float] = field(default_factory=list)  # from the caller's last chunk to the end


def _body(n_chunks: int, delay_ms: float) -> bytes:
    metadata = {"n_chunks": str(n_chunks), "delay_ms": str(delay_ms)}
    messages = [{"role": "user", "content": "Stream me something."}]
    return json.dumps(
        {"model": "gpt-4o-mini", "messages": messages, "stream": True, "metadata": metadata}
    ).encode()


def _one(
    recorder: Recorder, inner: Any, base_url: str, body: bytes, path: Path, timing: Timing, *, paced: bool
) -> None:
    lib = importlib.import_module(recorder.lib)
    # Not closed: that would close the shared inner transport (and its warm keep-alive connection).
    client = lib.Client(transport=recorder.transport(inner, path))
    headers = {"content-type": "application/json", "authorization": f"Bearer {API_KEY}"}
    context = recorder.context(path)
    context.__enter__()
    try:
        start = time.perf_counter()
        with client.stream("POST", f"{base_url}/chat/completions", content=body, headers=headers) as response:
            chunks = response.iter_bytes()  # not iter_raw: cassetter hands back a read response
            next(chunks)
            first = last = time.perf_counter()
            if paced:
                for _ in chunks:
                    last = time.perf_counter()
            else:  # no clock per chunk in the bulk total
                for _ in chunks:
                    pass
    finally:
        context.__exit__(None, None, None)
    end = time.perf_counter()
    timing.first_ms.append((first - start) * 1000)
    timing.total_ms.append((end - start) * 1000)
    if paced:
        timing.tail_ms.append((end - last) * 1000)


def measure(
    base_url: str, root: Path, libs: tuple[str, ...], rounds: int, n_chunks: int, delay_ms: float
) -> dict[str, Timing]:
    """Interleaved rounds of one stream per recorder, each into a new directory (a first recording).

    Every recorder sends through its own warm transport (SSL context built, connection kept alive),
    created before the clock starts, as a client's own transport is; round 0 warms it and is dropped.
    """
    body = _body(n_chunks, delay_ms)
    found = {r.name: Timing() for r in recorders(libs)}
    inners = {r.name: importlib.import_module(r.lib).HTTPTransport() for r in recorders(libs)}
    try:
        for n in range(rounds + 1):
            for recorder in recorders(libs):
                slug = recorder.name.replace(" ", "_").replace("(", "").replace(")", "")
                path = root / slug / f"run-{n}"
                path.mkdir(parents=True)
                timing = found[recorder.name] if n else Timing()
                _one(recorder, inners[recorder.name], base_url, body, path, timing, paced=delay_ms > 0)
                if recorder.name != recorder.live and not any(path.iterdir()):
                    raise AssertionError(f"{recorder.name} recorded nothing in {path}")
    finally:
        for inner in inners.values():
            inner.close()
    return found


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(ours: list[float], live: list[float]) -> float:
    """The median over rounds of a round's time as a ratio to live's in the same round (as replay's
    cells are taken): a slow spell of the machine slows both sides of a round alike."""
    return statistics.median(a / b for a, b in zip(ours, live, strict=True))
