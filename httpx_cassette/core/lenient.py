"""JSON as clients read it when it is not JSON to msgspec: Python's json module (httpx's ``.json()``, every
SDK) takes ``NaN``, ``Infinity`` and ``-Infinity`` (what ``json.dumps`` writes by default) and a lone
surrogate escape (``"\\ud800"``, what it writes for a string decoded with ``surrogateescape``), where
msgspec refuses the whole text. (A number past a float's range, ``1e400``, is another, but no encoder
writes one.) Such a body is stored as text, byte for byte, but a client parses it into a structure:
the secret check must judge that structure, by the rules of JSON, and redaction rewrite it.

Only text msgspec refused is read again, and only when it holds one of those (substring tests, in C):
ordinary traffic pays nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["lenient_json", "may_be_lenient", "python_dumps", "python_json", "strict_text", "written_again"]

_MARKS = ("NaN", "Infinity", "\\ud", "\\uD")  # the constants; a surrogate escape (which may be lone)


def may_be_lenient(text: str) -> bool:
    """Whether ``text`` holds what only Python's json module reads: a cheap test before parsing it again."""
    return any(mark in text for mark in _MARKS)


def _none(_: str) -> None:
    return None


def lenient_json(stripped: str, *, keep: bool = False) -> Any | None:
    """``stripped`` (text msgspec refused, whitespace and byte-order mark removed) as Python's json module
    reads it, when it holds what only that module takes; None otherwise. The constants read as None
    (``keep``: as the floats Python reads), so the structure is JSON again."""
    if not may_be_lenient(stripped):
        return None
    try:
        return json.loads(stripped) if keep else json.loads(stripped, parse_constant=_none)
    except (ValueError, RecursionError):  # no JSON even so (JSONDecodeError is a ValueError), or too deep
        return None


def python_json(text: str) -> Any | None:
    """``text`` as Python's json module reads it (constants as floats) when msgspec refuses it and that
    module does not; None when msgspec reads it, or neither does. A byte-order mark is no part of it."""
    stripped = text.strip().removeprefix("\ufeff").lstrip()
    if not may_be_lenient(stripped):
        return None
    try:
        msgspec.json.decode(stripped)
    except (msgspec.DecodeError, RecursionError):
        return lenient_json(stripped, keep=True)
    return None


def python_dumps(value: Any) -> str:
    """``value`` written compact as Python's json module writes it (``NaN`` kept: a client reads back the
    value it read before); non-ASCII as it is, unless a lone surrogate needs its escape."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def strict_text(value: Any) -> str:
    """A structure `lenient_json` read, written as JSON msgspec reads (a lone surrogate as ``?``)."""
    try:
        return msgspec.json.encode(value).decode()  # a number past a float's range as null
    except UnicodeEncodeError:  # a lone surrogate
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace").decode("utf-8")


def written_again(text: str, redacted: Any, redact: Callable[[Any], Any]) -> str:
    """JSON text some of whose fields were redacted (``redacted``: its `embedded_json` so changed), written
    again compact: by msgspec; or, when only Python's json module reads ``text`` (``NaN``), as that module
    writes it, ``redact`` applied to what it reads (its constants kept: a client reads them back)."""
    kept = python_json(text)
    return msgspec.json.encode(redacted).decode() if kept is None else python_dumps(redact(kept))
