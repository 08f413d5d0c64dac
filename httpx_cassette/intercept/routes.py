"""The route table: which cassette (or blocker) serves a request intercepted anywhere in the process.

Requests reach it through the client hooks of `httpx_cassette.http.hooks` (every httpx and httpx2
client, whatever its transport). The hooks are installed while any route is open and removed when
the last one closes. Which route serves a request, first match wins:

1. the innermost ``use_cassette`` block still open in the caller's context (a ContextVar holding the
   context's blocks, innermost last: asyncio tasks created inside a block inherit them; concurrent
   tasks in different blocks stay apart; nesting means the inner block serves, the outer one resumes
   after it). A block that closes leaves that stack wherever it is (a decorated generator finished
   after the block it started in: blocks may close out of order), and a closed block never serves,
   also in a context that still holds it (a task that outlived its block);
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
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from httpx_cassette.http.hooks import Hooks, Route
from httpx_cassette.intercept.session import CassetteSession

__all__ = ["Block", "RouteTable", "TABLE", "process_route", "session_listener"]


@dataclass(eq=False)
class Block:
    """One entry into a block: its route, the thread that opened it, and whether it is closed yet."""

    route: Route
    thread: int = field(default_factory=threading.get_ident)
    closed: bool = False


class RouteTable:
    """The open blocks and process-wide routes, and the hooks that consult them."""

    def __init__(self) -> None:
        # The blocks open in this context, innermost last (a tuple: contexts copy it).
        self.active: ContextVar[tuple[Block, ...]] = ContextVar("httpx_cassette_active", default=())
        self.hooks = Hooks(self.route, self.let_out)
        self._lock = threading.RLock()
        self._blocks: list[Block] = []  # open in any thread, oldest first
        self._process: list[Route] = []  # oldest first
        self.listeners: list[Callable[[CassetteSession], None]] = []

    def route(self) -> Route | None:
        """The route serving a request made here and now (see the module docstring), or None."""
        active = self.innermost()
        if active is not None:
            return active
        if not self._blocks and not self._process:
            return None
        me = threading.get_ident()
        with self._lock:
            if self._blocks and all(block.thread != me for block in self._blocks):
                return self._blocks[-1].route
            return self._process[-1] if self._process else None

    def innermost(self) -> Route | None:
        """The route of the innermost block still open in the caller's context, or None."""
        for block in reversed(self.active.get()):
            if not block.closed:
                return block.route
        return None

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
        self.active.set((*self._open_here(), block))
        return block

    def close(self, block: Block) -> None:
        """Close ``block``, whichever blocks opened after it are still open (a generator's block that
        outlived the block it started in) and whichever context it is left in (an async fixture): it
        is taken out of this context's stack, and marked closed for the contexts that still hold it."""
        block.closed = True
        self.active.set(self._open_here())
        with self._lock:
            self._blocks.remove(block)
            self._release()

    def _open_here(self) -> tuple[Block, ...]:
        return tuple(block for block in self.active.get() if not block.closed)

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
