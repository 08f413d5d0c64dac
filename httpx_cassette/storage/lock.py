"""The lock every writer of a cassette directory holds while it reads, merges and replaces a file.

On POSIX it is ``flock`` on the directory itself: nothing is added to a directory that is usually
committed, it works across processes and containers sharing the directory, and the kernel releases it
when its holder dies, so a killed recorder never leaves the directory locked. Windows cannot lock a
directory, so there it is ``filelock`` on a lock file in the temporary directory named after the
cassette directory's real path. Re-entrant per thread; threads exclude each other (each holds its own
open descriptor, and ``flock`` locks belong to descriptors, not processes).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DirectoryLock"]


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only

    def _acquire(directory: Path) -> Any:
        import hashlib
        import tempfile

        from filelock import FileLock

        name = hashlib.sha256(os.path.realpath(directory).lower().encode()).hexdigest()[:32]
        lock = FileLock(Path(tempfile.gettempdir()) / f"httpx-cassette-{name}.lock")
        lock.acquire()
        return lock

    def _release(handle: Any) -> None:
        handle.release()

else:
    import fcntl

    def _acquire(directory: Path) -> Any:
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks in the kernel queue; released if this process dies
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _release(handle: Any) -> None:
        os.close(handle)  # closing the last descriptor of an open file releases its flock


class DirectoryLock:
    """A context manager; creates the directory when first entered."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held = threading.local()  # per thread: the OS handle and the nesting depth

    def __enter__(self) -> DirectoryLock:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._held.handle = _acquire(self.directory)
        self._held.depth = depth + 1
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._held.depth -= 1
        if self._held.depth == 0:
            handle, self._held.handle = self._held.handle, None
            _release(handle)
