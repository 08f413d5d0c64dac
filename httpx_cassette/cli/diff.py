"""A semantic diff of two cassette files or directories, for reviewing a re-recording.

Files are compared as data, not text: each difference is a JSON path with its old and new value
(``responses[0].headers.x-request-id: "req_a" → "req_b"``). The same change in many events of a
stream (a new completion id in every chunk) is reported once with ``[*]`` and a count, and a
stream whose assembled text, tool calls or finish reason changed says so in words. Timing
(``elapsed_ms``, ``offsets_ms``) and ``meta`` change on every recording and are left out unless
asked. Directories are matched file by file on the request's key (within each folder), so a renamed
file is still paired, and a file holding the same request as another is reported, never hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.cli.inspect import Transcript, load, transcript_of
from httpx_cassette.core.key import key_of
from httpx_cassette.model.cassette import CassetteFile
from httpx_cassette.model.jsondiff import MISSING, as_text, walk
from httpx_cassette.storage.files import files_at

__all__ = [
    "MISSING",
    "Change",
    "DirectoryDiff",
    "FileDiff",
    "StreamChange",
    "diff_files",
    "diff_paths",
]


_TIMING = frozenset({"elapsed_ms", "offsets_ms"})
_EVENT_INDEX = re.compile(r"^(responses\[\d+\]\.body)\[\d+\]")


@dataclass(frozen=True)
class Change:
    """One difference: ``path`` went from ``old`` to ``new`` (`MISSING` when added or removed).

    ``count`` > 1 when the same change happened in that many events of a stream (path has ``[*]``).
    """

    path: str
    old: Any
    new: Any
    count: int = 1


@dataclass(frozen=True)
class StreamChange:
    """A change in what a stream says: ``what`` is ``text``, ``tool calls`` or ``finish reason``."""

    response: int
    what: str
    old: str
    new: str


@dataclass
class FileDiff:
    """The differences between two versions of one interaction."""

    old: Path
    new: Path
    changes: list[Change] = field(default_factory=list)
    streams: list[StreamChange] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.changes and not self.streams


@dataclass
class DirectoryDiff:
    """Two cassettes compared: interactions only in the new one, only in the old one, and changed."""

    added: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    changed: list[FileDiff] = field(default_factory=list)
    unchanged: int = 0

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _as_data(cassette: CassetteFile, everything: bool) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(cassette)
    if not everything:
        data.pop("meta", None)
        for response in data.get("responses", []):
            for name in _TIMING:
                response.pop(name, None)
    return data


def _collapse(found: list[tuple[str, Any, Any]]) -> list[Change]:
    """Merge the same change repeated across the events of a stream into one ``[*]`` change."""
    groups: dict[tuple[str, str, str], list[tuple[str, Any, Any]]] = {}
    for path, old, new in found:
        general = _EVENT_INDEX.sub(r"\1[*]", path)
        token = (general, repr(old), repr(new))
        groups.setdefault(token, []).append((path, old, new))
    changes: list[Change] = []
    for (general, _, _), members in groups.items():
        if len(members) == 1:
            path, old, new = members[0]
            changes.append(Change(path, old, new))
        else:
            changes.append(Change(general, members[0][1], members[0][2], len(members)))
    return changes


def _calls(transcript: Transcript) -> str:
    # A name is whatever the file sent: a hostile one's number or object reads as its JSON.
    return "; ".join(
        f"{'?' if c.name is None else as_text(c.name)}({c.arguments})" for c in transcript.tool_calls
    )


def _reason(transcript: Transcript) -> str:
    """The finish reason as text ("" when none): the file may hold any JSON value there."""
    reason: object = transcript.finish_reason
    return "" if reason is None else as_text(reason)


def _stream_changes(old: CassetteFile, new: CassetteFile) -> list[StreamChange]:
    found: list[StreamChange] = []
    for i, (a, b) in enumerate(zip(old.responses, new.responses, strict=False)):
        if not (a.is_streaming and b.is_streaming):
            continue
        ta, tb = transcript_of(a.events()), transcript_of(b.events())
        for what, va, vb in (
            ("text", ta.text, tb.text),
            ("tool calls", _calls(ta), _calls(tb)),
            ("finish reason", _reason(ta), _reason(tb)),
        ):
            if va != vb:
                found.append(StreamChange(i, what, va, vb))
    return found


def diff_files(old: Path, new: Path, *, everything: bool = False) -> FileDiff:
    """Compare two cassette files; ``everything`` also compares timing and ``meta``."""
    a, b = load(old), load(new)
    found = list(walk(_as_data(a, everything), _as_data(b, everything), ""))
    return FileDiff(old, new, _collapse(found), _stream_changes(a, b))


def _by_key(root: Path) -> dict[tuple[Path, str], list[Path]]:
    """The files below ``root`` by folder and request key: a folder's files of one request (a
    llama-stack request's several files, or a copy added next to a file) are all kept, in name order."""
    found: dict[tuple[Path, str], list[Path]] = {}
    for file in files_at(root):
        found.setdefault((file.parent.relative_to(root), key_of(load(file).request)), []).append(file)
    return found


def _pairs(before: list[Path], after: list[Path]) -> tuple[list[tuple[Path, Path]], list[Path], list[Path]]:
    """One request's files paired old to new: by name first, then the rest in name order (renamed
    files); returns the pairs, and the files left over in the old and in the new cassette."""
    named = {file.name: file for file in after}
    pairs = [(file, named.pop(file.name)) for file in before if file.name in named]
    paired = {old for old, _ in pairs}
    rest_old, rest_new = [f for f in before if f not in paired], sorted(named.values())
    pairs.extend(zip(rest_old, rest_new, strict=False))
    return pairs, rest_old[len(rest_new) :], rest_new[len(rest_old) :]


def diff_paths(old: Path, new: Path, *, everything: bool = False) -> DirectoryDiff:
    """Compare two cassettes (directories, or two files) interaction by interaction.

    Files are paired by folder and request key, so a renamed file is compared with its old self; every
    file is reported, one holding the same request as another file of its folder too (as added)."""
    if old.is_file() and new.is_file():
        single = diff_files(old, new, everything=everything)
        return DirectoryDiff(changed=[] if single.same else [single], unchanged=int(single.same))
    before, after = _by_key(old), _by_key(new)
    result = DirectoryDiff()
    pairs: list[tuple[Path, Path]] = []
    for key in before.keys() | after.keys():
        paired, removed, added = _pairs(before.get(key, []), after.get(key, []))
        pairs.extend(paired)
        result.removed.extend(removed)
        result.added.extend(added)
    result.removed.sort()
    result.added.sort()
    for a, b in sorted(pairs):
        single = diff_files(a, b, everything=everything)
        if single.same:
            result.unchanged += 1
        else:
            result.changed.append(single)
    return result
