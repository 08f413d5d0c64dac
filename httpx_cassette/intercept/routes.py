"""The route table: which cassette (or blocker) serves a request intercepted anywhere in the process.

Requests reach it through the client hooks of `httpx_cassette.http.hooks` (every httpx and httpx2
client, whatever its transport). The hooks are installed while any route is open and removed when
the last one closes. Which route serves a request, first match wins:

1. the innermost ``use_cassette`` block open in the caller's context (a ContextVar: asyncio tasks
   created inside a block inherit it; concurrent tasks in different blocks stay apart; nesting
   means the inner block serves, the outer one resumes after it);
2. in a thread that has no block open itself (a thread pool started from a block, an SDK's
   background thread), the most recently opened block of any other thread; code in the thread
   that opened a block but outside it (a task created before the block) is not intercepted;
3. the process-wide routes, newest first: the pytest plugin's cassette for the running test, and
   under ``--cassette-block-network`` the blocker beneath it;
4. otherwise the client's own transport: nothing is touched.

A `CassetteTransport` put under a client explicitly is left alone (it records and replays itself),
and what it forwards to its inner transport never passes a client, so nothing is recorded twice.

What no cassette can hold (an aiohttp websocket handshake) is not served by one route: `let_out` asks
the routes a request made here and now meets, top down (the block serving it as above, then the
process-wide routes, newest first), each with ``Route.admit``. A cassette lets it out when its
``ignore_hosts`` / ``ignore_localhost`` (or a ``pass`` ignore rule) would let an HTTP request out, and
otherwise leaves it to the routes beneath; the network blocker refuses it with `NetworkBlocked` unless
its hosts let it through; a request no route refuses goes out, as it does with no block open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from httpx_cassette.http.hooks import Hooks, Route
from httpx_cassette.intercept.session import CassetteSession

__all__ = ["Block", "RouteTable", "TABLE", "process_route", "session_listener"]


@dataclass(eq=False)
class Block:
    """One entry into a block: its route, the thread that opened it, and how to undo its ContextVar."""

    route: Route
    thread: int = field(default_factory=threading.get_ident)
    token: Token[Route | None] | None = None


class RouteTable:
    """The open blocks and process-wide routes, and the hooks that consult them."""

    def __init__(self) -> None:
        self.active: ContextVar[Route | None] = ContextVar("httpx_cassette_active", default=None)
        self.hooks = Hooks(self.route, self.let_out)
        self._lock = threading.RLock()
        self._blocks: list[Block] = []  # open in any thread, oldest first
        self._process: list[Route] = []  # oldest first
        self.listeners: list[Callable[[CassetteSession], None]] = []

    def route(self) -> Route | None:
        """The route serving a request made here and now (see the module docstring), or None."""
        active = self.active.get()
        if active is not None:
            return active
        if not self._blocks and not self._process:
            return None
        me = threading.get_ident()
        with self._lock:
            if self._blocks and all(block.thread != me for block in self._blocks):
                return self._blocks[-1].route
            return self._process[-1] if self._process else None

    def stack(self) -> list[Route]:
        """The routes a request made here and now meets, top down: the one `route` picks, then the
        process-wide routes beneath it, newest first."""
        top = self.route()
        with self._lock:
            process = self._process[::-1]
        if top is None:
            return process
        return [top, *(route for route in process if route is not top)]

    def let_out(self, request: Any) -> None:
        """Return when ``request``, which no cassette can hold and nothing records (a websocket
        handshake), may go out untouched here and now; `NetworkBlocked` when a route keeps it in."""
        __tracebackhide__ = True
        for route in self.stack():
            if route.admit(request):
                return

    def open(self, route: Route) -> Block:
        """Open a block serving ``route`` in this context; close it with `close`."""
        block = Block(route)
        with self._lock:
            self.hooks.install()
            self._blocks.append(block)
        block.token = self.active.set(route)
        return block

    def close(self, block: Block) -> None:
        assert block.token is not None
        try:
            self.active.reset(block.token)
        except ValueError:  # left in another context than it was entered in (an async fixture)
            old = block.token.old_value
            self.active.set(None if old is Token.MISSING else old)
        with self._lock:
            self._blocks.remove(block)
            self._release()

    @contextmanager
    def process_route(self, route: Route) -> Iterator[None]:
        """Serve every request no block claims with ``route``, in every thread, until the end."""
        with self._lock:
            self.hooks.install()
            self._process.append(route)
        try:
            yield
        finally:
            with self._lock:
                self._process.remove(route)
                self._release()

    def _release(self) -> None:
        if not self._blocks and not self._process:
            self.hooks.uninstall()

    def closed(self, session: CassetteSession) -> None:
        for callback in list(self.listeners):
            callback(session)


TABLE = RouteTable()  # one per process: the hooks it installs are process-wide too


def process_route(route: Route) -> AbstractContextManager[None]:
    """What the pytest plugin uses for the running test: the test is the only thing running, so every
    thread and task it starts is covered, whatever context the test runner runs it in."""
    return TABLE.process_route(route)


@contextmanager
def session_listener(callback: Callable[[CassetteSession], None]) -> Iterator[None]:
    """Call ``callback`` with every `use_cassette` session as it closes (the pytest plugin's usage report)."""
    TABLE.listeners.append(callback)
    try:
        yield
    finally:
        TABLE.listeners.remove(callback)
