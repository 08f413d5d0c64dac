"""Content decoders: undoing a body's content-encoding while it streams (the library's own decoders
plug in through the same `Decoder` protocol), and `undo_codings`, which undoes a stored body's codings as
a replaying client would, bounded: what a hostile file's coded body decodes to is never held whole."""

from __future__ import annotations

import importlib
import importlib.util
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from httpx_cassette.core.places import MAX_INFLATED, zlib_header

__all__ = [
    "CLIENT_CODINGS",
    "IDENTITY",
    "MAX_DECODED",
    "Chain",
    "CodingError",
    "Decoder",
    "DecoderFor",
    "Joined",
    "TooLarge",
    "Zlib",
    "coded_problem",
    "coding_names",
    "decoder_for",
    "undo_codings",
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


# -- a stored body's codings, undone as a replaying client undoes them, bounded ------------------------

MAX_DECODED = MAX_INFLATED  # what each layer of a stored coded body may decode to
CLIENT_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})  # what httpx, urllib3, aiohttp undo
_PIECE = 1 << 18  # the most one decoding step hands out


class CodingError(ValueError):
    """A coded body that does not decode: a client reading it raises (a decoding error), serving nothing."""


class TooLarge(ValueError):
    """A coded body that decodes past the bound (`MAX_DECODED`), or that nothing here decodes with one."""


_UNBOUNDED = (
    "cannot be decoded with a bound here: pip install 'brotli>=1.2' (brotlicffi and older brotli have none)"
)


def coding_names(content_encoding: str) -> list[str]:
    """The codings of a ``content-encoding`` value, in the order they were applied, ``identity`` left out."""
    names = (n.strip().lower() for n in content_encoding.split(","))
    return [n for n in names if n and n != "identity"]


def _zlib_pieces(data: bytes, wbits: int, members: bool) -> Iterator[bytes]:
    """``members``: gzip members one after another are one body (urllib3 reads them all, ignoring what
    follows the first that does not decode; httpx reads the first only)."""
    first = True
    while data:
        inflater = zlib.decompressobj(wbits)
        try:
            while data and not inflater.eof:  # at its end, what follows is `unused_data` (not the tail)
                yield inflater.decompress(data, _PIECE)
                data = inflater.unconsumed_tail
            while not inflater.eof and (out := inflater.decompress(b"", _PIECE)):
                yield out
        except zlib.error as exc:
            if first:
                raise CodingError(str(exc)) from None
            return
        data, first = (inflater.unused_data if members and inflater.eof else b""), False


def _brotli_pieces(data: bytes) -> Iterator[bytes]:
    try:
        import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        if importlib.util.find_spec("brotlicffi") is not None:  # clients decode with it, unbounded
            raise TooLarge(_UNBOUNDED) from None
        raise  # no package here decodes it, so no client here does either

    decompressor = brotli.Decompressor()
    try:  # the limit is approximate (a piece may be twice it); what is left comes out on further calls
        out = decompressor.process(data, output_buffer_limit=_PIECE)
        while out:
            yield bytes(out)
            out = b"" if decompressor.is_finished() else decompressor.process(b"", output_buffer_limit=_PIECE)
    except TypeError:  # brotli before 1.2 has no output limit: it would inflate a bomb whole
        raise TooLarge(_UNBOUNDED) from None
    except brotli.error as exc:
        raise CodingError(str(exc)) from None


def _zstd_pieces(data: bytes) -> Iterator[bytes]:
    try:
        import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]  # as httpx's decoder
    except ImportError:  # httpx2 decodes zstd with the standard library's module (or its backport)
        yield from _stdlib_zstd_pieces(data)
        return
    try:
        decompressor = zstandard.ZstdDecompressor()
        with decompressor.stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
            while out := reader.read(_PIECE):
                yield out
    except zstandard.ZstdError as exc:
        raise CodingError(str(exc)) from None


def _stdlib_zstd_pieces(data: bytes) -> Iterator[bytes]:
    """zstd frames one after another, bounded, with ``compression.zstd`` (3.14) or ``backports.zstd``;
    ImportError when neither is here (then no client here decodes zstd)."""
    try:
        module = importlib.import_module("compression.zstd")
    except ImportError:
        module = importlib.import_module("backports.zstd")
    while data:
        decompressor = module.ZstdDecompressor()
        try:
            out = decompressor.decompress(data, _PIECE)
            while out or not (decompressor.eof or decompressor.needs_input):
                yield out
                out = b"" if decompressor.eof else decompressor.decompress(b"", _PIECE)
        except module.ZstdError as exc:
            raise CodingError(str(exc)) from None
        if not decompressor.eof:  # a frame cut short: what it gave is all a client gets
            return
        data = decompressor.unused_data


def _pieces(name: str, data: bytes) -> Iterator[bytes]:
    """What undoing coding ``name`` of ``data`` gives, piece by piece; ImportError when the package that
    decodes it is missing (no client here decodes it then)."""
    if name in ("gzip", "x-gzip"):
        return _zlib_pieces(data, zlib.MAX_WBITS | 16, members=True)
    if name == "br":
        return _brotli_pieces(data)
    if name == "zstd":
        return _zstd_pieces(data)
    # deflate: zlib-wrapped, or raw as servers misread the RFC and clients accept
    return _zlib_pieces(data, zlib.MAX_WBITS if zlib_header(data) else -zlib.MAX_WBITS, members=False)


def undo_codings(
    data: bytes, content_encoding: str, limit: int | None = None, *, unknown_as_deflate: bool = False
) -> Iterator[bytes]:
    """The pieces of ``data`` with the codings of ``content_encoding`` undone, last applied first, as a
    replaying client undoes them (a coding nothing here decodes is passed over, as httpx does). Each
    layer's output may reach ``limit`` (default `MAX_DECODED`), as the secret scanner reads each layer:
    past it, `TooLarge`, with at most one piece more decoded. A layer that does not decode raises
    `CodingError`.

    ``unknown_as_deflate``: a coding no client knows, in a list with others, is undone as deflate when
    it decodes as such (urllib3 reads it so), else passed over (as httpx does): for a bound that holds
    for both.
    """
    bound = MAX_DECODED if limit is None else limit
    names = coding_names(content_encoding)
    for depth, name in enumerate(reversed(names)):
        spent = 0
        known = name in CLIENT_CODINGS
        if not known and not (unknown_as_deflate and len(names) > 1):
            continue  # passed over, as clients pass it over
        last = known and depth == len(names) - 1  # streamed out; any other layer is the next one's input
        kept: list[bytes] = []
        try:
            for piece in _pieces(name if known else "deflate", data):
                spent += len(piece)
                if spent > bound:
                    raise TooLarge(f"it decodes to more than {bound:,} bytes")
                if last:
                    yield piece
                else:
                    kept.append(piece)
        except ImportError:
            continue  # no package here decodes it, so no client here does either
        except CodingError:
            if known:
                raise
            continue  # not deflate after all: passed over, as httpx does
        if last:
            return
        data = b"".join(kept)
    yield data


def coded_problem(data: bytes, content_encoding: str, limit: int | None = None) -> str | None:
    """Why a stored body ``data`` in ``content-encoding`` cannot be handed to a client to undo: it decodes
    past ``limit`` (default `MAX_DECODED`) bytes in one of its layers, or only decodes unbounded here;
    else None (a body that does
    not decode is the client's to fail on, as it would live). Decoded once, piece by piece, never held
    whole: about 1 ms per MB decoded."""
    if not coding_names(content_encoding):
        return None
    bound = MAX_DECODED if limit is None else limit
    try:
        for _ in undo_codings(data, content_encoding, bound, unknown_as_deflate=True):
            pass
    except TooLarge as exc:
        codings = content_encoding[:60]
        if str(exc) == _UNBOUNDED:
            return f"its body in content-encoding {codings!r} {exc}"
        return (
            f"its body in content-encoding {codings!r} decodes to more than {_size(bound)} in one layer,"
            " more than replay hands a client to decode (a decompression bomb?): record the interaction again"
        )
    except CodingError:
        return None
    return None


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count and not count % (1 << 20) else f"{count:,} bytes"
