"""Looking inside cassettes: which files a directory holds, one listing row per file, and what a
recorded stream said (its assembled transcript) and how it was paced (its timing).

Pure functions over the stored format, shared by the CLI's ``ls``, ``show``, ``verify`` and ``diff``.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.model.cassette import CassetteFile, Event, Response
from httpx_cassette.storage.codec import decode_file
from httpx_cassette.storage.files import open_inside

__all__ = [
    "Row",
    "Timing",
    "ToolCall",
    "Transcript",
    "load",
    "row_of",
    "sparkline",
    "timing_of",
    "transcript_of",
]


def load(file: Path) -> CassetteFile:
    """Parse one cassette file, ours or a llama-stack recording; `CassetteFormatError` names the file
    and what is wrong (`NotAnExchangeError` for a file that records no HTTP exchange)."""
    try:
        data = open_inside(file.parent, file.name)  # no link, FIFO or device is followed or read
    except FileNotFoundError:
        raise CassetteFormatError(str(file), "it does not exist (any more)") from None
    return decode_file(data, str(file))


# -- ls ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One interaction as ``ls`` lists it (one file: one request and its ordered responses)."""

    file: str
    method: str
    path: str
    statuses: list[int]
    streaming: bool
    events: list[int]  # event count of each streamed response
    size: int
    recorded_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "method": self.method,
            "path": self.path,
            "statuses": self.statuses,
            "streaming": self.streaming,
            "events": self.events,
            "responses": len(self.statuses),
            "size": self.size,
            "recorded_at": self.recorded_at,
        }


def row_of(file: Path, cassette: CassetteFile, root: Path) -> Row:
    """The listing row of ``file`` (shown relative to ``root``)."""
    name = file.name if file == root else file.relative_to(root).as_posix()
    responses = cassette.responses
    return Row(
        file=name,
        method=cassette.request.method,
        path=urlsplit(cassette.request.url).path or "/",
        statuses=[r.status for r in responses],
        streaming=any(r.is_streaming for r in responses),
        events=[len(r.events()) for r in responses if r.is_streaming],
        size=file.stat().st_size,
        recorded_at=cassette.meta.recorded_at,
    )


# -- show: the transcript of a stream ----------------------------------------------------------


@dataclass
class ToolCall:
    """A tool (function) call assembled from its streamed pieces."""

    id: str | None = None
    name: str | None = None
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
    finish_reason: str | None = None
    errors: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text of the first choice."""
        return self.texts[min(self.texts)] if self.texts else ""


class _Assembler:
    def __init__(self) -> None:
        self.result = Transcript()
        self._calls: dict[Any, ToolCall] = {}

    def _call(self, key: Any) -> ToolCall:
        found = self._calls.get(key)
        if found is None:
            found = self._calls[key] = ToolCall()
            self.result.tool_calls.append(found)
        return found

    def _text(self, index: int, piece: Any) -> None:
        if isinstance(piece, str) and piece:
            self.result.texts[index] = self.result.texts.get(index, "") + piece

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict) and usage:
            self.result.usage = {**(self.result.usage or {}), **usage}

    def add(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if data.get("error"):
            self.result.errors.append(data["error"])
        if isinstance(data.get("choices"), list):
            self._chat(data)
        if isinstance(data.get("done"), bool) and ("message" in data or "response" in data):
            self._ollama(data)
        kind = data.get("type")
        if isinstance(kind, str):
            if kind.startswith("response."):
                self._responses(kind, data)
            else:
                self._anthropic(kind, data)

    def _chat(self, data: dict[str, Any]) -> None:
        # OpenAI chat completion chunks (and legacy completions, whose choices carry `text`).
        self._usage(data.get("usage"))
        for choice in data["choices"]:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index") or 0
            delta = choice.get("delta") or {}
            self._text(index, delta.get("content") if isinstance(delta, dict) else None)
            self._text(index, choice.get("text"))
            for piece in (delta.get("tool_calls") if isinstance(delta, dict) else None) or []:
                call = self._call((index, piece.get("index", 0)))
                call.id = piece.get("id") or call.id
                function = piece.get("function") or {}
                call.name = function.get("name") or call.name
                call.arguments += function.get("arguments") or ""
            if choice.get("finish_reason"):
                self.result.finish_reason = choice["finish_reason"]

    def _ollama(self, data: dict[str, Any]) -> None:
        # ollama /api/chat (`message`) and /api/generate (`response`) lines; tool calls come whole.
        message = data.get("message")
        if isinstance(message, dict):
            self._text(0, message.get("content"))
            for piece in message.get("tool_calls") or []:
                function = (piece.get("function") if isinstance(piece, dict) else None) or {}
                call = self._call(("ollama", len(self._calls)))
                call.name = function.get("name")
                call.arguments = msgspec.json.encode(function.get("arguments") or {}).decode("utf-8")
        self._text(0, data.get("response"))
        if data["done"]:
            self.result.finish_reason = data.get("done_reason") or self.result.finish_reason
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
                call.arguments = item.get("arguments") or ""
        elif kind == "response.function_call_arguments.delta":
            self._call(("item", data.get("output_index"))).arguments += data.get("delta") or ""
        elif kind == "response.function_call_arguments.done":
            self._call(("item", data.get("output_index"))).arguments = data.get("arguments") or ""
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = data.get("response") or {}
            self._usage(response.get("usage"))
            reason = (response.get("incomplete_details") or {}).get("reason")
            self.result.finish_reason = reason or response.get("status")
            if response.get("error"):
                self.result.errors.append(response["error"])

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
                self._call(("block", data.get("index"))).arguments += delta.get("partial_json") or ""
            else:
                self._text(0, delta.get("text"))
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            self.result.finish_reason = reason or self.result.finish_reason
            self._usage(data.get("usage"))


def transcript_of(events: Iterable[Event]) -> Transcript:
    """The assembled transcript of a stream's stored events."""
    assembler = _Assembler()
    for event in events:
        if not event.raw:
            assembler.add(event.data)
    return assembler.result


# -- show: timing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """How a recorded response was paced, in milliseconds from the moment the request was sent."""

    headers_ms: float | None  # response headers arrived
    first_event_ms: float | None
    total_ms: float | None  # the last event (or chunk) arrived
    gaps_ms: list[float]  # between consecutive events

    @property
    def empty(self) -> bool:
        return self.headers_ms is None and self.first_event_ms is None

    def longest_gaps(self, count: int = 3) -> list[tuple[int, float]]:
        """``(event index, gap before it)`` of the longest gaps, longest first."""
        ranked = sorted(enumerate(self.gaps_ms, start=1), key=lambda item: -item[1])
        return ranked[:count]

    @property
    def median_gap_ms(self) -> float | None:
        return statistics.median(self.gaps_ms) if self.gaps_ms else None


def timing_of(response: Response) -> Timing:
    """The timing of a recorded response (empty when it was not recorded live)."""
    headers = response.elapsed_ms if isinstance(response.elapsed_ms, float) else None
    offsets = list(response.offsets_ms) if response.offsets_ms is not UNSET else []
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(offsets)]
    return Timing(headers, offsets[0] if offsets else None, offsets[-1] if offsets else headers, gaps)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 60) -> str:
    """A one-line bar chart of ``values`` (each column the largest of its bucket), at most ``width`` wide."""
    if not values:
        return ""
    size = -(-len(values) // width)  # ceil: values per column
    columns = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(columns) or 1.0
    return "".join(_BARS[min(len(_BARS) - 1, int(v / top * (len(_BARS) - 1) + 0.5))] for v in columns)
