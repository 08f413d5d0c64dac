"""A body kept as bytes (base64, a side file) as the texts a client may read in it: every compression
layer a client would undo (`content-encoding: gzip, gzip`), or whoever saves it would (a .bz2, a zip's
files: `httpx_cassette.core.archives`), each read in every charset a client may read it in
(`httpx_cassette.core.embedded.texts_of_bytes`). The secret scanner judges these texts, and echo
scrubbing (`httpx_cassette.core.echoes`) looks for what the request carried in them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple, Protocol

import msgspec

from httpx_cassette.core import archives, budget
from httpx_cassette.core.decoding import CodingError, TooLarge, coding_names, undo_codings
from httpx_cassette.core.embedded import declared_charset, decompressed, texts_of_bytes, undoable
from httpx_cassette.core.findings import NOT_CHECKED, Finding
from httpx_cassette.core.places import MAX_INFLATED, decoded_bytes, inflate
from httpx_cassette.model.body import media_type
from httpx_cassette.model.served import header_value

__all__ = ["LAYERS", "Reading", "coded_findings", "unpacked_texts"]

LAYERS = 8  # compression layers one body is undone through
_COMPRESSIONS = frozenset({"br", "zstd", "gzip", "x-gzip", "deflate", "compress", "x-compress"})
_ITSELF = " (the archive, its files cut out)"
# Characters no text holds: controls (tab and line ends aside), C1 controls, what a decoder replaced.
_BINARY = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd"
_NOT_TEXT = re.compile(f"[{_BINARY}]")
_TEXT_RUN = re.compile("[\t\n\r\x20-\x7e]{6,}")  # ASCII, as `strings` reads: credentials are ASCII


class BytesReader(Protocol):
    """What `coded_findings` needs of the scanner (`httpx_cassette.core.scan.SecretScanner.in_bytes`)."""

    def in_bytes(
        self, data: bytes | str, path: str, file: Path | None = None, charset: str = "", media: str = ""
    ) -> list[Finding]: ...


class Reading(NamedTuple):
    """One text a client may read in a body, and where in it: ``""`` for the body itself, ``["a.env"]``
    for a file of an archive in it (``["a.zip"]["b.env"]`` one archive further in)."""

    where: str
    text: str


def unpacked_texts(
    data: bytes | str, spent: list[int], charset: str = "", bound: int = MAX_INFLATED
) -> tuple[list[Reading], str | None]:
    """The readings of ``data`` (base64 text, or bytes), layer after layer, the outermost first; and why
    the reading stopped short (a budget spent, a layer of ``bound`` bytes or more, too many layers, an
    archive that cannot be read), or None when every layer was read. What was not read is not called
    clean: the readings made before a stop are returned all the same. An archive's files are each read
    so, one layer further in (`_archive`). Each reading is one a client may make, so each is judged on
    its own: a reading that is JSON hides none of the others."""
    layer = decoded_bytes(data)
    if stop := budget.spend(spent, len(layer)):  # many compressed strings: each a bomb's worth
        return [], stop
    return _unpacked(layer, spent, charset, bound, LAYERS, "")


def _unpacked(
    layer: bytes, spent: list[int], charset: str, bound: int, layers: int, where: str
) -> tuple[list[Reading], str | None]:
    """The readings of ``layer`` and of up to ``layers`` layers inside it, at ``where``; why it stopped."""
    read: list[Reading] = []
    for left in range(layers - 1, -1, -1):
        texts = [Reading(where, _as_text(text)) for text in texts_of_bytes(layer, charset)]
        try:  # gzip, zlib, then bzip2, xz, zip, tar... by their magic bytes; zstd, brotli, raw deflate
            unpacked = (  # (never all ASCII) by trying
                inflate(layer)
                or archives.unpack(layer, bound)
                or (None if layer.isascii() else decompressed(layer))
            )
        except archives.Unreadable as exc:
            return read + texts, str(exc)
        if isinstance(unpacked, archives.Archive):  # read as its bytes outside its files, and its files
            inside, stop = _archive(unpacked, spent, bound, left, where)
            return read + inside, stop
        read += texts
        if unpacked is None:
            return read, None
        if stop := budget.spend(spent, len(unpacked)):
            return read, stop
        if len(unpacked) >= bound:  # a layer that fills the bound was not read to its end
            return read, f"a body that decompresses past what one check reads ({bound >> 20} MiB)"
        layer = unpacked
    return read, f"a body compressed more than {LAYERS} times"


def _archive(
    archive: archives.Archive, spent: list[int], bound: int, layers: int, where: str
) -> tuple[list[Reading], str | None]:
    """What whoever unpacks ``archive`` reads: its bytes outside its files, each file's name, and each
    file's readings (one layer further in, at ``where`` and its name)."""
    if stop := budget.spend(spent, sum(len(member.data) for member in archive.members)):
        return [], stop
    read = [Reading(f"{where}{_ITSELF}", _as_text(archive.rest.decode("latin-1")))]
    for member in archive.members:
        at = f"{where}[{msgspec.json.encode(member.name).decode()}]"
        read.append(Reading(f"{at} (its name)", member.name))
        inner, stop = _unpacked(member.data, spent, "", bound, layers, at)
        read += inner
        if stop:
            return read, stop
    return read, None


def _as_text(text: str) -> str:
    """A reading as text: itself when no character in it is binary; else its runs of six or more text
    characters, a line each, as ``strings`` shows a binary file (a .env file's lines between NULs stay
    lines). A credential is text: what goes is bytes no rule reads, and they cost the most to search
    (in random bytes every letter starts a candidate: 1 MB of audio took 0.4 s)."""
    if _NOT_TEXT.search(text) is None:
        return text
    return "\n".join(_TEXT_RUN.findall(text))


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
