"""What cassettes a pytest run used, combined across pytest-xdist workers, and what follows from it:
the unused directories, pruning them, and the usage report (`httpx_cassette.storage.report`, the
shape ``httpx-cassette prune --used-by`` reads; documented in `httpx_cassette.pytest_plugin`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpx_cassette.errors import CassetteError
from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.pytest_plugin.paths import shown_path
from httpx_cassette.storage.report import UsageReport, write_usage_report

__all__ = ["Usage", "summary_title"]


@dataclass
class Usage:
    """What one process saw; an xdist controller merges its workers' (`as_json`, `merge`).

    Paths are resolved and POSIX, so those of different workers compare equal.
    """

    directories: set[str] = field(default_factory=set)  # every cassette directory opened
    files: set[str] = field(default_factory=set)  # every cassette file played or recorded
    candidates: set[str] = field(default_factory=set)  # unused directories found after collection
    roots: set[str] = field(default_factory=set)  # the folders holding module folders: pruning stops there
    complete: bool = True  # false when a worker crashed or the run was interrupted

    def as_json(self) -> dict[str, Any]:
        return {
            "directories": sorted(self.directories),
            "files": sorted(self.files),
            "candidates": sorted(self.candidates),
            "roots": sorted(self.roots),
            "complete": self.complete,
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.directories.update(data["directories"])
        self.files.update(data["files"])
        self.candidates.update(data["candidates"])
        self.roots.update(data["roots"])
        self.complete = self.complete and bool(data["complete"])

    def track(self, session: CassetteSession, *, files: bool) -> None:
        """Note a session's directory, and with ``files`` the cassette files it used."""
        self.directories.add(session.path.resolve().as_posix())
        if not files:
            return
        try:
            used = session.used_files()
        except CassetteError:  # a broken file in the directory: reported where it is used, not here
            self.complete = False
            return
        self.files.update(file.resolve().as_posix() for file in used if file.exists())

    def unused_directories(self) -> list[Path]:
        """The candidates that no opened cassette directory is, or lies under."""
        used = self.directories
        return sorted(
            Path(c) for c in self.candidates if not any(u == c or u.startswith(f"{c}/") for u in used)
        )

    def prune(self, unused: Iterable[Path]) -> None:
        """Delete the ``unused`` directories, and the parents left empty up to the roots."""
        roots = {Path(r) for r in self.roots}
        for folder in unused:
            # Only a real folder under a cassette root: what a link (or a worker's report) names is kept.
            if folder.is_symlink() or not any(root in folder.parents for root in roots):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            parent = folder.parent
            while parent not in roots and parent != parent.parent and _is_empty_dir(parent):
                parent.rmdir()
                parent = parent.parent

    def write_report(self, path: Path, unused: Iterable[Path]) -> None:
        """The usage report at ``path``, its paths relative to its own folder, a name holding a
        credential masked (`shown_path`: a folder named before test ids were hidden). A used file
        whose path had to be masked makes the report incomplete, so ``prune --used-by`` deletes
        nothing rather than the file it cannot recognise."""
        base = path.resolve().parent

        def relative(paths: Iterable[str | Path]) -> list[str]:
            return sorted(shown_path(Path(os.path.relpath(p, base)).as_posix()) for p in paths)

        used = relative(self.files)
        masked = any(Path(os.path.relpath(p, base)).as_posix() not in used for p in self.files)
        report = UsageReport(
            complete=self.complete and not masked,
            used=used,
            directories=relative(self.directories),
            unused_directories=relative(unused),
        )
        write_usage_report(path, report)


def summary_title(count: int, *, pruned: bool, prune: bool) -> str:
    """The title of the session summary listing ``count`` unused directories."""
    folders = f"{count} cassette director{'y' if count == 1 else 'ies'} no test used"
    if pruned:
        return f"httpx_cassette: pruned {folders}"
    if prune:
        return f"httpx_cassette: {folders}, not pruned (a worker crashed or the run was interrupted)"
    return f"httpx_cassette: {folders} (delete with --cassette-prune)"


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not any(folder.iterdir())
