"""Text behind escapes: what a string says with its percent-escapes, HTML character references or
backslash escapes undone, read by the secret check (`httpx_cassette.core.scan`) and its pre-check alike;
and a URL percent-encoded whole, as the URL it is."""

from __future__ import annotations

import re
from urllib.parse import unquote

from httpx_cassette.core.places import url_like, urls_in_text

__all__ = ["as_url", "one_url", "unescaped"]

# A percent-escape, and an HTML character reference (numeric, or named as HTML5 names them).
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A backslash escape of a character by its number, as source code and JSON quoted once more write it,
# and the escapes that come with it in such text.
_CODED = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})")
_BACKSLASH = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[nrt\\/\"'])")
_SHORT = {"n": "\n", "r": "\r", "t": "\t"}
_ENCODED_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}%3[Aa](?:%2[Ff]|/){2}")  # https%3A%2F%2F...


def unescaped(text: str) -> list[str]:
    """What ``text`` says with its escapes undone, one reading per kind it holds: percent-escapes (a
    settings file or a form URL-encoded whole, then quoted in a log or a tool's result: ``DB_PASSWORD%3D``),
    HTML character references (a file shown in a web page: ``DB_PASSWORD&#61;``) and characters escaped by
    their number (``\\u003d``, ``\\x3d``: a string literal in code, JSON quoted again). Each is a reading a
    client of that kind makes; escapes inside a reading are its own reader's, one layer at a time. The
    URLs in text are left out of its percent reading: the URL rules read their escapes, a layer of a
    redirect chain at a time (quoted in a prompt, a chain is as many layers as it has hops)."""
    found = []
    if "%" in text and _PERCENT.search(text):
        rest = text
        for url in urls_in_text(text):
            rest = rest.replace(url, " ")
        if _PERCENT.search(rest):  # UTF-8, undecodable bytes replaced: a token is ASCII either way
            found.append(unquote(rest))
    if "&" in text and _REFERENCE.search(text):
        import html  # its entity table costs the import a millisecond; few texts need it

        found.append(html.unescape(text))
    if "\\" in text and _CODED.search(text):
        # A pair of surrogates escaped one by one is one character; one alone is none (replaced).
        coded = _BACKSLASH.sub(_character, text).encode("utf-16-le", "surrogatepass")
        found.append(coded.decode("utf-16-le", "replace"))
    return [reading for reading in found if reading != text]


def _character(escape: re.Match[str]) -> str:
    code = escape.group(0)[1:]
    return chr(int(code[1:], 16)) if len(code) > 1 else _SHORT.get(code, code)


def one_url(value: str) -> bool:
    """Whether ``value`` is one URL and nothing else (not a link and then text)."""
    return url_like(value) and len(value.split(maxsplit=1)) == 1


def as_url(value: str) -> str:
    """``value`` as the URL it is: decoded once when it is one percent-encoded whole (a parameter's value
    encoded twice). Only then: decoding a URL's query before splitting it would part its values."""
    return unquote(value) if _ENCODED_URL.match(value) else value
