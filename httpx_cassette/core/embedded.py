"""Values inside values, where a credential can hide from a check that reads each string as it is: JSON
written into a string (a tool call's arguments, a JSON body sent as ``text/plain``, a spaced NDJSON line
kept as text), ``"name": "value"`` pairs in text that is not whole JSON (a stream cut short), a secret
name set to a token in code or a command line written in text (``api_key="..."``), base64 of text
inside a field (GitHub's contents API, a Kubernetes secret), and bytes in a charset other than UTF-8.

The scanner and redaction both look through these, so encoding a secret once more does not hide it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email.message
import io
import re
import zlib
from typing import Any

import msgspec

from httpx_cassette.core.places import MAX_INFLATED, decoded_bytes, inflate, zlib_header
from httpx_cassette.core.secrets import REDACTED, is_hashed, is_placeholder, secret_named, token_like, trivial

__all__ = [
    "xml_secrets",
    "header_line_secrets",
    "code_secrets",
    "decompressed",
    "embedded_base64",
    "embedded_json",
    "formish",
    "header_pair",
    "json_pairs",
    "maybe_json",
    "declared_charset",
    "texts_of_bytes",
    "undoable",
]

_CLOSER = {"{": "}", "[": "]"}


def formish(text: str) -> bool:
    """Text that reads as a form body (``a=1&b=2``): printable, no spaces, an ``=`` in it."""
    return "=" in text and " " not in text and text.isprintable()


def maybe_json(text: str) -> bool:
    """Whether ``text`` may be a JSON object or array (a cheap test of its first character)."""
    head = text[:1]
    return head in _CLOSER or (head.isspace() and text.lstrip()[:1] in _CLOSER)


def embedded_json(text: str) -> Any | None:
    """The JSON object or array that ``text`` is (whitespace around it allowed), or None."""
    stripped = text.strip()
    if len(stripped) < 2 or _CLOSER.get(stripped[0]) != stripped[-1]:
        return None
    try:
        return msgspec.json.decode(stripped)
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested deeper than Python builds
        return None


# A quoted name, a colon, and a quoted value that may be cut short (the text ended inside it).
_PAIR = re.compile(r'"([^"\\\n]{1,64})"\s*:\s*"((?:[^"\\\n]|\\.){1,4096})')


def json_pairs(text: str) -> list[tuple[str, str]]:
    """The ``"name": "value"`` pairs in ``text`` when it holds JSON without being JSON: an event cut off
    mid-object, JSON inside other text. Values are unescaped when they are whole."""
    if '"' not in text or ":" not in text:
        return []
    pairs = []
    for match in _PAIR.finditer(text):
        value = match.group(2)
        if "\\" in value:
            with contextlib.suppress(msgspec.DecodeError):  # cut inside an escape: judge it as written
                value = str(msgspec.json.decode(f'"{value}"'))
        pairs.append((match.group(1), value))
    return pairs


_MIN_BASE64 = 24  # 18 bytes: shorter than any credential worth encoding
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


def embedded_base64(text: str) -> bytes | None:
    """The bytes behind ``text`` when it is base64 (or base64url, line breaks allowed as MIME and GitHub
    write it) of 24+ characters that decodes to text or compressed data; None otherwise (an id, a hash,
    a random token: those decode to noise)."""
    if len(text) < _MIN_BASE64:
        return None
    compact = text.replace("\n", "").replace("\r", "") if "\n" in text else text
    if not _BASE64.fullmatch(compact):
        return None
    if "-" in compact or "_" in compact:
        compact = compact.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if zlib_header(raw) or raw.startswith((_GZIP, _ZSTD)):
        return raw  # compressed (a zlib header is checksummed: noise rarely passes)
    return raw if _is_text(raw) else None


def _is_text(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return printable >= 0.95 * len(text)


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decompressed(raw: bytes) -> bytes | None:
    """``raw`` decompressed when it is zstd, raw deflate or brotli (gzip and zlib are
    `httpx_cassette.core.places.inflate`'s), at most 64 MiB of it; None when it is none of those.

    A stored request keeps no ``content-encoding`` header and brotli has no magic bytes, so each
    coding is tried in turn: on anything else they fail at once. brotli and zstd are read when their
    packages are installed (the ones httpx uses for them).
    """
    if raw.startswith(_ZSTD):
        return _zstd(raw)
    with contextlib.suppress(zlib.error):
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        out = inflater.decompress(raw, MAX_INFLATED)
        if inflater.eof and out:
            return out
    try:
        import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    try:
        out = brotli.Decompressor().process(raw, output_buffer_limit=MAX_INFLATED)
    except brotli.error:
        return None
    return bytes(out) or None


def _zstd(raw: bytes) -> bytes | None:
    try:
        import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
            return bytes(reader.read(MAX_INFLATED))
    except zstandard.ZstdError:
        return None


def texts_of_bytes(raw: bytes, charset: str = "") -> list[str]:
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
    quarter, half = len(raw) // 4, len(raw) // 2
    for codec, zeros in (("utf-32-le", (1, 2, 3)), ("utf-32-be", (0, 1, 2))):
        if all(raw[k::4].count(0) > quarter * 0.4 for k in zeros):
            return [raw[: len(raw) // 4 * 4].decode(codec, "replace")]
    if raw[1::2].count(0) > half * 0.4:
        return [raw.decode("utf-16-le", "replace")]
    if raw[0::2].count(0) > half * 0.4:
        return [raw.decode("utf-16-be", "replace")]
    return []


def declared_charset(content_type: object) -> str:
    """The charset a content-type names, read as httpx reads it (the email parser): what a client
    decodes the body with."""
    if not isinstance(content_type, str) or "charset" not in content_type.lower():
        return ""
    message = email.message.Message()
    message["content-type"] = content_type
    return str(message.get_content_charset() or "")


def header_pair(item: object) -> bool:
    """A header written as a ``[name, value]`` pair (an ASGI scope, a HAR-like echo)."""
    return type(item) is list and len(item) == 2 and type(item[0]) is str and type(item[1]) is str


def undoable(encoded: str) -> bool:
    """Whether a compressed body's first layer (base64) can be decompressed here."""
    layer = decoded_bytes(encoded)
    return not layer or inflate(layer) is not None or decompressed(layer) is not None


# A secret name set to a quoted value inside a line of code or prose: a keyword argument or assignment
# (``api_key="..."``), an object's member (``apiKey: '...'``, ``{'password': '...'}``), a header in
# quotes (``-H "X-Api-Key: ..."``); and an environment variable on a command line (``API_KEY=... cmd``).
# Each alternative starts at a quote or a name and stops at the next quote or line end: linear, but it
# tries every word of a text as a name (90 ns a character), so `_MAYBE_CODE` looks first, in C.
_CODE_PAIR = re.compile(
    r"""(?<![\w.-])(['"]?)([A-Za-z_][\w.-]{0,63})\1[ \t]*(?:=>?|:)[ \t]*(['"])([^'"\\\n]{1,4096})\3"""
    r"""|(['"])([A-Za-z][\w-]{0,63}):[ \t]*([^'"\\\n]{1,4096})\5"""
    r"""|(?<![\w.-])([A-Z][A-Z0-9_]{1,63})=([^\s'"\\&]{16,4096})"""  # "&": a URL's query, judged as one
)
# What each alternative needs, as searches that start at one rare character (which `re` skips to in C):
# an operator before a quote, a quote before a name and a colon, "=" before 16 characters.
_MAYBE_CODE = (
    re.compile(r"""(?:=>?|:)[ \t]*['"]"""),
    re.compile(r"""['"][A-Za-z][\w-]{0,63}:"""),
    re.compile(r"""=[^\s'"\\&]{16}"""),
)


def code_secrets(text: str) -> list[tuple[str, str]]:
    """The secret name and value pairs that code or a command line in ``text`` sets: a secret's name set
    to a token (16+ characters of two kinds, no space). Inside prose a sure name (``password``) is no
    proof, since answers show ``password="changeme"``; a placeholder (``"<API_KEY>"``) is none."""
    found = header_line_secrets(text) + xml_secrets(text)
    if ("=" not in text and ":" not in text) or not any(maybe.search(text) for maybe in _MAYBE_CODE):
        return found
    for match in _CODE_PAIR.finditer(text):
        name, value = (
            match.group(2, 4)
            if match.group(2)
            else match.group(6, 7)
            if match.group(6)
            else match.group(8, 9)
        )
        if (
            secret_named(name) is not None
            and token_like(value)
            and not (is_placeholder(value) or is_hashed(value))
        ):
            found.append((name, value))
    return found


# A credential header quoted in text, as a header dump, a log line or an error message writes it (h11's
# "illegal header line: b'Set-Cookie session=...'"): the value after an Authorization scheme, each
# cookie's value. Only where the header's name stands before it, with a colon or spaces.
_HEADER_LINE = re.compile(
    r"(?i)(?<![\w-])((?:proxy-)?authorization|set-cookie2?|cookie2?)[ \t]*[: \t][ \t]*([^\n'\"\\]{8,4096})"
)
_MAYBE_HEADER = re.compile(r"(?i)ookie|uthorization")  # searched first, in C: most text has neither
_SCHEMES = frozenset(
    {"basic", "bearer", "token", "digest", "negotiate", "ntlm", "key", "apikey", "sharedkey"}
)
_COOKIE = re.compile(r"([\w.-]+)=([^\s;,]{8,4096})")


def header_line_secrets(text: str) -> list[tuple[str, str]]:
    """``(header, credential)`` for each credential header quoted in ``text``: the credentials after an
    Authorization scheme (``Token hunter2pw``, ``Basic ...``), each cookie value of a Cookie or Set-Cookie
    line that is no short word (a session id; not ``lang=en-US``)."""
    if _MAYBE_HEADER.search(text) is None:
        return []
    found = []
    for match in _HEADER_LINE.finditer(text):
        name, value = match.group(1), match.group(2).strip()
        if "uthorization" in name.lower():
            scheme, _, credentials = value.partition(" ")
            credentials = credentials.strip().split(" ")[0]
            known = scheme.lower() in _SCHEMES and not trivial(credentials)  # else a token (not prose)
            if (
                (known or token_like(credentials))
                and not is_placeholder(credentials)
                and "://" not in credentials
            ):
                found.append((name, credentials))
            continue
        found += [(name, v) for _, v in _COOKIE.findall(value) if not trivial(v) and not is_placeholder(v)]
    return [(name, value) for name, value in found if value != REDACTED]


# An XML element (a SOAP envelope's ``<wsse:Password>``, ``<SecretAccessKey>``), namespace prefix aside;
# each start stops at the next angle bracket: linear.
_XML_ELEMENT = re.compile(
    r"<(?:[\w.-]+:)?([A-Za-z_][\w.-]{0,63})(?:\s[^<>]{0,1024})?>([^<>]{1,4096})</(?:[\w.-]+:)?\1>"
)


def xml_secrets(text: str) -> list[tuple[str, str]]:
    """``(element, value)`` for each XML element in ``text`` named as a secret whose text is a token,
    by the rule of code in text (an answer shows ``<password>changeme</password>``)."""
    if "</" not in text:
        return []
    return [
        (name, value)
        for name, value in _XML_ELEMENT.findall(text)
        if secret_named(name) is not None and token_like(value) and not is_placeholder(value.strip())
    ]
