"""The byte streams a transport hands its caller: a replayed one, and the recording tee.

Both are mixed with the caller library's stream bases by `Library.stream_type`, so they never import it.
The tee saves its recording when the stream ends or is closed; read asynchronously, it awaits the save
in a worker thread, so an event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
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

    def feed(self, chunk: bytes) -> None:
        """Record one chunk the caller is being handed."""
        self._capture.feed(chunk)

    def digest(self) -> None:
        """Between chunks: parse what has arrived when it is a batch (`Capture.digest`)."""
        self._capture.digest()

    def finish(self, *, truncated: bool) -> None:
        """Report the recording: once, whichever of end, failure or close comes first."""
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done(self._capture.finish(truncated=truncated))

    async def _finish_async(self, *, truncated: bool) -> None:
        """`finish` with the save (a file write and fsync) in a worker thread, off the event loop."""
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            await off_loop(on_done, self._capture.finish(truncated=truncated))

    def failed(self, exc: BaseException) -> None:
        """The upstream failed mid-body: record the failure after what arrived."""
        self._capture.fail(exc)
        self.finish(truncated=False)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Around reading the upstream: a failure is captured, the end saves the response.

        A consumer that stops early (GeneratorExit) does neither: `close` saves it as truncated.
        """
        try:
            yield
        except Exception as exc:
            self.failed(exc)
            raise
        self.finish(truncated=False)

    def tee(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Hand on ``chunks`` one by one as they arrive, recording each (the aiohttp and requests
        shells tee their libraries' own chunk iterators through this)."""
        feed, digest = self._capture.feeder(), self._capture.digest
        with self._reading():
            for chunk in chunks:
                feed(chunk)
                yield chunk
                digest()  # the caller has the chunk; the next one is on its way

    def __iter__(self) -> Iterator[bytes]:
        return self.tee(self._upstream)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        feed, digest = self._capture.feeder(), self._capture.digest
        try:
            async for chunk in self._upstream:
                feed(chunk)
                yield chunk
                digest()
        except Exception as exc:
            self._capture.fail(exc)
            await self._finish_async(truncated=False)
            raise
        await self._finish_async(truncated=False)

    def close(self) -> None:
        try:
            self.finish(truncated=True)  # may refuse to save (a credential): the connection still closes
        finally:
            self._upstream.close()

    async def aclose(self) -> None:
        try:
            await self._finish_async(truncated=True)
        finally:
            await self._upstream.aclose()
