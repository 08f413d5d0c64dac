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
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from msgspec import UNSET

from ._errors import CassetteError
from ._format import CassetteFile, Meta, Request, Response
from ._http import library_by_name
from ._key import KeyOptions, key_of
from ._request import to_record
from ._store import DirectoryStore
from ._tee import Capture
from ._version import __version__

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


def _request(raw: dict[str, Any]) -> Request:
    request = httpx.Request(
        str(raw["method"]),
        str(raw["uri"]),
        headers=_header_items(raw.get("headers")),
        content=_bytes(raw.get("body")),
    )
    return to_record(request)


def _response(raw: dict[str, Any]) -> Response:
    if "status_code" in raw:  # the shape vcrpy's httpx stubs wrote before 4.x: status_code + content
        status, body = int(raw["status_code"]), _bytes(raw.get("content"))
    else:
        status, body = int(raw["status"]["code"]), _bytes(raw.get("body"))
    headers = _header_items(raw.get("headers"))
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    capture = Capture(status, headers, library_by_name("httpx").decoder(encoding), time.perf_counter())
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


def read_vcr(file: Path) -> list[CassetteFile]:
    """The interactions of one vcrpy YAML cassette, grouped by key, in the cassette's order."""
    data = _yaml_load(file)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{file} is not a vcrpy cassette: it has no `interactions` list")
    by_key: dict[str, CassetteFile] = {}
    recorder = f"vcrpy cassette {file.name}, converted by httpx_cassette {__version__}"
    for i, interaction in enumerate(data["interactions"]):
        try:
            request, raw_response = _request(interaction["request"]), interaction["response"]
            response = _response(raw_response)
        except (KeyError, TypeError, ValueError, httpx.DecodingError) as exc:
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


def convert_vcr(source: Path, destination: Path) -> list[Path]:
    """Convert one YAML cassette into the directory ``destination``, or a folder of them into one
    cassette directory per YAML file (``a/test_x.yaml`` -> ``destination/a/test_x/``). Returns the
    files written."""
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
        for cassette in read_vcr(yaml_file):
            written.append(store.put(key_of(cassette.request), cassette))
    return written
