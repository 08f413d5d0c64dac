"""Where the pytest plugin keeps cassettes: a folder per test module, and in it one per test (the
layout is described in `httpx_cassette.pytest_plugin`)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Layout", "folder_name", "recording_name", "safe_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 40
_FORBIDDEN = "<>?%*:|\"'/\\"  # what pytest-recording replaces by "-" in a cassette name
_NAME_MAX = 255  # a file name's limit: pytest-recording shortens longer names
_YAML = ".yaml"


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


def recording_name(item: pytest.Function) -> str:
    """The cassette name pytest-recording gives the test, without ``.yaml``: the folder a YAML
    cassette converted by ``httpx-cassette convert --from vcr`` lands in (``test_x[gpt-4o]``).

    ``@pytest.mark.default_cassette("name.yaml")`` names it; else ``Class.name`` or ``name`` with the
    parametrize id, forbidden characters replaced by ``-`` and long names shortened, as it does.
    """
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
    else:
        name = f"{item.cls.__name__}.{item.name}" if item.cls is not None else item.name
        for char in _FORBIDDEN:
            name = name.replace(char, "-")
    if len(name) + len(_YAML) > _NAME_MAX:
        digest = hashlib.md5(name.encode()).hexdigest()  # md5 of the name: what pytest-recording appends
        name = f"{name[: _NAME_MAX - len(_YAML) - len(digest) - 3]}...{digest}"
    return name.removesuffix(_YAML)


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
