"""vcrpy / pytest-recording YAML cassettes -> our cassette directories.

Each interaction goes through the same code a live recording does: the request becomes a redacted
`Request` record (`to_record`), the response body is decoded from its ``content-encoding`` (gzip,
deflate, br, zstd) and a ``text/event-stream`` body is split into events (`Capture`); both then get
the cassette's redaction and, before anything is written, its secret check (`Guard`). Interactions
with the same key become one file whose responses replay in the cassette's order.

A cassette may come from a pull request, so it is read as hostile: with PyYAML's safe loader only
(PyYAML, the ``vcr`` extra), so it can never run code, and with limits on its size, its nodes, its
nesting and what its aliases repeat (a "billion laughs" is refused); a body decodes to at most
`MAX_INFLATED_BYTES`; a symbolic link in the source or the target tree is refused, never followed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from msgspec import UNSET

from httpx_cassette._version import __version__
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.decoding import IDENTITY, Decoder, DecoderFor, zlib_decoder
from httpx_cassette.core.findings import Finding
from httpx_cassette.core.key import KeyOptions, key_of
from httpx_cassette.core.places import MAX_INFLATED
from httpx_cassette.core.request import to_record
from httpx_cassette.errors import CassetteError, CassetteFormatError, CassetteSecretError
from httpx_cassette.formats.existing import already_there, refuse_overwrites
from httpx_cassette.formats.guard import Guard, SecretRefused
from httpx_cassette.formats.vcr_yaml import MAX_YAML_BYTES, BrokenVcrCassette, one_line, yaml_load
from httpx_cassette.model.cassette import CassetteFile, Meta, Request, Response
from httpx_cassette.storage.codec import check_file
from httpx_cassette.storage.files import UnsafeFileError, check_directory, name_problem, path_inside
from httpx_cassette.storage.store import DirectoryStore

__all__ = [
    "MAX_INFLATED_BYTES",
    "MAX_YAML_BYTES",
    "BrokenVcrCassette",
    "SecretRefused",
    "cassette_folders",
    "convert_vcr",
    "read_vcr",
]

_SUFFIXES = (".yaml", ".yml")

MAX_INFLATED_BYTES = MAX_INFLATED  # a body decodes to no more, as anywhere else in the package
# Input fed to a decoder per call, so one call cannot inflate far past the cap: deflate expands at most
# ~1,032 times; br and zstd far more (64 bytes of br can make 80 MiB), so they get 16 bytes a call.
_PIECE = {"gzip": 16 * 1024, "deflate": 16 * 1024}
_SMALL_PIECE = 16


class _Malformed(ValueError):
    """What is wrong with one interaction, said in a sentence."""


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def _mapping(value: Any, what: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} must be a mapping, got {_kind(value)}")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{what} must be a string, got {_kind(value)}")
    return value


def _bytes(value: Any, what: str) -> bytes:
    """A body as vcrpy stores it: text, ``!!binary``, or either in a ``{string: ...}`` wrapper."""
    if isinstance(value, dict):  # vcrpy's {"string": ...} wrapper
        value = value.get("string")
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int | float):  # a hand-edited `body: 42`: short, and what it says
        return str(value).encode("utf-8")
    # Never str() a structure: aliases can make a 1 KB list stand for gigabytes of text.
    raise _Malformed(f"{what} must be a string or !!binary, got {_kind(value)}")


def _header_value(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")  # what HTTP header bytes mean
    if isinstance(value, int | float):  # `content-length: [12]`, unquoted
        return str(value)
    raise _Malformed(f"{what} must hold strings, got {_kind(value)}")


def _header_items(headers: Any, what: str) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items: list[tuple[str, str]] = []
    for name, values in _mapping(headers, what).items():  # names are scalars: YAML keys must hash
        for value in values if isinstance(values, list) else [values]:
            items.append((str(name), _header_value(value, f"{what} {str(name)[:80]!r}")))
    return items


@dataclass(frozen=True)
class _Recorded:
    """A request as vcrpy stored it, in the shape `to_record` reads."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes


def _request(raw: Any) -> _Recorded:
    raw = _mapping(raw, "`request`")
    headers: dict[str, str] = {}
    for name, value in _header_items(raw.get("headers"), "`request.headers`"):
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    method = _string(raw.get("method"), "`request.method`")
    uri = _string(raw.get("uri"), "`request.uri`")
    return _Recorded(method, uri, headers, _bytes(raw.get("body"), "`request.body`"))


def _status(value: Any, what: str) -> int:
    if isinstance(value, str) and value.strip().isdecimal() and len(value) < 10:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 999:
        raise _Malformed(f"{what} must be an HTTP status (100-999), got {str(value)[:40]!r}")
    return value


def _decoded(body: bytes, encoding: str, decoder_for: DecoderFor) -> tuple[bytes, Decoder | None]:
    """``body`` with its content-codings undone, at most `MAX_INFLATED_BYTES` at every step, and the
    decoder `Capture` still needs: `IDENTITY`, or None when a coding is unknown here (the body is then
    kept as it came, with its header)."""
    names = [n.strip().lower() for n in encoding.split(",") if n.strip().lower() not in ("", "identity")]
    decoders = [(name, decoder_for(name)) for name in reversed(names)]  # the last coding applied first
    if any(decoder is None for _, decoder in decoders):
        return body, None
    for name, decoder in decoders:
        assert decoder is not None
        body = _inflate(body, name, decoder)
    return body, IDENTITY


def _inflate(data: bytes, name: str, decoder: Decoder) -> bytes:
    """``data`` decoded by ``decoder``, fed in pieces so that the output is checked as it grows."""
    piece = _PIECE.get(name, _SMALL_PIECE)
    out = bytearray()
    try:
        for start in range(0, len(data), piece):
            out += decoder.decode(data[start : start + piece])
            if len(out) > MAX_INFLATED_BYTES:
                break
        else:
            out += decoder.flush()
    except Exception as exc:  # each library raises its own (zlib.error, httpx.DecodingError, brotli.error...)
        raise _Malformed(f"its {name} body does not decode: {type(exc).__name__}: {exc}") from None
    if len(out) > MAX_INFLATED_BYTES:
        raise _Malformed(
            f"its {name} response body decodes to over {MAX_INFLATED_BYTES:,} bytes (a decompression bomb?)"
        )
    return bytes(out)


def _response(raw: Any, decoder_for: DecoderFor) -> Response:
    raw = _mapping(raw, "`response`")
    if "status_code" in raw:  # the shape vcrpy's httpx stubs wrote before 4.x: status_code + content
        status = _status(raw["status_code"], "`response.status_code`")
        body = _bytes(raw.get("content"), "`response.content`")
    else:
        code = _mapping(raw.get("status"), "`response.status`").get("code")
        status = _status(code, "`response.status.code`")
        body = _bytes(raw.get("body"), "`response.body`")
    headers = _header_items(raw.get("headers"), "`response.headers`")
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    body, decoder = _decoded(body, encoding, decoder_for)
    capture = Capture(status, headers, decoder, time.perf_counter())
    capture.feed(body)
    response = capture.finish(truncated=False)
    response.elapsed_ms = response.offsets_ms = UNSET  # vcrpy records no timing: none is better than ours
    return response


def _recorded_at(response: dict[Any, Any]) -> str:
    for name, value in _header_items(response.get("headers"), "`response.headers`"):
        if name.lower() == "date":
            try:
                return parsedate_to_datetime(value).isoformat(timespec="seconds")
            except (TypeError, ValueError, OverflowError):
                return ""
    return ""


def _interaction(
    raw: Any, decoder_for: DecoderFor, guard: Guard | None
) -> tuple[str, Request, Response, str]:
    """(key, request, response, when it was recorded) of one interaction; redacted by ``guard``."""
    raw = _mapping(raw, "the interaction")
    if "request" not in raw or "response" not in raw:
        raise _Malformed("the interaction must have a `request` and a `response`")
    sent = _request(raw["request"])
    request, response = to_record(sent), _response(raw["response"], decoder_for)
    if guard is not None:  # before keying, as recording does: the same request finds its recording
        # What the request carried is written as REDACTED where the response sends it back, as recording
        # writes it (`Cassette.plan` and `save`).
        request, response = guard.request(request), guard.response(response, guard.carried(sent))
    return key_of(request), request, response, _recorded_at(raw["response"])


def read_vcr(
    file: Path, decoder_for: DecoderFor = zlib_decoder, guard: Guard | None = None
) -> list[CassetteFile]:
    """The interactions of one vcrpy YAML cassette, grouped by key, in the cassette's order; with a
    ``guard``, each redacted as recording redacts it (not yet checked for secrets: `Guard.check`).

    Anything wrong raises `CassetteError` in one line naming ``file`` (and the interaction).
    """
    data = yaml_load(file)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise BrokenVcrCassette(file, f"{file} is not a vcrpy cassette: it has no `interactions` list")
    by_key: dict[str, CassetteFile] = {}
    recorder = f"vcrpy cassette {file.name}, converted by httpx_cassette {__version__}"
    for i, interaction in enumerate(data["interactions"]):
        try:
            key, request, response, recorded_at = _interaction(interaction, decoder_for, guard)
        except _Malformed as exc:
            problem = str(exc)
        except RecursionError:  # a body nested deeper than Python recurses (the key walks it)
            problem = "its body is nested too deeply to convert"
        except CassetteSecretError as exc:  # an echo of what its request carried that cannot be rewritten
            echoed = [f for f in exc.findings if isinstance(f, Finding)]
            raise SecretRefused(file, f"the recording of interaction {i}", echoed) from None
        except (CassetteError, LookupError, TypeError, ValueError, ArithmeticError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            found = by_key.get(key)
            if found is None:
                meta = Meta(recorded_at=recorded_at, recorder=recorder)
                by_key[key] = CassetteFile(request=request, responses=[response], meta=meta)
            else:
                found.responses.append(response)
            continue
        raise BrokenVcrCassette(
            file, f"cannot convert interaction {i} of vcrpy cassette {file}: {one_line(problem)}"
        )
    return list(by_key.values())


def _yaml_files(source: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` under ``source``, sorted. A link to a folder is refused (never entered);
    a link, FIFO... named like a cassette is listed, so reading it (`open_inside`) refuses it; one whose
    name makes no plain folder name (``...yaml``) is refused, naming it (`_named_plainly`)."""
    found: list[Path] = []
    for folder, folders, files in os.walk(source):  # does not enter links to folders: lists them
        for name in folders:
            if os.path.islink(os.path.join(folder, name)):
                raise UnsafeFileError(
                    os.path.join(folder, name),
                    "it is a symbolic link to a folder; a link committed in a pull request could point"
                    " anywhere: convert the real folder",
                )
        for name in files:
            if name.endswith(_SUFFIXES):
                found.append(_named_plainly(Path(folder, name)))
    return sorted(found)


def _named_plainly(file: Path) -> Path:
    """``file``, whose name names its cassette folder (``test_x.yaml`` -> ``test_x/``), when that is a
    plain folder name (``...yaml`` would make ``..``, the destination's parent)."""
    folder = file.with_suffix("").name
    problem = name_problem(folder)
    if problem is not None:
        raise UnsafeFileError(
            str(file),
            f"its cassette folder would be named {folder!r}, which {problem}: rename the YAML file (it would"
            " be converted outside the destination)",
        )
    return file


def _check_target(destination: Path, target: Path, source: Path | None = None) -> Path:
    """``target``, a cassette folder made from the name of the YAML file ``source``, once checked: no
    folder on the way from ``destination`` to it is a symbolic link (converting in place, a link committed
    as ``test_x -> /anywhere`` must not be written through), and it is strictly inside ``destination``
    (`path_inside`: ``...yaml`` makes ``..``). Errors name ``source`` (else ``target``)."""
    place = destination
    for part in target.relative_to(destination).parts:
        place = place / part
        if place.is_symlink():
            raise CassetteError(
                f"cannot write the cassette {target}: {place} is a symbolic link (a link committed in a"
                " pull request could point anywhere); remove it or convert into another directory"
            )
    return path_inside(destination, target.relative_to(destination), str(source or target))


def cassette_folders(source: Path, destination: Path) -> list[tuple[Path, Path]]:
    """Each YAML file under the folder ``source`` and the cassette directory it converts into
    (``a/test_x.yaml`` -> ``destination/a/test_x/``), every one checked before anything is written:
    no link on the way, strictly inside ``destination`` (`_check_target`)."""
    check_directory(source, writable=False)  # the folder itself, or one above it in the project
    found = _yaml_files(source)
    if not found:
        raise CassetteError(f"no vcrpy cassettes (*.yaml, *.yml) under {source}")
    check_directory(destination, writable=True)
    return [
        (p, _check_target(destination, destination / p.relative_to(source).with_suffix(""), p)) for p in found
    ]


def _check_served(cassette: CassetteFile, yaml_file: Path) -> None:
    """Refuse (naming ``yaml_file``) what replay would refuse at load: the converter writes only files
    that replay (`check_file`: a status no HTTP response has, a line break in a header...)."""
    try:
        check_file(cassette, str(yaml_file))
    except CassetteFormatError as exc:
        request = one_line(f"{cassette.request.method} {cassette.request.url}")[:200]
        raise BrokenVcrCassette(
            yaml_file,
            f"cannot convert vcrpy cassette {yaml_file}: its interaction {request} would not replay"
            f" ({one_line(exc.problem)}); fix or delete that interaction, then convert again."
            " Nothing of this file was written",
        ) from None


def convert_vcr(
    source: Path,
    destination: Path,
    decoder_for: DecoderFor = zlib_decoder,
    allow: Iterable[str | re.Pattern[str]] = (),
    *,
    force: bool = False,
    unchanged: list[Path] | None = None,
) -> list[Path]:
    """Convert one YAML cassette into the directory ``destination``, or a folder of them into one
    cassette directory per YAML file (``a/test_x.yaml`` -> ``destination/a/test_x/``). Returns the
    files written. ``decoder_for`` undoes a recorded body's content-encoding (the CLI passes httpx's
    decoders, which know br and zstd when their packages are installed).

    A file already there holding the same recording is not written again (it is added to
    ``unchanged``); one holding a different recording of the same request (recorded again since an
    earlier conversion) makes the YAML file refused, `RecordingExists`, nothing of it written, unless
    ``force``.

    Every interaction is redacted and checked as a live recording is (`Guard`; ``allow``: values that
    are no secret): a YAML file whose conversion still holds what looks like a credential raises
    `SecretRefused` naming it, and nothing of it is written (the files before it were). So does one
    holding what replay refuses at load (`check_file`), as `BrokenVcrCassette`.

    Each YAML file's cassette folder must be strictly inside ``destination`` (`path_inside`): a name such
    as ``...yaml`` (folder ``..``) is refused, naming that file, before anything is written.

    Symbolic links are refused, never followed: ``source`` itself, a YAML file or a folder below it,
    and ``destination`` or a folder below it (`check_directory`, `open_inside`).
    """
    if not source.exists() and not source.is_symlink():
        raise CassetteError(f"{source} does not exist")
    if source.is_dir() and not source.is_symlink():
        pairs = cassette_folders(source, destination)
    else:  # one file; a link, a FIFO... is refused when it is read
        check_directory(source.parent, writable=False)
        check_directory(destination, writable=True)
        pairs = [(source, destination)]
    guard = Guard(destination, allow)
    written: list[Path] = []
    for yaml_file, target in pairs:
        cassettes = read_vcr(yaml_file, decoder_for, guard)
        for cassette in cassettes:  # all of this file checked before any of it is written
            guard.check(cassette, yaml_file)
            _check_served(cassette, yaml_file)
        store = DirectoryStore(target, KeyOptions())
        keyed = [(key_of(cassette.request), cassette) for cassette in cassettes]
        clashes = [(file, c) for key, c in keyed if (file := already_there(store, key, c)) is not None]
        if not force:
            refuse_overwrites(yaml_file, "vcrpy cassette", clashes)
        for key, cassette in keyed:
            if any(c is cassette for _, c in clashes) or store.get(key, cassette.request) is None:
                written.append(store.put(key, cassette))
            elif unchanged is not None:  # the same recording is there: not written again
                unchanged.append(store.file_of(key) or target)
    return written
