"""`Sent`: one request a cassette saw, in the order they came, and what happened to it.

Tests assert on them (``cassette.requests[-1].json()["messages"]``) to check what the code under
test sent, whether the answer was replayed or recorded.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal

from msgspec import UNSET

from httpx_cassette.model.cassette import Request

__all__ = ["PlayLog", "Sent", "Status"]

# replayed: served from the cassette; recorded: sent and written; missed: no recording (replay);
# passed: sent and not written (ignored host, a before_record_request hook said None, live mode)
Status = Literal["replayed", "recorded", "missed", "passed"]


@dataclass
class Sent:
    """A request as the cassette saw it (after ``before_record_request``, before redaction)."""

    request: Request
    status: Status

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def headers(self) -> dict[str, str]:
        """The headers a recording keeps (content-type, API versions...); credentials never."""
        return self.request.headers

    @property
    def content(self) -> bytes:
        """The body as bytes (a multipart body: empty, its files are kept as hashes only)."""
        record = self.request
        if record.body is not UNSET:
            return json.dumps(record.body).encode()
        if record.text is not UNSET:
            return record.text.encode()
        if record.base64 is not UNSET:
            return base64.b64decode(record.base64)
        return b""

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError naming the request when it is not JSON."""
        if self.request.body is not UNSET:
            return self.request.body
        try:
            return json.loads(self.content)
        except ValueError:
            raise ValueError(f"the body of {self.method} {self.url} is not JSON") from None

    def __repr__(self) -> str:
        return f"<Sent {self.method} {self.url} {self.status}>"


class PlayLog(list[tuple[str, int]]):
    """`Cassette.played`: the (key, response index) pairs replayed, in order. A long-lived transport in a
    loop keeps the last ``limit`` of them (the oldest half goes when it is passed); ``total`` counts them
    all and ``pairs`` holds every distinct one, so what was used is known however long it ran."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.total = 0
        self.pairs: set[tuple[str, int]] = set()

    def append(self, pair: tuple[str, int]) -> None:
        super().append(pair)
        self.total += 1
        self.pairs.add(pair)
        if len(self) > self.limit:
            del self[: self.limit // 2]
