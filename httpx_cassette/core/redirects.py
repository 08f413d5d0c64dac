"""The hosts replayed redirects send a client to, which no request is forwarded to.

In ``record-missing`` a client follows a redirect it was replayed, and a miss goes out live with the
client's headers: httpx strips only ``Authorization`` on a redirect to another host, so ``x-api-key``,
``x-goog-api-key`` or ``api-key`` go along. A cassette is read back from pull requests: a response edited
into ``307 Location: https://evil.example/`` must not make the suite send a real key there. So the hosts
every replayed redirect names (other than the host that answered it) are remembered, read as every
client may read the URL (`httpx_cassette.core.origin`), and a request to one of them is not forwarded;
a location no reading can split names every host.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from urllib.parse import unquote, urljoin, urlsplit

from httpx_cassette.core.origin import authorities

__all__ = ["Redirects"]

_EVERY_HOST = "*"


def _host(host: str) -> str:
    """A host as compared: lower case, no trailing dot, IDNA-encoded as httpx sends it."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def _hosts(base: str, location: str) -> set[str]:
    """Every host a client may follow ``location`` (answered to ``base``) to."""
    found: set[str] = set()
    decoded = unquote(location)
    for reading in {location, decoded, location.replace("\\", "/"), decoded.replace("\\", "/")}:
        try:
            host = urlsplit(urljoin(base, reading.strip())).hostname
        except ValueError:  # a client may still follow what urllib cannot split
            return {_EVERY_HOST}
        if host is not None:
            found.add(_host(host))
    for authority in authorities(location):
        host = authority.rpartition("@")[2].partition(":")[0].strip("[]")
        found.add(_host(host) if host else _EVERY_HOST)
    return found


class Redirects:
    """The hosts named by the redirects a session replayed."""

    def __init__(self) -> None:
        self._named: dict[str, str] = {}  # host -> the URL whose replayed answer named it
        self._lock = threading.Lock()

    def replayed(self, url: str, status: int, headers: Mapping[str, str] | list[tuple[str, str]]) -> None:
        """Note where the response replayed for ``url`` redirects, if it does."""
        if not 300 <= status < 400:
            return
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        locations = [value for name, value in pairs if name.lower() == "location"]
        if not locations:
            return
        try:
            own = _host(urlsplit(url).hostname or "")
        except ValueError:
            own = ""
        with self._lock:
            for location in locations:
                for host in _hosts(url, location) - {own}:
                    self._named.setdefault(host, url)

    def named(self, url: str) -> str | None:
        """The URL whose replayed redirect named the host of ``url``, or None when none did."""
        if not self._named:
            return None
        try:
            host = _host(urlsplit(url).hostname or "")
        except ValueError:
            host = _EVERY_HOST
        if (named := self._named.get(host)) is not None:
            return named
        every = self._named.get(_EVERY_HOST)  # a location no reading splits: any host but its own
        return every if every is not None and host != _host(urlsplit(every).hostname or "") else None
