"""Where the pytest plugin keeps cassettes: a folder per test module, and in it one per test (the
layout is described in `httpx_cassette.pytest_plugin`)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Layout", "folder_name", "safe_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 40


def safe_id(test_id: str) -> str:
    """A parametrize id as a path component: kept when safe and short, else cleaned plus a hash."""
    safe = _UNSAFE.sub("_", test_id).strip("._-")
    if safe == test_id and len(test_id) <= _MAX_ID:
        return test_id
    digest = hashlib.sha256(test_id.encode()).hexdigest()[:8]
    head = safe[: _MAX_ID - 9].rstrip("._-")
    return f"{head}-{digest}" if head else digest


def folder_name(item: pytest.Function) -> str:
    """``test_name``, ``Class.test_name``, plus ``-<id>`` for a parametrized test."""
    name = item.originalname
    if item.cls is not None:
        name = f"{item.cls.__name__}.{name}"
    callspec = getattr(item, "callspec", None)
    return f"{name}-{safe_id(callspec.id)}" if callspec is not None else name


@dataclass(frozen=True)
class Layout:
    """The cassette folders of a run: ``root`` is relative (beside each test file) or absolute (one
    folder for the suite); ``rootdir`` is pytest's."""

    root: Path
    rootdir: Path

    def module_folder(self, module: Path) -> Path:
        """The folder holding the cassettes of test module ``module``."""
        if self.root.is_absolute():
            try:
                return self.root / module.parent.relative_to(self.rootdir) / module.stem
            except ValueError:  # a test file outside rootdir
                return self.root / module.stem
        return module.parent / self.root / module.stem

    def cassette_root(self, directory: Path) -> Path:
        """The folder holding the module folders of the test files in ``directory``."""
        return self.module_folder(directory / "x.py").parent

    def test_folder(self, item: pytest.Function) -> Path:
        """The test's own cassette, used when its marker names no path."""
        return self.module_folder(item.path) / folder_name(item)

    def marker_path(self, item: pytest.Function, value: str | os.PathLike[str]) -> Path:
        """A marker's path: relative ones are inside the module's cassette folder."""
        path = Path(value)
        return path if path.is_absolute() else self.module_folder(item.path) / path

    def cassette_of(self, item: pytest.Function, value: str | os.PathLike[str] | None) -> Path:
        """The cassette the test opens: the marker's path if it gives one, else the test's own."""
        return self.test_folder(item) if value is None else self.marker_path(item, value)

    def shown(self, path: Path) -> str:
        """``path`` as messages show it: relative to rootdir when inside it."""
        try:
            return path.relative_to(self.rootdir).as_posix()
        except ValueError:
            return path.as_posix()
