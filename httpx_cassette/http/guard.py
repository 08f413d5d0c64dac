"""Where the network block stops a request: where it would reach a real connection, not before.

Under the pytest plugin's network block a request no cassette serves, and no host or ignore rule lets
out, is not refused when its client hands it over: it goes on down the client's transport inside
`guarded`, and `NetworkBlocked` is raised at the first point where it would use the network:

- httpcore and httpcore2 (the default transports of httpx and httpx2, proxies included): opening a
  connection (``HTTPConnection._connect``), and sending on one already open (the HTTP/1.1, HTTP/2 and
  SOCKS connections' ``handle_request``), so a kept-alive connection a recording opened is not reused;
- a requests or aiohttp session used beneath (a custom transport sending with one): when it sends
  (their shells call `check`);
- anything else: ``socket.socket.connect`` / ``connect_ex``.

So a request answered in-process on the way gets its answer, as it would with no block: respx (which
patches httpcore's connection pool and ``HTTPConnection.handle_request``, above every guard here),
a mock patched over the transport's ``handle_request``, a custom transport that answers itself.
The guards are installed on the first guarded request (only the classes of modules imported by then,
and again for each one imported later, so nothing is imported here), are inert outside `guarded` (one
ContextVar read), and are removed with the hooks (`uninstall`). What runs in a thread the guarded code starts
without copying its context (a ``ThreadPoolExecutor``) is not guarded.
"""

from __future__ import annotations

import functools
import inspect
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["check", "guarded", "uninstall"]

# Raises `NetworkBlocked` for the request being sent here, when one is.
_REFUSE: ContextVar[Callable[[], object] | None] = ContextVar("httpx_cassette_guard", default=None)

# (module, class, method) of every point where httpcore and httpcore2 use a real connection.
_CORES = ("httpcore", "httpcore2")
_POINTS = tuple(
    (f"{core}.{module}", cls, method)
    for core in _CORES
    for module, cls, method in (
        ("_sync.connection", "HTTPConnection", "_connect"),
        ("_async.connection", "AsyncHTTPConnection", "_connect"),
        ("_sync.http11", "HTTP11Connection", "handle_request"),
        ("_async.http11", "AsyncHTTP11Connection", "handle_async_request"),
        ("_sync.http2", "HTTP2Connection", "handle_request"),
        ("_async.http2", "AsyncHTTP2Connection", "handle_async_request"),
        ("_sync.socks_proxy", "Socks5Connection", "handle_request"),
        ("_async.socks_proxy", "AsyncSocks5Connection", "handle_async_request"),
    )
)
_SOCKET = ((socket.socket, "connect"), (socket.socket, "connect_ex"))

_lock = threading.Lock()
# (class, method) -> (the original, whether the class held it itself rather than inheriting it)
_patched: dict[tuple[type, str], tuple[Any, bool]] = {}


def check() -> None:
    """Raise `NetworkBlocked` when the request being sent here is one the network block guards."""
    __tracebackhide__ = True
    refuse = _REFUSE.get()
    if refuse is not None:
        refuse()


@contextmanager
def guarded(refuse: Callable[[], object]) -> Iterator[None]:
    """Within: ``refuse()`` (which raises `NetworkBlocked`) where the code sending a request would
    use a real connection (the module docstring)."""
    _install()
    token = _REFUSE.set(refuse)
    try:
        yield
    finally:
        _REFUSE.reset(token)


def _install() -> None:
    """Guard each point of a module imported so far, once."""
    found = [
        (getattr(module, cls, None), method)
        for name, cls, method in _POINTS
        if (module := sys.modules.get(name)) is not None
    ]
    points = [(cls, method) for cls, method in (*_SOCKET, *found) if isinstance(cls, type)]
    if all(point in _patched for point in points):
        return
    with _lock:
        for cls, method in points:
            if (cls, method) not in _patched and callable(getattr(cls, method, None)):
                original = getattr(cls, method)
                _patched[(cls, method)] = (original, method in cls.__dict__)
                setattr(cls, method, _guard(original))


def _guard(original: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            check()
            return await original(*args, **kwargs)

        return guarded_async

    @functools.wraps(original)
    def guarded_sync(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        check()
        return original(*args, **kwargs)

    return guarded_sync


def uninstall() -> None:
    """Put every guarded method back; one something else patched over since is left to it (our guard
    beneath it is inert outside `guarded`)."""
    with _lock:
        for (cls, method), (original, own) in list(_patched.items()):
            current = cls.__dict__.get(method)
            if getattr(current, "__wrapped__", None) is original:
                if own:
                    setattr(cls, method, original)
                else:
                    delattr(cls, method)  # inherited (socket's connect): inherited again
            del _patched[(cls, method)]
