"""File names in a cassette directory, and the one way files are written (atomically)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from httpx_cassette.model.cassette import CassetteFile, Request

__all__ = ["TEMPORARY_NAME", "file_name", "side_names", "write_atomic"]

_NAME = re.compile(r"-([0-9a-f]{12})\.json$")
_SIDE_INDEX = re.compile(r"\.\d+\.bin")
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_VERSION_SEGMENT = re.compile(r"^v\d+(beta\d*|alpha\d*)?$")
_KEY = re.compile(r"[0-9a-f]{12,}")
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.json")
_RESERVED = re.compile(r"con|prn|aux|nul|com\d|lpt\d")  # Windows device names, whatever the extension


def file_name(key: str, request: Request) -> str:
    """``post-chat-completions-<12 hex>.json``: readable, filesystem-safe on every OS, unique by key."""
    path = request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    segments = [s for s in path.lower().split("/") if s and not _VERSION_SEGMENT.match(s)]
    slug = _SLUG_CHARS.sub("-", "-".join(segments)).strip("-")[:60].strip("-")
    method = _SLUG_CHARS.sub("", request.method.lower())[:10] or "req"
    return f"{method}-{slug}-{key[:12]}.json" if slug else f"{method}-{key[:12]}.json"


def side_names(cassette: CassetteFile | None) -> set[str]:
    return {r.body_file for r in cassette.responses if isinstance(r.body_file, str)} if cassette else set()


# The names `write_atomic` gives its temporary files; `verify` looks for ones a killed process left.
TEMPORARY_NAME = re.compile(r"\.(.+)\.\w+\.tmp")  # group 1: the file being written


def write_atomic(file: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so readers see the old file or the new one."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private (0600); a cassette is a shared fixture, like any source file.
        os.chmod(tmp, file.stat().st_mode & 0o777 if file.exists() else 0o644)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
