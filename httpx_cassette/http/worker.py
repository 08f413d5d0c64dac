"""Blocking disk work from async code: run it in a worker thread, so the event loop keeps serving
other tasks while a cassette file is read, locked, written and fsynced.

anyio (an httpx dependency) picks the running event loop, asyncio or trio. The call is shielded from
cancellation: a lookup or a save that has started finishes, so a cancelled request never leaves a
cassette's bookkeeping (repeat counters, pending recordings) half updated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["off_loop"]

T = TypeVar("T")


async def off_loop(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a worker thread; its result, or its exception."""
    import anyio  # imported when first needed: `import httpx_cassette` stays light
    import anyio.to_thread

    with anyio.CancelScope(shield=True):
        result = await anyio.to_thread.run_sync(fn, *args)
    return result
