"""A cassette directory: one JSON file per distinct request, found by key without reading them all.

File names end in the first 12 hex digits of the key they were recorded under, so the index is built
from one directory listing. A hit is confirmed by re-keying the stored request (a file edited by
hand, or keyed under other options, is still found: a miss by name falls back to reading every file
once). Writes are atomic: a temporary file in the same directory, then a rename.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._format import CassetteFile, Request, decode_file, encode_file
from ._key import KeyOptions, key_of

__all__ = ["DirectoryStore", "file_name"]

_NAME = re.compile(r"-([0-9a-f]{12})\.json$")
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_VERSION_SEGMENT = re.compile(r"^v\d+(beta\d*|alpha\d*)?$")


def file_name(key: str, request: Request) -> str:
    """``post-chat-completions-<12 hex>.json``: readable, filesystem-safe on every OS, unique by key."""
    path = request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    segments = [s for s in path.lower().split("/") if s and not _VERSION_SEGMENT.match(s)]
    slug = _SLUG_CHARS.sub("-", "-".join(segments)).strip("-")[:60].strip("-")
    method = _SLUG_CHARS.sub("", request.method.lower())[:10] or "req"
    return f"{method}-{slug}-{key[:12]}.json" if slug else f"{method}-{key[:12]}.json"


class DirectoryStore:
    """Reads and writes the files of one cassette directory, lazily and with a cache."""

    def __init__(self, path: str | os.PathLike[str], options: KeyOptions) -> None:
        self.path = Path(path)
        self.options = options
        self._by_key: dict[str, tuple[Path, CassetteFile]] = {}
        self._by_prefix: dict[str, list[Path]] | None = None
        self._unread: set[Path] | None = None

    def _index(self) -> dict[str, list[Path]]:
        if self._by_prefix is None:
            by_prefix: dict[str, list[Path]] = {}
            unread: set[Path] = set()
            if self.path.is_dir():
                for entry in os.scandir(self.path):
                    if entry.name.endswith(".json") and entry.is_file():
                        file = Path(entry.path)
                        unread.add(file)
                        match = _NAME.search(entry.name)
                        if match:
                            by_prefix.setdefault(match.group(1), []).append(file)
            self._by_prefix, self._unread = by_prefix, unread
        return self._by_prefix

    def _read(self, file: Path) -> str:
        """Parse ``file``, cache it under its real key, and return that key."""
        cassette = decode_file(file.read_bytes(), str(file))
        key = key_of(cassette.request, self.options)
        self._by_key[key] = (file, cassette)
        assert self._unread is not None
        self._unread.discard(file)
        return key

    def get(self, key: str) -> CassetteFile | None:
        """The file recorded for ``key``, or None."""
        found = self._by_key.get(key)
        if found is None:
            for file in self._index().get(key[:12], ()):
                if self._unread and file in self._unread and self._read(file) == key:
                    break
            else:
                self.read_all()
            found = self._by_key.get(key)
        return found[1] if found else None

    def read_all(self) -> None:
        """Parse every file not parsed yet (a miss, or a question about the whole cassette)."""
        self._index()
        assert self._unread is not None
        for file in sorted(self._unread):
            self._read(file)

    def items(self) -> Iterator[tuple[str, Path, CassetteFile]]:
        """Every recorded (key, file, contents); reads the whole directory."""
        self.read_all()
        for key, (file, cassette) in list(self._by_key.items()):
            yield key, file, cassette

    def put(self, key: str, cassette: CassetteFile) -> Path:
        """Write ``cassette`` atomically under ``key``; replaces the file previously found for it."""
        previous = self._by_key.get(key)
        file = previous[0] if previous else self.path / file_name(key, cassette.request)
        write_atomic(file, encode_file(cassette))
        self._by_key[key] = (file, cassette)
        return file


def write_atomic(file: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so readers see the old file or the new one."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
