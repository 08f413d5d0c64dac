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
library is installed; their requests reach the same routes through ``Route.begin``. What no cassette
can hold (an aiohttp websocket handshake) is not planned by a route: the shell asks ``let_out``, the
routes here and now from the top down (``Route.admit``), whether it may go out untouched.

Not wrapped: transports that never reach the network (``MockTransport``, ``ASGITransport``,
``WSGITransport``) and a `CassetteTransport` a user put under a client explicitly (it already
records and replays; wrapping it would record twice).

Which libraries get hooked, and when: `install` hooks the libraries already imported (httpx always is).
A library imported later (httpx2 imported by an SDK inside a block) is hooked the moment its import
finishes, before the importer can build a client: while the hooks are installed, a finder on
``sys.meta_path`` watches for it and runs the library's own loader, then hooks it. Nothing is imported
on the user's behalf, so opening a block costs no httpx2 import, and a library that becomes importable
only later (installed, or its path added, mid-run) is covered too. A library imported after the last
block closed is hooked by the next `install`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from httpx_cassette.http import guard
from httpx_cassette.http.forwarding import FORWARDING, forwarding

if TYPE_CHECKING:
    from httpx_cassette.http.exchange import Exchange

__all__ = ["IN_PROCESS_TRANSPORTS", "Hooks", "LetOut", "Route", "Routed", "Router", "forwarding"]

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

    def admit(self, request: Any) -> bool:
        """For a request no cassette can hold (a websocket handshake), which is never recorded: True
        when this route lets it out untouched, False when the routes beneath it decide; raises
        `NetworkBlocked` when it keeps it in."""


Router = Callable[[], "Route | None"]
# Asks the routes here and now, top down, whether a request no cassette can hold may go out untouched:
# returns when it may, raises `NetworkBlocked` when a route keeps it in (`RouteTable.let_out`).
LetOut = Callable[[Any], None]


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


LIBRARIES = ("httpx", "httpx2")


def _libraries() -> Iterator[ModuleType]:
    """The libraries imported so far. One another thread is still importing is left out: half of its
    classes may not exist yet (its import hooks it when it finishes, if it began under the hooks)."""
    for name in LIBRARIES:
        module = sys.modules.get(name)
        if module is not None and not getattr(module.__spec__, "_initializing", False):
            yield module


class _ThenLoader(importlib.abc.Loader):
    """A library's own loader, calling ``then`` with the module once it has been executed."""

    def __init__(self, loader: importlib.abc.Loader, then: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._then = then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._then(module)

    def __getattr__(self, name: str) -> Any:  # get_filename, is_package, resource readers...
        return getattr(self._loader, name)


class _WhenImported(importlib.abc.MetaPathFinder):
    """On ``sys.meta_path`` while the hooks are installed: finds nothing itself, but hands the spec the
    other finders give for a watched library back with its loader wrapped, so ``then`` runs as soon as
    the library has been imported."""

    def __init__(self, names: Sequence[str], then: Callable[[ModuleType], None]) -> None:
        self._names = frozenset(names)
        self._then = then
        self._busy = threading.local()  # the other finders may ask sys.meta_path again: no recursion

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = next((s for s in self._others(fullname, path, target) if s is not None), None)
        finally:
            self._busy.on = False
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _ThenLoader(spec.loader, self._then)
        return spec

    def _others(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> Iterator[importlib.machinery.ModuleSpec | None]:
        for finder in list(sys.meta_path):
            if finder is not self and hasattr(finder, "find_spec"):
                yield finder.find_spec(fullname, path, target)


class Hooks:
    """The hooks on every client class of httpx and httpx2, installed while some route may want them."""

    def __init__(self, router: Router, let_out: LetOut) -> None:
        self._router = self._unless_forwarding(router)
        self._let_out = let_out
        self._lock = threading.Lock()
        self._patched: dict[tuple[type, str], Callable[..., Any]] = {}  # (class, method) -> the original
        self._absent: set[str] = set()  # shell libraries found not installed
        self._shells: set[str] = set()  # shell libraries hooked now
        self._skip: dict[ModuleType, tuple[type, ...]] = {}
        self._watch = _WhenImported(LIBRARIES, self._imported)
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
        """Hook every client class of every library imported so far, and each library imported from now
        on as its import finishes (until `uninstall`); idempotent, cheap when done."""
        with self._lock:
            if self._watch not in sys.meta_path:
                sys.meta_path.insert(0, self._watch)
            for lib in _libraries():
                self._hook_library(lib)
            self._install_shells()

    def _imported(self, lib: ModuleType) -> None:
        """``lib`` was just imported: hook it, unless the hooks were removed meanwhile."""
        with self._lock:
            if self._watch in sys.meta_path:
                self._hook_library(lib)

    def _hook_library(self, lib: ModuleType) -> None:
        for name in _CLIENTS:
            cls = getattr(lib, name)
            if (cls, _METHOD) not in self._patched:
                self._hook(lib, cls)

    def _install_shells(self) -> None:
        """Hook the other libraries' seams, each once, when that library is installed."""
        for name in _SHELLS:
            if name in self._shells or name in self._absent:
                continue
            if name not in sys.modules and importlib.util.find_spec(name) is None:
                self._absent.add(name)  # not installed: not looked for again
                continue
            for cls, method, wrap in _shell(name).seams(self._router, self._let_out):
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
            if self._watch in sys.meta_path:
                sys.meta_path.remove(self._watch)
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
            guard.uninstall()  # the network block's guards, installed by its first guarded request
