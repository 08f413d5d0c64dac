"""Other recorders' files in a cassette directory: the `Format` protocol and the registry of adapters.

An adapter (``httpx_cassette.formats.llamastack``) turns its files into `CassetteFile` values and back.
The store never imports one: it names it here, and the module is imported the first time a directory
holds such a file or ``format=`` asks to write one, so ``import httpx_cassette`` loads none.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Protocol

from httpx_cassette.model.cassette import CassetteFile

__all__ = ["ADAPTERS", "Format", "detect", "format_named", "held_format", "order_key"]

# format name -> the module whose ``FORMAT`` implements it
ADAPTERS: dict[str, str] = {"llama-stack": "httpx_cassette.formats.llamastack"}

_REPEAT = re.compile(r"(.+?)(?:\.(\d+))?\.json")


class Format(Protocol):
    """What the store needs of another recorder's file format."""

    name: str

    def detects(self, value: Any) -> bool:
        """Whether a decoded JSON file (that is not ours) is one of this format's files."""

    def read(self, value: Any, source: str) -> CassetteFile:
        """The cassette one file stands for; errors are `CassetteFormatError`\\ s naming ``source``."""

    def held_by(self, file: Path, cassette: CassetteFile) -> bool:
        """Whether ``cassette`` is what `read` made of ``file`` itself (writing it back keeps the format)."""

    def files(self, cassette: CassetteFile) -> list[tuple[str, Any]] | None:
        """(file name, content) of each file ``cassette`` is written as; None if the format cannot hold it."""

    def encode(self, content: Any) -> bytes:
        """One file's bytes."""


def format_named(name: str) -> Format:
    """The adapter of format ``name`` (imported on first use)."""
    try:
        module = ADAPTERS[name]
    except KeyError:
        raise ValueError(
            f"unknown cassette file format {name!r}: use ours or one of {', '.join(ADAPTERS)}"
        ) from None
    found: Format = importlib.import_module(module).FORMAT
    return found


def detect(value: Any) -> Format | None:
    """The adapter whose files look like ``value`` (a decoded JSON file that is not ours), if any."""
    for name in ADAPTERS:
        adapter = format_named(name)
        if adapter.detects(value):
            return adapter
    return None


def held_format(file: Path, cassette: CassetteFile) -> str:
    """The format ``file`` is in, given what was read from it: ``"ours"`` unless an adapter read it.

    Decided by the shape of the file's bytes as read, never by what it says of itself: only an adapter's
    `Format.read` (chosen by `detect` for a file that is not ours) names ``file`` itself in an `Origin`;
    in a file our decoder read, the codec drops an ``origin`` naming that very file (`decode_file`), so a
    copy of ours claiming to be another recorder's file stays ours (two of ours for one request are
    refused).
    """
    origins = {r.origin.format for r in cassette.responses if r.origin is not None}
    for name in origins & set(ADAPTERS):
        if format_named(name).held_by(file, cassette):
            return name
    return "ours"


def order_key(name: str) -> tuple[str, int]:
    """Sorts the files of one request: ``x.json`` (0), ``x.1.json`` (1), ``x.2.json``, ... ``x.10.json``.

    Formats that keep one response per file name a request's later responses that way.
    """
    match = _REPEAT.fullmatch(name)
    return (match.group(1), int(match.group(2) or 0)) if match else (name, 0)
