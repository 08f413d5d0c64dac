"""Deleting the interactions no test used, from the usage report the pytest plugin writes
(``pytest --cassette-report usage.json``; its shape is documented in `httpx_cassette.pytest_plugin`).

Only the report's ``used`` list (every cassette file some test played or recorded; paths relative to
the report's own folder, or absolute) and its ``complete`` flag are read. Only ``*.json`` cassette
files under the pruned directory, and their ``<stem>.<n>.bin`` body files, are ever deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

from httpx_cassette.errors import CassetteError
from httpx_cassette.storage.files import cassette_files, side_files
from httpx_cassette.storage.report import read_usage_report

__all__ = ["prune", "read_report", "unused_files"]


def read_report(report: Path) -> set[Path]:
    """The resolved paths of every file ``report`` lists as used."""
    data = read_usage_report(report)
    if not data.complete:
        raise CassetteError(
            f"usage report {report} is incomplete (a worker crashed or the run was interrupted), so it may"
            " miss files in use; nothing was deleted: run the tests again to write a complete report"
        )
    base = report.resolve().parent
    return {Path(os.path.realpath(base / entry)) for entry in data.used}


def unused_files(directory: Path, used: set[Path]) -> list[Path]:
    """The cassette files under ``directory`` that ``used`` does not name."""
    # realpath, not resolve: a symlink loop in a hostile directory must not raise
    return [file for file in _listed(directory) if Path(os.path.realpath(file)) not in used]


def prune(directory: Path, used: set[Path], *, dry_run: bool = False) -> list[Path]:
    """Delete (unless ``dry_run``) the unused cassette files under ``directory``; returns them.

    Refuses when no used file lies under ``directory``: that report comes from another project or a
    run that selected none of these tests, and would delete everything.
    """
    if not directory.is_dir():
        raise CassetteError(f"{directory} is not a directory: pass the cassette folder to prune")
    files = _listed(directory)
    unused = unused_files(directory, used)
    if files and len(unused) == len(files):
        raise CassetteError(
            f"the usage report names none of the {len(files)} cassette files under {directory}; "
            "nothing was deleted (was the report written by a run of the tests that use them?)"
        )
    if not dry_run:
        for file in unused:
            for side in side_files(file):
                side.unlink(missing_ok=True)
            file.unlink()
        for folder in sorted({f.parent for f in unused}, key=lambda p: -len(p.parts)):
            _remove_if_empty(folder, directory)
    return unused


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
