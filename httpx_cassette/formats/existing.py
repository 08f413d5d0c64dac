"""What a conversion finds already in its destination: a converter never overwrites a recording that
differs from the one it would write (a cassette recorded again since an earlier conversion) unless
asked to (``--force``), and skips one that holds the same.
"""

from __future__ import annotations

import base64
from pathlib import Path

import msgspec
from msgspec import UNSET

from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.formats.vcr_yaml import one_line
from httpx_cassette.model.cassette import CassetteFile, Response
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["RecordingExists", "already_there", "refuse_overwrites"]


class RecordingExists(CassetteFormatError):
    """A source file whose conversion would overwrite a different recording of the same request; the
    CLI exits 1 for it, as for a broken file, and writes nothing of that source file."""

    def __init__(self, source: Path, message: str) -> None:
        CassetteError.__init__(self, message)
        self.path, self.problem = str(source), message


def _same(store: DirectoryStore, key: str, held: CassetteFile, cassette: CassetteFile) -> bool:
    """The same recording, whichever version of httpx_cassette converted it (``meta.recorder``) and
    wherever a body is kept: what is compared is the bytes served, so a large body the store moved to a
    side file (``body_file``) is the same as that body inline (``base64``) in a fresh conversion."""
    return _served(store, key, held) == _served(store, key, cassette)


def _served(store: DirectoryStore, key: str, cassette: CassetteFile) -> CassetteFile:
    """``cassette`` as compared: no ``meta.recorder``, every binary body inline as canonical base64."""
    responses = [_inline(store, key, r) for r in cassette.responses]
    meta = msgspec.structs.replace(cassette.meta, recorder="")
    return msgspec.structs.replace(cassette, meta=meta, responses=responses)


def _inline(store: DirectoryStore, key: str, response: Response) -> Response:
    data = store.body_file_bytes(key, response)  # `CassetteFormatError` for a missing or unsafe one
    if data is None:
        if not isinstance(response.base64, str):
            return response
        try:
            data = base64.b64decode(response.base64, validate=True)
        except ValueError:  # not base64: compared as it is written
            return response
    return msgspec.structs.replace(response, base64=base64.b64encode(data).decode("ascii"), body_file=UNSET)


def already_there(store: DirectoryStore, key: str, cassette: CassetteFile) -> Path | None:
    """The file of ``store`` holding ``cassette``'s request (``key``) when it holds a different recording
    of it; None when there is none. `CassetteFormatError` for a broken file there (not overwritten)."""
    held = store.get(key, cassette.request)
    if held is None or _same(store, key, held, cassette):
        return None
    return store.file_of(key) or store.path


def refuse_overwrites(source: Path, what: str, clashes: list[tuple[Path, CassetteFile]]) -> None:
    """Raise `RecordingExists` naming the first of ``clashes`` (the files that hold a different
    recording, and the request), when there is one; ``what`` names ``source`` in the message."""
    if not clashes:
        return
    file, cassette = clashes[0]
    request = f"{cassette.request.method} {one_line(cassette.request.url)[:200]}"
    more = f" (and {len(clashes) - 1} more of its requests)" if len(clashes) > 1 else ""
    raise RecordingExists(
        source,
        f"refusing to convert {what} {source}: {file} already holds a different recording of its request"
        f" {request}{more} (recorded or edited since it was converted?); nothing of this file was written:"
        f" keep that cassette and delete {source}, or pass --force to overwrite it with this conversion",
    )
