"""Text behind escapes: what a string says with its percent-escapes, HTML character references and
backslash escapes undone, read by the secret check (`httpx_cassette.core.scan`) and its pre-check alike;
and a URL percent-encoded whole, as the URL it is."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import unquote, unquote_plus

import msgspec

from httpx_cassette.core.embedded import embedded_json, maybe_json
from httpx_cassette.core.places import url_like

__all__ = ["as_url", "one_url", "unescaped"]

# A URL written out (absolute, or a path with a query or fragment standing on its own): its escapes are
# the URL rules' to read (a layer of a redirect chain at a time), those of the text around it its own. It
# ends where text encoded around it has a line break or a space (`encodeURI` keeps `:` and `/` as they are).
_NO_BREAK = r"%(?![01][0-9A-Fa-f]|20|7[Ff])"
_IN_URL = rf"(?:[^\s\"<>%]|{_NO_BREAK})"
_IN_PATH = rf"(?:[^\s\"<>?#%]|{_NO_BREAK})"
_URL = rf"[A-Za-z][A-Za-z0-9+.-]{{0,31}}://{_IN_URL}*|(?<![\w/.:%~+-])/{_IN_PATH}*[?#]{_IN_URL}*"
# A URL whose `?` or `#` is encoded (or its `@`, `_outside_urls`) is read decoded: its query or its
# password is there only so.
_ENCODED_QUERY = re.compile(r"%3[Ff]|%23")
# Text encoded has no whitespace: a "+" in a word with an escape is a space, as `quote_plus` and forms
# write one ("C++" in prose has none).
_PLUS_OR_URL = re.compile(_URL + r"|(?:%[0-9A-Fa-f]{2}|\+)+")
_WORDS = re.compile(r"(\s+)")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# An HTML character reference: numeric, or named as HTML5 names them.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A backslash escape of a character by its number (`\u003d`, `\u{3d}` as JS and Rust write it, `\x3d`,
# octal `\075`), or a quote escaped (JSON quoted once more, a notebook cut short: `api_key=\"...\"`), as
# code and logs write them; and the escapes that come with those.
_NUMBERED = r"u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[0-3][0-7]{2}"
_CODED = re.compile(rf"\\(?:{_NUMBERED}|\")")
_BACKSLASH = re.compile(rf"\\(?:{_NUMBERED}|[nrt\\/\"'])")
_SHORT = {"n": "\n", "r": "\r", "t": "\t"}
_ENCODED_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}%3[Aa](?:%2[Ff]|/){2}")  # https%3A%2F%2F...
_LAYERS = 4  # escapes of escapes undone this deep (a `.env` percent-encoded twice, HTML then percent)


def unescaped(text: str) -> list[str]:
    """What ``text`` says with its escapes undone, or nothing when it has none: a JSON string whole, as JSON
    reads it (a body logged as a string); percent-escapes outside the URLs written in it (a settings file
    or a form URL-encoded whole: ``DB_PASSWORD%3D``); HTML character references (a file shown in a web
    page: ``DB_PASSWORD&#61;``); backslash escapes (``\\u003d``, ``\\x3d``, ``\\"``: a string literal in
    code, JSON quoted again). One kind after the other, and again on what that shows, up to `_LAYERS`
    times: one reading, read once, whatever the kinds and layers (each kind apart, then each of each,
    read a page 16 times over). Undoing stops at JSON: its strings' escapes are its own, undone as the
    scanner reads each (a response logged as HTML-escaped JSON keeps its stream to assemble). A NUL an
    escape writes (``b"\\x00"`` in code, ``%00``) is a character of that text, no sign of UTF-16: it
    reads as U+FFFD, as HTML reads ``&#0;``."""
    reading = text
    for _ in range(_LAYERS):
        before = reading
        for undo in _KINDS:
            undone = undo(reading)
            if undone != reading:
                reading = undone
                if maybe_json(reading) and embedded_json(reading) is not None:
                    return [reading.replace("\x00", "\ufffd")]
        if reading == before:
            break
    return [reading.replace("\x00", "\ufffd")] if reading != text else []


def _percent(text: str) -> str:
    if "%" in text and _PERCENT.search(text):  # UTF-8, undecodable bytes replaced
        words = _WORDS.split(text)
        return "".join(
            _PLUS_OR_URL.sub(_outside_urls, w) if "%" in w and _PERCENT.search(w) else w for w in words
        )
    return text


def _references(text: str) -> str:
    if "&" in text and _REFERENCE.search(text):
        import html  # its entity table costs the import a millisecond; few texts need it

        return html.unescape(text)
    return text


def _backslashes(text: str) -> str:
    if "\\" in text and _CODED.search(text):
        # A pair of surrogates escaped one by one is one character; one alone is none (replaced).
        coded = _BACKSLASH.sub(_character, text).encode("utf-16-le", "surrogatepass")
        return coded.decode("utf-16-le", "replace")
    return text


def _json_string(text: str) -> str:
    """The text a JSON string literal holds, when ``text`` is one (JSON encoded twice: a body logged as
    a string); as JSON reads it, not escape by escape."""
    if len(text) > 1 and text[0] == text[-1] == '"':
        with contextlib.suppress(msgspec.DecodeError):
            inner = msgspec.json.decode(text)
            return inner if isinstance(inner, str) else text
    return text


_KINDS = (_json_string, _percent, _references, _backslashes)


def _outside_urls(found: re.Match[str]) -> str:
    written = found.group(0)
    if written[0] in "%+":
        return unquote_plus(written)
    encoded = ("?" not in written and _ENCODED_QUERY.search(written)) or (
        "@" not in written and "%40" in written
    )
    return unquote(written) if encoded else written


def _character(escape: re.Match[str]) -> str:
    code = escape.group(0)[1:]
    if len(code) == 1:
        return _SHORT.get(code, code)
    number = int(code, 8) if code[0].isdigit() else int(code[1:].strip("{}"), 16)
    return chr(min(number, 0x10FFFF))


def one_url(value: str) -> bool:
    """Whether ``value`` is one URL and nothing else (not a link and then text)."""
    return url_like(value) and len(value.split(maxsplit=1)) == 1


def as_url(value: str) -> str:
    """``value`` as the URL it is: decoded once when it is one percent-encoded whole (a parameter's value
    encoded twice). Only then: decoding a URL's query before splitting it would part its values."""
    return unquote(value) if _ENCODED_URL.match(value) else value
