"""Dotted JSON paths (``metadata.trace_id``, ``messages[2].content``, ``messages[*].id``): one syntax
for the paths a key ignores and the paths redaction hides, and one walker for both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["DROP", "JsonPath", "apply_at", "parse_path"]

JsonPath = tuple["str | int", ...]

DROP: Any = object()  # a leaf function's answer meaning "remove this entry"

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")


def parse_path(path: str) -> JsonPath:
    """``"messages[*].content"`` -> ``("messages", "*", "content")``; ``[2]`` becomes ``2``."""
    steps: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        steps.append(name if name else (index if index == "*" else int(index)))
    if not steps:
        raise ValueError(f"empty JSON path: {path!r}")
    return tuple(steps)


def apply_at(value: Any, path: JsonPath, leaf: Callable[[Any], Any]) -> Any:
    """A copy of ``value`` with ``leaf`` applied to what ``path`` names (``*`` names every entry).

    Only the containers on the path are copied. A leaf returning `DROP` removes a dictionary entry
    (a list item becomes ``None``, so later indexes keep their meaning).
    """
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(head, str):
        places: list[Any] = list(value) if head == "*" else [head] if head in value else []
    elif isinstance(value, list) and (head == "*" or isinstance(head, int)):
        indexes = range(len(value)) if head == "*" else [head]
        places = [i for i in indexes if isinstance(i, int) and -len(value) <= i < len(value)]
    else:
        return value
    if not places:
        return value
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    for place in places:
        new = apply_at(value[place], rest, leaf) if rest else leaf(value[place])
        if new is DROP and isinstance(copy, dict):
            del copy[place]
        else:
            copy[place] = None if new is DROP else new
    return copy
