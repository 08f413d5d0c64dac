"""The cassette file format: msgspec Structs for what one file holds, and reading/writing them.

One file holds one distinct request and the ordered list of responses it got (repeats replay in
order). Every field after the first has a default, so older files keep loading as the format grows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

import msgspec
from msgspec import UNSET, UnsetType, field

__all__ = [
    "FORMAT_VERSION",
    "CassetteFile",
    "Event",
    "FileFormat",
    "Meta",
    "Origin",
    "Part",
    "Request",
    "Response",
    "StreamFormat",
    "TransportFailure",
    "builtins",
]

FORMAT_VERSION = 1

# Milliseconds from the moment the request was sent: a file may say 0 to 24 hours, no more (a hostile
# one would otherwise make a paced replay sleep for ever, or overflow the sleep).
Millis = Annotated[float, msgspec.Meta(ge=0, le=86_400_000)]

FileFormat = Literal["ours", "llama-stack"]  # the file formats a cassette directory may hold

StreamFormat = Literal["sse", "ndjson"]  # Server-Sent Events, or one JSON value per line


class Event(msgspec.Struct, omit_defaults=True, gc=False):
    """One Server-Sent Event (or one line of an NDJSON stream) as stored: its data parsed as JSON.

    ``raw`` marks data kept as the literal text of its ``data:`` lines (or of its line) because it was
    not JSON (or, in NDJSON, was not written compact). ``html_escaped``: an NDJSON line written with
    ``<``, ``>`` and ``&`` escaped, as Go's encoding/json does (ollama); replay writes it the same way.
    ``__type__`` is informational (the SDK class the object parses into); replay never needs it.

    ``gc=False``: a recording holds thousands of events, and untracked ones cost the garbage collector
    nothing; an event's data is decoded JSON (or a user's), which never refers back to the event.

    A stream being recorded may hold ``data`` as its compact JSON text (`msgspec.Raw`): encoding writes
    it as is, and nothing keeps thousands of small dicts alive. Read it with `parsed`, which decodes it.
    """

    event: str | None = None
    type: str | None = field(default=None, name="__type__")
    data: Any = field(default=None, name="__data__")
    raw: bool = False
    id: str | None = None
    retry: int | None = None
    unterminated: bool = False  # no blank line after it (SDKs dropped it); in NDJSON, no final newline
    html_escaped: bool = False

    def parsed(self) -> Any:
        """``data`` as JSON values: decoded if it is held as its JSON text."""
        data = self.data
        return msgspec.json.decode(data) if isinstance(data, msgspec.Raw) else data


class Part(msgspec.Struct, omit_defaults=True):
    """One part of a multipart/form-data body. File contents are hashed, never stored; a field is stored
    as a body of its content-type would be: as ``value`` when it is UTF-8 text, else as ``base64``."""

    name: str
    filename: str | None = None
    content_type: str | None = None
    value: str | None = None
    sha256: str | None = None
    size: int | None = None
    base64: str | None = None


class Request(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A request as stored (already redacted). Exactly one body field is set, if any."""

    method: str
    url: str
    headers: dict[str, str] = {}
    body: object | UnsetType = UNSET  # a JSON value, for JSON bodies
    text: str | UnsetType = UNSET  # text bodies, including x-www-form-urlencoded
    base64: str | UnsetType = UNSET  # any other bytes
    multipart: list[Part] | UnsetType = UNSET


class TransportFailure(msgspec.Struct, omit_defaults=True):
    """An upstream failure: the exception class name, its message, and the OS error number when the
    failure carried one (aiohttp's ``ClientConnectorError``: its ``errno`` on replay; absent otherwise,
    and in files written before it was kept)."""

    type: str
    message: str = ""
    errno: int | None = None


class Origin(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The file of another recorder a response was read from (llama-stack's), so it can be written back.

    ``rest`` is what that file held beyond what replay needs, in that format's own terms (None when
    everything can be rebuilt from the request and the response).
    """

    format: str
    file: str = ""
    url: str = ""  # the URL that file says it was recorded against (its host is kept when writing back)
    rest: Any = None


class Response(msgspec.Struct, omit_defaults=True, kw_only=True):
    """One recorded response. For streams ``body`` is a list of `Event` objects, one per SSE event or,
    when ``stream_format`` is ``"ndjson"``, one per line."""

    status: int  # 0 when the request failed before any response (see `error`)
    headers: dict[str, str] = {}
    is_streaming: bool = False
    stream_format: StreamFormat = "sse"
    body: object | UnsetType = UNSET  # JSON value, or the list of events of a stream
    text: str | UnsetType = UNSET
    base64: str | UnsetType = UNSET
    body_file: str | UnsetType = UNSET  # a large binary body, kept in this file next to the JSON file
    done: bool = False  # the stream ended with `data: [DONE]`
    truncated: bool = False  # the caller stopped reading before the end
    error: TransportFailure | None = None  # raised after the body (or instead of a response)
    elapsed_ms: Millis | UnsetType = UNSET  # request sent -> response headers
    offsets_ms: list[Millis] | UnsetType = UNSET  # request sent -> each event (or chunk) arrived
    test_id: str | UnsetType = UNSET  # the test it was recorded for; a cassette's `scope` selects by it
    origin: Origin | None = None  # set when it was read from another recorder's file
    sealed: list[str] | UnsetType = UNSET  # proof the recording wrote its placeholders (`core.seal`)

    def events(self) -> list[Event]:
        """The stored events of a stream (validated into `Event` objects when the file was read)."""
        if not self.is_streaming or self.body is UNSET:
            return []
        return cast("list[Event]", self.body)


class Meta(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Where and when the file was recorded; informational only."""

    recorded_at: str = ""
    recorder: str = ""
    library: str = ""
    user_agent: str = ""


class CassetteFile(msgspec.Struct, kw_only=True):
    """Everything one cassette file holds."""

    version: int = FORMAT_VERSION
    request: Request
    responses: list[Response]
    meta: Meta = msgspec.field(default_factory=Meta)

    def shares_a_test_with(self, other: CassetteFile) -> bool:
        """Whether some test would replay responses of both files: one holds a response of no test (any
        test replays it), or both hold one test's."""
        mine, theirs = (
            {r.test_id if isinstance(r.test_id, str) else None for r in f.responses} for f in (self, other)
        )
        return None in mine or None in theirs or not mine.isdisjoint(theirs)


def _decoded(value: Any) -> Any:
    if isinstance(value, msgspec.Raw):
        return msgspec.json.decode(value)
    raise NotImplementedError(f"objects of type {type(value).__name__} are not JSON")


def builtins(value: Any) -> Any:
    """`msgspec.to_builtins`, with event data held as JSON text (`msgspec.Raw`) decoded."""
    return msgspec.to_builtins(value, enc_hook=_decoded)
