"""`scan_directory`: the secret scanner over cassette files on disk (what `httpx-cassette scan` runs)."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core.scan import Finding, SecretScanner
from httpx_cassette.errors import CassetteError
from httpx_cassette.storage.files import cassette_files, open_inside
from httpx_cassette.storage.formats import detect

__all__ = ["scan_directory"]


def scan_directory(
    path: str | os.PathLike[str], allow: Iterable[str | re.Pattern[str]] = ()
) -> list[Finding]:
    """Every credential-looking value in the cassette files under ``path`` (a directory, searched
    recursively, or one file), by the rules recording applies (`SecretScanner`). A file that is not
    valid JSON is scanned as text, line by line; side files (``.bin``) and base64 bodies are decoded and
    decompressed first. Another recorder's file (llama-stack) is scanned as it is and as replay serves
    it (read by its format's adapter)."""
    scanner = SecretScanner(allow)
    findings: list[Finding] = []
    root = Path(path)
    files = [root] if root.is_file() else cassette_files(root, recursive=True, bodies=True)  # hidden too
    for side in (f for f in files if f.suffix == ".bin"):
        findings += scanner.in_bytes(open_inside(side.parent, side.name), "(side file)", side)
    for file in (f for f in files if f.suffix != ".bin"):
        data = open_inside(file.parent, file.name)  # never a link, a FIFO or a device
        try:
            value = msgspec.json.decode(data)
            found = scanner.scan(value, "$", file)
        except (msgspec.DecodeError, RecursionError):
            text = data.decode("utf-8", "replace")
            for number, line in enumerate(text.splitlines(), 1):
                findings += scanner.in_text(line, f"line {number}", file)
            continue
        seen = {f.masked for f in found}
        findings += found + [f for f in _as_replayed(scanner, value, file) if f.masked not in seen]
    return findings


def _as_replayed(scanner: SecretScanner, value: Any, file: Path) -> list[Finding]:
    """What the file of another recorder (llama-stack) holds once its format's reader made it what
    replay serves, ``id_normalization_mapping`` applied: a credential split between a body and the
    mapping is whole only there. Paths are those of our format, marked ``(as replayed)``; a file the
    reader refuses is not replayed either, so its raw JSON says all."""
    adapter = detect(value) if isinstance(value, dict) and "responses" not in value else None  # as the codec
    if adapter is None:
        return []
    try:
        cassette = adapter.read(value, str(file))
    except (CassetteError, ValueError, TypeError, RecursionError):
        return []
    found = scanner.scan_struct(cassette.request, "$.request")
    for i, response in enumerate(cassette.responses):  # the origin is the raw file, scanned already
        found += scanner.scan_struct(msgspec.structs.replace(response, origin=None), f"$.responses[{i}]")
    return [dataclasses.replace(f, file=file, path=f"{f.path} (as replayed)") for f in found]
