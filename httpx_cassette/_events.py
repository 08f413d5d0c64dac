"""Stored events <-> wire events: what a stream looks like in a cassette and on replay.

Recording turns each parsed `ServerSentEvent` into a stored `Event` (data parsed as JSON when it is
JSON, ``[DONE]`` kept as a flag); replay turns stored events back into SSE bytes, one chunk each.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._format import Event
from ._sse import ServerSentEvent, encode_event

__all__ = ["DONE_CHUNK", "EventRecorder", "event_bytes", "stream_chunks"]

DONE_CHUNK = b"data: [DONE]\n\n"

# Informational `__type__` names for the objects LLM streams carry (llama-stack writes the same).
_TYPE_BY_OBJECT = {
    "chat.completion.chunk": "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
    "text_completion": "openai.types.completion.Completion",
}


def type_name(data: Any) -> str | None:
    """The SDK class a stream object parses into, when we know it."""
    if isinstance(data, dict):
        found = _TYPE_BY_OBJECT.get(data.get("object"))  # type: ignore[arg-type]
        return found
    return None


def to_stored(sse: ServerSentEvent) -> Event:
    """A wire event as stored: JSON data parsed, anything else kept as raw text."""
    try:
        data: Any = msgspec.json.decode(sse.data)
        raw = False
    except msgspec.DecodeError:
        data, raw = sse.data, True
    return Event(
        event=sse.event,
        type=None if raw else type_name(data),
        data=data,
        raw=raw,
        id=sse.id,
        retry=sse.retry,
        unterminated=not sse.terminated,
    )


def event_bytes(event: Event) -> bytes:
    """The SSE bytes of one stored event: ``data: <compact JSON>`` and a blank line."""
    data = event.data if event.raw else msgspec.json.encode(event.data).decode("utf-8")
    wire = ServerSentEvent(
        data=data, event=event.event, id=event.id, retry=event.retry, terminated=not event.unterminated
    )
    return encode_event(wire)


def stream_chunks(events: list[Event], done: bool) -> list[bytes]:
    """Every chunk a replayed stream yields, in order."""
    chunks = [event_bytes(e) for e in events]
    if done:
        chunks.append(DONE_CHUNK)
    return chunks


class EventRecorder:
    """Collects the events of a stream as they are parsed; a final ``[DONE]`` becomes a flag."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.offsets_ms: list[float] = []
        self.done = False

    def add(self, sse: ServerSentEvent, offset_ms: float) -> None:
        if self.done:  # something came after [DONE]: keep that [DONE] as an ordinary event
            self.events.append(Event(data="[DONE]", raw=True))
            self.done = False
        if sse.data == "[DONE]" and sse.event is None and sse.terminated and sse.id is None:
            self.done = True
        else:
            self.events.append(to_stored(sse))
        self.offsets_ms.append(round(offset_ms, 3))
