"""What a stream said, assembled from its events: the text and tool-call arguments that LLM APIs send
piece by piece (OpenAI chat and Responses, Anthropic messages, ollama's NDJSON chat and generate lines),
and whatever else they send that way (reasoning, refusals, thinking, audio transcripts...), found by the
shape of the events rather than by their names. An event stored as text (an NDJSON line written with
spaces) is read as the JSON it holds.

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
    asides: list[str] = field(default_factory=list)  # reasoning, refusals, thinking...: each whole

    def said(self) -> list[str]:
        """Every text and tool-call arguments the stream sent piece by piece, whole: where a credential
        split over many events reads as one (what the secret check reads)."""
        return [*self.texts.values(), *(call.arguments for call in self.tool_calls), *self.asides]

    @property
    def text(self) -> str:
        """The text of the first choice."""
        return next(iter(self.texts.values()), "")  # `Assembler.result` orders them by index


class Assembler:
    """Assembles a stream's transcript one event's data at a time (`transcript_of` for stored events).

    What a stream sends piece by piece is found by its shape, not by a list of event names, so the next
    kind of event is assembled too: every string under a chat chunk's ``delta`` (at any depth, by its
    path: ``content``, ``reasoning_content``, ``tool_calls[i].function.arguments``,
    ``function_call.arguments``, ``audio.transcript``...), every Responses API event's ``delta`` (by
    its type and its item and indexes), every string of an Anthropic ``content_block_delta`` (text,
    ``partial_json``, thinking...), and every string of an ollama line's ``message`` (by its key) and
    its ``response`` and ``thinking``.
    """

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

    def _asides_in(self, key: tuple[Any, ...], value: Any) -> None:
        """Every string at any depth in ``value``, each a piece of the aside its path names (``key`` and
        the steps to it; a list's object by its ``index`` when it has one, as tool calls have). Without
        recursion; a path keeps `_DEPTH` steps at most, so a hostile depth costs no more per string."""
        asides = self._asides
        stack = [(key, value)]
        while stack:
            path, value = stack.pop()
            kind = type(value)
            if kind is str:
                if value:
                    pieces = asides.get(path)
                    if pieces is None:
                        pieces = asides[path] = []
                    pieces.append(value)
                continue
            items: Any
            if kind is dict:
                items = value.items()
            elif kind is list:
                items = enumerate(value)
            else:
                continue
            deeper = len(path) < _DEPTH
            for step, item in items:
                if kind is list and type(item) is dict and type(item.get("index")) is int:
                    step = item["index"]
                stack.append(((*path, step) if deeper else path, item))

    def _text(self, index: int, piece: Any) -> None:
        if isinstance(piece, str) and piece:
            pieces = self._texts.get(index)
            if pieces is None:
                pieces = self._texts[index] = []
            pieces.append(piece)

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict) and usage:  # merged in place: a copy per event is quadratic
            if self._result.usage is None:
                self._result.usage = {}
            self._result.usage.update(usage)

    def add(self, data: Any) -> None:
        """One event's data (a JSON value), or the text of an event stored as text (``raw``: an NDJSON
        line written with spaces or CRLF, which holds JSON all the same). One of a shape no API sends (a
        list where an object goes, an unhashable index...) adds what it can: the transcript must not fail
        on a hostile file.

        Recording runs this on every event of a stream (the secret check reads the transcript), so the
        common events take few steps: a chat chunk's content, an event named by its ``type``.
        """
        if type(data) is not dict:
            if type(data) is not str:
                return
            data = _object_in(data)
            if data is None:
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
                and ("message" in data or "response" in data or "thinking" in data)
            ):
                self._ollama(data)
            kind = data.get("type")
            if isinstance(kind, str):
                if kind.startswith("response."):
                    self._responses(kind, data)
                else:
                    self._anthropic(kind, data)
        except (AttributeError, TypeError, ValueError, RecursionError, msgspec.MsgspecError):
            pass  # a hostile shape (or tool-call arguments msgspec cannot encode): what came before stays

    def _chat(self, data: dict[str, Any], choices: list[Any]) -> None:
        # OpenAI chat completion chunks (and legacy completions, whose choices carry `text`).
        if data.get("usage"):
            self._usage(data["usage"])
        for choice in choices:
            if type(choice) is not dict:
                continue
            index = choice.get("index") or 0
            delta = choice.get("delta")
            if type(delta) is dict:
                content = delta.get("content")
                if type(content) is str:
                    if content:  # the one piece most events carry: inline
                        pieces = self._texts.get(index)
                        if pieces is None:
                            pieces = self._texts[index] = []
                        pieces.append(content)
                    if len(delta) > 1:  # more than the content alone
                        self._delta(index, delta)
                elif delta:
                    self._delta(index, delta)
            elif delta is not None:
                self._asides_in((index, "delta"), delta)
            if "text" in choice:
                self._text(index, choice["text"])
            if choice.get("finish_reason"):
                self._result.finish_reason = choice["finish_reason"]

    def _delta(self, index: Any, delta: dict[str, Any]) -> None:
        """A chat chunk's delta beyond its text: every string in it, at any depth, by its path (tool
        calls by their index, their arguments assembled as the call's)."""
        for name, value in delta.items():
            if type(value) is str:
                if name != "content":
                    self._aside((index, name), value)
            elif name == "tool_calls" and type(value) is list:
                for piece in value:
                    if type(piece) is dict:
                        self._tool_call(index, piece)
                    else:
                        self._asides_in((index, name), piece)
            elif name == "function_call" and type(value) is dict:  # the legacy `functions` parameter
                self._tool_call(index, {"index": name, "function": value})
            elif value is not None:
                self._asides_in((index, name), value)

    def _tool_call(self, index: Any, piece: dict[str, Any]) -> None:
        """A piece of a chat tool call: its arguments are the call's, as its id and name (sent whole);
        every other string in it (a custom tool's ``input``...) is a piece of an aside, by its path."""
        number = piece.get("index", 0)
        call = self._call((index, number))
        function = piece.get("function")
        if len(piece) == 2 and type(function) is dict and len(function) == 1 and "index" in piece:
            arguments = function.get("arguments")  # the one piece most events of a call carry: inline
            if type(arguments) is str:
                if arguments:
                    self._arguments[id(call)].append(arguments)
                return
        call.id = piece.get("id") or call.id
        key = (index, "tool_calls", number)
        for name, value in piece.items():
            if name == "function" and type(value) is dict:
                call.name = value.get("name") or call.name
                for step, item in value.items():
                    if step == "arguments" and type(item) is str:
                        self._add_arguments(call, item)
                    elif step != "name":
                        self._asides_in((*key, name, step), item)
            elif name != "index" and name != "id":
                self._asides_in((*key, name), value)

    def _ollama(self, data: dict[str, Any]) -> None:
        # ollama /api/chat (`message`) and /api/generate (`response`, `thinking`) lines; tool calls come
        # whole. Every other string of the message (its thinking...) is a piece of an aside, by its key.
        message = data.get("message")
        if type(message) is dict:
            asides = self._asides
            for name, value in message.items():
                if type(value) is str:  # the content, the role, the thinking...: inline, every line has them
                    if name == "content":
                        self._text(0, value)
                    elif value:
                        pieces = asides.get(("message", name))
                        if pieces is None:
                            pieces = asides[("message", name)] = []
                        pieces.append(value)
                elif name == "tool_calls" and type(value) is list:
                    self._ollama_calls(value)
                elif value is not None:
                    self._asides_in(("message", name), value)
        elif message is not None:
            self._asides_in(("message",), message)
        if "response" in data:
            self._text(0, data["response"])
        if "thinking" in data:
            self._aside(("thinking",), data["thinking"])
        if data["done"]:
            self._result.finish_reason = data.get("done_reason") or self._result.finish_reason
            counts = ("prompt_eval_count", "eval_count")
            self._usage({name: data[name] for name in counts if name in data})

    def _ollama_calls(self, calls: list[Any]) -> None:
        for piece in calls:
            function = (piece.get("function") if isinstance(piece, dict) else None) or {}
            call = self._call(("ollama", len(self._calls)))
            call.name = function.get("name")
            arguments = msgspec.json.encode(function.get("arguments") or {}).decode("utf-8")
            self._add_arguments(call, arguments, whole=True)

    def _responses(self, kind: str, data: dict[str, Any]) -> None:
        # OpenAI Responses API events.
        if "delta" in data:
            delta = data["delta"]
            if kind == "response.output_text.delta":
                self._text(0, delta)
            elif kind == "response.function_call_arguments.delta":
                self._add_arguments(self._call(("item", data.get("output_index"))), delta)
            else:  # reasoning, a refusal, a custom tool's input, code, MCP arguments, a transcript...
                where = [(name, value) for name, value in data.items() if name.endswith("_index")]
                self._asides_in((kind, data.get("item_id"), *where), delta)
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                call = self._call(("item", data.get("output_index")))
                call.id, call.name = item.get("call_id"), item.get("name")
                self._add_arguments(call, item.get("arguments"), whole=True)
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
                return
            self._text(0, delta.get("text"))
            for name, value in delta.items():  # thinking_delta's `thinking`, and whatever comes next
                if name != "type" and name != "text" and type(value) is str:
                    self._aside(("block", data.get("index"), name), value)
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            self._result.finish_reason = reason or self._result.finish_reason
            self._usage(data.get("usage"))


_DEPTH = 8  # steps of a path that name an aside (`Assembler._asides_in`)
_decode = msgspec.json.Decoder().decode


def _object_in(text: str) -> dict[str, Any] | None:
    """The JSON object an event stored as text holds (whitespace around it allowed), or None: one decode,
    tried only when the text starts as an object does."""
    head = text[:1]
    if head != "{" and not (head.isspace() and text.lstrip()[:1] == "{"):
        return None
    try:
        data = _decode(text)
    except (ValueError, RecursionError):  # not JSON, nested deeper than msgspec decodes, a surrogate
        return None
    return data if type(data) is dict else None


def _by_index(item: tuple[Any, list[str]]) -> tuple[int, Any]:
    """Choice indexes in order; a hostile file's index of another type ("0", 1.5, null) sorts after."""
    index = item[0]
    return (0, index) if isinstance(index, int) else (1, repr(index))


def transcript_of(events: Iterable[Event]) -> Transcript:
    """The assembled transcript of a stream's stored events."""
    assembler = Assembler()
    for event in events:  # an event stored as text is read too: it may be JSON written with spaces
        assembler.add(event.parsed())
    return assembler.result
