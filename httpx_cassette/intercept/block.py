"""`NetworkBlock`: the route the pytest plugin puts beneath every cassette under
``--cassette-block-network``, and the policy of the guards (`httpx_cassette.http.guard`) while it is on."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from httpx_cassette.core.ignore import IgnoreRules
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.errors import NetworkBlocked
from httpx_cassette.http import guard
from httpx_cassette.http.exchange import EMPTY, Exchange
from httpx_cassette.http.sdk_errors import as_sdk_error
from httpx_cassette.http.transport import respond
from httpx_cassette.intercept.hosts import HostFilter, describe, lets_out

__all__ = ["NetworkBlock"]


class NetworkBlock:
    """The route beneath every cassette when the network is blocked, except for requests an ignore
    rule answers here (telemetry: an empty 204) or lets out (``pass``), and hosts let through. An httpx
    or httpx2 request goes on down its transport, guarded (`httpx_cassette.http.guard`): an in-process
    mock (respx) answers it as with no block, and `NetworkBlocked` is raised where a real connection
    would be used. So does a requests request, down its adapter (a mock of ``HTTPAdapter.send``, as
    ``responses`` patches, answers it); an aiohttp request is refused when it reaches the block (its mocks
    patch the session above it). While `blocking`,
    what reaches a connection with no route's leave (a worker thread started without the request's
    context) is refused too, unless a route here lets its host out."""

    def __init__(self, filter: HostFilter, why: str, ignore: IgnoreRules | None = None) -> None:
        self.filter = filter
        self.why = why
        self.ignore = ignore or IgnoreRules(())
        self.blocked: list[NetworkBlocked] = []

    def _passes(self, request: Any) -> bool:
        return bool(self.filter) and self.filter.passes(request)

    def _refuse(self, request: LiveRequest, remedy: str) -> NoReturn:
        error = NetworkBlocked(
            f"network blocked ({self.why}): {describe(request)} was not served from a cassette{remedy}"
            " with the cassette_ignore_hosts / cassette_ignore_localhost ini options"
        )
        self.blocked.append(error)
        raise as_sdk_error(error)  # an SDK must neither retry nor disguise it

    def admit(self, request: LiveRequest) -> bool:
        """What no cassette can hold (a websocket handshake): True when the hosts let through (or a
        ``pass`` ignore rule) let it out; else it is refused, as a request no cassette served is."""
        if not lets_out(self.filter, self.ignore, request):
            self._refuse(request, " (no cassette can hold a websocket); let the host through")
        return True

    def begin(self, request: LiveRequest) -> Exchange | None:
        """None: ``request`` may go out; an `Exchange` answered here, or one it goes on down its library
        in, guarded (`Exchange.guarded`: a mock answers it, a real connection refuses it)."""
        rule = self.ignore.match(request.method, str(request.url.host), str(request.url.path))
        if rule is not None:
            return Exchange.answered(EMPTY) if rule.answer == "empty" else None
        if not self._passes(request):
            return Exchange.guarded(guard.guarded(functools.partial(self._refuse, request, _REMEDY)))
        return None

    def _way(self, request: Any) -> contextlib.AbstractContextManager[None] | None:
        """How ``request`` goes on down its transport: guarded unless a rule or a host lets it out;
        None when an ignore rule answers it here."""
        rule = self.ignore.match(request.method, str(request.url.host), str(request.url.path))
        if rule is not None:
            return None if rule.answer == "empty" else guard.allowed()
        if self._passes(request):
            return guard.allowed()
        return guard.guarded(functools.partial(self._refuse, request, _REMEDY))

    def blocking(self, stack: Callable[[], list[Any]]) -> contextlib.AbstractContextManager[None]:
        """The block on, in every thread: the httpx/httpx2 connections and the requests and aiohttp sends
        that no route let out (``stack``: the routes met here and now, top down) are refused."""
        return guard.blocking(functools.partial(self._unclaimed, stack))

    def _unclaimed(self, stack: Callable[[], list[Any]], target: guard.Target) -> None:
        """Return when ``target``, which reached a connection outside any request a route let out, is
        let out by a route here (a cassette's hosts, a ``pass`` rule, a test another plugin serves);
        else raise `NetworkBlocked`."""
        __tracebackhide__ = True
        seen = _Seen(target)
        for route in stack():
            if route is self:
                break
            if route.admit(seen):
                return
        if target.host and lets_out(self.filter, self.ignore, seen):
            return
        self._refuse(seen, _OUTSIDE)

    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any:
        __tracebackhide__ = True
        way = self._way(request)
        if way is None:
            return respond(request, EMPTY)
        with way:
            return forward(request)

    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any:
        __tracebackhide__ = True
        way = self._way(request)
        if way is None:
            return respond(request, EMPTY)
        with way:
            return await forward(request)


_REMEDY = (
    "; give the test a cassette (@pytest.mark.cassette or the cassette fixture) and record it,"
    " or let the host through"
)
_OUTSIDE = (
    "; it reached a connection from code running outside the request's context (a worker thread started"
    " without it: run that with contextvars.copy_context().run or asyncio.to_thread), or let the host through"
)


class _Url:
    def __init__(self, target: guard.Target) -> None:
        self.host, self.path, self._target = target.host, target.path.partition("?")[0], target

    def __str__(self) -> str:
        t = self._target
        port = "" if t.port is None else f":{t.port}"
        return f"{t.scheme}://{t.host}{port}{t.path}" if t.host else "a request"


class _Seen:
    """What reached a connection, as the routes read a request (`LiveRequest`)."""

    def __init__(self, target: guard.Target) -> None:
        self.method, self.url, self.content = target.method, _Url(target), b""
        self.headers: dict[str, str] = {}
