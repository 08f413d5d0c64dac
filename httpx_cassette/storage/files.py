"""File names in a cassette directory, the one listing of its files, and the one way files are written
(atomically).

A request's file is ``<method>-<path slug>-<12 hex of its key>.json``; a response body too large to
inline goes to a side file ``<json stem>.<response index>.bin`` next to it (`side_name`).
"""

from __future__ import annotations

import errno
import functools
import ntpath
import os
import re
import stat
import tempfile
from pathlib import Path, PureWindowsPath

from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.model.cassette import CassetteFile, Request

__all__ = [
    "folders_in",
    "MAX_FILE_BYTES",
    "TEMPORARY_NAME",
    "UnsafeFileError",
    "cassette_files",
    "check_directory",
    "file_name",
    "files_at",
    "is_safe_name",
    "is_side_file",
    "key_prefix",
    "linked_part",
    "make_directory",
    "name_problem",
    "open_inside",
    "path_inside",
    "refuse_special_files",
    "side_files",
    "side_name",
    "side_names",
    "write_atomic",
]

MAX_FILE_BYTES = 512 * 1024 * 1024  # no cassette file (JSON or side file) is read past this
_MAX_NAME_BYTES = 255  # the longest file name common file systems take
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # a symlink could point anywhere: refused, never followed
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open; fstat then refuses it
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_NAME = re.compile(r"-([0-9a-f]{12})\.json$")
_SIDE_INDEX = re.compile(r"\.\d+\.bin")
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_VERSION_SEGMENT = re.compile(r"^v\d+(beta\d*|alpha\d*)?$")
_KEY = re.compile(r"[0-9a-f]{12,}")
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.json")
_RESERVED = re.compile(r"con|prn|aux|nul|com\d|lpt\d")  # Windows device names, whatever the extension
# The names `write_atomic` gives its temporary files: no listing holds them; `verify` reports leftovers.
TEMPORARY_NAME = re.compile(r"\.(.+)\.\w+\.tmp")  # group 1: the file being written


def file_name(key: str, request: Request, *, checked: bool = True) -> str:
    """``post-chat-completions-<12 hex>.json``: readable, filesystem-safe on every OS, unique by key;
    ``checked=False``: without `scan`'s look at it (a lookup may skip it: the listing is its fallback)."""
    path = request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    segments = [s for s in path.lower().split("/") if s and not _VERSION_SEGMENT.match(s)]
    slug = _SLUG_CHARS.sub("-", "-".join(segments)).strip("-")[:60].strip("-")
    method = _SLUG_CHARS.sub("", request.method.lower())[:10] or "req"
    # Lower case and dashes can make a known format (``/files/XOXB_...``, a method ``XOXB``: ``xoxb-...``)
    names = [f"{method}-{slug}-{key[:12]}.json"] if slug else []
    names += [f"{method}-{key[:12]}.json", f"req-{key[:12]}.json"]
    return next((name for name in names if not checked or _clean(name)), names[-1])


@functools.lru_cache(maxsize=1024)
def _clean(name: str) -> bool:
    """Whether ``scan`` finds nothing in a file's ``name``, as it reads it."""
    return not SecretScanner().scan(name, "(a name)")


def key_prefix(name: str) -> str | None:
    """The 12 hex digits of the key a file named by `file_name` was recorded under (None for another name)."""
    match = _NAME.search(name)
    return match.group(1) if match else None


def is_safe_name(key: str, name: str) -> bool:
    """Whether ``name`` is what `file_name` makes of a real ``key``: a plain, portable file name."""
    reserved = _RESERVED.fullmatch(name.split(".")[0])
    return bool(_KEY.fullmatch(key) and _SAFE_NAME.fullmatch(name) and not reserved)


def cassette_files(
    directory: Path,
    *,
    recursive: bool = False,
    bodies: bool = False,
    special: bool = False,
) -> list[Path]:
    """The cassette files of ``directory``, sorted: the one listing every reader uses (replay, ``verify``,
    ``ls``, ``diff``, ``scan``, ``prune``), so none of them sees a file another skips. Its ``*.json``
    files (with ``bodies``, also the ``.bin`` side files), dot-files included: replay reads them, so every
    command shows them. Only the temporary files of `write_atomic` (`TEMPORARY_NAME`) are left out. With
    ``recursive``, those of every folder below it too (dot-folders included); with ``special``, also what
    has such a name but is no regular file (a link, a FIFO: reading it through `open_inside` then
    refuses it loudly instead of skipping it). Links are never followed into folders. [] if no directory.
    """
    suffixes = (".json", ".bin") if bodies else (".json",)
    found: list[Path] = []
    folders = [directory] if directory.is_dir() else []
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if TEMPORARY_NAME.fullmatch(entry.name):
                    continue
                folder = entry.is_dir(follow_symlinks=False)
                regular = entry.is_file(follow_symlinks=False)
                if entry.name.endswith(suffixes) and (regular or (special and not folder)):
                    found.append(Path(entry.path))
                elif recursive and folder:
                    folders.append(Path(entry.path))
    return sorted(found)


def files_at(path: Path) -> list[Path]:
    """What a command given ``path`` reads: that file, or the cassette files below that directory
    (`cassette_files`: the files replay reads, dot-files included)."""
    if path.is_dir() and not path.is_symlink():
        return cassette_files(path, recursive=True, special=True)
    return [path]  # a file, or what is no file: reading it says what is wrong


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


class UnsafeFileError(CassetteFormatError):
    """A name in a cassette that is not a plain regular file of its directory (a link, a FIFO, ``..``).

    Unlike a broken file, recording must not overwrite it: the thing there is not ours.
    """


def name_problem(name: str) -> str | None:
    """Why ``name``, read from a file, is no plain file name of a directory on every OS (``"is a
    path"``...), or None. What `open_inside` and `path_inside` refuse."""
    return _name_problem(name)


def _name_problem(name: str) -> str | None:
    if not name or name in (".", ".."):
        return "names no file"
    if "\0" in name:
        return "holds a NUL byte"
    if "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        return "is a path"
    # On Windows `directory / "D:x"` is x in drive D's current folder, and "x:y" a stream of file x.
    if ":" in name or ntpath.splitdrive(name)[0] or PureWindowsPath(name).anchor:
        return "holds a colon, which Windows reads as a drive or a stream"
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
        return f"is longer than {_MAX_NAME_BYTES} bytes"
    return None


def open_inside(directory: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``name`` in ``directory``: the one way cassette files are read.

    ``name`` comes from untrusted files, so it must be a plain name (no separator, NUL, ``.``/``..``,
    at most 255 bytes); the file must be a regular file (not a symlink, FIFO, directory or device)
    of at most ``limit`` bytes. Raises `FileNotFoundError` when nothing is there, `UnsafeFileError`
    (naming the file) for anything else wrong.
    """
    problem = _name_problem(name)
    if problem is not None:
        problem = f"{name[:80]!r} must be a plain file name in {directory} (it {problem})"
        raise UnsafeFileError(str(directory), problem)
    file = directory / name
    try:
        fd = os.open(file, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnsafeFileError(str(file), _open_problem(exc, directory)) from None
    try:
        found = os.fstat(fd)  # of what was opened: no window between a check and the open
        if not stat.S_ISREG(found.st_mode):
            raise UnsafeFileError(str(file), f"it is {_kind(found.st_mode)}, not a regular file; remove it")
        if found.st_size > limit:
            raise UnsafeFileError(str(file), f"it is {found.st_size:,} bytes, over the {limit:,}-byte limit")
        data = _read_up_to(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        raise UnsafeFileError(str(file), f"it is over the {limit:,}-byte limit")
    return data


def path_inside(base: Path, relative: Path, source: str) -> Path:
    """``base / relative``, for a path made from names read in files (a converted cassette's folder),
    when it lies strictly inside ``base``: every part of ``relative`` a plain name (the rules of
    `open_inside`: no empty part, ``.``, ``..``, separator or drive) and the path, resolved, below
    ``base`` resolved. Else `UnsafeFileError` naming ``source``, the file the name came from."""
    problems = [(part, _name_problem(part)) for part in relative.parts] or [(str(relative), "names no file")]
    for part, problem in problems:
        if problem is not None:
            raise UnsafeFileError(
                source,
                f"it would be written to {base / relative}, and {part[:80]!r} {problem}: only a plain name"
                f" is written inside {base}; rename it",
            )
    target = base.joinpath(*relative.parts)
    if Path(os.path.realpath(base)) not in Path(os.path.realpath(target)).parents:
        where = f"it would be written to {target}, which is not inside {base}"
        raise UnsafeFileError(source, f"{where}; rename it, or remove the link on the way")
    return target


def _read_up_to(fd: int, most: int) -> bytes:
    chunks: list[bytes] = []
    left = most
    while left > 0:
        chunk = os.read(fd, min(left, 16 * 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _open_problem(exc: OSError, directory: Path) -> str:
    if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW on a symlink (EMLINK on FreeBSD)
        return "it is a symbolic link; cassette files must be regular files in the cassette directory"
    if exc.errno == errno.ENOTDIR:
        return f"the cassette directory {directory} is a file, not a directory: move it"
    return f"it cannot be opened ({exc.strerror or exc})"


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def refuse_special_files(root: Path) -> None:
    """Raise `UnsafeFileError` for the first ``*.json`` or ``*.bin`` under ``root`` (or ``root`` itself)
    that is not a regular file: for readers that open files by path, before they do. A root reached
    through a symbolic link (committed in the project) is refused too: what it points to is not the
    repository's to read, or to delete from."""
    link = linked_part(root)
    if link is not None:
        raise UnsafeFileError(str(link), "it is a symbolic link; pass the real path of the cassettes")
    paths = [root] if not root.is_dir() else []
    for folder, _, files in os.walk(root):  # symlinked folders are not entered
        paths += (Path(folder, name) for name in sorted(files) if name.endswith((".json", ".bin")))
    for path in paths:
        found = os.lstat(path)
        if stat.S_ISLNK(found.st_mode):
            raise UnsafeFileError(str(path), "it is a symbolic link; cassette files must be regular files")
        if not stat.S_ISREG(found.st_mode):
            raise UnsafeFileError(str(path), f"it is {_kind(found.st_mode)}, not a regular file; remove it")
        if found.st_size > MAX_FILE_BYTES:
            size = f"it is {found.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit"
            raise UnsafeFileError(str(path), size)


def linked_part(path: Path) -> Path | None:
    """The first part of ``path`` that is a symbolic link: any part below the working directory (the
    project, where a pull request can add one), else the directory itself."""
    absolute = Path(os.path.abspath(path))
    try:
        base, parts = Path.cwd(), absolute.relative_to(Path.cwd()).parts
    except ValueError:  # outside the project: its parents are the machine's, not the repository's
        base, parts = absolute.parent, (absolute.name,)
    for part in parts:
        base = base / part
        if base.is_symlink():
            return base
    return None


def check_directory(path: Path, *, writable: bool) -> None:
    """Raise `CassetteError` now if ``path`` cannot be the cassette directory (before any request).

    ``path`` must be a directory or not exist yet; to be ``writable``, its nearest existing ancestor
    must be a directory we may write in (it is created on the first recording).
    """
    link = linked_part(path)
    if link is not None:
        raise CassetteError(
            f"cassette directory {path} goes through a symbolic link ({link}): a cassette must be a real"
            " directory (a link committed in a pull request could point anywhere); pass the real path"
        )
    if path.exists() and not path.is_dir():
        raise CassetteError(f"cassette path {path} is a file, not a directory: pass a directory path")
    if not writable:
        return
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise CassetteError(f"cannot create cassette directory {path}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CassetteError(
            f"cannot record into cassette directory {path}: {existing} is not writable; fix its permissions"
        )


def make_directory(path: Path) -> None:
    """Create the cassette directory before the first recording is forwarded (a failure costs nothing)."""
    check_directory(path, writable=True)  # it may have changed since the cassette was opened
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CassetteError(f"cannot create cassette directory {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CassetteError(f"cannot record into cassette directory {path}: it is not writable")


def write_atomic(
    file: Path, data: bytes, *, what: str = "cassette file", then: str = "re-record", durable: bool = False
) -> None:
    """Write via a temporary file and a rename, so readers see the old file or the new one (a link at
    ``file`` is replaced, never written through). Synced to disk before the rename when it replaces a
    file, or when ``durable``: data another file points to (a side file), or moved from one about to go.

    An OS error (a full disk, a directory where the file should be) raises `CassetteError` naming the
    file (``what`` it is, and what to do ``then``).
    """
    try:
        _write_atomic(file, data, durable)
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise CassetteError(f"cannot write {what} {file}: {problem}; fix it, then {then}") from exc


def _write_atomic(file: Path, data: bytes, durable: bool) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            old = os.lstat(file) if os.path.lexists(file) else None  # a link's target is not ours to copy
            out.write(data)
            if old is not None or durable:
                # On disk before the rename, so a crash never leaves an empty file where the old one was
                # (or where a file points). A new recording's own file has nothing to lose: after a crash
                # it is missing (the rename is not synced either), or empty, which replay reports as a
                # broken file to record again; its fsync was most of a recording's write.
                out.flush()
                os.fsync(out.fileno())
        # mkstemp makes the file private (0600); a cassette is a shared fixture, like any source file.
        os.chmod(tmp, old.st_mode & 0o777 if old is not None and stat.S_ISREG(old.st_mode) else 0o644)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FOLDERS_LISTED = 5000  # folders next to a missing cassette directory compared by name, at most


def folders_in(parent: Path) -> list[str]:
    """The folders in ``parent`` (no link), at most `FOLDERS_LISTED` + 1 of them; none if unreadable."""
    names: list[str] = []
    try:
        with os.scandir(parent) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    names.append(entry.name)
                    if len(names) > FOLDERS_LISTED:
                        break
    except OSError:
        return []
    return sorted(names)
