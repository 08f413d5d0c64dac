"""What a cassette file may say about what was served: only what an HTTP server could have sent.

A file is read back from pull requests, and replay hands what it says to HTTP clients and SDKs that
trust their HTTP parser to have checked it. So a file is held to the same rules at load: a status a
final HTTP response can carry, header names that are HTTP tokens, given once each whatever their case,
and values with no line break or other control character (a file could otherwise add headers, or split
the response, where no server can), one body per message and none where HTTP has none (204, 304, a
response to HEAD), bodies stored decoded (JSON, text, events) only under a charset that reads them as
the text stored, base64 that is base64 (a lenient decoder would serve what ``scan`` cannot read), and a
recorded failure that names an exception class and says nothing a terminal would act on. Recording
holds what it writes to the same rules (`httpx_cassette.core.writable`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

import msgspec
from msgspec import UNSET

from httpx_cassette.errors import printable
from httpx_cassette.model.body import UTF8_CHARSETS, charset_of
from httpx_cassette.model.cassette import CassetteFile, Event, Request, Response, TransportFailure

__all__ = [
    "ascii_transparent",
    "check_request",
    "check_response",
    "check_served",
    "header_value",
    "is_base64",
    "recorded_failure",
]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field names
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no field value holds these (tab is allowed)
_LINE_BREAK = re.compile(r"[\r\n]")
_URL_BREAK = re.compile(r"[\x00-\x20\x7f]")  # a URL on the wire has no space either
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_RESPONSE_BODIES = ("body", "text", "base64", "body_file")
_REQUEST_BODIES = ("body", "text", "base64", "multipart")
# Charsets (by `codecs.lookup(...).name`) that read every ASCII byte as that character and no other
# byte as an ASCII one: the UTF-8 bytes replay serves then read as the text stored, character for
# character where it is ASCII (a credential is), mojibake at worst elsewhere.
_ASCII_TRANSPARENT = re.compile(r"utf-8|ascii|iso8859-\d+|cp125[0-8]")
_NO_BODY = (204, 304)  # statuses whose responses end at their headers (RFC 9110 6.4.1)


def _folded(name: str) -> str:
    # HTTP field names are case-insensitive in ASCII only: "K" (U+212A, the Kelvin sign) is no "k".
    return name.lower() if name.isascii() else name


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in stored ``headers``, whatever the case of either; None when it is
    absent. A file read holds each name once (`check_served`), so this is the one value every reader
    of the file (replay, ``show``, ``scan``) must take."""
    wanted = _folded(name)
    return next((value for key, value in headers.items() if _folded(key) == wanted), None)


def ascii_transparent(content_type: str) -> bool:
    """Whether a client reading a body of ``content_type`` in its charset reads the UTF-8 bytes replay
    serves for a JSON ``body`` or a stream's events as the text stored (no charset, UTF-8, ASCII,
    latin-1 and the other ISO 8859 charsets, windows-125x); not UTF-7, UTF-16, a charset Python does
    not know, or one clients could read two ways (`charset_of`)."""
    try:
        name = codecs.lookup(charset_of(content_type)).name
    except LookupError:
        return False
    return _ASCII_TRANSPARENT.fullmatch(name) is not None


def is_base64(text: str) -> bool:
    """Whether ``text`` is standard base64, padded, with nothing else in it (no spaces, no newlines)."""
    return len(text) % 4 == 0 and _BASE64.fullmatch(text) is not None


def _refuse(message: str, at: str) -> None:
    raise msgspec.ValidationError(f"{message} - at `{at}`")


def _one_name_each(headers: Mapping[str, str], at: str) -> None:
    # A server's repeated header reaches a file joined, under one lower-case name; two names that differ
    # only in case would be read one way by one reader and the other way by the next.
    seen: set[str] = set()
    for name in headers:
        folded = _folded(name)
        if folded in seen:
            _refuse(f"header {name!r} is given twice, in two cases: keep one of them", f"{at}.headers")
        seen.add(folded)


def _one_body(message: Request | Response, fields: tuple[str, ...], at: str) -> None:
    held = [name for name in fields if getattr(message, name) is not UNSET]
    if len(held) > 1:
        _refuse(f"a message has one body, this one holds {' and '.join(held)}", at)
    # `text` is served as UTF-8, so the content-type must say so (what `scan` reads is what is served).
    ctype = header_value(message.headers, "content-type") or ""
    if isinstance(message.text, str) and charset_of(ctype) not in UTF8_CHARSETS:
        _refuse(f"`text` is served as UTF-8 but the content-type says {ctype!r}: store it as base64", at)
    if isinstance(message.base64, str) and not is_base64(message.base64):
        _refuse(
            "`base64` is not base64 (A-Z, a-z, 0-9, + and /, padded with =, nothing else)", f"{at}.base64"
        )


def _decoded_body(response: Response, at: str) -> None:
    # A JSON `body` and a stream's events are served as UTF-8 bytes, which the client reads in the
    # charset the content-type declares: under UTF-7 `+AEE-` reads as "A", text `scan` never saw.
    ctype = header_value(response.headers, "content-type") or ""
    if (response.body is not UNSET or response.is_streaming) and not ascii_transparent(ctype):
        what = "its events are" if response.is_streaming else "its `body` is"
        _refuse(
            f"{what} served as UTF-8 but the content-type says {ctype!r}, which clients read"
            " otherwise: store the body as base64",
            at,
        )


def _serves_bytes(response: Response) -> bool:
    if response.is_streaming:
        return bool(response.events()) or response.done
    return response.body is not UNSET or bool(response.text or response.base64 or response.body_file)


def _status(response: Response, at: str, method: str) -> None:
    status = response.status
    if 100 <= status <= 199:  # informational: the response that follows it is the one a client gets
        _refuse(f"status {status} is informational, never a final response (200 to 599)", f"{at}.status")
    if not (200 <= status <= 599 or (status == 0 and response.error is not None)):
        _refuse(f"status {status} is not an HTTP status (200 to 599; 0 only with an `error`)", f"{at}.status")
    if status in _NO_BODY and _serves_bytes(response):
        _refuse(f"a {status} response has no body, this one holds one", at)
    if method == "HEAD" and _serves_bytes(response):  # a client reads no body after HEAD (RFC 9110 9.3.2)
        _refuse("a response to HEAD has no body, this one holds one", at)


def _failure(response: Response, at: str) -> None:
    # Replay raises it again: its type names an exception class, and its message reaches tracebacks,
    # pytest's output and CI logs, where an ESC or OSC sequence (or a bidi control) would act.
    error = response.error
    if error is None:
        return
    if not error.type.isidentifier():
        _refuse(f"{error.type!r} is not an exception class name", f"{at}.error.type")
    if printable(error.message) != error.message:
        _refuse(
            "the message holds control characters (other than newline and tab) or bidi controls",
            f"{at}.error.message",
        )


def recorded_failure(exc: BaseException) -> TransportFailure:
    """``exc`` as a stored failure a file may hold (`check_served`): its class name, and its message with
    control characters and bidi controls written as escapes, and its OS error number when it is an
    OSError holding one (aiohttp's connection errors; replay gives it back)."""
    name = type(exc).__name__
    number = exc.errno if isinstance(exc, OSError) else None
    return TransportFailure(
        type=name if name.isidentifier() else "TransportError",
        message=printable(str(exc)),
        errno=number if type(number) is int else None,
    )


def check_request(request: Request, at: str = "$.request") -> None:
    """Raise `msgspec.ValidationError` unless ``request`` is one a file may hold: a method, URL and headers
    that could go on the wire (a line break in one would also forge lines in what the CLI prints of the
    file), each header name once, one body."""
    if _TOKEN.fullmatch(request.method) is None:
        _refuse(f"{request.method!r} is not an HTTP method", f"{at}.method")
    if _URL_BREAK.search(request.url) is not None:
        _refuse("the URL holds a space, a line break or a control character", f"{at}.url")
    _wire_headers(request.headers, at)
    for i, part in enumerate(request.multipart or ()):  # a Content-Disposition's fields: one line each
        for field in ("name", "filename", "content_type"):
            if _CONTROL.search(getattr(part, field) or "") is not None:
                _refuse("a line break or control character", f"{at}.multipart[{i}].{field}")
    _one_name_each(request.headers, at)
    _one_body(request, _REQUEST_BODIES, at)


def _wire_headers(headers: dict[str, str], at: str) -> None:
    for name, value in headers.items():
        if _TOKEN.fullmatch(name) is None:
            _refuse(f"{name!r} is not an HTTP header name", f"{at}.headers")
        if _CONTROL.search(value) is not None:
            _refuse(f"header {name!r} holds a line break or control character", f"{at}.headers.{name}")


def check_response(response: Response, at: str, method: str) -> None:
    """Raise `msgspec.ValidationError` unless ``response`` (to a ``method`` request) is one an HTTP server
    could have sent. Loading runs it on every response read, and recording on every response before it
    is written, so nothing is written that cannot be read back."""
    _status(response, at, method)
    _wire_headers(response.headers, at)
    _one_name_each(response.headers, at)
    _one_body(response, _RESPONSE_BODIES, at)
    _decoded_body(response, at)
    _failure(response, at)


def check_served(cassette: CassetteFile) -> CassetteFile:
    """``cassette``, when everything it would serve is something an HTTP server could have sent; else
    `msgspec.ValidationError` naming the first field that is not."""
    check_request(cassette.request)
    for name in ("recorded_at", "recorder", "library", "user_agent"):  # printed by `ls` and `show`
        if _CONTROL.search(getattr(cassette.meta, name)) is not None:
            _refuse("a line break or control character", f"$.meta.{name}")
    method = cassette.request.method.upper()
    for i, response in enumerate(cassette.responses):
        check_response(response, f"$.responses[{i}]", method)
        _event_fields(response.events(), f"$.responses[{i}].body")
    return cassette


def _event_fields(events: list[Event], at: str) -> None:
    """An event's name and id hold no line break: no stream can carry one (each is a line), and `show`
    prints them. Checked when a file is read (a recording parsed them from lines)."""
    for j, event in enumerate(events):  # most events have neither: one truth test each
        if (event.event and _LINE_BREAK.search(event.event)) or (event.id and _LINE_BREAK.search(event.id)):
            _refuse("an event's name or id holds a line break", f"{at}[{j}]")
