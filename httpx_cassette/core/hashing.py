"""How a secret that must still be told apart is kept: a matched request header (``match_headers``), a
credential in a test id (a pytest folder name), a llama-stack request header in ``origin.rest``.

Matching needs the same value every run (a live request is hashed as its recording was), so no random
salt can make each hash unique; guessing is made costly instead. `hashed` is scrypt (memory-hard: 16
MiB and ~30 ms a try), salted with a fixed string and the purpose (the header's name, ``test-id``), so
a dictionary of a million passwords takes hours where a bare sha256 took a second, and no table serves
two purposes. A process pays once per distinct value.

Files recorded before hold the bare sha256 (`legacy_hashed`); `legacy_form` gives it for a value hashed
in this process, so replay can still find such a file (`httpx_cassette.storage.legacy`).
"""

from __future__ import annotations

import hashlib

__all__ = ["hashed", "legacy_form", "legacy_hashed"]

_SALT = b"httpx-cassette secret v1\0"
_N, _R, _P = 2**14, 8, 1  # scrypt's cost: 16 MiB (128 * n * r bytes) and ~30 ms a try
_HASHES: dict[tuple[str, str], str] = {}  # (purpose, value) -> `hashed`: the cost is paid once
_LEGACY: dict[str, str] = {}  # `hashed` -> `legacy_hashed`, for the values hashed in this process
_CACHED = 4096  # values remembered: both maps are cleared together when full


def hashed(value: str, purpose: str) -> str:
    """``value`` as stored, never the value itself: ``scrypt:<64 hex>``, salted with ``purpose`` (a
    header's name, case-insensitive; ``"test-id"``). The same every run and in every process."""
    purpose = purpose.lower()
    found = _HASHES.get((purpose, value))
    if found is None:
        data = value.encode("utf-8", "surrogatepass")
        salt = _SALT + purpose.encode("utf-8", "surrogatepass")
        found = "scrypt:" + hashlib.scrypt(data, salt=salt, n=_N, r=_R, p=_P, dklen=32).hex()
        if len(_HASHES) >= _CACHED:
            _HASHES.clear()
            _LEGACY.clear()
        _LEGACY[found] = legacy_hashed(value)
        _HASHES[(purpose, value)] = found
    return found


def legacy_hashed(value: str) -> str:
    """How files recorded before `hashed` hold a secret: ``sha256:<64 hex>`` of the bare value (which a
    dictionary reverses at once: never written any more, only looked for)."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def legacy_form(value: str) -> str | None:
    """The `legacy_hashed` form of the value that `hashed` turned into ``value`` in this process; None
    for anything else (a value not hashed here, or forgotten)."""
    return _LEGACY.get(value)
