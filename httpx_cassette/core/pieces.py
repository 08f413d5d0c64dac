"""A stream's transcript as it is assembled: the text, tool calls and asides its events send piece by
piece, and the ways to add a piece (`httpx_cassette.core.transcript.Assembler` finds them in events).

Pieces are kept as lists and joined once, in `Pieces.result`: a long stream is thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = ["Pieces", "ToolCall", "Transcript", "hashable_indexes"]


@dataclass
class ToolCall:
    """A tool (function) call assembled from its streamed pieces."""

    id: Any = None  # a str in what APIs send; a hostile file may hold any JSON value
    name: Any = None
    arguments: str = ""


@dataclass
class Transcript:
    """What a stream said, assembled from its events (OpenAI chat and Responses, Anthropic messages,
    ollama's NDJSON chat and generate lines, Gemini, Cohere and Bedrock Converse streams).

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
        return next(iter(self.texts.values()), "")  # `Pieces.result` orders them by index


class Pieces:
    """The transcript being assembled: texts by choice index, tool calls by a key their events share,
    asides by the path their pieces sit at, and the strings of events of no shape it knows, by path."""

    def __init__(self) -> None:
        self._result = Transcript()
        self._calls: dict[Any, ToolCall] = {}
        self._texts: dict[int, list[str]] = {}  # pieces, joined once at the end: a long stream is
        self._arguments: dict[int, list[str]] = {}  # thousands of them
        self._asides: dict[Any, list[str]] = {}
        self._other: dict[Any, list[str]] = {}  # `_by_path`
        self._current: dict[Any, ToolCall] = {}  # the call a stream continues (Gemini's, by candidate)

    @property
    def result(self) -> Transcript:
        """The transcript of the events added so far."""
        ordered = sorted(self._texts.items(), key=_by_index)
        self._result.texts = {index: "".join(pieces) for index, pieces in ordered}
        for call in self._result.tool_calls:
            call.arguments = "".join(self._arguments[id(call)])
        asides = ["".join(pieces) for pieces in self._asides.values()]
        for pieces in self._other.values():  # a value every event repeats (a model, a role) is said once
            first = pieces[0]
            asides.append(first if pieces.count(first) == len(pieces) else "".join(pieces))
        self._result.asides = asides
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

    def _asides_in(self, key: tuple[Any, ...], value: Any, into: dict[Any, list[str]] | None = None) -> None:
        """Every string at any depth in ``value``, each a piece of the aside its path names (``key`` and
        the steps to it; a list's object by its ``index`` when it has one, as tool calls have). Without
        recursion; a path keeps `_DEPTH` steps at most, so a hostile depth costs no more per string.
        ``into``: where the pieces go (`_by_path`), else the asides."""
        asides = self._asides if into is None else into
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

    def _by_path(self, data: dict[str, Any]) -> None:
        """An event of no shape the assembler knows: every string in it is a piece of what its path
        says over the events of its ``type`` (all of them, when they have none), as a chat chunk's
        ``delta`` is read: Hugging Face TGI's ``token.text``, Cohere v1's ``text``, watsonx's
        ``results[0].generated_text``, the AI SDK's ``text-delta`` events, the next API's."""
        kind = data.get("type")
        self._asides_in((None, kind) if type(kind) is str else (), data, self._other)

    def _text(self, index: int, piece: Any) -> None:
        if isinstance(piece, str) and piece:
            self.add_text(index, piece)

    def add_text(self, index: int, piece: str) -> None:
        """One piece of choice ``index``'s text (what a chat chunk carrying only text adds)."""
        if piece:
            pieces = self._texts.get(index)
            if pieces is None:
                pieces = self._texts[index] = []
            pieces.append(piece)

    def add_texts(self, index: int, pieces: list[str]) -> None:
        """`add_text` for each of ``pieces``, in one go (a run of chat chunks that carry only text)."""
        texts = self._texts.get(index)
        if texts is None:
            texts = self._texts[index] = []
        texts += filter(None, pieces)

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict) and usage:  # merged in place: a copy per event is quadratic
            if self._result.usage is None:
                self._result.usage = {}
            self._result.usage.update(usage)


_DEPTH = 8  # steps of a path that name an aside (`Pieces._asides_in`)


def _by_index(item: tuple[Any, list[str]]) -> tuple[int, Any]:
    """Choice indexes in order; a hostile file's index of another type ("0", 1.5, null) sorts after."""
    index = item[0]
    return (0, index) if isinstance(index, int) else (1, repr(index))


def hashable_indexes(data: Any) -> Any:
    """``data`` with every value under an ``index`` or ``*_index`` key (``contentBlockIndex``) that is
    no dictionary key (a list, an object) written as its JSON text; ``data`` itself when there is none."""
    changed = False

    def fixed(value: Any, name: str = "") -> Any:
        nonlocal changed
        if isinstance(value, (dict, list)) and name.lower().endswith("index"):
            changed = True
            return msgspec.json.encode(value).decode()
        if isinstance(value, dict):
            return {k: fixed(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [fixed(v) for v in value]
        return value

    result = fixed(data)
    return result if changed else data
