"""``use_cassette``: route every httpx and httpx2 request through a cassette, without touching clients.

While any cassette is open, the class methods ``HTTPTransport.handle_request`` and
``AsyncHTTPTransport.handle_async_request`` of httpx and of httpx2 (when installed) are replaced by
hooks; when the last one closes the originals are put back. A hook asks which route applies and
hands the request to its ``send(request, forward)``, where ``forward`` is the original method bound
to the client's own transport: record modes reach the network with the client's proxies, TLS
settings and connection pool. So clients created before the block and SDK default clients (openai
builds an httpx2 client) are caught alike. Transports that are not ``HTTPTransport`` (MockTransport,
ASGITransport, an SDK's aiohttp transport) are not intercepted.

Which route serves a request, first match wins:

1. the innermost ``use_cassette`` block open in the caller's context (a ContextVar: asyncio tasks
   created inside a block inherit it; concurrent tasks in different blocks stay apart; nesting
   means the inner block serves, the outer one resumes after it);
2. in a thread that has no block open itself (a thread pool started from a block, an SDK's
   background thread), the most recently opened block of any other thread; code in the thread
   that opened a block but outside it (a task created before the block) is not intercepted;
3. the process-wide routes, newest first: the pytest plugin's cassette for the running test, and
   under ``--cassette-block-network`` the blocker beneath it;
4. otherwise the original method: nothing is touched.

A request that a `CassetteTransport` forwards to its own inner transport is never intercepted
again, so an explicit ``transport=CassetteTransport(...)`` keeps working inside a block.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ._session import CassetteSession, surfaced_miss
from ._transport import FORWARDING, TransportOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Route", "UseCassette", "process_route", "session_listener", "use_cassette"]

F = TypeVar("F", bound=Callable[..., Any])


class Route(Protocol):
    """Where an intercepted request goes; ``forward`` reaches the network through the client's transport."""

    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any: ...
    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any: ...


@dataclass(frozen=True)
class _Open:
    route: Route
    thread: int


_active: ContextVar[Route | None] = ContextVar("httpx_cassette_active", default=None)
_lock = threading.RLock()
_open: list[_Open] = []  # context blocks open in any thread, oldest first
_process: list[Route] = []  # process-wide routes, oldest first
_patched: list[tuple[type, str, Callable[..., Any]]] = []  # (class, method name, original)
_listeners: list[Callable[[CassetteSession], None]] = []


def _route() -> Route | None:
    if FORWARDING.get():
        return None
    active = _active.get()
    if active is not None:
        return active
    me = threading.get_ident()
    with _lock:
        if _open and all(entry.thread != me for entry in _open):
            return _open[-1].route
        return _process[-1] if _process else None


# -- patching ------------------------------------------------------------------------------------


def _libraries() -> Iterator[ModuleType]:
    import httpx

    yield httpx
    # httpx2 is imported now if it is installed, so that a client built later inside the block
    # (openai 3 builds httpx2 clients) meets the patched class.
    if "httpx2" in sys.modules or importlib.util.find_spec("httpx2") is not None:
        yield importlib.import_module("httpx2")


def _sync_hook(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(original)
    def handle_request(self: Any, request: Any) -> Any:
        __tracebackhide__ = True
        route = _route()
        if route is None:
            return original(self, request)
        return route.send(request, functools.partial(original, self))

    return handle_request


def _async_hook(original: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
    @functools.wraps(original)
    async def handle_async_request(self: Any, request: Any) -> Any:
        __tracebackhide__ = True
        route = _route()
        if route is None:
            return await original(self, request)
        return await route.send_async(request, functools.partial(original, self))

    return handle_async_request


def _install() -> None:
    if _patched:
        return
    for lib in _libraries():
        for cls, name, hook in (
            (lib.HTTPTransport, "handle_request", _sync_hook),
            (lib.AsyncHTTPTransport, "handle_async_request", _async_hook),
        ):
            original = cls.__dict__[name]
            setattr(cls, name, hook(original))
            _patched.append((cls, name, original))


def _uninstall() -> None:
    while _patched:
        cls, name, original = _patched.pop()
        if getattr(cls.__dict__[name], "__wrapped__", None) is original:  # nobody patched over us
            setattr(cls, name, original)


def _release() -> None:
    if not _open and not _process:
        _uninstall()


@contextmanager
def process_route(route: Route) -> Iterator[None]:
    """Serve every request no block claims with ``route``, in every thread, until the end of the block.

    What the pytest plugin uses for the running test: the test is the only thing running, so every
    thread and task it starts is covered, whatever context the test runner runs it in.
    """
    with _lock:
        _install()
        _process.append(route)
    try:
        yield
    finally:
        with _lock:
            _process.remove(route)
            _release()


@contextmanager
def session_listener(callback: Callable[[CassetteSession], None]) -> Iterator[None]:
    """Call ``callback`` with every `use_cassette` session as it closes (the pytest plugin's usage report)."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


# -- use_cassette ----------------------------------------------------------------------------------


class UseCassette:
    """What `use_cassette` returns: a context manager yielding a `CassetteSession`, and a decorator."""

    def __init__(self, path: str | os.PathLike[str], options: dict[str, Any]) -> None:
        self.path = path
        self.options = options
        self._entered: list[tuple[CassetteSession, _Open, Token[Route | None]]] = []

    def __repr__(self) -> str:
        return f"use_cassette({os.fspath(self.path)!r})"

    def __enter__(self) -> CassetteSession:
        session = CassetteSession(self.path, **self.options)
        entry = _Open(session, threading.get_ident())
        with _lock:
            _install()
            _open.append(entry)
        self._entered.append((session, entry, _active.set(session)))
        return session

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, entry, token = self._entered.pop()
        try:
            _active.reset(token)
        except ValueError:  # left in another context than it was entered in (an async fixture)
            _active.set(token.old_value if token.old_value is not Token.MISSING else None)
        with _lock:
            _open.remove(entry)
            _release()
        for callback in list(_listeners):
            callback(session)
        miss = surfaced_miss(exc, session.misses)
        if miss is not None:
            raise miss from exc

    def __call__(self, fn: F) -> F:
        """Decorate a function (sync or async def): each call runs inside a fresh session."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with UseCassette(self.path, self.options):
                    return await fn(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with UseCassette(self.path, self.options):
                return fn(*args, **kwargs)

        return cast(F, run)


def use_cassette(
    path: str | os.PathLike[str],
    *,
    ignore_hosts: Iterable[str] = (),
    ignore_localhost: bool = False,
    **options: Unpack[TransportOptions],
) -> UseCassette:
    """Serve every httpx and httpx2 request made inside the block from the cassette at ``path``.

        with use_cassette("cassettes/demo") as cassette:
            openai.OpenAI().chat.completions.create(...)
        assert cassette.played and not cassette.unused()

        @use_cassette("cassettes/test_weather")
        async def test_weather(): ...

    ``mode`` and every other option are those of `CassetteTransport` (by default
    ``$HTTPX_CASSETTE_MODE``, read when the block is entered, else replay). Requests to
    ``ignore_hosts``, and to loopback addresses with ``ignore_localhost=True``, pass through
    untouched. The block yields a `CassetteSession` (``played``, ``recorded``, ``unused()``,
    ``misses``, ``passed``). If the code inside swallows a miss into an error of its own (as SDKs
    do), leaving the block raises a `CassetteMiss` from that error so the message is not lost.
    See this module's docstring for nesting, threads and asyncio tasks.
    """
    session_options: dict[str, Any] = {
        "ignore_hosts": tuple(ignore_hosts),
        "ignore_localhost": ignore_localhost,
        **options,
    }
    return UseCassette(path, session_options)
