"""Converting a directory of recordings, ours or llama-stack's (mixed), to either format."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec import UNSET

from httpx_cassette.core.key import KeyOptions
from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.formats.llamastack.read import LLAMA_STACK
from httpx_cassette.model.cassette import Response
from httpx_cassette.storage.files import check_directory
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["convert_directory"]


def convert_directory(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], to: Literal["ours", "llama-stack"]
) -> list[Path]:
    """Write every recording in ``src`` (either format, mixed) to ``dst`` in format ``to``.

    To ours: one file per distinct request, its responses in file-name order, each keeping what
    converting back needs. To llama-stack: one file per response (see `httpx_cassette.formats.llamastack`); a
    request llama-stack cannot hold stays in our format. Tool-call recordings are skipped. Returns
    the files written.
    """
    source, target = Path(src), Path(dst)
    if not source.is_dir():
        raise CassetteError(f"cannot convert {source}: it is not a directory of recordings")
    if target.exists() and target.resolve() == source.resolve():
        raise CassetteError(f"cannot convert {source} into itself: name another directory to write to")
    check_directory(source, writable=False)  # no symbolic link to read through, or to write through
    check_directory(target, writable=True)
    reader = DirectoryStore(source, KeyOptions())
    writer = DirectoryStore(target, KeyOptions(), write_format="ours" if to == "ours" else LLAMA_STACK)
    written: list[Path] = []
    for key in sorted({key for key, _, _ in reader.items()}):
        cassette = reader.get(key)
        if cassette is not None and cassette.responses:
            inline = [_inlined(reader, key, r) for r in cassette.responses]
            try:
                written.extend(writer.write(key, msgspec.structs.replace(cassette, responses=inline)))
            except RecursionError:  # a body nested deeper than the JSON encoder recurses
                raise CassetteFormatError(
                    str(reader.file_of(key) or source), f"its body is nested too deeply to convert to {to}"
                ) from None
            except (ValueError, TypeError) as exc:  # a value no writer expects, from a hand-edited file
                problem = f"it cannot be converted to {to}: {type(exc).__name__}: {exc}"
                raise CassetteFormatError(str(reader.file_of(key) or source), problem) from None
    return written


def _inlined(store: Any, key: str, response: Response) -> Response:
    """``response`` with a body kept in a side file put back inline (side files are not copied)."""
    data: bytes | None = store.body_file_bytes(key, response)
    if data is None:
        return response
    return msgspec.structs.replace(response, base64=base64.b64encode(data).decode("ascii"), body_file=UNSET)
