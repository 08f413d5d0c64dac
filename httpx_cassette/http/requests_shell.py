"""The requests shell: `requests` sessions served by the same cassettes as httpx clients.

The seam is ``Session.get_adapter``, requests' counterpart of httpx's ``_transport_for_url``: it picks
the adapter (``HTTPAdapter`` or a custom one mounted by the caller) for each request, including each
redirect. While hooked it returns the adapter wrapped in `RoutedAdapter`, which asks the route
first; sessions, cookies, redirects and hooks stay requests' own. Every response it hands back has
that wrapper as its ``connection``, so what an auth plugin (Digest, NTLM, Kerberos) re-sends through
``response.connection`` after a 401 asks the route too.

An adapter used directly, not through a session (``session.adapters["https://"].send(prepared)``,
``HTTPAdapter().send(prepared)``, a subclass whose ``send`` calls ``super().send``), is caught by a
second seam: ``HTTPAdapter.send`` itself, patched on the class while hooked (and put back with the
other hooks), sends through the route too, and its response keeps the adapter as its ``connection``.
What `RoutedAdapter` sends on runs as forwarded (`httpx_cassette.http.forwarding`), so that seam
lets it by: a request through a session meets the route once, whichever adapter is mounted.

Streams read as streams: recording hands the caller each chunk as urllib3 yields it (``iter_content``,
``iter_lines``, ``raw.read``) while recording it; replay serves the stored chunks one by one. The
body is recorded as the caller receives it, decoded (requests asks urllib3 to decode); a coding urllib3
leaves alone is stored as it came, with its header. A body replayed with its ``content-encoding`` is
decoded by urllib3's own decoder, as a live ``response.raw`` is: when ``decode_content`` is asked for
(``iter_content``, ``.content``, ``.json()``) and not for ``raw.read()``, which gives the bytes as sent.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from httpx_cassette.core.decoding import IDENTITY, Decoder, decoder_for
from httpx_cassette.core.replay import Prepared
from httpx_cassette.http import guard
from httpx_cassette.http.exchange import Exchange, Outgoing
from httpx_cassette.http.failures import library_error
from httpx_cassette.http.forwarding import forwarding
from httpx_cassette.http.streams import ReplayStream, TeeStream

__all__ = ["LABEL", "RoutedAdapter", "outgoing", "routed", "seams"]

LABEL = f"requests {requests.__version__}"
LetOut = Callable[[Outgoing], None]  # `httpx_cassette.http.hooks.LetOut` (whose module imports this one)


def outgoing(request: requests.PreparedRequest) -> Outgoing:
    """The cassette's view of a prepared request; a file or generator body is read into bytes first."""
    body = request.body
    if body is not None and not isinstance(body, bytes | str):
        data = body.read() if hasattr(body, "read") else b"".join(body)
        request.body = body = data if isinstance(data, bytes) else str(data).encode()
    content = body.encode() if isinstance(body, str) else (body or b"")
    method = request.method or "GET"
    return Outgoing(method, str(request.url), request.headers.items(), content, LABEL)


class RoutedAdapter:
    """A session's adapter for one request, the request going through ``route`` first."""

    def __init__(self, route: Any, adapter: Any) -> None:
        self.route = route
        self.adapter = adapter

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        __tracebackhide__ = True
        send = lambda prepared: self.adapter.send(prepared, **kwargs)  # noqa: E731
        response = routed(self.route, request, send, down=_down_to(self.adapter))
        # Auth plugins (HTTPDigestAuth, NTLM, Kerberos) answer a 401 by re-sending through
        # ``response.connection``: it must be this adapter, or the retry would skip the cassette.
        response.connection = self  # type: ignore[assignment]  # typed HTTPAdapter; we stand in for one
        return response

    def close(self) -> None:
        self.adapter.close()


Send = Callable[[requests.PreparedRequest], requests.Response]

# Adapters that answer in-process, as requests' own does not: a request the network block guards may
# go on down them.
_IN_PROCESS_ADAPTERS = frozenset({("requests_mock.adapter", "Adapter")})


def _down_to(adapter: Any) -> bool:
    """Whether a request the network block guards may go on down ``adapter``: requests' own (a subclass
    that sends with ``super().send`` too: a mock patched over it, as `responses` patches it, answers, and
    urllib3's send refuses), or a mock's adapter. Any other adapter may do its I/O where the guard is not
    (a worker thread): the block refuses the request before it."""
    if isinstance(adapter, HTTPAdapter):
        return True
    return any((cls.__module__, cls.__name__) in _IN_PROCESS_ADAPTERS for cls in type(adapter).__mro__)


def routed(
    route: Any, request: requests.PreparedRequest, send: Send, *, down: bool = True
) -> requests.Response:
    """``request`` through ``route``: replayed, or sent with ``send`` (the adapter's own) and recorded,
    or passed through. What ``send`` does runs as forwarded, so the ``HTTPAdapter.send`` seam lets it by.
    ``down``: a request the network block guards may go on down ``send`` (requests' own, or a mock over
    it), to be refused where urllib3 sends; else it is refused here."""
    __tracebackhide__ = True
    exchange: Exchange | None = route.begin(outgoing(request))
    if exchange is None:  # not the cassette's: passed through
        with forwarding():
            return send(request)
    if exchange.way is not None:  # the network block's: a mock on the way answers it
        with exchange.way, forwarding():
            if not down:
                guard.check()  # inside the guard: raises `NetworkBlocked`
            return send(request)
    if exchange.prepared is not None:
        return _replayed(request, exchange.prepared)
    exchange.forwarding()
    try:
        with forwarding():
            response = send(request)
    except Exception as exc:
        exchange.failed(exc)
        raise
    headers = list(response.headers.items())
    tap = exchange.capture(response.status_code, headers, _recorded_decoder(response.headers))
    if tap is not None:
        response.raw = TeeRaw(response.raw, *tap)
    return response


def _codec(headers: Mapping[str, str]) -> urllib3.HTTPResponse:
    """A response urllib3 never reads from, holding the decoder a live one with these headers gets (none
    for a coding urllib3 does not undo): it decodes as a live one does, `DecodeError` included (a body
    not in its coding), which requests turns into ``ContentDecodingError``."""
    codec = urllib3.HTTPResponse(body=b"", headers=dict(headers), preload_content=False)
    codec._init_decoder()
    return codec


def _recorded_decoder(headers: Mapping[str, str]) -> Decoder | None:
    """What the recording is fed is already decoded (the tee reads with ``decode_content``), unless the
    coding is one urllib3 does not undo (``br`` without brotli, a made-up one): then None, and the body
    is stored as it came, with its header, for each client to decode on replay as it would live."""
    if _codec(headers)._decoder is not None:
        return IDENTITY
    return decoder_for(headers.get("content-encoding", ""), lambda name: None)  # no coding: IDENTITY


class TeeRaw(TeeStream):
    """urllib3's response with every chunk the caller reads recorded on the way (decoded)."""

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        return self.tee(self._upstream.stream(amt, decode_content=True))

    def read(self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any) -> bytes:
        try:
            data: bytes = self._upstream.read(amt, decode_content=True, **kwargs)
        except Exception as exc:
            self.failed(exc)
            raise
        if data:
            self.feed(data)
        if not data or amt is None:
            self.finish(truncated=False)
        return data

    def release_conn(self) -> None:
        try:
            self.finish(truncated=True)
        finally:
            self._upstream.release_conn()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._upstream, name)


class ReplayRaw:
    """What a replayed response reads from: the prepared chunks, one per ``stream`` step, decoded as
    urllib3 decodes a live body: only when ``decode_content`` is asked for (``iter_content`` does), by
    its own decoder for the recorded ``content-encoding`` (a coding it does not know passes as it is)."""

    def __init__(self, prepared: Prepared, failure: Exception | None) -> None:
        self._chunks = iter(ReplayStream(prepared, failure))
        self._left = b""
        self._flushed = False
        self._codec = _codec(dict(prepared.headers))
        self.decode_content = False  # as requests' adapter opens a live one: raw.read() gives the raw bytes
        self.closed = False

    def _next(self, decode_content: bool | None) -> bytes | None:
        """The next piece of the body (the decoder's last output after the last chunk); None at the end."""
        decode = self.decode_content if decode_content is None else decode_content
        for chunk in self._chunks:
            data = self._codec._decode(chunk, decode, flush_decoder=False)
            if data:
                return data
        if self._flushed:
            return None
        self._flushed = True
        return self._codec._decode(b"", decode, flush_decoder=True) or None

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        if self._left:
            left, self._left = self._left, b""
            yield left
        while (data := self._next(decode_content)) is not None:
            yield data

    def read(self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any) -> bytes:
        data = self._left
        while amt is None or len(data) < amt:
            chunk = self._next(decode_content)
            if chunk is None:
                break
            data += chunk
        cut = len(data) if amt is None else amt
        data, self._left = data[:cut], data[cut:]
        return data

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


# How ``Response.iter_content`` turns urllib3's errors while a body is read (what a caller sees live).
_BODY_ERRORS: dict[str, type[requests.RequestException]] = {
    "ProtocolError": requests.exceptions.ChunkedEncodingError,
    "DecodeError": requests.exceptions.ContentDecodingError,
    "ReadTimeoutError": requests.exceptions.ConnectionError,
    "SSLError": requests.exceptions.SSLError,
}


def _failure(prepared: Prepared, request: requests.PreparedRequest) -> Exception | None:
    """The recorded failure as requests raised it: the class of ``requests.exceptions`` the file names
    (`library_error`), else requests' own for the urllib3 error it names, else a broader class."""
    recorded = prepared.failure
    if recorded is None:
        return None
    exact = library_error(
        requests.exceptions,
        requests.exceptions.RequestException,
        recorded.type,
        recorded.message,
        request=request,
    )
    if exact is not None:
        return exact
    if prepared.status != 0:  # the body broke off after some chunks
        kind = _BODY_ERRORS.get(recorded.type, requests.exceptions.ChunkedEncodingError)
        return kind(recorded.message, request=request)
    timeout = "Timeout" in recorded.type
    kind = requests.exceptions.Timeout if timeout else requests.exceptions.ConnectionError
    return kind(f"{recorded.type}: {recorded.message}", request=request)


def _replayed(request: requests.PreparedRequest, prepared: Prepared) -> requests.Response:
    """The response requests' own adapter would have built, from a recording (`RoutedAdapter.send`
    sets its ``connection``)."""
    failure = _failure(prepared, request)
    if failure is not None and prepared.status == 0:
        raise failure
    response = requests.Response()
    response.status_code = prepared.status
    response.headers = CaseInsensitiveDict(prepared.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = ReplayRaw(prepared, failure)
    response.reason = http.client.responses.get(prepared.status, "")
    response.url = str(request.url)
    response.request = request
    return response


def seams(router: Callable[[], Any], let_out: LetOut) -> list[tuple[type, str, Callable[[Any], Any]]]:
    """The methods `httpx_cassette.http.hooks.Hooks` patches for requests: ``Session.get_adapter``, and
    ``HTTPAdapter.send`` for an adapter used directly (requests has no websockets: ``let_out`` unused)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def get_adapter(session: requests.Session, url: str) -> Any:
            adapter = original(session, url)
            route = router()
            if route is None or isinstance(adapter, RoutedAdapter):
                return adapter
            return RoutedAdapter(route, adapter)

        return get_adapter

    def wrap_send(original: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        def send(
            adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            __tracebackhide__ = True
            route = router()  # None under `RoutedAdapter`, whose send is forwarding: it asked the route
            if route is None:
                guard.check()  # sent for a request the network block let go on down to a real connection
                return original(adapter, request, *args, **kwargs)
            response = routed(route, request, lambda prepared: original(adapter, prepared, *args, **kwargs))
            response.connection = adapter  # as a live response has it: a re-send is caught here again
            return response

        return send

    return [(requests.Session, "get_adapter", wrap), (HTTPAdapter, "send", wrap_send)]
