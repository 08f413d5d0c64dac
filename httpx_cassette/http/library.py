"""The httpx/httpx2 seam: the only module that touches the HTTP libraries' classes.

A request tells which library it came from; `library_of` returns that library's classes so every
response, stream and exception we create belongs to the caller's own library. httpx2 is imported
only when an httpx2 request arrives, so the package works without it.
"""

from __future__ import annotations

import datetime
import functools
import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from httpx_cassette.core.decoding import Decoder, Joined, decoder_for, zlib_coding

__all__ = ["Library", "library_by_name", "library_of"]

_NO_TIME = datetime.timedelta(0)


@dataclass(frozen=True)
class Library:
    """One HTTP library (``httpx`` or ``httpx2``) and the classes we build from it."""

    name: str
    module: ModuleType
    _stream_types: dict[type, type] = field(default_factory=dict, repr=False, compare=False)

    @property
    def version(self) -> str:
        return str(getattr(self.module, "__version__", ""))

    def headers(self, headers: list[tuple[str, str]]) -> Any:
        """The library's ``Headers``: built once per replayed response, then copied (a list copy) into
        each response made from it, instead of normalizing every header again."""
        # The library encodes str headers as ASCII; a recorded UTF-8 value (or a hand-edited one) must not
        # crash replay, so those go as UTF-8 bytes, which it decodes back to the same text.
        raw = [(k.encode(), v.encode()) if not (k.isascii() and v.isascii()) else (k, v) for k, v in headers]
        return self.module.Headers(raw)

    def response(
        self, status: int, headers: Any, stream: Any, request: Any, content: bytes | None = None
    ) -> Any:
        """A response of this library; ``content``: its whole decoded body, known already, so that
        reading it costs nothing (what the library itself does for ``Response(content=...)``)."""
        response = self.module.Response(status, headers=headers, stream=stream, request=request)
        if content is not None:
            response._content = content
            # Read and closed from the start, as `Response(content=...)` is: a client has nothing to
            # finish on it (the async OpenAI SDK drains an open response after `[DONE]`: 0.1 ms a call).
            response.is_stream_consumed = response.is_closed = True
            response._num_bytes_downloaded = len(content)
            response.elapsed = _NO_TIME
            # httpx raises `StreamConsumed` for raw iteration of a read response; a live one serves it
            # until read, so code written for live (``iter_raw()`` in ``client.stream()``) works here.
            # Set on the instance: the response stays exactly the library's own class.
            response.iter_raw = functools.partial(_iter_raw, content)
            response.aiter_raw = functools.partial(_aiter_raw, content)
        return response

    def stream_type(self, core: type) -> type:
        """``core`` mixed with this library's sync and async byte-stream bases (it checks isinstance)."""
        made = self._stream_types.get(core)
        if made is None:
            bases = (core, self.module.SyncByteStream, self.module.AsyncByteStream)
            made = self._stream_types.setdefault(core, type(core.__name__, bases, {}))
        return made

    def http_transport(self) -> Any:
        return self.module.HTTPTransport()

    def async_http_transport(self) -> Any:
        return self.module.AsyncHTTPTransport()

    def decoder(self, content_encoding: str) -> Decoder | None:
        """A decoder for a ``content-encoding`` header value (identity when there is none), or None
        when a coding is unknown here (br without brotli installed...): such a body can only be stored
        as it came, with its header."""
        return decoder_for(content_encoding, self._one)

    def _one(self, name: str) -> Decoder | None:
        found: Callable[[], Any] | None = self._decoders().get(name)
        return Joined(found()) if found is not None else zlib_coding(name)

    def _decoders(self) -> dict[str, Any]:
        # Private to httpx but stable for years; it knows br and zstd when their packages exist.
        try:
            decoders = importlib.import_module(f"{self.name}._decoders")
        except ImportError:  # pragma: no cover - depends on the library's internals
            return {}
        return dict(getattr(decoders, "SUPPORTED_DECODERS", {}))

    def exception(self, name: str) -> Callable[..., Exception]:
        """The library's exception class called ``name`` (``ReadTimeout``...), or TransportError.

        Only request errors (which all take a message and ``request=``): a name from a cassette file must
        not pick any other class of the library to call.
        """
        found = getattr(self.module, name, None)
        if isinstance(found, type) and issubclass(found, self.module.RequestError):
            return found
        base: Callable[..., Exception] = self.module.TransportError
        return base


def _iter_raw(body: bytes, chunk_size: int | None = None) -> Iterator[bytes]:
    step = max(chunk_size or len(body), 1)
    for i in range(0, len(body), step):
        yield body[i : i + step]


async def _aiter_raw(body: bytes, chunk_size: int | None = None) -> AsyncIterator[bytes]:
    for chunk in _iter_raw(body, chunk_size):
        yield chunk


_BY_MODULE: dict[int, Library] = {}


def library_by_name(name: str) -> Library:
    """The library ``name`` as imported now (a re-import, as pytester does, gets new classes)."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"{name} is not installed: pip install 'httpx-cassette[{name}]'") from exc
    found = _BY_MODULE.get(id(module))
    if found is None or found.module is not module:
        found = _BY_MODULE[id(module)] = Library(name, module)
    return found


_BY_TYPE: dict[type, Library] = {}


def library_of(request: object) -> Library:
    """The library whose ``Request`` class made ``request``."""
    found = _BY_TYPE.get(type(request))
    if found is None:
        top = type(request).__module__.split(".", 1)[0]
        found = _BY_TYPE[type(request)] = library_by_name(top if top in ("httpx", "httpx2") else "httpx")
    return found
