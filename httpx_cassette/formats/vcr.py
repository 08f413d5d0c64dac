"""vcrpy / pytest-recording YAML cassettes -> our cassette directories.

Each interaction goes through the same code a live recording does: the request becomes a redacted
`Request` record (`to_record`), the response body is decoded from its ``content-encoding`` (gzip,
deflate, br, zstd) and a ``text/event-stream`` body is split into events (`Capture`). Interactions
with the same key become one file whose responses replay in the cassette's order. YAML is read with
``yaml.safe_load`` only (PyYAML, the ``vcr`` extra), so a cassette can never run code.
"""

from __future__ import annotations

import importlib
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from msgspec import UNSET

from httpx_cassette._version import __version__
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.decoding import DecoderFor, zlib_decoder
from httpx_cassette.core.key import KeyOptions, key_of
from httpx_cassette.core.request import to_record
from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import CassetteFile, Meta, Request, Response
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["convert_vcr", "read_vcr"]

_SUFFIXES = (".yaml", ".yml")


def _yaml_load(file: Path) -> Any:
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise CassetteError(
            "converting vcrpy cassettes needs PyYAML: pip install 'httpx-cassette[vcr]'"
        ) from None
    try:
        return yaml.safe_load(file.read_bytes())
    except yaml.YAMLError as exc:
        raise CassetteError(f"cannot read vcrpy cassette {file}: {exc}") from None


def _bytes(value: Any) -> bytes:
    if isinstance(value, dict):  # vcrpy's {"string": ...} wrapper
        value = value.get("string")
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _header_items(headers: Any) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for name, values in (headers or {}).items():
        for value in values if isinstance(values, list) else [values]:
            items.append((str(name), str(value)))
    return items


@dataclass(frozen=True)
class _Recorded:
    """A request as vcrpy stored it, in the shape `to_record` reads."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes


def _request(raw: dict[str, Any]) -> Request:
    headers: dict[str, str] = {}
    for name, value in _header_items(raw.get("headers")):
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return to_record(_Recorded(str(raw["method"]), str(raw["uri"]), headers, _bytes(raw.get("body"))))


def _response(raw: dict[str, Any], decoder_for: DecoderFor) -> Response:
    if "status_code" in raw:  # the shape vcrpy's httpx stubs wrote before 4.x: status_code + content
        status, body = int(raw["status_code"]), _bytes(raw.get("content"))
    else:
        status, body = int(raw["status"]["code"]), _bytes(raw.get("body"))
    headers = _header_items(raw.get("headers"))
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    capture = Capture(status, headers, decoder_for(encoding), time.perf_counter())
    capture.feed(body)
    response = capture.finish(truncated=False)
    response.elapsed_ms = response.offsets_ms = UNSET  # vcrpy records no timing: none is better than ours
    return response


def _recorded_at(response: dict[str, Any]) -> str:
    for name, value in _header_items(response.get("headers")):
        if name.lower() == "date":
            try:
                return parsedate_to_datetime(value).isoformat(timespec="seconds")
            except (TypeError, ValueError):
                return ""
    return ""


def read_vcr(file: Path, decoder_for: DecoderFor = zlib_decoder) -> list[CassetteFile]:
    """The interactions of one vcrpy YAML cassette, grouped by key, in the cassette's order."""
    data = _yaml_load(file)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{file} is not a vcrpy cassette: it has no `interactions` list")
    by_key: dict[str, CassetteFile] = {}
    recorder = f"vcrpy cassette {file.name}, converted by httpx_cassette {__version__}"
    for i, interaction in enumerate(data["interactions"]):
        try:
            request, raw_response = _request(interaction["request"]), interaction["response"]
            response = _response(raw_response, decoder_for)
        except (KeyError, TypeError, ValueError, zlib.error) as exc:
            raise CassetteError(
                f"cannot convert interaction {i} of vcrpy cassette {file}: {type(exc).__name__}: {exc}"
            ) from None
        key = key_of(request)
        found = by_key.get(key)
        if found is None:
            meta = Meta(recorded_at=_recorded_at(raw_response), recorder=recorder)
            by_key[key] = CassetteFile(request=request, responses=[response], meta=meta)
        else:
            found.responses.append(response)
    return list(by_key.values())


def convert_vcr(source: Path, destination: Path, decoder_for: DecoderFor = zlib_decoder) -> list[Path]:
    """Convert one YAML cassette into the directory ``destination``, or a folder of them into one
    cassette directory per YAML file (``a/test_x.yaml`` -> ``destination/a/test_x/``). Returns the
    files written. ``decoder_for`` undoes a recorded body's content-encoding (the CLI passes httpx's
    decoders, which know br and zstd when their packages are installed)."""
    if source.is_file():
        pairs = [(source, destination)]
    elif source.is_dir():
        found = sorted(p for p in source.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        pairs = [(p, destination / p.relative_to(source).with_suffix("")) for p in found]
        if not pairs:
            raise CassetteError(f"no vcrpy cassettes (*.yaml, *.yml) under {source}")
    else:
        raise CassetteError(f"{source} does not exist")
    written: list[Path] = []
    for yaml_file, target in pairs:
        store = DirectoryStore(target, KeyOptions())
        for cassette in read_vcr(yaml_file, decoder_for):
            written.append(store.put(key_of(cassette.request), cassette))
    return written
