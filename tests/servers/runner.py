"""Run any ASGI app with uvicorn in a background thread on 127.0.0.1, for tests.

    with LiveServer(create_app()) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test-fake-key")
        ...
        server.app.stats.last_stream   # the app object passed in, typed

The listening socket is bound (port 0 by default: the OS picks a free port) and listening before uvicorn
starts, and handed to it with ``server.run(sockets=[sock])``: there is no window in which another process
could take the port. ``start()`` returns once uvicorn is accepting. ``stop()`` takes a few tens of
milliseconds even with idle keep-alive connections or a half-read stream: idle connections are closed,
busy ones are aborted (the app's stream sees a disconnect), anything still running after a short grace
period is cancelled quietly, and as a last resort uvicorn's ``force_exit`` is set. A stopped server can be
started again; it then binds the same port, so ``url`` does not change.

For a conftest::

    from tests.servers.runner import openai_server_fixture
    openai_server = pytest.fixture(scope="session")(openai_server_fixture)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import uvicorn

from .openai_app import OpenAIApp, create_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LiveServer", "openai_server_fixture"]

AppT = TypeVar("AppT", bound="ASGIApp")

_POLL = 0.005
_GRACE = 0.25  # how long stop() lets aborted requests wind down before cancelling them


class LiveServer(Generic[AppT]):
    """An ASGI app served by uvicorn from a daemon thread; a context manager (``start()`` / ``stop()``)."""

    def __init__(
        self,
        app: AppT,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 5.0,
        stop_timeout: float = 1.0,
    ) -> None:
        self.app = app
        self.host = host
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None
        self._stopping = False
        self._log_filter = _QuietFilter()

    # ---- addresses
    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("LiveServer has not been started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``url + "/v1"``: what the OpenAI SDK takes as ``base_url``."""
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- lifecycle
    def start(self) -> LiveServer[AppT]:
        """Bind, start uvicorn in a thread and wait until it accepts connections. Returns self."""
        if self.running:
            raise RuntimeError("LiveServer is already running")
        # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets of that proto,
        # and without it every keep-alive JSON answer waits ~40 ms for a delayed ACK (Nagle).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._port = sock.getsockname()[1]
        self._error = None
        self._stopping = False

        config = uvicorn.Config(
            self._guarded_app,
            log_config=None,  # leave logging alone: uvicorn's warnings go to the root logger (and pytest)
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            http="h11",
            loop="asyncio",
            ws="none",
            proxy_headers=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=30,
        )
        server = _Server(config)
        self._server = server
        logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"LiveServer:{self._port}"
        )
        self._thread.daemon = True
        self._thread.start()

        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start on {self.url}") from self._error
            time.sleep(_POLL)
        return self

    def stop(self) -> None:
        """Shut the server down and join its thread (idempotent). Open connections are closed or aborted."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None and thread is not None:
            self._stopping = True
            server.should_exit = True
            thread.join(self.stop_timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(self.stop_timeout)
            if thread.is_alive():
                raise RuntimeError(f"LiveServer thread {thread.name} did not stop")
        if sock is not None:
            sock.close()
        logging.getLogger("uvicorn.error").removeFilter(self._log_filter)

    def __enter__(self) -> LiveServer[AppT]:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port else "unbound"
        return f"<LiveServer {where} {'running' if self.running else 'stopped'}>"

    # ---- internals
    def _run(self, server: _Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by start(); a daemon thread has nobody else to tell
            self._error = exc

    async def _guarded_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, except that a request cancelled by ``stop()`` ends quietly, without a logged traceback."""
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not self._stopping:
                raise


class _Server(uvicorn.Server):
    """uvicorn with a 5 ms exit poll and a shutdown that does not wait for running streams to finish."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(_POLL)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        # Idle keep-alive connections are closed politely; ones mid-response are aborted, which the app sees
        # as a client disconnect (Starlette's StreamingResponse then stops its generator).
        for connection in list(self.server_state.connections):
            cycle: Any = getattr(connection, "cycle", None)
            if cycle is None or cycle.response_complete:
                connection.shutdown()
            else:
                _abort(connection)
        deadline = loop.time() + _GRACE
        while (self.server_state.connections or self.server_state.tasks) and loop.time() < deadline:
            if self.force_exit:
                break
            await asyncio.sleep(_POLL)
        for connection in list(self.server_state.connections):
            _abort(connection)
        tasks = list(self.server_state.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_GRACE)
        for server in self.servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), _GRACE)


def _abort(connection: object) -> None:
    transport = getattr(connection, "transport", None)
    if isinstance(transport, asyncio.Transport) and not transport.is_closing():
        transport.abort()


class _QuietFilter(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" for exceptions marked ``live_server_quiet``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_quiet(record.exc_info[1]))


def _is_quiet(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    group: object = getattr(exc, "exceptions", None)  # a BaseExceptionGroup (3.11+)
    if isinstance(group, tuple) and group:
        return all(isinstance(e, BaseException) and _is_quiet(e) for e in group)
    return bool(getattr(exc, "live_server_quiet", False))


def openai_server_fixture() -> Iterator[LiveServer[OpenAIApp]]:
    """Generator for a pytest fixture: a fresh :class:`OpenAIApp` served on a free port, stopped after."""
    with LiveServer(create_app()) as server:
        yield server
