"""The cassette file format: msgspec Structs for what one file holds, and reading/writing them.

One file holds one distinct request and the ordered list of responses it got (repeats replay in
order). Every field after the first has a default, so older files keep loading as the format grows.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import msgspec
from msgspec import UNSET, UnsetType, field

from ._errors import CassetteFormatError

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
    "TransportFailure",
    "decode_file",
    "encode_file",
]

FORMAT_VERSION = 1

FileFormat = Literal["ours", "llama-stack"]  # the file formats a cassette directory may hold


class Event(msgspec.Struct, omit_defaults=True):
    """One Server-Sent Event as stored: its event name and its data parsed as JSON.

    ``raw`` marks data kept as the literal text of its ``data:`` lines because it was not JSON.
    ``__type__`` is informational (the SDK class the object parses into); replay never needs it.
    """

    event: str | None = None
    type: str | None = field(default=None, name="__type__")
    data: Any = field(default=None, name="__data__")
    raw: bool = False
    id: str | None = None
    retry: int | None = None
    unterminated: bool = False  # upstream sent no blank line after it, so SDKs dropped it


class Part(msgspec.Struct, omit_defaults=True):
    """One part of a multipart/form-data body. File contents are hashed, never stored."""

    name: str
    filename: str | None = None
    content_type: str | None = None
    value: str | None = None
    sha256: str | None = None
    size: int | None = None


class Request(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A request as stored (already redacted). Exactly one body field is set, if any."""

    method: str
    url: str
    headers: dict[str, str] = {}
    body: Any | UnsetType = UNSET  # a JSON value, for JSON bodies
    text: str | UnsetType = UNSET  # text bodies, including x-www-form-urlencoded
    base64: str | UnsetType = UNSET  # any other bytes
    multipart: list[Part] | UnsetType = UNSET


class TransportFailure(msgspec.Struct, omit_defaults=True):
    """An upstream failure: the httpx exception class name and its message."""

    type: str
    message: str = ""


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
    """One recorded response. For streams ``body`` is a list of `Event` objects."""

    status: int  # 0 when the request failed before any response (see `error`)
    headers: dict[str, str] = {}
    is_streaming: bool = False
    body: Any | UnsetType = UNSET  # JSON value, or the list of events of a stream
    text: str | UnsetType = UNSET
    base64: str | UnsetType = UNSET
    body_file: str | UnsetType = UNSET  # a large binary body, kept in this file next to the JSON file
    done: bool = False  # the stream ended with `data: [DONE]`
    truncated: bool = False  # the caller stopped reading before the end
    error: TransportFailure | None = None  # raised after the body (or instead of a response)
    elapsed_ms: float | UnsetType = UNSET  # request sent -> response headers
    offsets_ms: list[float] | UnsetType = UNSET  # request sent -> each event (or chunk) arrived
    test_id: str | UnsetType = UNSET  # the test it was recorded for; a cassette's `scope` selects by it
    origin: Origin | None = None  # set when it was read from another recorder's file

    def events(self) -> list[Event]:
        """The stored events of a stream (validated into `Event` objects when the file was read)."""
        if not self.is_streaming or self.body is UNSET:
            return []
        body: list[Event] = self.body
        return body


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


_encoder = msgspec.json.Encoder()
# Built here, at import, on one thread: msgspec (0.22) builds a Struct type's decoding information on
# first use, and two threads doing that at once can crash the interpreter (a segfault in 20 of 30 runs
# of 16 threads decoding their first file). A built Decoder is thread-safe.
_file_decoder = msgspec.json.Decoder(CassetteFile)


_EVENTS_AT = b'"@@httpx-cassette-events-%d@@"'
_EVENT_INDENT = b"\n        "  # the depth of a stream's events: file > responses > response > body


def encode_file(cassette: CassetteFile) -> bytes:
    """Pretty, stable JSON (struct field order, body key order as recorded), ending in a newline.

    Each stream event is written compact on a line of its own: a re-recorded stream then diffs
    event by event, and a file stays near the size of the raw stream instead of tripling it.
    """
    streams = [r for r in cassette.responses if r.is_streaming and isinstance(r.body, list) and r.body]
    if not streams:
        return msgspec.json.format(_encoder.encode(cassette), indent=2) + b"\n"
    held: list[list[Event]] = [cast("list[Event]", r.body) for r in streams]
    try:
        for i, response in enumerate(streams):
            response.body = (_EVENTS_AT % i).decode()[1:-1]
        text = msgspec.json.format(_encoder.encode(cassette), indent=2)
    finally:
        for response, body in zip(streams, held, strict=True):
            response.body = body
    for i, events in enumerate(held):
        lines = b",".join(_EVENT_INDENT + _encoder.encode(event) for event in events)
        text = text.replace(_EVENTS_AT % i, b"[" + lines + b"\n      ]", 1)
    return text + b"\n"


def _normalize_events(cassette: CassetteFile) -> CassetteFile:
    # Validate event lists once at load so a broken event names its file, not a later replay.
    for i, response in enumerate(cassette.responses):
        if response.is_streaming and response.body is not UNSET:
            try:
                response.body = msgspec.convert(response.body, list[Event])
            except msgspec.ValidationError as exc:
                where, text = f"`$.responses[{i}].body", str(exc)  # msgspec's path starts at the list
                text = text.replace("`$", where, 1) if "`$" in text else f"{text} - at {where}`"
                raise msgspec.ValidationError(text) from None
    return cassette


def decode_file(data: bytes, source: str) -> CassetteFile:
    """Parse a cassette file, ours (it has ``responses``) or a llama-stack recording (``response``),
    detected per file; errors name ``source`` and the JSON path. A llama-stack file that records no
    HTTP exchange (a tool call) raises `NotAnExchangeError`."""
    try:
        try:
            return _normalize_events(_file_decoder.decode(data))
        except msgspec.ValidationError as exc:
            value = msgspec.json.decode(data)
            if not (isinstance(value, dict) and "response" in value and "responses" not in value):
                raise CassetteFormatError(source, str(exc)) from None
        from ._llamastack import from_llama_stack  # it builds the Structs above, so it imports this module

        return from_llama_stack(value, source)
    except msgspec.DecodeError as exc:
        raise CassetteFormatError(source, str(exc)) from None
    except RecursionError:
        raise CassetteFormatError(source, "its JSON is nested too deeply (~1000 levels) to read") from None
