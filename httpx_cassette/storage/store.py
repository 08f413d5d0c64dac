"""A cassette directory: one JSON file per distinct request, found by key without reading them all.

File names end in the first 12 hex digits of the key they were recorded under, so the index is built
from one directory listing. A hit is confirmed by re-keying the stored request (a file edited by
hand, or keyed under other options, is still found: a miss by name falls back to reading every file
once). Writes are atomic: a temporary file in the same directory, then a rename; a process killed
mid-write leaves the old file or the new one. Writers hold the directory lock (`_lock`), and `update`
re-reads the file under it, so processes recording the same request merge instead of overwriting.
File names are built from ``[a-z0-9-]`` only, so no key or request can name a file elsewhere.

Binary response bodies larger than ``max_inline_bytes`` are not pasted into the JSON as base64: they go
to a side file ``<json stem>.<response index>.bin`` next to it, named by the response's ``body_file``.

The directory may also hold llama-stack recordings (`httpx_cassette.formats.llamastack`): one response
per file, named by llama-stack's own hash, found by reading every file once, keyed as redacted (as a
live request is). Several llama-stack files may hold one request: they replay in file-name order
(`order_key`); with a ``scope``, only that test's (and no test's). Writing a request replaces its
in-scope responses, wherever they were, in ``write_format``; no other request's file is replaced. A
file of ours sharing its request with another file of ours, or with a llama-stack file some test would
replay beside it, is refused (a pull request's copy would decide what replays).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core.key import KeyOptions, key_of, same_request
from httpx_cassette.errors import CassetteError, CassetteFormatError, NotAnExchangeError
from httpx_cassette.model.cassette import CassetteFile, FileFormat, Request, Response
from httpx_cassette.storage.codec import decode_file, encode_file, loadable
from httpx_cassette.storage.files import (
    UnsafeFileError,
    cassette_files,
    file_name,
    is_safe_name,
    is_side_file,
    key_prefix,
    open_inside,
    side_names,
    write_atomic,
)
from httpx_cassette.storage.formats import Format, format_named, held_format, order_key
from httpx_cassette.storage.lock import DirectoryLock
from httpx_cassette.storage.sides import move_large_bodies

__all__ = ["DEFAULT_MAX_INLINE_BYTES", "DirectoryStore"]

DEFAULT_MAX_INLINE_BYTES = 64 * 1024


def _load(file: Path) -> CassetteFile:
    """Read and parse one cassette file through the path guard (`open_inside`)."""
    return decode_file(open_inside(file.parent, file.name), str(file))


class DirectoryStore:
    """Reads and writes the files of one cassette directory, lazily and with a cache."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        options: KeyOptions,
        max_inline_bytes: int = DEFAULT_MAX_INLINE_BYTES,
        *,
        scope: str | None = None,
        write_format: FileFormat = "ours",
        as_keyed: Callable[[Request], Request] | None = None,
    ) -> None:
        if "\0" in os.fspath(path):
            raise CassetteError(f"cassette path {os.fspath(path)!r} has a NUL byte; no file system takes it")
        self.path = Path(path)
        self.options = options
        self.max_inline_bytes = max_inline_bytes
        self.lock = DirectoryLock(self.path)
        self._side_written: dict[Path, str] = {}  # side file -> sha256 of what this store wrote there
        self.scope = scope
        self.write_format: FileFormat = write_format
        self._as_keyed = as_keyed  # another format's request as a live one is keyed (ours are stored so)
        self._by_key: dict[str, tuple[Path, CassetteFile]] = {}  # key -> (first file, its in-scope responses)
        self._sources: dict[str, dict[Path, tuple[str, CassetteFile]]] = {}  # key -> all its files
        self._by_prefix: dict[str, list[Path]] | None = None
        self._unread: set[Path] | None = None
        self._foreign = False  # some file is not named by its key (llama-stack's are not)
        self.written: set[Path] = set()  # every cassette file this store wrote (for a rollback)

    def _index(self) -> dict[str, list[Path]]:
        if self._by_prefix is None:
            by_prefix: dict[str, list[Path]] = {}
            unread: set[Path] = set()
            # Links, FIFOs... are listed too (never followed): reading one refuses it, loudly.
            for file in cassette_files(self.path, special=True):
                unread.add(file)
                if (prefix := key_prefix(file.name)) is not None:
                    by_prefix.setdefault(prefix, []).append(file)
                else:
                    self._foreign = True
            self._by_prefix, self._unread = by_prefix, unread
        return self._by_prefix

    def _read(self, file: Path) -> None:
        """Parse ``file`` and cache it under its real key; a broken file stays unread (it raises again)."""
        assert self._unread is not None
        with contextlib.suppress(NotAnExchangeError):  # a llama-stack tool-call recording: nothing to replay
            cassette = _load(file)
            self._remember(self._key(file, cassette), file, cassette)
        self._unread.discard(file)

    def _remember(self, key: str, file: Path, cassette: CassetteFile) -> None:
        kind, sources = held_format(file, cassette), self._sources.setdefault(key, {})
        for twin, (held, other) in sources.items():  # not requests match_on makes one: those merge
            clash = held == kind == "ours" or ("ours" in (held, kind) and other.shares_a_test_with(cassette))
            if twin != file and clash and same_request(other.request, cassette.request):
                raise CassetteFormatError(str(file), f"it holds the same request as {twin}: keep one of them")
        sources[file] = (kind, cassette)
        self._by_key[key] = self._view(key)

    def _view(self, key: str) -> tuple[Path, CassetteFile]:
        """The first file of ``key`` and its in-scope responses, from all its files in name order."""
        sources = sorted(self._sources[key].items(), key=lambda source: order_key(source[0].name))
        first, (_, cassette) = sources[0]
        if len(sources) == 1 and self.scope is None:
            return first, cassette
        responses = [r for _, (_, c) in sources for r in c.responses if self._in_scope(r)]
        return first, msgspec.structs.replace(cassette, responses=responses)

    def _in_scope(self, response: Response) -> bool:
        return self.scope is None or not isinstance(response.test_id, str) or response.test_id == self.scope

    def absent_reason(self, key: str) -> str:
        """Why ``key`` has nothing to replay: no recording, or only other tests' (outside the scope)."""
        held = [r for _, c in self._sources.get(key, {}).values() for r in c.responses]
        others = sorted({str(r.test_id) for r in held if not self._in_scope(r)})
        if others:
            return f"no recording in scope {self.scope!r} (only for other tests: {', '.join(others)})"
        return "no recording"

    def _key(self, file: Path, cassette: CassetteFile) -> str:
        request = cassette.request
        if self._as_keyed is not None and held_format(file, cassette) != "ours":
            request = self._as_keyed(request)
        try:
            return key_of(request, self.options)
        except (ValueError, RecursionError) as exc:  # a URL urllib rejects, a body nested past Python's limit
            raise CassetteFormatError(str(file), f"its request cannot be keyed: {exc}") from None

    def known(self, key: str) -> CassetteFile | None:
        """``key``'s file if this store has already read or written it; never touches the disk."""
        return found[1] if (found := self._by_key.get(key)) else None

    def get(self, key: str, request: Request | None = None) -> CassetteFile | None:
        """The file recorded for ``key``, or None. Given the ``request`` that was keyed, a file under its
        own name is found without listing the directory: a 10,000-file cassette opens as fast as one."""
        found = self._by_key.get(key)
        if found is None and request is not None and self._by_prefix is None:
            found = self._probe(key, request)
        if found is None:
            for file in self._index().get(key[:12], ()):  # all of them: a second file of the key is refused
                if self._unread and file in self._unread:
                    self._read(file)
            if key not in self._by_key:
                self.read_all()
            found = self._by_key.get(key)
        return found[1] if found else None

    def _probe(self, key: str, request: Request) -> tuple[Path, CassetteFile] | None:
        """``key``'s file under the name `put` gives it, when it is there and holds ``key``."""
        file = self.path / file_name(key, request, checked=False)  # a name that was not: the listing finds it
        try:
            cassette = _load(file)
        except FileNotFoundError:  # not there (renamed, or never recorded): the directory listing decides
            return None
        real = self._key(file, cassette)
        self._remember(real, file, cassette)  # an edited file keeps its real key, as `_read` does
        return self._by_key[real] if real == key else None

    def read_all(self) -> None:
        """Parse every file not parsed yet (a miss, or a question about the whole cassette)."""
        self._index()
        assert self._unread is not None
        for file in sorted(self._unread):
            self._read(file)

    def items(self) -> Iterator[tuple[str, Path, CassetteFile]]:
        """Every recorded (key, file, contents), file by file; reads the whole directory."""
        self.read_all()
        for key, sources in list(self._sources.items()):
            for file, (_, cassette) in sorted(sources.items(), key=lambda source: order_key(source[0].name)):
                yield key, file, cassette

    def file_of(self, key: str) -> Path | None:
        """The file ``key`` was read from or written to, if this store has seen it."""
        return found[0] if (found := self._by_key.get(key)) else None

    def _target(self, key: str, request: Request) -> Path:
        """Where ``key`` is written: the file (of ours) it was found in, else its generated name, checked."""
        found = next((f for f, (kind, _) in self._sources.get(key, {}).items() if kind == "ours"), None)
        if found is not None:
            return found
        name = file_name(key, request)
        if not is_safe_name(key, name):
            raise CassetteError(
                f"refusing to write {name!r} for key {key!r} in {self.path}: a key is the hex sha256 of a"
                " request (see key_of), and file names are built from it"
            )
        return self.path / name

    def read_fresh(self, key: str, request: Request, *, replace_broken: bool = False) -> CassetteFile | None:
        """``key``'s file as it is on disk now (another process may have written it), found by name only;
        None when there is none, or, with ``replace_broken`` (it is about to be overwritten), a broken one."""
        self._index()
        if self._foreign or self.write_format != "ours":
            return self._refresh(key, replace_broken)
        file = self._target(key, request)
        try:
            cassette = _load(file)
        except FileNotFoundError:
            return None
        except CassetteFormatError as exc:
            # A broken file of ours is replaced; a link or a FIFO there is not ours to replace.
            if replace_broken and not isinstance(exc, UnsafeFileError):
                return None
            raise
        self._remember(key, file, cassette)
        return self._by_key[key][1]

    def _refresh(self, key: str, replace_broken: bool) -> CassetteFile | None:
        """Re-read every file known to hold ``key`` (after reading the directory once)."""
        self.read_all()
        files = sorted(self._sources.pop(key, {}))
        self._by_key.pop(key, None)
        for file in files:
            try:
                cassette = _load(file)
            except (FileNotFoundError, NotAnExchangeError):
                continue
            except CassetteFormatError as exc:
                if replace_broken and not isinstance(exc, UnsafeFileError):
                    continue
                raise
            if self._key(file, cassette) == key:
                self._remember(key, file, cassette)
        found = self._by_key.get(key)
        return found[1] if found else None

    def update(
        self,
        key: str,
        request: Request,
        change: Callable[[CassetteFile | None], CassetteFile],
        *,
        replace_broken: bool = False,
    ) -> CassetteFile:
        """Read, change and write ``key``'s file under the directory lock; returns what was stored.
        ``change`` gets the file as it is on disk now (None if none): concurrent writers keep each other's."""
        with self.lock:
            self.put(key, change(self.read_fresh(key, request, replace_broken=replace_broken)))
            return self._by_key[key][1]

    def put(self, key: str, cassette: CassetteFile) -> Path:
        """Write ``cassette`` atomically under ``key``; replaces the file previously found for it."""
        return self.write(key, cassette)[-1]

    def write(self, key: str, cassette: CassetteFile) -> list[Path]:
        """Write ``cassette`` as ``key``'s in-scope responses, in ``write_format``; returns the files.

        Other files holding in-scope responses of ``key`` lose them (and are deleted when nothing is
        left); a request llama-stack's format cannot hold is written in ours.
        """
        with self.lock:
            self._index()
            if self._foreign or self.write_format != "ours":
                self.read_all()  # the key's responses may be in any file
            adapter = format_named(self.write_format) if self.write_format != "ours" else None
            files = adapter.files(cassette) if adapter is not None else None
            if adapter is None or files is None:
                written = [self._write_ours(key, cassette)]
            else:
                written = self._write_foreign(key, adapter, files)
            self.written.update(written)
            return written

    def _write_ours(self, key: str, cassette: CassetteFile) -> Path:
        file = self._target(key, cassette.request)
        held = self._sources.get(key, {}).get(file)
        others = [r for r in held[1].responses if not self._in_scope(r)] if held else []  # other tests'
        whole = cassette
        if others:
            whole = msgspec.structs.replace(cassette, responses=[*others, *cassette.responses])
        data = loadable(encode_file(whole), file)  # refused before a side file is written
        # side files first: JSON never points nowhere
        stored = move_large_bodies(file, whole, self.max_inline_bytes, self._side_written)
        durable = any(f != file for f in self._sources.get(key, {}))
        write_atomic(file, data if stored is whole else encode_file(stored), durable=durable)
        self._drop_stale_side_files(file, stored, before=held[1] if held else None)
        self._drop_in_scope(key, keep={file})
        self._remember(key, file, stored)
        return file

    def _write_foreign(self, key: str, adapter: Format, files: list[tuple[str, Any]]) -> list[Path]:
        if clash := self._clash(key, [name for name, _ in files]):
            raise CassetteError(f"refusing to write {clash} in {self.path}: another recording is there")
        written: list[Path] = []
        stored: dict[Path, CassetteFile] = {}
        for name, recording in files:
            file = self.path / name
            as_read = adapter.read(recording, str(file))
            held = self._sources.get(key, {}).get(file)
            if held is None or held[1] != as_read:  # an unchanged file is not rewritten (it may be read-only)
                write_atomic(file, adapter.encode(recording), durable=True)  # others of the key go next
                written.append(file)
            stored[file] = as_read
        self._drop_in_scope(key, keep=set(stored))
        for file, as_read in stored.items():
            self._remember(key, file, as_read)
        first = next(iter(stored))
        responses = [r for held in stored.values() for r in held.responses]  # in this write's order
        self._by_key[key] = (first, msgspec.structs.replace(stored[first], responses=responses))
        return written or [first]

    def _clash(self, key: str, names: list[str]) -> str | None:
        """A name given twice, or of a file holding another request, or another test's responses."""
        own = self._sources.get(key, {})  # its files of in-scope responses only are replaced, as asked
        kept = {f for f, (_, c) in own.items() if not all(map(self._in_scope, c.responses))}
        for i, file in enumerate(self.path / name for name in names):
            if file.name in names[:i] or file in kept or (file not in own and os.path.lexists(file)):
                return file.name
        return None

    def _drop_in_scope(self, key: str, keep: set[Path]) -> None:
        """Take ``key``'s in-scope responses out of its files other than ``keep``."""
        for file, (file_format, cassette) in list(self._sources.get(key, {}).items()):
            if file in keep:
                continue
            others = [r for r in cassette.responses if not self._in_scope(r)]
            if len(others) == len(cassette.responses):
                continue
            del self._sources[key][file]
            if others:  # only our format holds several responses
                rest = msgspec.structs.replace(cassette, responses=others)
                write_atomic(file, encode_file(rest))
                self._sources[key][file] = (file_format, rest)
            else:
                file.unlink(missing_ok=True)
                if file_format == "ours":
                    self._drop_stale_side_files(file, None, before=cassette)

    def body_file_bytes(self, key: str, response: Response) -> bytes | None:
        """The body kept in ``response.body_file`` (None when the body is inline)."""
        name = response.body_file
        if not isinstance(name, str):
            return None
        found = self._by_key.get(key)
        source = str(found[0]) if found else str(self.path)
        try:
            return open_inside(self.path, name)
        except FileNotFoundError:
            raise CassetteFormatError(
                source, f"its body file {name} is missing from {self.path}: restore it, or re-record"
            ) from None
        except UnsafeFileError as exc:
            raise CassetteFormatError(source, f"body_file {exc.problem}") from None

    def _drop_stale_side_files(
        self, file: Path, stored: CassetteFile | None, before: CassetteFile | None
    ) -> None:
        # Re-recording a key with fewer large bodies leaves side files nothing points to any more.
        # Only the names the previous version pointed to are candidates: no directory listing per
        # write, which made recording a large cassette quadratic.
        stale = side_names(before) | {p.name for p in self._side_written if p.parent == file.parent}
        for name in stale - side_names(stored):
            if is_side_file(name, file):
                with contextlib.suppress(IsADirectoryError, PermissionError):  # not a file: left alone
                    file.with_name(name).unlink(missing_ok=True)
                self._side_written.pop(file.with_name(name), None)
