"""Where credentials hide beyond plain JSON strings: URLs (userinfo, query, path), form bodies, bytes
stored as base64 (compressed or not), and free text such as a User-Agent.

Each place has one finder, used by the scanner (to report) and by redaction (to replace), so what
recording redacts and what `scan` reports on disk cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from httpx_cassette.core.secrets import REDACTED, known_format, random_token, secret_value

__all__ = [
    "URL_IN_TEXT",
    "decoded_bytes",
    "free_text_secrets",
    "inflate",
    "redact_url",
    "redact_urls_in_text",
    "scrub_free_text",
    "url_secrets",
]

URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_MAX_INFLATED = 64 * 1024 * 1024  # a decompression bomb in a hostile file is read this far, no further


def url_secrets(url: str) -> list[tuple[str, str]]:
    """``(what, value)`` for each credential in ``url``: a userinfo password, a secret query parameter,
    a random token in a path segment (``/bot<token>/``)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL after all
        return []
    found: list[tuple[str, str]] = []
    if password and password != REDACTED:
        found.append(("password in a URL", password))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if secret_value(name, value, query=True):
            found.append((f"secret query parameter {name!r}", value))
    token = random_token(unquote(parts.path))
    if token is not None:
        found.append(("random token in a URL path", token))
    return found


def _redact_query(query: str) -> str:
    """Values of secret parameters replaced; every other pair keeps its exact encoding."""
    pairs = query.split("&")
    for i, pair in enumerate(pairs):
        name, eq, value = pair.partition("=")
        if eq and secret_value(unquote(name.replace("+", " ")), unquote(value.replace("+", " ")), query=True):
            pairs[i] = f"{name}={REDACTED}"
    return "&".join(pairs)


def redact_url(url: str) -> str:
    """``url`` with a userinfo password and the values of secret query parameters as ``REDACTED``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if password and password != REDACTED:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{REDACTED}@{host}"
    query = _redact_query(parts.query) if parts.query else parts.query
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_urls_in_text(text: str) -> str:
    """Every URL inside free text (an error message) redacted as `redact_url` does."""
    return URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text) if "://" in text else text


def inflate(data: bytes) -> bytes | None:
    """``data`` decompressed when it is gzip or zlib (at most 64 MiB of it), else None."""
    if data[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS
    elif data[:1] == b"\x78":
        wbits = zlib.MAX_WBITS
    else:
        return None
    try:
        return zlib.decompressobj(wbits).decompress(data, _MAX_INFLATED)
    except zlib.error:
        return None


def decoded_bytes(data: bytes | str) -> bytes:
    """The bytes behind a base64 body (``str``) or a side file (``bytes``), decompressed when gzip or
    zlib, so a credential inside is visible; undecodable base64 is returned as its own text."""
    raw = data
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return data.encode("utf-8", "replace")
    assert isinstance(raw, bytes)
    inflated = inflate(raw)
    return raw if inflated is None else inflated


_FREE_TOKEN = re.compile(r"[^\s;,()\[\]{}\"']+")


def free_text_secrets(text: str) -> list[str]:
    """Credentials in free text with no field name around them (a User-Agent, a comment): ``name=value``
    or ``name:value`` pairs with a secret name, and random tokens (32+ hex, long random base64url)."""
    found = known_format(text)
    for match in _FREE_TOKEN.finditer(text):
        token = match.group(0)
        name, sep, value = _pair(token)
        if sep and secret_value(name, value, query=True):
            found.append(value)
            continue
        random = random_token(token)
        if random is not None:
            found.append(random)
    return found


_SEPARATOR = re.compile(r"[=:]")


def _pair(token: str) -> tuple[str, str, str]:
    """``"key=abc"`` -> ``("key", "=", "abc")``; no separator -> ``(token, "", "")``."""
    match = _SEPARATOR.search(token)
    if match is None:
        return token, "", ""
    return token[: match.start()], match.group(0), token[match.end() :]


def scrub_free_text(text: str) -> str:
    """``text`` with what `free_text_secrets` finds replaced by ``REDACTED``."""
    for secret in sorted(set(free_text_secrets(text)), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
