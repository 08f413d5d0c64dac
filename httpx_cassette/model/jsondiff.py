"""Comparing two JSON values path by path, and showing values on one line: shared by the miss report,
the secret scanner and the CLI's diff, so every tool names a place in a cassette the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

__all__ = ["MISSING", "around_difference", "as_text", "show_value", "step", "walk"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value on the side of a `Change` where the path does not exist."""


def step(name: str) -> str:
    return f".{name}" if _NAME.match(name) else f"[{msgspec.json.encode(name).decode()}]"


def walk(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for name in [*old, *(k for k in new if k not in old)]:
            yield from walk(old.get(name, MISSING), new.get(name, MISSING), path + step(str(name)))
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else MISSING
            b = new[i] if i < len(new) else MISSING
            yield from walk(a, b, f"{path}[{i}]")
    elif old != new or type(old) is not type(new):
        yield path.lstrip("."), old, new


def _compact(value: Any) -> str:
    """``value`` as compact JSON; `repr` for what JSON cannot hold (a value built in Python, not read)."""
    try:
        return msgspec.json.encode(value).decode("utf-8")
    except RecursionError:  # repr would recurse as deep
        return f"<{type(value).__name__} nested too deeply to show>"
    except (TypeError, ValueError, OverflowError):
        return repr(value)


def as_text(value: Any) -> str:
    """A value as text: a string as it is, anything else (what a hostile file holds where a string
    goes) as its compact JSON."""
    return value if isinstance(value, str) else _compact(value)


def show_value(value: Any, limit: int = 80) -> str:
    """A value as compact JSON for one line, shortened in the middle past ``limit`` characters."""
    if value is MISSING:
        return "(absent)"
    text = _compact(value)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


def around_difference(old: Any, new: Any, width: int = 70) -> tuple[str, str]:
    """Both texts cut to ``width`` characters around where they first differ (``…`` marks a cut).

    A value that is not a string (a stream's ``finish_reason`` a hostile file made a number or an
    object) is compared as its compact JSON: `as_text`."""
    old, new = as_text(old), as_text(new)
    start = next(
        (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new))
    )
    low = max(0, start - width // 3)

    def cut(text: str) -> str:
        piece = text[low : low + width]
        return ("…" if low else "") + piece + ("…" if low + width < len(text) else "")

    return cut(old), cut(new)
