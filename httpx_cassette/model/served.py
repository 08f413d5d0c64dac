"""What a cassette file may say about what was served: only what an HTTP server could have sent.

A file is read back from pull requests, and replay hands what it says to HTTP clients and SDKs that
trust their HTTP parser to have checked it. So a file is held to the same rules at load: a status an
HTTP response can carry, header names that are HTTP tokens and values with no line break or other
control character (a file could otherwise add headers, or split the response, where no server can),
one body per message, and base64 that is base64 (a lenient decoder would serve what ``scan`` cannot
read).
"""

from __future__ import annotations

import re

import msgspec
from msgspec import UNSET

from httpx_cassette.model.body import UTF8_CHARSETS, charset_of
from httpx_cassette.model.cassette import CassetteFile, Request, Response

__all__ = ["check_served", "is_base64"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field names
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no field value holds these (tab is allowed)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_RESPONSE_BODIES = ("body", "text", "base64", "body_file")
_REQUEST_BODIES = ("body", "text", "base64", "multipart")


def is_base64(text: str) -> bool:
    """Whether ``text`` is standard base64, padded, with nothing else in it (no spaces, no newlines)."""
    return len(text) % 4 == 0 and _BASE64.fullmatch(text) is not None


def _refuse(message: str, at: str) -> None:
    raise msgspec.ValidationError(f"{message} - at `{at}`")


def _one_body(message: Request | Response, fields: tuple[str, ...], at: str) -> None:
    held = [name for name in fields if getattr(message, name) is not UNSET]
    if len(held) > 1:
        _refuse(f"a message has one body, this one holds {' and '.join(held)}", at)
    # `text` is served as UTF-8, so the content-type must say so (what `scan` reads is what is served).
    ctype = next((v for k, v in message.headers.items() if k.lower() == "content-type"), "")
    if isinstance(message.text, str) and charset_of(ctype) not in UTF8_CHARSETS:
        _refuse(f"`text` is served as UTF-8 but the content-type says {ctype!r}: store it as base64", at)
    if isinstance(message.base64, str) and not is_base64(message.base64):
        _refuse(
            "`base64` is not base64 (A-Z, a-z, 0-9, + and /, padded with =, nothing else)", f"{at}.base64"
        )


def check_served(cassette: CassetteFile) -> CassetteFile:
    """``cassette``, when everything it would serve is something an HTTP server could have sent; else
    `msgspec.ValidationError` naming the first field that is not."""
    _one_body(cassette.request, _REQUEST_BODIES, "$.request")
    for i, response in enumerate(cassette.responses):
        at = f"$.responses[{i}]"
        status = response.status
        if not (100 <= status <= 599 or (status == 0 and response.error is not None)):
            _refuse(
                f"status {status} is not an HTTP status (100 to 599; 0 only with an `error`)", f"{at}.status"
            )
        for name, value in response.headers.items():
            if _TOKEN.fullmatch(name) is None:
                _refuse(f"{name!r} is not an HTTP header name", f"{at}.headers")
            if _CONTROL.search(value) is not None:
                _refuse(f"header {name!r} holds a line break or control character", f"{at}.headers.{name}")
        _one_body(response, _RESPONSE_BODIES, at)
    return cassette
