"""Converting a directory of recordings, ours or llama-stack's (mixed), to either format."""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec import UNSET

from httpx_cassette.core.key import KeyOptions, key_of
from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.formats.existing import already_there, refuse_overwrites
from httpx_cassette.formats.guard import Guard
from httpx_cassette.formats.llamastack.files import llama_stack_files
from httpx_cassette.formats.llamastack.read import LLAMA_STACK
from httpx_cassette.model.cassette import CassetteFile, Response
from httpx_cassette.storage.files import check_directory, file_name
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["convert_directory"]


def convert_directory(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    to: Literal["ours", "llama-stack"],
    allow: Iterable[str | re.Pattern[str]] = (),
    *,
    force: bool = False,
    unchanged: list[Path] | None = None,
) -> list[Path]:
    """Write every recording in ``src`` (either format, mixed) to ``dst`` in format ``to``.

    To ours: one file per distinct request, its responses in file-name order, each keeping what
    converting back needs. To llama-stack: one file per response (see `httpx_cassette.formats.llamastack`); a
    request llama-stack cannot hold stays in our format. Tool-call recordings are skipped. Returns
    the files written.

    Every recording is redacted and checked as a live recording is (`Guard`; ``allow``: values that are
    no secret), what a llama-stack file keeps to be written back too: a file whose conversion still
    holds what looks like a credential raises `SecretRefused` naming it, and nothing is written.

    To ours, a file of ``dst`` already holding the same recording is not written again (it is added to
    ``unchanged``); one holding a
    different recording of the same request (recorded again since) raises `RecordingExists`, and nothing
    is written, unless ``force``.
    """
    source, target = Path(src), Path(dst)
    if not source.is_dir():
        raise CassetteError(f"cannot convert {source}: it is not a directory of recordings")
    if target.exists() and target.resolve() == source.resolve():
        raise CassetteError(f"cannot convert {source} into itself: name another directory to write to")
    check_directory(source, writable=False)  # no symbolic link to read through, or to write through
    check_directory(target, writable=True)
    reader = DirectoryStore(source, KeyOptions())
    guard = Guard(target, allow)
    # Redacted before keying, as recording does (two files may then hold one request), and all checked
    # before anything is written.
    converted: dict[str, tuple[Path, CassetteFile]] = {}
    for key, file, cassette in sorted(reader.items(), key=lambda item: item[0]):  # files in order per key
        inline = [_inlined(reader, key, r) for r in cassette.responses]
        if not inline:
            continue
        try:
            safe = guard.file(msgspec.structs.replace(cassette, responses=inline))
            guard.check(safe, file)
            new_key = key_of(safe.request, KeyOptions())
        except RecursionError:  # a body nested deeper than redaction recurses
            raise CassetteFormatError(str(file), _too_deep(to)) from None
        held = converted.get(new_key)
        if held is None:
            converted[new_key] = (file, safe)
        else:
            held[1].responses.extend(safe.responses)
    if to == LLAMA_STACK:
        _named_apart(converted)
    writer = DirectoryStore(target, KeyOptions(), write_format="ours" if to == "ours" else LLAMA_STACK)
    if to == "ours":
        converted = _new_or_forced(writer, converted, force=force, unchanged=unchanged)
    written: list[Path] = []
    for key, (file, cassette) in converted.items():
        with _refusing(file, to):
            written.extend(writer.write(key, cassette))
    return written


def _new_or_forced(
    writer: DirectoryStore,
    converted: dict[str, tuple[Path, CassetteFile]],
    *,
    force: bool,
    unchanged: list[Path] | None,
) -> dict[str, tuple[Path, CassetteFile]]:
    """What of ``converted`` to write: not what ``writer`` already holds the same (its file goes to
    ``unchanged``); a different recording of the same request there refuses the conversion (naming the
    first source file), unless ``force``."""
    out: dict[str, tuple[Path, CassetteFile]] = {}
    same: list[Path] = []
    for key, (file, cassette) in converted.items():
        there = already_there(writer, key, cassette)
        if there is not None and not force:
            refuse_overwrites(file, "llama-stack recording", [(there, cassette)])
        if there is not None or writer.get(key, cassette.request) is None:
            out[key] = (file, cassette)
        else:
            same.append(writer.file_of(key) or writer.path)
    if unchanged is not None:  # only once nothing was refused: all or none
        unchanged.extend(same)
    return out


@contextlib.contextmanager
def _refusing(file: Path, to: str) -> Iterator[None]:
    """What converting ``file`` raises as a `CassetteFormatError` naming it."""
    try:
        yield
    except RecursionError:  # a body nested deeper than the JSON encoder recurses
        raise CassetteFormatError(str(file), _too_deep(to)) from None
    except (ValueError, TypeError) as exc:  # a value no writer expects, from a hand-edited file
        problem = f"it cannot be converted to {to}: {type(exc).__name__}: {exc}"
        raise CassetteFormatError(str(file), problem) from None


def _named_apart(converted: dict[str, tuple[Path, CassetteFile]]) -> None:
    """Rename what would overwrite another request's file: a name kept from the source (`origin.file`)
    is any name the source says, so two requests may claim one. The later one is given the name
    llama-stack gives it; a clash left after that refuses the conversion before anything is written."""
    names: dict[str, list[str] | None] = {}
    for key, (file, cassette) in converted.items():
        with _refusing(file, LLAMA_STACK):
            names[key] = _names(cassette)
    # A request llama-stack cannot hold is written in ours, under our name: nothing else may take it.
    taken = {file_name(key, converted[key][1].request) for key, found in names.items() if found is None}
    for key, found in names.items():
        file, cassette = converted[key]
        if found is None:
            continue
        if taken.intersection(found) or len(set(found)) < len(found):
            cassette = _unnamed(cassette)
            converted[key] = (file, cassette)
            with _refusing(file, LLAMA_STACK):
                found = _names(cassette) or []
        if clash := next((n for i, n in enumerate(found) if n in taken or n in found[:i]), None):
            raise CassetteFormatError(str(file), f"its llama-stack file {clash} would overwrite another's")
        taken.update(found)


def _names(cassette: CassetteFile) -> list[str] | None:
    files = llama_stack_files(cassette)
    return None if files is None else [name for name, _ in files]


def _unnamed(cassette: CassetteFile) -> CassetteFile:
    """``cassette`` without the names of the files its responses were read from."""
    rename = msgspec.structs.replace
    responses = [
        r if r.origin is None else rename(r, origin=rename(r.origin, file="")) for r in cassette.responses
    ]
    return rename(cassette, responses=responses)


def _too_deep(to: str) -> str:
    return f"its body is nested too deeply to convert to {to}"


def _inlined(store: Any, key: str, response: Response) -> Response:
    """``response`` with a body kept in a side file put back inline (side files are not copied)."""
    data: bytes | None = store.body_file_bytes(key, response)
    if data is None:
        return response
    return msgspec.structs.replace(response, base64=base64.b64encode(data).decode("ascii"), body_file=UNSET)
