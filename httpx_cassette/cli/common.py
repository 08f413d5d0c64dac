"""What the CLI's commands share: the usage error, path checks and the JSON and count spellings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.errors import CassetteError

__all__ = ["UsageError", "as_json", "existing", "plural"]


class UsageError(CassetteError):
    """A command line that cannot be carried out as given (exit status 2)."""


def existing(path: Path) -> Path:
    """``path``, or a `UsageError` saying it does not exist."""
    if not path.exists() and not path.is_symlink():  # a broken link is there: reading it says what is wrong
        raise UsageError(f"{path} does not exist")
    return path


def as_json(value: Any, *, indent: bool = False) -> str:
    """``value`` as JSON text, indented by two spaces with ``indent``. A file name that is no UTF-8 (git
    stores any bytes; Python reads them as lone surrogates) is written as a ``\\udcXX`` escape."""
    try:
        encoded = msgspec.json.encode(value)
    except UnicodeEncodeError:  # msgspec writes UTF-8 only; json escapes a lone surrogate
        return json.dumps(msgspec.to_builtins(value), indent=2 if indent else None)
    return (msgspec.json.format(encoded, indent=2) if indent else encoded).decode("utf-8")


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
