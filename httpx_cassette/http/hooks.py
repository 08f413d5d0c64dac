"""The seam through which `use_cassette` and the pytest plugin see every request a client sends.

httpx and httpx2 clients (sync and async) pick the transport for each request in one method,
``Client._transport_for_url``: the default connection pool, a proxy mount, or a custom transport
(an SDK's aiohttp-backed one, say). While the hooks are installed that method returns the chosen
transport wrapped in `Routed`, which hands the request to the route the router picks (a cassette
session, a network blocker) with the real transport as the way out. Everything else the client does
(auth, redirects, cookies, event hooks, response bookkeeping) is untouched, so a replayed response
looks to the client exactly like a live one.

requests sessions and aiohttp client sessions are hooked the same way, by their shells
(`httpx_cassette.http.requests_shell`, `httpx_cassette.http.aiohttp_shell`), each only when that
library is installed; their requests reach the same routes through ``Route.begin``.

Not wrapped: transports that never reach the network (``MockTransport``, ``ASGITransport``,
``WSGITransport``) and a `CassetteTransport` a user put under a client explicitly (it already
records and replays; wrapping it would record twice).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from httpx_cassette.http.forwarding import FORWARDING, forwarding

if TYPE_CHECKING:
    from httpx_cassette.http.exchange import Exchange

__all__ = ["IN_PROCESS_TRANSPORTS", "Hooks", "Route", "Routed", "Router", "forwarding"]

IN_PROCESS_TRANSPORTS = ("MockTransport", "ASGITransport", "WSGITransport")
_CLIENTS = ("Client", "AsyncClient")
_METHOD = "_transport_for_url"
# The other libraries whose shells (``seams(router)``) are hooked when that library is installed.
_SHELLS = ("requests", "aiohttp")


class Route(Protocol):
    """Where an intercepted request goes; ``forward`` reaches the network through the client's transport."""

    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any: ...
    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any: ...
    def begin(self, request: Any) -> Exchange | None:
        """For the other libraries' shells: the cassette's plan for an `Outgoing` request (body read),
        or None when the request is not the cassette's (it goes out untouched)."""


Router = Callable[[], "Route | None"]


def _shell(name: str) -> ModuleType:
    """The shell module of library ``name``, imported only once that library is known to be installed."""
    if name == "requests":
        from httpx_cassette.http import requests_shell

        return requests_shell
    from httpx_cassette.http import aiohttp_shell

    return aiohttp_shell


class Routed:
    """A client's transport for one request, with the request going through ``route`` first."""

    __slots__ = ("route", "transport")

    def __init__(self, route: Route, transport: Any) -> None:
        self.route = route
        self.transport = transport

    def handle_request(self, request: Any) -> Any:
        __tracebackhide__ = True
        return self.route.send(request, self._forward)

    async def handle_async_request(self, request: Any) -> Any:
        __tracebackhide__ = True
        return await self.route.send_async(request, self._forward_async)

    def _forward(self, request: Any) -> Any:
        with forwarding():
            return self.transport.handle_request(request)

    async def _forward_async(self, request: Any) -> Any:
        with forwarding():
            return await self.transport.handle_async_request(request)


def _libraries() -> Iterator[ModuleType]:
    import httpx

    yield httpx
    # httpx2 is imported now if it is installed, so a client built later (openai 3 builds httpx2
    # clients) meets a hooked class; `install` runs again on every block opened, so a library
    # installed or imported later is hooked then.
    if "httpx2" in sys.modules or importlib.util.find_spec("httpx2") is not None:
        yield importlib.import_module("httpx2")


class Hooks:
    """The hooks on every client class of httpx and httpx2, installed while some route may want them."""

    def __init__(self, router: Router) -> None:
        self._router = self._unless_forwarding(router)
        self._lock = threading.Lock()
        self._patched: dict[tuple[type, str], Callable[..., Any]] = {}  # (class, method) -> the original
        self._absent: set[str] = set()  # shell libraries found not installed
        self._shells: set[str] = set()  # shell libraries hooked now
        self._skip: dict[ModuleType, tuple[type, ...]] = {}
        self.stranded: list[str] = []  # classes someone else patched over ours (see `uninstall`)

    @staticmethod
    def _unless_forwarding(router: Router) -> Router:
        def route() -> Route | None:
            return None if FORWARDING.get() else router()

        return route

    @property
    def installed(self) -> bool:
        return bool(self._patched)

    def install(self) -> None:
        """Hook every client class of every library importable now; idempotent, cheap when done."""
        with self._lock:
            for lib in _libraries():
                for name in _CLIENTS:
                    cls = getattr(lib, name)
                    if (cls, _METHOD) not in self._patched:
                        self._hook(lib, cls)
            self._install_shells()

    def _install_shells(self) -> None:
        """Hook the other libraries' seams, each once, when that library is installed."""
        for name in _SHELLS:
            if name in self._shells or name in self._absent:
                continue
            if name not in sys.modules and importlib.util.find_spec(name) is None:
                self._absent.add(name)  # not installed: not looked for again
                continue
            for cls, method, wrap in _shell(name).seams(self._router):
                self._patch(cls, method, wrap(cls.__dict__[method]))
            self._shells.add(name)

    def _patch(self, cls: type, method: str, replacement: Callable[..., Any]) -> None:
        original = cls.__dict__[method]
        replacement.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(cls, method, replacement)
        self._patched[(cls, method)] = original

    def _hook(self, lib: ModuleType, cls: type) -> None:
        original = cls.__dict__[_METHOD]
        skip = self._skip.setdefault(lib, self._pass_through(lib))
        router = self._router

        def _transport_for_url(client: Any, url: Any) -> Any:
            transport = original(client, url)
            route = router()
            if route is None or isinstance(transport, skip):
                return transport
            return Routed(route, transport)

        self._patch(cls, _METHOD, _transport_for_url)

    @staticmethod
    def _pass_through(lib: ModuleType) -> tuple[type, ...]:
        from httpx_cassette.http.transport import CassetteTransport  # it imports this package's library seam

        found = [getattr(lib, name, None) for name in IN_PROCESS_TRANSPORTS]
        return (Routed, CassetteTransport, *(cls for cls in found if isinstance(cls, type)))

    def uninstall(self) -> None:
        """Put the original methods back.

        Where something else (another library, a test double) replaced our hook after we installed it,
        restoring the original would silently undo that patch; the hook is left there instead. It is
        inert with no route open (it returns the transport it is given), it is named in ``stranded``,
        and a `RuntimeWarning` says so.
        """
        with self._lock:
            for (cls, method), original in list(self._patched.items()):
                current = cls.__dict__.get(method)
                if getattr(current, "__wrapped__", None) is original:
                    setattr(cls, method, original)
                else:
                    name = f"{cls.__module__}.{cls.__qualname__}.{method}"
                    self.stranded.append(name)
                    warnings.warn(
                        f"httpx_cassette could not unhook {name}: something patched over its hook; the"
                        " hook stays in place, passing every request straight through",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                del self._patched[(cls, method)]
            self._shells.clear()
