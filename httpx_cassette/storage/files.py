"""File names in a cassette directory, the one listing of its files, and the one way files are written
(atomically).

A request's file is ``<method>-<path slug>-<12 hex of its key>.json``; a response body too large to
inline goes to a side file ``<json stem>.<response index>.bin`` next to it (`side_name`).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from httpx_cassette.model.cassette import CassetteFile, Request

__all__ = [
    "TEMPORARY_NAME",
    "cassette_files",
    "file_name",
    "files_at",
    "is_safe_name",
    "is_side_file",
    "key_prefix",
    "side_files",
    "side_name",
    "side_names",
    "write_atomic",
]

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


def key_prefix(name: str) -> str | None:
    """The 12 hex digits of the key a file named by `file_name` was recorded under (None for another name)."""
    match = _NAME.search(name)
    return match.group(1) if match else None


def is_safe_name(key: str, name: str) -> bool:
    """Whether ``name`` is what `file_name` makes of a real ``key``: a plain, portable file name."""
    reserved = _RESERVED.fullmatch(name.split(".")[0])
    return bool(_KEY.fullmatch(key) and _SAFE_NAME.fullmatch(name) and not reserved)


def cassette_files(
    directory: Path, *, recursive: bool = False, bodies: bool = False, hidden: bool = True
) -> list[Path]:
    """The cassette files of ``directory``, sorted: its ``*.json`` files (with ``bodies``, also the
    ``.bin`` side files); with ``recursive``, those of every folder below it too; without ``hidden``,
    none whose name, or the name of a folder below ``directory``, starts with a dot. [] if no directory.
    """
    suffixes = (".json", ".bin") if bodies else (".json",)
    found: list[Path] = []
    folders = [directory] if directory.is_dir() else []
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if not hidden and entry.name.startswith("."):
                    continue
                if entry.is_file() and entry.name.endswith(suffixes):
                    found.append(Path(entry.path))
                elif recursive and entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
    return sorted(found)


def files_at(path: Path, *, hidden: bool = True) -> list[Path]:
    """What a command given ``path`` reads: that file, or the cassette files below that directory."""
    return [path] if path.is_file() else cassette_files(path, recursive=True, hidden=hidden)


def side_name(file: Path, index: int) -> str:
    """The name of the side file holding response ``index``'s body of cassette ``file``."""
    return f"{file.stem}.{index}.bin"


def is_side_file(name: str, file: Path) -> bool:
    """Whether ``name`` is one of cassette ``file``'s side files (``<stem>.<n>.bin``)."""
    return name.startswith(file.stem) and bool(_SIDE_INDEX.fullmatch(name[len(file.stem) :]))


def side_files(file: Path) -> list[Path]:
    """The side files on disk next to cassette ``file``."""
    return [p for p in cassette_files(file.parent, bodies=True) if is_side_file(p.name, file)]


def side_names(cassette: CassetteFile | None) -> set[str]:
    """The side files ``cassette``'s responses point to."""
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
