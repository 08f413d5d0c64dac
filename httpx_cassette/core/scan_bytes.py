"""A body kept as bytes (base64, a side file) as the texts a client may read in it: every compression
layer a client would undo (`content-encoding: gzip, gzip`), each read in every charset a client may read
it in (`httpx_cassette.core.embedded.texts_of_bytes`). The secret scanner judges these texts, and echo
scrubbing (`httpx_cassette.core.echoes`) looks for what the request carried in them.
"""

from __future__ import annotations

from httpx_cassette.core import budget
from httpx_cassette.core.decoding import CodingError, TooLarge, undo_codings
from httpx_cassette.core.embedded import decompressed, texts_of_bytes
from httpx_cassette.core.places import MAX_INFLATED, decoded_bytes, inflate

__all__ = ["LAYERS", "as_served", "unpacked_texts"]

LAYERS = 8  # compression layers one body is undone through


def unpacked_texts(
    data: bytes | str, spent: list[int], charset: str = "", bound: int = MAX_INFLATED
) -> tuple[list[str], str | None]:
    """The texts of ``data`` (base64 text, or bytes), layer after layer, the outermost first; and why the
    reading stopped short (a budget spent, a layer of ``bound`` bytes or more, too many layers), or None
    when every layer was read. What was not read is not called clean: the texts read before a stop are
    returned all the same."""
    layer = decoded_bytes(data)
    if stop := budget.spend(spent, len(layer)):  # many compressed strings: each a bomb's worth
        return [], stop
    texts: list[str] = []
    for _ in range(LAYERS):
        texts += texts_of_bytes(layer, charset)
        # gzip and zlib by their magic bytes; zstd, brotli, raw deflate (never all ASCII) by trying
        unpacked = inflate(layer) or (None if layer.isascii() else decompressed(layer))
        if unpacked is None:
            return texts, None
        if stop := budget.spend(spent, len(unpacked)):
            return texts, stop
        if len(unpacked) >= bound:  # a layer that fills the bound was not read to its end
            return texts, f"a body that decompresses past what one check reads ({bound >> 20} MiB)"
        layer = unpacked
    return texts, f"a body compressed more than {LAYERS} times"


def as_served(data: bytes | str, content_encoding: str) -> bytes | None:
    """``data`` with the codings its ``content-encoding`` names undone, as the replaying client undoes
    them (bounded); None when they change nothing or do not decode (the client fails on it as live).
    `unpacked_texts` finds layers by their magic bytes, and passes over an all-ASCII layer (a raw
    deflate stream can be one): what the header names is undone whatever the bytes look like."""
    raw = decoded_bytes(data)
    try:
        served = b"".join(undo_codings(raw, content_encoding, unknown_as_deflate=True))
    except (CodingError, TooLarge):  # a bomb is refused when the file is read
        return None
    return None if served == raw else served
