"""CassetteTransport: the transport users put under their clients.

One object serves httpx and httpx2 clients, sync and async. Both entry points are thin shells over
the same steps (`httpx_cassette.http.exchange.Exchange`, which the aiohttp and requests shells share,
then `respond` or `_tee`); only reading the request body and calling the inner transport differ
between sync and async, and the async one runs every step that touches the disk (lookups, the
directory lock, writes and fsync) in a worker thread (`off_loop`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from httpx_cassette.config import CassetteConfig, Mode, Options
from httpx_cassette.core.key import CanonicalForm
from httpx_cassette.core.plan import Play
from httpx_cassette.core.replay import Prepared
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.errors import CassetteError
from httpx_cassette.http import guard
from httpx_cassette.http.exchange import Exchange
from httpx_cassette.http.library import Library, library_of
from httpx_cassette.http.sdk_errors import as_sdk_error, sdk_proof, sdk_proof_async
from httpx_cassette.http.streams import ReplayStream, TeeStream
from httpx_cassette.http.worker import off_loop
from httpx_cassette.model.cassette import Meta, Request
from httpx_cassette.storage.cassette import Cassette

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncInner", "CassetteTransport", "Inner", "SyncInner", "respond"]


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

    Secrets: authorization, API-key and cookie headers are never stored; URL passwords, secret-named
    query parameters and body fields are stored as ``"REDACTED"`` (the list: docs/security.md).
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
        **overrides: Unpack[Options],
    ) -> None:
        config = CassetteConfig.of(config, for_transport=True, **overrides)
        if mode is not None:
            config = config.override(mode=mode)
        self.cassette = Cassette(path, config)
        self._inner = inner
        self._own_inner: dict[tuple[str, bool], Any] = {}

    def __repr__(self) -> str:
        return f"CassetteTransport({str(self.cassette.path)!r}, mode={self.cassette.mode!r})"

    # -- what users call to understand keys ----------------------------------------------------

    def key(self, request: LiveRequest | Request) -> str:
        """The key ``request`` (an httpx or httpx2 Request, or a stored one) is recorded under."""
        return self.cassette.key(request)

    def canonical(self, request: LiveRequest | Request) -> CanonicalForm:
        """The canonical form the key is the hash of: diff two of these to see why keys differ."""
        return self.cassette.canonical(request)

    # -- the two entry points ------------------------------------------------------------------

    def handle_request(self, request: Any) -> Any:
        request.read()
        play = self._from_memory(request)
        return respond(request, play.prepared) if play is not None else self.send(request, None)

    async def handle_async_request(self, request: Any) -> Any:
        await request.aread()
        play = self._from_memory(request)
        return respond(request, play.prepared) if play is not None else await self.send_async(request, None)

    def _from_memory(self, request: Any) -> Play | None:
        """The common replay, prepared in memory already, taken the shortest way: every call is paid on
        every replayed request, and out of a warm cache most of all (a test suite between its calls)."""
        try:
            return self.cassette.replay_from_memory(request)
        except CassetteError as exc:  # as `sdk_proof` does
            as_sdk_error(exc)
            raise

    @sdk_proof  # our errors leave as themselves: no SDK retries or wraps them
    def send(self, request: Any, forward: Callable[[Any], Any] | None) -> Any:
        """Handle ``request``; record modes call ``forward`` (default: the inner transport)."""
        request.read()
        return self.serve(request, self.exchange(request), forward)

    @sdk_proof_async
    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]] | None) -> Any:
        """The async twin of `send`: the body read and the forward call are awaited, and the disk
        work (planning reads files, saving writes them) runs in a worker thread."""
        await request.aread()
        return await self.serve_async(request, await self.exchange_async(request), forward)

    def exchange(self, request: LiveRequest) -> Exchange:
        """Plan ``request`` (body read; an httpx/httpx2 request or another library's `Outgoing`) against
        this cassette; raises `CassetteMiss` on a replay miss."""
        remembered = self._remembered(request)
        return remembered if remembered is not None else self._planned(request)

    async def exchange_async(self, request: LiveRequest) -> Exchange:
        """`exchange` with its disk work (reading files, the directory lock) in a worker thread; a replay
        already prepared in memory needs none, so it takes no thread hop."""
        remembered = self._remembered(request)
        return remembered if remembered is not None else await off_loop(self._planned, request)

    def _remembered(self, request: LiveRequest) -> Exchange | None:
        """The common replay, prepared in memory already: no planning, no disk."""
        played = self.cassette.replay_from_memory(request)
        return Exchange(self.cassette, played, Meta()) if played is not None else None

    def _planned(self, request: LiveRequest) -> Exchange:
        library = getattr(request, "library", None) or _label(library_of(request))
        return Exchange.of(self.cassette, request, library)

    def serve(self, request: Any, exchange: Exchange, forward: Callable[[Any], Any] | None) -> Any:
        """Answer ``request`` as ``exchange`` planned: replay it, or forward it and record the response."""
        if exchange.prepared is not None:
            return respond(request, exchange.prepared)
        exchange.forwarding()
        try:
            with guard.allowed():  # the network block lets a cassette's recording out
                response = (forward or self._inner_for(request, sync=True).handle_request)(request)
        except Exception as exc:
            exchange.failed(exc)
            raise
        save_now = self._tee(request, exchange, response)
        if save_now is not None:
            save_now()
        return response

    async def serve_async(
        self, request: Any, exchange: Exchange, forward: Callable[[Any], Awaitable[Any]] | None
    ) -> Any:
        """The async twin of `serve`: what writes to disk runs in a worker thread."""
        if exchange.prepared is not None:
            return respond(request, exchange.prepared)
        exchange.forwarding()
        try:
            send = forward or self._inner_for(request, sync=False).handle_async_request
            with guard.allowed():
                response = await send(request)
        except Exception as exc:
            await off_loop(exchange.failed, exc)
            raise
        save_now = self._tee(request, exchange, response)
        if save_now is not None:
            await off_loop(save_now)
        return response

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

    def _inner_for(self, request: Any, *, sync: bool) -> Any:
        if self._inner is not None:
            return self._inner
        lib = library_of(request)
        inner = self._own_inner.get((lib.name, sync))
        if inner is None:
            inner = lib.http_transport() if sync else lib.async_http_transport()
            self._own_inner[(lib.name, sync)] = inner
        return inner

    def _tee(self, request: Any, exchange: Exchange, response: Any) -> Callable[[], None] | None:
        """Record ``response`` as it is read: its stream becomes a tee that saves at its end. A body the
        inner transport already read is captured at once, and its save returned for the caller to run
        (on an event loop: in a worker thread)."""
        lib = library_of(request)
        # An inner transport may hand back a body it already read and decoded (httpx.MockTransport).
        consumed = response.is_stream_consumed
        decoder = lib.decoder("" if consumed else response.headers.get("content-encoding", ""))
        tap = exchange.capture(response.status_code, response.headers.multi_items(), decoder)
        if tap is None:  # live mode: nothing to write
            return None
        capture, save = tap
        save = sdk_proof(save)  # runs as the SDK reads the body: a refusal must reach it as itself
        if consumed:
            capture.feed(response.content)
            return functools.partial(save, capture.finish(truncated=False))
        response.stream = lib.stream_type(TeeStream)(response.stream, capture, save)
        return None


def respond(request: Any, prepared: Prepared) -> Any:
    """The response of ``request``'s own library (httpx or httpx2) serving ``prepared``."""
    lib = library_of(request)
    failure = None
    if prepared.failure is not None:
        failure = lib.exception(prepared.failure.type)(prepared.failure.message, request=request)
        if prepared.status == 0:  # the request never got a response
            raise failure
    stream = lib.stream_type(ReplayStream)(prepared, failure)
    return lib.response(prepared.status, _headers(lib, prepared), stream, request, prepared.content)


def _headers(lib: Library, prepared: Prepared) -> Any:
    """``prepared``'s headers as ``lib``'s own class, built once per library and copied per response."""
    headers = prepared.built.get(lib.module)  # a module hashes by identity: cheaper than `lib`
    if headers is None:
        headers = prepared.built[lib.module] = lib.headers(prepared.headers)
    return headers


def _label(lib: Library) -> str:
    return f"{lib.name} {lib.version}"
