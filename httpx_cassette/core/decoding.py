"""Content decoders: undoing a body's content-encoding while it streams (the library's own decoders
plug in through the same `Decoder` protocol)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = [
    "IDENTITY",
    "Chain",
    "Decoder",
    "DecoderFor",
    "Joined",
    "Zlib",
    "decoder_for",
    "zlib_coding",
    "zlib_decoder",
]


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


IDENTITY: Decoder = _Identity()


class Zlib:
    """gzip and deflate; used when the library's own decoders cannot be reached."""

    def __init__(self, wbits: int) -> None:
        self._z = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> bytes:
        return self._z.decompress(data)

    def flush(self) -> bytes:
        return self._z.flush()


class Joined:
    """A library decoder as a `Decoder`: httpx's return bytes, httpx2's yield them in bounded pieces."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @staticmethod
    def _bytes(out: bytes | Iterable[bytes]) -> bytes:
        return out if isinstance(out, bytes) else b"".join(out)

    def decode(self, data: bytes) -> bytes:
        return self._bytes(self._inner.decode(data))

    def flush(self) -> bytes:
        return self._bytes(self._inner.flush())


class Chain:
    """Several codings (``content-encoding: gzip, br``), undone in the order given."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush() if data else decoder.flush()
        return data


DecoderFor = Callable[[str], "Decoder | None"]  # a content-encoding header value -> its decoder, or None


def decoder_for(content_encoding: str, coding: Callable[[str], Decoder | None]) -> Decoder | None:
    """A decoder for a ``content-encoding`` header value (identity when there is none), from
    ``coding`` (one coding name -> its decoder); None when a coding is unknown (br without brotli
    installed...): such a body can only be stored as it came, with its header."""
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    found = [coding(n) for n in reversed(names) if n != "identity"]
    decoders = [d for d in found if d is not None]
    if len(decoders) < len(found):
        return None
    if not decoders:
        return IDENTITY
    return Chain(decoders) if len(decoders) > 1 else decoders[0]


def zlib_coding(name: str) -> Decoder | None:
    """gzip and deflate, from the standard library."""
    return Zlib(zlib.MAX_WBITS | 32) if name in ("gzip", "deflate") else None


def zlib_decoder(content_encoding: str) -> Decoder | None:
    """`decoder_for` with the standard library's codings only."""
    return decoder_for(content_encoding, zlib_coding)
