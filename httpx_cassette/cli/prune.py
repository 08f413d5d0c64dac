"""Deleting the interactions no test used, from the usage report the pytest plugin writes
(``pytest --cassette-report usage.json``; its shape is documented in `httpx_cassette.pytest_plugin`).

A file is deleted only on the report's evidence that the tests owning it ran and left it unused:
it is in no test's ``used`` list, it lies in a cassette directory some test of the run opened
(``directories``; a cassette reads the files of its own folder) or under a folder the plugin found no
collected test owns any more (``unused_directories``), and in no folder of a test that
did not run to a pass (``kept``: deselected, skipped, failed, not reached). Tests that did not run
(``not_run``) do not make the report refused: their folders are kept, the others' pruned. A report that
is not ``complete`` (a worker crashed, the run was interrupted, a path had to be masked: the per-test
evidence may be missing) is refused whole. Paths are relative to the report's own folder, or
absolute. Only ``*.json`` cassette files under the pruned directory, and their ``<stem>.<n>.bin`` body
files, are ever deleted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from httpx_cassette.errors import CassetteError
from httpx_cassette.storage.files import cassette_files, side_files
from httpx_cassette.storage.report import read_usage_report

__all__ = ["Evidence", "Pruned", "prune", "read_report", "unused_files"]


@dataclass(frozen=True)
class Evidence:
    """What a usage report says, as resolved paths."""

    used: set[Path]  # every file some test used
    opened: set[Path] = field(default_factory=set)  # the cassette directories the run opened
    stale: set[Path] = field(default_factory=set)  # folders the plugin found no collected test owns
    kept: set[Path] = field(default_factory=set)  # folders of tests that did not run to a pass

    def may_delete(self, file: Path) -> bool:
        """Whether the report shows that the tests owning unused ``file`` ran and passed: a cassette
        the run opened holds it (a cassette reads the files in its own folder), or a folder no test owns
        any more, and it lies in no kept folder."""
        real = Path(os.path.realpath(file))
        parents = set(real.parents)
        return (real.parent in self.opened or bool(parents & self.stale)) and not parents & self.kept


@dataclass(frozen=True)
class Pruned:
    """What `prune` found: the unused files it deleted, and those it kept for lack of evidence."""

    deleted: list[Path]
    kept: list[Path]


def read_report(report: Path) -> Evidence:
    """The evidence of the usage report at ``report``; a `CassetteError` for an incomplete one."""
    data = read_usage_report(report)
    if not data.complete:  # tests that merely did not run leave it complete: their folders are ``kept``
        raise CassetteError(
            f"usage report {report} is incomplete (a worker crashed or the run was interrupted), so it may"
            " miss files in use; nothing was deleted: run the tests again to write a complete report"
        )
    base = report.resolve().parent

    def resolved(entries: Iterable[str]) -> set[Path]:
        return {Path(os.path.realpath(base / entry)) for entry in entries}

    return Evidence(
        used=resolved(data.used),
        opened=resolved(data.directories),
        stale=resolved(data.unused_directories),
        kept=resolved(data.kept),
    )


def unused_files(directory: Path, used: set[Path]) -> list[Path]:
    """The cassette files under ``directory`` that ``used`` does not name."""
    # realpath, not resolve: a symlink loop in a hostile directory must not raise
    return [file for file in _listed(directory) if Path(os.path.realpath(file)) not in used]


def prune(directory: Path, evidence: Evidence, *, dry_run: bool = False) -> Pruned:
    """Delete (unless ``dry_run``) the unused cassette files under ``directory`` that ``evidence`` shows
    may go (`Evidence.may_delete`); the others are kept and returned apart.

    Refuses when no used file lies under ``directory``: that report comes from another project or a
    run that selected none of these tests, and would delete everything.
    """
    if not directory.is_dir():
        raise CassetteError(f"{directory} is not a directory: pass the cassette folder to prune")
    files = _listed(directory)
    unused = unused_files(directory, evidence.used)
    if files and len(unused) == len(files):
        raise CassetteError(
            f"the usage report names none of the {len(files)} cassette files under {directory}; "
            "nothing was deleted (was the report written by a run of the tests that use them?)"
        )
    deleted = [file for file in unused if evidence.may_delete(file)]
    if not dry_run:
        for file in deleted:
            for side in side_files(file):
                side.unlink(missing_ok=True)
            file.unlink()
        for folder in sorted({f.parent for f in deleted}, key=lambda p: -len(p.parts)):
            _remove_if_empty(folder, directory)
    return Pruned(deleted, [file for file in unused if file not in deleted])


def _listed(directory: Path) -> list[Path]:
    # The files replay reads, dot-files included (`cassette_files` leaves out only write temporaries).
    return cassette_files(directory, recursive=True)


def _remove_if_empty(folder: Path, stop: Path) -> None:
    # A test's own cassette folder left empty goes too, up to (not including) the pruned directory.
    while folder != stop and stop in folder.parents:
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent
