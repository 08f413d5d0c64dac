"""Values inside values, where a credential can hide from a check that reads each string as it is: JSON
written into a string (a tool call's arguments, a JSON body sent as ``text/plain``, a spaced NDJSON line
kept as text), ``"name": "value"`` pairs in text that is not whole JSON (a stream cut short), a secret
name set to a token in code or a command line written in text (``api_key="..."``), base64 of text
inside a field (GitHub's contents API, a Kubernetes secret, a data URI), and bytes in a charset other
than UTF-8 (`httpx_cassette.core.decoded`); JSON that only Python's json module reads (``NaN``,
`httpx_cassette.core.lenient`) as the structure a client parses.

The scanner and redaction both look through these, so encoding a secret once more does not hide it.
"""

from __future__ import annotations

import contextlib
import io
import re
import zlib
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from httpx_cassette.core.decoded import ZSTD, declared_charset, embedded_base64, readings
from httpx_cassette.core.lenient import lenient_json, may_be_lenient, strict_text
from httpx_cassette.core.places import MAX_INFLATED, decoded_bytes, inflate, url_secrets, urls_in_text
from httpx_cassette.core.secrets import (
    REDACTED,
    as_lines,
    field_name,
    is_hashed,
    known_format,
    secret_named,
    secret_value,
    stands_in,
    token_like,
    trivial,
)

__all__ = [
    "xml_secrets",
    "header_line_secrets",
    "code_secrets",
    "decompressed",
    "embedded_base64",
    "embedded_json",
    "escaped_secrets",
    "form_pairs",
    "formish",
    "header_pair",
    "inline_secrets",
    "json_pairs",
    "maybe_json",
    "declared_charset",
    "texts_of_bytes",
    "undoable",
]

_CLOSER = {"{": "}", "[": "]"}


def form_pairs(text: str) -> list[tuple[str, str]]:
    """The fields of ``text`` read as a form (a `formish` string), as the scanner and its pre-check read
    them. Leading ``=`` are no field: read as one, a line of ``=====`` would be a field whose value is
    itself such a form, nested one level per ``=``."""
    return parse_qsl(text.lstrip("="), keep_blank_values=True)


def formish(text: str) -> bool:
    """Text that reads as a form body (``a=1&b=2``): printable, no spaces, an ``=`` in it."""
    return "=" in text and " " not in text and text.isprintable()


def maybe_json(text: str) -> bool:
    """Whether ``text`` may be a JSON object or array (a cheap test of its first character); a UTF-8
    byte-order mark may come first (.NET writes one: httpx's ``.json()`` reads past it)."""
    head = text[:1]
    if head in _CLOSER:
        return True
    if not head.isspace() and head != "\ufeff":
        return False
    return text.lstrip().removeprefix("\ufeff").lstrip()[:1] in _CLOSER


def _json_shaped(text: str) -> str | None:
    """``text`` without the whitespace and byte-order mark around it, when it is shaped as a JSON object
    or array (its first and last characters)."""
    stripped = text.strip()
    if stripped[:1] == "\ufeff":
        stripped = stripped[1:].lstrip()
    if len(stripped) < 2 or _CLOSER.get(stripped[0]) != stripped[-1]:
        return None
    return stripped


def embedded_json(text: str) -> Any | None:
    """The JSON object or array that ``text`` is (whitespace and a byte-order mark around it allowed), as
    a client parses it: by Python's json module too when only that module reads it (``NaN``, see
    `httpx_cassette.core.lenient`); or None."""
    stripped = _json_shaped(text)
    if stripped is None:
        return None
    try:
        return msgspec.json.decode(stripped)
    # Not JSON, nested deeper than Python builds, or a string Python's json module read holding a lone
    # surrogate (no UTF-8 has one)
    except (msgspec.DecodeError, RecursionError, UnicodeEncodeError):
        return lenient_json(stripped)


def _strict_reading(text: str) -> str | None:
    """``text`` written as JSON msgspec reads, when it is JSON only Python's json module reads; else None."""
    stripped = _json_shaped(text) if maybe_json(text) else None
    if stripped is None or not may_be_lenient(stripped):
        return None
    try:
        msgspec.json.decode(stripped)
    except (msgspec.DecodeError, RecursionError):
        inner = lenient_json(stripped)
        return None if inner is None else strict_text(inner)
    return None


# A quoted name, a colon, and a quoted value that may be cut short (the text ended inside it).
_PAIR = re.compile(r'"([^"\\\n]{1,64})"\s*:\s*"((?:[^"\\\n]|\\.){1,4096})')


def json_pairs(text: str) -> list[tuple[str, str]]:
    """The ``"name": "value"`` pairs in ``text`` when it holds JSON without being JSON: an event cut off
    mid-object, JSON inside other text. Values are unescaped when they are whole; a ``value`` is named
    as a sibling names it (`field_name`)."""
    if ":" not in text:
        return []
    readings = [text]
    if '{\\"' in text:  # JSON quoted once more: an error message or a log line quoting a body
        readings.append(text.replace('\\"', '"'))
    if "&quot;" in text or "&#" in text:  # JSON in an HTML attribute (`data-config="{&quot;...`)
        import html  # its entity table costs the import a millisecond; few texts need it

        readings.append(html.unescape(text))
    return [pair for reading in readings for pair in _named(reading)]


def _named(text: str) -> list[tuple[str, str]]:
    """The pairs of ``text``, a ``value`` named as its object names it (`field_name`), by the pairs of the
    same object for siblings (its braces counted, an object inside it apart): ``{"Name": "DB_PASSWORD",
    "Value": ...}`` in a code block is a password, and a value is never named by the object after it."""
    objects: list[list[tuple[str, str]]] = [[]]
    open_ = [objects[0]]
    end = 0
    for start, stop, name, _, value in _pairs_at(text):
        # From after the closing quote of the pair before: a brace inside a string is text, not a brace.
        # One pass, a flag for "in a string" (a pattern for whole strings tried again at every escaped
        # quote of one left open, and read the rest of its line each time: quadratic).
        quoted = False
        for token in _BRACES.findall(text, end + (text[end : end + 1] == '"'), start):
            if token == '"':
                quoted = not quoted
            elif token == "\n":
                quoted = False  # a JSON string holds no line break
            elif quoted or len(token) == 2:  # in a string, or an escape
                continue
            elif token == "{":
                open_.append([])
                objects.append(open_[-1])
            elif len(open_) > 1:
                open_.pop()
        open_[-1].append((name, value))
        end = stop
    named = []
    for pairs in objects:
        siblings = dict(pairs)  # once per object: a long one is many pairs
        named += [(field_name(None, name, siblings)[0], value) for name, value in pairs]
    return named


_BRACES = re.compile(r'\\.|["{}\n]')  # an escape (skipped), a quote, a brace, a line end


def _pairs(text: str) -> list[tuple[str, str, str]]:
    """`json_pairs`, each value also as written."""
    return [(name, written, value) for _, _, name, written, value in _pairs_at(text)]


def _pairs_at(text: str) -> list[tuple[int, int, str, str, str]]:
    """`_pairs`, each with where its match starts and ends in ``text``."""
    if '"' not in text or ":" not in text:
        return []
    pairs = []
    for match in _PAIR.finditer(text):
        value = written = match.group(2)
        if "\\" in value:
            with contextlib.suppress(msgspec.DecodeError):  # cut inside an escape: judge it as written
                value = str(msgspec.json.decode(f'"{value}"'))
        pairs.append((match.start(), match.end(), match.group(1), written, value))
    return pairs


def escaped_secrets(text: str) -> list[tuple[str, str]]:
    """``(name, secret)`` for what a JSON escape hides in the ``"name": "value"`` pairs of text that is
    not whole JSON: a known format (``"\\u0073k-..."``), a URL's password or secret parameter
    (``"https:\\u002F\\u002Fuser:pw@..."``), found in the value unescaped and not as it is written.
    Only those two escapes hide one: a known format after ``\\n`` is one as written (`known_format`)."""
    if "\\u" not in text and "\\/" not in text:
        return []
    found = []
    for name, written, value in _pairs(text):
        if "\\u" in written or "\\/" in written:
            shown = set(_format_or_url(written))
            found += [(name, secret) for secret in _format_or_url(value) if secret not in shown]
    return found


def _format_or_url(text: str) -> list[str]:
    return known_format(text) + [s for url in urls_in_text(text) for _, s in url_secrets(url, paths=False)]


def decompressed(raw: bytes) -> bytes | None:
    """``raw`` decompressed when it is zstd, raw deflate or brotli (gzip and zlib are
    `httpx_cassette.core.places.inflate`'s), at most 64 MiB of it; None when it is none of those.

    A stored request keeps no ``content-encoding`` header and brotli has no magic bytes, so each
    coding is tried in turn: on anything else they fail at once. brotli and zstd are read when their
    packages are installed (the ones httpx uses for them).
    """
    if raw.startswith(ZSTD):
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
    """``raw`` read as text in each charset a client may read it in (`httpx_cassette.core.decoded.readings`:
    the one its content-type declares, UTF-8 or latin-1, UTF-16 or UTF-32 as its byte-order mark or NULs
    say), the likeliest first; then each reading that is JSON only Python's json module reads (``NaN``),
    written as JSON msgspec reads: a check that parses each reading as JSON then judges its fields."""
    texts = readings(raw, charset)
    return texts + [strict for text in texts if (strict := _strict_reading(text)) is not None]


def header_pair(item: object) -> bool:
    """A header written as a ``[name, value]`` pair (an ASGI scope, a HAR-like echo)."""
    return type(item) is list and len(item) == 2 and type(item[0]) is str and type(item[1]) is str


def undoable(encoded: bytes | str) -> bool:
    """Whether a compressed body's first layer (base64, or bytes) can be decompressed here."""
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
    proof, since answers show ``password="changeme"``; a placeholder (``"<API_KEY>"``) is none. And what
    headers, XML elements and JSON escapes in the text hide (`escaped_secrets`)."""
    found = header_line_secrets(text) + xml_secrets(text)
    if "\\" in text:
        found += escaped_secrets(text)
    if ("=" not in text and ":" not in text) or not any(maybe.search(text) for maybe in _MAYBE_CODE):
        return found
    at = 0
    while (match := _CODE_PAIR.search(text, at)) is not None:
        name_at, value_at = (2, 4) if match.group(2) else (6, 7) if match.group(6) else (8, 9)
        name, value = match.group(name_at, value_at)
        secret = secret_named(name) is not None and token_like(value)
        if secret and not (stands_in(value) or is_hashed(value)):
            found.append((name, value))
        # Not a secret's: a pair may sit inside its quoted value (`"log": "client = OpenAI(api_key="...`);
        # such a value holds no quote, so the pair found there ends past it: each value is read twice at
        # most. An unquoted value (`NAME=...`) may hold `=` after `=`: searched past, as a whole.
        at = match.end() if secret or value_at == 9 else match.start(value_at)
    return found


# A credential header quoted in text, as a header dump, a log line or an error message writes it (h11's
# "illegal header line: b'Set-Cookie session=...'"): the value after an Authorization scheme, each
# cookie's value. Only where the header's name stands before it, with a colon or spaces.
_HEADER_LINE = re.compile(
    r"(?i)(?<![\w-])((?:proxy-)?authorization|set-cookie2?|cookie2?)[ \t]*[: \t][ \t]*([^\n'\"\\]{8,4096})"
)
_SCHEMES = frozenset(
    {"basic", "bearer", "token", "digest", "negotiate", "ntlm", "key", "apikey", "sharedkey"}
)
_COOKIE = re.compile(r"([\w.-]+)=([^\s;,]{8,4096})")


def _may_name_header(text: str) -> bool:
    """Whether ``text`` may hold what `_HEADER_LINE` matches: ``ookie`` or ``uthorization`` in any case.
    Searched in the lowered text (ten times faster than a case-blind pattern); the two letters that
    lower() does not map to ``i`` but a case-blind pattern matches, U+0130 and U+0131 (the dotted capital
    and the dotless small I), are read as ``i``."""
    lowered = text.lower()
    if "\u0307" in lowered or "\u0131" in lowered:  # "\u0130".lower() is "i" and a combining dot
        lowered = lowered.replace("\u0307", "").replace("\u0131", "i")
    return "ookie" in lowered or "uthorization" in lowered


def header_line_secrets(text: str) -> list[tuple[str, str]]:
    """``(header, credential)`` for each credential header quoted in ``text``: the credentials after an
    Authorization scheme (``Token hunter2pw``, ``Basic ...``), each cookie value of a Cookie or Set-Cookie
    line that is no short word (a session id; not ``lang=en-US``)."""
    if not _may_name_header(text):
        return []
    found = []
    for match in _HEADER_LINE.finditer(text):
        name, value = match.group(1), match.group(2).strip()
        if "uthorization" in name.lower():
            scheme, _, credentials = value.partition(" ")
            credentials = credentials.strip().split(" ")[0].rstrip(".,;:!?)'\"")  # prose goes on after it
            known = scheme.lower() in _SCHEMES and not trivial(credentials)  # else a token (not prose)
            if (known or token_like(credentials)) and not stands_in(credentials) and "://" not in credentials:
                found.append((name, credentials))
            continue
        found += [(name, v) for _, v in _COOKIE.findall(value) if not trivial(v) and not stands_in(v)]
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
        if secret_named(name) is not None and token_like(value) and not stands_in(value.strip())
    ]


# A value set inside a line of prose (``My config says password: Zq8...``, ``- api_key: ...``): found
# from the ``:`` or ``=`` (rare characters, which ``re`` skips to in C), its name read just before it.
_INLINE_VALUE = re.compile(r"[:=][ \t]*([^\s\"'`<>()\[\]{},;&]{16,4096})")
_NAME_BEFORE = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]{0,63})[\"']?[ \t]*$")


def inline_secrets(text: str) -> list[str]:
    """Tokens set to a secret name anywhere in a line: what `assigned_secrets` finds only in a line of
    its own, judged the same way but for a token only (prose says ``password: see the wiki``)."""
    found: list[str] = []
    for line in as_lines(text):
        for match in _INLINE_VALUE.finditer(line):
            name = _NAME_BEFORE.search(line, max(0, match.start() - 66), match.start())
            if name and token_like(match[1]) and secret_value(name[1], match[1]):
                found.append(match[1])
    return found
