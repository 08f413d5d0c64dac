"""Cassette directories that no collected test owns any more: what ``--cassette-prune`` may delete
(which folders are considered is described in `httpx_cassette.pytest_plugin`).

Found after collection, and only where the collection says enough: a module collected only in part
(``file::test``) keeps its test folders. A folder holding no ``*.json`` file, or one some test's
cassette lies in or under, is never a candidate.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from httpx_cassette.errors import CassetteError
from httpx_cassette.intercept.use import DECORATED
from httpx_cassette.pytest_plugin.marker import asks_for_cassette, marker_options
from httpx_cassette.pytest_plugin.paths import Layout, recording_name
from httpx_cassette.pytest_plugin.settings import Settings
from httpx_cassette.storage.files import cassette_files, linked_part

__all__ = ["cassette_folders", "claimed_folders", "stale_folders"]


def stale_folders(
    functions: list[pytest.Function], settings: Settings, args: Iterable[str], invoked: Path
) -> list[Path]:
    """The candidates among the cassette folders of the collected ``functions`` (deselected included);
    ``args`` are pytest's test path arguments, relative to ``invoked``."""
    claimed = {path for item in functions for path in claimed_folders(item, settings.layout)}
    scan = _Scan(settings, claimed)
    modules = {item.path for item in functions}
    full, partial = _collected_in_full(args, invoked)
    return [*scan.test_folders(modules - partial), *scan.module_folders(modules, full)]


def claimed_folders(item: pytest.Function, layout: Layout) -> list[Path]:
    """The folders test ``item`` uses: its own, pytest-recording's name for it (and the name it had
    before credentials in ids were hashed slowly: still replayed, never pruned), its marker's path and
    the paths of ``use_cassette`` decorating it."""
    module = layout.module_folder(item.path)
    folders = [layout.test_folder(item), module / recording_name(item)]
    if "secret-" in folders[-1].name:
        folders.append(module / recording_name(item, legacy=True))
    with contextlib.suppress(CassetteError):  # reported when the test runs
        options = marker_options(item)
        if options and options.get("path") is not None:
            folders.append(layout.marker_path(item, options["path"]))
    return [*folders, *(Path(path) for path in getattr(item.obj, DECORATED, ()))]


def cassette_folders(item: pytest.Function, settings: Settings, *, vcr_names: bool) -> list[Path] | None:
    """The folders test ``item`` uses (`claimed_folders`, a ``vcr`` marker's extra cassettes) when it
    shows that it uses a cassette: the ``cassette`` marker, the ``cassette`` fixture, a ``vcr`` marker
    (``vcr_names``: this plugin has pytest-recording's names) or ``use_cassette`` decorating it; else None."""
    try:
        marked = marker_options(item) is not None
    except CassetteError:  # reported when the test runs
        marked = True
    vcr = list(item.iter_markers("vcr")) if vcr_names and not settings.disable_recording else []
    decorated = bool(getattr(item.obj, DECORATED, ()))
    if not (marked or vcr or decorated or asks_for_cassette(item)):
        return None
    module = settings.layout.module_folder(item.path)
    extras = [module / str(name).removesuffix(".yaml") for marker in vcr for name in marker.args]
    return [*claimed_folders(item, settings.layout), *extras]


def _collected_in_full(args: Iterable[str], invoked: Path) -> tuple[list[Path], set[Path]]:
    """Directories collected in full, and modules collected only in part (``file::test``)."""
    full: list[Path] = []
    partial: set[Path] = set()
    for arg in args:
        path = (invoked / arg.split("::", 1)[0]).resolve()
        if "::" in arg:
            partial.add(path)
        elif path.is_dir():
            full.append(path)
    return full, partial


@dataclass(frozen=True)
class _Scan:
    settings: Settings
    claimed: set[Path]

    def test_folders(self, modules: set[Path]) -> Iterator[Path]:
        """Folders named like a test in the cassette folders of ``modules``, whose test is gone."""
        for module in sorted(modules):
            for entry in _subfolders(self.settings.layout.module_folder(module)):
                if self._looks_like_test(entry.name) and self._stale(entry):
                    yield entry

    def module_folders(self, modules: set[Path], full: list[Path]) -> Iterator[Path]:
        """Folders named like a test module beside the ones of ``modules``, whose module is gone."""
        directories = {m.parent for m in modules if any(m.parent == d or d in m.parent.parents for d in full)}
        for directory in sorted(directories):
            for entry in _subfolders(self.settings.layout.cassette_root(directory)):
                gone = not (directory / f"{entry.name}.py").exists() and not (directory / entry.name).exists()
                if gone and self._looks_like_module(entry.name) and self._stale(entry):
                    yield entry

    def _looks_like_test(self, name: str) -> bool:
        function = name.split("-", 1)[0].rsplit(".", 1)[-1]
        patterns = self.settings.function_patterns
        return any(function.startswith(p) or fnmatch.fnmatch(function, p) for p in patterns)

    def _looks_like_module(self, name: str) -> bool:
        return any(fnmatch.fnmatch(f"{name}.py", pattern) for pattern in self.settings.module_patterns)

    def _stale(self, folder: Path) -> bool:
        owned = any(c == folder or folder in c.parents or c in folder.parents for c in self.claimed)
        has_files = bool(cassette_files(folder, recursive=True))
        return has_files and not owned


def _subfolders(folder: Path) -> list[Path]:
    """The real folders in ``folder``. Never through a symbolic link (a pull request can commit one that
    points anywhere): a linked folder, or one under a link, is no candidate for deletion."""
    if not folder.is_dir() or linked_part(folder) is not None:
        return []
    return sorted(entry for entry in folder.iterdir() if entry.is_dir() and not entry.is_symlink())
