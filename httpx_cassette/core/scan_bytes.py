"""A body kept as bytes (base64, a side file) as the texts a client may read in it: every compression
layer a client would undo (`content-encoding: gzip, gzip`), or whoever saves it would (a .bz2, a zip's
files: `httpx_cassette.core.archives`), each read in every charset a client may read it in
(`httpx_cassette.core.embedded.texts_of_bytes`). The secret scanner judges these texts, and echo
scrubbing (`httpx_cassette.core.echoes`) looks for what the request carried in them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

import msgspec

from httpx_cassette.core import archives, budget
from httpx_cassette.core.decoding import CodingError, TooLarge, coding_names, undo_codings
from httpx_cassette.core.embedded import declared_charset, decompressed, texts_of_bytes, undoable
from httpx_cassette.core.findings import NOT_CHECKED, Finding
from httpx_cassette.core.places import MAX_INFLATED, decoded_bytes, inflate
from httpx_cassette.model.body import media_type
from httpx_cassette.model.served import header_value

__all__ = ["LAYERS", "coded_findings", "unpacked_texts"]

LAYERS = 8  # compression layers one body is undone through
_COMPRESSIONS = frozenset({"br", "zstd", "gzip", "x-gzip", "deflate", "compress", "x-compress"})
_ITSELF = "(the archive, its files cut out)"
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]+")


class BytesReader(Protocol):
    """What `coded_findings` needs of the scanner (`httpx_cassette.core.scan.SecretScanner.in_bytes`)."""

    def in_bytes(
        self, data: bytes | str, path: str, file: Path | None = None, charset: str = "", media: str = ""
    ) -> list[Finding]: ...


def unpacked_texts(
    data: bytes | str, spent: list[int], charset: str = "", bound: int = MAX_INFLATED
) -> tuple[list[str], str | None]:
    """The texts of ``data`` (base64 text, or bytes), layer after layer, the outermost first; and why the
    reading stopped short (a budget spent, a layer of ``bound`` bytes or more, too many layers, an archive
    that cannot be read), or None when every layer was read. What was not read is not called clean: the
    texts read before a stop are returned all the same. An archive's files are each read so, one layer
    further in (`_archive`)."""
    layer = decoded_bytes(data)
    if stop := budget.spend(spent, len(layer)):  # many compressed strings: each a bomb's worth
        return [], stop
    texts, _, stop = _unpacked(layer, spent, charset, bound, LAYERS)
    return texts, stop


def _unpacked(
    layer: bytes, spent: list[int], charset: str, bound: int, layers: int
) -> tuple[list[str], list[Any], str | None]:
    """The texts of ``layer`` and of up to ``layers`` layers inside it; what an archive holding it shows
    of it (those texts, an archive among them as the object of its files', `_archive`); why it stopped."""
    texts: list[str] = []
    for left in range(layers - 1, -1, -1):
        texts += texts_of_bytes(layer, charset)
        try:  # gzip, zlib, then bzip2, xz, zip, tar... by their magic bytes; zstd, brotli, raw deflate
            unpacked = (  # (never all ASCII) by trying
                inflate(layer)
                or archives.unpack(layer, bound)
                or (None if layer.isascii() else decompressed(layer))
            )
        except archives.Unreadable as exc:
            return texts, texts, str(exc)
        if isinstance(unpacked, archives.Archive):
            return _archive(texts, unpacked, spent, bound, left)
        if unpacked is None:
            return texts, texts, None
        if stop := budget.spend(spent, len(unpacked)):
            return texts, texts, stop
        if len(unpacked) >= bound:  # a layer that fills the bound was not read to its end
            return texts, texts, f"a body that decompresses past what one check reads ({bound >> 20} MiB)"
        layer = unpacked
    return texts, texts, f"a body compressed more than {LAYERS} times"


def _archive(
    texts: list[str], archive: archives.Archive, spent: list[int], bound: int, layers: int
) -> tuple[list[str], list[Any], str | None]:
    """``texts`` (the archive's own readings), then the archive as one JSON object of its files' texts by
    name (its bytes outside them under `_ITSELF`), then each file's texts, each file one layer further in.
    A check that parses the first text that is JSON (`httpx_cassette.core.scan.SecretScanner.in_bytes`)
    so judges every file, where one file's JSON would hide the rest; a search of the texts
    (`httpx_cassette.core.echoes`) reads each file as it is."""
    if stop := budget.spend(spent, sum(len(member.data) for member in archive.members)):
        return texts, texts, stop
    files: dict[str, list[Any]] = {_ITSELF: [_CONTROLS.sub("\n", archive.rest.decode("latin-1"))]}
    read: list[str] = []
    for member in archive.members:
        inner, shown, stop = _unpacked(member.data, spent, "", bound, layers)
        read += inner
        if stop:
            return [*texts, *read], texts, stop
        files.setdefault(member.name, []).extend(_as_body(t) if type(t) is str else t for t in shown)
    return [*texts, msgspec.json.encode(files).decode(), *read], [*texts, files], None


def _as_body(text: str) -> dict[str, Any]:
    """A file's text shaped as a stored response's text body, so that the scanner judges it as one (its
    lines that set a secret, a stream's events assembled), not as any string. A control character is a
    JSON escape: six bytes for each NUL of a binary file's reading, so they go."""
    return {"status": 200, "text": _CONTROLS.sub("\n", text)}


def coded_findings(
    scanner: BytesReader, data: bytes | str, path: str, file: Path | None, headers: dict[str, str]
) -> list[Finding]:
    """A body kept as bytes (``base64``, a side file) as the response holding it serves it: read in its
    content-type's charset, and again with the codings its content-encoding names undone as its client
    undoes them, bounded (sniffing magic bytes passes over an all-ASCII raw deflate). What was not read
    (past the bound, or in a coding nothing here decodes) is not called clean: it is `not checked`. One
    path for inline bodies (`SecretScanner.scan`) and side files (``httpx-cassette scan``)."""
    ctype = header_value(headers, "content-type")
    charset, media, raw = declared_charset(ctype), media_type(ctype), decoded_bytes(data)
    findings = scanner.in_bytes(raw, path, file, charset, media)
    coding = header_value(headers, "content-encoding") or ""
    if not coding_names(coding):
        return findings
    if _COMPRESSIONS.intersection(coding_names(coding)) and not undoable(raw):  # no brotli, no zstandard
        kind = f"a body in content-encoding {coding[:40]!r}, which this Python cannot decode"
        return [*findings, Finding(file, path, kind, NOT_CHECKED)]
    if findings:  # flagged already (or not read to its end): the file is not called clean either way
        return findings
    try:
        served = b"".join(undo_codings(raw, coding, MAX_INFLATED, unknown_as_deflate=True))
    except TooLarge:
        kind = f"a body that decodes past what one check reads ({MAX_INFLATED >> 20} MiB)"
        return [Finding(file, path, kind, NOT_CHECKED)]
    except CodingError:  # a client fails on it too, serving nothing; its bytes were scanned above
        return findings
    return scanner.in_bytes(served, path, file, charset, media) if served != raw else findings
