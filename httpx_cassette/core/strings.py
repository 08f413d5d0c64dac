"""The distinct strings and dictionary keys of JSON-like data: the one walk that redaction and the secret
scanner share.

A recorded stream repeats most of its strings (ids, the model, field names) in every event, so its
distinct strings are a small fraction of its text: searching those is what lets every recording be
checked for credentials at C speed. The walk is the cost, so a recording walks its events once: while
their data is parsed (`Walker`), or afterwards (`of_events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Any, NamedTuple

import msgspec

from httpx_cassette.core.embedded import embedded_json, maybe_json
from httpx_cassette.core.transcript import transcript_of
from httpx_cassette.model.cassette import Event

__all__ = ["Strings", "Walker", "distinct", "of_events"]


class Strings(NamedTuple):
    """Every distinct string (dictionary keys included) and every distinct dictionary key; ``pieces``:
    strings of ``found`` another of them holds whole (a stream's text pieces, in its transcript), which a
    search for a substring can leave out (`Walker.said`); ``held``: each object with a ``status`` and a
    text or list body (a response echoed or logged inside another), as ``(body, text, headers,
    streaming)``: the scanner reads the stream such a body may be, assembled."""

    found: set[Any]
    keys: set[Any]
    pieces: Set[str] = frozenset()
    held: tuple[tuple[Any, Any, Any, bool], ...] = ()


_CONTAINERS = (dict, list, tuple)


def _walk(data: Any, found: set[Any], keys: set[Any], held: list[tuple[Any, Any, Any, bool]]) -> None:
    """Add the strings of ``data`` to ``found``, its keys to ``keys`` and its objects with a ``status``
    and a body to ``held`` (`Strings.held`), without recursion (any depth is fine). Keys are kept as they
    are (`scan` str()s them); a str subclass counts as a string; data held as JSON text (`msgspec.Raw`)
    is decoded and walked."""
    add, update_keys = found.add, keys.update
    stack = [data]
    push, pop = stack.append, stack.pop
    while stack:
        value = pop()
        kind = type(value)
        items: Any
        if kind is dict or (kind is not list and isinstance(value, dict)):
            update_keys(value)
            if "status" in value:
                _hold(value, held)
            items = value.values()
        elif kind is list or isinstance(value, _CONTAINERS):
            items = value
        elif isinstance(value, msgspec.Raw):
            push(msgspec.json.decode(value))
            continue
        else:
            if isinstance(value, str):
                add(value)
            continue
        # The hot loop of every recording's secret check: exact type tests, no isinstance chain per item;
        # anything unusual (a subclass, a tuple, JSON text) is pushed and decided above.
        for item in items:
            kind = type(item)
            if kind is str:
                add(item)
            elif kind is not int and kind is not float and kind is not bool and item is not None:
                push(item)


def _hold(value: dict[Any, Any], held: list[tuple[Any, Any, Any, bool]]) -> None:
    """Keep an object with a ``status`` when it has what the scanner reads as a stream (`Strings.held`)."""
    text, body = value.get("text"), value.get("body")
    if (type(text) is str and text) or type(body) is list:
        held.append((body, text, value.get("headers"), value.get("is_streaming") is True))


def distinct(data: Any) -> Strings:
    """The distinct strings and keys of ``data``."""
    walker = Walker()
    walker.add(data)
    return walker.strings()


class Walker:
    """`distinct` over many values, one at a time: a recording walks each event's data while it holds
    it, then lets it go."""

    __slots__ = ("_said", "found", "held", "keys", "pieces")

    def __init__(self) -> None:
        self.found: set[Any] = set()
        self.keys: set[Any] = set()
        self.pieces: set[str] = set()  # pieces of a stream's text: strings like the others, and `said`
        self.held: list[tuple[Any, Any, Any, bool]] = []
        self._said = False

    def add(self, data: Any) -> None:
        _walk(data, self.found, self.keys, self.held)

    def said(self, texts: Iterable[str]) -> None:
        """What the stream says assembled (its texts, whole), in which each of `pieces` is held whole."""
        self.found.update(texts)
        self._said = True

    def strings(self) -> Strings:
        found = self.found | self.pieces
        joined = "".join(self.pieces)  # JSON starts with a bracket: " word" by " word", no piece does
        # JSON written as a key is looked inside too
        shaped = (found if "{" in joined or "[" in joined else self.found) | self.keys
        _look_inside(found, self.keys, self.held, shaped)
        # A piece found otherwise too (the transcript of a stream of one piece) is no piece: what holds
        # the pieces is never left out.
        pieces = self.pieces - self.found if self._said else frozenset()
        return Strings(found | self.keys, self.keys, pieces, tuple(self.held))


def _look_inside(
    found: set[Any], keys: set[Any], held: list[tuple[Any, Any, Any, bool]], shaped: set[Any] | None = None
) -> None:
    """Add the strings and keys of JSON written inside the strings in ``found`` (a tool call's arguments,
    a JSON body sent as text), at any depth: a secret-named field in there is one too. Only distinct
    strings are looked at, so a long stream costs a few hundred first-character tests. ``shaped``: the
    strings of ``found`` that may be JSON, when known to be fewer."""
    todo = _json_shaped(found if shaped is None else shaped)
    while todo:
        inner = embedded_json(todo.pop())
        if inner is None:
            continue
        walker = Walker()
        _walk(inner, walker.found, walker.keys, held)
        keys |= walker.keys
        todo += _json_shaped(walker.found - found)
        found |= walker.found


def _json_shaped(found: set[Any]) -> list[str]:
    # "{" or "[" in it first, in C: most strings of a stream (its text, " word" by " word") have neither
    return [text for text in found if type(text) is str and ("{" in text or "[" in text) and maybe_json(text)]


def of_events(events: list[Event]) -> Strings:
    """`distinct` over a stream's events: their data, their event names, SDK types and ids, and the text
    and tool-call arguments they send piece by piece, assembled (`httpx_cassette.core.transcript`)."""
    walker = Walker()
    walker.add([event.data for event in events])
    walker.found.update(text for event in events for text in (event.event, event.type, event.id) if text)
    walker.found.update(transcript_of(events).said())
    return walker.strings()
