"""Where the pytest plugin keeps cassettes: a folder per test module, and in it one per test (the
layout is described in `httpx_cassette.pytest_plugin`).

A test id is part of a folder name, and folder names reach git: a credential in an id (a
``parametrize`` value read from the environment) is replaced by ``secret-<8 hex of it>`` (`hidden`),
so the same id names the same folder every run and the rest of the id stays readable.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.secrets import known_format, random_token, secret_value
from httpx_cassette.storage.scan import masked_name

__all__ = ["Layout", "folder_name", "hidden", "recording_name", "safe_id", "shortened", "shown_path"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 40
_FORBIDDEN = "<>?%*:|\"'/\\"  # what pytest-recording replaces by "-" in a cassette name
_NAME_MAX = 255  # a file name's limit: pytest-recording shortens longer names
_YAML = ".yaml"
_HIDDEN = "secret-"
_PART = re.compile(r"[^-]+")
_SCANNER = SecretScanner()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with ``spans`` as spaces (same length: offsets stay; a space ends every token)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _every(text: str, secret: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(secret), text)]


def _secret_spans(text: str, params: Mapping[str, object]) -> list[tuple[int, int]]:
    """Where ``text`` (a test id) holds a credential, by the library's rules: a known format anywhere
    (`known_format`); a whole part (between ``-``, with pytest's suffix for a repeated id) that is the
    value of a parameter named like a secret (`secret_value`: ``api_key``, ``password``); a random
    token (`random_token`), judged per part first so the other parts stay, then on what is left."""
    spans = [span for secret in known_format(text) for span in _every(text, secret)]
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not secret_value(name, value):
            continue
        for written in {str(value), str(value).encode("unicode_escape").decode("ascii")}:
            pattern = re.compile(rf"(?<![^\[-]){re.escape(written)}\d*(?![^\]-])")
            spans += [m.span() for m in pattern.finditer(text)]
    rest = _blanked(text, spans)
    for part in _PART.finditer(rest):
        token = random_token(part.group(0))
        if token is not None:
            start = part.start() + part.group(0).index(token)
            spans.append((start, start + len(token)))
    rest = _blanked(text, spans)
    while (token := random_token(rest)) is not None:  # one spanning parts: all of it
        start = rest.index(token)
        spans.append((start, start + len(token)))
        rest = _blanked(rest, spans[-1:])
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def hidden(test_id: str, params: Mapping[str, object] | None = None) -> str:
    """``test_id`` with each credential in it (`_secret_spans`; ``params``: the test's parameters by
    name) replaced by ``secret-<8 hex of it>``: stable, so replay finds the folder it recorded. An id
    the secret scanner still finds something in (a URL with a password) becomes one hash."""
    out = test_id
    for start, end in reversed(_secret_spans(test_id, params or {})):
        out = f"{out[:start]}{_HIDDEN}{_digest(test_id[start:end])}{out[end:]}"
    return f"{_HIDDEN}{_digest(test_id)}" if _SCANNER.scan(out) else out


def shown_path(path: str) -> str:
    """A POSIX ``path`` as a report or a message shows it: each name holding a credential masked, by
    the rules ``httpx-cassette scan`` judges names with (a folder named before ids were `hidden`)."""
    return "/".join(masked_name(name) for name in path.split("/"))


def safe_id(test_id: str, params: Mapping[str, object] | None = None) -> str:
    """A parametrize id as a path component: its credentials `hidden`, then kept when safe and short,
    else cleaned plus a hash."""
    test_id = hidden(test_id, params)
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
    return f"{name}-{safe_id(callspec.id, callspec.params)}" if callspec is not None else name


def recording_name(item: pytest.Function) -> str:
    """The cassette name pytest-recording gives the test, without ``.yaml``: the folder a YAML
    cassette converted by ``httpx-cassette convert --from vcr`` lands in (``test_x[gpt-4o]``).

    ``@pytest.mark.default_cassette("name.yaml")`` names it; else ``Class.name`` or ``name`` with the
    parametrize id (its credentials `hidden`), forbidden characters replaced by ``-`` and long names
    shortened, as it does.
    """
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
    else:
        name = item.name
        callspec = getattr(item, "callspec", None)
        if callspec is not None and name == f"{item.originalname}[{callspec.id}]":
            name = f"{item.originalname}[{hidden(callspec.id, callspec.params)}]"
        elif callspec is not None:
            name = hidden(name, callspec.params)
        name = f"{item.cls.__name__}.{name}" if item.cls is not None else name
        for char in _FORBIDDEN:
            name = name.replace(char, "-")
    return shortened(name)


def shortened(name: str) -> str:
    """A pytest-recording cassette name (a ``default_cassette_name`` fixture's value) as a folder name:
    shortened as it shortens a file name over 255 characters with ``.yaml``, without ``.yaml``."""
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
        """``path`` as messages show it: relative to rootdir when inside it, a name holding a
        credential masked (`shown_path`)."""
        try:
            return shown_path(path.relative_to(self.rootdir).as_posix())
        except ValueError:
            return shown_path(path.as_posix())
