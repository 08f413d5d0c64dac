"""What the ``vcr`` fixture gives, in vcrpy's shapes: the test's `CassetteSession` as a vcrpy
``Cassette`` (``play_count``, ``all_played``, ``record_mode``), its requests as vcrpy ``Request``\\ s
(``uri``, ``body`` bytes, ``host``...) and its responses as vcrpy's response dicts
(``["status"]["code"]``, ``["body"]["string"]``), each still our object underneath (``status``,
``json()``...).
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from httpx_cassette.core.modes import ALIASES
from httpx_cassette.core.replay import stream_chunks_of
from httpx_cassette.core.sent import Sent
from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.model.body import body_bytes
from httpx_cassette.model.cassette import Response
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["Headers", "VcrCassette", "VcrRequest", "VcrRequestView", "VcrResponse"]

_PORTS = {"https": 443, "http": 80}
# our mode -> vcrpy's name for it, when the mode was chosen by one of ours
_VCR_NAMES = {"replay": "none", "record-missing": "new_episodes", "record": "all", "live": "all"}


class Headers(dict[str, str]):
    """Headers looked up in any case, as vcrpy's ``HeadersDict`` (``headers["Content-Type"]``)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((name.lower(), value) for name, value in headers.items())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


@dataclass(repr=False)
class VcrRequest(Sent):
    """A `Sent` request that also answers vcrpy's ``Request`` names. What the recording keeps: the
    request after ``before_record_request`` and the filters, credentials never among its headers."""

    @property
    def uri(self) -> str:
        return self.url

    @property
    def body(self) -> bytes:
        """The body as bytes (vcrpy's ``body``; `json` parses it)."""
        return self.content

    @property
    def headers(self) -> Headers:
        return Headers(self.request.headers)

    @property
    def _parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def scheme(self) -> str:
        return self._parts.scheme

    @property
    def protocol(self) -> str:
        return self.scheme

    @property
    def host(self) -> str | None:
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        return self._parts.port or _PORTS.get(self._parts.scheme)

    @property
    def path(self) -> str:
        return self._parts.path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query's (name, value) pairs, sorted, as vcrpy gives them."""
        return sorted(parse_qsl(self._parts.query))

    def __getattr__(self, name: str) -> Any:  # the rest of our `Request`: text, base64, multipart
        if name == "request":  # not set yet (a copy being built)
            raise AttributeError(name)
        return getattr(self.request, name)

    def __repr__(self) -> str:
        return f"<Request ({self.method}) {self.url} {self.status}>"


class VcrRequestView(VcrRequest):
    """A request as a vcrpy ``match_on`` function, or a filter's replacement function, is handed it
    (`VcrRequest`'s names, vcrpy's repr): a matcher gets the one sent and the recorded one, as keyed
    (redacted, after the filters and ``before_record_request``)."""

    def __repr__(self) -> str:
        return f"<Request ({self.method}) {self.url}>"


class VcrResponse(dict[str, Any]):
    """A recorded `Response` as vcrpy's dict: ``{"status": {"code", "message"}, "headers": {name:
    [value]}, "body": {"string": bytes}}``; any other attribute is the `Response`'s (``status``,
    ``headers``, ``events()``...). The body is as recorded: redacted fields stay ``REDACTED``."""

    def __init__(self, response: Response, body: bytes) -> None:
        try:
            message = http.HTTPStatus(response.status).phrase
        except ValueError:  # 0 (no response) or a code of the server's own
            message = ""
        super().__init__(
            status={"code": response.status, "message": message},
            headers={name: [value] for name, value in response.headers.items()},
            body={"string": body},
        )
        self.response = response

    def __getattr__(self, name: str) -> Any:
        if name == "response":  # not set yet (a copy being built)
            raise AttributeError(name)
        return getattr(self.response, name)


def _recorded_body(store: DirectoryStore, key: str, response: Response) -> bytes:
    """The body bytes of a recorded response: a stream's events as they were sent, a side file's
    contents, else the stored body."""
    if response.is_streaming:
        return b"".join(stream_chunks_of(response))
    side = store.body_file_bytes(key, response)
    return side if side is not None else body_bytes(response)


class VcrCassette:
    """What the ``vcr`` fixture gives: the test's `CassetteSession` with vcrpy's attribute names.
    ``spec`` is the mode as the user chose it (``once`` stays ``once``)."""

    def __init__(self, session: CassetteSession, spec: str | None = None) -> None:
        self.session = session
        self.spec = spec

    def __getattr__(self, name: str) -> Any:  # everything else a CassetteSession has
        return getattr(self.session, name)

    @property
    def record_mode(self) -> str:
        """The mode as chosen, in vcrpy's words: a vcrpy name as given (``once``), else ours as
        vcrpy calls it (replay: none, record-missing: new_episodes, record and live: all)."""
        if self.spec in ALIASES:
            return self.spec
        return _VCR_NAMES.get(self.session.mode, "all")

    def __len__(self) -> int:
        """How many recorded responses the cassette holds (vcrpy's ``len(cassette)``)."""
        return sum(len(f.responses) for _, _, f in self.session.cassette.store.items())

    @property
    def play_count(self) -> int:
        """How many responses were replayed."""
        return self.session.played.total

    @property
    def all_played(self) -> bool:
        """Whether every recorded response of the cassette was replayed."""
        played = self.session.played.pairs
        recorded = [
            (key, i) for key, _, f in self.session.cassette.store.items() for i in range(len(f.responses))
        ]
        return all(pair in played for pair in recorded)

    @property
    def requests(self) -> list[VcrRequest]:
        """The requests the test sent, in order (see `CassetteSession.requests`), with vcrpy's names."""
        return [VcrRequest(sent.request, sent.status) for sent in self.session.requests]

    @property
    def responses(self) -> list[VcrResponse]:
        """The recorded responses the test got (replayed or just recorded), in order, as vcrpy's dicts."""
        store = self.session.cassette.store
        found: list[VcrResponse] = []
        for key, index in [*self.session.played, *self.session.recorded]:
            file = store.get(key)
            if file is not None:
                response = file.responses[index]
                found.append(VcrResponse(response, _recorded_body(store, key, response)))
        return found
