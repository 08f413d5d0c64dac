"""The flag that keeps a forwarded request from being intercepted twice.

While a route forwards a request, what the real transport sends is not intercepted again: a custom
httpx transport that sends with aiohttp is recorded once, at the httpx client. The hooks read the flag;
the transport and the other libraries' shells set it. A route forwards what it decided may go out, so
what runs inside is also `httpx_cassette.http.guard.allowed` past the network block's guards (unless it
is a request the block refuses, forwarded on down its transport `guarded`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from httpx_cassette.http import guard

__all__ = ["FORWARDING", "forwarding"]

FORWARDING: ContextVar[bool] = ContextVar("httpx_cassette_forwarding", default=False)


@contextmanager
def forwarding() -> Iterator[None]:
    """Mark what runs inside as a request being forwarded by a route."""
    token = FORWARDING.set(True)
    try:
        with guard.allowed():
            yield
    finally:
        FORWARDING.reset(token)
