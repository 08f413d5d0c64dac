"""What a message may print of a request: an error reaches CI logs (and ``--junitxml`` files on disk),
so the credentials the scanner knows are masked in it, as in its findings, and what a terminal must
not get from a file is escaped (`printable`).

One place for every message that names a request: a replay miss, a refusal to record, a blocked
request. It masks credentials of a known format anywhere, secret query and fragment values (`redact_url`),
tokens in a URL or a path (a bot token in ``/bot<token>/``, a URL's password), and random tokens in a
path segment.
"""

from __future__ import annotations

import re

from httpx_cassette.core.findings import mask
from httpx_cassette.core.places import redact_urls_in_text, url_secrets, urls_in_text
from httpx_cassette.core.secrets import known_format, random_token
from httpx_cassette.errors import printable

__all__ = ["Later", "printable", "shown"]

_PATH = re.compile(r"(?<![^\s\"'(])/[^\s\"'<>]+")  # a path standing on its own: "POST /bot<token>/getMe"


def shown(text: str) -> str:
    """``text`` with every credential it holds masked (`httpx_cassette.core.scan.mask`)."""
    found = set(known_format(text))
    urls = urls_in_text(text)
    if urls:
        for url in urls:
            found.update(value for _, value in url_secrets(url))
        text = redact_urls_in_text(text)
    for path in _PATH.findall(text):
        token = random_token(path)
        while token is not None and token not in found:
            found.add(token)
            token = random_token(path.replace(token, ""))
    for secret in sorted(found, key=len, reverse=True):  # the longest first: one may hold another
        if secret:
            text = text.replace(secret, mask(secret))
    return printable(text)


class Later:
    """`shown` of a text, made when a message first prints it (``str``, an f-string): what a recording
    would name in an error, most recordings never print."""

    __slots__ = ("_shown", "_text")

    def __init__(self, text: str) -> None:
        self._text, self._shown = text, ""

    def __str__(self) -> str:
        if not self._shown:
            self._shown = shown(self._text)
        return self._shown
