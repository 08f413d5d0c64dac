"""One request through a cassette, whichever HTTP library sent it.

Every shell (httpx/httpx2's `CassetteTransport`, and the aiohttp and requests shells) does the same
steps; only building its library's request view and response differs. `Exchange` holds those
steps: plan the request (replay or record), then either serve ``prepared`` or record what came
back through ``capture`` / ``failed``. `Outgoing` is the library-neutral view of a request that
`httpx_cassette.core.request.to_record` reads, for libraries whose requests look nothing like httpx's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

from httpx_cassette._version import __version__
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.decoding import Decoder
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.core.replay import Prepared
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.model.cassette import Meta, Response
from httpx_cassette.model.served import recorded_failure
from httpx_cassette.storage.cassette import Cassette

__all__ = ["EMPTY", "Exchange", "Headers", "Outgoing", "Url"]

# What an ignore rule answers in replay: an empty success, made here, never stored.
EMPTY = Prepared(status=204, headers=[], chunks=[], delays=[], failure=None)


class Url(str):
    """A URL string with the ``host`` and ``path`` httpx's URL has (ignore rules and filters read them)."""

    __slots__ = ()

    @property
    def host(self) -> str:
        return urlsplit(self).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self).path or "/"


class Headers:
    """Request headers as ``(name, value)`` pairs, repeats kept, with the reads `to_record` needs."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = [(str(k), str(v)) for k, v in pairs]

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def get(self, name: str, default: str = "") -> str:
        lower = name.lower()
        return next((v for k, v in self._pairs if k.lower() == lower), default)


class Outgoing:
    """A request of a library other than httpx, as the cassette reads it; ``library`` names its sender."""

    __slots__ = ("content", "headers", "library", "method", "url")

    def __init__(
        self, method: str, url: str, headers: Iterable[tuple[str, str]], content: bytes, library: str
    ):
        self.method = method.upper()
        self.url = Url(url)
        self.headers = Headers(headers)
        self.content = content
        self.library = library  # "aiohttp 3.12.0": stored in each file's meta

    def __repr__(self) -> str:
        return f"<Outgoing {self.method} {self.url} via {self.library}>"


class Exchange:
    """The cassette's part of one request: its plan, then the recording of its response.

    ``prepared`` is set when the request is answered without the network (a replay, or an ignore
    rule's empty answer); otherwise the caller forwards it and reports back through `failed`
    (no response) or `capture` (the response as it streams).
    """

    def __init__(
        self,
        cassette: Cassette | None,
        plan: Play | Record | None,
        meta: Meta,
        way: AbstractContextManager[None] | None = None,
    ) -> None:
        self.cassette = cassette
        self.plan = plan
        self.meta = meta
        self.started = time.perf_counter()
        self.way = way  # `guarded`: the request goes on down its library inside it, unrecorded

    @classmethod
    def of(cls, cassette: Cassette, request: LiveRequest, library: str) -> Exchange:
        """Plan ``request`` (its body already read); raises `CassetteMiss` in replay when not recorded."""
        plan = cassette.plan(request)
        meta = Meta(
            recorder=f"httpx_cassette {__version__}",
            library=library,
            user_agent=request.headers.get("user-agent", ""),
        )
        return cls(cassette, plan, meta)

    @classmethod
    def answered(cls, prepared: Prepared) -> Exchange:
        """An exchange answered locally, touching no cassette (an ignore rule in replay)."""
        return cls(None, Play("", -1, prepared), Meta())

    @classmethod
    def guarded(cls, way: AbstractContextManager[None]) -> Exchange:
        """A request nothing here answers or records, sent on down its library inside ``way`` (the
        network block's guard): a mock on the way answers it, a real connection refuses it."""
        return cls(None, None, Meta(), way)

    @property
    def prepared(self) -> Prepared | None:
        return self.plan.prepared if isinstance(self.plan, Play) else None

    def forwarding(self) -> None:
        """Mark the moment the request goes out: recorded offsets count from here."""
        self.started = time.perf_counter()

    def failed(self, exc: BaseException) -> None:
        """The request got no response: record the failure, to raise again on replay."""
        if isinstance(self.plan, Record) and self.cassette is not None:
            failure = recorded_failure(exc)  # what a file may hold: control characters escaped
            self.cassette.save(self.plan, Response(status=0, error=failure), self.meta)

    def capture(
        self, status: int, headers: list[tuple[str, str]], decoder: Decoder | None
    ) -> tuple[Capture, Callable[[Response], None]] | None:
        """A capture for the response and what to call with its result; None when nothing is written
        (live mode). The caller feeds the capture each chunk as its caller receives it."""
        plan = self.plan
        if not isinstance(plan, Record) or plan.slot is None or self.cassette is None:
            return None
        cassette, meta = self.cassette, self.meta
        capture = Capture(status, headers, decoder, self.started, events_as_json=cassette.events_as_json)

        def save(response: Response) -> None:
            cassette.save(plan, response, meta, walked=capture.walked)

        return capture, save


def body_of(data: Any) -> bytes:
    """A request body given as bytes, str or nothing, as bytes."""
    if data is None:
        return b""
    return data.encode() if isinstance(data, str) else bytes(data)
