"""How much decompressed data the scanner reads: per check (a file, a recording) and per run (a whole
`scan` of a directory, a `convert`), so that neither one hostile file nor many small ones (each a
bomb's worth, 270 bytes in git) can keep it busy for hours. What was not read is reported, not called
clean."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["CHECK_BYTES", "MAX_NESTED", "RUN_BYTES", "check", "nested", "run", "spend"]

CHECK_BYTES = 256 * 1024 * 1024
RUN_BYTES = 4 * 1024 * 1024 * 1024
# Readings inside readings (a form in a form's value, JSON in a string, base64 in base64...): real
# traffic nests a handful; a hostile ``a=a=a=...`` would nest one per ``=`` until the stack ran out.
MAX_NESTED = 24
_spent: ContextVar[list[int] | None] = ContextVar("httpx_cassette_scan_spent", default=None)
_run: ContextVar[list[int] | None] = ContextVar("httpx_cassette_scan_run", default=None)
_depth: ContextVar[int] = ContextVar("httpx_cassette_scan_depth", default=0)


@contextlib.contextmanager
def check() -> Iterator[list[int]]:
    """The decompressed bytes spent so far by the check this call belongs to (the outermost call starts
    it): per context, so threads recording at once each have their own."""
    spent = _spent.get()
    if spent is not None:
        yield spent
        return
    token = _spent.set(spent := [0])
    try:
        yield spent
    finally:
        _spent.reset(token)


@contextlib.contextmanager
def nested() -> Iterator[str | None]:
    """One reading deeper: why not to read on (too deep: what is inside is reported as not checked, not
    called clean), or None."""
    depth = _depth.get()
    if depth >= MAX_NESTED:
        yield f"a value read inside {MAX_NESTED} others (a form in a form, JSON in a string...)"
        return
    token = _depth.set(depth + 1)
    try:
        yield None
    finally:
        _depth.reset(token)


@contextlib.contextmanager
def run(limit: int | None = None) -> Iterator[None]:
    """One budget shared by every check inside (``limit`` bytes, `RUN_BYTES` by default)."""
    token = _run.set([0, RUN_BYTES if limit is None else limit])
    try:
        yield
    finally:
        _run.reset(token)


def spend(spent: list[int], size: int) -> str | None:
    """Count ``size`` more bytes read by the check ``spent`` (and its run); why to stop now, or None."""
    spent[0] += size
    if spent[0] >= CHECK_BYTES:
        return f"more compressed data than one check reads ({CHECK_BYTES >> 20} MiB)"
    whole = _run.get()
    if whole is not None:
        whole[0] += size
        if whole[0] >= whole[1]:
            return f"more compressed data than one scan reads ({whole[1] >> 20} MiB)"
    return None
