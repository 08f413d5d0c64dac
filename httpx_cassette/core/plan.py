"""What to do with one request: play a recorded response, or forward it (and record it)."""

from __future__ import annotations

from dataclasses import dataclass

from httpx_cassette.core.replay import Prepared
from httpx_cassette.model.cassette import Request

__all__ = ["Play", "Record"]


@dataclass(frozen=True)
class Play:
    """Serve a recorded response."""

    key: str
    index: int
    prepared: Prepared


@dataclass(frozen=True)
class Record:
    """Forward the request; ``slot`` is its place among the key's responses (None: live, no write);
    ``secrets``: the credentials it carried that are not stored (`httpx_cassette.core.echoes`)."""

    key: str
    request: Request
    slot: int | None
    secrets: frozenset[str] = frozenset()
