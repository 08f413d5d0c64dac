"""The aiohttp shell: ``aiohttp.ClientSession`` requests served by the same cassettes as httpx clients.

The seam is aiohttp's client middleware chain (aiohttp 3.12+): while hooked, ``ClientSession._request``
gets one more middleware, innermost, so it sees each request (and each redirect) as it goes to the
connection, after the caller's own middlewares changed it. Cookies, redirects, timeouts and response
handling stay aiohttp's. A request with an ``Upgrade`` header (``h2c``, say) is an ordinary request to
the cassette, except a websocket handshake (``ws_connect``): no cassette can hold a websocket, so it is
neither recorded nor replayed, and goes out untouched unless the network is blocked. The routes are
asked whether it may go out (`httpx_cassette.http.hooks.LetOut`): under ``--cassette-block-network``
a handshake to a host not let through (``cassette_ignore_hosts``, ``cassette_ignore_localhost``, a
marker's or a ``use_cassette`` block's ``ignore_hosts`` / ``ignore_localhost``, a ``pass`` ignore
rule) fails with `NetworkBlocked` before it is sent, and is reported as any blocked request is.

Streams read as streams. Recording taps the response's `StreamReader` where the connection feeds it,
so every chunk is recorded as it arrives, however the caller reads (``resp.content`` iteration,
``iter_chunked``, ``readline``, ``read``), and nothing waits for the end. Replay feeds the stored
chunks into a reader of its own (paced when the cassette asks), so the caller reads them the same way.
A body replayed with its ``content-encoding`` goes through aiohttp's own `DeflateBuffer` on the way,
as its parser feeds a live one, unless the session (or the request) has ``auto_decompress=False``.

The body is recorded as the caller receives it. One coding aiohttp undoes (gzip, deflate, br, zstd)
with ``auto_decompress`` on reaches the caller decoded, and is stored decoded without its header, as
httpx recordings are. With ``auto_decompress=False`` (the session's, or the request's), or a coding
aiohttp leaves alone (``gzip, br``, a made-up one), the caller gets the bytes as they came: they are
stored so (base64, with the ``content-encoding`` header), and replay hands them over again as they
came, or decoded for a session or request with ``auto_decompress`` on, as a live response would be.
A body stored decoded has no coding left to keep: replayed with ``auto_decompress=False`` it comes
decoded, without a ``content-encoding`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import inspect
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import client_exceptions, client_reqrep
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.http_parser import DeflateBuffer
from aiohttp.streams import EmptyStreamReader, StreamReader
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping

from httpx_cassette.core.decoding import IDENTITY, Decoder, decoder_for
from httpx_cassette.core.replay import Prepared
from httpx_cassette.errors import CassetteError
from httpx_cassette.http import guard
from httpx_cassette.http.exchange import Exchange, Outgoing
from httpx_cassette.http.failures import library_error
from httpx_cassette.http.forwarding import forwarding
from httpx_cassette.http.streams import TeeStream

__all__ = ["LABEL", "Middleware", "seams", "websocket_handshake"]

LABEL = f"aiohttp {aiohttp.__version__}"
# Asks the routes whether a request no cassette can hold may go out; raises `NetworkBlocked` if not
# (`httpx_cassette.http.hooks.LetOut`, whose module imports this one).
LetOut = Callable[[Outgoing], None]
_LIMIT = 2**16  # aiohttp's default read buffer
# The codings aiohttp's parser undoes (one at a time: "gzip, br" reaches the reader as it came).
_INFLATED = frozenset({"gzip", "deflate", "br", "zstd"})
# An aiohttp that bounds each decompression step is given the reader's buffer size, as its parser does.
_BOUNDED = "max_decompress_size" in inspect.signature(DeflateBuffer).parameters


async def outgoing(request: aiohttp.ClientRequest) -> Outgoing:
    """The cassette's view of a request about to be sent (its body read from the payload)."""
    body = request.body
    content = bytes(body) if isinstance(body, bytes) else await body.as_bytes()
    return Outgoing(request.method, str(request.url), request.headers.items(), content, LABEL)


def websocket_handshake(headers: MultiMapping[str]) -> bool:
    """Whether a request's headers are a websocket opening handshake, as ``ws_connect`` sends it:
    ``Upgrade: websocket`` (that one protocol only) and a ``Sec-WebSocket-Key``.

    Only those pass the cassette by; any other ``Upgrade`` (``h2c``, a made-up value) is an ordinary
    request to the cassette, or one header would carry any request past replay and the network block.
    """
    upgrade = ",".join(headers.getall("upgrade", ()))
    protocols = [token.strip().lower() for token in upgrade.split(",")]
    return protocols == ["websocket"] and bool(headers.get("sec-websocket-key", "").strip())


class Middleware:
    """The innermost middleware of every session while a route is open: the route decides first."""

    def __init__(self, route: Any, let_out: LetOut, decompress: bool = True) -> None:
        self.route = route
        self.let_out = let_out  # asks every route here and now, the network block beneath a cassette too
        self.decompress = decompress  # the request's ``auto_decompress``, else its session's

    async def __call__(self, request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        __tracebackhide__ = True
        if websocket_handshake(request.headers):  # no HTTP exchange a cassette can hold
            self.let_out(await outgoing(request))  # NetworkBlocked when the network is blocked to its host
            return await handler(request)  # type: ignore[no-any-return]
        exchange: Exchange | None = self.route.begin(await outgoing(request))
        if exchange is None:  # not the cassette's: passed through
            return await handler(request)  # type: ignore[no-any-return]
        if exchange.way is not None:  # the network block's: refused here (its mocks patch the session above)
            with exchange.way:
                guard.check()  # inside the guard: raises `NetworkBlocked`
                return await handler(request)  # type: ignore[no-any-return]  # (guarded all the same)
        if exchange.prepared is not None:
            return _replayed(request, exchange.prepared, self.decompress)
        exchange.forwarding()
        try:
            with forwarding():
                response: aiohttp.ClientResponse = await handler(request)
        except Exception as exc:
            exchange.failed(exc)
            raise
        _tap(response, exchange, self.decompress)
        return response


# -- recording: a tap where the connection feeds the response's reader --------------------------------


class _TapReader(StreamReader):
    """The response's own reader, its class swapped so that what the connection feeds is recorded too.

    No slots of its own (StreamReader has fixed slots), so its tee lives in `_TAPS`.
    """

    __slots__ = ()

    def feed_data(self, data: bytes, size: int = 0) -> bool:
        tee = _tee_of(self)
        if tee is not None and data:
            tee.digest()  # what came before: the reader has it already
            tee.feed(data)
        return super().feed_data(data, size)

    def feed_eof(self) -> None:
        tee = _TAPS.pop(id(self), (None, None))[1]
        if tee is not None:
            try:  # saved before the caller's read returns: the file is there when it does
                tee.finish(truncated=False)
            except CassetteError as exc:  # a refused recording: the caller's read raises it, as with httpx
                super().set_exception(exc)  # (raised here, aiohttp's protocol callback would swallow it)
                return
        super().feed_eof()

    def set_exception(self, exc: BaseException, *args: Any) -> None:
        tee = _TAPS.pop(id(self), (None, None))[1]
        super().set_exception(exc, *args)
        if tee is None:
            return
        if exc is getattr(client_reqrep, "_CONNECTION_CLOSED_EXCEPTION", None):  # closed by the caller
            tee.finish(truncated=True)
        else:
            tee.failed(exc)


# id(reader) -> (reader, its tee); the reader is kept so that its id cannot be reused meanwhile.
_TAPS: dict[int, tuple[StreamReader, TeeStream]] = {}


def _tee_of(reader: StreamReader) -> TeeStream | None:
    entry = _TAPS.get(id(reader))
    return entry[1] if entry is not None and entry[0] is reader else None


def _tap(response: aiohttp.ClientResponse, exchange: Exchange, decompress: bool) -> None:
    headers = [(str(k), str(v)) for k, v in response.headers.items()]
    tap = exchange.capture(response.status, headers, _decoder(response, decompress))
    if tap is None:  # live mode: nothing to write
        return
    tee = TeeStream(None, *tap)
    reader = response.content
    if isinstance(reader, EmptyStreamReader):  # no body to come (HEAD, 204, 304): aiohttp's empty reader
        tee.finish(truncated=False)  # has no buffer and is never fed
        return
    offset = getattr(reader, "_buffer_offset", 0)  # what a read already took of the first buffered chunk
    arrived = b"".join(reader._buffer)[offset:]  # fed before we saw the response
    if arrived:
        tee.feed(arrived)
    error = reader.exception()
    if error is not None:
        tee.failed(error)
    elif reader.is_eof():  # the whole body is here already
        tee.finish(truncated=False)
    elif type(reader) is not StreamReader:  # a reader class we do not know: record what arrived
        tee.finish(truncated=True)
    else:
        _TAPS[id(reader)] = (reader, tee)
        reader.__class__ = _TapReader


def _inflated(content_encoding: str) -> str | None:
    """The coding aiohttp's parser undoes for this header (as it reads it), or None."""
    if not content_encoding.isascii():
        return None
    coding = content_encoding.lower()
    return coding if coding in _INFLATED else None


def _decoder(response: aiohttp.ClientResponse, decompress: bool) -> Decoder | None:
    """How the recording reads what the reader is fed. With ``auto_decompress`` on (``decompress``),
    aiohttp undoes one coding it knows before feeding the reader: that is decoded already (identity).
    Any other body (``auto_decompress`` off, a coding aiohttp leaves alone) reaches the caller as it
    came, and is stored so (None: base64, with its header), for each client to decode on replay as it
    would live."""
    coding = response.headers.get("content-encoding", "")
    if decompress and _inflated(coding):
        return IDENTITY
    return decoder_for(coding, lambda name: None)  # identity when there is no coding


# -- replay: a response of aiohttp's own class, fed from the recording --------------------------------


class _Idle:
    """The protocol a replayed reader pauses and resumes: nothing is behind it."""

    connected = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


class _ReplayReader(StreamReader):
    """A reader that, each time its caller waits for data, is fed the next recorded chunk (after the
    recorded gap when paced): the caller reads the stream chunk by chunk, as it was recorded."""

    __slots__ = ("_chunks", "_delays", "_failure", "_pending", "_sink")

    def __init__(
        self,
        prepared: Prepared,
        failure: Exception | None,
        loop: asyncio.AbstractEventLoop,
        decompress: bool = True,
    ) -> None:
        super().__init__(_Idle(), _LIMIT, loop=loop)  # type: ignore[arg-type]
        self._chunks = iter(prepared.chunks)
        self._delays = iter(prepared.delays)
        self._failure = failure
        self._sink: StreamReader | DeflateBuffer = self
        self._pending = False  # the decompressor holds more output than its last step gave
        coding = _inflated(dict(prepared.headers).get("content-encoding", ""))
        if decompress and coding is not None:
            bound = {"max_decompress_size": _LIMIT} if _BOUNDED else {}  # as its parser bounds each step
            with contextlib.suppress(ContentEncodingError):  # br or zstd without its library: as it came
                self._sink = DeflateBuffer(self, coding, **bound)

    async def _wait(self, func_name: str) -> None:
        try:
            await self._step()
        except ContentEncodingError as exc:  # what aiohttp's parser makes of it for a live response
            error = aiohttp.ClientPayloadError(str(exc))
            self.set_exception(error, exc)
            raise error from exc

    async def _step(self) -> None:
        """Feed the reader: the next recorded chunk (through the decompressor), or the decompressor's
        next bounded output when it has more, or the end."""
        if self._pending:
            self._pending = bool(self._sink.feed_data(b"", 0))
            return
        chunk = next(self._chunks, None)
        if chunk is None:
            if self._failure is not None:
                self.set_exception(self._failure)
                raise self._failure
            self._sink.feed_eof()
            return
        delay = next(self._delays, 0.0)
        if delay:
            await asyncio.sleep(delay)
        self._pending = bool(self._sink.feed_data(chunk, len(chunk)))


def _failure(prepared: Prepared, request: aiohttp.ClientRequest) -> Exception | None:
    """The recorded failure as aiohttp raised it: the class of ``aiohttp.client_exceptions`` the file
    names (`_exact`), else a broader one."""
    recorded = prepared.failure
    if recorded is None:
        return None
    exact = _exact(recorded.type, recorded.message, request, recorded.errno)
    if exact is not None:
        return exact
    if prepared.status != 0:  # the body broke off after some chunks
        return aiohttp.ClientPayloadError(f"{recorded.type}: {recorded.message}")
    if "Timeout" in recorded.type:
        return aiohttp.ServerTimeoutError(f"{recorded.type}: {recorded.message}")
    return aiohttp.ClientConnectionError(f"{recorded.type}: {recorded.message}")


# How ClientConnectorError (and its subclasses) word their message around the OS error's: the reason is
# the last bracketed part, after an ``ssl:`` that may be any repr (``<ssl.SSLContext object at 0x...>``).
_CONNECTOR_MESSAGE = re.compile(r"Cannot connect to host .*? ssl:.*? \[(.*)\]", re.DOTALL)


def _exact(
    name: str, message: str, request: aiohttp.ClientRequest, errno: int | None = None
) -> Exception | None:
    """aiohttp's class called ``name``, built as aiohttp builds it: a connector error from the request's
    connection key and an OS error holding the recorded reason and error number (so its message reads
    as recorded, and ``errno`` is the one seen live), a response error from the request's info, any
    other from the message; None when aiohttp has no such class, or it cannot be built so
    (`library_error`)."""
    found = vars(client_exceptions).get(name)
    args: tuple[Any, ...] = (message,)
    kwargs: dict[str, Any] = {}
    if isinstance(found, type) and issubclass(found, aiohttp.ClientConnectorError):
        reason = _CONNECTOR_MESSAGE.fullmatch(message)
        os_error = OSError(errno, reason.group(1) if reason else message)  # 111: ConnectionRefusedError
        args = (request.connection_key, os_error)
    elif isinstance(found, type) and issubclass(found, aiohttp.ClientResponseError):
        args, kwargs = (request.request_info, ()), {"message": message}
    return library_error(client_exceptions, aiohttp.ClientError, name, *args, **kwargs)


def _replayed(
    request: aiohttp.ClientRequest, prepared: Prepared, decompress: bool = True
) -> aiohttp.ClientResponse:
    """The response aiohttp would have built from the connection, built from a recording (its body
    decompressed on the way when ``decompress``, aiohttp's ``auto_decompress``)."""
    failure = _failure(prepared, request)
    if failure is not None and prepared.status == 0:  # the request never got a response
        raise failure
    loop = asyncio.get_running_loop()
    response = _unsent(request, loop)
    response.version = aiohttp.HttpVersion11
    response.status = prepared.status
    response.reason = http.HTTPStatus(prepared.status).phrase if prepared.status in _PHRASES else ""
    headers = CIMultiDict(prepared.headers)
    response._headers = CIMultiDictProxy(headers)
    response._raw_headers = tuple((k.encode(), v.encode()) for k, v in prepared.headers)
    cookies = headers.getall("set-cookie", ())
    response._raw_cookie_headers = tuple(cookies) if cookies else None  # the session's jar takes them
    response.content = _ReplayReader(prepared, failure, loop, decompress)
    return response


def _unsent(request: aiohttp.ClientRequest, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientResponse:
    """A response object of the request's own class, for a request that was never written out."""
    return request.response_class(
        request.method,
        request.original_url,
        writer=None,
        continue100=None,
        timer=None,  # type: ignore[arg-type]
        request_info=request.request_info,
        traces=[],
        loop=loop,
        session=request.session,
        stream_writer=SimpleNamespace(output_size=0),  # type: ignore[arg-type]
    )


_PHRASES = frozenset(status.value for status in http.HTTPStatus)


# -- the hook -------------------------------------------------------------------------------------------


def seams(router: Callable[[], Any], let_out: LetOut) -> list[tuple[type, str, Callable[[Any], Any]]]:
    """The methods `httpx_cassette.http.hooks.Hooks` patches for aiohttp: ``ClientSession._request``,
    which gets our middleware innermost while a route is open (``let_out`` decides for websockets)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        async def _request(session: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
            route = router()
            if route is not None:
                chosen = kwargs.get("middlewares")
                own = session._middlewares if chosen is None else chosen
                decompress = kwargs.get("auto_decompress")
                if decompress is None:
                    decompress = getattr(session, "_auto_decompress", True)
                kwargs["middlewares"] = (*own, Middleware(route, let_out, bool(decompress)))
            else:
                guard.check()  # sent for a request the network block let go on down to a real connection
            return await original(session, *args, **kwargs)

        return _request

    if "middlewares" not in inspect.signature(aiohttp.ClientSession.__init__).parameters:  # before 3.12
        return []
    return [(aiohttp.ClientSession, "_request", wrap)]
