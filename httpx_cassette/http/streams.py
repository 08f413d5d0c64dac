"""The byte streams a transport hands its caller: a replayed one, and the recording tee.

Both are mixed with the caller library's stream bases by `Library.stream_type`, so they never import it.
The tee saves its recording when the stream ends or is closed; read asynchronously, it awaits the save
in a worker thread, so an event loop never waits on the disk.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from httpx_cassette.core.capture import Capture
from httpx_cassette.core.replay import Prepared
from httpx_cassette.http.worker import off_loop
from httpx_cassette.model.cassette import Response

__all__ = ["ReplayStream", "TeeStream"]


class ReplayStream:
    """Serves prepared chunks; raises the recorded failure after them, as upstream did."""

    def __init__(self, prepared: Prepared, failure: Exception | None) -> None:
        self._prepared = prepared
        self._failure = failure

    def __iter__(self) -> Iterator[bytes]:
        delays = self._prepared.delays
        if delays:
            for i, chunk in enumerate(self._prepared.chunks):
                time.sleep(delays[i])
                yield chunk
        else:  # instant replay: nothing to do between chunks (a 2,000-event stream is 2,000 of them)
            yield from self._prepared.chunks
        if self._failure is not None:
            raise self._failure

    async def __aiter__(self) -> AsyncIterator[bytes]:
        delays = self._prepared.delays
        if delays:
            import anyio  # only paced replay needs it; httpx depends on it

            for i, chunk in enumerate(self._prepared.chunks):
                await anyio.sleep(delays[i])
                yield chunk
        else:
            for chunk in self._prepared.chunks:
                yield chunk
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class TeeStream:
    """Wraps an upstream byte stream; mixed with the library's stream bases by `Library.stream_type`."""

    def __init__(self, upstream: Any, capture: Capture, on_done: Callable[[Response], None]) -> None:
        self._upstream = upstream
        self._capture = capture
        self._on_done: Callable[[Response], None] | None = on_done

    def _finish(self, *, truncated: bool) -> None:
        on_done, self._on_done = self._on_done, None
        if on_done is not None:  # once, whichever of end, failure or close comes first
            on_done(self._capture.finish(truncated=truncated))

    async def _finish_async(self, *, truncated: bool) -> None:
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            await off_loop(on_done, self._capture.finish(truncated=truncated))

    def _failed(self, exc: BaseException) -> None:
        self._capture.fail(exc)
        self._finish(truncated=False)

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._upstream:
                self._capture.feed(chunk)
                yield chunk
        except Exception as exc:
            self._failed(exc)
            raise
        self._finish(truncated=False)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._upstream:
                self._capture.feed(chunk)
                yield chunk
        except Exception as exc:
            self._capture.fail(exc)
            await self._finish_async(truncated=False)
            raise
        await self._finish_async(truncated=False)

    def close(self) -> None:
        try:
            self._finish(truncated=True)  # may refuse to save (a credential): the connection still closes
        finally:
            self._upstream.close()

    async def aclose(self) -> None:
        try:
            await self._finish_async(truncated=True)
        finally:
            await self._upstream.aclose()
