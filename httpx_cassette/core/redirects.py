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

import ipaddress
import threading
from collections.abc import Mapping
from urllib.parse import unquote, urljoin, urlsplit

from httpx_cassette.core.origin import authorities

__all__ = ["Redirects"]

_EVERY_HOST = "*"
# The headers a client follows on a 3xx: aiohttp takes `URI` when there is no `Location`; the others are
# read too, since a browser-like client may follow them and reading them costs nothing.
_FOLLOWED = frozenset({"location", "uri", "content-location", "refresh"})


def _forms(host: str) -> set[str]:
    """Every form a client may connect to ``host`` as: lower case, no trailing dot; IDNA 2008 (httpx,
    httpx2, aiohttp: ``faß.de`` is ``xn--fa-hia.de``) and IDNA 2003 (``fass.de``); an IP address
    compressed (aiohttp writes ``0:0::1`` as ``::1``), and an IPv4-mapped one as IPv4 too."""
    host = host.strip().strip("[]").rstrip(".").lower()
    forms = {host}
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        forms.add(address.compressed)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            forms.add(str(address.ipv4_mapped))
        return forms
    if not host.isascii():
        import idna  # only for a host that needs it: its tables take milliseconds to import

        for encode in (lambda h: idna.encode(h, uts46=True), lambda h: idna.encode(h), _idna2003):
            try:
                forms.add(encode(host).decode("ascii").lower())
            except (idna.IDNAError, UnicodeError, ValueError):
                continue
    return forms


def _idna2003(host: str) -> bytes:
    return host.encode("idna")


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
            found |= _forms(host)
    for authority in authorities(location):
        host = authority.rpartition("@")[2]
        host = host[1 : host.find("]")] if host.startswith("[") else host.partition(":")[0]
        found |= _forms(host) if host else {_EVERY_HOST}
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
        locations = [value for name, value in pairs if name.lower() in _FOLLOWED]
        if not locations:
            return
        try:
            own = _forms(urlsplit(url).hostname or "")
        except ValueError:
            own = set()
        with self._lock:
            for location in locations:
                for host in _hosts(url, location) - own:
                    self._named.setdefault(host, url)

    def named(self, url: str) -> str | None:
        """The URL whose replayed redirect named the host of ``url``, or None when none did."""
        if not self._named:
            return None
        try:
            hosts = _forms(urlsplit(url).hostname or "")
        except ValueError:
            hosts = {_EVERY_HOST}
        for host in hosts:
            if (named := self._named.get(host)) is not None:
                return named
        every = self._named.get(_EVERY_HOST)  # a location no reading splits: any host but its own
        return every if every is not None and not hosts & _forms(urlsplit(every).hostname or "") else None
