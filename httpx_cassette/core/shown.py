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

__all__ = ["printable", "shown"]

# What a terminal must never get from a cassette (a pull request's): control characters (an ESC sequence
# could rewrite the screen, hide a line or set the clipboard), and the bidirectional overrides and
# isolates a Trojan Source trick uses to show text in another order than it is, and lone surrogates (a
# file name that is no UTF-8: printing one raises on a UTF-8 terminal). Newlines and tabs stay.
_ESCAPED = {
    c: f"\\x{c:02x}" if c < 256 else f"\\u{c:04x}"
    for c in (*range(32), 127, *range(128, 160), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F))
    if c not in (9, 10)
} | {c: f"\\u{c:04x}" for c in (*range(0x2066, 0x206A), 0x2028, 0x2029, *range(0xD800, 0xE000))}


def printable(text: str) -> str:
    """``text`` with what a terminal must not get from a file written as ``\\x..``/``\\u....`` escapes."""
    return text.translate(_ESCAPED)


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
