"""Stored events <-> wire events: what a stream looks like in a cassette and on replay.

Recording turns each parsed `ServerSentEvent` into a stored `Event` (data parsed as JSON when it is
JSON, ``[DONE]`` kept as a flag); replay turns stored events back into SSE bytes, one chunk each
(`httpx_cassette.core.replay` may then join them).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from httpx_cassette.core.repeats import Template, template_of
from httpx_cassette.core.sse import ServerSentEvent, encode_event
from httpx_cassette.core.strings import Walker
from httpx_cassette.core.transcript import Assembler
from httpx_cassette.model.body import json_line
from httpx_cassette.model.cassette import Event

__all__ = ["DONE_CHUNK", "SDK_TYPE_BY_OBJECT", "EventRecorder", "event_bytes", "stream_chunks"]

DONE_CHUNK = b"data: [DONE]\n\n"

# The OpenAI SDK class of a JSON object, by its ``object`` field: the informational `__type__` names
# of stream objects, and the classes llama-stack's recordings name for whole response bodies.
SDK_TYPE_BY_OBJECT = {
    "chat.completion": "openai.types.chat.chat_completion.ChatCompletion",
    "chat.completion.chunk": "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
    "text_completion": "openai.types.completion.Completion",
    "model": "openai.types.model.Model",
    "response": "openai.types.responses.response.Response",
}

# Stream events whose JSON names itself in ``type``: the common Responses API events, and Anthropic's.
# Values are class names; the SDK module is the class name in snake case.
_OPENAI_RESPONSES = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.queued": "ResponseQueuedEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.refusal.delta": "ResponseRefusalDeltaEvent",
    "response.refusal.done": "ResponseRefusalDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.failed": "ResponseFailedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
}
_ANTHROPIC_MESSAGES = {
    "message_start": "RawMessageStartEvent",
    "content_block_start": "RawContentBlockStartEvent",
    "content_block_delta": "RawContentBlockDeltaEvent",
    "content_block_stop": "RawContentBlockStopEvent",
    "message_delta": "RawMessageDeltaEvent",
    "message_stop": "RawMessageStopEvent",
}


def _qualified(package: str, cls: str) -> str:
    return f"{package}.{re.sub(r'(?<!^)(?=[A-Z])', '_', cls).lower()}.{cls}"


_TYPE_BY_TYPE = {
    **{kind: _qualified("openai.types.responses", cls) for kind, cls in _OPENAI_RESPONSES.items()},
    **{kind: _qualified("anthropic.types", cls) for kind, cls in _ANTHROPIC_MESSAGES.items()},
}


def type_name(data: Any) -> str | None:
    """The SDK class a stream object parses into, when we know it."""
    if not isinstance(data, dict):
        return None
    # Called once per recorded event: two lookups, no loop (a non-str value, even unhashable, misses).
    kind = data.get("object")
    found = SDK_TYPE_BY_OBJECT.get(kind) if isinstance(kind, str) else None
    if found is None:
        kind = data.get("type")
        found = _TYPE_BY_TYPE.get(kind) if isinstance(kind, str) else None
    return found


# Data that is not JSON, or JSON nested deeper than msgspec decodes (it raises RecursionError, before
# Python's own stack runs out): either way the event is kept as its text.
_NOT_JSON = (msgspec.DecodeError, RecursionError)


def to_stored(sse: ServerSentEvent) -> Event:
    """A wire event as stored: JSON data parsed, anything else kept as raw text."""
    try:
        data: Any = msgspec.json.decode(sse.data)
        raw = False
    except _NOT_JSON:
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


_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_BATCH = 128
_TEMPLATES = 4  # kept at once: a chunk per choice of a stream of several (n=2...) takes turns


def stored_data(data: bytes) -> Event:
    """What `to_stored` makes of an event that is one plain ``data:`` line, from its bytes (no text round
    trip): the JSON it holds, else its UTF-8 text (invalid bytes as U+FFFD, as the parser decodes them)."""
    try:
        value = _decode(data)
    except _NOT_JSON:
        text = data.decode("utf-8", "replace")
        try:
            value = _decode(text)
        except _NOT_JSON:
            return Event(data=text, raw=True)
    return Event(None, type_name(value), value)


def event_bytes(event: Event) -> bytes:
    """The SSE bytes of one stored event: ``data: <compact JSON>`` and a blank line."""
    plain = event.event is None and event.id is None and event.retry is None and not event.unterminated
    if plain and not event.raw:  # the common event: compact JSON never holds a line ending
        return b"data: " + json_line(event.data) + b"\n\n"
    data = event.data if event.raw else json_line(event.data).decode("utf-8")
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
        # What `add_plain` saw with a walker, across calls (a stream is parsed in several batches):
        # the SDK types, and the text sent piece by piece, whole only once every piece is in.
        self._types: set[str | None] = set()
        self._assembler = Assembler()
        self._templates: list[Template] = []  # the latest first (`httpx_cassette.core.repeats`)
        self._missed = 0  # batches `run_in` found mostly no run in

    def add(self, sse: ServerSentEvent, offset_ms: float) -> None:
        """Record one parsed event; ``offset_ms`` is already rounded (see `Capture`)."""
        if self.done:  # something came after [DONE]: keep that [DONE] as an ordinary event
            self.events.append(Event(data="[DONE]", raw=True))
            self.done = False
        if sse.data == "[DONE]" and sse.event is None and sse.terminated and sse.id is None:
            self.done = True
        else:
            self.events.append(to_stored(sse))
        self.offsets_ms.append(offset_ms)

    def run_in(self, text: bytes) -> tuple[list[bytes], list[str], int] | None:
        """The data and texts of the events ``text`` starts with that are the latest template's
        (`Template.run_in`), and where they end in it: most of each batch of a long chat stream; for
        `add_run`. None when it starts with none."""
        if not self._templates or self.done or self._missed > 1:
            return None
        values, texts = self._templates[0].run_in(text)
        end = sum(map(len, values)) + 8 * len(values)  # each b"data: " ... b"\n\n"
        # A stream whose runs are short (a server escaping what re-encoding does not, every few
        # events): after two batches in a row mostly not in runs, its batches are read event by event
        self._missed = self._missed + 1 if end < len(text) // 2 else 0
        return (values, texts, end) if values else None

    def add_run(self, values: list[bytes], texts: list[str], offsets_ms: list[float], walker: Walker) -> None:
        """`add_plain` for what `run_in` found: events of the latest template, with these texts."""
        template = self._templates[0]
        kind, raw = template.kind, msgspec.Raw
        self.events += [Event(None, kind, raw(value)) for value in values]
        self._assembler.add_texts(template.index, texts)
        walker.pieces.update(texts)
        self.offsets_ms += offsets_ms

    def add_plain(self, values: list[bytes], offsets_ms: list[float], walker: Walker | None = None) -> None:
        """`add` for events that are one plain ``data:`` line each (``values``: the bytes after
        ``data:``), in bulk: what a whole recorded LLM stream is.

        With a ``walker``, each event's JSON is held as its compact text (`msgspec.Raw`, what the file
        will hold) and walked for its strings while decoded, then let go: a long recording then keeps
        no small dicts alive for the garbage collector to walk again and again.
        """
        events, done = self.events, self.done
        if walker is None:
            for value in values:
                if done:
                    events.append(Event(data="[DONE]", raw=True))
                done = value == b"[DONE]"
                if not done:
                    events.append(stored_data(value))
        else:
            # Walked in batches (one walk per call is slow), small enough that the garbage collector
            # rarely meets a batch before it is let go.
            batch: list[Any] = []
            templates = self._templates
            # Bound once: this loop runs once per event of the stream
            append, add_text, piece = events.append, self._assembler.add_text, walker.pieces.add
            for value in values:
                if done:
                    append(Event(data="[DONE]", raw=True))
                    batch.append("[DONE]")
                done = value == b"[DONE]"
                if done:
                    continue
                # A chunk before with another piece of text: its text is all that is new
                for template in templates:
                    if (text := template.text_of(value)) is not None:
                        append(Event(None, template.kind, msgspec.Raw(value)))
                        add_text(template.index, text)
                        piece(text)
                        break
                else:
                    self._add_decoded(value, batch)
                    templates = self._templates
                    if len(batch) >= _BATCH:
                        walker.add(batch)
                        batch.clear()
            walker.add(batch)
        self.done = done
        self.offsets_ms += offsets_ms

    def _add_decoded(self, value: bytes, batch: list[Any]) -> None:
        """`add_plain`'s full path for one event: decoded, held as its compact JSON text, assembled, its
        data left in ``batch`` for the walker; a chat chunk sent compact becomes a template."""
        try:
            data = _decode(value)
        except _NOT_JSON:
            event = stored_data(value)  # text, or JSON once invalid UTF-8 is replaced
            self.events.append(event)
            self._assembler.add(event.data)  # text too: text events are pieces (`Assembler.add`)
            batch.append(event.data)
            self._types.add(event.type)
            return
        kind = type_name(data)
        encoded = _encode(data)
        self.events.append(Event(None, kind, msgspec.Raw(encoded)))
        if encoded == value and (template := template_of(data, encoded, kind)) is not None:
            # sent compact: later chunks may repeat it (a stream of several choices, one each)
            self._templates = [template, *self._templates[: _TEMPLATES - 1]]
        self._assembler.add(data)
        batch.append(data)
        self._types.add(kind)

    def seal(self, walker: Walker) -> None:
        """Add to ``walker`` what the `add_plain` calls that walked into it saw of the whole stream: its
        SDK types, and its transcript (a key the model sent in pieces is whole only there)."""
        walker.found.update(self._types - {None})
        walker.said(self._assembler.result.said())
