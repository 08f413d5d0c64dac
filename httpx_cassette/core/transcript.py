"""What a stream said, assembled from its events: the text and tool-call arguments that LLM APIs send
piece by piece (OpenAI chat and Responses and the APIs shaped as them, Anthropic messages, ollama's
NDJSON chat and generate lines, Gemini and Vertex AI, Cohere, Bedrock Converse), and whatever else they
send that way (reasoning, refusals, thinking, audio transcripts...), found by the shape of the events
rather than by their names; an event of no shape it knows has every string read by its path.
``httpx-cassette show`` and ``diff`` print it; the secret check reads it too, since a credential the
model streams over many events (``"sk"``, ``"-proj"``, ``"-a1B2"``...) is whole only here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from httpx_cassette.core.pieces import Pieces, ToolCall, Transcript, hashable_indexes
from httpx_cassette.model.cassette import Event

__all__ = ["Assembler", "ToolCall", "Transcript", "transcript_of"]


class Assembler(Pieces):
    """Assembles a stream's transcript one event's data at a time (`transcript_of` for stored events).

    What a stream sends piece by piece is found by its shape, not by a list of event names, so the next
    kind of event is assembled too: every string under a chat chunk's ``delta`` (at any depth, by its
    path: ``content``, ``reasoning_content``, ``tool_calls[i].function.arguments``,
    ``function_call.arguments``, ``audio.transcript``...), every Responses API event's ``delta`` (by
    its type and its item and indexes), every string of an Anthropic ``content_block_delta`` (text,
    ``partial_json``, thinking...), every string of an ollama line's ``message`` (by its key) and
    its ``response`` and ``thinking``, every string of a Gemini candidate's ``parts`` (text, thoughts,
    a function call's ``partialArgs`` by their JSON path), of a Cohere event's ``delta.message`` and
    of a Bedrock Converse ``contentBlockIndex`` event's ``delta`` (``text``, ``toolUse.input``...).
    An event of none of these shapes has every string read by its path (`Pieces._by_path`), and the
    events that are text (LangServe's JSON strings, plain ``data:`` text) are pieces of one text.
    """

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
            text, data = data, _object_in(data)
            if data is None:
                lines = text.splitlines()  # httpx's iter_lines splits at \x1e, U+2028...: a client reads
                if len(lines) > 1:  # one stored line as several
                    for line in lines:
                        self.add(line)
                elif text and text != "[DONE]":  # a text event (LangServe's `data: "Hel"`, `data: lo`)
                    self._asides_in(_TEXT, text, self._other)
                return
        try:  # not contextlib.suppress: a context manager per event costs more than the rest of it
            if data.get("error"):
                self._result.errors.append(data["error"])
            known, choices = False, data.get("choices")
            if type(choices) is list:
                self._chat(data, choices)
                known = True
            if (
                "done" in data
                and isinstance(data["done"], bool)
                and ("message" in data or "response" in data or "thinking" in data)
            ):
                self._ollama(data)
                known = True
            kind = data.get("type")
            if isinstance(kind, str):
                if kind.startswith("response."):
                    self._responses(kind, data)
                    known = True
                else:
                    known = self._anthropic(kind, data) or self._cohere(data) or known
            if not known:
                self._untyped(data)
        except TypeError:  # an index no dict can key (`"index": [0]`) must not hide the event: again, as text
            if (hashable := hashable_indexes(data)) is not data:
                self.add(hashable)
        except (AttributeError, ValueError, RecursionError, msgspec.MsgspecError):
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
                self._text(0, delta)  # and each output's text whole: two may interleave
                self._aside(("text", data.get("output_index"), data.get("content_index")), delta)
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

    def _untyped(self, data: dict[str, Any]) -> None:
        """An event of no shape the others know: Gemini's, Bedrock Converse's, or any other."""
        candidates = data.get("candidates")
        if type(candidates) is list:
            self._gemini(data, candidates)
            return
        block: Any = data  # Bedrock's payload, or the event that wraps it (`{"contentBlockDelta": {...}}`)
        if len(data) == 1:
            (block,) = data.values()
            if type(block) is not dict:
                block = data
        if "contentBlockIndex" in block:
            self._bedrock(block)
        elif "stopReason" in block:  # messageStop
            self._result.finish_reason = block["stopReason"] or self._result.finish_reason
        elif "usage" in block and "metrics" in block:  # metadata
            self._usage(block["usage"])
        else:
            self._by_path(data)

    def _anthropic(self, kind: str, data: dict[str, Any]) -> bool:
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
                self._aside(("block", data.get("index"), "text"), block.get("text"))
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "input_json_delta":
                self._add_arguments(self._call(("block", data.get("index"))), delta.get("partial_json"))
                return True
            self._text(0, delta.get("text"))
            for name, value in delta.items():  # each block's text whole too (blocks may interleave),
                if name != "type" and type(value) is str:  # thinking_delta's `thinking`, what comes next
                    self._aside(("block", data.get("index"), name), value)
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            self._result.finish_reason = reason or self._result.finish_reason
            self._usage(data.get("usage"))
        else:
            return False
        return True

    def _gemini(self, data: dict[str, Any], candidates: list[Any]) -> None:
        # Gemini and Vertex AI `streamGenerateContent` chunks: each candidate's parts, by its index.
        self._usage(data.get("usageMetadata"))
        for candidate in candidates:
            if type(candidate) is not dict:
                continue
            index = candidate.get("index") or 0
            content = candidate.get("content")
            parts = content.get("parts") if type(content) is dict else None
            for part in parts if type(parts) is list else ():
                if type(part) is not dict:
                    continue
                text = part.get("text")
                if len(part) == 1 and type(text) is str:  # the one piece most chunks carry: inline
                    if text:
                        pieces = self._texts.get(index)
                        if pieces is None:
                            pieces = self._texts[index] = []
                        pieces.append(text)
                    continue
                for name, value in part.items():
                    if name == "text" and type(value) is str:
                        if part.get("thought") is True:
                            self._aside((index, "thought"), value)
                        else:
                            self._text(index, value)
                    elif name == "functionCall" and type(value) is dict:
                        self._function_call(index, value)
                    else:  # code and its result, inline data, a thought signature, the next kind of part
                        self._asides_in((index, "parts", name), value)
            if candidate.get("finishReason"):
                self._result.finish_reason = candidate["finishReason"]

    def _function_call(self, index: Any, piece: dict[str, Any]) -> None:
        """A Gemini function call: whole (its ``args``), or streamed (Vertex AI's ``partialArgs``, each a
        piece of the string at its ``jsonPath``, read as an aside by that path)."""
        call = self._current.get(index)
        if call is None or piece.get("name"):
            call = self._current[index] = self._call(("gemini", len(self._calls)))
        call.id = piece.get("id") or call.id
        call.name = piece.get("name") or call.name
        if "args" in piece:
            self._add_arguments(call, msgspec.json.encode(piece["args"]).decode("utf-8"), whole=True)
        partial = piece.get("partialArgs")
        for arg in partial if type(partial) is list else ():
            if type(arg) is dict:
                where = arg.get("jsonPath")
                for name, value in arg.items():
                    if name != "jsonPath":
                        self._asides_in((index, "functionCall", where, name), value)

    def _cohere(self, data: dict[str, Any]) -> bool:
        # Cohere v2 chat events: what the message says under `delta.message`, a tool call's by the
        # event's index; `message-end` has the finish reason and usage.
        delta = data.get("delta")
        if type(delta) is not dict or ("message" not in delta and "finish_reason" not in delta):
            return False
        index = data.get("index")
        message = delta.get("message")
        if type(message) is dict:
            for name, value in message.items():
                if name == "content" and type(value) is dict:  # text, thinking
                    for step, item in value.items():
                        if step == "text" and type(item) is str:
                            self._text(0, item)
                        elif step != "type":
                            self._asides_in((index, name, step), item)
                elif name == "tool_calls" and type(value) is dict:
                    call = self._call(("cohere", index))
                    call.id = value.get("id") or call.id
                    function = value.get("function")
                    if type(function) is dict:
                        call.name = function.get("name") or call.name
                        self._add_arguments(call, function.get("arguments"))
                elif name != "role":  # a tool plan, citations...
                    self._asides_in((index, name), value)
        if delta.get("finish_reason"):
            self._result.finish_reason = delta["finish_reason"]
        self._usage(delta.get("usage"))
        return True

    def _bedrock(self, block: dict[str, Any]) -> None:
        # Bedrock ConverseStream `contentBlockStart` and `contentBlockDelta` (boto3's shape, or the bare
        # payload of the event-stream message): text, a tool's input, reasoning..., by the block.
        index = block["contentBlockIndex"]
        start = block.get("start")
        use = start.get("toolUse") if type(start) is dict else None
        if type(use) is dict:
            call = self._call(("bedrock", index))
            call.id, call.name = use.get("toolUseId"), use.get("name")
        delta = block.get("delta")
        for name, value in delta.items() if type(delta) is dict else ():
            if name == "text" and type(value) is str:
                self._text(0, value)
            elif name == "toolUse" and type(value) is dict and type(value.get("input")) is str:
                self._add_arguments(self._call(("bedrock", index)), value["input"])
            else:  # reasoningContent's text and signature, a citation...
                self._asides_in((index, name), value)


_decode = msgspec.json.Decoder().decode


_TEXT = (None, "text events")  # where the text of events that are text goes (`Pieces._by_path`)


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


def transcript_of(events: Iterable[Event]) -> Transcript:
    """The assembled transcript of a stream's stored events."""
    assembler = Assembler()
    for event in events:  # an event stored as text is read too: it may be JSON written with spaces
        assembler.add(event.parsed())
    return assembler.result
