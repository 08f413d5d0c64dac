"""What a body says once the pieces a model streams are joined, where it is not stored as a stream's
events: a JSON array of chunks (Gemini's ``streamGenerateContent`` without ``alt=sse`` answers one,
as ``application/json``), and an SSE or NDJSON stream kept as text or as bytes (a quoted or another
charset, a content-type that names no stream: an SDK asked for a stream parses it all the same).

A credential the model writes over several chunks is whole only there, so the secret check (and the
prefilter that decides whether it runs) reads what `said_in_array` and `said_in_stream` return, as it
reads a stored stream's transcript. For any other body each is a type test, a look at a text's first
characters or at the keys of an array's first objects (an array of records is no stream): ordinary
traffic pays nothing.
"""

from __future__ import annotations

from typing import Any

from httpx_cassette.core.events import to_stored
from httpx_cassette.core.ndjson import NDJSON_TYPES
from httpx_cassette.core.sse import SSEParser
from httpx_cassette.core.transcript import Assembler
from httpx_cassette.model.body import media_type
from httpx_cassette.model.served import header_value

__all__ = ["SSE_TYPE", "said_in_array", "said_in_body", "said_in_stream"]

SSE_TYPE = "text/event-stream"
# What SSE text starts with (blank lines aside): a field, or a comment (": ping").
_SSE_STARTS = ("data:", "event:", "id:", "retry:", ":")


# The names a stream's chunk is told by (`Assembler.add`): chat and completion chunks, Gemini's and
# Vertex's candidates, events named by a type (Responses, Anthropic), ollama's lines, Cohere's deltas,
# Bedrock Converse's blocks. Every chunk of a stream has the shape of the API that sent it, so an array
# whose first objects have none of them is records (a list of issues, of files), not chunks: it is not
# assembled, which would cost as much as its walk again.
_CHUNK_KEYS = frozenset(
    {"choices", "candidates", "type", "done", "delta", "contentBlockIndex", "contentBlockDelta"}
)


def said_in_array(body: Any) -> list[str]:
    """What a JSON array body of objects says when they are a stream's chunks (Gemini's
    ``streamGenerateContent`` array), read as its events (`Assembler`): the text and arguments a model
    sent over many chunks, whole. [] for any other body, and for an array of records (`_CHUNK_KEYS`)."""
    if type(body) is not list or not any(type(i) is dict and not _CHUNK_KEYS.isdisjoint(i) for i in body[:8]):
        return []
    assembler = Assembler()
    for item in body:
        if type(item) is dict:
            assembler.add(item)
    return assembler.result.said()


def said_in_stream(text: str, media: str = "") -> list[str]:
    """What ``text``, a body of media type ``media``, says when it is an SSE or NDJSON stream (by its
    media type, or by how it starts: a side file, a body of another or no content-type), its events
    parsed as recording parses them and assembled; [] for any other text."""
    head = text[:64].lstrip("\r\n")
    if media == SSE_TYPE or head.startswith(_SSE_STARTS):
        parser = SSEParser()
        assembler = Assembler()
        for event in [*parser.feed(text.encode("utf-8", "replace")), *parser.flush()]:
            assembler.add(to_stored(event).data)  # JSON, or text: text events are pieces too
        return assembler.result.said()
    if media in NDJSON_TYPES or (head[:1] == "{" and "\n{" in text):
        assembler = Assembler()
        assembler.add(text)  # split into lines where httpx's line reader splits (`Assembler.add`)
        return assembler.result.said()
    return []


def said_in_body(body: Any, text: Any, headers: Any, streaming: bool = False) -> list[str]:
    """What a stored response says when its body is a stream not stored as events: a JSON array
    ``body`` of objects, or a ``text`` that is SSE or NDJSON (by its content-type in ``headers``, or by
    how it starts); [] for any other response (a stream's events are assembled where they are read)."""
    if type(body) is list and not streaming:
        return said_in_array(body)
    if type(text) is str and text:
        ctype = header_value(headers, "content-type") if isinstance(headers, dict) else None
        return said_in_stream(text, media_type(ctype))
    return []
