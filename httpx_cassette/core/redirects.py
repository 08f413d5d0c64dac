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
from urllib.parse import urljoin, urlsplit

from httpx_cassette.core.origin import authorities, origin_of, readings

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


# Where a redirect leads: a host form and its scheme and port, or `_ANY_PORT` when only the host is known
# (an authority read leniently), which then names the host on every scheme and port.
Place = tuple[str, str]
_ANY_PORT = "*"


def _places(base: str, location: str) -> set[Place]:
    """Every host, scheme and port a client may follow ``location`` (answered to ``base``) to."""
    found: set[Place] = set()
    for reading in readings(location):
        origin = origin_of(urljoin(base, reading.strip()))
        if origin is None:  # a client may still follow what urllib cannot split
            return {(_EVERY_HOST, _ANY_PORT)}
        scheme, host, port = origin
        # A scheme and no host (`http:?k=1`): httpx follows it to the base's host under that scheme.
        host = host if host is not None or not scheme else urlsplit(base).hostname
        if host is not None:
            found |= {(form, f"{scheme}:{port}") for form in _forms(host)}
    for authority in authorities(location):
        host = authority.rpartition("@")[2]
        host = host[1 : host.find("]")] if host.startswith("[") else host.partition(":")[0]
        found |= {(form, _ANY_PORT) for form in _forms(host)} if host else {(_EVERY_HOST, _ANY_PORT)}
    return found


def _origin(url: str) -> tuple[set[str], str]:
    """The host forms of ``url`` and its scheme and port."""
    origin = origin_of(url)
    if origin is None:
        return {_EVERY_HOST}, _ANY_PORT
    scheme, host, port = origin
    return _forms(host or ""), f"{scheme}:{port}"


class Redirects:
    """The places (host, scheme, port) named by the redirects a session replayed."""

    def __init__(self) -> None:
        self._named: dict[Place, str] = {}  # place -> the URL whose replayed answer named it
        self._lock = threading.Lock()

    def replayed(self, url: str, status: int, headers: Mapping[str, str] | list[tuple[str, str]]) -> None:
        """Note where the response replayed for ``url`` redirects, if it does."""
        if not 300 <= status < 400:
            return
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        locations = [value for name, value in pairs if name.lower() in _FOLLOWED]
        if not locations:
            return
        hosts, place = _origin(url)
        with self._lock:
            for location in locations:
                for host, where in _places(url, location):
                    # Its own origin is no other place; its host read leniently (no scheme known) neither.
                    if host not in hosts or (where != place and where != _ANY_PORT):
                        self._named.setdefault((host, where), url)

    def named(self, url: str) -> str | None:
        """The URL whose replayed redirect named the place of ``url`` (its host, under its scheme and port,
        or under any), or None when none did."""
        if not self._named:
            return None
        hosts, place = _origin(url)
        for host in hosts:
            for key in ((host, place), (host, _ANY_PORT)):
                if (named := self._named.get(key)) is not None:
                    return named
        every = self._named.get((_EVERY_HOST, _ANY_PORT))  # a location no reading splits: any other origin
        return every if every is not None and _origin(every) != (hosts, place) else None
