"""Bodies as stored: a JSON value when the bytes are JSON, text when they are UTF-8, else base64.

Shared by requests and responses, in both directions (bytes -> fields on record, fields -> bytes
on replay), so what is written is exactly what is served back.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.model.cassette import Request, Response

__all__ = [
    "UTF8_CHARSETS",
    "body_bytes",
    "charset_of",
    "is_json_type",
    "json_line",
    "media_type",
    "store_body",
    "stored_text",
]


def media_type(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(mtype: str) -> bool:
    return mtype == "application/json" or mtype.endswith("+json")


# U+0085, U+2028 and U+2029 end a line for `str.splitlines`, and so for httpx's `iter_lines` (which
# ollama's client and httpx-sse read with); JSON allows them raw in strings, and msgspec writes them so.
_LINE_BREAKS = ((b"\xc2\x85", b"\\u0085"), (b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def json_line(value: Any) -> bytes:
    """``value`` as compact JSON that no line reader splits: the three line breaks JSON lets stand in a
    string are written as escapes (the same JSON value; a live server writing them raw is rare, Go and
    Python servers escape them)."""
    data = msgspec.json.encode(value)
    for raw, escaped in _LINE_BREAKS:
        if raw in data:  # these bytes are never part of another character: replacing them is exact
            data = data.replace(raw, escaped)
    return data


UTF8_CHARSETS = ("utf-8", "utf8", "ascii", "us-ascii")  # stored as `text`: served back as UTF-8


# A content-type every reader parses alike: a media type, then ``name=value`` pairs of plain tokens
# (no quotes, no RFC 8187 ``charset*=``, no spaces around "="). httpx reads parameters with the email
# parser (quotes, RFC 2231), requests with a naive split on ";" (the last repeat wins): on anything else
# they can disagree on the charset.
_TOKEN = r"[!#$%&'+.^_`|~0-9A-Za-z-]+"
_PLAIN_TYPE = re.compile(rf"[^;\"\\\s]*\s*(?:;\s*{_TOKEN}={_TOKEN}\s*)*;?\s*")


def charset_of(content_type: str) -> str:
    """The ``charset`` parameter of a content-type, lower case; ``utf-8`` when it names none; ``""``
    (no charset we know) when clients could read it two ways: quoted or RFC 8187 parameters, spaces
    around "=", a charset given twice. A body is stored as UTF-8 text only when every client reads it
    so: what `scan` reads is then what the client reads."""
    if "charset" not in content_type.lower():
        return "utf-8"
    if not _PLAIN_TYPE.fullmatch(content_type):
        return ""
    params = (param.strip().partition("=") for param in content_type.split(";")[1:])
    found = [value.lower() for name, _, value in params if name.lower() == "charset"]
    return found[0] if len(found) == 1 else ""


def store_body(target: Request | Response, content: bytes, content_type: str) -> None:
    """Set exactly one of ``body``/``text``/``base64`` on ``target`` from raw ``content``."""
    if not content:
        return
    if is_json_type(media_type(content_type)):
        try:
            target.body = msgspec.json.decode(content)
            return
        except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter for bad UTF-8
            pass  # mislabelled: keep it as text or bytes, byte for byte
    text = stored_text(content, content_type)
    if text is not None:
        target.text = text
    else:
        target.base64 = base64.b64encode(content).decode("ascii")


def stored_text(content: bytes, content_type: str | None) -> str | None:
    """``content`` as the text a body (or a multipart field) of ``content_type`` is stored as; None when
    it is kept as bytes: a charset not every client reads as UTF-8, invalid UTF-8, NULs (which say
    UTF-16 or UTF-32 more than text: json.loads reads them so)."""
    if charset_of(content_type or "") not in UTF8_CHARSETS or b"\x00" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def body_bytes(source: Request | Response) -> bytes:
    """The bytes a stored body stands for (the inverse of `store_body`)."""
    body: Any = source.body
    if body is not UNSET:
        return msgspec.json.encode(body)
    if isinstance(source.text, str):
        return source.text.encode("utf-8")
    if isinstance(source.base64, str):
        return base64.b64decode(source.base64, validate=True)  # as `scan` reads it: no byte skipped
    return b""
