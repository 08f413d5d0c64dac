"""Chat chunks that repeat the one before but for their text: most of a recorded chat stream, taken
without decoding, walking and re-encoding each one.

An OpenAI chat completion chunk (and that of every API shaped as it) that carries one piece of text
is the chunk before it with another piece. When an event's bytes are a `Template`'s bytes before and
after its text, and what lies between is one JSON string written as re-encoding writes it, the event
*is* the template with that text: JSON strings delimit themselves, so the same bytes around another
string parse to the same keys, the same other values and the same SDK type, and its bytes are what
re-encoding its data would write. Its one new string is its text, and the transcript gets one more
piece of the same choice. Anything else (another field changed, an escape written otherwise, a
finish reason, usage, a tool call) does not match and takes the full path.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import msgspec

__all__ = ["Template", "template_of"]

_decode_str = msgspec.json.Decoder(str).decode
_decode_strs = msgspec.json.Decoder(list[str]).decode
_encode = msgspec.json.Encoder().encode
# What the text is set to while the chunk is encoded around it: a string no JSON text holds as it is
# written here (a NUL is written as an escape), found exactly once or the chunk makes no template.
_MARK = "\x00"
_MARK_JSON = _encode(_MARK)


class Template:
    """The bytes of a chat chunk before and after its text, its SDK type and its choice's index."""

    __slots__ = ("_after", "_before", "_between", "_first", "_last", "head", "index", "kind", "tail")

    def __init__(self, head: bytes, tail: bytes, kind: str | None, index: int) -> None:
        self.head, self.tail, self.kind, self.index = head, tail, kind, index
        self._before, self._after = len(head), len(tail)
        # The SSE around events: before the first, after the last, where one meets the next
        self._first, self._last = b"data: " + head, tail + b"\n\n"
        self._between = self._last + b"data: "

    def text_of(self, value: bytes) -> str | None:
        """The text of the event whose data is ``value`` when it is this template with that text;
        None when it is anything else."""
        if not (value.startswith(self.head) and value.endswith(self.tail)):
            return None
        return _text(value[self._before : len(value) - self._after])  # b"" if head and tail overlap

    def run_in(self, text: bytes) -> tuple[list[bytes], list[str]]:
        """The data and texts of the events ``text`` (SSE, each event a ``data:`` line) starts with that
        are this template with a text (`text_of`), in bulk: no call per event while they are.

        Split where one event's tail meets the next one's ``data:``, each part must start with the
        template's head; what follows the heads is taken as one JSON array of strings, a line ending
        between each two (so no string runs on from one event into the next: ``"a`` and ``b","c"``
        are no two strings), and re-encoding that must give back their bytes: then each is one string
        written as `text_of` takes it. When they are not all that, the run ends at the first that is
        not, found event by event."""
        if not text.startswith(self._first):
            return [], []
        head, tail, last = self.head, self.tail, self._last
        parts = text[6:].split(self._between)  # after b"data: "
        if parts[-1].endswith(last):  # a whole event ends the text
            parts[-1] = parts[-1][: len(parts[-1]) - len(last)]
        else:
            parts.pop()  # what follows the last tail is another event, or not a whole one yet
        fits = list(map(bytes.startswith, parts, repeat(head)))
        if not all(fits):
            del parts[fits.index(False) :]
        before = self._before
        middles = [part[before:] for part in parts]
        try:
            texts = _decode_strs(b"[" + b",\n".join(middles) + b"]")
            whole = len(texts) == len(middles) and _encode(texts) == b"[" + b",".join(middles) + b"]"
        except msgspec.DecodeError:
            whole = False
        if not whole:  # the run ends at the first that is not one string written as re-encoding writes it
            texts = []
            for middle in middles:
                if (piece := _text(middle)) is None:
                    break
                texts.append(piece)
            del parts[len(texts) :]
        return [part + tail for part in parts], texts


def _text(middle: bytes) -> str | None:
    """The text ``middle`` is when it is one JSON string written as re-encoding writes it, else None."""
    try:
        text = _decode_str(middle)  # one JSON string, maybe with white space around it
    except msgspec.DecodeError:
        return None
    # Written as re-encoding writes it, with nothing around it. If it takes two bytes more than it has
    # characters, it is: a quote each side, and every character one byte (ASCII) and no escape, since
    # an escape, a non-ASCII character or a space around it takes more. Re-encoding escapes nothing the
    # decoder takes raw (a raw quote, backslash or control character it refuses).
    if len(middle) != len(text) + 2 and _encode(text) != middle:
        return None
    return text


def template_of(data: Any, encoded: bytes, kind: str | None) -> Template | None:
    """The template a decoded event makes: a chat chunk whose one choice's delta is its text alone,
    with no error, usage, finish reason or other field the transcript reads; ``encoded``: its compact
    JSON, which must be the bytes it came as (else no later event's bytes can match it)."""
    if type(data) is not dict or data.get("error") or data.get("usage") or "done" in data:
        return None
    choices = data.get("choices")
    if type(choices) is not list or len(choices) != 1 or isinstance(data.get("type"), str):
        return None
    choice = choices[0]
    if type(choice) is not dict or "text" in choice or choice.get("finish_reason"):
        return None
    index, delta = choice.get("index") or 0, choice.get("delta")
    if type(index) is not int or type(delta) is not dict or len(delta) != 1:
        return None
    text = delta.get("content")
    if type(text) is not str:
        return None
    delta["content"] = _MARK  # put back below: the caller still holds the data
    try:
        marked = _encode(data)
    finally:
        delta["content"] = text
    at = marked.find(_MARK_JSON)
    if at < 0 or marked.find(_MARK_JSON, at + 1) >= 0:
        return None
    head, tail = marked[:at], marked[at + len(_MARK_JSON) :]
    if head + _encode(text) + tail != encoded:
        return None
    return Template(head, tail, kind, index)
