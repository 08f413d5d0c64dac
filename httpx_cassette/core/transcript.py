"""What a stream said, assembled from its events: the text and tool-call arguments that LLM APIs send
piece by piece (OpenAI chat and Responses, Anthropic messages, ollama's NDJSON chat and generate lines).

``httpx-cassette show`` and ``diff`` print it; the secret check reads it too, since a credential the
model streams over many events (``"sk"``, ``"-proj"``, ``"-a1B2"``...) is whole only here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from httpx_cassette.model.cassette import Event

__all__ = ["Assembler", "ToolCall", "Transcript", "transcript_of"]


@dataclass
class ToolCall:
    """A tool (function) call assembled from its streamed pieces."""

    id: Any = None  # a str in what APIs send; a hostile file may hold any JSON value
    name: Any = None
    arguments: str = ""


@dataclass
class Transcript:
    """What a stream said, assembled from its events (OpenAI chat and Responses, Anthropic messages,
    ollama's NDJSON chat and generate lines).

    ``texts`` maps a choice index to its concatenated text (one entry except for ``n > 1``).
    """

    texts: dict[int, str] = field(default_factory=dict)
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    finish_reason: Any = None  # as `ToolCall.id`
    errors: list[Any] = field(default_factory=list)
    asides: list[str] = field(default_factory=list)  # reasoning, refusals, thinking: each whole

    def said(self) -> list[str]:
        """Every text and tool-call arguments the stream sent piece by piece, whole: where a credential
        split over many events reads as one (what the secret check reads)."""
        return [*self.texts.values(), *(call.arguments for call in self.tool_calls), *self.asides]

    @property
    def text(self) -> str:
        """The text of the first choice."""
        return next(iter(self.texts.values()), "")  # `Assembler.result` orders them by index


class Assembler:
    """Assembles a stream's transcript one event's data at a time (`transcript_of` for stored events)."""

    def __init__(self) -> None:
        self._result = Transcript()
        self._calls: dict[Any, ToolCall] = {}
        self._texts: dict[int, list[str]] = {}  # pieces, joined once at the end: a long stream is
        self._arguments: dict[int, list[str]] = {}  # thousands of them
        self._asides: dict[Any, list[str]] = {}

    @property
    def result(self) -> Transcript:
        """The transcript of the events added so far."""
        ordered = sorted(self._texts.items(), key=_by_index)
        self._result.texts = {index: "".join(pieces) for index, pieces in ordered}
        for call in self._result.tool_calls:
            call.arguments = "".join(self._arguments[id(call)])
        self._result.asides = ["".join(pieces) for pieces in self._asides.values()]
        return self._result

    def _call(self, key: Any) -> ToolCall:
        found = self._calls.get(key)
        if found is None:
            found = self._calls[key] = ToolCall()
            self._arguments[id(found)] = []
            self._result.tool_calls.append(found)
        return found

    def _add_arguments(self, call: ToolCall, piece: Any, *, whole: bool = False) -> None:
        pieces = self._arguments[id(call)]
        if whole:
            pieces.clear()
        if isinstance(piece, str) and piece:
            pieces.append(piece)

    def _aside(self, key: Any, piece: Any) -> None:
        """A piece of what the stream says besides its text (reasoning, a refusal, Anthropic's thinking):
        not shown as the text, but read by the secret check."""
        if isinstance(piece, str) and piece:
            self._asides.setdefault(key, []).append(piece)

    def _text(self, index: int, piece: Any) -> None:
        if isinstance(piece, str) and piece:
            pieces = self._texts.get(index)
            if pieces is None:
                pieces = self._texts[index] = []
            pieces.append(piece)

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict) and usage:
            self._result.usage = {**(self._result.usage or {}), **usage}

    def add(self, data: Any) -> None:
        """One event's data (a JSON value); one of a shape no API sends (a list where an object goes, an
        unhashable index...) adds what it can: the transcript must not fail on a hostile file.

        Recording runs this on every event of a stream (the secret check reads the transcript), so the
        common events take few steps: a chat chunk's content, an event named by its ``type``.
        """
        if type(data) is not dict:
            return
        try:  # not contextlib.suppress: a context manager per event costs more than the rest of it
            if data.get("error"):
                self._result.errors.append(data["error"])
            choices = data.get("choices")
            if type(choices) is list:
                self._chat(data, choices)
            if (
                "done" in data
                and isinstance(data["done"], bool)
                and ("message" in data or "response" in data)
            ):
                self._ollama(data)
            kind = data.get("type")
            if isinstance(kind, str):
                if kind.startswith("response."):
                    self._responses(kind, data)
                else:
                    self._anthropic(kind, data)
        except (AttributeError, TypeError):
            pass

    def _chat(self, data: dict[str, Any], choices: list[Any]) -> None:
        # OpenAI chat completion chunks (and legacy completions, whose choices carry `text`).
        if data.get("usage"):
            self._usage(data["usage"])
        for choice in choices:
            if type(choice) is not dict:
                continue
            index = choice.get("index") or 0
            delta = choice.get("delta") or {}
            if type(delta) is dict:
                content = delta.get("content")
                if type(content) is str and content:  # the one piece most events carry: inline
                    pieces = self._texts.get(index)
                    if pieces is None:
                        pieces = self._texts[index] = []
                    pieces.append(content)
                if len(delta) > 1 or "content" not in delta:  # more than the content alone
                    for aside in ("reasoning_content", "reasoning", "refusal"):
                        if aside in delta:
                            self._aside((index, aside), delta[aside])
            if "text" in choice:
                self._text(index, choice["text"])
            for piece in (delta.get("tool_calls") if isinstance(delta, dict) else None) or []:
                call = self._call((index, piece.get("index", 0)))
                call.id = piece.get("id") or call.id
                function = piece.get("function") or {}
                call.name = function.get("name") or call.name
                self._add_arguments(call, function.get("arguments"))
            if choice.get("finish_reason"):
                self._result.finish_reason = choice["finish_reason"]

    def _ollama(self, data: dict[str, Any]) -> None:
        # ollama /api/chat (`message`) and /api/generate (`response`) lines; tool calls come whole.
        message = data.get("message")
        if isinstance(message, dict):
            self._text(0, message.get("content"))
            for piece in message.get("tool_calls") or []:
                function = (piece.get("function") if isinstance(piece, dict) else None) or {}
                call = self._call(("ollama", len(self._calls)))
                call.name = function.get("name")
                arguments = msgspec.json.encode(function.get("arguments") or {}).decode("utf-8")
                self._add_arguments(call, arguments, whole=True)
        self._text(0, data.get("response"))
        if data["done"]:
            self._result.finish_reason = data.get("done_reason") or self._result.finish_reason
            counts = ("prompt_eval_count", "eval_count")
            self._usage({name: data[name] for name in counts if name in data})

    def _responses(self, kind: str, data: dict[str, Any]) -> None:
        # OpenAI Responses API events.
        if kind == "response.output_text.delta":
            self._text(0, data.get("delta"))
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                call = self._call(("item", data.get("output_index")))
                call.id, call.name = item.get("call_id"), item.get("name")
                self._add_arguments(call, item.get("arguments"), whole=True)
        elif kind == "response.function_call_arguments.delta":
            self._add_arguments(self._call(("item", data.get("output_index"))), data.get("delta"))
        elif kind == "response.function_call_arguments.done":
            call = self._call(("item", data.get("output_index")))
            self._add_arguments(call, data.get("arguments"), whole=True)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = data.get("response") or {}
            self._usage(response.get("usage"))
            reason = (response.get("incomplete_details") or {}).get("reason")
            self._result.finish_reason = reason or response.get("status")
            if response.get("error"):
                self._result.errors.append(response["error"])

    def _anthropic(self, kind: str, data: dict[str, Any]) -> None:
        # Anthropic Messages events.
        if kind == "message_start":
            self._usage((data.get("message") or {}).get("usage"))
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") in ("tool_use", "server_tool_use"):
                call = self._call(("block", data.get("index")))
                call.id, call.name = block.get("id"), block.get("name")
            else:
                self._text(0, block.get("text"))
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "input_json_delta":
                self._add_arguments(self._call(("block", data.get("index"))), delta.get("partial_json"))
            else:
                self._text(0, delta.get("text"))
                self._aside(("thinking", data.get("index")), delta.get("thinking"))
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            self._result.finish_reason = reason or self._result.finish_reason
            self._usage(data.get("usage"))


def _by_index(item: tuple[Any, list[str]]) -> tuple[int, Any]:
    """Choice indexes in order; a hostile file's index of another type ("0", 1.5, null) sorts after."""
    index = item[0]
    return (0, index) if isinstance(index, int) else (1, repr(index))


def transcript_of(events: Iterable[Event]) -> Transcript:
    """The assembled transcript of a stream's stored events."""
    assembler = Assembler()
    for event in events:
        if not event.raw:
            assembler.add(event.parsed())
    return assembler.result
