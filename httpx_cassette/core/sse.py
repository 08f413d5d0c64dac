"""Incremental Server-Sent-Events parsing and synthesis that mirror the OpenAI/Anthropic SDK decoders.

`SSEParser` yields, field for field, the events ``openai._streaming.SSEDecoder`` yields for the same bytes
(however they are chunked), plus a final unterminated event the SDK silently drops. `encode_event` writes
an event back as bytes that the SDK decodes into that same event, so a replay shows the SDK what it saw live.

Deliberate choices, all made so that replay is faithful:

* Lines end at CRLF, LF or a lone CR, as in the SDK; a CR at the end of one chunk and an LF at the start of
  the next are one line ending. Bytes are buffered and only complete lines are decoded, so a chunk boundary
  inside a UTF-8 character is harmless (UTF-8 continuation bytes are never CR or LF).
* A byte-order mark is *not* stripped: the SDK's line decoder keeps it, so a leading BOM turns the first
  field name into an unknown one (``"\\ufeffdata"``) and that line is ignored by both.
* Invalid UTF-8 becomes U+FFFD instead of raising. The SDK raises ``UnicodeDecodeError`` there, so only
  streams on which the SDK crashed live can differ; a recorder must not crash, and the stored text must stay
  valid Unicode (msgspec cannot encode the lone surrogates that ``surrogateescape`` would produce).
"""

from __future__ import annotations

import msgspec

__all__ = ["SSEParser", "ServerSentEvent", "encode_event"]


# gc=False: only str/int/bool fields, so no reference cycles; skips GC tracking of many small objects.
class ServerSentEvent(msgspec.Struct, frozen=True, gc=False):
    """One dispatched event, exactly as the SDK's decoder reports it.

    ``data`` is the block's data lines joined with ``"\\n"``; a block with no data line and one with a single
    empty ``data:`` line both give ``""`` in the SDK, so they are the same event for replay (and
    `encode_event` always writes at least one data line). ``event`` is None when absent or empty (the SDK
    maps ``""`` to None). ``id`` is the SDK's *last event id*: per the SSE spec it is not reset after a
    dispatch, so it repeats on every later event until another ``id:`` line changes it. Replaying writes it
    on each of those events, which sets the SDK's last event id to the value it already had: same result.
    ``terminated`` is False only for a final event with no blank line after it, which the SDK drops.
    """

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    terminated: bool = True


class SSEParser:
    """Incremental bytes -> events. Feed raw (content-decoded) body chunks as they arrive."""

    __slots__ = ("_buffer", "_data", "_dirty", "_event", "_id", "_retry", "_skip_lf")

    _event: str | None
    _data: list[str]
    _id: str | None  # never reset by a dispatch, like the SDK's _last_event_id
    _retry: int | None
    _dirty: bool  # a field line was accepted since the last dispatch (for flush)

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._buffer = bytearray()  # the incomplete last line, still bytes: it may end mid-character
        self._skip_lf = False  # the last chunk ended with CR, so an LF starting the next one ends nothing
        self._event, self._data, self._id, self._retry, self._dirty = None, [], None, None, False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by this chunk, in order."""
        if not chunk:
            return []  # an empty chunk must not forget a pending CR (the SDK keeps _skip_lf too)
        if chunk.endswith(b"\n\n") and not (self._buffer or self._skip_lf or self._dirty):
            events = self._whole_events(chunk)
            if events is not None:
                return events
        start = 0
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                start = 1
        # Everything up to the last line ending is complete lines; C-level scans, no per-byte loop.
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if end <= start:
            self._buffer += memoryview(chunk)[start:]
            return []
        if self._buffer:
            self._buffer += memoryview(chunk)[start:end]
            block = bytes(self._buffer)
            self._buffer.clear()
        else:
            block = chunk[start:end]
        if end < len(chunk):
            self._buffer += memoryview(chunk)[end:]
        self._skip_lf = chunk[-1] == 0x0D  # a final CR is then the last line ending
        # One decode for all lines: CR/LF never occur inside a UTF-8 sequence, so this replaces exactly what
        # decoding line by line would.
        text = block.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # block ends with a line ending: the piece after it is always ""
        return self._lines(lines)

    def _whole_events(self, chunk: bytes) -> list[ServerSentEvent] | None:
        """The common chunk, whole events of one ``data:`` line each (what LLM APIs send), parsed without
        the line-by-line walk; None for anything else, with nothing consumed. Only called between events
        (nothing buffered or pending), where this gives exactly the events `_lines` would."""
        text = chunk.decode("utf-8", "replace")
        if "\r" in text:
            return None
        values: list[str] = []
        for block in text[:-2].split("\n\n"):
            if not block.startswith("data:") or "\n" in block:
                return None  # another field, a comment, a multi-line event, extra blank lines...
            values.append(block[6:] if block[5:6] == " " else block[5:])
        last_id = self._id
        return [ServerSentEvent(value, None, last_id) for value in values]

    def flush(self) -> list[ServerSentEvent]:
        """At end of stream: the final event if it lacked its blank line (``terminated=False``); resets."""
        events: list[ServerSentEvent] = []
        if self._buffer:  # a last line with no line ending still counts (the SDK's finish())
            self._lines([self._buffer.decode("utf-8", "replace")])
        # Only what arrived after the last dispatch, and only if a blank line would have dispatched it.
        if self._dirty and self._pending():
            events.append(self._dispatch(terminated=False))
        self._reset()  # like the SDK's _reset() after a stream: ready for a new one
        return events

    def _pending(self) -> bool:
        # The SDK's test, including its quirk that a truthy last event id alone makes a blank line dispatch.
        return bool(self._event or self._data or self._id or self._retry is not None)

    def _dispatch(self, *, terminated: bool = True) -> ServerSentEvent:
        event = ServerSentEvent("\n".join(self._data), self._event or None, self._id, self._retry, terminated)
        self._event, self._data, self._retry, self._dirty = None, [], None, False
        return event

    def _lines(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._pending():
                    events.append(self._dispatch())
                continue
            if line[0] == ":":  # comment
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" in value:
                    continue
                self._id = value
            elif name == "retry":
                try:
                    self._retry = int(value)  # int() exactly as the SDK: accepts " 5", "+5", "1_000"
                except ValueError:
                    continue
            else:
                continue  # unknown field
            self._dirty = True
        return events


def encode_event(event: ServerSentEvent) -> bytes:
    """One event as the UTF-8 wire bytes the SDK decodes back into the same event.

    Writes ``event:``, one ``data:`` line per line of data, ``id:``, ``retry:``, then the blank line unless
    the event is unterminated (so the SDK drops it on replay, as it did live). Raises ValueError for text
    that cannot survive the wire: a line ending in a name or id, a CR in data, a NUL in an id.
    """
    parts: list[str] = []
    if event.event:  # "" and None are the same to the SDK
        _check_line(event.event, "event")
        parts.append(f"event: {event.event}\n")
    if "\r" in event.data:
        raise ValueError(f"SSE data cannot contain a carriage return: {event.data!r}")
    parts.append("data: " + event.data.replace("\n", "\ndata: ") + "\n")
    if event.id is not None:
        _check_line(event.id, "id")
        if "\0" in event.id:
            raise ValueError(f"SSE id cannot contain NUL: {event.id!r}")
        parts.append(f"id: {event.id}\n")
    if event.retry is not None:
        parts.append(f"retry: {event.retry:d}\n")
    if event.terminated:
        parts.append("\n")
    return "".join(parts).encode("utf-8")


def _check_line(value: str, field: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {field} cannot contain a line ending: {value!r}")
