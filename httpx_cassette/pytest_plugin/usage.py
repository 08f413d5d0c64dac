"""What cassettes a pytest run used, combined across pytest-xdist workers, and what follows from it:
the unused directories, pruning them, and the usage report (`httpx_cassette.storage.report`, the
shape ``httpx-cassette prune --used-by`` reads; documented in `httpx_cassette.pytest_plugin`).

Per test, too (`httpx_cassette.pytest_plugin.runs` fills it in): the folders of every collected test
that uses a cassette, deselected ones included, and how each test that ran ended. A test that did
not run to a pass keeps its folders: the report names them as ``kept`` (and counts the tests that did
not run, ``not_run``), so no file of theirs is ever pruned on this run's word, while the cassettes of
the tests that ran and passed may be. The report is incomplete, and refused whole, only when that
per-test evidence may be missing: a worker crashed, the run was interrupted, or a path had to be
masked.
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

__all__ = ["FAILED", "PASSED", "Usage", "summary_title"]

PASSED, FAILED = "passed", "failed"  # how a test that ran ended (an xfail, a teardown error: failed)


@dataclass
class Usage:
    """What one process saw; an xdist controller merges its workers' (`as_json`, `merge`).

    Paths are resolved and POSIX, so those of different workers compare equal.
    """

    directories: set[str] = field(default_factory=set)  # every cassette directory opened
    files: set[str] = field(default_factory=set)  # every cassette file played or recorded
    candidates: set[str] = field(default_factory=set)  # unused directories found after collection
    roots: set[str] = field(default_factory=set)  # the folders holding module folders: pruning stops there
    complete: bool = True  # false when a worker crashed or the run was interrupted: evidence is missing
    tests: dict[str, set[str]] = field(
        default_factory=dict
    )  # node id -> folders: collected tests with a cassette
    outcomes: dict[str, str] = field(default_factory=dict)  # node id -> PASSED or FAILED: the tests that ran
    opened_by: dict[str, set[str]] = field(default_factory=dict)  # node id -> directories opened while it ran

    def as_json(self) -> dict[str, Any]:
        return {
            "directories": sorted(self.directories),
            "files": sorted(self.files),
            "candidates": sorted(self.candidates),
            "roots": sorted(self.roots),
            "complete": self.complete,
            "tests": {test: sorted(folders) for test, folders in self.tests.items()},
            "outcomes": self.outcomes,
            "opened_by": {test: sorted(folders) for test, folders in self.opened_by.items()},
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.directories.update(data["directories"])
        self.files.update(data["files"])
        self.candidates.update(data["candidates"])
        self.roots.update(data["roots"])
        self.complete = self.complete and bool(data["complete"])
        for test, folders in data["tests"].items():
            self.tests.setdefault(test, set()).update(folders)
        for test, outcome in data["outcomes"].items():
            self.ended(test, outcome)
        for test, folders in data["opened_by"].items():
            self.opened_by.setdefault(test, set()).update(folders)

    def ended(self, test: str, outcome: str) -> None:
        """Test ``test`` ran to its end with ``outcome``; a failure anywhere (a rerun) wins."""
        if self.outcomes.get(test) != FAILED:
            self.outcomes[test] = outcome

    def track(self, session: CassetteSession, *, files: bool, test: str | None = None) -> None:
        """Note a session's directory (opened while ``test`` ran), and with ``files`` the cassette
        files it used."""
        directory = session.path.resolve().as_posix()
        self.directories.add(directory)
        if test is not None:
            self.opened_by.setdefault(test, set()).add(directory)
        if not files:
            return
        try:
            used = session.used_files()
        except CassetteError:  # a broken file in the directory: reported where it is used, not here
            self.complete = False
            return
        self.files.update(file.resolve().as_posix() for file in used if file.exists())

    def not_run(self) -> list[str]:
        """The collected tests with a cassette that did not run to their end: deselected, skipped,
        failed in setup, or never reached (``-x``, an interrupted run, a crashed worker)."""
        return sorted(test for test in self.tests if test not in self.outcomes)

    def kept(self) -> set[str]:
        """The folders no prune may touch on this run's word: those of the tests that did not run (and
        any they opened before stopping: a skip in the body), and those of the tests that ran but did
        not pass (they may have stopped before using them all)."""
        kept: set[str] = set()
        for test in {*self.tests, *self.opened_by, *self.outcomes}:
            if self.outcomes.get(test) != PASSED:
                kept |= self.tests.get(test, set()) | self.opened_by.get(test, set())
        return kept

    def unused_directories(self) -> list[Path]:
        """The candidates that no opened cassette directory is, or lies under, and that hold no folder
        kept for a test that did not run (nor lie in one)."""
        used, kept = self.directories, self.kept()
        return sorted(
            Path(c)
            for c in self.candidates
            if not any(u == c or u.startswith(f"{c}/") for u in used)
            and not any(_overlap(k, c) for k in kept)
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
        nothing rather than the file it cannot recognise; so does a kept folder whose path had to be
        masked. A test with a cassette that did not run to its end does not (it is counted, `not_run`):
        its folders are ``kept``, which is what ``prune`` goes by."""
        base = path.resolve().parent

        def relative(paths: Iterable[str | Path]) -> list[str]:
            return sorted(shown_path(Path(os.path.relpath(p, base)).as_posix()) for p in paths)

        def masked(paths: Iterable[str], shown: list[str]) -> bool:
            return any(Path(os.path.relpath(p, base)).as_posix() not in shown for p in paths)

        used, kept, not_run = relative(self.files), relative(self.kept()), self.not_run()
        hidden = masked(self.files, used) or masked(self.kept(), kept)
        report = UsageReport(
            complete=self.complete and not hidden,
            not_run=len(not_run),
            used=used,
            directories=relative(self.directories),
            unused_directories=relative(unused),
            kept=kept,
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


def _overlap(a: str, b: str) -> bool:
    """Whether POSIX paths ``a`` and ``b`` are one folder, or one lies in the other."""
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not any(folder.iterdir())
