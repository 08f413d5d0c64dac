"""Where the network block stops a request: where it would reach a real connection, not before.

Under the pytest plugin's network block a request no cassette serves, and no host or ignore rule lets
out, is not refused when its client hands it over: it goes on down the client's transport inside
`guarded`, and `NetworkBlocked` is raised at the first point where it would use the network:

- httpcore and httpcore2 (the default transports of httpx and httpx2, proxies included): opening a
  connection (``HTTPConnection._connect``), and sending on one already open (the HTTP/1.1, HTTP/2 and
  SOCKS connections' ``handle_request``), so a kept-alive connection a recording opened is not reused;
- a requests or aiohttp session used beneath (a custom transport sending with one): when it sends
  (their shells call `check`);
- urllib3 (requests' transport): each request a connection pool sends (``urlopen``), on a new
  connection or one kept alive;
- anything else: ``socket.socket.connect`` / ``connect_ex``.

So a request answered in-process on the way gets its answer, as it would with no block: respx (which
patches httpcore's connection pool and ``HTTPConnection.handle_request``, above every guard here),
a mock patched over the transport's ``handle_request``, a custom transport that answers itself.

While the block is on (`blocking`), the httpcore and httpcore2 points and the shells' sends fail
closed: they let through only what runs in a context marked `allowed`, which is what a route forwards
having decided it may go out (`httpx_cassette.http.forwarding`: a cassette recording or passing a
request through, a host or ``pass`` rule the block lets out) and what a cassette forwards to its inner
transport. Anything else reaching them (a transport doing its I/O in a worker thread started without
the request's context: ``loop.run_in_executor``, a ``ThreadPoolExecutor``) is put to the block, which
refuses it unless its hosts let it out. A socket connect and a urllib3 send are refused only inside
`guarded` (a database driver's socket, botocore's urllib3, are no request a route saw). The guards
are installed when the block goes on and on each guarded request (for modules imported later; nothing
is imported here), cost one ContextVar read, and are removed with the hooks (`uninstall`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

__all__ = ["Target", "allowed", "blocking", "check", "guarded", "uninstall"]


class Target(NamedTuple):
    """What reached a guarded point outside any request a route decided on (``host`` "" when unknown)."""

    method: str = "GET"
    scheme: str = "http"
    host: str = ""
    port: int | None = None
    path: str = "/"


# The mark of the code running here: `_ALLOWED` (a route let it out), a callable raising `NetworkBlocked`
# for the request being sent (`guarded`), or None (nothing decided it: the policy of the block on does).
_ALLOWED = "allowed"
_MARK: ContextVar[Callable[[], object] | str | None] = ContextVar("httpx_cassette_guard", default=None)
# The blocks on, newest last: each returns for what it lets out and raises `NetworkBlocked` otherwise.
_policies: list[Callable[[Target], object]] = []

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
# Where urllib3 (requests' transport) sends, on a new connection or one kept alive: guarded only inside
# `guarded`, as a socket is (botocore and others send with urllib3 too, and are no request of ours).
_URLLIB3 = ("urllib3.connectionpool", "HTTPConnectionPool", "urlopen")

_lock = threading.Lock()
# (class, method) -> (the original, whether the class held it itself rather than inheriting it)
_patched: dict[tuple[type, str], tuple[Any, bool]] = {}


def check(target: Target | None = None, *, closed: bool = True) -> None:
    """Raise `NetworkBlocked` when what is sent here (``target``) may not go out: inside `guarded`,
    always; while a block is on (``closed``), unless it runs `allowed` or the block lets it out."""
    __tracebackhide__ = True
    mark = _MARK.get()
    if mark is None:
        if closed and _policies:
            _policies[-1](target or Target())
    elif mark is not _ALLOWED and callable(mark):
        mark()


@contextmanager
def guarded(refuse: Callable[[], object]) -> Iterator[None]:
    """Within: ``refuse()`` (which raises `NetworkBlocked`) where the code sending a request would
    use a real connection (the module docstring)."""
    _install()
    token = _MARK.set(refuse)
    try:
        yield
    finally:
        _MARK.reset(token)


@contextmanager
def allowed() -> Iterator[None]:
    """Within: what a route let out (or a cassette forwards) passes the guards; inside `guarded` (a
    request the block refuses, forwarded on down its transport) it stays guarded."""
    mark = _MARK.get()
    if mark is not None and mark is not _ALLOWED:
        yield
        return
    if _policies:
        _install()
    token = _MARK.set(_ALLOWED)
    try:
        yield
    finally:
        _MARK.reset(token)


@contextmanager
def blocking(policy: Callable[[Target], object]) -> Iterator[None]:
    """The block is on while within: what reaches a guard unmarked is put to ``policy``, which returns
    for what it lets out and raises `NetworkBlocked` otherwise."""
    with _lock:
        _policies.append(policy)
    _import_points()
    _install()
    try:
        yield
    finally:
        with _lock:
            _policies.remove(policy)


def _import_points() -> None:
    """Import the connection modules of httpcore and httpcore2 where installed, so that the block guards
    them from the start: httpx2 imports httpcore2's only when a transport is made, which a test may do
    after the block went on, and a point imported unguarded would reach the network."""
    for name, _, _ in _POINTS:
        if name not in sys.modules and importlib.util.find_spec(name.partition(".")[0]) is not None:
            with contextlib.suppress(ImportError):  # an httpcore without HTTP/2 or SOCKS support
                importlib.import_module(name)


def _install() -> None:
    """Guard each point of a module imported so far, once."""
    found = [
        (getattr(module, cls, None), method)
        for name, cls, method in _POINTS
        if (module := sys.modules.get(name)) is not None
    ]
    name, cls_name, method_name = _URLLIB3
    urllib3 = sys.modules.get(name)
    open_points = [*_SOCKET, (getattr(urllib3, cls_name, None), method_name)]
    points = [(cls, method) for cls, method in (*open_points, *found) if isinstance(cls, type)]
    if all(point in _patched for point in points):
        return
    with _lock:
        for cls, method in points:
            if (cls, method) not in _patched and callable(getattr(cls, method, None)):
                original = getattr(cls, method)
                _patched[(cls, method)] = (original, method in cls.__dict__)
                setattr(cls, method, _guard(original, closed=(cls, method) not in open_points))


def _target(args: tuple[Any, ...]) -> Target:
    """The request an httpcore point was called with (``self, request``), as far as it can be read."""
    try:
        request = args[1]
        url = request.url
        parts = (request.method, url.scheme, url.host, url.target)
        method, scheme, host, path = (part.decode("ascii", "replace") for part in parts)
        return Target(method, scheme, host, url.port, path)
    except (AttributeError, IndexError, TypeError):
        return Target()


def _point(args: tuple[Any, ...], closed: bool) -> None:
    """`check` at a guarded point called with ``args``: the request is read only for the block."""
    __tracebackhide__ = True
    mark = _MARK.get()
    if mark is None:
        if closed and _policies:
            _policies[-1](_target(args))
    elif mark is not _ALLOWED and callable(mark):
        mark()


def _guard(original: Callable[..., Any], *, closed: bool) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            _point(args, closed)
            return await original(*args, **kwargs)

        return guarded_async

    @functools.wraps(original)
    def guarded_sync(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        _point(args, closed)
        return original(*args, **kwargs)

    return guarded_sync


def uninstall() -> None:
    """Put every guarded method back; one something else patched over since is left to it (our guard
    beneath it is inert with no block on and outside `guarded`)."""
    with _lock:
        for (cls, method), (original, own) in list(_patched.items()):
            current = cls.__dict__.get(method)
            if getattr(current, "__wrapped__", None) is original:
                if own:
                    setattr(cls, method, original)
                else:
                    delattr(cls, method)  # inherited (socket's connect): inherited again
            del _patched[(cls, method)]
