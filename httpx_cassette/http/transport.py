"""CassetteTransport: the transport users put under their clients.

One object serves httpx and httpx2 clients, sync and async. Both entry points are thin shells over
the same steps (`_plan`, `_replay`, `_tee`, `_failed`); only reading the request body and calling
the inner transport differ between sync and async.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from httpx_cassette._version import __version__
from httpx_cassette.config import CassetteConfig, Mode, Overrides
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.key import canonical_form
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.core.request import to_record
from httpx_cassette.http.library import Library, library_of
from httpx_cassette.http.sdk_errors import sdk_proof, sdk_proof_async
from httpx_cassette.http.streams import ReplayStream, TeeStream
from httpx_cassette.model.cassette import Meta, Response, TransportFailure
from httpx_cassette.storage.cassette import Cassette

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncInner", "CassetteTransport", "Inner", "SyncInner"]


class SyncInner(Protocol):
    """A sync transport to forward to: ``httpx.HTTPTransport()``, an httpx2 one, a MockTransport..."""

    def handle_request(self, request: Any, /) -> Any: ...


class AsyncInner(Protocol):
    """An async transport to forward to: ``httpx.AsyncHTTPTransport()``, an httpx2 one..."""

    async def handle_async_request(self, request: Any, /) -> Any: ...


Inner = SyncInner | AsyncInner


class CassetteTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Records and replays the requests of any httpx or httpx2 client it sits under.

    Configured by ``config`` (a `CassetteConfig`) and/or its flat keywords (``ignore_json_paths=``,
    ``redact_headers=``... the names of `httpx_cassette.config.FLAT`), which override it.
    ``mode`` is ``"replay"`` (never touches the network; a miss raises `CassetteMiss`), ``"record"``
    (forwards and overwrites what it touches), ``"record-missing"`` (replays what exists, records the
    rest) or ``"live"`` (forwards, writes nothing); by default ``$HTTPX_CASSETTE_MODE`` or replay.
    ``inner`` is the transport record modes forward to (default: a real transport of the request's
    own library, created when first needed). Binary response bodies over ``max_inline_bytes`` are
    kept in side files next to the JSON (``<json stem>.<n>.bin``) instead of inline base64.

    Secrets: authorization, API-key and cookie headers and secret query parameters are never stored.
    ``redact_json_paths`` names more body fields to store as ``"REDACTED"`` (requests, responses and
    stream events; the syntax of ``ignore_json_paths``), ``redact_headers`` more headers never to store,
    and ``placeholders`` maps a placeholder to a secret value (``{"<ACCOUNT>": os.environ["ACCOUNT"]}``)
    that is written as the placeholder wherever it appears and put back into replayed responses. All of
    it happens before a request is keyed, so replays still match. Every recording is then scanned for
    credential-looking values (``sk-...``, bearer tokens, AWS keys, JWTs, random tokens in headers) and
    refused with `CassetteSecretError`, nothing written, unless ``allow_secrets`` lists the value
    (exact strings, or compiled regular expressions matching it whole).

    The directory may hold llama-stack recordings too, replayed as they are. ``scope`` (a test id)
    replays only the responses recorded for that test (and those recorded for none), and marks new
    ones with it; ``format="llama-stack"`` makes record modes write llama-stack recordings (one file
    per response, with ``scope`` as their ``test_id``; see `httpx_cassette.formats.llamastack`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: Mode | None = None,
        *,
        config: CassetteConfig | None = None,
        inner: Inner | None = None,
        **overrides: Unpack[Overrides],
    ) -> None:
        if mode is not None:
            overrides["mode"] = mode
        self.cassette = Cassette(path, config, **overrides)
        self._inner = inner
        self._own_inner: dict[tuple[str, bool], Any] = {}

    def __repr__(self) -> str:
        return f"CassetteTransport({str(self.cassette.path)!r}, mode={self.cassette.mode!r})"

    # -- what users call to understand keys ----------------------------------------------------

    def key(self, request: Any) -> str:
        """The key ``request`` (an httpx or httpx2 Request) is recorded under."""
        request.read()
        return self.cassette.key(to_record(request, self.cassette.key_options.match_headers))

    def canonical(self, request: Any) -> dict[str, Any]:
        """The canonical form the key is the hash of: diff two of these to see why keys differ."""
        request.read()
        record = to_record(request, self.cassette.key_options.match_headers)
        return canonical_form(self.cassette.redaction.request(record), self.cassette.key_options)

    # -- the two entry points ------------------------------------------------------------------

    def handle_request(self, request: Any) -> Any:
        return self.send(request, None)

    async def handle_async_request(self, request: Any) -> Any:
        return await self.send_async(request, None)

    @sdk_proof  # our errors leave as themselves: no SDK retries or wraps them
    def send(self, request: Any, forward: Callable[[Any], Any] | None) -> Any:
        """Handle ``request``; record modes call ``forward`` (default: the inner transport)."""
        request.read()
        plan = self._plan(request)
        if isinstance(plan, Play):
            return self._replay(request, plan)
        started = time.perf_counter()
        try:
            response = (forward or self._inner_for(request, sync=True).handle_request)(request)
        except Exception as exc:
            self._failed(request, plan, exc)
            raise
        return self._tee(request, plan, response, started)

    @sdk_proof_async
    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]] | None) -> Any:
        """The async twin of `send`: only the body read and the forward call are awaited."""
        await request.aread()
        plan = self._plan(request)
        if isinstance(plan, Play):
            return self._replay(request, plan)
        started = time.perf_counter()
        try:
            response = await (forward or self._inner_for(request, sync=False).handle_async_request)(request)
        except Exception as exc:
            self._failed(request, plan, exc)
            raise
        return self._tee(request, plan, response, started)

    def close(self) -> None:
        for (_, sync), inner in list(self._own_inner.items()):
            if sync:
                inner.close()
                del self._own_inner[(_, sync)]
        if self._inner is not None and hasattr(self._inner, "close"):
            self._inner.close()

    async def aclose(self) -> None:
        for (_, sync), inner in list(self._own_inner.items()):
            if not sync:
                await inner.aclose()
                del self._own_inner[(_, sync)]
        if self._inner is not None and hasattr(self._inner, "aclose"):
            await self._inner.aclose()

    # -- the shared steps ----------------------------------------------------------------------

    def _plan(self, request: Any) -> Play | Record:
        return self.cassette.plan(to_record(request, self.cassette.key_options.match_headers))

    def _inner_for(self, request: Any, *, sync: bool) -> Any:
        if self._inner is not None:
            return self._inner
        lib = library_of(request)
        inner = self._own_inner.get((lib.name, sync))
        if inner is None:
            inner = lib.http_transport() if sync else lib.async_http_transport()
            self._own_inner[(lib.name, sync)] = inner
        return inner

    def _replay(self, request: Any, plan: Play) -> Any:
        lib = library_of(request)
        prepared = plan.prepared
        failure = None
        if prepared.failure is not None:
            failure = lib.exception(prepared.failure.type)(prepared.failure.message, request=request)
            if prepared.status == 0:  # the request never got a response
                raise failure
        stream = lib.stream_type(ReplayStream)(prepared, failure)
        return lib.response(prepared.status, prepared.headers, stream, request)

    def _meta(self, lib: Library, request: Any) -> Meta:
        return Meta(
            recorder=f"httpx_cassette {__version__}",
            library=f"{lib.name} {lib.version}",
            user_agent=request.headers.get("user-agent", ""),
        )

    def _failed(self, request: Any, plan: Record, exc: Exception) -> None:
        failure = TransportFailure(type=type(exc).__name__, message=str(exc))
        self.cassette.save(plan, Response(status=0, error=failure), self._meta(library_of(request), request))

    def _tee(self, request: Any, plan: Record, response: Any, started: float) -> Any:
        if plan.slot is None:  # live mode: nothing to write
            return response
        lib = library_of(request)
        meta = self._meta(lib, request)
        save = sdk_proof(functools.partial(self.cassette.save, plan, meta=meta))  # runs as the SDK reads
        # An inner transport may hand back a body it already read and decoded (httpx.MockTransport).
        consumed = response.is_stream_consumed
        decoder = lib.decoder("" if consumed else response.headers.get("content-encoding", ""))
        capture = Capture(response.status_code, response.headers.multi_items(), decoder, started)
        if consumed:
            capture.feed(response.content)
            save(capture.finish(truncated=False))
        else:
            response.stream = lib.stream_type(TeeStream)(response.stream, capture, save)
        return response
