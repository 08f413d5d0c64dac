"""Where the URLs a replayed text names lead, as every client that may follow them reads them.

Replay puts a placeholder's secret back only where it goes back to the origin that knew it (the
request's scheme, host and port). A cassette is read back from pull requests: a redirect, a link or a
"next" page it names may point anywhere, and in ``record-missing`` a followed URL goes out live.
Clients do not agree on how to read a URL (httpx and urllib split the raw text, a browser-like parser
reads ``\\`` as ``/``, some undo percent-escapes first), so a URL stays where it was only when every
reading of it does; one that no reading parses, or that carries user-info (which requests and aiohttp
send as Basic auth), leads elsewhere. The text is judged as the client gets it: secrets restored, since
a secret may itself bend the URL around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from httpx_cassette.core.places import absolute_urls

__all__ = ["Origin", "authorities", "leads_elsewhere", "origin_of", "readings"]

Origin = tuple[str, str | None, int | None]  # scheme, host, port (the scheme's default when unsaid)

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A text that starts as a URL a lenient parser follows, though `absolute_urls` reads none in it:
# ``https:/evil``, ``https:\\evil`` (a browser's reading).
_LOOSE_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]{0,31}):[/\\]+(.*)", re.S)
# A scheme with no host after it (``http:?k=...``, ``HTTP:#x``): httpx follows it to the request's host
# under that scheme, so ``https`` becomes cleartext ``http`` on port 80.
_SCHEME_ONLY = re.compile(r"\s*(https?|wss?):(?![/\\])", re.I)
# Every authority a lenient reader may follow, wherever it stands (a Link header's ``<...>``, a Refresh
# header's ``url=``, a parameter's ``=//host``): what follows two or more of ``/`` and ``\`` (``//``,
# ``\/\/`` in JSON, ``///``) after a scheme, a ``<``, a quote, a ``(``, an ``=`` or the start of the text,
# up to the next ``/``, ``\``, ``?`` or ``#``. A URL regex stops at a space or a quote that httpx keeps in
# the user-info: this does not. A ``//`` after anything else (a code comment, base64) names no host.
_AUTHORITY = re.compile(r"(?:^\s*|[A-Za-z][A-Za-z0-9+.-]{0,31}:|[<\"'(=])[/\\]{2,}([^/\\?#]*)")


def origin_of(url: str) -> Origin | None:
    """The origin of a request's URL; None when it has none (then every URL leads elsewhere)."""
    try:
        return _origin(url)
    except ValueError:
        return None


def _origin(url: str) -> Origin:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


def readings(url: str) -> set[str]:
    """``url`` as clients may read it: as written, percent-decoded, with ``\\`` as ``/`` (a browser's)."""
    decoded = unquote(url)
    return {url, decoded, url.replace("\\", "/"), decoded.replace("\\", "/")}


def _elsewhere(url: str, origin: Origin | None) -> bool:
    """Whether any reading of ``url`` leads to another origin than ``origin``, or carries user-info."""
    for reading in readings(url):
        try:
            parts = urlsplit(reading.strip())
            if parts.username is not None or parts.password is not None or _origin(reading) != origin:
                return True
        except ValueError:  # a client may still follow what urllib cannot split: it is not known to stay
            return True
    return False


def _foreign_authority(text: str, origin: Origin | None) -> bool:
    """Whether ``text`` (or it percent-decoded) holds an authority other than ``origin``'s host and port,
    or one with user-info or anything no host holds (a space, a quote): read leniently, not as a URL."""
    for authority in authorities(text):
        if "@" in authority or any(c.isspace() or c in "\"'<>" for c in authority):
            return True
        try:
            parts = urlsplit(f"//{authority}")
            if origin is None or (parts.hostname, parts.port or origin[2]) != origin[1:]:
                return True
        except ValueError:
            return True
    return False


def authorities(text: str) -> list[str]:
    """Every authority a lenient reader may follow in ``text`` or in it percent-decoded (`_AUTHORITY`)."""
    found = [a for reading in {text, unquote(text)} for a in _AUTHORITY.findall(reading)]
    return [a for a in found if a and not a[0].isspace()]  # `// a comment`: no host a client could reach


def _same_host_under(scheme: str, origin: Origin | None) -> bool:
    """Whether the request's host under ``scheme`` (at its default port) is still ``origin``."""
    return origin is not None and (scheme, origin[1], _DEFAULT_PORTS.get(scheme)) == origin


def leads_elsewhere(url: str | None) -> Callable[[str], bool]:
    """A test of whether a text (as the client gets it) names a URL that leads away from the origin of
    the request ``url``."""
    origin = origin_of(url) if url is not None else None

    def leaves(text: str) -> bool:
        urls = absolute_urls(text)  # JSON-escaped and percent-encoded ones too
        plain = text.replace("\\/", "/")  # JSON's escaped slashes, as whoever reads the JSON gets them
        if loose := _LOOSE_SCHEME.match(plain):  # (a protocol-relative start is `_AUTHORITY`'s)
            urls.append(f"{loose[1]}://{loose[2].lstrip('/')}")
        if (bare := _SCHEME_ONLY.match(plain)) and not _same_host_under(bare[1].lower(), origin):
            return True
        return any(_elsewhere(found, origin) for found in urls) or _foreign_authority(text, origin)

    return leaves
