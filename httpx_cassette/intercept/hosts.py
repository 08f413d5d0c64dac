"""Which requests a cassette or the network block lets out untouched: hosts listed, loopback addresses if
asked, a ``pass`` ignore rule; and how a request is named in what they say about it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from httpx_cassette.core.ignore import IgnoreRules
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.core.shown import shown

__all__ = ["HostFilter", "describe", "lets_out"]


def describe(request: Any) -> str:
    """``POST https://api.openai.com/v1/chat/completions``, with its credentials masked (`shown`)."""
    return shown(f"{request.method} {request.url}")


class HostFilter:
    """Which requests pass through untouched: listed hosts, and loopback addresses if asked."""

    def __init__(
        self, hosts: Iterable[str] = (), localhost: bool = False, patterns: Iterable[str] = ()
    ) -> None:
        self.hosts = frozenset(h.lower().strip("[]") for h in hosts)
        self.localhost = localhost
        self.patterns = tuple(re.compile(p) for p in patterns)  # pytest-recording's --allowed-hosts

    def __bool__(self) -> bool:
        return bool(self.hosts) or self.localhost or bool(self.patterns)

    def passes(self, request: Any) -> bool:
        host = str(request.url.host).lower()
        if host in self.hosts or any(p.match(host) for p in self.patterns):
            return True
        return self.localhost and _is_loopback(host)


def lets_out(filter: HostFilter, ignore: IgnoreRules, request: LiveRequest) -> bool:
    """Whether ``filter`` or a ``pass`` rule of ``ignore`` lets ``request`` out untouched in any mode."""
    if filter and filter.passes(request):
        return True
    rule = ignore.match(request.method, str(request.url.host), str(request.url.path))
    return rule is not None and rule.answer == "pass"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
