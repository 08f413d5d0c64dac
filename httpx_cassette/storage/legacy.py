"""Finding a file recorded before secret headers were hashed slowly (`httpx_cassette.core.hashing`).

Such a file holds a matched secret header (``match_headers``) as the bare ``sha256:<hex>`` of its value,
so its key is not the key a live request gets now (``scrypt:<hex>``). Only on a miss, and only for a
request holding a value hashed in this process: the key it had before is computed (each such header
as its `legacy_form`) and looked up. Replay plays that file as it is; recording writes the new form.
"""

from __future__ import annotations

import msgspec

from httpx_cassette.core.hashing import legacy_form
from httpx_cassette.core.key import key_of
from httpx_cassette.model.cassette import CassetteFile, Request
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["aliased", "legacy_file"]


def legacy_file(store: DirectoryStore, key: str, request: Request) -> tuple[str, CassetteFile | None]:
    """``request`` (redacted, keyed ``key``, not found) found under the key it had before its secret
    headers were hashed slowly: that key and its file; else ``key`` and None."""
    older: dict[str, str] = {}
    for name in store.options.match_headers:
        value = request.headers.get(name)
        legacy = legacy_form(value) if value is not None else None
        if legacy is not None:
            older[name] = legacy
    if not older:
        return key, None
    before = msgspec.structs.replace(request, headers={**request.headers, **older})
    old_key = key_of(before, store.options)
    found = store.get(old_key) if old_key != key else None
    return (old_key, found) if found is not None else (key, None)


def aliased(aliases: dict[str, str], store: DirectoryStore, key: str, request: Request) -> str:
    """The key ``request`` records and replays under in ``record-missing``: the key it had before its
    secret headers were hashed slowly when only such a file holds it (it is what exists: replayed, not
    recorded again at a cost, and counted as used under its own key); else ``key``. Decided once a key."""
    if key not in aliases:
        older, found = legacy_file(store, key, request)
        aliases[key] = older if found is not None and store.get(key, request) is None else key
    return aliases[key]
