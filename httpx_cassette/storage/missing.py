"""A replay miss, diagnosed: the closest recorded requests with their differences, and advice.

Imported at the first miss, not with the package: the diagnosis (its diff, its advice, difflib's "did
you mean") is no part of a replay that hits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from httpx_cassette.core.key import KeyOptions, canonical_form
from httpx_cassette.core.miss import diagnose, miss_error
from httpx_cassette.core.modes import Mode
from httpx_cassette.errors import CassetteMiss
from httpx_cassette.model.cassette import Request
from httpx_cassette.storage.files import file_name, folders_in
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["miss"]


class Missed(Protocol):
    """What a miss reads of its `Cassette`."""

    path: Path
    key_options: KeyOptions
    store: DirectoryStore
    mode: Mode
    mode_source: str
    mode_given: str | None


def miss(cassette: Missed, key: str, request: Request, reason: str, played: int = 0) -> CassetteMiss:
    """The `CassetteMiss` for ``request`` (keyed ``key``) in ``cassette``: why it missed (``reason``;
    ``played``: how many recorded responses it already played), compared with every recorded request."""
    options = cassette.key_options  # without match_on: a miss shows every part that differs
    full = KeyOptions(options.include_host, options.ignore_json_paths, options.match_headers)
    recorded = [(file, canonical_form(r.request, full)) for _, file, r in cassette.store.items()]
    path = cassette.path
    report = diagnose(
        path,
        canonical_form(request, full),
        recorded,
        reason=reason,
        mode=cassette.mode,
        mode_source=cassette.mode_source,
        mode_given=cassette.mode_given,
        played=played,
        holds=lambda folder: (folder / file_name(key, request)).is_file(),  # another folder has it
        siblings=[] if path.is_dir() else folders_in(path.parent),
    )
    return miss_error(report)
