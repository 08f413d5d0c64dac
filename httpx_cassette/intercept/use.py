"""`use_cassette`: a context manager and decorator serving every request in its block from a cassette.

Each entry into the block owns its state (its session and its place in the route table), kept in a
ContextVar: one `use_cassette(...)` object may be entered by several threads or overlapping asyncio
tasks at once (a decorated test run concurrently), and each exit closes its own entry.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncGenerator, Callable, Generator
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from httpx_cassette.config import CassetteConfig, Mode, Options
from httpx_cassette.intercept.routes import TABLE, Block
from httpx_cassette.intercept.session import CassetteSession, surfaced_miss

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DECORATED", "UseCassette", "use_cassette"]

# On a function `use_cassette` decorates: the absolute paths of its cassettes (the pytest plugin keeps a
# skipped or deselected test's cassette out of pruning by it).
DECORATED = "__httpx_cassette_paths__"

F = TypeVar("F", bound=Callable[..., Any])


class UseCassette:
    """What `use_cassette` returns: a context manager yielding a `CassetteSession`, and a decorator."""

    def __init__(self, path: str | os.PathLike[str], config: CassetteConfig) -> None:
        self.path = path
        self.config = config
        # This object's open entries in the current context, innermost last (a tuple: contexts copy it).
        self._entries: ContextVar[tuple[tuple[CassetteSession, Block], ...]] = ContextVar(
            f"use_cassette_{id(self):x}", default=()
        )
        self._all: list[tuple[CassetteSession, Block]] = []  # every open entry, for exits in another context

    def __repr__(self) -> str:
        return f"use_cassette({os.fspath(self.path)!r})"

    def __enter__(self) -> CassetteSession:
        session = CassetteSession(self.path, self.config)
        entry = (session, TABLE.open(session))
        self._entries.set((*self._entries.get(), entry))
        self._all.append(entry)
        return session

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        mine = self._entries.get()
        if mine and mine[-1] in self._all:
            entry = mine[-1]
            self._entries.set(mine[:-1])
        else:  # left in another context than it was entered in (an async fixture): the newest open one
            entry = self._all[-1]
        self._all.remove(entry)
        session, block = entry
        TABLE.close(block)
        TABLE.closed(session)
        miss = surfaced_miss(exc, session.misses)
        if miss is not None:
            raise miss from exc

    def __call__(self, fn: F) -> F:
        """Decorate a function: each call runs inside a fresh session. A coroutine function's session
        spans its ``await``; a generator function's (sync or async) spans the iteration, from the first
        step until the generator finishes or is closed, as vcrpy's does: while it is suspended at a
        ``yield``, code in the same context (a test using a decorated yield fixture) is served too.
        The wrapper names the cassette's absolute path in its `DECORATED` attribute."""
        wrapper = self._wrapped(fn)
        setattr(wrapper, DECORATED, (*getattr(fn, DECORATED, ()), os.path.abspath(self.path)))
        return wrapper

    def _wrapped(self, fn: F) -> F:
        """``fn`` run inside a fresh session at each call (or iteration)."""
        if inspect.isasyncgenfunction(fn):
            return cast(F, self._async_generator(fn))
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with UseCassette(self.path, self.config):
                    return await fn(*args, **kwargs)

            return cast(F, run_async)
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def run_generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
                with UseCassette(self.path, self.config):
                    return (yield from fn(*args, **kwargs))  # send, throw and close reach ``fn``'s

            return cast(F, run_generator)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with UseCassette(self.path, self.config):
                return fn(*args, **kwargs)

        return cast(F, run)

    def _async_generator(self, fn: Callable[..., AsyncGenerator[Any, Any]]) -> Callable[..., Any]:
        """``fn`` run inside a session for its whole iteration; what the caller sends (``asend``) or
        throws (``athrow``) is passed on to ``fn``'s generator, and closing the wrapper closes it."""

        @functools.wraps(fn)
        async def run_async_generator(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            with UseCassette(self.path, self.config):
                inner = fn(*args, **kwargs)
                try:
                    value = await inner.__anext__()
                    while True:
                        try:
                            sent = yield value
                        except GeneratorExit:
                            await inner.aclose()
                            raise
                        except BaseException as exc:  # thrown in by the caller: ``fn`` may handle it
                            value = await inner.athrow(exc)
                        else:
                            value = await (inner.__anext__() if sent is None else inner.asend(sent))
                except StopAsyncIteration:
                    return
                finally:
                    await inner.aclose()  # a no-op once it finished; an error left it open

        return run_async_generator


def use_cassette(
    path: str | os.PathLike[str],
    mode: Mode | None = None,
    *,
    config: CassetteConfig | None = None,
    **overrides: Unpack[Options],
) -> UseCassette:
    """Serve every httpx, httpx2, aiohttp and requests request made inside the block from the cassette
    at ``path`` (aiohttp and requests when installed).

        with use_cassette("cassettes/demo") as cassette:
            openai.OpenAI().chat.completions.create(...)
        assert cassette.played and not cassette.unused()

        @use_cassette("cassettes/test_weather")
        async def test_weather(): ...

    ``mode``, ``config`` and the flat keywords are those of `CassetteTransport` (by default
    ``$HTTPX_CASSETTE_MODE``, read when the block is entered, else replay). Requests to
    ``ignore_hosts``, and to loopback addresses with ``ignore_localhost=True``, pass through
    untouched; ``ignore`` rules (and, unless ``ignore_defaults=False``, known telemetry endpoints)
    keep telemetry out of the cassette. The block yields a `CassetteSession` (``played``,
    ``recorded``, ``unused()``, ``misses``, ``passed``, ``ignored``, ``report()``). If the code
    inside swallows a miss into an error of its own (as SDKs do), leaving the block raises a
    `CassetteMiss` from that error so the message is not lost.
    See `httpx_cassette.intercept.routes` for nesting, threads and asyncio tasks.
    """
    config = CassetteConfig.of(config, **overrides)
    if mode is not None:
        config = config.override(mode=mode)
    return UseCassette(path, config)
