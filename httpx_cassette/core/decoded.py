"""Bytes behind text and text behind bytes: a base64 body or side file's bytes, gzip and zlib layers
undone (at most 64 MiB), base64 in a field or anywhere in text (a data URI's payload too) that decodes
to text or compressed data, and bytes read in every charset a client may read them in (UTF-16 and UTF-32
by a byte-order mark or the NULs of ASCII in them). `httpx_cassette.core.embedded` builds on these.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email.message
import re
import zlib
from urllib.parse import unquote_to_bytes

__all__ = [
    "GZIP",
    "base64_inside",
    "MAX_INFLATED",
    "ZSTD",
    "declared_charset",
    "decoded_bytes",
    "embedded_base64",
    "inflate",
    "readings",
    "zlib_header",
]

MAX_INFLATED = 64 * 1024 * 1024  # a decompression bomb in a hostile file is read this far, no further

_MIN_BASE64 = 24  # 18 bytes: shorter than any credential worth encoding
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
GZIP, ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_SNIFF = 4096  # base64 characters decoded first: binary (an image) is told by its start, as a whole
_MEDIA_TYPE = 1024  # the longest ``data:<mediatype>;params;base64,`` head read


def embedded_base64(text: str) -> bytes | None:
    """The bytes behind ``text`` when it is base64 (or base64url, line breaks allowed as MIME and GitHub
    write it) of 24+ characters, or a data URI (``data:text/plain;base64,...``: a file sent to a model,
    or ``data:,...`` percent-encoded), that decodes to text (UTF-8, or UTF-16 or UTF-32 as PowerShell's
    ``-EncodedCommand`` writes it) or compressed data; None otherwise (an id, a hash, a random token, an
    image: those decode to noise)."""
    if len(text) < _MIN_BASE64:
        return None
    if text[:5].lower() == "data:":
        return _data_uri(text)
    compact = text.replace("\n", "").replace("\r", "") if "\n" in text else text
    if len(compact) > _SNIFF:  # an image's megabytes are not decoded: noise from its first bytes on
        head = _undecoded(compact[:_SNIFF])
        if head is None or _textual(head, whole=False) is None:
            return None
    raw = _undecoded(compact)
    return None if raw is None else _textual(raw, whole=True)


# Base64 inside text: a token of the base64 alphabets (standard and URL-safe together: each is tried as
# the one it is), and a block of whole lines of standard base64 (MIME's 76 columns, PEM's 64, GitHub's 60,
# a YAML block scalar), every line but the last a whole number of 4-character groups. A block's lines
# are broken by a real line break, or by one written as an escape in a string literal that nothing parsed
# (``\n``, ``\r\n``, ``\\n``: JSONP, a page's embedded state, a repr in an error message), whose
# ``n`` would otherwise start each line's token one character out of step. A block starts after any
# character that is no base64 (a quote, a label: `_block_bytes` reads it from its second line too). Both
# are linear: a token ends at the first other character, a block at the first line that is no base64.
_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_BREAK = r"[ \t]*(?:\r?\n|(?:\\+r)?\\+n)[ \t]*"
_BLOCK = re.compile(
    rf"(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{{4}}){{4,}}(?:{_BREAK}(?:[A-Za-z0-9+/]{{4}}){{4,}})*"
    rf"{_BREAK}[A-Za-z0-9+/]+={{0,2}}(?![A-Za-z0-9+/=])"
)
_BREAKS = re.compile(_BREAK)
# What a block's second line starts with, after a real line break or an escaped one.
_BLOCK_LINE = re.compile(r"(?:\n|\\n)[ \t]*(?:[A-Za-z0-9+/]{4}){4}")
# Each byte of the alphabets as "a", any other as " ": whether a token may be there is then one search for
# 24 a's, in C (the token pattern tries every position: 20 ns a character, through every answer's text).
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_AS_RUNS = bytes(0x61 if byte in _ALPHABET else 0x20 for byte in range(256))
_RUN = b"a" * _MIN_BASE64
_SPLIT_UP_TO = 2048  # a longer token of standard base64 that is no text is binary's: no pieces tried


def base64_inside(text: str) -> list[bytes]:
    """The bytes behind each base64 run in ``text`` that decodes to text or compressed data (as
    `embedded_base64` judges a whole string): ``text`` itself when it is such base64 or a data URI; else
    each block of whole base64 lines in it (a MIME part, a PEM body, a YAML block scalar), and each token
    of the base64 alphabet of 24+ characters outside those (a Kubernetes secret's ``data:`` value, a blob
    pasted after a sentence, a URL's path segment). The caller reads each as bytes: base64 inside what it
    decodes to is found there, one layer at a time."""
    if len(text) < _MIN_BASE64:
        return []
    whole = embedded_base64(text)
    if whole is not None:
        return [whole]
    found: list[bytes] = []
    taken: list[tuple[int, int]] = []  # (start, end) of each block read, in order: they do not overlap
    if ("\n" in text or "\\n" in text) and _BLOCK_LINE.search(text):
        for block in _BLOCK.finditer(text):
            read = _block_bytes(block)
            if read is not None:
                found.append(read[0])
                taken.append((read[1], block.end()))
    if _RUN not in text.encode("utf-8", "surrogatepass").translate(_AS_RUNS):
        return found
    # Tokens come in order too: one walk over both (a token is checked against the one block that may
    # hold it, not against every block before it: linear in the number of blocks).
    spans, end = iter(taken), -1
    start = 0
    for token in _TOKEN.finditer(text):
        at = token.start()
        while end <= at:
            start, end = next(spans, (len(text), len(text) + 1))
        if start <= at or token.group(0) == text:
            continue  # in a block read already; the whole text, judged above
        found += _token_bytes(token.group(0))
    return list(dict.fromkeys(found))  # the same run twice is read once


def _block_bytes(block: re.Match[str]) -> tuple[bytes, int] | None:
    """(the bytes behind ``block``, where what was read starts) when it is base64 of text or compressed
    data; else from its second line, when its first was no part of it (a label's value: a hash before a
    MIME part), as long as two lines are left."""
    lines = _BREAKS.split(block.group(0))
    raw = embedded_base64("".join(lines))
    if raw is not None:
        return raw, block.start()
    if len(lines) < 3:
        return None
    raw = embedded_base64("".join(lines[1:]))
    second = _BREAKS.search(block.group(0))
    return None if raw is None or second is None else (raw, block.start() + second.end())


def _token_bytes(token: str) -> list[bytes]:
    """The bytes behind one token: itself as base64, else each piece between its slashes (a URL path:
    ``/v1/files/<base64url>/content``), unless it is long standard base64 (of binary: pieces of it are
    noise)."""
    raw = embedded_base64(token)
    if raw is not None:
        return [raw]
    if "/" not in token or (len(token) > _SPLIT_UP_TO and "-" not in token and "_" not in token):
        return []
    pieces = (piece for piece in token.split("/") if len(piece) >= _MIN_BASE64)
    return [raw for piece in pieces if (raw := embedded_base64(piece)) is not None]


def _undecoded(compact: str) -> bytes | None:
    """The bytes of base64 (or base64url) ``compact``, or None when it is none."""
    if not _BASE64.fullmatch(compact):
        return None
    if "-" in compact or "_" in compact:
        compact = compact.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _data_uri(text: str) -> bytes | None:
    """The payload of a data URI (RFC 2397: ``data:[<mediatype>][;params][;base64],<data>``), when it is
    text or compressed data, whatever its media type says (a label is no proof: the bytes are written)."""
    comma = text.find(",", 5, _MEDIA_TYPE)
    if comma < 0:
        return None
    payload = text[comma + 1 :]
    if text[5:comma].lower().replace(" ", "").endswith(";base64"):
        return embedded_base64(payload) if payload[:5].lower() != "data:" else None
    if "%" not in payload:  # as written: the string itself is judged so
        return None
    raw = unquote_to_bytes(payload)
    return _textual(raw, whole=True)


def _textual(raw: bytes, *, whole: bool) -> bytes | None:
    """``raw`` when it is compressed or reads as text; None when it is noise. Not ``whole``: the start of
    the bytes, which may end inside a character (UTF-8 then only needs to be valid: the whole of it is
    judged as text)."""
    if zlib_header(raw) or raw.startswith((GZIP, ZSTD)):
        return raw  # compressed (a zlib header is checksummed: noise rarely passes)
    if _is_text(raw, "utf-8", whole) if whole else _utf8_start(raw):
        return raw
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw[:64]:
        codec = _wide_codec(raw)
        if codec is not None and _is_text(raw, codec, whole):
            return raw
    return None


def _utf8_start(raw: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _is_text(raw: bytes, codec: str, whole: bool) -> bool:
    """Whether ``raw`` decodes strictly in ``codec`` to printable text (95% of its characters or more)."""
    try:
        text = codecs.getincrementaldecoder(codec)().decode(raw, final=whole)
    except UnicodeDecodeError:
        return False
    if text.isprintable():
        return True
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return printable >= 0.95 * len(text)


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _wide_codec(raw: bytes) -> str | None:
    """UTF-16 or UTF-32 (``utf-16`` and ``utf-32`` read their byte-order mark) when ``raw`` starts with
    a byte-order mark of one, or its NUL bytes fall where ASCII text in one has its NULs."""
    for bom, codec in _BOMS[1:]:
        if raw.startswith(bom):
            return codec[:6]
    quarter, half = len(raw) // 4, len(raw) // 2
    for codec, zeros in (("utf-32-le", (1, 2, 3)), ("utf-32-be", (0, 1, 2))):
        if all(raw[k::4].count(0) > quarter * 0.4 for k in zeros):
            return codec
    if raw[1::2].count(0) > half * 0.4:
        return "utf-16-le"
    if raw[0::2].count(0) > half * 0.4:
        return "utf-16-be"
    return None


def readings(raw: bytes, charset: str = "") -> list[str]:
    """``raw`` read as text, so that a credential in it reads as one, whatever its charset: in the
    ``charset`` its content-type declares (what a client decodes it with: UTF-16 with no byte-order
    mark, EBCDIC...), as UTF-8, else latin-1 (which decodes anything and keeps ASCII runs as they are);
    and also as UTF-16 or UTF-32 when a byte-order mark or the NUL bytes of ASCII in them say it may be.
    The likeliest first."""
    texts = []
    with contextlib.suppress(LookupError, ValueError):  # a charset Python has no codec for
        if charset and codecs.lookup(charset).name not in ("utf-8", "latin-1", "iso8859-1", "ascii"):
            texts.append(raw.decode(charset, "replace"))
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            texts.append(raw[len(bom) :].decode(codec, "replace"))
            break
    else:
        if len(raw) >= 4 and b"\x00" in raw[:64]:
            texts += _nul_spaced(raw)
    try:
        texts.append(raw.decode("utf-8"))
    except UnicodeDecodeError:
        texts.append(raw.decode("latin-1"))
    return texts


def _nul_spaced(raw: bytes) -> list[str]:
    """``raw`` as UTF-32 or UTF-16 when its NUL bytes fall where ASCII text in them has its NULs."""
    codec = _wide_codec(raw)
    if codec is None:
        return []
    return [raw[: len(raw) // 4 * 4 if "32" in codec else len(raw)].decode(codec, "replace")]


def declared_charset(content_type: object) -> str:
    """The charset a content-type names, read as httpx reads it (the email parser): what a client
    decodes the body with."""
    if not isinstance(content_type, str) or "charset" not in content_type.lower():
        return ""
    message = email.message.Message()
    message["content-type"] = content_type
    return str(message.get_content_charset() or "")


def zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header: deflate, a window of any size (``0x78`` is only the
    largest; every client's decoder takes ``0x18`` to ``0x68`` too), checksummed."""
    return len(data) > 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0


def inflate(data: bytes) -> bytes | None:
    """``data`` decompressed when it is gzip or zlib (at most 64 MiB of it), else None."""
    if data[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS
    elif zlib_header(data):
        wbits = zlib.MAX_WBITS
    else:
        return None
    try:
        return zlib.decompressobj(wbits).decompress(data, MAX_INFLATED)
    except zlib.error:
        return None


def decoded_bytes(data: bytes | str) -> bytes:
    """The bytes behind a base64 body (``str``) or a side file (``bytes``); undecodable base64 is
    returned as its own text. Compressed layers are the caller's to undo (`inflate`)."""
    if isinstance(data, bytes):
        return data
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data.encode("utf-8", "replace")
